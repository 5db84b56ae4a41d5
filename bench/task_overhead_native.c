/*
 * task_overhead_native.c - per-task cost of the runtime alone: 1000 chains
 * of 100 builtin "noop" tasks plus a tree "add" over the chain ends (about
 * 101k tasks), built through the public graph API and as task nodes (the
 * Lua bridge's path), computed on threads and sync.
 *
 *   make && cc -O2 -Iruntime bench/task_overhead_native.c build/liblask.a \
 *       -lpthread -lm -o build/task_overhead_native && build/task_overhead_native
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "graph.h"

#define NCHAINS 1000
#define LEN 100

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static lask_graph *build_graph(char *root, int64_t *ntasks) {
    lask_graph *g = lask_graph_new();
    char key[64], prev[64];
    char (*ends)[64] = malloc(NCHAINS * sizeof *ends);
    for (int c = 0; c < NCHAINS; c++) {
        for (int i = 0; i < LEN; i++) {
            snprintf(key, sizeof key, "noop-%d-%d", c, i);
            lask_arg a = {LASK_ARG_KEY, 0, prev, {0}};
            if (i == 0) { a.kind = LASK_ARG_VALUE; a.value.type = LASK_INT; a.value.u.i = c; }
            lask_graph_add(g, key, "noop", &a, 1);
            memcpy(prev, key, sizeof key);
        }
        memcpy(ends[c], prev, sizeof prev);
    }
    int n = NCHAINS, level = 0;
    while (n > 1) {
        int m = 0;
        for (int i = 0; i < n; i += 2, m++) {
            snprintf(key, sizeof key, "add-%d-%d", level, m);
            lask_arg a[2] = {{LASK_ARG_KEY, 0, ends[i], {0}}, {LASK_ARG_KEY, 0, ends[i + 1 < n ? i + 1 : i], {0}}};
            lask_graph_add(g, key, "add", a, i + 1 < n ? 2 : 1);
            memcpy(ends[m], key, sizeof key);
        }
        n = m;
        level++;
    }
    memcpy(root, ends[0], 64);
    free(ends);
    *ntasks = lask_graph_size(g);
    return g;
}

static lask__task *build_nodes(void) {
    char key[64];
    lask__task **ends = malloc(NCHAINS * sizeof *ends);
    for (int c = 0; c < NCHAINS; c++) {
        lask__task *prev = NULL;
        for (int i = 0; i < LEN; i++) {
            snprintf(key, sizeof key, "noop-%d-%d", c, i);
            lask__targ a;
            memset(&a, 0, sizeof a);
            if (i == 0) { a.kind = LASK__ARG_VALUE; a.u.value.type = LASK_INT; a.u.value.u.i = c; }
            else { a.kind = LASK__ARG_DEP; a.u.dep = prev; }
            lask__task *t = lask__task_new(key, "noop", &a, 1);
            lask__task_unref(prev);
            prev = t;
        }
        ends[c] = prev;
    }
    int n = NCHAINS, level = 0;
    while (n > 1) {
        int m = 0;
        for (int i = 0; i < n; i += 2, m++) {
            snprintf(key, sizeof key, "add-%d-%d", level, m);
            lask__targ a[2];
            memset(a, 0, sizeof a);
            a[0].kind = a[1].kind = LASK__ARG_DEP;
            a[0].u.dep = ends[i];
            a[1].u.dep = ends[i + 1 < n ? i + 1 : i];
            lask__task *t = lask__task_new(key, "add", a, i + 1 < n ? 2 : 1);
            lask__task_unref(ends[i]);
            if (i + 1 < n) lask__task_unref(ends[i + 1]);
            ends[m] = t;
        }
        n = m;
        level++;
    }
    lask__task *root = ends[0];
    free(ends);
    return root;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    lask_runtime *rt = lask_runtime_new(0);
    char root[64];
    double t0 = now();
    int64_t n;
    lask_graph *g = build_graph(root, &n);
    double tb = now() - t0;
    printf("tasks: %lld, runtime threads: %d\n", (long long)n, (int)lask_runtime_nthreads(rt));
    printf("graph build (lask_graph_add):     %6.3f us/task\n", tb / (double)n * 1e6);
    t0 = now();
    lask__task *node = build_nodes();
    tb = now() - t0;
    printf("graph build (task nodes):         %6.3f us/task\n", tb / (double)n * 1e6);
    const char *k = root;
    struct { const char *name; int sched, nw, nodes; } cases[] = {
        {"threads, all workers, graph", LASK_SCHED_THREADS, 0, 0},
        {"threads, all workers, nodes", LASK_SCHED_THREADS, 0, 1},
        {"threads, 1 worker,    nodes", LASK_SCHED_THREADS, 1, 1},
        {"sync,                 nodes", LASK_SCHED_SYNC, 0, 1},
    };
    int64_t want = 0;
    for (int c = 0; c < NCHAINS; c++) want += c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lask_compute_opts o = {cases[i].sched, cases[i].nw, NULL, NULL, NULL};
        double best = 1e9;
        for (int r = 0; r < reps; r++) {
            lask_value v = {LASK_NIL, 0, {0}};
            t0 = now();
            int32_t st = cases[i].nodes ? lask__compute_tasks(rt, NULL, &node, 1, &o, &v)
                                        : lask_compute(rt, g, &k, 1, &o, &v);
            double t = now() - t0;
            if (st != LASK_OK || v.type != LASK_INT || v.u.i != want) {
                fprintf(stderr, "wrong result: %s\n", lask_runtime_error(rt));
                return 1;
            }
            if (t < best) best = t;
            if (getenv("VERBOSE")) printf("  rep %d: %.3f us/task\n", r, t / (double)n * 1e6);
        }
        printf("compute %s: %6.3f us/task (best of %d)\n", cases[i].name, best / (double)n * 1e6, reps);
    }
    lask__task_unref(node);
    lask_graph_free(g);
    lask_runtime_free(rt);
    return 0;
}
