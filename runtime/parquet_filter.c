/*
 * parquet_filter.c - what read_parquet does to a decoded row group before
 * handing it out: constant hive-partition columns, exact row filters
 * (OR of ANDs of `col op value`), and the final column selection.
 *
 * Missing values never pass a comparison, as in pyarrow's filters.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parquet_filter.h"

int32_t lask__pq_op_parse(const char *s) {
    static const char *ops[] = {"=", "~=", "<", "<=", ">", ">=", "in"};
    if (!s) return -1;
    if (strcmp(s, "==") == 0) return PQ_OP_EQ;
    if (strcmp(s, "!=") == 0) return PQ_OP_NE;
    for (int i = 0; i < 7; i++)
        if (strcmp(s, ops[i]) == 0) return i;
    return -1;
}

static const char *typename(int32_t t) {
    static const char *n[] = {"int64", "float64", "bool", "string", "timestamp"};
    return t >= 0 && t < 5 ? n[t] : "unknown";
}

static const char *scalarname(int32_t t) {
    switch (t) {
    case PQ_S_INT: return "an integer";
    case PQ_S_FLOAT: return "a number";
    case PQ_S_BOOL: return "a boolean";
    case PQ_S_STRING: return "a string";
    default: return "nil";
    }
}

/* -1, 0, 1 comparing row r of c with s; 2 when incomparable (NaN). */
static int cmp(const lask__column *c, int64_t r, const lask__pq_scalar *s) {
    switch (c->type) {
    case LASK_COL_INT64: case LASK_COL_TIMESTAMP: {
        int64_t v = ((const int64_t *)c->values)[r];
        if (s->type == PQ_S_INT) return (v > s->i) - (v < s->i);
        double d = (double)v;
        if (isnan(s->f)) return 2;
        return (d > s->f) - (d < s->f);
    }
    case LASK_COL_FLOAT64: {
        double v = ((const double *)c->values)[r];
        double w = s->type == PQ_S_INT ? (double)s->i : s->f;
        if (isnan(v) || isnan(w)) return 2;
        return (v > w) - (v < w);
    }
    case LASK_COL_BOOL: {
        int v = ((const uint8_t *)c->values)[r] != 0, w = s->i != 0;
        return (v > w) - (v < w);
    }
    case LASK_COL_STRING: {
        const int64_t *o = c->values;
        int64_t la = o[r + 1] - o[r];
        int k = memcmp(c->strdata + o[r], s->s, (size_t)(la < s->slen ? la : s->slen));
        if (k) return k < 0 ? -1 : 1;
        return (la > s->slen) - (la < s->slen);
    }
    default: return 2;
    }
}

static int compatible(int32_t coltype, int32_t st) {
    switch (coltype) {
    case LASK_COL_INT64: case LASK_COL_TIMESTAMP: case LASK_COL_FLOAT64:
        return st == PQ_S_INT || st == PQ_S_FLOAT;
    case LASK_COL_BOOL: return st == PQ_S_BOOL;
    case LASK_COL_STRING: return st == PQ_S_STRING;
    default: return 0;
    }
}

static int pass(const lask__column *c, int64_t r, const lask__pq_pred *p) {
    if (!lask__column_isvalid(c, r)) return 0;
    if (p->op == PQ_OP_IN) {
        for (int32_t k = 0; k < p->nvals; k++)
            if (cmp(c, r, &p->vals[k]) == 0) return 1;
        return 0;
    }
    int k = cmp(c, r, &p->vals[0]);
    if (k == 2) return 0;
    switch (p->op) {
    case PQ_OP_EQ: return k == 0;
    case PQ_OP_NE: return k != 0;
    case PQ_OP_LT: return k < 0;
    case PQ_OP_LE: return k <= 0;
    case PQ_OP_GT: return k > 0;
    case PQ_OP_GE: return k >= 0;
    default: return 0;
    }
}

/* Tight loops for the common case: one value, no missing rows, a number
 * column. grp[r] &= (row r passes), or grp[r] = (row r passes) when
 * assign (one pass over grp instead of setting it first). Returns 0 when
 * not applicable. */
#define PQ_LOOP(T, vals, cond) do { const T *v_ = (const T *)(vals); \
    if (assign) for (int64_t r = 0; r < n; r++) grp[r] = (uint8_t)(cond); \
    else for (int64_t r = 0; r < n; r++) grp[r] &= (uint8_t)(cond); } while (0)
static int fast_pred(const lask__column *c, const lask__pq_pred *p, uint8_t *grp, int64_t n, int assign) {
    if (c->valid || p->op == PQ_OP_IN || p->nvals != 1) return 0;
    const lask__pq_scalar *s = &p->vals[0];
    if (c->type == LASK_COL_FLOAT64 && (s->type == PQ_S_FLOAT || s->type == PQ_S_INT)) {
        double w = s->type == PQ_S_INT ? (double)s->i : s->f;
        switch (p->op) {   /* NaN passes nothing, ~= included */
        case PQ_OP_EQ: PQ_LOOP(double, c->values, v_[r] == w); return 1;
        case PQ_OP_NE: PQ_LOOP(double, c->values, (v_[r] < w) | (v_[r] > w)); return 1;
        case PQ_OP_LT: PQ_LOOP(double, c->values, v_[r] < w); return 1;
        case PQ_OP_LE: PQ_LOOP(double, c->values, v_[r] <= w); return 1;
        case PQ_OP_GT: PQ_LOOP(double, c->values, v_[r] > w); return 1;
        case PQ_OP_GE: PQ_LOOP(double, c->values, v_[r] >= w); return 1;
        default: return 0;
        }
    }
    if ((c->type == LASK_COL_INT64 || c->type == LASK_COL_TIMESTAMP) && s->type == PQ_S_INT) {
        int64_t w = s->i;
        switch (p->op) {
        case PQ_OP_EQ: PQ_LOOP(int64_t, c->values, v_[r] == w); return 1;
        case PQ_OP_NE: PQ_LOOP(int64_t, c->values, v_[r] != w); return 1;
        case PQ_OP_LT: PQ_LOOP(int64_t, c->values, v_[r] < w); return 1;
        case PQ_OP_LE: PQ_LOOP(int64_t, c->values, v_[r] <= w); return 1;
        case PQ_OP_GT: PQ_LOOP(int64_t, c->values, v_[r] > w); return 1;
        case PQ_OP_GE: PQ_LOOP(int64_t, c->values, v_[r] >= w); return 1;
        default: return 0;
        }
    }
    return 0;
}
#undef PQ_LOOP

int lask__pq_pred_pagewise(int32_t coltype, const lask__pq_pred *p) {
    if (coltype == LASK_COL_STRING || coltype < 0) return 0;
    for (int32_t k = 0; k < (p->op == PQ_OP_IN ? p->nvals : 1); k++)
        if (k >= p->nvals || !compatible(coltype, p->vals[k].type)) return 0;
    return 1;
}

void lask__pq_pred_rows(int32_t coltype, const void *vals, const uint32_t *lev, int64_t n,
                        const lask__pq_pred *p, uint8_t *out) {
    /* a column view of the page's present values, so that the same
     * comparisons as for whole columns apply */
    lask__column c;
    memset(&c, 0, sizeof c);
    c.type = coltype;
    c.values = (void *)vals;
    if (!lev) {
        c.n = n;
        if (fast_pred(&c, p, out, n, 1)) return;
        for (int64_t r = 0; r < n; r++) out[r] = (uint8_t)pass(&c, r, p);
        return;
    }
    for (int64_t k = 0, j = 0; k < n; k++) {
        out[k] = lev[k] ? (uint8_t)pass(&c, j, p) : 0;
        j += lev[k] != 0;
    }
}

int32_t lask__pq_check_preds(const lask__frame *f, const lask__pq_pred *p, int32_t n,
                             const char *where, char *err, size_t errlen) {
    for (int32_t i = 0; i < n; i++) {
        int32_t ci = lask__frame_find(f, p[i].col);
        if (ci < 0) {
            snprintf(err, errlen, "%s: filter on a missing column '%s'", where, p[i].col);
            return LASK_EINVAL;
        }
        if (p[i].op < 0 || p[i].op > PQ_OP_IN || (p[i].op != PQ_OP_IN && p[i].nvals != 1)) {
            snprintf(err, errlen, "%s: bad filter on column '%s'", where, p[i].col);
            return LASK_EINVAL;
        }
        for (int32_t k = 0; k < p[i].nvals; k++)
            if (!compatible(f->cols[ci]->type, p[i].vals[k].type)) {
                snprintf(err, errlen, "%s: filter compares column '%s' (%s) with %s", where, p[i].col,
                         typename(f->cols[ci]->type), scalarname(p[i].vals[k].type));
                return LASK_EINVAL;
            }
    }
    return LASK_OK;
}

lask__column *lask__column_take(const lask__column *c, const uint8_t *keep, int64_t nkeep) {
    int64_t sbytes = 0;
    const int64_t *o = c->values;
    if (c->type == LASK_COL_STRING)
        for (int64_t r = 0; r < c->n; r++)
            if (keep[r]) sbytes += o[r + 1] - o[r];
    lask__column *d = lask__column_new(c->type, nkeep, sbytes);
    if (!d) return NULL;
    int64_t n = c->n, j = 0;
    /* branch-free compaction: write every row, advance by keep[r] */
    switch (c->type) {
    case LASK_COL_BOOL: {
        const uint8_t *s = c->values;
        uint8_t *t = d->values;
        for (int64_t r = 0; r < n && j < nkeep; r++) { t[j] = s[r]; j += keep[r] != 0; }
        break;
    }
    case LASK_COL_STRING: {
        int64_t *dof = d->values;
        for (int64_t r = 0; r < n; r++) {
            if (!keep[r]) continue;
            int64_t len = o[r + 1] - o[r];
            memcpy(d->strdata + dof[j], c->strdata + o[r], (size_t)len);
            dof[j + 1] = dof[j] + len;
            j++;
        }
        break;
    }
    default: {
        const int64_t *s = c->values;
        int64_t *t = d->values;
        for (int64_t r = 0; r < n && j < nkeep; r++) { t[j] = s[r]; j += keep[r] != 0; }
    }
    }
    if (c->valid) {
        uint8_t *valid = lask__column_validity(d);
        if (!valid) { lask__column_unref(d); return NULL; }
        j = 0;
        for (int64_t r = 0; r < n; r++) {
            if (!keep[r]) continue;
            if (!lask__column_isvalid(c, r)) lask__bit_set(valid, j, 0);
            j++;
        }
    }
    return d;
}

int32_t lask__pq_mask(const lask__frame *f, const lask__pq_pred *p, int32_t n,
                      uint8_t *keep, int64_t *nkeep) {
    uint8_t *grp = malloc((size_t)(f->nrows ? f->nrows : 1));
    if (!grp) return LASK_ENOMEM;
    memset(keep, n ? 0 : 1, (size_t)f->nrows);
    /* predicates of one group are consecutive */
    for (int32_t i = 0; i < n;) {
        int32_t g = p[i].group, j = i;
        memset(grp, 1, (size_t)f->nrows);
        for (; j < n && p[j].group == g; j++) {
            const lask__column *c = f->cols[lask__frame_find(f, p[j].col)];
            if (fast_pred(c, &p[j], grp, f->nrows, 0)) continue;
            for (int64_t r = 0; r < f->nrows; r++)
                if (grp[r]) grp[r] = (uint8_t)pass(c, r, &p[j]);
        }
        for (int64_t r = 0; r < f->nrows; r++) keep[r] |= grp[r];
        i = j;
    }
    free(grp);
    int64_t k = 0;
    for (int64_t r = 0; r < f->nrows; r++) k += keep[r];
    *nkeep = k;
    return LASK_OK;
}

int32_t lask__pq_filter(const lask__frame *f, const lask__pq_pred *p, int32_t n,
                        const char *const *names, int32_t nnames,
                        lask__frame **out, char *err, size_t errlen) {
    *out = NULL;
    uint8_t *keep = malloc((size_t)(f->nrows ? f->nrows : 1));
    int64_t nkeep = 0;
    if (!keep || lask__pq_mask(f, p, n, keep, &nkeep) != LASK_OK) {
        free(keep);
        snprintf(err, errlen, "out of memory");
        return LASK_ENOMEM;
    }
    int32_t nout = names ? nnames : f->ncols;
    lask__frame *d = lask__frame_new(nout, nkeep);
    int32_t st = d ? LASK_OK : LASK_ENOMEM;
    for (int32_t i = 0; i < nout && st == LASK_OK; i++) {
        int32_t ci = names ? lask__frame_find(f, names[i]) : i;
        if (ci < 0) {
            snprintf(err, errlen, "no column '%s'", names[i]);
            free(keep);
            lask_chunk_unref(&d->h);
            return LASK_EINVAL;
        }
        lask__column *c = nkeep == f->nrows ? lask__column_ref(f->cols[ci]) : lask__column_take(f->cols[ci], keep, nkeep);
        if (!c || lask__frame_set(d, i, f->names[ci], c) != LASK_OK) {
            lask__column_unref(c);
            st = LASK_ENOMEM;
        }
    }
    free(keep);
    if (st != LASK_OK) {
        if (d) lask_chunk_unref(&d->h);
        snprintf(err, errlen, "out of memory");
        return st;
    }
    d->index = names ? -1 : f->index;
    *out = d;
    return LASK_OK;
}

lask__column *lask__pq_const_column(const lask__pq_scalar *s, int64_t n) {
    int32_t type = s->type == PQ_S_INT ? LASK_COL_INT64 : s->type == PQ_S_FLOAT ? LASK_COL_FLOAT64
                 : s->type == PQ_S_BOOL ? LASK_COL_BOOL : LASK_COL_STRING;
    int64_t slen = s->type == PQ_S_STRING && !s->missing ? s->slen : 0;
    if (slen && n > INT64_MAX / slen) return NULL;
    lask__column *c = lask__column_new(type, n, slen * n);
    if (!c) return NULL;
    if (s->type == PQ_S_NIL || s->missing) {
        uint8_t *v = lask__column_validity(c);
        if (!v) { lask__column_unref(c); return NULL; }
        memset(v, 0, (size_t)(n + 7) / 8);
        return c;
    }
    for (int64_t r = 0; r < n; r++) {
        switch (type) {
        case LASK_COL_INT64: ((int64_t *)c->values)[r] = s->i; break;
        case LASK_COL_FLOAT64: ((double *)c->values)[r] = s->f; break;
        case LASK_COL_BOOL: ((uint8_t *)c->values)[r] = s->i != 0; break;
        default:
            memcpy(c->strdata + r * slen, s->s, (size_t)slen);
            ((int64_t *)c->values)[r + 1] = (r + 1) * slen;
        }
    }
    return c;
}

int32_t lask__pq_concat(lask__frame *const *fs, int32_t n, lask__frame **out, char *err, size_t errlen) {
    *out = NULL;
    if (n < 1) { snprintf(err, errlen, "nothing to concatenate"); return LASK_EINVAL; }
    if (n == 1) { *out = (lask__frame *)lask_chunk_ref(&fs[0]->h); return LASK_OK; }
    const lask__frame *a = fs[0];
    int64_t rows = 0;
    for (int32_t k = 0; k < n; k++) {
        if (fs[k]->ncols != a->ncols) { snprintf(err, errlen, "frames to concatenate have different columns"); return LASK_EINVAL; }
        for (int32_t i = 0; i < a->ncols; i++)
            if (strcmp(fs[k]->names[i], a->names[i]) || fs[k]->cols[i]->type != a->cols[i]->type) {
                snprintf(err, errlen, "frames to concatenate differ in column '%s'", a->names[i]);
                return LASK_EINVAL;
            }
        rows += fs[k]->nrows;
    }
    lask__frame *d = lask__frame_new(a->ncols, rows);
    if (!d) { snprintf(err, errlen, "out of memory"); return LASK_ENOMEM; }
    for (int32_t i = 0; i < a->ncols; i++) {
        int32_t type = a->cols[i]->type;
        int64_t sb = 0;
        int anynull = 0;
        for (int32_t k = 0; k < n; k++) {
            sb += fs[k]->cols[i]->strbytes;
            anynull |= fs[k]->cols[i]->valid != NULL;
        }
        lask__column *c = lask__column_new(type, rows, type == LASK_COL_STRING ? sb : 0);
        uint8_t *valid = c && anynull ? lask__column_validity(c) : NULL;
        if (!c || (anynull && !valid) || lask__frame_set(d, i, a->names[i], c) != LASK_OK) {
            lask__column_unref(c);
            lask_chunk_unref(&d->h);
            snprintf(err, errlen, "out of memory");
            return LASK_ENOMEM;
        }
        int64_t r0 = 0, s0 = 0;
        for (int32_t k = 0; k < n; k++) {
            const lask__column *s = fs[k]->cols[i];
            if (type == LASK_COL_STRING) {
                const int64_t *so = s->values;
                int64_t *dof = c->values;
                memcpy(c->strdata + s0, s->strdata, (size_t)so[s->n]);
                for (int64_t r = 0; r < s->n; r++) dof[r0 + r + 1] = s0 + so[r + 1];
                s0 += so[s->n];
            } else {
                int w = type == LASK_COL_BOOL ? 1 : 8;
                memcpy((uint8_t *)c->values + r0 * w, s->values, (size_t)(s->n * w));
            }
            if (valid && s->valid)
                for (int64_t r = 0; r < s->n; r++)
                    if (!lask__column_isvalid(s, r)) lask__bit_set(valid, r0 + r, 0);
            r0 += s->n;
        }
    }
    d->index = a->index;
    *out = d;
    return LASK_OK;
}
