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
 */
#include <stdlib.h>
#include <string.h>
#include "engine.h"

void lask__frozen_free(lask__frozen *f) {
    free(f->node); free(f->fn); free(f->ud); free(f->aref); free(f->edges);
    free(f->dep_off); free(f->deps); free(f->succ_off); free(f->succ);
    free(f->fnext); free(f->head); free(f->keep); free(f->out_id);
    memset(f, 0, sizeof *f);
}

int32_t lask__freeze(lask_runtime *rt, lask_graph *g, lask__task *const *outs,
                     int32_t nouts, lask__frozen *f) {
    memset(f, 0, sizeof *f);
    for (int32_t o = 0; o < nouts; o++)
        if (!outs[o]) return lask__rt_fail(rt, LASK_EINVAL, "output %d is NULL", (int)o + 1);
    lask__dfs d;
    int32_t st = lask__dfs_run(&d, outs, nouts, g, 1);
    if (st == LASK_ENOKEY) {
        st = lask__rt_fail(rt, st, "missing key '%s' (needed by task '%s')",
                           d.err_key, d.err_from);
        goto out;
    }
    if (st == LASK_ECYCLE) {
        st = lask__rt_fail(rt, st, "dependency cycle through key '%s' (needed by task '%s')",
                           d.err_key, d.err_from);
        goto out;
    }
    if (st != LASK_OK) goto oom;

    int32_t n = d.n;
    f->n = n;
    f->nouts = nouts;
    /* the walk's arrays become ours */
    f->node = d.order; d.order = NULL;
    f->aref = d.ebase; d.ebase = NULL;
    f->edges = d.edges; d.edges = NULL;
    size_t nn = (size_t)(n ? n : 1);
    f->fn = malloc(nn * sizeof *f->fn);
    f->ud = malloc(nn * sizeof *f->ud);
    f->dep_off = malloc((nn + 1) * sizeof *f->dep_off);
    f->succ_off = calloc(nn + 1, sizeof *f->succ_off);
    f->fnext = malloc(nn * sizeof *f->fnext);
    f->head = malloc(nn);
    f->keep = calloc(nn, 1);
    f->out_id = malloc((size_t)(nouts ? nouts : 1) * sizeof *f->out_id);
    int32_t *mark = malloc(nn * sizeof *mark);
    if (!f->fn || !f->ud || !f->dep_off || !f->succ_off || !f->fnext ||
        !f->head || !f->keep || !f->out_id || !mark) {
        free(mark);
        goto oom;
    }

    /* kernels, resolved once; graphs use few names, so remember the last */
    const char *lastname = NULL;
    lask_kernel_fn lastfn = NULL;
    void *lastud = NULL;
    for (int32_t t = 0; t < n; t++) {
        const lask__task *x = f->node[t];
        if (x->nargs > f->maxargs) f->maxargs = x->nargs;
        if (!x->kernel) { f->fn[t] = NULL; f->ud[t] = NULL; continue; }
        if (!lastname || strcmp(lastname, x->kernel) != 0) {
            if (lask__rt_kernel(rt, x->kernel, &lastfn, &lastud) != 0) {
                free(mark);
                st = lask__rt_fail(rt, LASK_ENOKERNEL, "no kernel named '%s' (task '%s')",
                                   x->kernel, x->key);
                goto out;
            }
            lastname = x->kernel;
        }
        f->fn[t] = lastfn;
        f->ud[t] = lastud;
    }

    /* distinct dependencies: count, then fill */
    for (int32_t t = 0; t < n; t++) mark[t] = -1;
    int64_t ne = 0;
    for (int32_t t = 0; t < n; t++) {
        f->dep_off[t] = ne;
        const int32_t *e = f->edges + f->aref[t];
        for (int32_t k = 0; k < f->node[t]->ndeps; k++)
            if (mark[e[k]] != t) { mark[e[k]] = t; ne++; }
    }
    f->dep_off[n] = ne;
    f->deps = malloc((size_t)(ne ? ne : 1) * sizeof *f->deps);
    f->succ = malloc((size_t)(ne ? ne : 1) * sizeof *f->succ);
    if (!f->deps || !f->succ) { free(mark); goto oom; }
    for (int32_t t = 0; t < n; t++) mark[t] = -1;
    for (int32_t t = 0; t < n; t++) {
        int64_t j = f->dep_off[t];
        const int32_t *e = f->edges + f->aref[t];
        for (int32_t k = 0; k < f->node[t]->ndeps; k++)
            if (mark[e[k]] != t) { mark[e[k]] = t; f->deps[j++] = e[k]; f->succ_off[e[k] + 1]++; }
    }
    /* dependents, in increasing id (priority) order */
    for (int32_t t = 0; t < n; t++) f->succ_off[t + 1] += f->succ_off[t];
    for (int32_t t = 0; t < n; t++) mark[t] = 0;
    for (int32_t t = 0; t < n; t++)
        for (int64_t j = f->dep_off[t]; j < f->dep_off[t + 1]; j++) {
            int32_t dd = f->deps[j];
            f->succ[f->succ_off[dd] + mark[dd]++] = t;
        }
    free(mark);

    /* fuse linear chains */
    for (int32_t t = 0; t < n; t++) f->head[t] = 1;
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
        int32_t id = lask__dfs_id(&d, outs[o]);
        f->out_id[o] = id;
        f->keep[id] = 1;
    }
    lask__dfs_free(&d);
    return LASK_OK;
oom:
    st = lask__rt_fail(rt, LASK_ENOMEM, "out of memory preparing a graph of %d tasks", (int)d.n);
out:
    lask__dfs_free(&d);
    lask__frozen_free(f);
    return st;
}
