/*
 * textbuf.h - a reusable byte buffer shared by lask.core.textio (which
 * fills it with the lines of a piece of a file) and lask.core.json (which
 * decodes them in place).
 *
 * It is a full userdata with metatable LASK__TEXTBUF_MT. Its capacity is
 * kept between fills, so a worker that reads piece after piece touches the
 * same pages instead of faulting in fresh ones (a first touch of a page
 * costs microseconds on virtual machines); and at least LASK__TEXTBUF_PAD
 * bytes after p[len] are always allocated, the padding simdjson reads past
 * the end of a record.
 */
#ifndef LASK_TEXTBUF_H
#define LASK_TEXTBUF_H

#include <stddef.h>

#define LASK__TEXTBUF_MT "lask.textbuf"
#define LASK__TEXTBUF_PAD 64

typedef struct lask__textbuf {
    char *p;              /* p[0 .. len) filled, p[len .. cap) free */
    size_t len, cap;      /* cap >= len + LASK__TEXTBUF_PAD once allocated */
} lask__textbuf;

#endif
