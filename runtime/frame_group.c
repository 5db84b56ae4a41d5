/* frame_group.c - hash group-by with mergeable partial aggregates.
 *
 * An aggregation is done in three steps so it can run as a tree over
 * partitions: partial (per partition: keys + state columns), combine
 * (concatenated partials grouped again, states merged) and finish (states
 * to values). State columns are named "<out>\x1f<state>":
 *   sum: sum   count: count   size: size   mean: sum, count
 *   var/std: n, mean, m2 (merged with Chan's pairwise formula)
 *   min/max/first/last: the value     nunique: set (encoded distinct values)
 * Groups with a missing key are dropped (pandas' dropna=True); results are
 * sorted by key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "frame_ops.h"
#include "csvio.h"

#define OOM() (lask__frame_seterr("out of memory"), (void *)NULL)

static int present(const lask__column *c, int64_t r) {
    return lask__column_isvalid(c, r) && !(c->type == LASK_COL_FLOAT64 && isnan(((double *)c->values)[r]));
}

static lask__column *st_sum(const lask__column *c, const int64_t *ids, int64_t ng) {
    if (c->type == LASK_COL_STRING || c->type == LASK_COL_TIMESTAMP) {
        lask__frame_seterr("sum needs a numeric column, got %s", lask__coltype_name(c->type));
        return NULL;
    }
    int isf = c->type == LASK_COL_FLOAT64;
    lask__column *o = lask__column_new(isf ? LASK_COL_FLOAT64 : LASK_COL_INT64, ng, 0);
    if (!o) return OOM();
    if (isf) {
        const double *x = c->values;
        double *s = o->values;
        if (!c->valid) { for (int64_t r = 0; r < c->n; r++) if (x[r] == x[r]) s[ids[r]] += x[r]; }
        else for (int64_t r = 0; r < c->n; r++) if (present(c, r)) s[ids[r]] += x[r];
    } else if (c->type == LASK_COL_BOOL) {
        const uint8_t *x = c->values;
        int64_t *s = o->values;
        for (int64_t r = 0; r < c->n; r++) if (present(c, r)) s[ids[r]] += x[r];
    } else {
        const int64_t *x = c->values;
        int64_t *s = o->values;
        if (!c->valid) for (int64_t r = 0; r < c->n; r++) s[ids[r]] += x[r];
        else for (int64_t r = 0; r < c->n; r++) if (present(c, r)) s[ids[r]] += x[r];
    }
    return o;
}

static lask__column *st_count(const lask__column *c, const int64_t *ids, int64_t n, int64_t ng) {
    lask__column *o = lask__column_new(LASK_COL_INT64, ng, 0);
    if (!o) return OOM();
    int64_t *s = o->values;
    if (!c) for (int64_t r = 0; r < n; r++) s[ids[r]]++;
    else if (c->type == LASK_COL_FLOAT64 && !c->valid) {
        const double *x = c->values;
        for (int64_t r = 0; r < n; r++) s[ids[r]] += x[r] == x[r];
    } else for (int64_t r = 0; r < n; r++) s[ids[r]] += present(c, r);
    return o;
}

/* The row chosen per group (min, max, first or last present), then taken. */
static lask__column *st_pick(const lask__column *c, const int64_t *ids, int64_t ng, const char *op) {
    int64_t *best = malloc(sizeof *best * (size_t)(ng ? ng : 1));
    if (!best) return OOM();
    for (int64_t g = 0; g < ng; g++) best[g] = -1;
    int mode = !strcmp(op, "min") ? 0 : !strcmp(op, "max") ? 1 : !strcmp(op, "first") ? 2 : 3;
    for (int64_t r = 0; r < c->n; r++) {
        if (!present(c, r)) continue;
        int64_t g = ids[r], b = best[g];
        if (b < 0 || mode == 3) { best[g] = r; continue; }
        if (mode == 2) continue;
        int cmp = lask__col_cmp(c, r, b);
        if (mode == 0 ? cmp < 0 : cmp > 0) best[g] = r;
    }
    lask__column *o = lask__col_take(c, best, ng);
    free(best);
    return o;
}

/* Welford per group from raw values, or Chan's merge from (n, mean, m2). */
static int st_moments(const lask__column *c, const lask__column *pn, const lask__column *pm,
                      const lask__column *p2, const int64_t *ids, int64_t nrows, int64_t ng,
                      lask__column **on, lask__column **om, lask__column **o2) {
    *on = lask__column_new(LASK_COL_INT64, ng, 0);
    *om = lask__column_new(LASK_COL_FLOAT64, ng, 0);
    *o2 = lask__column_new(LASK_COL_FLOAT64, ng, 0);
    if (!*on || !*om || !*o2) { lask__frame_seterr("out of memory"); return -1; }
    int64_t *n = (*on)->values;
    double *mean = (*om)->values, *m2 = (*o2)->values;
    if (c) {
        if (c->type == LASK_COL_STRING || c->type == LASK_COL_TIMESTAMP) {
            lask__frame_seterr("var/std need a numeric column, got %s", lask__coltype_name(c->type));
            return -1;
        }
        for (int64_t r = 0; r < nrows; r++) {
            if (!present(c, r)) continue;
            double x = c->type == LASK_COL_FLOAT64 ? ((double *)c->values)[r]
                       : c->type == LASK_COL_BOOL ? ((uint8_t *)c->values)[r] : (double)((int64_t *)c->values)[r];
            int64_t g = ids[r];
            n[g]++;
            double d = x - mean[g];
            mean[g] += d / (double)n[g];
            m2[g] += d * (x - mean[g]);
        }
    } else {
        const int64_t *bn = pn->values;
        const double *bm = pm->values, *b2 = p2->values;
        for (int64_t r = 0; r < nrows; r++) {
            if (!bn[r]) continue;
            int64_t g = ids[r];
            double na = (double)n[g], nb = (double)bn[r], d = bm[r] - mean[g], nt = na + nb;
            mean[g] += d * nb / nt;
            m2[g] += b2[r] + d * d * na * nb / nt;
            n[g] += bn[r];
        }
    }
    return 0;
}

/* ---- distinct-value sets: items are [len:4][bytes], kept sorted */

static int item_cmp(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    uint32_t nx, ny;
    memcpy(&nx, x, 4); memcpy(&ny, y, 4);
    int c = memcmp(x + 4, y + 4, nx < ny ? nx : ny);
    return c ? c : (nx > ny) - (nx < ny);
}

/* rows' item lists (each row: a string of items) -> one sorted unique set per group */
static lask__column *sets_union(const char *const *rowp, const int64_t *rown, const int64_t *ids,
                                int64_t nrows, int64_t ng) {
    int64_t *cnt = calloc((size_t)ng + 1, sizeof *cnt), *order = malloc(sizeof *order * (size_t)(nrows ? nrows : 1));
    if (!cnt || !order) { free(cnt); free(order); return OOM(); }
    for (int64_t r = 0; r < nrows; r++) cnt[ids[r] + 1]++;
    for (int64_t g = 0; g < ng; g++) cnt[g + 1] += cnt[g];
    int64_t *pos = malloc(sizeof *pos * (size_t)(ng ? ng : 1));
    int64_t total = 0;
    for (int64_t r = 0; r < nrows; r++) total += rown[r];
    lask__column *o = pos ? lask__column_new(LASK_COL_STRING, ng, total) : NULL;
    const char **items = NULL;
    int64_t icap = 0;
    if (!o) goto oom;
    memcpy(pos, cnt, sizeof *pos * (size_t)ng);
    for (int64_t r = 0; r < nrows; r++) order[pos[ids[r]]++] = r;
    int64_t *oo = o->values, at = 0;
    for (int64_t g = 0; g < ng; g++) {
        int64_t ni = 0;
        for (int64_t k = cnt[g]; k < cnt[g + 1]; k++) {
            int64_t r = order[k];
            for (int64_t p = 0; p < rown[r];) {
                if (ni == icap) {
                    icap = icap ? icap * 2 : 256;
                    const char **nit = realloc(items, sizeof *items * (size_t)icap);
                    if (!nit) goto oom;
                    items = nit;
                }
                uint32_t len;
                memcpy(&len, rowp[r] + p, 4);
                items[ni++] = rowp[r] + p;
                p += 4 + len;
            }
        }
        qsort(items, (size_t)ni, sizeof *items, item_cmp);
        for (int64_t i = 0; i < ni; i++) {
            if (i && item_cmp(&items[i], &items[i - 1]) == 0) continue;
            uint32_t len;
            memcpy(&len, items[i], 4);
            memcpy(o->strdata + at, items[i], 4 + len);
            at += 4 + len;
        }
        oo[g + 1] = at;
    }
    o->strbytes = at;
    free(cnt); free(order); free(pos); free(items);
    return o;
oom:
    lask__column_unref(o);
    free(cnt); free(order); free(pos); free(items);
    return OOM();
}

static lask__column *st_set_raw(const lask__column *c, const int64_t *ids, int64_t ng) {
    /* each present value becomes one item: its bytes (numbers: their 8 bytes) */
    int64_t n = c->n, bytes = 0;
    for (int64_t r = 0; r < n; r++)
        if (present(c, r))
            bytes += 4 + (c->type == LASK_COL_STRING ? ((int64_t *)c->values)[r + 1] - ((int64_t *)c->values)[r] : 8);
    char *buf = malloc((size_t)bytes + 1);
    const char **rowp = malloc(sizeof *rowp * (size_t)(n ? n : 1));
    int64_t *rown = malloc(sizeof *rown * (size_t)(n ? n : 1));
    if (!buf || !rowp || !rown) { free(buf); free(rowp); free(rown); return OOM(); }
    int64_t at = 0;
    for (int64_t r = 0; r < n; r++) {
        rowp[r] = buf + at;
        rown[r] = 0;
        if (!present(c, r)) continue;
        const char *src;
        uint32_t len = 8;
        int64_t iv;
        double dv;
        if (c->type == LASK_COL_STRING) {
            const int64_t *o = c->values;
            src = c->strdata + o[r];
            len = (uint32_t)(o[r + 1] - o[r]);
        } else if (c->type == LASK_COL_FLOAT64) {
            dv = ((double *)c->values)[r];
            if (dv == 0) dv = 0;
            src = (const char *)&dv;
        } else {
            iv = c->type == LASK_COL_BOOL ? ((uint8_t *)c->values)[r] : ((int64_t *)c->values)[r];
            src = (const char *)&iv;
        }
        memcpy(buf + at, &len, 4);
        memcpy(buf + at + 4, src, len);
        at += 4 + len;
        rown[r] = 4 + len;
    }
    lask__column *o = sets_union(rowp, rown, ids, n, ng);
    free(buf); free(rowp); free(rown);
    return o;
}

static lask__column *st_set_merge(const lask__column *c, const int64_t *ids, int64_t ng) {
    int64_t n = c->n;
    const char **rowp = malloc(sizeof *rowp * (size_t)(n ? n : 1));
    int64_t *rown = malloc(sizeof *rown * (size_t)(n ? n : 1));
    if (!rowp || !rown) { free(rowp); free(rown); return OOM(); }
    const int64_t *o = c->values;
    for (int64_t r = 0; r < n; r++) { rowp[r] = c->strdata + o[r]; rown[r] = o[r + 1] - o[r]; }
    lask__column *out = sets_union(rowp, rown, ids, n, ng);
    free(rowp); free(rown);
    return out;
}

/* ---- the steps */

static int find_cols(const lask__frame *f, const char *const *names, int32_t n, lask__column **out, const char *what) {
    for (int32_t k = 0; k < n; k++) {
        int32_t j = lask__frame_find(f, names[k]);
        if (j < 0) {
            char known[400] = "";
            size_t at = 0;
            for (int32_t i = 0; i < f->ncols && at + 4 < sizeof known; i++)
                at += (size_t)snprintf(known + at, sizeof known - at, "%s%s", i ? ", " : "", f->names[i]);
            lask__frame_seterr("%s: no column '%s' (columns: %s)", what, names[k], known);
            return -1;
        }
        out[k] = f->cols[j];
    }
    return 0;
}

typedef struct builder { lask__frame *f; int32_t at; } builder;

static int add(builder *b, const char *out, const char *state, lask__column *c) {
    if (!c) return -1;
    char name[512];
    if (state) snprintf(name, sizeof name, "%s\x1f%s", out, state);
    else snprintf(name, sizeof name, "%s", out);
    if (lask__frame_set(b->f, b->at, name, c)) { lask__column_unref(c); lask__frame_seterr("out of memory"); return -1; }
    b->at++;
    return 0;
}

static int nstates(const char *op) {
    if (!strcmp(op, "mean")) return 2;
    if (!strcmp(op, "var") || !strcmp(op, "std")) return 3;
    return 1;
}

static int known_op(const char *op) {
    static const char *ops[] = {"sum", "mean", "count", "min", "max", "std", "var", "nunique", "size", "first", "last"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) if (!strcmp(op, ops[i])) return 1;
    lask__frame_seterr("unknown aggregation '%s' (use sum mean count min max std var nunique size first last)", op);
    return 0;
}

/* Per-group counts of present values already made in this grouping, by
 * input column: mean and count of one column count it once. */
typedef struct counts { int32_t n; const lask__column *col[8]; lask__column *cnt[8]; } counts;

static lask__column *raw_count(const lask__column *c, const int64_t *ids, int64_t nrows, int64_t ng,
                               counts *k) {
    for (int32_t i = 0; i < k->n; i++)
        if (k->col[i] == c) return lask__column_ref(k->cnt[i]);
    lask__column *o = st_count(c, ids, nrows, ng);
    if (o && k->n < 8) { k->col[k->n] = c; k->cnt[k->n++] = o; }
    return o;
}

/* Group f by keys; merge = 0 from raw columns, 1 from state columns. */
static lask__frame *group_states(const lask__frame *f, const char *const *keys, int32_t nkeys,
                                 const lask__agg *aggs, int32_t naggs, int merge) {
    lask__column *kc[64];
    if (nkeys < 1 || nkeys > 64) { lask__frame_seterr("groupby needs 1 to 64 key columns"); return NULL; }
    if (find_cols(f, keys, nkeys, kc, "groupby")) return NULL;
    int32_t ncols = nkeys;
    for (int32_t a = 0; a < naggs; a++) {
        if (!known_op(aggs[a].op)) return NULL;
        ncols += nstates(aggs[a].op);
    }
    int64_t ng, *first;
    counts counted[1] = {{0}};
    int64_t *ids = lask__group_ids(kc, nkeys, f->nrows, &ng, &first);
    if (!ids) return NULL;
    lask__frame *o = lask__frame_new(ncols, ng);
    builder b = {o, 0};
    if (!o) goto fail;
    for (int32_t k = 0; k < nkeys; k++)
        if (add(&b, keys[k], NULL, lask__col_take(kc[k], first, ng))) goto fail;
    for (int32_t a = 0; a < naggs; a++) {
        const char *op = aggs[a].op, *out = aggs[a].out;
        lask__column *c = NULL;
        char sn[512];
#define STATE(s) (snprintf(sn, sizeof sn, "%s\x1f%s", out, s), lask__frame_find(f, sn) >= 0 ? f->cols[lask__frame_find(f, sn)] : NULL)
        if (!merge && strcmp(op, "size")) {
            if (!aggs[a].col) { lask__frame_seterr("aggregation '%s' needs a column", op); goto fail; }
            if (find_cols(f, &aggs[a].col, 1, &c, op)) goto fail;
        }
        if (merge) {
            const char *s0 = !strcmp(op, "mean") ? "sum" : (!strcmp(op, "var") || !strcmp(op, "std")) ? "n"
                             : !strcmp(op, "nunique") ? "set" : op;
            if (!(c = STATE(s0))) { lask__frame_seterr("groupby combine: partial aggregates lack '%s' of '%s'", s0, out); goto fail; }
        }
        if (!strcmp(op, "sum")) { if (add(&b, out, "sum", st_sum(c, ids, ng))) goto fail; }
        else if (!strcmp(op, "count")) { if (add(&b, out, "count", merge ? st_sum(c, ids, ng) : raw_count(c, ids, f->nrows, ng, counted))) goto fail; }
        else if (!strcmp(op, "size")) { if (add(&b, out, "size", merge ? st_sum(c, ids, ng) : st_count(NULL, ids, f->nrows, ng))) goto fail; }
        else if (!strcmp(op, "mean")) {
            lask__column *cnt = merge ? STATE("count") : c;
            if (!cnt) { lask__frame_seterr("groupby combine: partial aggregates lack the count of '%s'", out); goto fail; }
            if (!merge && (c->type == LASK_COL_STRING || c->type == LASK_COL_TIMESTAMP)) {
                lask__frame_seterr("mean needs a numeric column, got %s", lask__coltype_name(c->type));
                goto fail;
            }
            lask__column *s = st_sum(c, ids, ng);
            if (s && s->type != LASK_COL_FLOAT64) { lask__column *t = lask__col_astype(s, LASK_COL_FLOAT64); lask__column_unref(s); s = t; }
            if (add(&b, out, "sum", s)) goto fail;
            if (add(&b, out, "count", merge ? st_sum(cnt, ids, ng) : raw_count(c, ids, f->nrows, ng, counted))) goto fail;
        } else if (!strcmp(op, "var") || !strcmp(op, "std")) {
            lask__column *n, *m, *m2;
            int st = merge ? st_moments(NULL, c, STATE("mean"), STATE("m2"), ids, f->nrows, ng, &n, &m, &m2)
                           : st_moments(c, NULL, NULL, NULL, ids, f->nrows, ng, &n, &m, &m2);
            if (st) { lask__column_unref(n); lask__column_unref(m); lask__column_unref(m2); goto fail; }
            if (add(&b, out, "n", n)) { lask__column_unref(m); lask__column_unref(m2); goto fail; }
            if (add(&b, out, "mean", m)) { lask__column_unref(m2); goto fail; }
            if (add(&b, out, "m2", m2)) goto fail;
        } else if (!strcmp(op, "nunique")) {
            if (add(&b, out, "set", merge ? st_set_merge(c, ids, ng) : st_set_raw(c, ids, ng))) goto fail;
        } else { /* min max first last */
            if (add(&b, out, op, st_pick(c, ids, ng, op))) goto fail;
        }
#undef STATE
    }
    lask__group_ids_free(ids); free(first);
    return o;
fail:
    lask__group_ids_free(ids); free(first);
    if (o) lask_chunk_unref(&o->h);
    return NULL;
}

lask__frame *lask__groupby_partial(const lask__frame *f, const char *const *keys, int32_t nkeys,
                                   const lask__agg *aggs, int32_t naggs) {
    return group_states(f, keys, nkeys, aggs, naggs, 0);
}

lask__frame *lask__groupby_combine(lask__frame *const *parts, int32_t n,
                                   const char *const *keys, int32_t nkeys,
                                   const lask__agg *aggs, int32_t naggs) {
    lask__frame *all = lask__frame_concat(parts, n);
    if (!all) return NULL;
    lask__frame *o = group_states(all, keys, nkeys, aggs, naggs, 1);
    lask_chunk_unref(&all->h);
    return o;
}

lask__frame *lask__groupby_finish(const lask__frame *p, const char *const *keys, int32_t nkeys,
                                  const lask__agg *aggs, int32_t naggs, int ddof) {
    lask__column *kc[64];
    if (nkeys < 1 || nkeys > 64 || find_cols(p, keys, nkeys, kc, "groupby")) return NULL;
    /* drop groups with a missing key, order by key */
    int64_t *keep = malloc(sizeof *keep * (size_t)(p->nrows ? p->nrows : 1)), nk = 0;
    if (!keep) return OOM();
    for (int64_t r = 0; r < p->nrows; r++) {
        int ok = 1;
        for (int32_t k = 0; k < nkeys && ok; k++) ok = present(kc[k], r);
        keep[nk] = r;
        nk += ok;
    }
    lask__frame *kf = lask__frame_new(nkeys, p->nrows);
    if (!kf) { free(keep); return OOM(); }
    for (int32_t k = 0; k < nkeys; k++) lask__frame_set(kf, k, keys[k], lask__column_ref(kc[k]));
    int32_t cols[64];
    int asc[64];
    for (int32_t k = 0; k < nkeys; k++) { cols[k] = k; asc[k] = 1; }
    int64_t *order = lask__frame_argsort(kf, cols, asc, nkeys);
    lask_chunk_unref(&kf->h);
    if (!order) { free(keep); return NULL; }
    /* order restricted to kept rows */
    uint8_t *ok = calloc((size_t)p->nrows + 1, 1);
    if (!ok) { free(keep); free(order); return OOM(); }
    for (int64_t i = 0; i < nk; i++) ok[keep[i]] = 1;
    int64_t m = 0;
    for (int64_t i = 0; i < p->nrows; i++) if (ok[order[i]]) order[m++] = order[i];
    free(ok); free(keep);
    lask__frame *o = lask__frame_new(nkeys + naggs, m);
    builder b = {o, 0};
    if (!o) { free(order); return OOM(); }
    for (int32_t k = 0; k < nkeys; k++)
        if (add(&b, keys[k], NULL, lask__col_take(kc[k], order, m))) goto fail;
    for (int32_t a = 0; a < naggs; a++) {
        const char *op = aggs[a].op, *out = aggs[a].out;
        char sn[512];
#define STATE(s) (snprintf(sn, sizeof sn, "%s\x1f%s", out, s), lask__frame_find(p, sn) >= 0 ? p->cols[lask__frame_find(p, sn)] : NULL)
        lask__column *res = NULL;
        if (!strcmp(op, "mean")) {
            lask__column *s = STATE("sum"), *c = STATE("count");
            if (!s || !c) { lask__frame_seterr("groupby: partial aggregates lack the state of '%s'", out); goto fail; }
            res = lask__column_new(LASK_COL_FLOAT64, m, 0);
            if (!res || !lask__column_validity(res)) { lask__column_unref(res); goto oom; }
            for (int64_t i = 0; i < m; i++) {
                int64_t r = order[i], n = ((int64_t *)c->values)[r];
                ((double *)res->values)[i] = n ? ((double *)s->values)[r] / (double)n : NAN;
                lask__bit_set(res->valid, i, n > 0);
            }
        } else if (!strcmp(op, "var") || !strcmp(op, "std")) {
            lask__column *n = STATE("n"), *m2 = STATE("m2");
            if (!n || !m2) { lask__frame_seterr("groupby: partial aggregates lack the state of '%s'", out); goto fail; }
            res = lask__column_new(LASK_COL_FLOAT64, m, 0);
            if (!res || !lask__column_validity(res)) { lask__column_unref(res); goto oom; }
            for (int64_t i = 0; i < m; i++) {
                int64_t r = order[i], k = ((int64_t *)n->values)[r];
                double v = k - ddof > 0 ? ((double *)m2->values)[r] / (double)(k - ddof) : NAN;
                if (op[0] == 's') v = sqrt(v);
                ((double *)res->values)[i] = v;
                lask__bit_set(res->valid, i, k - ddof > 0);
            }
        } else if (!strcmp(op, "nunique")) {
            lask__column *s = STATE("set");
            if (!s) { lask__frame_seterr("groupby: partial aggregates lack the state of '%s'", out); goto fail; }
            res = lask__column_new(LASK_COL_INT64, m, 0);
            if (!res) goto oom;
            const int64_t *so = s->values;
            for (int64_t i = 0; i < m; i++) {
                int64_t r = order[i], cnt = 0;
                for (int64_t q = so[r]; q < so[r + 1]; cnt++) {
                    uint32_t len;
                    memcpy(&len, s->strdata + q, 4);
                    q += 4 + len;
                }
                ((int64_t *)res->values)[i] = cnt;
            }
        } else {
            lask__column *s = STATE(op);
            if (!s) { lask__frame_seterr("groupby: partial aggregates lack the state of '%s'", out); goto fail; }
            res = lask__col_take(s, order, m);
        }
#undef STATE
        if (add(&b, out, NULL, res)) goto fail;
    }
    free(order);
    return o;
oom:
    lask__frame_seterr("out of memory");
fail:
    free(order);
    lask_chunk_unref(&o->h);
    return NULL;
}

lask__frame *lask__groupby(const lask__frame *f, const char *const *keys, int32_t nkeys,
                           const lask__agg *aggs, int32_t naggs) {
    lask__frame *p = lask__groupby_partial(f, keys, nkeys, aggs, naggs);
    if (!p) return NULL;
    lask__frame *o = lask__groupby_finish(p, keys, nkeys, aggs, naggs, 1);
    lask_chunk_unref(&p->h);
    return o;
}
