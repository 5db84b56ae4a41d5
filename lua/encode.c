/*
 * encode.c - the value encoding: Lua values <-> bytes.
 *
 * Layout: "LSK" 0x01, an 8-byte hash of the body, then one value:
 *   tag byte, then
 *   NIL FALSE TRUE GLOBALS     nothing
 *   INT                        zigzag varint
 *   FLOAT                      8 bytes, the double's bits (NaN payloads, -0.0)
 *   STR                        varint length, bytes
 *   TABLE                      varint n, values 1..n, then (key value)* END,
 *                              then the metatable value (NIL: none)
 *   FUNC                       varint length, lua_dump bytes, varint nups,
 *                              then each upvalue: a value, or UPJOIN
 *   UPJOIN                     varint object id, varint upvalue index: the
 *                              upvalue is shared with that function's
 *   REF                        varint object id (tables and functions get ids
 *                              in the order they first appear)
 *   NAMED                      module name, field name (both STR bodies):
 *                              package.loaded[module][field] in the receiver
 *   CHUNK                      varint index into the chunk's reference table
 *   SHIPPED                    the same, for a shipped function (core.ship)
 *
 * Chunk references only live inside an ENCODED chunk made here: its
 * references sit after the bytes and are dropped with it. The hash catches
 * corrupted input before lua_load sees bytecode (Lua does not verify
 * bytecode, so bytes from an untrusted source must not be decoded).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lcore.h"

enum {
    T_NIL, T_FALSE, T_TRUE, T_INT, T_FLOAT, T_STR, T_TABLE, T_REF, T_FUNC,
    T_GLOBALS, T_NAMED, T_CHUNK, T_UPJOIN, T_IDENT, T_TASK, T_END, T_SHIPPED
};

#define MAGIC "LSK\x01"
#define HDR 12
#define MAXDEPTH 1000   /* C recursion: a few hundred bytes of stack per level */

/* ------------------------------------------------------------- buffers */

/* The encoder's growing output and chunk references live in a userdata so
 * that a Lua error half way frees them through __gc. */
typedef struct ebox {
    char *p;
    size_t n, cap;
    lask_chunk **chunks;
    size_t nchunks, capchunks;
} ebox;

static int ebox_gc(lua_State *L) {
    ebox *b = lua_touserdata(L, 1);
    free(b->p);
    for (size_t i = 0; i < b->nchunks; i++) lask_chunk_unref(b->chunks[i]);
    free(b->chunks);
    memset(b, 0, sizeof *b);
    return 0;
}

typedef struct path {
    const struct path *up;
    int kind;            /* 0 upvalue, 1 field, 2 key at stack index kidx,
                            3 metatable, 4 array item index */
    const char *name;
    int nlen;
    int kidx;
    lua_Integer index;
} path;

typedef struct enc {
    lua_State *L;
    ebox *b;
    int seen;            /* stack index: object -> id */
    int upids;           /* stack index: upvalue id -> fid * 256 + index */
    int names;           /* stack index: value -> {module, field}, or nil */
    int nextid;
    int flags;
    int depth;
    const char *fnsrc;   /* innermost function being encoded: source:line */
    const path *fnpath;  /* path below that function */
} enc;

static void put(enc *e, const void *p, size_t n) {
    ebox *b = e->b;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) luaL_error(e->L, "lask: out of memory while encoding a value");
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_byte(enc *e, int c) {
    unsigned char u = (unsigned char)c;
    put(e, &u, 1);
}

static void put_varint(enc *e, uint64_t v) {
    unsigned char tmp[10];
    int n = 0;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        tmp[n++] = c | (v ? 0x80 : 0);
    } while (v);
    put(e, tmp, (size_t)n);
}

static void put_str(enc *e, const char *s, size_t n) {
    put_varint(e, n);
    put(e, s, n);
}

/* --------------------------------------------------------------- errors */

static void add_path(luaL_Buffer *B, const path *p) {
    if (!p) return;
    add_path(B, p->up);
    switch (p->kind) {
    case 0: luaL_addstring(B, p->up ? ", upvalue '" : "upvalue '");
            luaL_addlstring(B, p->name, (size_t)p->nlen); luaL_addchar(B, '\'');
            break;
    case 1: luaL_addchar(B, '.'); luaL_addlstring(B, p->name, (size_t)p->nlen); break;
    case 2: {
        /* formatted only now: building the path must cost nothing */
        char kbuf[64];
        lua_State *L = B->L;
        int k = p->kidx;
        if (lua_type(L, k) == LUA_TNUMBER && lua_isinteger(L, k))
            snprintf(kbuf, sizeof kbuf, "%lld", (long long)lua_tointeger(L, k));
        else if (lua_type(L, k) == LUA_TNUMBER)
            snprintf(kbuf, sizeof kbuf, "%.14g", lua_tonumber(L, k));
        else
            snprintf(kbuf, sizeof kbuf, "<%s key>", lua_typename(L, lua_type(L, k)));
        luaL_addchar(B, '[');
        luaL_addstring(B, kbuf);
        luaL_addchar(B, ']');
        break;
    }
    case 4: {
        char kbuf[32];
        snprintf(kbuf, sizeof kbuf, "[%lld]", (long long)p->index);
        luaL_addstring(B, kbuf);
        break;
    }
    default: luaL_addstring(B, " (metatable)"); break;
    }
}

static void enc_error(enc *e, const path *p, const char *what) {
    lua_State *L = e->L;
    luaL_Buffer B;
    luaL_buffinit(L, &B);
    luaL_addstring(&B, "lask: cannot ship ");
    luaL_addstring(&B, what);
    if (p) {
        luaL_addstring(&B, " at ");
        add_path(&B, p);
    }
    if (e->fnsrc) {
        luaL_addstring(&B, " of the function defined at ");
        luaL_addstring(&B, e->fnsrc);
    }
    luaL_pushresult(&B);
    lua_error(L);
}

/* ---------------------------------------------------------------- names */

/* Value at top -> {mod, field} in map. The standard libraries and _G name
 * first and for good ("fixed"); among the other loaded modules the smallest
 * (module, field) pair wins, so a value two modules hold (lua-cjson's null
 * is both cjson.null and the field of every cjson instance) gets the same
 * name whatever order package.loaded iterates in, and the plainest one. */
static void name_one(lua_State *L, int map, const char *mod, const char *field, int fixed) {
    lua_pushvalue(L, -1);
    if (lua_rawget(L, map) == LUA_TTABLE) {
        int keep = 1;
        if (!fixed && lua_rawgeti(L, -1, 3) == LUA_TNIL) {
            lua_rawgeti(L, -2, 1);
            lua_rawgeti(L, -3, 2);
            int c = strcmp(mod, lua_tostring(L, -2));
            keep = c > 0 || (c == 0 && strcmp(field, lua_tostring(L, -1)) >= 0);
            lua_pop(L, 2);
        }
        if (!fixed) lua_pop(L, 1);
        if (keep) { lua_pop(L, 2); return; }
    }
    lua_pop(L, 1);
    lua_createtable(L, 3, 0);
    lua_pushstring(L, mod); lua_rawseti(L, -2, 1);
    lua_pushstring(L, field); lua_rawseti(L, -2, 2);
    if (fixed) { lua_pushboolean(L, 1); lua_rawseti(L, -2, 3); }
    lua_rawset(L, map);
}

static void name_module(lua_State *L, int map, const char *mod, int modidx, int fixed) {
    if (lua_type(L, modidx) == LUA_TTABLE || lua_type(L, modidx) == LUA_TFUNCTION) {
        lua_pushvalue(L, modidx);
        name_one(L, map, mod, "", fixed);
    }
    if (lua_type(L, modidx) != LUA_TTABLE) return;
    lua_pushnil(L);
    while (lua_next(L, modidx)) {
        int t = lua_type(L, -1);
        if (lua_type(L, -2) == LUA_TSTRING && (t == LUA_TFUNCTION || t == LUA_TTABLE ||
                                              t == LUA_TUSERDATA || t == LUA_TLIGHTUSERDATA)) {
            const char *k = lua_tostring(L, -2);
            lua_pushvalue(L, -1);
            name_one(L, map, mod, k, fixed);
        }
        lua_pop(L, 1);
    }
}

/* Push the map value -> {module, field} of this state's loaded modules,
 * rebuilt when the number of loaded modules changed. Standard libraries
 * first, so math.floor is not named after a module that re-exports it. */
static void push_names(lua_State *L) {
    static const char *const std[] = {"string", "table", "math", "io", "os",
        "coroutine", "utf8", "debug", "package", NULL};
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    int loaded = lua_gettop(L);
    /* The cached map stands while package.loaded holds as many modules as
     * when it was built and each of them is in it (a module unloaded and
     * another loaded, as test runners do, keeps the count). */
    if (lua_getfield(L, LUA_REGISTRYINDEX, "lask.names") == LUA_TTABLE) {
        lua_getfield(L, -1, "n");
        lua_Integer n = lua_tointeger(L, -1), count = 0;
        lua_pop(L, 1);
        lua_getfield(L, -1, "map");
        int cached = lua_gettop(L), same = lua_istable(L, cached);
        lua_pushnil(L);
        while (same && lua_next(L, loaded)) {
            count++;
            /* the globals table is deliberately not in the map */
            int globals = lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "_G") == 0;
            if (!globals && (lua_istable(L, -1) || lua_isfunction(L, -1)))
                same = lua_rawget(L, cached) != LUA_TNIL;   /* pops the module */
            lua_pop(L, 1);
        }
        if (same && n == count) {
            lua_remove(L, -2);
            lua_remove(L, loaded);
            return;
        }
        lua_settop(L, cached - 1);
    }
    lua_pop(L, 1);
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, loaded)) { count++; lua_pop(L, 1); }
    lua_createtable(L, 0, 2);          /* record */
    lua_newtable(L);                   /* map */
    int map = lua_gettop(L);
    for (int i = 0; std[i]; i++) {
        lua_getfield(L, loaded, std[i]);
        name_module(L, map, std[i], lua_gettop(L), 1);
        lua_pop(L, 1);
    }
    /* of the globals only the base library's C functions (print, pairs...):
     * a user's global table must travel by value, not by name */
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_iscfunction(L, -1)) {
            const char *k = lua_tostring(L, -2);
            lua_pushvalue(L, -1);
            name_one(L, map, "_G", k, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, loaded)) {
        if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "_G") != 0)
            name_module(L, map, lua_tostring(L, -2), lua_gettop(L), 0);
        lua_pop(L, 1);
    }
    /* the globals table is a marker of its own, not "_G" */
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushnil(L);
    lua_rawset(L, map);
    lua_pushvalue(L, map);
    lua_setfield(L, map - 1, "map");
    lua_pushinteger(L, count);
    lua_setfield(L, map - 1, "n");
    lua_pushvalue(L, map - 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "lask.names");
    lua_remove(L, map - 1);
    lua_remove(L, loaded);
}

/* If the value at idx has a name, write NAMED and return 1. */
static int try_named(enc *e, int idx) {
    lua_State *L = e->L;
    if (lua_isnil(L, e->names)) {   /* built on first use, in its reserved slot */
        push_names(L);
        lua_replace(L, e->names);
    }
    lua_pushvalue(L, idx);
    if (lua_rawget(L, e->names) != LUA_TTABLE) { lua_pop(L, 1); return 0; }
    size_t n1, n2;
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    const char *m = lua_tolstring(L, -2, &n1), *f = lua_tolstring(L, -1, &n2);
    put_byte(e, T_NAMED);
    put_str(e, m, n1);
    put_str(e, f, n2);
    lua_pop(L, 3);
    return 1;
}

/* -------------------------------------------------------------- encoding */

static void enc_value(enc *e, int idx, const path *p);

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud) {
    (void)L;
    enc *e = ud;
    ebox *b = e->b;
    if (b->n + sz > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + sz) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return 1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, sz);
    b->n += sz;
    return 0;
}

static int remember(enc *e, int idx) {
    lua_State *L = e->L;
    lua_pushvalue(L, idx);
    lua_pushinteger(L, e->nextid);
    lua_rawset(L, e->seen);
    return e->nextid++;
}

static int seen_ref(enc *e, int idx) {
    lua_State *L = e->L;
    lua_pushvalue(L, idx);
    if (lua_rawget(L, e->seen) == LUA_TNUMBER) {
        put_byte(e, T_REF);
        put_varint(e, (uint64_t)lua_tointeger(L, -1));
        lua_pop(L, 1);
        return 1;
    }
    lua_pop(L, 1);
    return 0;
}

static void enc_function(enc *e, int idx, const path *p) {
    lua_State *L = e->L;
    if (lua_iscfunction(L, idx)) {
        if (try_named(e, idx)) return;
        if (e->flags & LASK__ENC_TOKEN) goto ident;
        enc_error(e, p, "a C function that is not reachable by name (not a field of a loaded module)");
    }
    if (e->depth > 1 && try_named(e, idx)) return;
    int fid = remember(e, idx);

    lua_Debug ar;
    lua_pushvalue(L, idx);
    lua_getinfo(L, ">S", &ar);
    char src[LUA_IDSIZE + 24];
    snprintf(src, sizeof src, "%s:%d", ar.short_src, ar.linedefined);
    const char *outer_src = e->fnsrc;
    const path *outer_path = e->fnpath;
    e->fnsrc = src;
    e->fnpath = NULL;

    put_byte(e, T_FUNC);
    /* reserve room for the length: dump straight into the buffer */
    size_t lenpos = e->b->n;
    put(e, "\0\0\0\0\0", 5);
    size_t start = e->b->n;
    lua_pushvalue(L, idx);
    int st = lua_dump(L, dump_writer, e, 0);
    lua_pop(L, 1);
    if (st) luaL_error(L, "lask: out of memory while encoding a function");
    uint64_t blen = e->b->n - start;
    if (blen >= (1ull << 35)) luaL_error(L, "lask: function too large to ship");
    for (int i = 0; i < 5; i++)   /* fixed 5-byte varint */
        e->b->p[lenpos + (size_t)i] = (char)(((blen >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0));

    int nups = 0;
    while (lua_getupvalue(L, idx, nups + 1)) { lua_pop(L, 1); nups++; }
    put_varint(e, (uint64_t)nups);
    for (int i = 1; i <= nups; i++) {
        void *uid = lua_upvalueid(L, idx, i);
        lua_pushlightuserdata(L, uid);
        if (lua_rawget(L, e->upids) == LUA_TNUMBER) {
            lua_Integer v = lua_tointeger(L, -1);
            lua_pop(L, 1);
            put_byte(e, T_UPJOIN);
            put_varint(e, (uint64_t)(v >> 8));
            put_varint(e, (uint64_t)(v & 0xff));
            continue;
        }
        lua_pop(L, 1);
        lua_pushlightuserdata(L, uid);
        lua_pushinteger(L, ((lua_Integer)fid << 8) | i);
        lua_rawset(L, e->upids);
        const char *name = lua_getupvalue(L, idx, i);
        if (!name || !*name) name = "?";
        if (strcmp(name, "_ENV") == 0) {
            /* whatever environment the function had here (busted and
             * sandboxes use their own), it resolves globals in the
             * receiver's globals */
            put_byte(e, T_GLOBALS);
            lua_pop(L, 1);
            continue;
        }
        path up = {NULL, 0, name, (int)strlen(name), 0, 0};
        enc_value(e, lua_gettop(L), &up);
        lua_pop(L, 1);
    }
    e->fnsrc = outer_src;
    e->fnpath = outer_path;
    (void)p;
    return;
ident:
    put_byte(e, T_IDENT);
    {
        const void *q = lua_topointer(L, idx);
        put(e, &q, sizeof q);
    }
}

static void enc_table(enc *e, int idx, const path *p) {
    lua_State *L = e->L;
    if (lua_rawequal(L, idx, LUA_REGISTRYINDEX)) goto bad;
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    int isg = lua_rawequal(L, idx, -1);
    lua_pop(L, 1);
    if (isg) { put_byte(e, T_GLOBALS); return; }
    if (try_named(e, idx)) return;
    remember(e, idx);
    put_byte(e, T_TABLE);
    /* the sequence part as bare values, then the other pairs */
    lua_Integer narr = (lua_Integer)lua_rawlen(L, idx);
    put_varint(e, (uint64_t)narr);
    for (lua_Integer i = 1; i <= narr; i++) {
        path sub = {p, 4, NULL, 0, 0, i};
        lua_rawgeti(L, idx, i);
        enc_value(e, lua_gettop(L), &sub);
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int k = lua_gettop(L) - 1, v = k + 1;
        if (narr && lua_isinteger(L, k)) {
            lua_Integer i = lua_tointeger(L, k);
            if (i >= 1 && i <= narr) { lua_pop(L, 1); continue; }
        }
        path sub = {p, 1, "?", 1, k, 0};
        if (lua_type(L, k) == LUA_TSTRING) {
            size_t n;
            sub.name = lua_tolstring(L, k, &n);
            sub.nlen = n > 40 ? 40 : (int)n;
        } else {
            sub.kind = 2;
        }
        enc_value(e, k, &sub);
        enc_value(e, v, &sub);
        lua_pop(L, 1);
    }
    put_byte(e, T_END);
    if (lua_getmetatable(L, idx)) {
        path mt = {p, 3, "", 0, 0, 0};
        enc_value(e, lua_gettop(L), &mt);
        lua_pop(L, 1);
    } else {
        put_byte(e, T_NIL);
    }
    return;
bad:
    enc_error(e, p, "the registry");
}

static void enc_value(enc *e, int idx, const path *p) {
    lua_State *L = e->L;
    if (++e->depth > MAXDEPTH) enc_error(e, p, "a value nested too deeply");
    luaL_checkstack(L, 8, "lask: value nested too deeply");
    switch (lua_type(L, idx)) {
    case LUA_TNIL: put_byte(e, T_NIL); break;
    case LUA_TBOOLEAN: put_byte(e, lua_toboolean(L, idx) ? T_TRUE : T_FALSE); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            uint64_t u = (uint64_t)lua_tointeger(L, idx);
            put_byte(e, T_INT);
            put_varint(e, (u << 1) ^ (uint64_t)-(int64_t)(u >> 63));
        } else {
            double d = lua_tonumber(L, idx);
            put_byte(e, T_FLOAT);
            put(e, &d, 8);
        }
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        put_byte(e, T_STR);
        put_str(e, s, n);
        break;
    }
    case LUA_TTABLE:
        if (!seen_ref(e, idx)) enc_table(e, idx, p);
        break;
    case LUA_TFUNCTION:
        if (!seen_ref(e, idx)) enc_function(e, idx, p);
        break;
    case LUA_TUSERDATA: {
        lask_chunk *c = lask__test_chunk(L, idx, -1);
        int tag = T_CHUNK;
        if (!c && !(e->flags & LASK__ENC_TOKEN)) {
            lask__shipped *s = lask__test_shipped(L, idx);
            if (s) { c = s->c; tag = T_SHIPPED; }
        }
        if (c && !(e->flags & LASK__ENC_TOKEN)) {
            ebox *b = e->b;
            if (b->nchunks == b->capchunks) {
                size_t cap = b->capchunks ? b->capchunks * 2 : 4;
                lask_chunk **q = realloc(b->chunks, cap * sizeof *q);
                if (!q) luaL_error(L, "lask: out of memory while encoding a value");
                b->chunks = q;
                b->capchunks = cap;
            }
            b->chunks[b->nchunks++] = lask_chunk_ref(c);
            put_byte(e, tag);
            put_varint(e, b->nchunks - 1);
            break;
        }
        if (e->flags & LASK__ENC_TOKEN) {
            lask__task *t = lask__test_task(L, idx);
            if (t) {
                const char *k = lask__task_key(t);
                put_byte(e, T_TASK);
                put_str(e, k, strlen(k));
                break;
            }
            lask__shipped *s = lask__test_shipped(L, idx);
            if (s) {
                put_byte(e, T_IDENT);
                put(e, &s->id, 8);
                break;
            }
        }
        if (try_named(e, idx)) break;
        if (e->flags & LASK__ENC_TOKEN) goto ident;
        if (lask__test_task(L, idx))
            enc_error(e, p, "a task object (pass it as a task argument instead)");
        enc_error(e, p, "a userdata that is not a lask chunk");
        break;
    }
    case LUA_TLIGHTUSERDATA:
        /* a pointer means nothing elsewhere: only a module's constant
         * (lua-cjson's null) travels, by name */
        if (try_named(e, idx)) break;
        /* fall through */
    default:
        if (e->flags & LASK__ENC_TOKEN) goto ident;
        if (lua_type(L, idx) == LUA_TTHREAD) enc_error(e, p, "a coroutine");
        {
            char what[64];
            snprintf(what, sizeof what, "a %s", luaL_typename(L, idx));
            enc_error(e, p, what);
        }
    }
    e->depth--;
    return;
ident:
    put_byte(e, T_IDENT);
    {
        const void *q = lua_topointer(L, idx);
        put(e, &q, sizeof q);
    }
    e->depth--;
}

/* Encode the value at idx; leaves the box (userdata) on the stack. */
static ebox *encode_box(lua_State *L, int idx, int flags) {
    idx = lua_absindex(L, idx);
    ebox *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    if (luaL_newmetatable(L, "lask.ebox")) {
        lua_pushcfunction(L, ebox_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    int top = lua_gettop(L);
    enc e = {L, b, 0, 0, 0, 1, flags, 0, NULL, NULL};
    lua_newtable(L);
    e.seen = lua_gettop(L);
    lua_newtable(L);
    e.upids = e.seen + 1;
    lua_pushnil(L);
    e.names = e.seen + 2;
    put(&e, MAGIC "\0\0\0\0\0\0\0\0", HDR);
    enc_value(&e, idx, NULL);
    uint64_t h = lask__hash(b->p + HDR, b->n - HDR, 0);
    memcpy(b->p + 4, &h, 8);
    lua_settop(L, top);
    return b;
}

/* ENCODED chunks made here keep their chunk references after the bytes:
 * a count, then the pointers, 8-aligned past the terminating NUL. */
static lask_chunk **trailer(const lask__bytes *b, int64_t *n) {
    size_t off = ((size_t)b->n + 1 + 7) & ~(size_t)7;
    char *base = (char *)b->data + off;
    memcpy(n, base, 8);
    return (lask_chunk **)(void *)(base + 8);
}

static uint64_t compute_id(const lask__bytes *b);

static void encoded_destroy(lask_chunk *c) {
    int64_t n;
    lask_chunk **cs = trailer((lask__bytes *)c, &n);
    for (int64_t i = 0; i < n; i++) lask_chunk_unref(cs[i]);
    free(c);
}

lask_chunk *lask__encode(lua_State *L, int idx) {
    ebox *b = encode_box(L, idx, 0);
    size_t off = (b->n + 1 + 7) & ~(size_t)7;
    size_t total = sizeof(lask__bytes) + off + 8 + b->nchunks * sizeof(lask_chunk *);
    lask__bytes *r = malloc(total);
    if (!r) luaL_error(L, "lask: out of memory while encoding a value");
    int64_t nb = (int64_t)b->n;
    for (size_t i = 0; i < b->nchunks; i++) nb += lask_chunk_nbytes(b->chunks[i]);
    lask__chunk_init(&r->h, LASK_KIND_ENCODED, nb, encoded_destroy);
    r->n = (int64_t)b->n;
    r->hash = 0;
    memcpy(r->data, b->p, b->n);
    r->data[b->n] = '\0';
    int64_t nc = (int64_t)b->nchunks;
    memcpy(r->data + off, &nc, 8);
    if (nc) memcpy(r->data + off + 8, b->chunks, b->nchunks * sizeof(lask_chunk *));
    b->nchunks = 0;      /* the chunk owns those references now */
    r->hash = compute_id(r);
    lua_pop(L, 1);
    return &r->h;
}

void lask__encode_string(lua_State *L, int idx) {
    ebox *b = encode_box(L, idx, 0);
    if (b->nchunks)
        luaL_error(L, "lask: cannot encode a chunk or shipped function into a string "
                      "(they are shared by reference within one process only)");
    lua_pushlstring(L, b->p, b->n);
    lua_remove(L, -2);
}

static void token_bytes(const void *p, size_t n, uint64_t h[2]) {
    h[0] = lask__hash(p, n, h[0] ^ 0x9e3779b97f4a7c15ULL);
    h[1] = lask__hash(p, n, h[1] + 0x632be59bd9b4e019ULL);
}

void lask__token_value(lua_State *L, int idx, uint64_t h[2]) {
    /* scalars, strings and tasks, the usual task arguments, skip the
     * encoder's setup; the tag byte keeps types apart (1 vs 1.0 vs "1") */
    unsigned char buf[16];
    switch (lua_type(L, idx)) {
    case LUA_TNIL: buf[0] = T_NIL; token_bytes(buf, 1, h); return;
    case LUA_TBOOLEAN: buf[0] = lua_toboolean(L, idx) ? T_TRUE : T_FALSE; token_bytes(buf, 1, h); return;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            lua_Integer i = lua_tointeger(L, idx);
            buf[0] = T_INT;
            memcpy(buf + 1, &i, 8);
        } else {
            double d = lua_tonumber(L, idx);
            buf[0] = T_FLOAT;
            memcpy(buf + 1, &d, 8);
        }
        token_bytes(buf, 9, h);
        return;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        uint64_t len = n;
        buf[0] = T_STR;
        memcpy(buf + 1, &len, 8);
        token_bytes(buf, 9, h);
        token_bytes(s, n, h);
        return;
    }
    case LUA_TUSERDATA: {
        lask__task *t = lask__test_task(L, idx);
        if (t) {
            const char *k = lask__task_key(t);
            uint64_t len = strlen(k);
            buf[0] = T_TASK;
            memcpy(buf + 1, &len, 8);
            token_bytes(buf, 9, h);
            token_bytes(k, len, h);
            return;
        }
        lask__shipped *sh = lask__test_shipped(L, idx);
        if (sh) {
            buf[0] = T_IDENT;
            memcpy(buf + 1, &sh->id, 8);
            token_bytes(buf, 9, h);
            return;
        }
        break;
    }
    default: break;
    }
    ebox *b = encode_box(L, idx, LASK__ENC_TOKEN);
    h[0] = lask__hash(b->p + HDR, b->n - HDR, h[0] ^ 0x9e3779b97f4a7c15ULL);
    h[1] = lask__hash(b->p + HDR, b->n - HDR, h[1] + 0x632be59bd9b4e019ULL);
    lua_pop(L, 1);
}

static uint64_t compute_id(const lask__bytes *b) {
    uint64_t h = lask__hash(b->data, (size_t)b->n, 7);
    if (b->h.destroy == encoded_destroy) {
        int64_t n;
        lask_chunk **cs = trailer(b, &n);
        if (n) h ^= lask__hash(cs, (size_t)n * sizeof *cs, 11);
    }
    return h ? h : 1;
}

uint64_t lask__encoded_id(lask_chunk *c) {
    const lask__bytes *b = (const lask__bytes *)c;
    /* set before the chunk is published when we made it; others' ENCODED
     * chunks are hashed on each use rather than written from many threads */
    return b->hash ? b->hash : compute_id(b);
}

/* -------------------------------------------------------------- decoding */

typedef struct dec {
    lua_State *L;
    int flags;
    const unsigned char *p, *end;
    lask_chunk **chunks;
    int64_t nchunks;
    int objs;            /* stack index: id -> object */
    int nobjs;
    int depth;
} dec;

static _Noreturn void bad(dec *d, const char *why) {
    luaL_error(d->L, "lask: malformed encoded value (%s)", why);
    abort(); /* not reached: luaL_error does not return */
}

static int get_byte(dec *d) {
    if (d->p >= d->end) bad(d, "truncated");
    return *d->p++;
}

static uint64_t get_varint(dec *d) {
    uint64_t v = 0;
    for (int s = 0; s < 64; s += 7) {
        int c = get_byte(d);
        v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) return v;
    }
    bad(d, "bad varint");
}

static const char *get_str(dec *d, size_t *n) {
    uint64_t len = get_varint(d);
    if (len > (uint64_t)(d->end - d->p)) bad(d, "truncated string");
    const char *s = (const char *)d->p;
    d->p += len;
    *n = (size_t)len;
    return s;
}

static void dec_value(dec *d);

typedef struct lreader { const char *p; size_t n; } lreader;
static const char *load_reader(lua_State *L, void *ud, size_t *sz) {
    (void)L;
    lreader *r = ud;
    if (!r->n) return NULL;
    *sz = r->n;
    r->n = 0;
    return r->p;
}

static void new_obj(dec *d) {
    lua_pushvalue(d->L, -1);
    lua_rawseti(d->L, d->objs, ++d->nobjs);
}

static void dec_named(dec *d) {
    lua_State *L = d->L;
    size_t nm, nf;
    const char *m = get_str(d, &nm);
    const char *f = get_str(d, &nf);
    lua_pushlstring(L, m, nm);
    lua_pushlstring(L, f, nf);
    int mi = lua_gettop(L) - 1;
    /* package.loaded first, then require */
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, mi);
    if (lua_rawget(L, -2) == LUA_TNIL) {
        lua_pop(L, 2);
        lua_getglobal(L, "require");
        if (!lua_isfunction(L, -1))
            luaL_error(L, "lask: cannot resolve module '%s': no require", lua_tostring(L, mi));
        lua_pushvalue(L, mi);
        lua_call(L, 1, 1);
    } else {
        lua_remove(L, -2);
    }
    if (nf) {
        if (lua_type(L, -1) != LUA_TTABLE)
            luaL_error(L, "lask: cannot resolve '%s.%s' in this state", lua_tostring(L, mi),
                       lua_tostring(L, mi + 1));
        lua_pushvalue(L, mi + 1);
        lua_rawget(L, -2);
        lua_remove(L, -2);
        if (lua_isnil(L, -1))
            luaL_error(L, "lask: cannot resolve '%s.%s' in this state", lua_tostring(L, mi),
                       lua_tostring(L, mi + 1));
    }
    lua_replace(L, mi);
    lua_pop(L, 1);
}

static void dec_function(dec *d) {
    lua_State *L = d->L;
    uint64_t len = get_varint(d);
    if (len > (uint64_t)(d->end - d->p)) bad(d, "truncated function");
    lreader r = {(const char *)d->p, (size_t)len};
    if (len < 4 || memcmp(d->p, LUA_SIGNATURE, 4) != 0) bad(d, "not a Lua function");
    d->p += len;
    if (lua_load(L, load_reader, &r, "=(shipped)", "b") != LUA_OK)
        luaL_error(L, "lask: malformed encoded function: %s", lua_tostring(L, -1));
    int f = lua_gettop(L);
    new_obj(d);
    uint64_t nups = get_varint(d);
    for (uint64_t i = 1; i <= nups; i++) {
        if (i > 255 || !lua_getupvalue(L, f, (int)i)) bad(d, "upvalue count");
        lua_pop(L, 1);
        if (d->p < d->end && *d->p == T_UPJOIN) {
            d->p++;
            uint64_t oid = get_varint(d), oi = get_varint(d);
            if (oid < 1 || oid > (uint64_t)d->nobjs) bad(d, "bad upvalue reference");
            lua_rawgeti(L, d->objs, (lua_Integer)oid);
            if (lua_type(L, -1) != LUA_TFUNCTION || lua_iscfunction(L, -1) ||
                oi < 1 || oi > 255 || !lua_getupvalue(L, -1, (int)oi))
                bad(d, "bad upvalue reference");
            lua_pop(L, 1);
            lua_upvaluejoin(L, f, (int)i, -1, (int)oi);
            lua_pop(L, 1);
            continue;
        }
        dec_value(d);
        lua_setupvalue(L, f, (int)i);
    }
    if (lua_getupvalue(L, f, (int)nups + 1)) bad(d, "upvalue count");
}

static void dec_table(dec *d) {
    lua_State *L = d->L;
    uint64_t narr = get_varint(d);
    if (narr > (uint64_t)(d->end - d->p)) bad(d, "bad array length");
    lua_createtable(L, (int)(narr < (1u << 26) ? narr : 0), 0);
    int t = lua_gettop(L);
    new_obj(d);
    for (uint64_t i = 1; i <= narr; i++) {
        dec_value(d);
        lua_rawseti(L, t, (lua_Integer)i);
    }
    for (;;) {
        if (d->p < d->end && *d->p == T_END) { d->p++; break; }
        dec_value(d);
        if (lua_isnil(L, -1)) bad(d, "nil table key");
        if (lua_type(L, -1) == LUA_TNUMBER && isnan(lua_tonumber(L, -1)))
            bad(d, "NaN table key");
        dec_value(d);
        lua_rawset(L, t);
    }
    dec_value(d);
    if (lua_istable(L, -1)) lua_setmetatable(L, t);
    else if (lua_isnil(L, -1)) lua_pop(L, 1);
    else bad(d, "metatable is not a table");
}

static void dec_value(dec *d) {
    lua_State *L = d->L;
    if (++d->depth > MAXDEPTH) bad(d, "nested too deeply");
    luaL_checkstack(L, 8, "lask: decoded value nested too deeply");
    int tag = get_byte(d);
    switch (tag) {
    case T_NIL: lua_pushnil(L); break;
    case T_FALSE: lua_pushboolean(L, 0); break;
    case T_TRUE: lua_pushboolean(L, 1); break;
    case T_INT: {
        uint64_t u = get_varint(d);
        lua_pushinteger(L, (lua_Integer)((u >> 1) ^ (uint64_t)-(int64_t)(u & 1)));
        break;
    }
    case T_FLOAT: {
        double x;
        if (d->end - d->p < 8) bad(d, "truncated float");
        memcpy(&x, d->p, 8);
        d->p += 8;
        lua_pushnumber(L, x);
        break;
    }
    case T_STR: {
        size_t n;
        const char *s = get_str(d, &n);
        lua_pushlstring(L, s, n);
        break;
    }
    case T_TABLE: dec_table(d); break;
    case T_FUNC:
        if (d->flags & LASK__DEC_NOCODE) bad(d, "functions not accepted here");
        dec_function(d);
        break;
    case T_REF: {
        uint64_t id = get_varint(d);
        if (id < 1 || id > (uint64_t)d->nobjs) bad(d, "bad reference");
        lua_rawgeti(L, d->objs, (lua_Integer)id);
        break;
    }
    case T_GLOBALS: lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); break;
    case T_NAMED: dec_named(d); break;
    case T_CHUNK: {
        uint64_t i = get_varint(d);
        if (i >= (uint64_t)d->nchunks) bad(d, "chunk reference outside its encoded chunk");
        lask__push_chunk(L, lask_chunk_ref(d->chunks[i]));
        break;
    }
    case T_SHIPPED: {
        uint64_t i = get_varint(d);
        if (i >= (uint64_t)d->nchunks || lask_chunk_kind(d->chunks[i]) != LASK_KIND_ENCODED)
            bad(d, "shipped function outside its encoded chunk");
        lask__push_shipped(L, lask_chunk_ref(d->chunks[i]));
        break;
    }
    default: bad(d, "unknown tag");
    }
    d->depth--;
}

static void decode(lua_State *L, const char *p, int64_t n, lask_chunk **chunks, int64_t nc,
                   int flags) {
    if (!p || n < HDR || memcmp(p, MAGIC, 4) != 0)
        luaL_error(L, "lask: malformed encoded value (bad header)");
    uint64_t h;
    memcpy(&h, p + 4, 8);
    if (h != lask__hash(p + HDR, (size_t)(n - HDR), 0))
        luaL_error(L, "lask: malformed encoded value (checksum mismatch)");
    lua_newtable(L);
    dec d = {L, flags, (const unsigned char *)p + HDR, (const unsigned char *)p + n, chunks, nc,
             lua_gettop(L), 0, 0};
    dec_value(&d);
    if (d.p != d.end) luaL_error(L, "lask: malformed encoded value (trailing bytes)");
    lua_remove(L, d.objs);
}

void lask__decode_ex(lua_State *L, const char *p, int64_t n, int flags) {
    decode(L, p, n, NULL, 0, flags);
}

void lask__decode(lua_State *L, const char *p, int64_t n) {
    decode(L, p, n, NULL, 0, 0);
}

void lask__decode_chunk(lua_State *L, const lask_chunk *c) {
    const lask__bytes *b = (const lask__bytes *)c;
    if (c->destroy == encoded_destroy) {
        int64_t nc;
        lask_chunk **cs = trailer(b, &nc);
        decode(L, b->data, b->n, cs, nc, 0);
    } else {
        decode(L, b->data, b->n, NULL, 0, 0);
    }
}
