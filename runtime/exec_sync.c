/*
 * exec_sync.c - the sync executor: every task in the caller's thread, in
 * priority order (the frozen ids), releasing each result once its last
 * dependent has run.
 */
#include <stdlib.h>
#include <time.h>
#include "engine.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int32_t lask__exec_sync(lask_runtime *rt, lask__work *w, const lask_compute_opts *opts,
                        int32_t worker, void *wdata) {
    const lask__frozen *f = &w->f;
    lask_value *res = w->res;
    int32_t n = f->n;
    lask__scratch s;
    /* one thread: the atomic array serves as plain counters */
    int32_t *uses = (int32_t *)w->uses;
    if (lask__scratch_init(&s, f->maxargs) != LASK_OK)
        return lask__rt_fail(rt, LASK_ENOMEM, "out of memory starting a compute of %d tasks", (int)n);
    for (int32_t t = 0; t < n; t++) uses[t] = (int32_t)(f->succ_off[t + 1] - f->succ_off[t]);
    int32_t st = LASK_OK;
    double last = 0;
    if (opts->progress) { opts->progress(0, n, opts->progress_ud); last = now(); }
    for (int32_t t = 0; t < n; t++) {
        if (atomic_load_explicit(&rt->interrupt, memory_order_relaxed)) {
            st = lask__rt_fail(rt, LASK_EINTR, "interrupted after %d of %d tasks", (int)t, (int)n);
            break;
        }
        char *msg = NULL;
        int32_t r = lask__run_task(rt, f, res, t, &s, worker, wdata, &msg);
        if (r != LASK_OK) {
            st = lask__task_failed(rt, f, t, r, msg);
            break;
        }
        for (int64_t j = f->dep_off[t]; j < f->dep_off[t + 1]; j++) {
            int32_t d = f->deps[j];
            if (--uses[d] == 0 && !f->keep[d]) lask_value_clear(&res[d]);
        }
        if (opts->progress && (t & 255) == 255) {
            double tn = now();
            if (tn - last >= 0.1) { opts->progress(t + 1, n, opts->progress_ud); last = tn; }
        }
    }
    if (st == LASK_OK && opts->progress) opts->progress(n, n, opts->progress_ud);
    lask__scratch_free(&s);
    return st;
}
