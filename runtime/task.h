/*
 * task.h - the layout of task nodes and the graph walk shared by count,
 * walk and freeze. Internal to the runtime.
 */
#ifndef LASK_TASK_H
#define LASK_TASK_H

#include <stdatomic.h>
#include "graph.h"
#include "keymap.h"

/* One allocation: the header, the arguments, then the key, kernel and key
 * argument strings. Nothing changes after lask__task_new but refs. */
struct lask__task {
    _Atomic int64_t refs;
    lask__task *next_dead;  /* free list while unref tears a graph down */
    uint64_t hash;          /* lask__keyhash(key) */
    const char *key;
    const char *kernel;     /* NULL: a ready value (args[0]) */
    int32_t nargs;          /* flat arguments */
    int32_t ntop;           /* arguments the kernel sees (lists count once) */
    int32_t ndeps;          /* DEP and KEY arguments, repeats included */
    int32_t haslist;
    lask__targ args[];
};

/* The graph map's lookup (graph_map.c); NULL when g does not hold key. */
lask__task *lask__graph_find(const lask_graph *g, const char *key, uint64_t hash);

/* Depth-first walk from the outputs: distinct keys get ids in post-order
 * (dependencies first), which is also the execution priority. For task id,
 * edges[ebase[id] .. ebase[id] + order[id]->ndeps - 1] hold the ids of its
 * DEP/KEY arguments in argument order (-1: not followed). */
typedef struct lask__seenslot {
    lask__task *node;       /* NULL: empty */
    int32_t id;             /* -1 while on the DFS stack */
    uint32_t h;             /* low bits of node->hash */
} lask__seenslot;

typedef struct lask__dfs {
    lask__seenslot *seen;   /* open addressing by key, load <= 1/2 */
    size_t seencap, nseen;
    lask__task **order;
    int64_t *ebase;
    int32_t *edges;
    int32_t n, cap;
    int64_t nedges, ecap;
    void *stack;            /* DFS frames, kept for the next run */
    int64_t scap;
    const char *err_key;    /* ENOKEY: the missing key; ECYCLE: a key on it */
    const char *err_from;   /* the task that needs err_key */
} lask__dfs;

/* strict: KEY arguments are resolved in g (missing -> LASK_ENOKEY) and a
 * cycle is LASK_ECYCLE; otherwise both are skipped (edge -1). d is zeroed
 * or was reset after its last run: its buffers are reused, so repeated
 * computes touch no fresh memory. */
int32_t lask__dfs_run(lask__dfs *d, lask__task *const *outs, int32_t nouts,
                      const lask_graph *g, int strict);
/* Empty the seen set for the next run (the nodes must still be alive). */
void lask__dfs_reset(lask__dfs *d);
void lask__dfs_free(lask__dfs *d);
/* Id of t's key after a successful run, or -1. */
int32_t lask__dfs_id(const lask__dfs *d, const lask__task *t);

/* Deep equality of two nodes' work (kernel and arguments). */
int lask__task_same(const lask__task *a, const lask__task *b);

#endif
