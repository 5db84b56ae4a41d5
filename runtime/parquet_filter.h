/*
 * parquet_filter.h - row filters, constant columns and column selection
 * applied to decoded row groups (runtime internal; used by the bridge).
 */
#ifndef LASK_PARQUET_FILTER_H
#define LASK_PARQUET_FILTER_H

#include "frame.h"

enum { PQ_OP_EQ = 0, PQ_OP_NE, PQ_OP_LT, PQ_OP_LE, PQ_OP_GT, PQ_OP_GE, PQ_OP_IN };
enum { PQ_S_NIL = 0, PQ_S_BOOL, PQ_S_INT, PQ_S_FLOAT, PQ_S_STRING };

typedef struct lask__pq_scalar {
    int32_t type;        /* PQ_S_* */
    int64_t i;           /* INT, BOOL */
    double f;            /* FLOAT */
    const char *s;       /* STRING (borrowed) */
    int64_t slen;
    int32_t missing;     /* constant columns: every row missing, typed by type */
} lask__pq_scalar;

/* One `col op value(s)`; predicates with the same group are ANDed, groups
 * are ORed. Predicates of a group must be consecutive. */
typedef struct lask__pq_pred {
    const char *col;
    int32_t op, group, nvals;
    lask__pq_scalar *vals;
} lask__pq_pred;

/* "=", "==", "~=", "!=", "<", "<=", ">", ">=", "in" -> PQ_OP_*, or -1. */
int32_t lask__pq_op_parse(const char *s);
/* Check that every predicate names a column of f with a comparable type;
 * messages start with where. */
int32_t lask__pq_check_preds(const lask__frame *f, const lask__pq_pred *p, int32_t n,
                             const char *where, char *err, size_t errlen);
/* Can p be evaluated page by page on a column of coltype (fixed width,
 * values of a comparable kind)? */
int lask__pq_pred_pagewise(int32_t coltype, const lask__pq_pred *p);
/* out[k] = 1 when row k of n passes p: the present values are dense in vals
 * (output form of coltype), lev[k] != 0 marks present rows (NULL: all). */
void lask__pq_pred_rows(int32_t coltype, const void *vals, const uint32_t *lev, int64_t n,
                        const lask__pq_pred *p, uint8_t *out);
/* keep[r] = 1 for the rows of f that pass (f->nrows flags); *nkeep counts them. */
int32_t lask__pq_mask(const lask__frame *f, const lask__pq_pred *p, int32_t n,
                      uint8_t *keep, int64_t *nkeep);
/* Rows of f that pass (all rows when n == 0), as a new frame of the
 * columns named (all of f's when names is NULL), in that order. */
int32_t lask__pq_filter(const lask__frame *f, const lask__pq_pred *p, int32_t n,
                        const char *const *names, int32_t nnames,
                        lask__frame **out, char *err, size_t errlen);
/* Rows r of c with keep[r] != 0 (nkeep of them). */
lask__column *lask__column_take(const lask__column *c, const uint8_t *keep, int64_t nkeep);
/* n copies of s (NIL: all missing, typed as a string column). */
lask__column *lask__pq_const_column(const lask__pq_scalar *s, int64_t n);
/* Rows of fs[0], then fs[1], ... (same columns and types) in a new frame. */
int32_t lask__pq_concat(lask__frame *const *fs, int32_t n, lask__frame **out, char *err, size_t errlen);

#endif
