/*
 * thrift_compact.h - the Thrift compact protocol, just enough for Parquet.
 *
 * The reader never reads past its end pointer and refuses nesting deeper
 * than LASK__TC_MAXDEPTH: a bad footer becomes an error, not a crash. Once
 * an error is set every further read returns zero, so callers check it once
 * at the end of a struct.
 */
#ifndef LASK_THRIFT_COMPACT_H
#define LASK_THRIFT_COMPACT_H

#include <stddef.h>
#include <stdint.h>

#define LASK__TC_MAXDEPTH 32

/* Compact type ids of fields and list elements. */
enum {
    LASK__TC_STOP = 0, LASK__TC_TRUE = 1, LASK__TC_FALSE = 2, LASK__TC_I8 = 3,
    LASK__TC_I16 = 4, LASK__TC_I32 = 5, LASK__TC_I64 = 6, LASK__TC_DOUBLE = 7,
    LASK__TC_BINARY = 8, LASK__TC_LIST = 9, LASK__TC_SET = 10, LASK__TC_MAP = 11,
    LASK__TC_STRUCT = 12
};

typedef struct lask__tc_reader {
    const uint8_t *p, *end;
    int depth;
    int16_t last[LASK__TC_MAXDEPTH];   /* last field id per open struct */
    const char *err;                   /* first error, or NULL */
} lask__tc_reader;

void lask__tc_init(lask__tc_reader *r, const void *p, size_t n);
/* Enter/leave a struct (tracks field-id deltas and depth). */
void lask__tc_struct_begin(lask__tc_reader *r);
void lask__tc_struct_end(lask__tc_reader *r);
/* Next field: returns its type (LASK__TC_STOP at the end or on error) and
 * stores its id. A bool field's value is its type (TRUE/FALSE). */
int lask__tc_field(lask__tc_reader *r, int16_t *id);
/* List header: element type and count (count checked against bytes left). */
int64_t lask__tc_list(lask__tc_reader *r, int *elemtype);
int64_t lask__tc_i64(lask__tc_reader *r);           /* i16, i32, i64 (zigzag) */
int32_t lask__tc_i32(lask__tc_reader *r);
double lask__tc_double(lask__tc_reader *r);
int lask__tc_bool_elem(lask__tc_reader *r);         /* a bool inside a list */
/* Binary/string: pointer into the buffer and length. */
const uint8_t *lask__tc_binary(lask__tc_reader *r, int64_t *len);
/* Skip a value of the given type (nested values included). */
void lask__tc_skip(lask__tc_reader *r, int type);

/* The writer appends to a growable buffer; oom is set on failure. */
typedef struct lask__tc_writer {
    uint8_t *buf;
    size_t len, cap;
    int depth;
    int16_t last[LASK__TC_MAXDEPTH];
    int oom;
} lask__tc_writer;

void lask__tc_winit(lask__tc_writer *w);
void lask__tc_wfree(lask__tc_writer *w);
void lask__tc_wstruct_begin(lask__tc_writer *w);
void lask__tc_wstruct_end(lask__tc_writer *w);        /* writes STOP */
void lask__tc_wfield(lask__tc_writer *w, int16_t id, int type);
void lask__tc_wlist(lask__tc_writer *w, int elemtype, int64_t n);
void lask__tc_wvarint(lask__tc_writer *w, uint64_t v);
void lask__tc_wi64(lask__tc_writer *w, int64_t v);    /* zigzag varint */
void lask__tc_wbinary(lask__tc_writer *w, const void *p, size_t n);
void lask__tc_wbytes(lask__tc_writer *w, const void *p, size_t n); /* raw */
/* Field helpers: id + value. */
void lask__tc_wfield_i32(lask__tc_writer *w, int16_t id, int32_t v);
void lask__tc_wfield_i64(lask__tc_writer *w, int16_t id, int64_t v);
void lask__tc_wfield_bool(lask__tc_writer *w, int16_t id, int v);
void lask__tc_wfield_binary(lask__tc_writer *w, int16_t id, const void *p, size_t n);

#endif
