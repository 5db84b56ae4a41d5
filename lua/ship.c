/*
 * ship.c - shipped functions and the "lua.call" kernel that runs them.
 *
 * A shipped function is its ENCODED chunk (bytecode + upvalues). Its id is
 * the hash of those bytes, so every worker state keeps one loaded copy per
 * id in its registry cache: a function used by 100k tasks is decoded once
 * per worker state. The user's state instead maps each shipped chunk to the
 * closure it was made from (weakly), so under the "sync" scheduler a task
 * calls the very function the user gave, upvalues and all. Two closures
 * with equal bytecode and upvalue values share an id, hence the chunk
 * address as key there, checked against the id in case an address is
 * reused.
 */
#include <stdio.h>
#include <string.h>
#include "lcore.h"

#define WORKER_CACHE_MAX 4096

static int user_state(lua_State *L) {
    lask__lstate *s = lask__state(L);
    return !s || s->worker < 0;
}

static void weak_table(lua_State *L, const char *mode) {
    lua_createtable(L, 0, 4);
    lua_createtable(L, 0, 1);
    lua_pushstring(L, mode);
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
}

/* Push this state's function cache (created on first use). */
static void push_cache(lua_State *L) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, LASK__FNCACHE) == LUA_TTABLE) return;
    lua_pop(L, 1);
    if (user_state(L)) {
        weak_table(L, "v");            /* chunk address -> original closure */
        weak_table(L, "k");            /* closure -> function id */
        lua_setfield(L, LUA_REGISTRYINDEX, "lask.fnid");
    } else {
        lua_createtable(L, 0, 4);      /* function id -> decoded function */
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, LASK__FNCACHE);
}

/* In the user's state: remember fn (at top) as the closure of chunk c. */
static void remember_original(lua_State *L, lask_chunk *c, uint64_t id) {
    push_cache(L);
    lua_pushvalue(L, -2);
    lua_rawsetp(L, -2, c);
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "lask.fnid");
    lua_pushvalue(L, -2);
    lua_pushinteger(L, (lua_Integer)id);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

void lask__ship(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    if (lask__test_shipped(L, idx)) { lua_pushvalue(L, idx); return; }
    luaL_checktype(L, idx, LUA_TFUNCTION);
    lask__shipped *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->c = NULL;
    s->id = 0;
    luaL_setmetatable(L, LASK__SHIP_MT);
    s->c = lask__encode(L, idx);
    s->id = lask__encoded_id(s->c);
    if (user_state(L)) {
        lua_pushvalue(L, idx);
        remember_original(L, s->c, s->id);
        lua_pop(L, 1);
    } else {
        push_cache(L);
        lua_pushvalue(L, idx);
        lua_rawseti(L, -2, (lua_Integer)s->id);
        lua_pop(L, 1);
    }
}

static void count_decode(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, "lask.decoded");
    lua_pushinteger(L, lua_tointeger(L, -1) + 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "lask.decoded");
    lua_pop(L, 1);
}

static void decode_function(lua_State *L, lask_chunk *c) {
    lask__decode_chunk(L, c);
    count_decode(L);
    if (!lua_isfunction(L, -1))
        luaL_error(L, "lask: lua.call: the first argument does not decode to a function");
}

/* The function of encoded chunk c, from the cache or decoded into it. */
static void push_function(lua_State *L, lask_chunk *c) {
    uint64_t id = lask__encoded_id(c);
    push_cache(L);
    if (user_state(L)) {
        if (lua_rawgetp(L, -1, c) == LUA_TFUNCTION) {
            lua_getfield(L, LUA_REGISTRYINDEX, "lask.fnid");
            lua_pushvalue(L, -2);
            lua_rawget(L, -2);
            int same = (uint64_t)lua_tointeger(L, -1) == id;
            lua_pop(L, 2);
            if (same) { lua_remove(L, -2); return; }
        }
        lua_pop(L, 2);
        decode_function(L, c);
        remember_original(L, c, id);
        return;
    }
    if (lua_rawgeti(L, -1, (lua_Integer)id) == LUA_TFUNCTION) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    decode_function(L, c);
    /* bound the cache: a script that makes closures in a loop must not
     * grow worker memory forever */
    lua_getfield(L, -2, "#");
    lua_Integer n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (n >= WORKER_CACHE_MAX) {
        lua_newtable(L);
        lua_setfield(L, LUA_REGISTRYINDEX, LASK__FNCACHE);
        push_cache(L);
        lua_replace(L, -3);
        n = 0;
    }
    lua_pushinteger(L, n + 1);
    lua_setfield(L, -3, "#");
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)id);
    lua_remove(L, -2);
}

typedef struct call {
    lask_ctx *ctx;
    const lask_value *args;
    int32_t nargs;
    lask_value *out;
} call;

static int traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Runs protected: load the function, call it with a traceback handler,
 * convert its first result. Returns the error string or nothing. */
static int run(lua_State *L) {
    call *k = lua_touserdata(L, 1);
    lua_pushcfunction(L, traceback);
    int msgh = lua_gettop(L);
    push_function(L, k->args[0].u.c);
    luaL_checkstack(L, k->nargs + 4, "lask: too many task arguments");
    for (int32_t i = 1; i < k->nargs; i++) lask__push_value(L, &k->args[i]);
    if (lua_pcall(L, k->nargs - 1, 1, msgh) != LUA_OK) return 1;
    lask_value v;
    lask__to_value(L, -1, &v);
    *k->out = v;
    return 0;
}

int32_t lask__lua_call_kernel(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                              lask_value *out, void *ud) {
    (void)ud;
    lask__lstate *s = lask_ctx_worker_data(ctx);
    if (!s || !s->L)
        return lask_ctx_error(ctx, "lua.call: no Lua state on this worker "
                                   "(worker hooks missing or the state failed to open)");
    if (nargs < 1 || args[0].type != LASK_CHUNK || !args[0].u.c ||
        lask_chunk_kind(args[0].u.c) != LASK_KIND_ENCODED)
        return lask_ctx_error(ctx, "lua.call: the first argument must be a shipped function");
    lua_State *L = s->running ? s->running : s->L;
    int top = lua_gettop(L);
    call k = {ctx, args, nargs, out};
    lua_pushcfunction(L, run);
    lua_pushlightuserdata(L, &k);
    int st = lua_pcall(L, 1, 1, 0);
    if (st == LUA_OK && lua_isnil(L, -1)) {
        lua_settop(L, top);
        return LASK_OK;
    }
    /* the runtime prefixes "task 'key' failed: " */
    const char *msg = lua_tostring(L, -1);
    if (!msg) msg = "(error object is not a string)";
    int32_t r = lask_ctx_error(ctx, msg);
    lua_settop(L, top);
    return r;
}
