/*
 * values.c - Lua objects of the bridge (chunks, tasks, shipped functions,
 * lists) and the mapping between Lua values and lask_value.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "lcore.h"

#define NKINDS 16

/* ---------------------------------------------------------------- chunks */

const char *lask__kind_mtname(int32_t kind) {
    static const char *const names[NKINDS] = {
        "lask.chunk.0", "lask.chunk.1", "lask.chunk.2", "lask.chunk.3",
        "lask.chunk.4", "lask.chunk.5", "lask.chunk.6", "lask.chunk.7",
        "lask.chunk.8", "lask.chunk.9", "lask.chunk.10", "lask.chunk.11",
        "lask.chunk.12", "lask.chunk.13", "lask.chunk.14", "lask.chunk.15"};
    return kind >= 0 && kind < NKINDS ? names[kind] : "lask.chunk.other";
}

int lask__chunk_gc(lua_State *L) {
    lask__lchunk *u = lua_touserdata(L, 1);
    if (u && u->c) {
        lask_chunk_unref(u->c);
        u->c = NULL;
    }
    return 0;
}

static int chunk_tostring(lua_State *L) {
    lask__lchunk *u = lua_touserdata(L, 1);
    static const char *const kinds[] = {"bytes", "encoded", "ndarray", "frame", "host"};
    int k = u && u->c ? lask_chunk_kind(u->c) : -1;
    lua_pushfstring(L, "lask.chunk<%s, %I bytes>", k >= 0 && k < 5 ? kinds[k] : "?",
                    (lua_Integer)(u && u->c ? lask_chunk_nbytes(u->c) : 0));
    return 1;
}

void lask__kind_metatable(lua_State *L, int32_t kind) {
    if (luaL_newmetatable(L, lask__kind_mtname(kind))) {
        lua_pushcfunction(L, lask__chunk_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, chunk_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushinteger(L, kind);
        lua_setfield(L, -2, "__lask_kind");
    }
}

/* The userdata is a few bytes but may hold megabytes the collector cannot
 * see; left alone, chunks done with would pile up until Lua's own heap grew
 * enough to start a cycle. So a chunk's size counts as if Lua had allocated
 * it: LUA_GCSTEP with a size adds it to the collector's debt, which runs a
 * step (or a minor collection) once the debt is due, and costs a compare
 * otherwise. Chunks under 1 KiB weigh no more than their userdata. */
void lask__push_chunk(lua_State *L, lask_chunk *c) {
    lask__lchunk *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->c = c;
    lask__kind_metatable(L, lask_chunk_kind(c));
    lua_setmetatable(L, -2);
    int64_t kb = lask_chunk_nbytes(c) / 1024;
    if (kb > 0) lua_gc(L, LUA_GCSTEP, kb > INT32_MAX / 2 ? INT32_MAX / 2 : (int)kb);
}

lask_chunk *lask__test_chunk(lua_State *L, int idx, int32_t kind) {
    if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return NULL;
    lua_getfield(L, -1, "__lask_kind");
    int isnum;
    lua_Integer k = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum || k < 0 || k >= NKINDS || (kind >= 0 && k != kind)) {
        lua_pop(L, 1);
        return NULL;
    }
    luaL_getmetatable(L, lask__kind_mtname((int32_t)k));
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!same) return NULL;
    lask__lchunk *u = lua_touserdata(L, idx);
    return u->c;
}

lask_chunk *lask__check_chunk(lua_State *L, int idx, int32_t kind, const char *what) {
    lask_chunk *c = lask__test_chunk(L, idx, kind);
    if (!c) {
        const char *msg = lua_pushfstring(L, "%s expected, got %s", what ? what : "chunk",
                                          luaL_typename(L, idx));
        luaL_argerror(L, idx, msg);
    }
    return c;
}

/* ----------------------------------------------------------------- tasks */

typedef struct ltask { lask__task *t; } ltask;

lask__task *lask__test_task(lua_State *L, int idx) {
    ltask *u = luaL_testudata(L, idx, LASK__TASK_MT);
    return u ? u->t : NULL;
}

void lask__push_task(lua_State *L, lask__task *t) {
    ltask *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->t = t;
    luaL_setmetatable(L, LASK__TASK_MT);
}

static int task_gc(lua_State *L) {
    ltask *u = lua_touserdata(L, 1);
    if (u->t) lask__task_unref(u->t);
    u->t = NULL;
    return 0;
}

static int task_tostring(lua_State *L) {
    ltask *u = lua_touserdata(L, 1);
    if (!u->t) { lua_pushliteral(L, "lask.task<freed>"); return 1; }
    const char *kn = lask__task_kernel(u->t);
    lua_pushfstring(L, "lask.task<%s = %s>", lask__task_key(u->t), kn ? kn : "value");
    return 1;
}

/* ------------------------------------------------------ shipped, lists */

lask__shipped *lask__test_shipped(lua_State *L, int idx) {
    return luaL_testudata(L, idx, LASK__SHIP_MT);
}

void lask__push_shipped(lua_State *L, lask_chunk *c) {
    lask__shipped *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->c = c;
    s->id = lask__encoded_id(c);
    luaL_setmetatable(L, LASK__SHIP_MT);
}

static int shipped_gc(lua_State *L) {
    lask__shipped *s = lua_touserdata(L, 1);
    if (s->c) lask_chunk_unref(s->c);
    s->c = NULL;
    return 0;
}

static int shipped_tostring(lua_State *L) {
    lask__shipped *s = lua_touserdata(L, 1);
    char id[24];
    snprintf(id, sizeof id, "%016llx", (unsigned long long)s->id);
    lua_pushfstring(L, "lask.shipped<%s, %I bytes>", id,
                    (lua_Integer)(s->c ? lask_chunk_nbytes(s->c) : 0));
    return 1;
}

static int list_tostring(lua_State *L) {
    lua_pushfstring(L, "lask.list<%I items>", (lua_Integer)luaL_len(L, 1));
    return 1;
}

void lask__open_values(lua_State *L) {
    if (luaL_newmetatable(L, LASK__TASK_MT)) {
        lua_pushcfunction(L, task_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, task_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, LASK__SHIP_MT)) {
        lua_pushcfunction(L, shipped_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, shipped_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, LASK__LIST_MT)) {
        lua_pushcfunction(L, list_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    for (int k = 0; k <= LASK_KIND_HOST; k++) {
        lask__kind_metatable(L, k);
        lua_pop(L, 1);
    }
}

/* ---------------------------------------------------------------- values */

void lask__push_value(lua_State *L, const lask_value *v) {
    switch (v->type) {
    case LASK_NIL: lua_pushnil(L); break;
    case LASK_BOOL: lua_pushboolean(L, v->u.i != 0); break;
    case LASK_INT: lua_pushinteger(L, (lua_Integer)v->u.i); break;
    case LASK_FLOAT: lua_pushnumber(L, v->u.f); break;
    case LASK_CHUNK: {
        lask_chunk *c = v->u.c;
        if (!c) { lua_pushnil(L); break; }
        int32_t k = lask_chunk_kind(c);
        if (k == LASK_KIND_BYTES) {
            const lask__bytes *b = (const lask__bytes *)c;
            lua_pushlstring(L, b->data, (size_t)b->n);
        } else if (k == LASK_KIND_ENCODED) {
            lask__decode_chunk(L, c);
        } else {
            lask__push_chunk(L, lask_chunk_ref(c));
        }
        break;
    }
    case LASK_LIST:
        luaL_checkstack(L, 4, "lask: list nested too deeply");
        lua_createtable(L, v->len > 0 ? v->len : 0, 0);
        for (int32_t i = 0; i < v->len; i++) {
            lask__push_value(L, &v->u.items[i]);
            lua_rawseti(L, -2, i + 1);
        }
        break;
    default:
        luaL_error(L, "lask: unknown value type %d", (int)v->type);
    }
}

void lask__to_value(lua_State *L, int idx, lask_value *out) {
    out->len = 0;
    out->u.i = 0;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: out->type = LASK_NIL; return;
    case LUA_TBOOLEAN: out->type = LASK_BOOL; out->u.i = lua_toboolean(L, idx); return;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) { out->type = LASK_INT; out->u.i = lua_tointeger(L, idx); }
        else { out->type = LASK_FLOAT; out->u.f = lua_tonumber(L, idx); }
        return;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        lask_chunk *c = lask_bytes_new(s, (int64_t)n);
        if (!c) luaL_error(L, "lask: out of memory copying a string of %I bytes", (lua_Integer)n);
        out->type = LASK_CHUNK;
        out->u.c = c;
        return;
    }
    case LUA_TUSERDATA: {
        lask_chunk *c = lask__test_chunk(L, idx, -1);
        if (c) { out->type = LASK_CHUNK; out->u.c = lask_chunk_ref(c); return; }
        lask__shipped *s = lask__test_shipped(L, idx);
        if (s) { out->type = LASK_CHUNK; out->u.c = lask_chunk_ref(s->c); return; }
        break;
    }
    default: break;
    }
    lask_chunk *c = lask__encode(L, idx);   /* tables, functions, or an error */
    out->type = LASK_CHUNK;
    out->u.c = c;
}
