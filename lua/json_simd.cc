/*
 * json_simd.cc - lask.core.json: JSON text to Lua values on simdjson.
 *
 *   decode(s [, keys])            -> value | nil, message
 *   batch(text | textbuf, pos, delim, keys, out, max)
 *                                 -> pos', k            (out[1..k] filled)
 *                                  | nil, k, message, line, pos'
 *   null                          the JSON null (a NULL light userdata, the
 *                                 same value as lua-cjson's cjson.null)
 *
 * simdjson (Debian's libsimdjson) parses and validates a record with SIMD
 * instructions; we then build the Lua value from its DOM with every table
 * sized up front. It is C++, so this is the one C++ file of the project,
 * behind a C-callable Lua module: nothing C++ crosses its edge.
 *
 * batch() decodes the records of a text of JSON lines (the bytes of whole
 * lines, each ended by delim or by the end of text) from byte offset pos
 * (0-based), at most max of them, into out[1..k], and clears out[k+1..] so
 * #out == k. With keys (a list of strings; decode takes them too) a record that is an object keeps
 * only those fields: lask.bag passes the fields its callbacks are proven to
 * read (fnfields.c), everything else is still parsed and validated. On a
 * record simdjson rejects, out[1..k-1] are filled and the bad line comes
 * back as a string with simdjson's message; the caller decides (lask.json
 * retries it with lua-cjson, which also accepts invalid UTF-8 and numbers
 * beyond the double range, and explains real errors by line and column).
 *
 * Numbers: integers that fit 64 bits become Lua integers, other numbers
 * floats (as Lua's own tonumber does).
 *
 * Lua errors (only out of memory here) long-jump through these frames;
 * that is safe because nothing on our C++ stack has a destructor: the
 * parser lives in a userdata whose __gc deletes it.
 */
#include <simdjson.h>

#include <cstring>
#include <new>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}
#include "textbuf.h"

using namespace simdjson;

namespace {

const char *PARSER_MT = "lask.json.parser";
const size_t PAD = SIMDJSON_PADDING;
const int MAX_KEYS = 64;   /* more wanted fields than this: no projection */
/* After a record this big, give the parser's buffers (about ten bytes per
 * byte of input) back rather than keep them for the state's lifetime. */
const size_t BIG = 16u << 20;

struct jparser {
    dom::parser *p;
    char *scratch;           /* padded copy of a record near its text's end */
    size_t cap;
};

int parser_gc(lua_State *L) {
    jparser *j = static_cast<jparser *>(luaL_checkudata(L, 1, PARSER_MT));
    delete j->p;
    j->p = nullptr;
    free(j->scratch);
    j->scratch = nullptr;
    return 0;
}

jparser *parser_of(lua_State *L) {
    return static_cast<jparser *>(lua_touserdata(L, lua_upvalueindex(1)));
}

/* Push e; false when the nesting is too deep for the Lua stack. */
bool push(lua_State *L, dom::element e) {
    switch (e.type()) {
    case dom::element_type::ARRAY: {
        dom::array a = e.get_array().value_unsafe();
        if (!lua_checkstack(L, 3)) return false;
        size_t n = a.size();
        lua_createtable(L, n < (1u << 24) ? (int)n : 0, 0);
        lua_Integer i = 0;
        for (dom::element v : a) {
            if (!push(L, v)) return false;
            lua_rawseti(L, -2, ++i);
        }
        return true;
    }
    case dom::element_type::OBJECT: {
        dom::object o = e.get_object().value_unsafe();
        if (!lua_checkstack(L, 4)) return false;
        size_t n = o.size();
        lua_createtable(L, 0, n < (1u << 24) ? (int)n : 0);
        for (dom::key_value_pair kv : o) {
            lua_pushlstring(L, kv.key.data(), kv.key.size());
            if (!push(L, kv.value)) return false;
            lua_rawset(L, -3);
        }
        return true;
    }
    case dom::element_type::INT64:
        lua_pushinteger(L, (lua_Integer)e.get_int64().value_unsafe());
        return true;
    case dom::element_type::UINT64:   /* above INT64_MAX */
        lua_pushnumber(L, (lua_Number)e.get_uint64().value_unsafe());
        return true;
    case dom::element_type::DOUBLE:
        lua_pushnumber(L, e.get_double().value_unsafe());
        return true;
    case dom::element_type::STRING: {
        std::string_view s = e.get_string().value_unsafe();
        lua_pushlstring(L, s.data(), s.size());
        return true;
    }
    case dom::element_type::BOOL:
        lua_pushboolean(L, e.get_bool().value_unsafe());
        return true;
    case dom::element_type::NULL_VALUE:
        lua_pushlightuserdata(L, nullptr);
        return true;
    }
    return false;
}

/* The fields to keep: names (C views) and the Lua strings at keys[i]. */
struct keyset {
    int n;                   /* -1: keep everything */
    int tidx;                /* stack index of the keys list */
    const char *name[MAX_KEYS];
    size_t len[MAX_KEYS];
};

void keys_of(lua_State *L, int idx, keyset *k) {
    k->n = -1;
    k->tidx = idx;
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer n = luaL_len(L, idx);
    if (n > MAX_KEYS) return;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "json.batch: keys must be strings");
        k->name[i - 1] = lua_tolstring(L, -1, &k->len[i - 1]);
        lua_pop(L, 1);   /* still referenced by the list */
    }
    k->n = (int)n;
}

/* Push a record with only the wanted fields of a top-level object. */
bool push_projected(lua_State *L, dom::element e, const keyset *k) {
    if (k->n < 0 || e.type() != dom::element_type::OBJECT) return push(L, e);
    dom::object o = e.get_object().value_unsafe();
    if (!lua_checkstack(L, 4)) return false;
    lua_createtable(L, 0, k->n);
    for (dom::key_value_pair kv : o) {
        for (int i = 0; i < k->n; i++) {
            const char *kd = kv.key.data();
            size_t kn = kv.key.size();
            if (kn == k->len[i] && (kn == 0 || kd[0] == k->name[i][0]) &&
                memcmp(kd, k->name[i], kn) == 0) {
                lua_rawgeti(L, k->tidx, i + 1);   /* the interned key: no hashing */
                if (!push(L, kv.value)) return false;
                lua_rawset(L, -3);
                break;
            }
        }
    }
    return true;
}

/* Parse p[0..n), which is followed by at least PAD readable bytes when
 * padded; otherwise copy it into the scratch buffer first. */
error_code parse(lua_State *L, jparser *j, const char *p, size_t n, bool padded,
                 dom::element *out) {
    if (!padded) {
        if (j->cap < n + PAD) {
            size_t cap = (n + PAD) * 2;
            char *s = static_cast<char *>(realloc(j->scratch, cap));
            if (!s) luaL_error(L, "out of memory (%I bytes for a JSON record)", (lua_Integer)cap);
            j->scratch = s;
            j->cap = cap;
        }
        memcpy(j->scratch, p, n);
        memset(j->scratch + n, ' ', PAD);
        p = j->scratch;
    }
    return j->p->parse(p, n, false).get(*out);
}

/* Shrink what a huge record made the parser and scratch buffer grow to. */
void after_big(jparser *j, size_t n) {
    if (n < BIG) return;
    if (j->p->capacity() > BIG) {
        error_code e = j->p->allocate(1u << 20);   /* on failure the next parse allocates */
        (void)e;
    }
    if (j->cap > BIG) {
        free(j->scratch);
        j->scratch = nullptr;
        j->cap = 0;
    }
}

const char *too_deep = "nested too deeply";

int l_decode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    keyset keys;
    keys_of(L, 2, &keys);
    jparser *j = parser_of(L);
    dom::element e;
    error_code err = parse(L, j, s, n, false, &e);
    if (err) {
        lua_pushnil(L);
        lua_pushstring(L, error_message(err));
        return 2;
    }
    int top = lua_gettop(L);
    bool ok = push_projected(L, e, &keys);
    after_big(j, n);
    if (!ok) {
        lua_settop(L, top);
        lua_pushnil(L);
        lua_pushstring(L, too_deep);
        return 2;
    }
    return 1;
}

const char *find_delim(const char *p, size_t n, const char *d, size_t dlen) {
    if (n == 0) return nullptr;
    if (dlen == 1) return static_cast<const char *>(memchr(p, d[0], n));
    return static_cast<const char *>(memmem(p, n, d, dlen));
}

/* Clear out[k+1 ..] so that #out == k. */
void trim(lua_State *L, int out, lua_Integer k) {
    for (lua_Integer i = k + 1; lua_rawgeti(L, out, i) != LUA_TNIL; i++) {
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawseti(L, out, i);
    }
    lua_pop(L, 1);
}

int l_batch(lua_State *L) {
    size_t tlen, dlen;
    const char *text;
    size_t pad = 0;   /* readable bytes after text[tlen] */
    if (lua_type(L, 1) == LUA_TSTRING) {
        text = lua_tolstring(L, 1, &tlen);
    } else {
        lask__textbuf *b = static_cast<lask__textbuf *>(luaL_checkudata(L, 1, LASK__TEXTBUF_MT));
        text = b->p ? b->p : "";
        tlen = b->len;
        pad = b->p ? b->cap - b->len : 0;
    }
    lua_Integer pos = luaL_checkinteger(L, 2);
    const char *d = luaL_checklstring(L, 3, &dlen);
    luaL_argcheck(L, dlen > 0, 3, "empty line delimiter");
    keyset keys;
    keys_of(L, 4, &keys);
    luaL_checktype(L, 5, LUA_TTABLE);
    lua_Integer max = luaL_checkinteger(L, 6);
    luaL_argcheck(L, max >= 1, 6, "at least one record per batch");
    luaL_argcheck(L, pos >= 0 && (size_t)pos <= tlen, 2, "offset out of range");
    jparser *j = parser_of(L);
    lua_settop(L, 6);

    const char *p = text + pos, *end = text + tlen;
    lua_Integer k = 0;
    while (k < max && p < end) {
        const char *q = find_delim(p, (size_t)(end - p), d, dlen);
        const char *stop = q ? q : end;
        size_t n = (size_t)(stop - p);
        const char *next = q ? q + dlen : end;
        dom::element e;
        /* the bytes after a record are the next lines: enough padding
         * unless the record ends near the end of the text */
        error_code err = parse(L, j, p, n, (size_t)(end - stop) + pad >= PAD, &e);
        const char *msg = err ? error_message(err) : nullptr;
        if (!err) {
            bool ok = push_projected(L, e, &keys);
            after_big(j, n);
            if (ok) {
                lua_rawseti(L, 5, ++k);
                p = next;
                continue;
            }
            lua_settop(L, 6);
            msg = too_deep;
        }
        trim(L, 5, k);
        lua_pushnil(L);
        lua_pushinteger(L, k + 1);
        lua_pushstring(L, msg);
        lua_pushlstring(L, p, n);
        lua_pushinteger(L, (lua_Integer)(next - text));
        return 5;
    }
    trim(L, 5, k);
    lua_pushinteger(L, (lua_Integer)(p - text));
    lua_pushinteger(L, k);
    return 2;
}

}  // namespace

extern "C" int luaopen_lask_core_json(lua_State *L) {
    lua_newtable(L);
    jparser *j = static_cast<jparser *>(lua_newuserdatauv(L, sizeof(jparser), 0));
    j->p = nullptr;
    j->scratch = nullptr;
    j->cap = 0;
    if (luaL_newmetatable(L, PARSER_MT)) {
        lua_pushcfunction(L, parser_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    j->p = new (std::nothrow) dom::parser();
    if (!j->p) return luaL_error(L, "out of memory (a JSON parser)");
    const luaL_Reg fns[] = {{"decode", l_decode}, {"batch", l_batch}, {nullptr, nullptr}};
    luaL_setfuncs(L, fns, 1);   /* the parser is every function's upvalue */
    lua_pushlightuserdata(L, nullptr);
    lua_setfield(L, -2, "null");
    return 1;
}
