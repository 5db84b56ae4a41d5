/*
 * frame.h - the layout of frame chunks: a table of named, typed columns.
 *
 * Columns are reference counted on their own so that selecting, renaming or
 * reordering columns builds a new frame without copying any data.
 */
#ifndef LASK_FRAME_H
#define LASK_FRAME_H

#include "chunk.h"

typedef struct lask__column {
    _Atomic int64_t refs;
    int32_t type;          /* lask_coltype */
    int64_t n;             /* rows */
    void *values;          /* int64_t/double/uint8_t[n]; STRING: int64_t offsets[n+1] */
    char *strdata;         /* STRING: the bytes */
    int64_t strbytes;
    uint8_t *valid;        /* bitmap, bit r LSB-first set = present; NULL = all */
    int64_t nbytes;        /* everything above, for accounting */
} lask__column;

typedef struct lask__frame {
    lask_chunk h;
    int32_t ncols;
    int64_t nrows;
    char **names;          /* owned copies */
    lask__column **cols;   /* one reference each */
    int32_t index;         /* column used as the index, or -1: positions */
} lask__frame;

/* A column of n rows of type; values allocated (zeroed), no validity bitmap,
 * for STRING offsets allocated (zeroed) and strdata of strbytes bytes. */
lask__column *lask__column_new(int32_t type, int64_t n, int64_t strbytes);
/* Allocate an all-valid bitmap on col (if it has none); returns it. */
uint8_t *lask__column_validity(lask__column *col);
lask__column *lask__column_ref(lask__column *col);
void lask__column_unref(lask__column *col);
/* Row r present? */
static inline int lask__column_isvalid(const lask__column *c, int64_t r) {
    return !c->valid || (c->valid[r >> 3] >> (r & 7)) & 1;
}
static inline void lask__bit_set(uint8_t *bits, int64_t r, int v) {
    if (v) bits[r >> 3] |= (uint8_t)(1u << (r & 7));
    else bits[r >> 3] &= (uint8_t)~(1u << (r & 7));
}

/* A frame of ncols empty slots and nrows rows; fill names/cols with
 * lask__frame_set before publishing. */
lask__frame *lask__frame_new(int32_t ncols, int64_t nrows);
/* Put col (the frame takes the reference) under a copy of name at i. */
int lask__frame_set(lask__frame *f, int32_t i, const char *name, lask__column *col);
/* Column position by name, or -1. */
int32_t lask__frame_find(const lask__frame *f, const char *name);

#endif
