/*
 * chunk.h - the layout of chunks, shared by the runtime and the Lua bridge.
 *
 * A chunk is immutable once published: whoever builds one fills it in, then
 * hands out references. Only the reference count changes afterwards, so
 * chunks cross threads without locks.
 */
#ifndef LASK_CHUNK_H
#define LASK_CHUNK_H

#include <stdatomic.h>
#include "lask.h"

#define LASK__MAXDIM 32

struct lask_chunk {
    _Atomic int64_t refs;
    int32_t kind;                     /* lask_kind */
    int64_t nbytes;                   /* for memory accounting */
    void (*destroy)(lask_chunk *c);   /* frees the chunk and what it owns */
};

/* BYTES and ENCODED: n bytes followed by a NUL. hash is set by whoever
 * needs it (function ids); 0 means not computed. */
typedef struct lask__bytes {
    lask_chunk h;
    int64_t n;
    uint64_t hash;
    char data[];
} lask__bytes;

typedef struct lask__host {
    lask_chunk h;
    void *ptr;
    void (*free_fn)(void *ptr);
} lask__host;

/* NDARRAY: data may point into base (a view); base is then referenced. */
typedef struct lask__ndarray {
    lask_chunk h;
    int32_t dtype, ndim;
    int64_t size;                     /* product of shape */
    int64_t shape[LASK__MAXDIM];
    int64_t strides[LASK__MAXDIM];    /* bytes */
    char *data;
    lask_chunk *base;                 /* owner of data, or NULL if ours */
} lask__ndarray;

/* Initialise the header of a chunk the caller allocated. refs = 1. */
void lask__chunk_init(lask_chunk *c, int32_t kind, int64_t nbytes,
                      void (*destroy)(lask_chunk *));

/* A bytes chunk of n uninitialised bytes (plus NUL) of the given kind. */
lask__bytes *lask__bytes_alloc(int32_t kind, int64_t n);

/* A view of base sharing its data: shape/strides given, data at ptr. */
lask__ndarray *lask__ndarray_view(lask_chunk *base, int32_t dtype, int32_t ndim,
                                  const int64_t *shape, const int64_t *strides,
                                  char *ptr);
/* A new array without zero-filling (the caller writes every element). */
lask__ndarray *lask__ndarray_alloc(int32_t dtype, int32_t ndim,
                                   const int64_t *shape);
/* 1 when the array is C-contiguous. */
int lask__ndarray_contiguous(const lask__ndarray *a);

/* 64-bit hash of bytes (FNV-1a folded with a multiply-xorshift). */
uint64_t lask__hash(const void *p, size_t n, uint64_t seed);

#endif
