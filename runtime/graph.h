/*
 * graph.h - task nodes, the runtime's internal form of a task graph.
 *
 * A task node is immutable and reference counted; its arguments point at the
 * nodes they depend on directly, so the Lua bridge builds graphs without any
 * key lookups and a compute walks pointers. The public lask_graph is a map
 * from key to node whose arguments name keys (LASK__ARG_KEY); those are
 * resolved through the map when computing.
 *
 * Two distinct nodes with the same key are the same work: a compute runs it
 * once. A node with no kernel holds a ready value (a literal, or a result
 * kept by persist).
 */
#ifndef LASK_GRAPH_H
#define LASK_GRAPH_H

#include "lask.h"

typedef struct lask__task lask__task;

typedef enum lask__argkind {
    LASK__ARG_VALUE = 0,   /* u.value: a literal (the node owns a chunk ref) */
    LASK__ARG_DEP = 1,     /* u.dep: another node (the node owns a ref) */
    LASK__ARG_KEY = 2,     /* u.key: a key to resolve in a lask_graph */
    LASK__ARG_LIST = 3     /* n: the next n arguments form a list */
} lask__argkind;

typedef struct lask__targ {
    int32_t kind;
    int32_t n;
    union {
        lask_value value;
        lask__task *dep;
        const char *key;
    } u;
} lask__targ;

/* A node computing key = kernel(args...). key, kernel and args are copied
 * (chunk and dep references taken). kernel NULL with one VALUE argument
 * makes a ready-value node. NULL when out of memory or malformed. */
lask__task *lask__task_new(const char *key, const char *kernel,
                           const lask__targ *args, int32_t nargs);
lask__task *lask__task_ref(lask__task *t);
/* Drops a reference; freeing a long chain does not recurse. */
void lask__task_unref(lask__task *t);

const char *lask__task_key(const lask__task *t);
const char *lask__task_kernel(const lask__task *t);   /* NULL: ready value */
int32_t lask__task_nargs(const lask__task *t);
const lask__targ *lask__task_args(const lask__task *t);

/* Number of distinct keys reachable from outs (like len(dask graph)); -1
 * when out of memory. */
int64_t lask__tasks_count(lask__task *const *outs, int32_t nouts);

/* Visit every distinct node reachable from outs once, dependencies before
 * dependents; stops early when fn returns non-zero (and returns that).
 * -LASK_ENOMEM (before any visit) when out of memory. */
typedef int (*lask__visit_fn)(lask__task *t, void *ud);
int lask__tasks_walk(lask__task *const *outs, int32_t nouts,
                     lask__visit_fn fn, void *ud);

/* Compute outs; results[i] receives an owned value. g (may be NULL)
 * resolves LASK__ARG_KEY arguments. Errors are recorded on rt. */
int32_t lask__compute_tasks(lask_runtime *rt, lask_graph *g,
                            lask__task *const *outs, int32_t nouts,
                            const lask_compute_opts *opts, lask_value *results);

/* Inside a running kernel on a pool thread? (A compute started from a task
 * runs on the sync scheduler, so workers never wait on themselves.) */
int lask__in_worker(void);

#endif
