/*
 * freeze.c - turn task nodes into the integer form the executors run.
 *
 * The depth-first walk (task.c) culls to what the outputs need, resolves
 * keys, dedups equal keys, finds cycles and numbers tasks in post-order:
 * that order is the priority (the sync executor runs it as is; worker
 * deques pop the newest first, which follows it). Here we resolve kernels
 * once, build dependency and dependent lists in flat buffers, and fuse
 * linear chains: when t's only dependent s has t as its only dependency, s
 * runs right after t on the same worker without being scheduled.
 *
 * All buffers live in a lask__work that the runtime recycles between
 * computes (see lask__work_take).
 */
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "bigmem.h"

/* ---------------------------------------------------------------- work */

/* A work bigger than this is freed rather than kept. */
#define KEEP_BYTES ((int64_t)256 << 20)
#define KEEP_MAX 2

static void frozen_free(lask__frozen *f) {
    lask__big_free(f->fn); lask__big_free(f->ud); lask__big_free(f->dep_off);
    lask__big_free(f->deps); lask__big_free(f->succ_off); lask__big_free(f->succ);
    lask__big_free(f->fnext); lask__big_free(f->head); lask__big_free(f->keep);
    lask__big_free(f->out_id);
    memset(f, 0, sizeof *f);
}

void lask__work_free(lask__work *w) {
    if (!w) return;
    lask__dfs_free(&w->d);
    frozen_free(&w->f);
    lask__big_free(w->res); lask__big_free(w->count);
    lask__big_free(w->uses); lask__big_free(w->ready);
    free(w);
}

lask__work *lask__work_take(lask_runtime *rt) {
    pthread_mutex_lock(&rt->lock);
    lask__work *w = rt->spare;
    if (w) { rt->spare = w->next; rt->nspare--; }
    pthread_mutex_unlock(&rt->lock);
    if (!w) w = calloc(1, sizeof *w);
    if (w) w->next = NULL;
    return w;
}

static int64_t work_bytes(const lask__work *w) {
    return (int64_t)w->d.seencap * (int64_t)sizeof(lask__seenslot) +
           (int64_t)w->d.cap * 16 + w->d.ecap * 4 + w->d.scap * 40 +
           w->f.ncap * 48 + w->f.ecap * 8 + w->xcap * 28;
}

/* Call with the nodes of w's last run still alive (the seen set points at
 * them until it is reset). */
void lask__work_give(lask_runtime *rt, lask__work *w) {
    if (!w) return;
    lask__dfs_reset(&w->d);
    w->f.n = 0;
    if (work_bytes(w) <= KEEP_BYTES) {
        pthread_mutex_lock(&rt->lock);
        if (rt->nspare < KEEP_MAX) {
            w->next = rt->spare;
            rt->spare = w;
            rt->nspare++;
            w = NULL;
        }
        pthread_mutex_unlock(&rt->lock);
    }
    lask__work_free(w);
}

/* Make *p hold at least n items of size sz (contents not kept). */
static int need(void *pp, int64_t n, size_t sz) {
    void **p = pp;
    lask__big_free(*p);
    *p = lask__big_alloc((size_t)(n ? n : 1) * sz);
    return *p ? 0 : -1;
}

int lask__work_exec(lask__work *w, int32_t n) {
    if (n > w->xcap) {
        int64_t cap = n + n / 4;
        if (need(&w->res, cap, sizeof *w->res) || need(&w->count, cap, sizeof *w->count) ||
            need(&w->uses, cap, sizeof *w->uses) || need(&w->ready, cap, sizeof *w->ready)) {
            w->xcap = 0;
            return -1;
        }
        w->xcap = cap;
    }
    memset(w->res, 0, (size_t)n * sizeof *w->res);
    return 0;
}

/* Capacity for n tasks, ne distinct edges, nouts outputs. */
static int frozen_reserve(lask__frozen *f, int64_t n, int64_t ne, int32_t nouts) {
    if (n > f->ncap) {
        int64_t cap = n + n / 4;
        f->ncap = 0;
        if (need(&f->fn, cap, sizeof *f->fn) || need(&f->ud, cap, sizeof *f->ud) ||
            need(&f->dep_off, cap + 1, sizeof *f->dep_off) ||
            need(&f->succ_off, cap + 1, sizeof *f->succ_off) ||
            need(&f->fnext, cap, sizeof *f->fnext) || need(&f->head, cap, 1) ||
            need(&f->keep, cap, 1))
            return -1;
        f->ncap = cap;
    }
    if (ne > f->ecap) {
        int64_t cap = ne + ne / 4;
        f->ecap = 0;
        if (need(&f->deps, cap, sizeof *f->deps) || need(&f->succ, cap, sizeof *f->succ))
            return -1;
        f->ecap = cap;
    }
    if (nouts > f->ocap) {
        f->ocap = 0;
        if (need(&f->out_id, nouts, sizeof *f->out_id)) return -1;
        f->ocap = nouts;
    }
    return 0;
}

/* ---------------------------------------------------------------- freeze */

int32_t lask__freeze(lask_runtime *rt, lask_graph *g, lask__task *const *outs,
                     int32_t nouts, lask__work *w) {
    lask__dfs *d = &w->d;
    lask__frozen *f = &w->f;
    f->n = 0;
    for (int32_t o = 0; o < nouts; o++)
        if (!outs[o]) return lask__rt_fail(rt, LASK_EINVAL, "output %d is NULL", (int)o + 1);
    int32_t st = lask__dfs_run(d, outs, nouts, g, 1);
    if (st == LASK_ENOKEY)
        return lask__rt_fail(rt, st, "missing key '%s' (needed by task '%s')",
                             d->err_key, d->err_from);
    if (st == LASK_ECYCLE)
        return lask__rt_fail(rt, st, "dependency cycle through key '%s' (needed by task '%s')",
                             d->err_key, d->err_from);
    if (st != LASK_OK) goto oom;

    int32_t n = d->n;
    f->node = d->order;
    f->aref = d->ebase;
    f->edges = d->edges;
    f->nouts = nouts;
    f->maxargs = 0;
    f->nheads = 0;
    /* the walk's edge count bounds the distinct edges */
    if (frozen_reserve(f, n, d->nedges, nouts) != 0) goto oom;

    /* kernels, resolved once; graphs use few names, so remember the last */
    const char *lastname = NULL;
    lask_kernel_fn lastfn = NULL;
    void *lastud = NULL;
    for (int32_t t = 0; t < n; t++) {
        const lask__task *x = f->node[t];
        if (x->nargs > f->maxargs) f->maxargs = x->nargs;
        if (!x->kernel) { f->fn[t] = NULL; f->ud[t] = NULL; continue; }
        if (!lastname || strcmp(lastname, x->kernel) != 0) {
            if (lask__rt_kernel(rt, x->kernel, &lastfn, &lastud) != 0)
                return lask__rt_fail(rt, LASK_ENOKERNEL, "no kernel named '%s' (task '%s')",
                                     x->kernel, x->key);
            lastname = x->kernel;
        }
        f->fn[t] = lastfn;
        f->ud[t] = lastud;
    }

    /* distinct dependencies of t: a dependency repeats only within t's own
     * arguments, so fnext (not yet used) marks the last task that saw it */
    int32_t *seenby = f->fnext;
    for (int32_t t = 0; t < n; t++) { seenby[t] = -1; f->succ_off[t + 1] = 0; }
    f->succ_off[0] = 0;
    int64_t ne = 0;
    for (int32_t t = 0; t < n; t++) {
        f->dep_off[t] = ne;
        const int32_t *e = f->edges + f->aref[t];
        for (int32_t k = 0; k < f->node[t]->ndeps; k++)
            if (seenby[e[k]] != t) {
                seenby[e[k]] = t;
                f->deps[ne++] = e[k];
                f->succ_off[e[k] + 1]++;
            }
    }
    f->dep_off[n] = ne;
    /* dependents, in increasing id (priority) order; seenby becomes a fill
     * cursor per task */
    for (int32_t t = 0; t < n; t++) {
        f->succ_off[t + 1] += f->succ_off[t];
        seenby[t] = 0;
    }
    for (int32_t t = 0; t < n; t++)
        for (int64_t j = f->dep_off[t]; j < f->dep_off[t + 1]; j++) {
            int32_t dd = f->deps[j];
            f->succ[f->succ_off[dd] + seenby[dd]++] = t;
        }

    /* fuse linear chains */
    for (int32_t t = 0; t < n; t++) {
        f->head[t] = 1;
        f->keep[t] = 0;
    }
    for (int32_t t = 0; t < n; t++) {
        f->fnext[t] = -1;
        if (f->succ_off[t + 1] - f->succ_off[t] == 1) {
            int32_t s = f->succ[f->succ_off[t]];
            if (f->dep_off[s + 1] - f->dep_off[s] == 1) {
                f->fnext[t] = s;
                f->head[s] = 0;
            }
        }
    }
    for (int32_t t = 0; t < n; t++) f->nheads += f->head[t];

    for (int32_t o = 0; o < nouts; o++) {
        int32_t id = lask__dfs_id(d, outs[o]);
        f->out_id[o] = id;
        f->keep[id] = 1;
    }
    f->n = n;
    return LASK_OK;
oom:
    return lask__rt_fail(rt, LASK_ENOMEM, "out of memory preparing a graph of %d tasks", (int)d->n);
}
