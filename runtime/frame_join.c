/* frame_join.c - hash joins of two frames.
 *
 * The right side is built into an open-addressing table of its distinct
 * keys with a chain of rows per key; left rows probe it in order, so the
 * output keeps the left order (then unmatched right rows for right/outer).
 * Missing keys match nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frame_ops.h"
#include "csvio.h"

#define OOM() (lask__frame_seterr("out of memory"), (void *)NULL)

static int key_present(lask__column *const *k, int32_t n, int64_t r) {
    for (int32_t j = 0; j < n; j++) if (!lask__column_isvalid(k[j], r)) return 0;
    return 1;
}

/* idx pairs, grown by doubling */
typedef struct pairs { int64_t *l, *r, n, cap; } pairs;
static int push(pairs *p, int64_t l, int64_t r) {
    if (p->n == p->cap) {
        int64_t nc = p->cap ? p->cap * 2 : 1024;
        int64_t *nl = realloc(p->l, sizeof *nl * (size_t)nc);
        if (!nl) return -1;
        p->l = nl;
        int64_t *nr = realloc(p->r, sizeof *nr * (size_t)nc);
        if (!nr) return -1;
        p->r = nr;
        p->cap = nc;
    }
    p->l[p->n] = l;
    p->r[p->n] = r;
    p->n++;
    return 0;
}

/* where a is missing, b */
static lask__column *coalesce(lask__column *a, lask__column *b) {
    if (!a->valid) return lask__column_ref(a);
    int64_t n = a->n, *idx = malloc(sizeof *idx * (size_t)(n ? n : 1));
    if (!idx) return OOM();
    /* take from a concatenation [a; b]: row i of b is n + i */
    lask__frame *fa = lask__frame_new(1, n), *fb = lask__frame_new(1, n);
    lask__column *out = NULL;
    if (fa && fb) {
        lask__frame_set(fa, 0, "k", lask__column_ref(a));
        lask__frame_set(fb, 0, "k", lask__column_ref(b));
        lask__frame *both[2] = {fa, fb};
        lask__frame *cat = lask__frame_concat(both, 2);
        if (cat) {
            for (int64_t i = 0; i < n; i++) idx[i] = lask__column_isvalid(a, i) ? i : n + i;
            out = lask__col_take(cat->cols[0], idx, n);
            lask_chunk_unref(&cat->h);
        }
    }
    if (fa) lask_chunk_unref(&fa->h);
    if (fb) lask_chunk_unref(&fb->h);
    free(idx);
    return out;
}

lask__frame *lask__frame_merge(const lask__frame *l, const lask__frame *r,
                               const char *const *lkeys, const char *const *rkeys,
                               int32_t nkeys, int how, const char *lsuffix,
                               const char *rsuffix) {
    lask__column *lk[64], *rk[64];
    int32_t lj[64], rj[64];
    if (nkeys < 1 || nkeys > 64) { lask__frame_seterr("merge needs 1 to 64 key columns"); return NULL; }
    for (int32_t k = 0; k < nkeys; k++) {
        lj[k] = lask__frame_find(l, lkeys[k]);
        rj[k] = lask__frame_find(r, rkeys[k]);
        if (lj[k] < 0 || rj[k] < 0) {
            const lask__frame *f = lj[k] < 0 ? l : r;
            char known[400] = "";
            size_t at = 0;
            for (int32_t i = 0; i < f->ncols && at + 4 < sizeof known; i++)
                at += (size_t)snprintf(known + at, sizeof known - at, "%s%s", i ? ", " : "", f->names[i]);
            lask__frame_seterr("merge: no column '%s' on the %s (columns: %s)", lj[k] < 0 ? lkeys[k] : rkeys[k],
                               lj[k] < 0 ? "left" : "right", known);
            return NULL;
        }
        lk[k] = l->cols[lj[k]];
        rk[k] = r->cols[rj[k]];
        if (lk[k]->type != rk[k]->type) {
            lask__frame_seterr("merge: key '%s' is %s on the left but '%s' is %s on the right (use astype first)",
                               lkeys[k], lask__coltype_name(lk[k]->type), rkeys[k], lask__coltype_name(rk[k]->type));
            return NULL;
        }
    }
    /* build: right rows chained per distinct key */
    int64_t ng, *first, *rid = lask__group_ids(rk, nkeys, r->nrows, &ng, &first);
    if (!rid) return NULL;
    int64_t *head = malloc(sizeof *head * (size_t)(ng ? ng : 1)), *next = malloc(sizeof *next * (size_t)(r->nrows ? r->nrows : 1));
    uint64_t cap = 16;
    while (cap < (uint64_t)ng * 2) cap *= 2;
    int64_t *tab = malloc(sizeof *tab * cap);
    uint8_t *used = calloc((size_t)r->nrows + 1, 1);
    pairs p = {0};
    lask__frame *o = NULL;
    if (!head || !next || !tab || !used) goto oom;
    for (int64_t g = 0; g < ng; g++) head[g] = -1;
    for (int64_t i = r->nrows - 1; i >= 0; i--) { next[i] = head[rid[i]]; head[rid[i]] = i; }
    for (uint64_t i = 0; i < cap; i++) tab[i] = -1;
    for (int64_t g = 0; g < ng; g++) {
        if (!key_present(rk, nkeys, first[g])) continue;
        uint64_t i = lask__row_hash(rk, nkeys, first[g]) & (cap - 1);
        while (tab[i] >= 0) i = (i + 1) & (cap - 1);
        tab[i] = g;
    }
    /* probe */
    for (int64_t i = 0; i < l->nrows; i++) {
        int64_t g = -1;
        if (key_present(lk, nkeys, i)) {
            uint64_t s = lask__row_hash(lk, nkeys, i) & (cap - 1);
            while (tab[s] >= 0) {
                if (lask__row_equal(lk, i, rk, first[tab[s]], nkeys)) { g = tab[s]; break; }
                s = (s + 1) & (cap - 1);
            }
        }
        if (g >= 0) {
            for (int64_t j = head[g]; j >= 0; j = next[j]) { if (push(&p, i, j)) goto oom; used[j] = 1; }
        } else if (how == LASK__LEFT || how == LASK__OUTER) {
            if (push(&p, i, -1)) goto oom;
        }
    }
    if (how == LASK__RIGHT || how == LASK__OUTER)
        for (int64_t j = 0; j < r->nrows; j++) if (!used[j] && push(&p, -1, j)) goto oom;
    /* columns: keys (left names), left rest, right rest (right keys named like
     * the left ones are dropped); clashes get the suffixes */
    int32_t nout = l->ncols, at = 0;
    for (int32_t j = 0; j < r->ncols; j++) {
        int drop = 0;
        for (int32_t k = 0; k < nkeys; k++) drop |= j == rj[k] && !strcmp(lkeys[k], rkeys[k]);
        nout += !drop;
    }
    o = lask__frame_new(nout, p.n);
    if (!o) goto oom;
    for (int32_t j = 0; j < l->ncols; j++) {
        lask__column *c = lask__col_take(l->cols[j], p.l, p.n);
        if (!c) goto fail;
        int kk = -1;
        for (int32_t k = 0; k < nkeys; k++) if (j == lj[k] && !strcmp(lkeys[k], rkeys[k])) kk = k;
        if (kk >= 0 && (how == LASK__RIGHT || how == LASK__OUTER)) {
            lask__column *rc = lask__col_take(rk[kk], p.r, p.n);
            lask__column *m = rc ? coalesce(c, rc) : NULL;
            lask__column_unref(c);
            lask__column_unref(rc);
            if (!(c = m)) goto fail;
        }
        char name[512];
        snprintf(name, sizeof name, "%s", l->names[j]);
        if (kk < 0 && lask__frame_find(r, l->names[j]) >= 0) {
            int clash = 1;
            for (int32_t k = 0; k < nkeys; k++) if (!strcmp(rkeys[k], l->names[j]) && !strcmp(lkeys[k], rkeys[k])) clash = 0;
            if (clash) snprintf(name, sizeof name, "%s%s", l->names[j], lsuffix);
        }
        if (lask__frame_set(o, at++, name, c)) { lask__column_unref(c); goto oom; }
    }
    for (int32_t j = 0; j < r->ncols; j++) {
        int drop = 0;
        for (int32_t k = 0; k < nkeys; k++) drop |= j == rj[k] && !strcmp(lkeys[k], rkeys[k]);
        if (drop) continue;
        lask__column *c = lask__col_take(r->cols[j], p.r, p.n);
        if (!c) goto fail;
        char name[512];
        snprintf(name, sizeof name, "%s", r->names[j]);
        if (lask__frame_find(l, r->names[j]) >= 0) snprintf(name, sizeof name, "%s%s", r->names[j], rsuffix);
        if (lask__frame_set(o, at++, name, c)) { lask__column_unref(c); goto oom; }
    }
    free(rid); free(first); free(head); free(next); free(tab); free(used); free(p.l); free(p.r);
    return o;
oom:
    lask__frame_seterr("out of memory");
fail:
    free(rid); free(first); free(head); free(next); free(tab); free(used); free(p.l); free(p.r);
    if (o) lask_chunk_unref(&o->h);
    return NULL;
}
