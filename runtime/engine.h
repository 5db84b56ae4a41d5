/*
 * engine.h - what the runtime's own files share: the runtime object, the
 * kernel context, the frozen graph and the executors. Internal.
 */
#ifndef LASK_ENGINE_H
#define LASK_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include "graph.h"
#include "keymap.h"
#include "task.h"

#define LASK__ERRMAX 8192

typedef struct lask__kernel {
    lask_kernel_fn fn;
    void *ud;
    char *name;
} lask__kernel;

typedef struct lask__pool lask__pool;

struct lask_runtime {
    int32_t nthreads;
    atomic_int interrupt;          /* lock-free: set from signal handlers */
    pthread_mutex_t lock;          /* err, kernels, hooks, pool creation */
    char err[LASK__ERRMAX];
    lask__keymap kernel_index;     /* name -> index into kernels */
    lask__kernel *kernels;
    int32_t nkernels, kcap;
    lask_worker_init_fn init;
    lask_worker_fini_fn fini;
    void *hook_ud;
    lask__pool *pool;              /* NULL until the first threaded compute */
    int pool_started;              /* hooks are fixed from then on */
    pthread_mutex_t compute_lock;  /* one threaded compute at a time */
    struct lask__work *spare;      /* buffers kept for the next computes */
    int32_t nspare;
};

struct lask_ctx {
    lask_runtime *rt;
    const char *key;
    int32_t worker;                /* -1 under sync outside the pool */
    void *wdata;
    char *msg;                     /* lask_ctx_error's copy (malloc) */
    int32_t msg_oom;
};

/* Record a failure message on rt (printf-style); returns st. */
int32_t lask__rt_fail(lask_runtime *rt, int32_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Kernel lookup under the runtime lock; 0 when found. */
int lask__rt_kernel(lask_runtime *rt, const char *name, lask_kernel_fn *fn, void **ud);
/* Register the builtin kernels (kernels.c). */
int32_t lask__register_builtins(lask_runtime *rt);

/* ---- frozen graph: tasks as integers (freeze.c) */

typedef struct lask__frozen {
    int32_t n;                /* tasks; ids are in execution priority order */
    lask__task **node;        /* the walk's (borrowed: outs and g keep them) */
    int64_t *aref;            /* the walk's: first edges[] slot of each task */
    int32_t *edges;           /* the walk's: argument -> dependency id */
    lask_kernel_fn *fn;       /* NULL: a ready value */
    void **ud;
    int64_t *dep_off;         /* distinct dependencies: deps[dep_off[t]..] */
    int32_t *deps;
    int64_t *succ_off;        /* dependents: succ[succ_off[t]..] */
    int32_t *succ;
    int32_t *fnext;           /* fused chain: task run right after t, or -1 */
    uint8_t *head;            /* 1: t is scheduled (not fused into another) */
    uint8_t *keep;            /* 1: an output (its result is not released) */
    int32_t *out_id;          /* id of each output */
    int32_t nouts;
    int32_t nheads;
    int32_t maxargs;          /* largest nargs, for argument buffers */
    int64_t ncap, ecap, ocap; /* capacities of the arrays above */
} lask__frozen;

/* Everything a compute allocates in proportion to the graph. A runtime
 * keeps the buffers of recent computes and hands them to the next one:
 * fresh memory costs a page fault per 4 KB, more than the work itself. */
typedef struct lask__work {
    lask__dfs d;
    lask__frozen f;
    lask_value *res;          /* one result slot per task */
    _Atomic int32_t *count;   /* per task: dependencies not yet done */
    _Atomic int32_t *uses;    /* per task: dependents not yet done */
    int32_t *ready;
    int64_t xcap;             /* capacity of res/count/uses/ready */
    struct lask__work *next;
} lask__work;

lask__work *lask__work_take(lask_runtime *rt);
void lask__work_give(lask_runtime *rt, lask__work *w);
void lask__work_free(lask__work *w);
/* res, count, uses and ready for n tasks; res zeroed. -1 when out of memory. */
int lask__work_exec(lask__work *w, int32_t n);

/* Walk and freeze into w (d and f reused). On failure the message is on rt. */
int32_t lask__freeze(lask_runtime *rt, lask_graph *g, lask__task *const *outs,
                     int32_t nouts, lask__work *w);

/* ---- running tasks (exec.c) */

/* Per-thread scratch for building kernel arguments. */
typedef struct lask__scratch {
    lask_value *vals;
    int64_t *stk;
    int32_t cap;
} lask__scratch;

int32_t lask__scratch_init(lask__scratch *s, int32_t maxargs);
void lask__scratch_free(lask__scratch *s);

/* Run task t: res[t] receives its result. On failure returns the status
 * and leaves the message in *msg (malloc'd, or NULL when out of memory). */
int32_t lask__run_task(lask_runtime *rt, const lask__frozen *f, lask_value *res,
                       int32_t t, lask__scratch *s, int32_t worker, void *wdata,
                       char **msg);
/* Turn a task failure into the runtime's message and status. */
int32_t lask__task_failed(lask_runtime *rt, const lask__frozen *f, int32_t t,
                          int32_t st, char *msg);

/* Executors: run every task of w->f, results in w->res (nil on entry). */
int32_t lask__exec_sync(lask_runtime *rt, lask__work *w, const lask_compute_opts *opts,
                        int32_t worker, void *wdata);
int32_t lask__exec_threads(lask_runtime *rt, lask__work *w, const lask_compute_opts *opts);
void lask__pool_stop(lask_runtime *rt);

/* Pool thread identity (exec_threads.c): worker number and data of the
 * current thread, -1/NULL outside the pool. */
int32_t lask__current_worker(void **wdata);

#endif
