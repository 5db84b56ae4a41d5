/* frame_rows.c - kernels that pick, order, split and join rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "frame_ops.h"
#include "csvio.h"

#define OOM() (lask__frame_seterr("out of memory"), (void *)NULL)

lask__column *lask__col_take(const lask__column *a, const int64_t *idx, int64_t n) {
    int64_t bytes = 0;
    int anymiss = a->valid != NULL;
    const int64_t *ao = a->values;
    for (int64_t i = 0; i < n; i++) {
        if (idx[i] < 0) { anymiss = 1; continue; }
        if (a->type == LASK_COL_STRING) bytes += ao[idx[i] + 1] - ao[idx[i]];
    }
    lask__column *out = lask__column_new(a->type, n, bytes);
    if (!out) return OOM();
    if (anymiss && !lask__column_validity(out)) { lask__column_unref(out); return OOM(); }
    switch (a->type) {
    case LASK_COL_BOOL: {
        const uint8_t *x = a->values;
        uint8_t *o = out->values;
        for (int64_t i = 0; i < n; i++) o[i] = idx[i] >= 0 ? x[idx[i]] : 0;
        break;
    }
    case LASK_COL_STRING: {
        int64_t *oo = out->values, at = 0;
        for (int64_t i = 0; i < n; i++) {
            if (idx[i] >= 0) {
                int64_t len = ao[idx[i] + 1] - ao[idx[i]];
                memcpy(out->strdata + at, a->strdata + ao[idx[i]], (size_t)len);
                at += len;
            }
            oo[i + 1] = at;
        }
        break;
    }
    case LASK_COL_FLOAT64: {
        const double *x = a->values;
        double *o = out->values;
        for (int64_t i = 0; i < n; i++) o[i] = idx[i] >= 0 ? x[idx[i]] : NAN;
        break;
    }
    default: {
        const int64_t *x = a->values;
        int64_t *o = out->values;
        for (int64_t i = 0; i < n; i++) o[i] = idx[i] >= 0 ? x[idx[i]] : 0;
    }
    }
    if (anymiss)
        for (int64_t i = 0; i < n; i++)
            lask__bit_set(out->valid, i, idx[i] >= 0 && lask__column_isvalid(a, idx[i]));
    return out;
}

static lask__frame *frame_like(const lask__frame *f, int64_t nrows) {
    lask__frame *o = lask__frame_new(f->ncols, nrows);
    if (!o) return OOM();
    o->index = f->index;
    return o;
}

lask__frame *lask__frame_take(const lask__frame *f, const int64_t *idx, int64_t n) {
    lask__frame *o = frame_like(f, n);
    if (!o) return NULL;
    for (int32_t j = 0; j < f->ncols; j++) {
        lask__column *c = lask__col_take(f->cols[j], idx, n);
        if (!c || lask__frame_set(o, j, f->names[j], c)) {
            lask__column_unref(c);
            lask_chunk_unref(&o->h);
            return OOM();
        }
    }
    return o;
}

lask__frame *lask__frame_filter(const lask__frame *f, const lask__column *mask) {
    if (mask->type != LASK_COL_BOOL) {
        lask__frame_seterr("a row filter needs a boolean mask, got a %s column", lask__coltype_name(mask->type));
        return NULL;
    }
    if (mask->n != f->nrows) {
        lask__frame_seterr("the mask has %lld rows, the frame %lld", (long long)mask->n, (long long)f->nrows);
        return NULL;
    }
    int64_t *idx = malloc(sizeof *idx * (size_t)(f->nrows ? f->nrows : 1)), n = 0;
    if (!idx) return OOM();
    const uint8_t *m = mask->values;
    for (int64_t i = 0; i < f->nrows; i++) {
        idx[n] = i;
        n += m[i] && lask__column_isvalid(mask, i);
    }
    lask__frame *o = lask__frame_take(f, idx, n);
    free(idx);
    return o;
}

lask__frame *lask__frame_slice(const lask__frame *f, int64_t from, int64_t n) {
    if (from < 0) from = 0;
    if (from > f->nrows) from = f->nrows;
    if (n > f->nrows - from) n = f->nrows - from;
    if (n < 0) n = 0;
    int64_t *idx = malloc(sizeof *idx * (size_t)(n ? n : 1));
    if (!idx) return OOM();
    for (int64_t i = 0; i < n; i++) idx[i] = from + i;
    lask__frame *o = lask__frame_take(f, idx, n);
    free(idx);
    return o;
}

lask__frame *lask__frame_select(const lask__frame *f, const char *const *names, int32_t n) {
    lask__frame *o = lask__frame_new(n, f->nrows);
    if (!o) return OOM();
    o->index = -1;
    for (int32_t k = 0; k < n; k++) {
        int32_t j = lask__frame_find(f, names[k]);
        if (j < 0) {
            char known[400] = "";
            size_t at = 0;
            for (int32_t i = 0; i < f->ncols && at + 4 < sizeof known; i++)
                at += (size_t)snprintf(known + at, sizeof known - at, "%s%s", i ? ", " : "", f->names[i]);
            lask__frame_seterr("no column '%s' (columns: %s)", names[k], known);
            lask_chunk_unref(&o->h);
            return NULL;
        }
        if (j == f->index) o->index = k;
        if (lask__frame_set(o, k, names[k], lask__column_ref(f->cols[j]))) {
            lask__column_unref(f->cols[j]);
            lask_chunk_unref(&o->h);
            return OOM();
        }
    }
    return o;
}

lask__frame *lask__frame_with(const lask__frame *f, const char *name, lask__column *col) {
    if (col->n != f->nrows && f->ncols > 0) {
        lask__frame_seterr("column '%s' has %lld rows, the frame %lld", name, (long long)col->n, (long long)f->nrows);
        return NULL;
    }
    int32_t j = lask__frame_find(f, name);
    lask__frame *o = lask__frame_new(f->ncols + (j < 0), f->ncols > 0 ? f->nrows : col->n);
    if (!o) return OOM();
    o->index = f->index;
    for (int32_t k = 0; k < f->ncols; k++) {
        lask__column *c = k == j ? col : f->cols[k];
        if (lask__frame_set(o, k, f->names[k], lask__column_ref(c))) { lask_chunk_unref(&o->h); return OOM(); }
    }
    if (j < 0 && lask__frame_set(o, f->ncols, name, lask__column_ref(col))) { lask_chunk_unref(&o->h); return OOM(); }
    return o;
}

lask__frame *lask__frame_concat(lask__frame *const *fs, int32_t n) {
    if (n == 0) return lask__frame_new(0, 0);
    const lask__frame *f0 = fs[0];
    int64_t rows = 0;
    for (int32_t k = 0; k < n; k++) rows += fs[k]->nrows;
    lask__frame *o = frame_like(f0, rows);
    if (!o) return NULL;
    for (int32_t j = 0; j < f0->ncols; j++) {
        int32_t t = f0->cols[j]->type;
        int64_t bytes = 0, anymiss = 0;
        for (int32_t k = 0; k < n; k++) {
            int32_t i = lask__frame_find(fs[k], f0->names[j]);
            if (i < 0) {
                lask__frame_seterr("concat: part %d has no column '%s'", k + 1, f0->names[j]);
                lask_chunk_unref(&o->h);
                return NULL;
            }
            const lask__column *c = fs[k]->cols[i];
            if (c->type != t) {
                if ((c->type == LASK_COL_FLOAT64 && t == LASK_COL_INT64) || (t == LASK_COL_FLOAT64 && c->type == LASK_COL_INT64))
                    t = LASK_COL_FLOAT64;
                else {
                    lask__frame_seterr("concat: column '%s' is %s in part 1 but %s in part %d", f0->names[j],
                                       lask__coltype_name(f0->cols[j]->type), lask__coltype_name(c->type), k + 1);
                    lask_chunk_unref(&o->h);
                    return NULL;
                }
            }
            bytes += c->strbytes;
            anymiss |= c->valid != NULL;
        }
        lask__column *out = lask__column_new(t, rows, bytes);
        if (!out || (anymiss && !lask__column_validity(out))) { lask__column_unref(out); lask_chunk_unref(&o->h); return OOM(); }
        int64_t at = 0, sat = 0;
        for (int32_t k = 0; k < n; k++) {
            lask__column *c = fs[k]->cols[lask__frame_find(fs[k], f0->names[j])];
            lask__column *cc = c->type == t ? lask__column_ref(c) : lask__col_astype(c, t);
            if (!cc) { lask__column_unref(out); lask_chunk_unref(&o->h); return NULL; }
            if (t == LASK_COL_STRING) {
                const int64_t *co = cc->values;
                int64_t *oo = out->values;
                memcpy(out->strdata + sat, cc->strdata, (size_t)cc->strbytes);
                for (int64_t i = 0; i < cc->n; i++) oo[at + i + 1] = sat + co[i + 1];
                sat += cc->strbytes;
            } else {
                size_t w = t == LASK_COL_BOOL ? 1 : 8;
                memcpy((char *)out->values + at * (int64_t)w, cc->values, (size_t)cc->n * w);
            }
            if (anymiss)
                for (int64_t i = 0; i < cc->n; i++) lask__bit_set(out->valid, at + i, lask__column_isvalid(cc, i));
            at += cc->n;
            lask__column_unref(cc);
        }
        if (lask__frame_set(o, j, f0->names[j], out)) { lask__column_unref(out); lask_chunk_unref(&o->h); return OOM(); }
    }
    return o;
}

/* ---- sorting: a stable merge sort of row numbers */

typedef struct sortkey { const lask__frame *f; const int32_t *cols; const int *asc; int32_t n; } sortkey;

static int cmp_rows(const sortkey *k, int64_t a, int64_t b) {
    for (int32_t j = 0; j < k->n; j++) {
        const lask__column *c = k->f->cols[k->cols[j]];
        int va = lask__column_isvalid(c, a), vb = lask__column_isvalid(c, b), r = 0;
        if (c->type == LASK_COL_FLOAT64) {
            double x = ((double *)c->values)[a], y = ((double *)c->values)[b];
            va = va && !isnan(x); vb = vb && !isnan(y);   /* NaN sorts as missing */
        }
        if (va && vb) r = lask__col_cmp(c, a, b);
        if (va != vb) return va ? -1 : 1;     /* missing last, either order */
        if (r) return k->asc[j] ? r : -r;
    }
    return 0;
}

static void msort(const sortkey *k, int64_t *v, int64_t *tmp, int64_t n) {
    if (n < 2) return;
    if (n <= 16) {   /* insertion sort, stable */
        for (int64_t i = 1; i < n; i++) {
            int64_t x = v[i], j = i;
            while (j > 0 && cmp_rows(k, v[j - 1], x) > 0) { v[j] = v[j - 1]; j--; }
            v[j] = x;
        }
        return;
    }
    int64_t h = n / 2;
    msort(k, v, tmp, h);
    msort(k, v + h, tmp, n - h);
    if (cmp_rows(k, v[h - 1], v[h]) <= 0) return;
    memcpy(tmp, v, sizeof *v * (size_t)h);
    int64_t i = 0, j = h, o = 0;
    while (i < h && j < n) v[o++] = cmp_rows(k, v[j], tmp[i]) < 0 ? v[j++] : tmp[i++];
    while (i < h) v[o++] = tmp[i++];
}

int64_t *lask__frame_argsort(const lask__frame *f, const int32_t *cols, const int *ascending,
                             int32_t ncols) {
    int64_t n = f->nrows;
    int64_t *v = malloc(sizeof *v * (size_t)(n ? n : 1)), *tmp = malloc(sizeof *tmp * (size_t)(n / 2 + 1));
    if (!v || !tmp) { free(v); free(tmp); return OOM(); }
    for (int64_t i = 0; i < n; i++) v[i] = i;
    sortkey k = {f, cols, ascending, ncols};
    msort(&k, v, tmp, n);
    free(tmp);
    return v;
}

/* ---- splitting */

static int split_by(const lask__frame *f, const int32_t *part, int32_t nparts, lask__frame **out) {
    int64_t *cnt = calloc((size_t)nparts + 1, sizeof *cnt);
    int64_t *idx = malloc(sizeof *idx * (size_t)(f->nrows ? f->nrows : 1));
    if (!cnt || !idx) { free(cnt); free(idx); lask__frame_seterr("out of memory"); return -1; }
    for (int64_t i = 0; i < f->nrows; i++) cnt[part[i] + 1]++;
    for (int32_t p = 0; p < nparts; p++) cnt[p + 1] += cnt[p];
    int64_t *pos = malloc(sizeof *pos * (size_t)(nparts ? nparts : 1));
    if (!pos) { free(cnt); free(idx); lask__frame_seterr("out of memory"); return -1; }
    memcpy(pos, cnt, sizeof *pos * (size_t)nparts);
    for (int64_t i = 0; i < f->nrows; i++) idx[pos[part[i]]++] = i;
    int st = 0;
    for (int32_t p = 0; p < nparts; p++) {
        out[p] = st ? NULL : lask__frame_take(f, idx + cnt[p], cnt[p + 1] - cnt[p]);
        if (!out[p]) st = -1;
    }
    if (st) for (int32_t p = 0; p < nparts; p++) if (out[p]) { lask_chunk_unref(&out[p]->h); out[p] = NULL; }
    free(cnt); free(idx); free(pos);
    return st;
}

int lask__frame_hash_split(const lask__frame *f, const int32_t *cols, int32_t ncols,
                           int32_t nparts, lask__frame **out) {
    lask__column **keys = malloc(sizeof *keys * (size_t)(ncols ? ncols : 1));
    int32_t *part = malloc(sizeof *part * (size_t)(f->nrows ? f->nrows : 1));
    if (!keys || !part) { free(keys); free(part); lask__frame_seterr("out of memory"); return -1; }
    for (int32_t j = 0; j < ncols; j++) keys[j] = f->cols[cols[j]];
    for (int64_t i = 0; i < f->nrows; i++)
        part[i] = (int32_t)(lask__row_hash(keys, ncols, i) % (uint64_t)nparts);
    int st = split_by(f, part, nparts, out);
    free(keys); free(part);
    return st;
}

static int scalar_cmp(const lask__column *c, int64_t r, const lask__scalar *s) {
    lask__scalar v;
    lask__col_get(c, r, &v);
    if (v.type == LASK_COL_STRING) {
        int x = memcmp(v.s, s->s, v.n < s->n ? v.n : s->n);
        return x ? x : (v.n > s->n) - (v.n < s->n);
    }
    double a = v.type == LASK_COL_FLOAT64 ? v.f : (double)v.i, b = s->type == LASK_COL_FLOAT64 ? s->f : (double)s->i;
    if (v.type != LASK_COL_FLOAT64 && s->type != LASK_COL_FLOAT64) return (v.i > s->i) - (v.i < s->i);
    return (a > b) - (a < b);
}

int lask__frame_range_split(const lask__frame *f, int32_t col, const lask__scalar *b,
                            int32_t nb, lask__frame **out) {
    const lask__column *c = f->cols[col];
    int32_t *part = malloc(sizeof *part * (size_t)(f->nrows ? f->nrows : 1));
    if (!part) { lask__frame_seterr("out of memory"); return -1; }
    for (int64_t i = 0; i < f->nrows; i++) {
        if (!lask__column_isvalid(c, i) || (c->type == LASK_COL_FLOAT64 && isnan(((double *)c->values)[i]))) {
            part[i] = nb;          /* missing values go last */
            continue;
        }
        int32_t lo = 0, hi = nb;   /* first boundary > v */
        while (lo < hi) {
            int32_t m = (lo + hi) / 2;
            if (scalar_cmp(c, i, &b[m]) >= 0) lo = m + 1; else hi = m;
        }
        part[i] = lo;
    }
    int st = split_by(f, part, nb + 1, out);
    free(part);
    return st;
}

lask__frame *lask__frame_dropna(const lask__frame *f, const int32_t *cols, int32_t ncols) {
    int64_t *idx = malloc(sizeof *idx * (size_t)(f->nrows ? f->nrows : 1)), n = 0;
    if (!idx) return OOM();
    int32_t nc = ncols ? ncols : f->ncols;
    for (int64_t i = 0; i < f->nrows; i++) {
        int ok = 1;
        for (int32_t k = 0; k < nc && ok; k++) {
            const lask__column *c = f->cols[ncols ? cols[k] : k];
            ok = lask__column_isvalid(c, i) && !(c->type == LASK_COL_FLOAT64 && isnan(((double *)c->values)[i]));
        }
        idx[n] = i;
        n += ok;
    }
    lask__frame *o = lask__frame_take(f, idx, n);
    free(idx);
    return o;
}
