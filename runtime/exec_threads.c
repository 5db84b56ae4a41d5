/*
 * exec_threads.c - the threads executor: a pool of worker threads, created
 * at the first threaded compute and kept until the runtime is freed.
 *
 * A compute is a job. The schedulable unit is a fused chain (freeze.c):
 * its head is pushed on a worker's deque when its dependency count reaches
 * zero; a worker runs the whole chain, then decrements the chain tail's
 * dependents, keeps the first that became ready as its next unit (no deque
 * round trip) and pushes the others. Idle workers steal, then sleep on a
 * condition variable; pushers look at an atomic sleeper count and only
 * take the lock when someone sleeps, so a busy pool makes no syscalls.
 *
 * The thread that called compute does not run tasks (workers own the
 * worker data, e.g. Lua states): it waits, reports progress and turns an
 * interrupt into a stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "deque.h"
#include "engine.h"

typedef struct job {
    lask_runtime *rt;
    const lask__frozen *f;
    lask_value *res;
    _Atomic int32_t *count;     /* dependencies not yet done (chain heads) */
    _Atomic int32_t *uses;      /* dependents not yet done, per result */
    _Atomic int64_t remaining;  /* tasks not yet run */
    atomic_int over;            /* finished or stopped: workers leave */
    atomic_int status;          /* first failure */
    atomic_int sleepers;
    int32_t nworkers;
    int active;                 /* workers inside the job (pool lock) */
    lask__deque *dq;
    /* the first failure's message, put on the runtime when the job ends
     * (a nested compute in a still-running task may set the runtime's
     * message meanwhile) */
    char err[LASK__ERRMAX];
} job;

typedef struct wslot {
    struct lask__pool *pool;
    int32_t id;
    void *wdata;
    lask__scratch scratch;
    pthread_t thread;
} wslot;

struct lask__pool {
    lask_runtime *rt;
    int32_t n;
    wslot *w;
    pthread_mutex_t m;
    pthread_cond_t work_cv;     /* a job was posted, or shutdown */
    pthread_cond_t idle_cv;     /* work was pushed, or the job is over */
    pthread_cond_t done_cv;     /* the job is over and workers left */
    job *job;
    uint64_t seq;
    int shutdown;
    int32_t started;            /* threads past their init hook */
    lask_worker_init_fn init;
    lask_worker_fini_fn fini;
    void *hook_ud;
};

/* Which pool thread are we? (Set once per pool thread.) */
static _Thread_local int32_t tl_worker = -1;
static _Thread_local void *tl_wdata;

int32_t lask__current_worker(void **wdata) {
    *wdata = tl_wdata;
    return tl_worker;
}

int lask__in_worker(void) { return tl_worker >= 0; }

/* ---------------------------------------------------------------- job */

static void wake_all(lask__pool *p) {
    pthread_mutex_lock(&p->m);
    pthread_cond_broadcast(&p->idle_cv);
    pthread_cond_broadcast(&p->done_cv);
    pthread_mutex_unlock(&p->m);
}

/* The first failure wins; its message is the runtime's. t < 0: not a task's
 * failure (an interrupt, or the scheduler out of memory). */
static void fail(lask__pool *p, job *j, int32_t t, int32_t st, char *msg) {
    int expected = LASK_OK;
    int32_t mine = t >= 0 ? (st == LASK_EINTR ? LASK_EINTR : LASK_ETASK) : st;
    if (atomic_compare_exchange_strong(&j->status, &expected, mine)) {
        if (t >= 0)
            snprintf(j->err, sizeof j->err, "task '%s' failed: %s", j->f->node[t]->key,
                     msg ? msg : "out of memory recording the error");
        else
            snprintf(j->err, sizeof j->err, "%s", st == LASK_EINTR ? "interrupted"
                                                  : "out of memory in the scheduler");
    }
    free(msg);
    atomic_store(&j->over, 1);
    wake_all(p);
}

/* Work was pushed: wake sleepers (the RMW orders our push before reading
 * the count, pairing with the sleeper's increment before it looks). */
static void wake(lask__pool *p, job *j, int pushed) {
    if (atomic_fetch_add_explicit(&j->sleepers, 0, memory_order_seq_cst) > 0) {
        pthread_mutex_lock(&p->m);
        if (pushed > 1) pthread_cond_broadcast(&p->idle_cv);
        else pthread_cond_signal(&p->idle_cv);
        pthread_mutex_unlock(&p->m);
    }
}

static int work_visible(job *j) {
    for (int32_t i = 0; i < j->nworkers; i++)
        if (lask__dq_nonempty(&j->dq[i])) return 1;
    return 0;
}

static void release_deps(job *j, int32_t t) {
    const lask__frozen *f = j->f;
    for (int64_t k = f->dep_off[t]; k < f->dep_off[t + 1]; k++) {
        int32_t d = f->deps[k];
        if (f->keep[d]) continue;
        if (f->succ_off[d + 1] - f->succ_off[d] == 1 ||
            atomic_fetch_sub_explicit(&j->uses[d], 1, memory_order_acq_rel) == 1)
            lask_value_clear(&j->res[d]);
    }
}

/* Run unit u (a chain head) and whatever becomes ready after it that we
 * keep for ourselves. */
static void run_unit(lask__pool *p, job *j, wslot *ws, int32_t u) {
    const lask__frozen *f = j->f;
    lask__deque *q = &j->dq[ws->id];
    int32_t t = u;
    for (;;) {
        int64_t ran = 0;
        for (;;) {
            if (atomic_load_explicit(&j->rt->interrupt, memory_order_relaxed)) {
                fail(p, j, -1, LASK_EINTR, NULL);
                return;
            }
            char *msg = NULL;
            int32_t st = lask__run_task(j->rt, f, j->res, t, &ws->scratch, ws->id, ws->wdata, &msg);
            if (st != LASK_OK) {
                fail(p, j, t, st, msg);
                return;
            }
            release_deps(j, t);
            ran++;
            if (f->fnext[t] < 0) break;
            t = f->fnext[t];
        }
        if (atomic_fetch_sub_explicit(&j->remaining, ran, memory_order_acq_rel) == ran) {
            atomic_store(&j->over, 1);      /* that was the last task */
            wake_all(p);
            return;
        }
        /* dependents of the chain tail, highest id first so that the
         * lowest (first in priority) is the one we run next */
        int32_t next = -1;
        int pushed = 0;
        for (int64_t k = f->succ_off[t + 1] - 1; k >= f->succ_off[t]; k--) {
            int32_t s = f->succ[k];
            if (atomic_fetch_sub_explicit(&j->count[s], 1, memory_order_acq_rel) != 1) continue;
            if (next >= 0) {
                if (lask__dq_push(q, next) != 0) { fail(p, j, -1, LASK_ENOMEM, NULL); return; }
                pushed++;
            }
            next = s;
        }
        if (pushed) wake(p, j, pushed);
        if (next < 0 || atomic_load_explicit(&j->over, memory_order_relaxed)) return;
        t = next;
    }
}

/* A polite spin: let the other hyperthread run. */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int32_t steal(job *j, int32_t self) {
    int32_t n = j->nworkers;
    for (int32_t k = 1; k < n; k++) {
        lask__deque *v = &j->dq[(self + k) % n];
        int32_t x;
        while ((x = lask__dq_steal(v)) == LASK__DQ_ABORT) {}
        if (x >= 0) return x;
    }
    return -1;
}

static void run_job(lask__pool *p, job *j, wslot *ws) {
    if (ws->scratch.cap < j->f->maxargs) {
        lask__scratch_free(&ws->scratch);
        if (lask__scratch_init(&ws->scratch, j->f->maxargs) != LASK_OK) {
            fail(p, j, -1, LASK_ENOMEM, NULL);
            return;
        }
    }
    lask__deque *q = &j->dq[ws->id];
    int idle = 0;
    while (!atomic_load_explicit(&j->over, memory_order_acquire)) {
        int32_t u = lask__dq_take(q);
        if (u < 0) u = steal(j, ws->id);
        if (u >= 0) {
            idle = 0;
            run_unit(p, j, ws, u);
            continue;
        }
        if (++idle < 64) {
            cpu_relax();
            continue;
        }
        /* nothing to do: sleep until a push or the end */
        pthread_mutex_lock(&p->m);
        atomic_fetch_add_explicit(&j->sleepers, 1, memory_order_seq_cst);
        if (!work_visible(j) && !atomic_load(&j->over))
            pthread_cond_wait(&p->idle_cv, &p->m);
        atomic_fetch_sub_explicit(&j->sleepers, 1, memory_order_seq_cst);
        pthread_mutex_unlock(&p->m);
        idle = 0;
    }
}

/* ---------------------------------------------------------------- pool */

static void *worker_main(void *arg) {
    wslot *ws = arg;
    lask__pool *p = ws->pool;
    tl_worker = ws->id;
    if (p->init) ws->wdata = p->init(p->rt, ws->id, p->hook_ud);
    tl_wdata = ws->wdata;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->m);
    p->started++;
    pthread_cond_broadcast(&p->done_cv);
    for (;;) {
        while (!p->shutdown && !(p->job && p->seq != seen && ws->id < p->job->nworkers))
            pthread_cond_wait(&p->work_cv, &p->m);
        if (p->shutdown) break;
        seen = p->seq;
        job *j = p->job;
        j->active++;
        pthread_mutex_unlock(&p->m);
        run_job(p, j, ws);
        pthread_mutex_lock(&p->m);
        if (--j->active == 0) pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->m);
    if (p->fini) p->fini(ws->wdata, p->hook_ud);
    lask__scratch_free(&ws->scratch);
    return NULL;
}

static void pool_destroy(lask__pool *p) {
    pthread_mutex_lock(&p->m);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->m);
    for (int32_t i = 0; i < p->n; i++) pthread_join(p->w[i].thread, NULL);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->idle_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->m);
    free(p->w);
    free(p);
}

/* Start the pool (compute_lock held). Fewer threads than asked is fine; none
 * is a failure. */
static lask__pool *pool_start(lask_runtime *rt) {
    lask__pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->w = calloc((size_t)rt->nthreads, sizeof *p->w);
    if (!p->w) { free(p); return NULL; }
    p->rt = rt;
    pthread_mutex_lock(&rt->lock);
    p->init = rt->init;
    p->fini = rt->fini;
    p->hook_ud = rt->hook_ud;
    pthread_mutex_unlock(&rt->lock);
    pthread_mutex_init(&p->m, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->idle_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    for (int32_t i = 0; i < rt->nthreads; i++) {
        p->w[i].pool = p;
        p->w[i].id = i;
        if (pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]) != 0) break;
        p->n++;
    }
    if (p->n == 0) { pool_destroy(p); return NULL; }
    /* every worker has its data before the first job is posted */
    pthread_mutex_lock(&p->m);
    while (p->started < p->n) pthread_cond_wait(&p->done_cv, &p->m);
    pthread_mutex_unlock(&p->m);
    return p;
}

void lask__pool_stop(lask_runtime *rt) {
    if (rt->pool) pool_destroy(rt->pool);
    rt->pool = NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int32_t lask__exec_threads(lask_runtime *rt, lask__work *w, const lask_compute_opts *opts) {
    const lask__frozen *f = &w->f;
    /* one threaded compute at a time per runtime; the pool starts under
     * this lock only (worker init hooks may register kernels, which takes
     * rt->lock) */
    pthread_mutex_lock(&rt->compute_lock);
    pthread_mutex_lock(&rt->lock);
    lask__pool *p = rt->pool;
    rt->pool_started = 1;
    pthread_mutex_unlock(&rt->lock);
    if (!p) {
        p = pool_start(rt);
        pthread_mutex_lock(&rt->lock);
        rt->pool = p;
        rt->pool_started = p != NULL;
        pthread_mutex_unlock(&rt->lock);
    }
    if (!p) {
        pthread_mutex_unlock(&rt->compute_lock);
        return lask__rt_fail(rt, LASK_ENOMEM, "could not start worker threads");
    }

    int32_t n = f->n;
    int32_t nw = opts->num_workers > 0 && opts->num_workers < p->n ? opts->num_workers : p->n;
    job j;
    memset(&j, 0, sizeof j);
    j.rt = rt;
    j.f = f;
    j.res = w->res;
    j.nworkers = nw;
    atomic_init(&j.remaining, n);
    atomic_init(&j.over, 0);
    atomic_init(&j.status, LASK_OK);
    atomic_init(&j.sleepers, 0);
    j.count = w->count;
    j.uses = w->uses;
    int32_t *ready = w->ready;
    j.dq = aligned_alloc(64, (size_t)nw * sizeof *j.dq);
    int32_t st = LASK_OK, nready = 0, dqinit = 0;
    if (!j.dq) goto oom;
    for (int32_t t = 0; t < n; t++) {
        int32_t nd = (int32_t)(f->dep_off[t + 1] - f->dep_off[t]);
        atomic_init(&j.count[t], nd);
        atomic_init(&j.uses[t], (int32_t)(f->succ_off[t + 1] - f->succ_off[t]));
        if (f->head[t] && nd == 0) ready[nready++] = t;
    }
    /* ready chains in contiguous blocks, each block pushed highest id first
     * so a worker starts with its lowest (depth-first from the start) */
    for (; dqinit < nw; dqinit++)
        if (lask__dq_init(&j.dq[dqinit], (int64_t)nready / nw + 64) != 0) goto oom;
    for (int32_t w = 0; w < nw; w++) {
        int32_t lo = (int32_t)((int64_t)nready * w / nw), hi = (int32_t)((int64_t)nready * (w + 1) / nw);
        for (int32_t i = hi - 1; i >= lo; i--)
            if (lask__dq_push(&j.dq[w], ready[i]) != 0) goto oom;
    }

    pthread_mutex_lock(&p->m);
    p->job = &j;
    p->seq++;
    pthread_cond_broadcast(&p->work_cv);
    double last = now();
    int64_t reported = -1;
    if (opts->progress) {
        pthread_mutex_unlock(&p->m);
        opts->progress(0, n, opts->progress_ud);
        reported = 0;
        pthread_mutex_lock(&p->m);
    }
    while (!(atomic_load(&j.over) && j.active == 0)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000;
        if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
        pthread_cond_timedwait(&p->done_cv, &p->m, &ts);
        if (!atomic_load(&j.over) && atomic_load_explicit(&rt->interrupt, memory_order_relaxed)) {
            pthread_mutex_unlock(&p->m);
            fail(p, &j, -1, LASK_EINTR, NULL);
            pthread_mutex_lock(&p->m);
        }
        if (opts->progress && !atomic_load(&j.over) && now() - last >= 0.1) {
            int64_t done = n - atomic_load(&j.remaining);
            if (done != reported) {
                pthread_mutex_unlock(&p->m);
                opts->progress(done, n, opts->progress_ud);
                pthread_mutex_lock(&p->m);
                reported = done;
            }
            last = now();
        }
    }
    p->job = NULL;
    pthread_mutex_unlock(&p->m);
    st = atomic_load(&j.status);
    if (st != LASK_OK) lask__rt_fail(rt, st, "%s", j.err);
    if (st == LASK_OK && opts->progress) opts->progress(n, n, opts->progress_ud);
    goto out;
oom:
    st = lask__rt_fail(rt, LASK_ENOMEM, "out of memory starting a compute of %d tasks", (int)n);
out:
    pthread_mutex_unlock(&rt->compute_lock);
    for (int32_t i = 0; i < dqinit; i++) lask__dq_free(&j.dq[i]);
    free(j.dq);
    return st;
}
