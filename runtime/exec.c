/*
 * exec.c - what both executors share: running one task (building its
 * argument values without allocating), reporting failures, and the compute
 * entry points.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"

int32_t lask__scratch_init(lask__scratch *s, int32_t maxargs) {
    int32_t cap = maxargs > 8 ? maxargs : 8;
    s->vals = malloc((size_t)cap * sizeof *s->vals);
    s->stk = malloc((size_t)cap * 2 * sizeof *s->stk);
    s->cap = cap;
    if (!s->vals || !s->stk) {
        lask__scratch_free(s);
        return LASK_ENOMEM;
    }
    return LASK_OK;
}

void lask__scratch_free(lask__scratch *s) {
    free(s->vals);
    free(s->stk);
    s->vals = NULL;
    s->stk = NULL;
    s->cap = 0;
}

/* Arguments in flat prefix order become values: top-level ones first, then
 * each list's items in one contiguous run (the kernel sees u.items). */
static void build_args(const lask__frozen *f, const lask_value *res, int32_t t,
                       lask_value *vals, int64_t *stk) {
    const lask__task *x = f->node[t];
    const int32_t *e = f->edges + f->aref[t];
    int32_t k = 0;
    if (!x->haslist) {
        for (int32_t i = 0; i < x->nargs; i++) {
            const lask__targ *a = &x->args[i];
            vals[i] = a->kind == LASK__ARG_VALUE ? a->u.value : res[e[k++]];
        }
        return;
    }
    int64_t top = 0, cursor = x->ntop, sp = 0;   /* stk: (pos, remaining) pairs */
    for (int32_t i = 0; i < x->nargs; i++) {
        const lask__targ *a = &x->args[i];
        int64_t slot;
        if (sp) { slot = stk[2 * sp - 2]++; stk[2 * sp - 1]--; }
        else slot = top++;
        switch (a->kind) {
        case LASK__ARG_VALUE: vals[slot] = a->u.value; break;
        case LASK__ARG_LIST:
            vals[slot].type = LASK_LIST;
            vals[slot].len = a->n;
            vals[slot].u.items = vals + cursor;
            if (a->n > 0) { stk[2 * sp] = cursor; stk[2 * sp + 1] = a->n; sp++; }
            cursor += a->n;
            break;
        default: vals[slot] = res[e[k++]]; break;
        }
        while (sp && stk[2 * sp - 1] == 0) sp--;
    }
}

int32_t lask__run_task(lask_runtime *rt, const lask__frozen *f, lask_value *res,
                       int32_t t, lask__scratch *s, int32_t worker, void *wdata,
                       char **msg) {
    const lask__task *x = f->node[t];
    lask_value *out = &res[t];
    if (!f->fn[t]) {                      /* a ready value */
        *out = x->args[0].u.value;
        if (out->type == LASK_CHUNK) lask_chunk_ref(out->u.c);
        return LASK_OK;
    }
    build_args(f, res, t, s->vals, s->stk);
    lask_ctx ctx = {rt, x->key, worker, wdata, NULL, 0};
    out->type = LASK_NIL;
    out->len = 0;
    out->u.i = 0;
    int32_t st = f->fn[t](&ctx, s->vals, x->ntop, out, f->ud[t]);
    if (st == LASK_OK && (out->type < LASK_NIL || out->type > LASK_CHUNK ||
                          (out->type == LASK_CHUNK && !out->u.c))) {
        if (out->type == LASK_CHUNK) out->type = LASK_NIL;
        st = lask_ctx_error(&ctx, out->type == LASK_LIST ? "kernel returned a list (not a value)"
                                                         : "kernel returned a bad value");
        out->type = LASK_NIL;
    }
    if (st == LASK_OK) {
        free(ctx.msg);   /* a message without a failure: not ours to show */
        return LASK_OK;
    }
    lask_value_clear(out);
    if (!ctx.msg && !ctx.msg_oom) {
        char buf[160];
        snprintf(buf, sizeof buf, "kernel '%s' returned status %d (%s)", x->kernel,
                 (int)st, lask_status_string(st));
        ctx.msg = strdup(buf);
    }
    *msg = ctx.msg;
    return st;
}

int32_t lask__task_failed(lask_runtime *rt, const lask__frozen *f, int32_t t,
                          int32_t st, char *msg) {
    int32_t rst = st == LASK_EINTR ? LASK_EINTR : LASK_ETASK;
    lask__rt_fail(rt, rst, "task '%s' failed: %s", f->node[t]->key,
                  msg ? msg : "out of memory recording the error");
    free(msg);
    return rst;
}

/* A compute started on a pool thread, or from the thread already driving a
 * threaded compute (a progress callback), runs sync: it must not wait on
 * the pool it is part of. tl_depth counts the computes running on this
 * thread; only the outermost one owns the interrupt flag. */
static _Thread_local int tl_driving, tl_depth;

int32_t lask__compute_tasks(lask_runtime *rt, lask_graph *g,
                            lask__task *const *outs, int32_t nouts,
                            const lask_compute_opts *opts, lask_value *results) {
    if (!rt) return LASK_EINVAL;
    if (nouts < 0 || (nouts > 0 && (!outs || !results)))
        return lask__rt_fail(rt, LASK_EINVAL, "compute: bad outputs (%d)", (int)nouts);
    for (int32_t o = 0; o < nouts; o++) {
        results[o].type = LASK_NIL;
        results[o].len = 0;
        results[o].u.i = 0;
    }
    /* nothing asked, nothing to run: the frozen arrays would be empty */
    if (nouts == 0) return LASK_OK;
    lask_compute_opts dflt = {LASK_SCHED_THREADS, 0, NULL, NULL, NULL};
    if (!opts) opts = &dflt;
    if (opts->scheduler != LASK_SCHED_THREADS && opts->scheduler != LASK_SCHED_SYNC)
        return lask__rt_fail(rt, LASK_EINVAL, "compute: unknown scheduler %d", (int)opts->scheduler);
    if (opts->num_workers < 0)
        return lask__rt_fail(rt, LASK_EINVAL, "compute: num_workers is %d", (int)opts->num_workers);

    void *wdata = NULL;
    int32_t worker = lask__current_worker(&wdata);
    int force_sync = worker >= 0 || tl_driving;
    int outermost = worker < 0 && tl_depth == 0;
    /* an interrupt before this compute began is for an earlier one */
    if (outermost) atomic_store_explicit(&rt->interrupt, 0, memory_order_relaxed);

    lask__work *w = lask__work_take(rt);
    if (!w) return lask__rt_fail(rt, LASK_ENOMEM, "out of memory starting a compute");
    int32_t st = lask__freeze(rt, g, outs, nouts, w);
    const lask__frozen *f = &w->f;
    if (st == LASK_OK && lask__work_exec(w, f->n) != 0)
        st = lask__rt_fail(rt, LASK_ENOMEM, "out of memory for %d results", (int)f->n);
    if (st == LASK_OK) {
        tl_depth++;
        if (opts->scheduler == LASK_SCHED_SYNC || force_sync || f->n == 0) {
            if (worker < 0) wdata = opts->sync_worker_data;
            st = lask__exec_sync(rt, w, opts, worker, wdata);
        } else {
            tl_driving = 1;
            st = lask__exec_threads(rt, w, opts);
            tl_driving = 0;
        }
        tl_depth--;
        if (st == LASK_OK) {
            for (int32_t o = 0; o < nouts; o++) {
                results[o] = w->res[f->out_id[o]];
                if (results[o].type == LASK_CHUNK) lask_chunk_ref(results[o].u.c);
            }
        }
        for (int32_t t = 0; t < f->n; t++) lask_value_clear(&w->res[t]);
    }
    lask__work_give(rt, w);
    if (outermost) atomic_store_explicit(&rt->interrupt, 0, memory_order_relaxed);
    return st;
}

int32_t lask_compute(lask_runtime *rt, lask_graph *g, const char *const *keys,
                     int32_t nkeys, const lask_compute_opts *opts,
                     lask_value *results) {
    if (!rt) return LASK_EINVAL;
    if (!g) return lask__rt_fail(rt, LASK_EINVAL, "lask_compute: graph is NULL");
    if (nkeys < 0 || (nkeys > 0 && (!keys || !results)))
        return lask__rt_fail(rt, LASK_EINVAL, "lask_compute: bad keys (%d)", (int)nkeys);
    for (int32_t i = 0; i < nkeys; i++) {
        results[i].type = LASK_NIL;
        results[i].len = 0;
        results[i].u.i = 0;
    }
    lask__task *small[16];
    lask__task **outs = nkeys <= 16 ? small : malloc((size_t)nkeys * sizeof *outs);
    if (!outs) return lask__rt_fail(rt, LASK_ENOMEM, "out of memory");
    int32_t st = LASK_OK;
    for (int32_t i = 0; i < nkeys && st == LASK_OK; i++) {
        outs[i] = keys[i] ? lask__graph_find(g, keys[i], lask__keyhash(keys[i])) : NULL;
        if (!keys[i])
            st = lask__rt_fail(rt, LASK_EINVAL, "lask_compute: key %d is NULL", (int)i + 1);
        else if (!outs[i])
            st = lask__rt_fail(rt, LASK_ENOKEY, "missing key '%s' (asked for by compute)", keys[i]);
    }
    if (st == LASK_OK) st = lask__compute_tasks(rt, g, outs, nkeys, opts, results);
    if (outs != small) free(outs);
    return st;
}
