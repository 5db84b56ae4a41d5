/* frame_hash.c - hashing rows of key columns, and group numbering.
 *
 * Group ids come from an open-addressing table of (hash, group) slots; a
 * single int64 key (the common case) skips the generic row comparison. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/mman.h>
#include "frame_ops.h"
#include "bigmem.h"

static inline uint64_t mix(uint64_t h) {
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t cell_hash(const lask__column *c, int64_t r) {
    if (!lask__column_isvalid(c, r)) return 0x9e3779b97f4a7c15ULL;
    switch (c->type) {
    case LASK_COL_FLOAT64: {
        double d = ((double *)c->values)[r];
        if (d == 0) d = 0;            /* -0.0 groups with 0.0 */
        if (isnan(d)) return 0x7ff8ULL;
        uint64_t u;
        memcpy(&u, &d, 8);
        return mix(u);
    }
    case LASK_COL_BOOL: return mix(((uint8_t *)c->values)[r] + 1);
    case LASK_COL_STRING: {
        const int64_t *o = c->values;
        return lask__hash(c->strdata + o[r], (size_t)(o[r + 1] - o[r]), 0);
    }
    default: return mix((uint64_t)((int64_t *)c->values)[r]);
    }
}

uint64_t lask__row_hash(lask__column *const *cols, int32_t ncols, int64_t r) {
    uint64_t h = 0;
    for (int32_t j = 0; j < ncols; j++) h = mix(h * 31 + cell_hash(cols[j], r));
    return h;
}

static inline int cell_equal(const lask__column *a, int64_t ra, const lask__column *b, int64_t rb) {
    int va = lask__column_isvalid(a, ra), vb = lask__column_isvalid(b, rb);
    if (!va || !vb) return va == vb;
    switch (a->type) {
    case LASK_COL_FLOAT64: {
        double x = ((double *)a->values)[ra], y = ((double *)b->values)[rb];
        return x == y || (isnan(x) && isnan(y));
    }
    case LASK_COL_BOOL: return ((uint8_t *)a->values)[ra] == ((uint8_t *)b->values)[rb];
    case LASK_COL_STRING: {
        const int64_t *oa = a->values, *ob = b->values;
        int64_t na = oa[ra + 1] - oa[ra], nb = ob[rb + 1] - ob[rb];
        return na == nb && memcmp(a->strdata + oa[ra], b->strdata + ob[rb], (size_t)na) == 0;
    }
    default: return ((int64_t *)a->values)[ra] == ((int64_t *)b->values)[rb];
    }
}

int lask__row_equal(lask__column *const *a, int64_t ra, lask__column *const *b, int64_t rb,
                    int32_t ncols) {
    for (int32_t j = 0; j < ncols; j++)
        if (!cell_equal(a[j], ra, b[j], rb)) return 0;
    return 1;
}

typedef struct slot { uint64_t h; int64_t g; } slot;


/* One int64 key whose values span fewer than nrows: a direct map from
 * value - min to group, no hashing. Groups are numbered in order of first
 * appearance as by the hash table. Returns 0, 1 when the range is too wide
 * (nothing done), -1 out of memory. */
static int dense_ids(const int64_t *kv, int64_t nrows, int64_t *ids, int64_t **firstp,
                     int64_t *fcapp, int64_t *ngp) {
    int64_t lo = kv[0], hi = kv[0];
    for (int64_t r = 1; r < nrows; r++) {
        lo = kv[r] < lo ? kv[r] : lo;
        hi = kv[r] > hi ? kv[r] : hi;
    }
    uint64_t range = (uint64_t)hi - (uint64_t)lo;
    if (range >= (uint64_t)nrows || range >= ((uint64_t)1 << 24)) return 1;
    int64_t *map = malloc(sizeof *map * (size_t)(range + 1));
    if (!map) return -1;
    memset(map, 0xff, sizeof *map * (size_t)(range + 1));   /* -1: no group yet */
    int64_t *first = *firstp, fcap = *fcapp, ng = 0;
    for (int64_t r = 0; r < nrows; r++) {
        uint64_t k = (uint64_t)kv[r] - (uint64_t)lo;
        int64_t g = map[k];
        if (g < 0) {
            if (ng == fcap) {
                int64_t *nf = realloc(first, sizeof *nf * (size_t)(fcap *= 2));
                if (!nf) { free(map); *firstp = first; return -1; }
                first = nf;
            }
            first[ng] = r;
            g = map[k] = ng++;
        }
        ids[r] = g;
    }
    free(map);
    *firstp = first;
    *fcapp = fcap;
    *ngp = ng;
    return 0;
}

/* The ids buffer a thread last gave back (lask__group_ids_free) is kept for
 * its next call: partial aggregates number the rows of one partition after
 * another, and refilling mapped memory is much cheaper than faulting in a
 * fresh buffer each time. `lent` is the buffer handed out last, so a free
 * knows its size; anything else is simply freed. */
typedef struct idcache { int64_t *keep, *lent; size_t keepcap, lentcap; } idcache;

#define IDS_KEEP ((size_t)32 << 20)   /* bytes a thread may keep */

static pthread_key_t ids_key;
static pthread_once_t ids_once = PTHREAD_ONCE_INIT;

static void ids_cache_free(void *p) {
    idcache *c = p;
    if (c) free(c->keep);
    free(c);
}
static void ids_init(void) { pthread_key_create(&ids_key, ids_cache_free); }

static idcache *ids_cache(void) {
    pthread_once(&ids_once, ids_init);
    return lask__thread_record(ids_key, sizeof(idcache));
}

static int64_t *ids_alloc(size_t n) {
    idcache *c = ids_cache();
    int64_t *p;
    if (c && c->keep && c->keepcap >= n) {
        p = c->keep;
        n = c->keepcap;
        c->keep = NULL;
        c->keepcap = 0;
    } else {
        p = lask__huge_malloc(sizeof *p * n);
    }
    if (c && p) { c->lent = p; c->lentcap = n; }
    return p;
}

void lask__group_ids_free(int64_t *ids) {
    if (!ids) return;
    idcache *c = pthread_getspecific(ids_key);   /* set: ids came from ids_alloc */
    if (c && c->lent == ids && c->lentcap * sizeof *ids <= IDS_KEEP &&
        c->lentcap * sizeof *ids >= ((size_t)256 << 10) && c->lentcap > c->keepcap) {
        free(c->keep);
        c->keep = ids;
        c->keepcap = c->lentcap;
        c->lent = NULL;
        return;
    }
    if (c && c->lent == ids) c->lent = NULL;
    free(ids);
}

int64_t *lask__group_ids(lask__column *const *keys, int32_t nkeys, int64_t nrows,
                         int64_t *ngroups, int64_t **firstp) {
    int64_t *ids = ids_alloc((size_t)(nrows ? nrows : 1));
    int64_t fcap = 1024, ng = 0;
    int64_t *first = malloc(sizeof *first * (size_t)fcap);
    uint64_t cap = 1024;
    slot *tab = malloc(sizeof *tab * cap);
    if (!ids || !first || !tab) goto oom;
    for (uint64_t i = 0; i < cap; i++) tab[i].g = -1;
    int fast = nkeys == 1 && (keys[0]->type == LASK_COL_INT64 || keys[0]->type == LASK_COL_TIMESTAMP) && !keys[0]->valid;
    const int64_t *kv = fast ? keys[0]->values : NULL;
    if (fast && nrows > 0) {
        int d = dense_ids(kv, nrows, ids, &first, &fcap, &ng);
        if (d < 0) goto oom;
        if (d == 0) {
            free(tab);
            *ngroups = ng;
            *firstp = first;
            return ids;
        }
    }
    for (int64_t r = 0; r < nrows; r++) {
        uint64_t h = fast ? mix((uint64_t)kv[r]) : lask__row_hash(keys, nkeys, r);
        uint64_t m = cap - 1, i = h & m;
        for (;;) {
            int64_t g = tab[i].g;
            if (g < 0) break;
            if (tab[i].h == h && (fast ? kv[first[g]] == kv[r] : lask__row_equal(keys, first[g], keys, r, nkeys))) break;
            i = (i + 1) & m;
        }
        if (tab[i].g >= 0) { ids[r] = tab[i].g; continue; }
        /* a new group */
        if (ng == fcap) {
            int64_t *nf = realloc(first, sizeof *nf * (size_t)(fcap *= 2));
            if (!nf) goto oom;
            first = nf;
        }
        first[ng] = r;
        tab[i].h = h;
        tab[i].g = ng;
        ids[r] = ng++;
        if ((uint64_t)ng * 2 > cap) {   /* grow: rehash the groups */
            uint64_t ncap = cap * 2;
            slot *nt = malloc(sizeof *nt * ncap);
            if (!nt) goto oom;
            for (uint64_t k = 0; k < ncap; k++) nt[k].g = -1;
            for (uint64_t k = 0; k < cap; k++) {
                if (tab[k].g < 0) continue;
                uint64_t j = tab[k].h & (ncap - 1);
                while (nt[j].g >= 0) j = (j + 1) & (ncap - 1);
                nt[j] = tab[k];
            }
            free(tab);
            tab = nt;
            cap = ncap;
        }
    }
    free(tab);
    *ngroups = ng;
    *firstp = first;
    return ids;
oom:
    lask__group_ids_free(ids); free(first); free(tab);
    lask__frame_seterr("out of memory");
    return NULL;
}
