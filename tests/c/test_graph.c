/* test_graph.c - task nodes, the graph map, freezing (cull, dedup, keys,
 * cycles, lists) checked through the sync executor. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "graph.h"
#include "chunk.h"

static lask_arg akey(const char *k) { lask_arg a = {LASK_ARG_KEY, 0, k, {0}}; return a; }
static lask_arg aint(int64_t i) {
    lask_arg a = {LASK_ARG_VALUE, 0, NULL, {0}};
    a.value.type = LASK_INT;
    a.value.u.i = i;
    return a;
}
static lask_arg alist(int32_t n) { lask_arg a = {LASK_ARG_LIST, n, NULL, {0}}; return a; }
static lask_value vint(int64_t i) { lask_value v = {LASK_INT, 0, {.i = i}}; return v; }

static const lask_compute_opts SYNC = {LASK_SCHED_SYNC, 0, NULL, NULL, NULL};

/* counts the calls of a kernel, to see that shared work runs once */
static int32_t k_count(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                       lask_value *out, void *ud) {
    (void)ctx;
    (*(int *)ud)++;
    out->type = LASK_INT;
    out->u.i = nargs ? args[0].u.i : 0;
    return LASK_OK;
}

TEST(sum_of_keys) {
    lask_runtime *rt = lask_runtime_new(1);
    lask_graph *g = lask_graph_new();
    CHECK_EQ_INT(lask_graph_add_value(g, "a", vint(2)), LASK_OK);
    lask_arg b[] = {akey("a"), aint(3)};
    CHECK_EQ_INT(lask_graph_add(g, "b", "add", b, 2), LASK_OK);
    lask_arg c[] = {akey("a"), akey("b"), akey("b")};
    CHECK_EQ_INT(lask_graph_add(g, "c", "sum", c, 3), LASK_OK);
    CHECK_EQ_INT(lask_graph_size(g), 3);
    const char *keys[] = {"c", "b", "a"};
    lask_value r[3];
    CHECK_EQ_INT(lask_compute(rt, g, keys, 3, &SYNC, r), LASK_OK);
    CHECK_EQ_INT(r[0].type, LASK_INT);
    CHECK_EQ_INT(r[0].u.i, 2 + 5 + 5);
    CHECK_EQ_INT(r[1].u.i, 5);
    CHECK_EQ_INT(r[2].u.i, 2);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

TEST(floats_and_ints) {
    lask_runtime *rt = lask_runtime_new(1);
    lask_graph *g = lask_graph_new();
    lask_value f = {LASK_FLOAT, 0, {.f = 0.5}};
    lask_graph_add_value(g, "f", f);
    lask_arg a[] = {aint(1), akey("f")};
    lask_graph_add(g, "x", "add", a, 2);
    const char *k = "x";
    lask_value r;
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &SYNC, &r), LASK_OK);
    CHECK_EQ_INT(r.type, LASK_FLOAT);
    CHECK(r.u.f == 1.5);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

TEST(shared_work_runs_once_and_cull) {
    lask_runtime *rt = lask_runtime_new(1);
    int calls = 0, unused = 0;
    lask_register_kernel(rt, "count", k_count, &calls);
    lask_register_kernel(rt, "unused", k_count, &unused);
    lask_graph *g = lask_graph_new();
    lask_arg one[] = {aint(7)};
    lask_graph_add(g, "s", "count", one, 1);
    lask_arg two[] = {akey("s"), akey("s")};
    lask_graph_add(g, "l", "add", two, 2);
    lask_graph_add(g, "r", "add", two, 2);
    lask_arg lr[] = {akey("l"), akey("r")};
    lask_graph_add(g, "top", "add", lr, 2);
    lask_graph_add(g, "other", "unused", one, 1);
    const char *k = "top";
    lask_value r;
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &SYNC, &r), LASK_OK);
    CHECK_EQ_INT(r.u.i, 28);
    CHECK_EQ_INT(calls, 1);
    CHECK_EQ_INT(unused, 0);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

TEST(missing_key_names_it) {
    lask_runtime *rt = lask_runtime_new(1);
    lask_graph *g = lask_graph_new();
    lask_arg a[] = {akey("nowhere")};
    lask_graph_add(g, "needy", "noop", a, 1);
    const char *k = "needy";
    lask_value r;
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &SYNC, &r), LASK_ENOKEY);
    CHECK_STR_CONTAINS(lask_runtime_error(rt), "'nowhere'");
    CHECK_STR_CONTAINS(lask_runtime_error(rt), "'needy'");
    CHECK_EQ_INT(r.type, LASK_NIL);
    k = "absent";
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &SYNC, &r), LASK_ENOKEY);
    CHECK_STR_CONTAINS(lask_runtime_error(rt), "'absent'");
    CHECK(strcmp(lask_status_string(LASK_ENOKEY), "missing key") == 0);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

TEST(cycle_is_reported) {
    lask_runtime *rt = lask_runtime_new(1);
    lask_graph *g = lask_graph_new();
    lask_arg a[] = {akey("c")}, b[] = {akey("a")}, c[] = {akey("b")};
    lask_graph_add(g, "a", "noop", a, 1);
    lask_graph_add(g, "b", "noop", b, 1);
    lask_graph_add(g, "c", "noop", c, 1);
    lask_arg t[] = {akey("a")};
    lask_graph_add(g, "top", "noop", t, 1);
    const char *k = "top";
    lask_value r;
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &SYNC, &r), LASK_ECYCLE);
    CHECK_STR_CONTAINS(lask_runtime_error(rt), "cycle");
    const char *e = lask_runtime_error(rt);
    CHECK(strstr(e, "'a'") || strstr(e, "'b'") || strstr(e, "'c'"));
    /* a task depending on itself */
    lask_arg s[] = {akey("self")};
    lask_graph_add(g, "self", "noop", s, 1);
    k = "self";
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &SYNC, &r), LASK_ECYCLE);
    CHECK_STR_CONTAINS(lask_runtime_error(rt), "'self'");
    lask_graph_free(g);
    lask_runtime_free(rt);
}

TEST(duplicate_keys) {
    lask_graph *g = lask_graph_new();
    lask_arg a[] = {aint(1), aint(2)}, b[] = {aint(1), aint(3)};
    CHECK_EQ_INT(lask_graph_add(g, "x", "add", a, 2), LASK_OK);
    CHECK_EQ_INT(lask_graph_add(g, "x", "add", a, 2), LASK_OK);   /* same work */
    CHECK_EQ_INT(lask_graph_add(g, "x", "add", b, 2), LASK_EDUPKEY);
    CHECK_STR_CONTAINS(lask_graph_error(g), "'x'");
    CHECK_EQ_INT(lask_graph_add(g, "x", "sum", a, 2), LASK_EDUPKEY);
    CHECK_EQ_INT(lask_graph_size(g), 1);
    lask_graph_free(g);
}

TEST(bad_adds) {
    lask_graph *g = lask_graph_new();
    lask_arg l[] = {alist(3), aint(1), aint(2)};
    CHECK_EQ_INT(lask_graph_add(g, "x", "add", l, 3), LASK_EINVAL);
    CHECK_STR_CONTAINS(lask_graph_error(g), "'x'");
    CHECK_EQ_INT(lask_graph_add(g, NULL, "add", l, 0), LASK_EINVAL);
    CHECK_EQ_INT(lask_graph_add(g, "y", NULL, l, 0), LASK_EINVAL);
    lask_arg bad = {LASK_ARG_VALUE, 0, NULL, {LASK_CHUNK, 0, {.c = NULL}}};
    CHECK_EQ_INT(lask_graph_add(g, "z", "noop", &bad, 1), LASK_EINVAL);
    lask_arg badkind = {99, 0, NULL, {0}};
    CHECK_EQ_INT(lask_graph_add(g, "w", "noop", &badkind, 1), LASK_EINVAL);
    CHECK_EQ_INT(lask_graph_size(g), 0);
    lask_graph_free(g);
}

TEST(unknown_kernel) {
    lask_runtime *rt = lask_runtime_new(1);
    lask_graph *g = lask_graph_new();
    lask_graph_add(g, "x", "no-such-kernel", NULL, 0);
    const char *k = "x";
    lask_value r;
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &SYNC, &r), LASK_ENOKERNEL);
    CHECK_STR_CONTAINS(lask_runtime_error(rt), "no-such-kernel");
    CHECK_STR_CONTAINS(lask_runtime_error(rt), "'x'");
    lask_graph_free(g);
    lask_runtime_free(rt);
}

/* checks the nested list shape len(list(1, list(2, 3), list(), 4)) sees */
static int32_t k_shape(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                       lask_value *out, void *ud) {
    (void)ud;
    if (nargs != 2 || args[0].type != LASK_LIST || args[0].len != 4 || args[1].type != LASK_INT)
        return lask_ctx_error(ctx, "bad top level");
    const lask_value *it = args[0].u.items;
    if (it[0].type != LASK_INT || it[0].u.i != 1) return lask_ctx_error(ctx, "item 1");
    if (it[1].type != LASK_LIST || it[1].len != 2 || it[1].u.items[0].u.i != 2 ||
        it[1].u.items[1].u.i != 3) return lask_ctx_error(ctx, "item 2");
    if (it[2].type != LASK_LIST || it[2].len != 0) return lask_ctx_error(ctx, "item 3");
    if (it[3].type != LASK_INT || it[3].u.i != 4) return lask_ctx_error(ctx, "item 4");
    out->type = LASK_INT;
    out->u.i = args[1].u.i;
    return LASK_OK;
}

TEST(nested_lists) {
    lask_runtime *rt = lask_runtime_new(1);
    lask_register_kernel(rt, "shape", k_shape, NULL);
    lask_graph *g = lask_graph_new();
    lask_graph_add_value(g, "three", vint(3));
    lask_arg a[] = {alist(4), aint(1), alist(2), aint(2), akey("three"), alist(0), aint(4), aint(99)};
    CHECK_EQ_INT(lask_graph_add(g, "s", "shape", a, 8), LASK_OK);
    CHECK_EQ_INT(lask_graph_add(g, "t", "sum", a, 8), LASK_OK);
    lask_arg l[] = {alist(3), aint(1), aint(2), akey("three")};
    CHECK_EQ_INT(lask_graph_add(g, "n", "len", l, 4), LASK_OK);
    const char *keys[] = {"s", "t", "n"};
    lask_value r[3];
    CHECK_EQ_INT(lask_compute(rt, g, keys, 3, &SYNC, r), LASK_OK);
    CHECK_EQ_INT(r[0].u.i, 99);
    CHECK_EQ_INT(r[1].u.i, 1 + 2 + 3 + 4 + 99);
    CHECK_EQ_INT(r[2].u.i, 3);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

TEST(chunks_pass_through) {
    lask_runtime *rt = lask_runtime_new(1);
    lask_graph *g = lask_graph_new();
    lask_chunk *c = lask_bytes_new("hello", 5);
    lask_value v = {LASK_CHUNK, 0, {.c = c}};
    lask_graph_add_value(g, "h", v);
    lask_arg a[] = {akey("h")};
    lask_graph_add(g, "i", "identity", a, 1);
    const char *k = "i";
    lask_value r;
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &SYNC, &r), LASK_OK);
    CHECK(r.type == LASK_CHUNK && r.u.c == c);
    CHECK_EQ_INT(atomic_load(&c->refs), 3);  /* ours, the graph's, the result's */
    lask_value_clear(&r);
    lask_graph_free(g);
    CHECK_EQ_INT(atomic_load(&c->refs), 1);
    lask_chunk_unref(c);
    lask_runtime_free(rt);
}

/* ---- task nodes directly */

static lask__targ tdep(lask__task *t) { lask__targ a; memset(&a, 0, sizeof a); a.kind = LASK__ARG_DEP; a.u.dep = t; return a; }
static lask__targ tval(int64_t i) { lask__targ a; memset(&a, 0, sizeof a); a.kind = LASK__ARG_VALUE; a.u.value = vint(i); return a; }

static int visit_order(lask__task *t, void *ud) {
    char *s = ud;
    strcat(s, lask__task_key(t));
    return 0;
}

TEST(nodes_count_and_walk) {
    lask__targ v = tval(1);
    lask__task *a = lask__task_new("a", "noop", &v, 1);
    lask__task *a2 = lask__task_new("a", "noop", &v, 1);   /* same key: same work */
    lask__targ ab[] = {tdep(a), tdep(a2)};
    lask__task *b = lask__task_new("b", "add", ab, 2);
    lask__targ bc = tdep(b);
    lask__task *c = lask__task_new("c", "noop", &bc, 1);
    lask__task *outs[] = {c, b, a2};
    CHECK_EQ_INT(lask__tasks_count(outs, 3), 3);
    char order[16] = "";
    CHECK_EQ_INT(lask__tasks_walk(outs, 3, visit_order, order), 0);
    CHECK(strcmp(order, "abc") == 0);
    CHECK(strcmp(lask__task_kernel(b), "add") == 0);
    CHECK_EQ_INT(lask__task_nargs(b), 2);
    CHECK(lask__task_args(c)[0].u.dep == b);
    lask_runtime *rt = lask_runtime_new(1);
    lask_value r[3];
    CHECK_EQ_INT(lask__compute_tasks(rt, NULL, outs, 3, &SYNC, r), LASK_OK);
    CHECK_EQ_INT(r[0].u.i, 2);
    CHECK_EQ_INT(r[2].u.i, 1);
    lask_runtime_free(rt);
    lask__task_unref(a); lask__task_unref(a2); lask__task_unref(b); lask__task_unref(c);
    /* malformed nodes */
    lask__targ badlist = {LASK__ARG_LIST, 2, {{0}}};
    CHECK(lask__task_new("x", "noop", &badlist, 1) == NULL);
    CHECK(lask__task_new("x", NULL, NULL, 0) == NULL);
}

static int stop_at_b(lask__task *t, void *ud) {
    (*(int *)ud)++;
    return strcmp(lask__task_key(t), "b") == 0 ? 42 : 0;
}

TEST(walk_stops_early) {
    lask__targ v = tval(1);
    lask__task *a = lask__task_new("a", "noop", &v, 1);
    lask__targ da = tdep(a);
    lask__task *b = lask__task_new("b", "noop", &da, 1);
    lask__targ db = tdep(b);
    lask__task *c = lask__task_new("c", "noop", &db, 1);
    int visits = 0;
    CHECK_EQ_INT(lask__tasks_walk(&c, 1, stop_at_b, &visits), 42);
    CHECK_EQ_INT(visits, 2);
    lask__task_unref(a); lask__task_unref(b); lask__task_unref(c);
}

TEST(million_chain_frees_iteratively) {
    lask__targ v = tval(0);
    lask__task *t = lask__task_new("k0", "noop", &v, 1);
    char key[32];
    for (int i = 1; i < 1000000 && t; i++) {
        snprintf(key, sizeof key, "k%d", i);
        lask__targ d = tdep(t);
        lask__task *n = lask__task_new(key, "noop", &d, 1);
        lask__task_unref(t);   /* the chain holds it now */
        t = n;
    }
    CHECK(t != NULL);
    CHECK_EQ_INT(lask__tasks_count(&t, 1), 1000000);
    lask_runtime *rt = lask_runtime_new(1);
    lask_value r;
    CHECK_EQ_INT(lask__compute_tasks(rt, NULL, &t, 1, &SYNC, &r), LASK_OK);
    CHECK_EQ_INT(r.type, LASK_INT);
    CHECK_EQ_INT(r.u.i, 0);
    lask_runtime_free(rt);
    lask__task_unref(t);
}

int main(void) {
    RUN(sum_of_keys);
    RUN(floats_and_ints);
    RUN(shared_work_runs_once_and_cull);
    RUN(missing_key_names_it);
    RUN(cycle_is_reported);
    RUN(duplicate_keys);
    RUN(bad_adds);
    RUN(unknown_kernel);
    RUN(nested_lists);
    RUN(chunks_pass_through);
    RUN(nodes_count_and_walk);
    RUN(walk_stops_early);
    RUN(million_chain_frees_iteratively);
    return harness_done();
}
