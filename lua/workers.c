/*
 * workers.c - the runtime of a Lua state and the Lua states of pool threads.
 *
 * The user's main state owns one lask_runtime, created on first use and
 * freed when the state closes (a userdata in the registry whose __gc frees
 * it; the pool's fini hooks close the worker states). Each pool thread gets
 * its own Lua state with the standard libraries, the lask preloads and the
 * kind modules, and the main state's package.path/cpath.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <lualib.h>
#include "lcore.h"

#define STATE_KEY "lask.state"
#define MAXWORKERS 1024
#define MAXRUNTIMES 16

/* What the pool hooks need; lives as long as the runtime. */
typedef struct hooks {
    char *path, *cpath;
    lask_runtime *rt;
    atomic_int interrupted;            /* hooks may be left in idle states */
    _Atomic(lua_State *) states[MAXWORKERS];
} hooks;

/* Live runtimes, for an interrupt raised by a signal handler: a signal
 * handler cannot reach a Lua registry, so this list is the one piece of
 * process-wide state. */
static _Atomic(hooks *) live[MAXRUNTIMES];

typedef struct owner {
    lask__lstate st;
    hooks *h;
} owner;

lask__lstate *lask__state(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, STATE_KEY);
    lask__lstate *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return s;
}

/* ------------------------------------------------------------ interrupts */

static void stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

void lask__interrupt_states(lask_runtime *rt) {
    for (int i = 0; i < MAXRUNTIMES; i++) {
        hooks *h = atomic_load(&live[i]);
        if (!h || (rt && h->rt != rt)) continue;
        lask_runtime_interrupt(h->rt);
        atomic_store(&h->interrupted, 1);
        for (int w = 0; w < MAXWORKERS; w++) {
            lua_State *S = atomic_load(&h->states[w]);
            /* lua_sethook is safe to call asynchronously (lua.c does it
             * from its SIGINT handler) */
            if (S) lua_sethook(S, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
        }
    }
}

/* Clear interrupt hooks left in idle worker states by an earlier Ctrl-C. */
static void clear_hooks(hooks *h) {
    if (!atomic_exchange(&h->interrupted, 0)) return;
    for (int w = 0; w < MAXWORKERS; w++) {
        lua_State *S = atomic_load(&h->states[w]);
        if (S && lua_gethook(S) == stop_hook) lua_sethook(S, NULL, 0, 0);
    }
}

void lask__compute_begin(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, STATE_KEY);
    owner *o = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (o && o->st.owns_rt && o->h) clear_hooks(o->h);
}

/* ---------------------------------------------------------- worker states */

extern int luaopen_lask_core_ndarray(lua_State *L) __attribute__((weak));
extern int luaopen_lask_core_frame(lua_State *L) __attribute__((weak));
extern int luaopen_lask_core_parquet(lua_State *L) __attribute__((weak));
extern int luaopen_lask_core_textio(lua_State *L) __attribute__((weak));
extern int luaopen_lask_core_json(lua_State *L) __attribute__((weak));

/* The kind modules linked in (weak: a build may leave any out). */
static const struct { const char *name; lua_CFunction f; } mods[] = {
    {"lask.core.ndarray", luaopen_lask_core_ndarray},
    {"lask.core.frame", luaopen_lask_core_frame},
    {"lask.core.parquet", luaopen_lask_core_parquet},
    {"lask.core.textio", luaopen_lask_core_textio},
    {"lask.core.json", luaopen_lask_core_json},
};

void lask__open_kind_modules(lua_State *L) {
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        if (!mods[i].f) continue;
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
        lua_pushcfunction(L, mods[i].f);
        lua_setfield(L, -2, mods[i].name);
        lua_pop(L, 1);
        luaL_requiref(L, mods[i].name, mods[i].f, 0);
        lua_pop(L, 1);
    }
}

/* package.preload entry of a kind module: open lask.core first (it opens
 * every linked kind module, which may need it), then hand back the module,
 * so `require "lask.core.frame"` works before `require "lask"`. */
static int kind_loader(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    luaL_requiref(L, "lask.core", luaopen_lask_core, 0);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, name) == LUA_TNIL) {
        /* lask.core was loaded by other means: open this one now */
        lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(1));
        luaL_requiref(L, name, f, 0);
    }
    return 1;
}

void lask__preload_kind_modules(lua_State *L) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        if (!mods[i].f) continue;
        lua_pushcfunction(L, mods[i].f);
        lua_pushcclosure(L, kind_loader, 1);
        lua_setfield(L, -2, mods[i].name);
    }
    lua_pop(L, 1);
}

static int worker_setup(lua_State *L) {
    lask__lstate *st = lua_touserdata(L, 1);
    const char *path = lua_tostring(L, 2), *cpath = lua_tostring(L, 3);
    luaL_openlibs(L);
    lask__lstate *s = lua_newuserdatauv(L, sizeof *s, 0);
    *s = *st;
    s->L = L;
    lua_setfield(L, LUA_REGISTRYINDEX, STATE_KEY);
    lua_getglobal(L, "package");
    if (path) { lua_pushstring(L, path); lua_setfield(L, -2, "path"); }
    if (cpath) { lua_pushstring(L, cpath); lua_setfield(L, -2, "cpath"); }
    lua_pop(L, 1);
    lask__preload(L);
    luaL_requiref(L, "lask.core", luaopen_lask_core, 0);
    lua_pop(L, 1);
    /* Generational, as the main state: a task's records and temporaries
     * die young, so minor collections free them while they are still in
     * cache, without re-marking the partition a task holds (bench/bag.lua:
     * about 20% less CPU than incremental mode). */
    lua_gc(L, LUA_GCGEN, 0, 0);
    return 0;
}

lua_State *lask__new_worker_state(lask_runtime *rt, int worker, const char *path,
                                  const char *cpath) {
    lua_State *L = lask__newstate();
    if (!L) return NULL;
    lask__lstate st = {rt, L, NULL, worker, 0};
    lua_pushcfunction(L, worker_setup);
    lua_pushlightuserdata(L, &st);
    lua_pushstring(L, path);
    lua_pushstring(L, cpath);
    if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
        lua_close(L);
        return NULL;
    }
    return L;
}

static void *worker_init(lask_runtime *rt, int32_t worker, void *ud) {
    hooks *h = ud;
    lua_State *L = lask__new_worker_state(rt, worker, h->path, h->cpath);
    if (!L) return NULL;
    if (worker >= 0 && worker < MAXWORKERS) atomic_store(&h->states[worker], L);
    return lask__state(L);
}

static void worker_fini(void *wd, void *ud) {
    hooks *h = ud;
    lask__lstate *s = wd;
    if (!s) return;
    if (s->worker >= 0 && s->worker < MAXWORKERS) atomic_store(&h->states[s->worker], NULL);
    lua_close(s->L);
}

/* ----------------------------------------------------------- main runtime */

static int owner_gc(lua_State *L) {
    owner *o = lua_touserdata(L, 1);
    if (o->st.owns_rt && o->st.rt) {
        for (int i = 0; i < MAXRUNTIMES; i++) {
            hooks *h = o->h;
            atomic_compare_exchange_strong(&live[i], &h, NULL);
        }
        lask_runtime_free(o->st.rt);
    }
    o->st.rt = NULL;
    if (o->h) {
        free(o->h->path);
        free(o->h->cpath);
        free(o->h);
        o->h = NULL;
    }
    return 0;
}

static char *dup_field(lua_State *L, const char *f) {
    lua_getglobal(L, "package");
    const char *s = lua_istable(L, -1) && lua_getfield(L, -1, f) == LUA_TSTRING
                        ? lua_tostring(L, -1) : NULL;
    char *r = s ? strdup(s) : NULL;
    lua_settop(L, lua_gettop(L) - (lua_istable(L, -1) ? 1 : 2));
    return r;
}

lask_runtime *lask__runtime(lua_State *L) {
    lask__lstate *s = lask__state(L);
    if (s) return s->rt;
    lua_getfield(L, LUA_REGISTRYINDEX, "lask.nthreads");
    int nthreads = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    hooks *h = calloc(1, sizeof *h);
    if (!h) luaL_error(L, "lask: out of memory creating the runtime");
    owner *o = lua_newuserdatauv(L, sizeof *o, 0);
    memset(o, 0, sizeof *o);
    o->h = h;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, owner_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    h->path = dup_field(L, "path");
    h->cpath = dup_field(L, "cpath");
    lask_runtime *rt = lask_runtime_new(nthreads);
    if (!rt) luaL_error(L, "lask: cannot create the runtime (out of memory or threads)");
    h->rt = rt;
    o->st.rt = rt;
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    o->st.L = lua_tothread(L, -1);
    lua_pop(L, 1);
    o->st.worker = -1;
    o->st.owns_rt = 1;
    lua_setfield(L, LUA_REGISTRYINDEX, STATE_KEY);
    if (lask_register_kernel(rt, "lua.call", lask__lua_call_kernel, NULL) != LASK_OK ||
        lask_runtime_set_worker_hooks(rt, worker_init, worker_fini, h) != LASK_OK)
        luaL_error(L, "lask: cannot set up the runtime: %s", lask_runtime_error(rt));
    for (int i = 0; i < MAXRUNTIMES; i++) {
        hooks *none = NULL;
        if (atomic_compare_exchange_strong(&live[i], &none, h)) break;
    }
    return rt;
}
