/*
 * core.c - the lask.core module: build task graphs, compute them, tokens.
 *
 * Task objects wrap runtime task nodes (graph.h): building a task points at
 * its dependencies' nodes directly, so no key lookups happen until compute.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lcore.h"

/* ------------------------------------------------------- argument lists */

/* Scratch for the flattened arguments of one task, freed by __gc if a Lua
 * error interrupts the build. */
typedef struct targs {
    lask__targ *a;
    int32_t n, cap;
} targs;

static void targs_clear(targs *t) {
    for (int32_t i = 0; i < t->n; i++)
        if (t->a[i].kind == LASK__ARG_VALUE) lask_value_clear(&t->a[i].u.value);
    t->n = 0;
}

static int targs_gc(lua_State *L) {
    targs *t = lua_touserdata(L, 1);
    targs_clear(t);
    free(t->a);
    t->a = NULL;
    return 0;
}

static targs *targs_new(lua_State *L) {
    targs *t = lua_newuserdatauv(L, sizeof *t, 0);
    memset(t, 0, sizeof *t);
    if (luaL_newmetatable(L, "lask.targs")) {
        lua_pushcfunction(L, targs_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return t;
}

static lask__targ *targs_push(lua_State *L, targs *t) {
    if (t->n == t->cap) {
        int32_t cap = t->cap ? t->cap * 2 : 8;
        lask__targ *a = realloc(t->a, (size_t)cap * sizeof *a);
        if (!a) luaL_error(L, "lask: out of memory building a task");
        t->a = a;
        t->cap = cap;
    }
    lask__targ *r = &t->a[t->n++];
    memset(r, 0, sizeof *r);
    r->kind = LASK__ARG_VALUE;
    return r;
}

static int is_list(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
    luaL_getmetatable(L, LASK__LIST_MT);
    int r = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return r;
}

static void add_arg(lua_State *L, targs *t, int idx, int depth) {
    idx = lua_absindex(L, idx);
    lask__task *dep = lask__test_task(L, idx);
    if (dep) {
        lask__targ *a = targs_push(L, t);
        a->kind = LASK__ARG_DEP;
        a->u.dep = dep;       /* borrowed: lask__task_new takes its own ref */
        return;
    }
    if (is_list(L, idx)) {
        if (depth > 100) luaL_error(L, "lask: task argument lists nested too deeply");
        lua_getfield(L, idx, "n");
        lua_Integer n = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (n < 0 || n > INT32_MAX / 2) luaL_error(L, "lask: bad list length");
        int32_t at = t->n;
        targs_push(L, t);
        t->a[at].kind = LASK__ARG_LIST;
        t->a[at].n = (int32_t)n;
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            add_arg(L, t, -1, depth + 1);
            lua_pop(L, 1);
        }
        return;
    }
    lask_value v;
    lask__to_value(L, idx, &v);
    lask__targ *a = targs_push(L, t);
    a->u.value = v;
}

/* The argument scratch of this state: one per state, reused by every task
 * built (a fresh one if a build is already under way, which the value
 * encoding never causes today but would not break). */
static targs *scratch(lua_State *L, int *fresh) {
    targs *t = lua_touserdata(L, lua_upvalueindex(1));
    lua_Integer busy = lua_tointeger(L, lua_upvalueindex(2));
    if (t && !busy) {
        targs_clear(t);   /* values left by a build a Lua error cut short */
        lua_pushinteger(L, 1);
        lua_replace(L, lua_upvalueindex(2));
        lua_pushvalue(L, lua_upvalueindex(1));
        *fresh = 0;
        return t;
    }
    *fresh = 1;
    return targs_new(L);
}

static void scratch_done(lua_State *L, int fresh) {
    if (!fresh) {
        lua_pushinteger(L, 0);
        lua_replace(L, lua_upvalueindex(2));
    }
}

/* Build a task node from key, kernel (NULL: ready value) and Lua args. */
static int make_task(lua_State *L, const char *key, const char *kernel,
                     int first, int last, lask_chunk *fn) {
    int fresh;
    targs *t = scratch(L, &fresh);
    if (fn) {
        lask__targ *a = targs_push(L, t);
        a->u.value.type = LASK_CHUNK;
        a->u.value.u.c = lask_chunk_ref(fn);
    }
    for (int i = first; i <= last; i++) add_arg(L, t, i, 0);
    lask__task *node = lask__task_new(key, kernel, t->a, t->n);
    targs_clear(t);
    scratch_done(L, fresh);
    if (!node) luaL_error(L, "lask: cannot create task '%s' (out of memory)", key);
    lua_pop(L, 1);
    lask__push_task(L, node);
    return 1;
}

static lask__task *check_task(lua_State *L, int idx) {
    lask__task *t = lask__test_task(L, idx);
    if (!t) luaL_typeerror(L, idx, "lask task");
    return t;
}

static const char *check_key(lua_State *L, int idx) {
    size_t n;
    const char *k = luaL_checklstring(L, idx, &n);
    if (n == 0 || strlen(k) != n) luaL_argerror(L, idx, "task key must be a non-empty string without zero bytes");
    return k;
}

/* core.task(key, kernel, ...) */
static int l_task(lua_State *L) {
    const char *key = check_key(L, 1);
    const char *kernel = luaL_checkstring(L, 2);
    return make_task(L, key, kernel, 3, lua_gettop(L), NULL);
}

/* core.ltask(key, fn_or_shipped, ...) */
static int l_ltask(lua_State *L) {
    const char *key = check_key(L, 1);
    lask__shipped *s = lask__test_shipped(L, 2);
    if (!s) {
        if (!lua_isfunction(L, 2)) luaL_typeerror(L, 2, "function or shipped function");
        lask__ship(L, 2);
        lua_replace(L, 2);
        s = lask__test_shipped(L, 2);
    }
    return make_task(L, key, "lua.call", 3, lua_gettop(L), s->c);
}

/* core.value(key, v) */
static int l_value(lua_State *L) {
    const char *key = check_key(L, 1);
    lua_settop(L, 2);
    if (lask__test_task(L, 2)) luaL_argerror(L, 2, "a ready value cannot be a task");
    if (is_list(L, 2)) luaL_argerror(L, 2, "a ready value cannot be a core.list");
    return make_task(L, key, NULL, 2, 2, NULL);
}

/* core.list{...} or core.list(t, n) */
static int l_list(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_opt(L, luaL_checkinteger, 2, luaL_len(L, 1));
    lua_createtable(L, (int)(n > 0 && n < 1 << 24 ? n : 0), 1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        lua_rawseti(L, -2, i);
    }
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "n");
    luaL_setmetatable(L, LASK__LIST_MT);
    return 1;
}

static int l_ship(lua_State *L) {
    lask__ship(L, 1);
    return 1;
}

static int l_key(lua_State *L) {
    lua_pushstring(L, lask__task_key(check_task(L, 1)));
    return 1;
}

static int l_kernel(lua_State *L) {
    const char *k = lask__task_kernel(check_task(L, 1));
    if (k) lua_pushstring(L, k); else lua_pushnil(L);
    return 1;
}

static int l_tokenize(lua_State *L) {
    int n = lua_gettop(L);
    uint64_t h[2] = {(uint64_t)n, 0x5bd1e995u};
    for (int i = 1; i <= n; i++) lask__token_value(L, i, h);
    char out[33];
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        uint64_t w = h[i / 8];
        int b = (int)((w >> (8 * (i % 8))) & 0xff);
        out[2 * i] = hex[b >> 4];
        out[2 * i + 1] = hex[b & 15];
    }
    lua_pushlstring(L, out, 32);
    return 1;
}

static int l_encode(lua_State *L) {
    luaL_checkany(L, 1);
    lask__encode_string(L, 1);
    return 1;
}

static int l_decode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    lask__decode(L, s, (int64_t)n);
    return 1;
}

/* ----------------------------------------------------- graphs and compute */

/* The task objects of the list at idx, in a scratch userdata. */
static lask__task **collect(lua_State *L, int idx, int32_t *n) {
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer len = luaL_len(L, idx);
    if (len < 0 || len > INT32_MAX / 2) luaL_argerror(L, idx, "too many tasks");
    lask__task **ts = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *ts, 0);
    for (lua_Integer i = 1; i <= len; i++) {
        lua_rawgeti(L, idx, i);
        ts[i - 1] = lask__test_task(L, -1);
        if (!ts[i - 1])
            luaL_error(L, "lask: item %I of the task list is a %s, not a task", i,
                       luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    *n = (int32_t)len;
    return ts;
}

static int l_count(lua_State *L) {
    int32_t n;
    lask__task **ts = collect(L, 1, &n);
    lua_pushinteger(L, (lua_Integer)lask__tasks_count(ts, n));
    return 1;
}

typedef struct walkbuf { lask__task **v; int64_t n, cap; } walkbuf;

static int walk_visit(lask__task *t, void *ud) {
    walkbuf *w = ud;
    if (w->n == w->cap) return 1;
    w->v[w->n++] = t;
    return 0;
}

/* core.walk(tasks, fn): fn(key, kernel, dep_keys), dependencies first. */
static int l_walk(lua_State *L) {
    int32_t n;
    lua_settop(L, 2);
    lask__task **ts = collect(L, 1, &n);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int64_t total = lask__tasks_count(ts, n);
    walkbuf w = {lua_newuserdatauv(L, (size_t)(total ? total : 1) * sizeof(lask__task *), 0),
                 0, total};
    if (lask__tasks_walk(ts, n, walk_visit, &w) != 0)
        luaL_error(L, "lask: walking the graph failed");
    for (int64_t i = 0; i < w.n; i++) {
        lask__task *t = w.v[i];
        lua_pushvalue(L, 2);
        lua_pushstring(L, lask__task_key(t));
        const char *k = lask__task_kernel(t);
        if (k) lua_pushstring(L, k); else lua_pushnil(L);
        lua_newtable(L);
        lua_newtable(L);       /* keys seen, so each dependency shows once */
        int32_t na = lask__task_nargs(t), nd = 0;
        const lask__targ *a = lask__task_args(t);
        for (int32_t j = 0; j < na; j++) {
            const char *dk = a[j].kind == LASK__ARG_DEP ? lask__task_key(a[j].u.dep)
                             : a[j].kind == LASK__ARG_KEY ? a[j].u.key : NULL;
            if (!dk) continue;
            if (lua_getfield(L, -1, dk) != LUA_TNIL) { lua_pop(L, 1); continue; }
            lua_pop(L, 1);
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, dk);
            lua_pushstring(L, dk);
            lua_rawseti(L, -3, ++nd);
        }
        lua_pop(L, 1);
        lua_call(L, 3, 0);
    }
    return 0;
}

typedef struct progress { lua_State *L; int fn; } progress;

static void on_progress(int64_t done, int64_t total, void *ud) {
    progress *p = ud;
    lua_State *L = p->L;
    if (!lua_checkstack(L, 4)) return;
    lua_pushvalue(L, p->fn);
    lua_pushinteger(L, (lua_Integer)done);
    lua_pushinteger(L, (lua_Integer)total);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) lua_pop(L, 1);  /* a display must not stop work */
}

/* Results still owned by C when a Lua error strikes are freed by __gc. */
typedef struct results { lask_value *v; int32_t n; } results;

static int results_gc(lua_State *L) {
    results *r = lua_touserdata(L, 1);
    if (r->v) {
        for (int32_t i = 0; i < r->n; i++) lask_value_clear(&r->v[i]);
        free(r->v);
    }
    r->v = NULL;
    return 0;
}

/* core.compute(tasks, {scheduler=, num_workers=, progress=fn}) */
static int l_compute(lua_State *L) {
    int32_t n;
    lua_settop(L, 2);
    lask__task **ts = collect(L, 1, &n);
    lask_compute_opts o = {LASK_SCHED_THREADS, 0, NULL, NULL, NULL};
    progress pr = {L, 0};
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            if (!strcmp(k, "scheduler")) {
                const char *s = lua_tostring(L, -1);
                if (s && !strcmp(s, "threads")) o.scheduler = LASK_SCHED_THREADS;
                else if (s && !strcmp(s, "sync")) o.scheduler = LASK_SCHED_SYNC;
                else luaL_error(L, "lask: unknown scheduler '%s' (expected \"threads\" or \"sync\")",
                                s ? s : luaL_typename(L, -1));
            } else if (!strcmp(k, "num_workers")) {
                if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
                    luaL_error(L, "lask: option num_workers must be a non-negative integer");
                lua_Integer w = lua_tointeger(L, -1);
                o.num_workers = (int32_t)(w > 1 << 20 ? 1 << 20 : w);
            } else if (!strcmp(k, "progress")) {
                if (lua_isfunction(L, -1)) pr.fn = 1;
            } else {
                luaL_error(L, "lask: unknown compute option '%s'", k);
            }
            lua_pop(L, 1);
        }
        if (pr.fn) {
            lua_getfield(L, 2, "progress");
            pr.fn = lua_gettop(L);
            o.progress = on_progress;
            o.progress_ud = &pr;
        }
    }
    lask_runtime *rt = lask__runtime(L);
    lask__lstate *st = lask__state(L);
    lask__compute_begin(L);
    results *r = lua_newuserdatauv(L, sizeof *r, 0);
    r->v = NULL;
    r->n = 0;
    if (luaL_newmetatable(L, "lask.results")) {
        lua_pushcfunction(L, results_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    r->v = calloc((size_t)(n ? n : 1), sizeof *r->v);
    if (!r->v) luaL_error(L, "lask: out of memory");
    lua_State *saved = st->running;
    st->running = L;      /* sync tasks run on the calling thread/coroutine */
    o.sync_worker_data = st;
    int32_t status = lask__compute_tasks(rt, NULL, ts, n, &o, r->v);
    st->running = saved;
    if (status != LASK_OK) {
        for (int32_t i = 0; i < n; i++) lask_value_clear(&r->v[i]);
        if (status == LASK_EINTR) luaL_error(L, "lask: interrupted: %s", lask_runtime_error(rt));
        lua_pushstring(L, lask_runtime_error(rt));
        return lua_error(L);
    }
    r->n = n;
    lua_createtable(L, n, 0);
    for (int32_t i = 0; i < n; i++) {
        lask__push_value(L, &r->v[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_set_num_threads(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && n <= 1024, 1, "number of threads must be 0..1024");
    lask__lstate *s = lask__state(L);
    if (s) {
        if (n == 0 || n == lask_runtime_nthreads(s->rt)) return 0;
        return luaL_error(L, "lask: the thread pool already runs %d threads; set the number "
                             "before the first compute (use num_workers to use fewer)",
                          (int)lask_runtime_nthreads(s->rt));
    }
    lua_pushinteger(L, n);
    lua_setfield(L, LUA_REGISTRYINDEX, "lask.nthreads");
    return 0;
}

static int l_nthreads(lua_State *L) {
    lua_pushinteger(L, lask_runtime_nthreads(lask__runtime(L)));
    return 1;
}

static int l_interrupt(lua_State *L) {
    lask__interrupt_states(lask__runtime(L));
    return 0;
}

static int l_now(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (double)ts.tv_sec + ts.tv_nsec * 1e-9);
    return 1;
}

static int l_is_task(lua_State *L) {
    lua_pushboolean(L, lask__test_task(L, 1) != NULL);
    return 1;
}

static int l_is_chunk(lua_State *L) {
    lua_pushboolean(L, lask__test_chunk(L, 1, -1) != NULL);
    return 1;
}

/* core.stats() -> {decoded = shipped functions decoded in this state} */
static int l_stats(lua_State *L) {
    lua_createtable(L, 0, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, "lask.decoded");
    lua_pushinteger(L, lua_tointeger(L, -1));
    lua_setfield(L, -3, "decoded");
    lua_pop(L, 1);
    lask__lstate *s = lask__state(L);
    lua_pushinteger(L, s ? s->worker : -1);
    lua_setfield(L, -2, "worker");
    return 1;
}

static int l_in_worker(lua_State *L) {
    lask__lstate *s = lask__state(L);
    lua_pushboolean(L, s && s->worker >= 0);
    return 1;
}

int luaopen_lask_core(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"task", l_task}, {"ltask", l_ltask}, {"value", l_value}, {"list", l_list},
        {"ship", l_ship}, {"key", l_key}, {"kernel", l_kernel}, {"tokenize", l_tokenize},
        {"encode", l_encode}, {"decode", l_decode}, {"count", l_count}, {"walk", l_walk},
        {"compute", l_compute}, {"set_num_threads", l_set_num_threads},
        {"nthreads", l_nthreads}, {"interrupt", l_interrupt}, {"now", l_now},
        {"is_task", l_is_task}, {"is_chunk", l_is_chunk}, {"in_worker", l_in_worker},
        {"stats", l_stats}, {"fn_fields", lask__l_fn_fields},
        {NULL, NULL}};
    lask__open_values(L);
    luaL_newlibtable(L, fns);
    targs_new(L);              /* the shared argument scratch ... */
    lua_pushinteger(L, 0);     /* ... and whether a build is using it */
    luaL_setfuncs(L, fns, 2);
    /* visible before the kind modules open, so they may require it */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "lask.core");
    lua_pop(L, 1);
    lask__open_kind_modules(L);
    return 1;
}
