/*
 * host.c - embedding lask in a C program.
 *
 * Part 1 drives the runtime from C alone (runtime/lask.h): a native kernel
 * of our own, a graph of tasks keyed by name, a compute on the thread pool,
 * and the errors a bad graph gives. Part 2 opens a Lua state, loads lask
 * (luaopen_lask) and runs a Lua workflow script. Every step checks its
 * result; the last line is "N passed, M failed".
 *
 *   build/embed_host examples/embed/workflow.lua
 */
#include <stdio.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "lask.h"

int luaopen_lask(lua_State *L);

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) passed++;
    else { failed++; fprintf(stderr, "FAILED: %s\n", what); }
}

/* square(x) for an integer x */
static int32_t k_square(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                        lask_value *out, void *ud) {
    (void)ud;
    if (nargs != 1 || args[0].type != LASK_INT)
        return lask_ctx_error(ctx, "square: expected one integer");
    out->type = LASK_INT;
    out->u.i = args[0].u.i * args[0].u.i;
    return LASK_OK;
}

/* sum(list of integers) */
static int32_t k_sum(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                     lask_value *out, void *ud) {
    (void)ud;
    if (nargs != 1 || args[0].type != LASK_LIST)
        return lask_ctx_error(ctx, "sum: expected one list");
    int64_t s = 0;
    for (int32_t i = 0; i < args[0].len; i++) {
        if (args[0].u.items[i].type != LASK_INT) return lask_ctx_error(ctx, "sum: not an integer");
        s += args[0].u.items[i].u.i;
    }
    out->type = LASK_INT;
    out->u.i = s;
    return LASK_OK;
}

static void c_part(void) {
    lask_runtime *rt = lask_runtime_new(0);
    check(rt != NULL, "lask_runtime_new");
    if (!rt) return;
    check(lask_register_kernel(rt, "host.square", k_square, NULL) == LASK_OK, "register square");
    check(lask_register_kernel(rt, "host.sum", k_sum, NULL) == LASK_OK, "register sum");

    /* total = sum(square(1), ..., square(100)) */
    lask_graph *g = lask_graph_new();
    enum { N = 100 };
    lask_arg list[N + 1];
    char keys[N][32];
    list[0] = (lask_arg){LASK_ARG_LIST, N, NULL, {LASK_NIL, 0, {0}}};
    int added = 1;
    for (int i = 0; i < N; i++) {
        char xkey[32];
        snprintf(xkey, sizeof xkey, "x-%d", i + 1);
        snprintf(keys[i], sizeof keys[i], "square-%d", i + 1);
        lask_value v = {LASK_INT, 0, {.i = i + 1}};
        added &= lask_graph_add_value(g, xkey, v) == LASK_OK;
        lask_arg a = {LASK_ARG_KEY, 0, xkey, {LASK_NIL, 0, {0}}};
        added &= lask_graph_add(g, keys[i], "host.square", &a, 1) == LASK_OK;
        list[i + 1] = (lask_arg){LASK_ARG_KEY, 0, keys[i], {LASK_NIL, 0, {0}}};
    }
    added &= lask_graph_add(g, "total", "host.sum", list, N + 1) == LASK_OK;
    check(added, lask_graph_error(g));
    check(lask_graph_size(g) == 2 * N + 1, "graph size");

    const char *want[] = {"total", "square-7"};
    lask_value res[2];
    int32_t st = lask_compute(rt, g, want, 2, NULL, res);
    check(st == LASK_OK, lask_runtime_error(rt));
    check(st == LASK_OK && res[0].type == LASK_INT && res[0].u.i == 338350, "sum of squares 1..100");
    check(st == LASK_OK && res[1].type == LASK_INT && res[1].u.i == 49, "square of 7");
    if (st == LASK_OK) { lask_value_clear(&res[0]); lask_value_clear(&res[1]); }

    lask_compute_opts sync = {LASK_SCHED_SYNC, 0, NULL, NULL, NULL};
    st = lask_compute(rt, g, want, 1, &sync, res);
    check(st == LASK_OK && res[0].u.i == 338350, "sum of squares on sync");
    if (st == LASK_OK) lask_value_clear(&res[0]);

    /* a task naming a key that is not in the graph */
    lask_arg missing = {LASK_ARG_KEY, 0, "nowhere", {LASK_NIL, 0, {0}}};
    lask_graph_add(g, "orphan", "host.square", &missing, 1);
    const char *o[] = {"orphan"};
    st = lask_compute(rt, g, o, 1, NULL, res);
    check(st == LASK_ENOKEY, "missing dependency gives LASK_ENOKEY");
    check(strstr(lask_runtime_error(rt), "nowhere") != NULL, "the error names the missing key");
    lask_graph_free(g);

    /* a cycle a -> b -> a */
    g = lask_graph_new();
    lask_arg ab = {LASK_ARG_KEY, 0, "b", {LASK_NIL, 0, {0}}};
    lask_arg ba = {LASK_ARG_KEY, 0, "a", {LASK_NIL, 0, {0}}};
    lask_graph_add(g, "a", "host.square", &ab, 1);
    lask_graph_add(g, "b", "host.square", &ba, 1);
    const char *a[] = {"a"};
    st = lask_compute(rt, g, a, 1, NULL, res);
    check(st == LASK_ECYCLE, "cycle gives LASK_ECYCLE");
    lask_graph_free(g);

    /* a kernel that fails */
    g = lask_graph_new();
    lask_arg s = {LASK_ARG_VALUE, 0, NULL, {LASK_FLOAT, 0, {.f = 1.5}}};
    lask_graph_add(g, "bad-square", "host.square", &s, 1);
    const char *b[] = {"bad-square"};
    st = lask_compute(rt, g, b, 1, NULL, res);
    check(st == LASK_ETASK, "failing kernel gives LASK_ETASK");
    check(strstr(lask_runtime_error(rt), "bad-square") != NULL, "the error names the task key");
    check(strstr(lask_runtime_error(rt), "expected one integer") != NULL, "the error has the message");
    lask_graph_free(g);
    lask_runtime_free(rt);
}

static void lua_part(const char *script) {
    lua_State *L = luaL_newstate();
    check(L != NULL, "luaL_newstate");
    if (!L) return;
    luaL_openlibs(L);
    luaL_requiref(L, "lask", luaopen_lask, 1);   /* also global `lask` */
    lua_pop(L, 1);
    if (luaL_loadfile(L, script) != LUA_OK || lua_pcall(L, 0, 2, 0) != LUA_OK) {
        fprintf(stderr, "workflow: %s\n", lua_tostring(L, -1));
        failed++;
    } else {
        passed += (int)lua_tointeger(L, -2);
        failed += (int)lua_tointeger(L, -1);
    }
    lua_close(L);
}

int main(int argc, char **argv) {
    c_part();
    lua_part(argc > 1 ? argv[1] : "examples/embed/workflow.lua");
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
