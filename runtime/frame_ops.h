/*
 * frame_ops.h - kernels on frame chunks and their columns (internal).
 *
 * Every function returns a new object (one reference) or NULL on failure,
 * leaving a message for lask__frame_errmsg(). Inputs are borrowed and never
 * changed. Missing values follow pandas: arithmetic propagates them,
 * comparisons are false on them, aggregations skip them.
 */
#ifndef LASK_FRAME_OPS_H
#define LASK_FRAME_OPS_H

#include <stddef.h>
#include "frame.h"

/* Why the last call on this thread failed. */
const char *lask__frame_errmsg(void);
void lask__frame_seterr(const char *fmt, ...);

/* A constant operand. type -1: missing (nil). */
typedef struct lask__scalar {
    int32_t type;          /* lask_coltype, or -1 */
    int64_t i;             /* INT64, BOOL, TIMESTAMP */
    double f;              /* FLOAT64 */
    const char *s;         /* STRING */
    size_t n;
} lask__scalar;

/* ---- columns (frame_col.c) */

typedef enum lask__binop {
    LASK__ADD, LASK__SUB, LASK__MUL, LASK__DIV, LASK__MOD, LASK__IDIV, LASK__POW,
    LASK__EQ, LASK__NE, LASK__LT, LASK__LE, LASK__GT, LASK__GE,
    LASK__AND, LASK__OR
} lask__binop;

/* a op b, where b is a column (same length) or, when b is NULL, bs. With
 * swap the scalar is the left operand (2 - x). */
lask__column *lask__col_binop(int op, const lask__column *a, const lask__column *b,
                              const lask__scalar *bs, int swap);
lask__column *lask__col_not(const lask__column *a);
lask__column *lask__col_neg(const lask__column *a);
lask__column *lask__col_isna(const lask__column *a, int negate);
lask__column *lask__col_fillna(const lask__column *a, const lask__scalar *v);
lask__column *lask__col_astype(const lask__column *a, int32_t type);
lask__column *lask__col_abs(const lask__column *a);
lask__column *lask__col_round(const lask__column *a, int digits);
lask__column *lask__col_clip(const lask__column *a, const lask__scalar *lo, const lask__scalar *hi);
lask__column *lask__col_isin(const lask__column *a, const lask__scalar *vals, int32_t n);
/* A column of n copies of v. */
lask__column *lask__col_const(const lask__scalar *v, int64_t n);

typedef enum lask__strop {
    LASK__STR_LEN, LASK__STR_LOWER, LASK__STR_UPPER, LASK__STR_CONTAINS,
    LASK__STR_STARTSWITH, LASK__STR_ENDSWITH, LASK__STR_SLICE, LASK__STR_SPLIT
} lask__strop;
/* String methods; arg is the pattern or separator, i/j the 1-based
 * inclusive slice bounds (negative from the end) or the split part. */
lask__column *lask__col_str(int op, const lask__column *a, const char *arg, size_t argn,
                            int64_t i, int64_t j);

typedef enum lask__dtfield {
    LASK__DT_YEAR, LASK__DT_MONTH, LASK__DT_DAY, LASK__DT_HOUR
} lask__dtfield;
lask__column *lask__col_dt(int field, const lask__column *a);

/* Reductions: the result as a scalar (missing -> type -1). op: one of
 * "sum" "mean" "count" "min" "max" "std" "var" "nunique" "size" "first"
 * "last". ddof for std/var. */
int lask__col_reduce(const lask__column *a, const char *op, int ddof, lask__scalar *out);
/* Scalar of row r (strings point into the column). */
void lask__col_get(const lask__column *a, int64_t r, lask__scalar *out);

/* ---- rows (frame_rows.c) */

/* Rows at idx[0..n-1] (an index of -1 gives a missing row). */
lask__column *lask__col_take(const lask__column *a, const int64_t *idx, int64_t n);
/* Order of the present values at rows a and b of c: <0, 0, >0 (strings
 * bytewise, shorter first on a tie). Callers deal with missing values and
 * NaN themselves. */
int lask__col_cmp(const lask__column *c, int64_t a, int64_t b);
lask__frame *lask__frame_take(const lask__frame *f, const int64_t *idx, int64_t n);
/* Rows where mask (a BOOL column) is true and present. */
lask__frame *lask__frame_filter(const lask__frame *f, const lask__column *mask);
/* Rows [from, from + n). */
lask__frame *lask__frame_slice(const lask__frame *f, int64_t from, int64_t n);
/* One frame from several with the same column names and types (columns of
 * the first; a column another lacks is an error). */
lask__frame *lask__frame_concat(lask__frame *const *fs, int32_t n);
/* Columns names[0..n-1] (shared, not copied). */
lask__frame *lask__frame_select(const lask__frame *f, const char *const *names, int32_t n);
/* A copy of f's column list with col set under name (added or replaced). */
lask__frame *lask__frame_with(const lask__frame *f, const char *name, lask__column *col);
/* Row order that sorts by cols (stable; missing values last). */
int64_t *lask__frame_argsort(const lask__frame *f, const int32_t *cols, const int *ascending,
                             int32_t ncols);
/* Split rows by the hash of key columns into nparts frames (out[nparts]). */
int lask__frame_hash_split(const lask__frame *f, const int32_t *cols, int32_t ncols,
                           int32_t nparts, lask__frame **out);
/* Split rows of a sorted-or-not column by boundaries b[0..nb-1] (ascending):
 * part k holds b[k-1] <= v < b[k] (last part: v >= b[nb-1]); out[nb+1]. */
int lask__frame_range_split(const lask__frame *f, int32_t col, const lask__scalar *b,
                            int32_t nb, lask__frame **out);
/* Rows without a missing value (in cols, or any column when ncols == 0). */
lask__frame *lask__frame_dropna(const lask__frame *f, const int32_t *cols, int32_t ncols);

/* ---- hashing of key rows (frame_hash.c) */

uint64_t lask__row_hash(lask__column *const *cols, int32_t ncols, int64_t r);
int lask__row_equal(lask__column *const *a, int64_t ra, lask__column *const *b, int64_t rb,
                    int32_t ncols);
/* Group ids 0..ngroups-1 per row of the key columns; *first receives the
 * first row of each group (malloc'd). Groups are numbered in order of first
 * appearance. Missing keys form their own group. */
int64_t *lask__group_ids(lask__column *const *keys, int32_t nkeys, int64_t nrows,
                         int64_t *ngroups, int64_t **first);
/* Free group ids (free() works too): the buffer is kept for this thread's
 * next lask__group_ids, so it is not faulted in afresh. */
void lask__group_ids_free(int64_t *ids);

/* ---- groupby (frame_group.c) */

/* One aggregation: the input column, the op and the output name. */
typedef struct lask__agg {
    const char *col;       /* NULL for size */
    const char *op;        /* sum mean count min max std var nunique size first last */
    const char *out;
} lask__agg;

/* Exact group-by on one frame: key columns then one column per agg. */
lask__frame *lask__groupby(const lask__frame *f, const char *const *keys, int32_t nkeys,
                           const lask__agg *aggs, int32_t naggs);
/* Partial aggregates of one partition: keys then state columns named
 * "<out>\x1f<state>"; nunique keeps the distinct (keys, value) pairs as
 * state and is finished by lask__groupby_finish. */
lask__frame *lask__groupby_partial(const lask__frame *f, const char *const *keys, int32_t nkeys,
                                   const lask__agg *aggs, int32_t naggs);
/* Merge partial frames (same aggs) into one partial frame. */
lask__frame *lask__groupby_combine(lask__frame *const *parts, int32_t n,
                                   const char *const *keys, int32_t nkeys,
                                   const lask__agg *aggs, int32_t naggs);
/* The final columns from a (combined) partial frame. */
lask__frame *lask__groupby_finish(const lask__frame *p, const char *const *keys, int32_t nkeys,
                                  const lask__agg *aggs, int32_t naggs, int ddof);

/* ---- joins (frame_join.c) */

typedef enum lask__how { LASK__INNER, LASK__LEFT, LASK__RIGHT, LASK__OUTER } lask__how;
/* Hash join on lkeys = rkeys. Key columns appear once (named as on the
 * left); other columns that clash get the suffixes. */
lask__frame *lask__frame_merge(const lask__frame *l, const lask__frame *r,
                               const char *const *lkeys, const char *const *rkeys,
                               int32_t nkeys, int how, const char *lsuffix,
                               const char *rsuffix);

#endif
