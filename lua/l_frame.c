/*
 * l_frame.c - the local frame seen from Lua (lask.core.frame).
 *
 * A frame chunk comes out as a userdata of the FRAME kind metatable; a
 * column is a frame of one column, so every result crosses tasks and
 * threads as a chunk. part.x / part["x"] give a column, part[mask] filters,
 * part[{"x", "y"}] selects, col[i] / frame[i] give a value / a row table
 * (1-based). Arithmetic operators and the comparison methods build new
 * columns at once. Methods written in Lua (groupby objects, query, merge
 * options) live in stdlib/lask/dataframe/localframe.lua and are installed
 * into the same method table on first use.
 *
 * The module also registers the native kernels the lazy data frame uses
 * (frame.read_csv, frame.concat, frame.groupby_*), which run without Lua.
 */
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <errno.h>
#include <glob.h>
#include <sys/stat.h>
#include <lua.h>
#include <lauxlib.h>
#include "bridge.h"
#include "frame_ops.h"
#include "csvio.h"

#define METHODS_KEY "lask.frame.methods"

static lask__frame *testframe(lua_State *L, int idx) {
    return (lask__frame *)lask__test_chunk(L, idx, LASK_KIND_FRAME);
}

static lask__frame *checkframe(lua_State *L, int idx) {
    return (lask__frame *)lask__check_chunk(L, idx, LASK_KIND_FRAME, "frame");
}

static int pushframe(lua_State *L, lask__frame *f) {
    if (!f) return luaL_error(L, "%s", lask__frame_errmsg());
    lask__push_chunk(L, &f->h);
    return 1;
}

/* A one-column frame holding col (takes the reference). */
static int pushcol(lua_State *L, const char *name, lask__column *col) {
    if (!col) return luaL_error(L, "%s", lask__frame_errmsg());
    lask__frame *f = lask__frame_new(1, col->n);
    if (!f || lask__frame_set(f, 0, name, col)) {
        lask__column_unref(col);
        if (f) lask_chunk_unref(&f->h);
        return luaL_error(L, "out of memory");
    }
    return pushframe(L, f);
}

static lask__column *checkcol(lua_State *L, int idx, const char **name) {
    lask__frame *f = checkframe(L, idx);
    if (f->ncols != 1)
        luaL_error(L, "expected a column (a one-column frame), got a frame of %d columns", (int)f->ncols);
    if (name) *name = f->names[0];
    return f->cols[0];
}

/* Lua value -> scalar; 0 when it is not one (a table, a frame...). */
static int toscalar(lua_State *L, int idx, lask__scalar *s) {
    memset(s, 0, sizeof *s);
    switch (lua_type(L, idx)) {
    case LUA_TNIL: case LUA_TNONE: s->type = -1; return 1;
    case LUA_TBOOLEAN: s->type = LASK_COL_BOOL; s->i = lua_toboolean(L, idx); return 1;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) { s->type = LASK_COL_INT64; s->i = lua_tointeger(L, idx); }
        else { s->type = LASK_COL_FLOAT64; s->f = lua_tonumber(L, idx); }
        return 1;
    case LUA_TSTRING: s->type = LASK_COL_STRING; s->s = lua_tolstring(L, idx, &s->n); return 1;
    default: return 0;
    }
}

static void pushscalar(lua_State *L, const lask__scalar *s) {
    switch (s->type) {
    case LASK_COL_INT64: case LASK_COL_TIMESTAMP: lua_pushinteger(L, s->i); break;
    case LASK_COL_FLOAT64: lua_pushnumber(L, s->f); break;
    case LASK_COL_BOOL: lua_pushboolean(L, (int)s->i); break;
    case LASK_COL_STRING: lua_pushlstring(L, s->s, s->n); break;
    default: lua_pushnil(L);
    }
}

static void pushcell(lua_State *L, const lask__column *c, int64_t r) {
    lask__scalar s;
    lask__col_get(c, r, &s);
    if (s.type == LASK_COL_TIMESTAMP) {
        char buf[48];
        int n = lask__format_timestamp(s.i, buf);
        lua_pushlstring(L, buf, (size_t)n);
        return;
    }
    pushscalar(L, &s);
}

static const char *known_columns(lua_State *L, const lask__frame *f) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int32_t i = 0; i < f->ncols; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, f->names[i]);
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

static int32_t checkcolidx(lua_State *L, lask__frame *f, const char *name) {
    int32_t j = lask__frame_find(f, name);
    if (j < 0) luaL_error(L, "no column '%s' (columns: %s)", name, known_columns(L, f));
    return j;
}

/* Names from a string or a list of strings at idx (pushed as a table). */
static int32_t checknames(lua_State *L, int idx, const char **out, int32_t max) {
    if (lua_type(L, idx) == LUA_TSTRING) { out[0] = lua_tostring(L, idx); return 1; }
    luaL_checktype(L, idx, LUA_TTABLE);
    int32_t n = (int32_t)luaL_len(L, idx);
    if (n > max) luaL_error(L, "too many column names (at most %d)", max);
    for (int32_t i = 0; i < n; i++) {
        lua_geti(L, idx, i + 1);
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "column names must be strings (item %d)", i + 1);
        out[i] = lua_tostring(L, -1);
        lua_pop(L, 1);   /* the string stays alive in the table */
    }
    return n;
}

/* ------------------------------------------------------------ from Lua */

/* Column of n rows from the Lua list at idx (nil holes are missing). */
static lask__column *column_from_list(lua_State *L, int idx, int64_t n, const char *name) {
    int32_t t = -1;
    int64_t bytes = 0;
    for (int64_t i = 1; i <= n; i++) {
        int lt = lua_geti(L, idx, i);
        int32_t vt = lt == LUA_TNIL ? -1 : lt == LUA_TBOOLEAN ? LASK_COL_BOOL
                     : lt == LUA_TSTRING ? LASK_COL_STRING
                     : lt == LUA_TNUMBER ? (lua_isinteger(L, -1) ? LASK_COL_INT64 : LASK_COL_FLOAT64) : -2;
        if (vt == -2) luaL_error(L, "column '%s': row %d is a %s (numbers, strings, booleans or nil)", name, (int)i, luaL_typename(L, -1));
        if (vt == LASK_COL_STRING) bytes += (int64_t)lua_rawlen(L, -1);
        lua_pop(L, 1);
        if (vt < 0 || vt == t) continue;
        if (t < 0) t = vt;
        else if ((t == LASK_COL_INT64 && vt == LASK_COL_FLOAT64) || (t == LASK_COL_FLOAT64 && vt == LASK_COL_INT64)) t = LASK_COL_FLOAT64;
        else luaL_error(L, "column '%s': mixed types (%s and %s, row %d)", name, lask__coltype_name(t), lask__coltype_name(vt), (int)i);
    }
    if (t < 0) t = LASK_COL_FLOAT64;
    lask__column *c = lask__column_new(t, n, bytes);
    if (!c) luaL_error(L, "out of memory");
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        lua_geti(L, idx, i + 1);
        if (lua_isnil(L, -1)) {
            if (!lask__column_validity(c)) { lask__column_unref(c); luaL_error(L, "out of memory"); }
            lask__bit_set(c->valid, i, 0);
            if (t == LASK_COL_FLOAT64) ((double *)c->values)[i] = NAN;
        } else switch (t) {
            case LASK_COL_INT64: ((int64_t *)c->values)[i] = lua_tointeger(L, -1); break;
            case LASK_COL_FLOAT64: ((double *)c->values)[i] = lua_tonumber(L, -1); break;
            case LASK_COL_BOOL: ((uint8_t *)c->values)[i] = (uint8_t)lua_toboolean(L, -1); break;
            default: {
                size_t len;
                const char *s = lua_tolstring(L, -1, &len);
                memcpy(c->strdata + at, s, len);
                at += (int64_t)len;
            }
        }
        if (t == LASK_COL_STRING) ((int64_t *)c->values)[i + 1] = at;
        lua_pop(L, 1);
    }
    return c;
}

static int64_t max_index(lua_State *L, int idx) {
    int64_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_isinteger(L, -2) && lua_tointeger(L, -2) > n) n = lua_tointeger(L, -2);
        lua_pop(L, 1);
    }
    return n;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* frame{x = {...}, s = {...}} or frame{{x = 1, s = "a"}, ...} (rows);
 * opts.columns orders the columns (default: sorted names). */
static int l_frame_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int rows = lua_geti(L, 1, 1) == LUA_TTABLE;
    lua_pop(L, 1);
    int top = lua_gettop(L);
    /* the names */
    lua_newtable(L);               /* top+1: list of names */
    int nn = 0;
    if (lua_istable(L, 2) && lua_getfield(L, 2, "columns") == LUA_TTABLE) {
        int n = (int)luaL_len(L, -1);
        for (int i = 1; i <= n; i++) { lua_geti(L, -1, i); lua_seti(L, top + 1, ++nn); }
        lua_pop(L, 1);
    } else {
        if (lua_istable(L, 2)) lua_pop(L, 1);
        const char **names = NULL;
        int cap = 0;
        lua_newtable(L);           /* set of names seen */
        int set = lua_gettop(L);
        int64_t nr = rows ? max_index(L, 1) : 1;
        for (int64_t r = 1; r <= nr; r++) {
            int src = 1;
            if (rows) { if (lua_geti(L, 1, r) != LUA_TTABLE) { lua_pop(L, 1); continue; } src = lua_gettop(L); }
            lua_pushnil(L);
            while (lua_next(L, src)) {
                lua_pop(L, 1);
                if (lua_type(L, -1) != LUA_TSTRING) {
                    if (!rows) luaL_error(L, "frame: column names must be strings");
                    continue;
                }
                lua_pushvalue(L, -1);
                if (lua_rawget(L, set) == LUA_TNIL) {
                    lua_pushvalue(L, -2);
                    lua_pushboolean(L, 1);
                    lua_rawset(L, set);
                    if (nn == cap) {
                        cap = cap ? cap * 2 : 16;
                        const char **nm = realloc(names, sizeof *names * (size_t)cap);
                        if (!nm) { free(names); luaL_error(L, "out of memory"); }
                        names = nm;
                    }
                    names[nn++] = lua_tostring(L, -2);
                }
                lua_pop(L, 1);
            }
            if (rows) lua_pop(L, 1);
        }
        qsort(names, (size_t)nn, sizeof *names, cmpstr);
        for (int i = 0; i < nn; i++) { lua_pushstring(L, names[i]); lua_seti(L, top + 1, i + 1); }
        free(names);
        lua_pop(L, 1);
    }
    int64_t nrows = 0;
    if (lua_istable(L, 2) && lua_getfield(L, 2, "nrows") == LUA_TNUMBER) nrows = lua_tointeger(L, -1);
    if (lua_istable(L, 2)) lua_pop(L, 1);
    if (rows) nrows = max_index(L, 1);
    else for (int i = 1; i <= nn; i++) {
        lua_geti(L, top + 1, i);
        lua_gettable(L, 1);
        if (!lua_istable(L, -1)) luaL_error(L, "frame: column '%s' must be a list", (lua_geti(L, top + 1, i), lua_tostring(L, -1)));
        int64_t n = max_index(L, lua_gettop(L));
        if (n > nrows) nrows = n;
        lua_pop(L, 1);
    }
    lask__frame *f = lask__frame_new(nn, nrows);
    if (!f) return luaL_error(L, "out of memory");
    lask__push_chunk(L, &f->h);    /* owned by the stack while we fill it */
    for (int i = 1; i <= nn; i++) {
        lua_geti(L, top + 1, i);
        const char *name = lua_tostring(L, -1);
        if (!name) return luaL_error(L, "frame: column names must be strings");
        if (rows) {
            lua_createtable(L, (int)nrows, 0);
            for (int64_t r = 1; r <= nrows; r++) {
                if (lua_geti(L, 1, r) == LUA_TTABLE) lua_getfield(L, -1, name);
                else lua_pushnil(L);
                lua_seti(L, -3, r);
                lua_pop(L, 1);
            }
        } else {
            lua_getfield(L, 1, name);
        }
        lask__column *c = column_from_list(L, lua_gettop(L), nrows, name);
        if (lask__frame_set(f, i - 1, name, c)) { lask__column_unref(c); return luaL_error(L, "out of memory"); }
        lua_pop(L, 2);
    }
    return 1;
}

/* An empty frame with names and types: empty({"a", "b"}, {"int64", "string"}). */
static int l_empty(lua_State *L) {
    const char *names[1024], *types[1024];
    int32_t n = checknames(L, 1, names, 1024), m = checknames(L, 2, types, 1024);
    if (n != m) return luaL_error(L, "empty: %d names but %d types", (int)n, (int)m);
    lask__frame *f = lask__frame_new(n, 0);
    if (!f) return luaL_error(L, "out of memory");
    lask__push_chunk(L, &f->h);
    for (int32_t i = 0; i < n; i++) {
        int32_t t = lask__coltype_from_name(types[i]);
        if (t < 0) return luaL_error(L, "unknown column type '%s'", types[i]);
        lask__column *c = lask__column_new(t, 0, 0);
        if (!c || lask__frame_set(f, i, names[i], c)) { lask__column_unref(c); return luaL_error(L, "out of memory"); }
    }
    return 1;
}

/* ------------------------------------------------------------ access */

static int l_nrows(lua_State *L) { lua_pushinteger(L, checkframe(L, 1)->nrows); return 1; }
static int l_ncols(lua_State *L) { lua_pushinteger(L, checkframe(L, 1)->ncols); return 1; }

static int l_columns(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    lua_createtable(L, f->ncols, 0);
    for (int32_t i = 0; i < f->ncols; i++) { lua_pushstring(L, f->names[i]); lua_seti(L, -2, i + 1); }
    return 1;
}

static int l_dtypes(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    lua_createtable(L, 0, f->ncols);
    for (int32_t i = 0; i < f->ncols; i++) {
        lua_pushstring(L, lask__coltype_name(f->cols[i]->type));
        lua_setfield(L, -2, f->names[i]);
    }
    return 1;
}

static int l_dtype(lua_State *L) {
    lua_pushstring(L, lask__coltype_name(checkcol(L, 1, NULL)->type));
    return 1;
}

static int l_name(lua_State *L) {
    const char *name;
    checkcol(L, 1, &name);
    lua_pushstring(L, name);
    return 1;
}

static int l_nbytes(lua_State *L) { lua_pushinteger(L, checkframe(L, 1)->h.nbytes); return 1; }

static int l_column(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    const char *name = luaL_checkstring(L, 2);
    int32_t j = checkcolidx(L, f, name);
    return pushcol(L, name, lask__column_ref(f->cols[j]));
}

/* {col = {values}}; missing values are nil holes */
static int l_totable(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    lua_createtable(L, 0, f->ncols);
    for (int32_t j = 0; j < f->ncols; j++) {
        lua_createtable(L, (int)f->nrows, 0);
        for (int64_t r = 0; r < f->nrows; r++) { pushcell(L, f->cols[j], r); lua_seti(L, -2, r + 1); }
        lua_setfield(L, -2, f->names[j]);
    }
    return 1;
}

static void pushrow(lua_State *L, lask__frame *f, int64_t r) {
    lua_createtable(L, 0, f->ncols);
    for (int32_t j = 0; j < f->ncols; j++) { pushcell(L, f->cols[j], r); lua_setfield(L, -2, f->names[j]); }
}

static int l_rows(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    lua_createtable(L, (int)f->nrows, 0);
    for (int64_t r = 0; r < f->nrows; r++) { pushrow(L, f, r); lua_seti(L, -2, r + 1); }
    return 1;
}

/* A column's values as a plain list. */
static int l_values(lua_State *L) {
    lask__column *c = checkcol(L, 1, NULL);
    lua_createtable(L, (int)c->n, 0);
    for (int64_t r = 0; r < c->n; r++) { pushcell(L, c, r); lua_seti(L, -2, r + 1); }
    return 1;
}

static int l_head(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    return pushframe(L, lask__frame_slice(f, 0, luaL_optinteger(L, 2, 5)));
}

static int l_tail(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    int64_t n = luaL_optinteger(L, 2, 5);
    if (n > f->nrows) n = f->nrows;
    return pushframe(L, lask__frame_slice(f, f->nrows - n, n));
}

/* rows i..j, 1-based inclusive, negative from the end */
static int l_slice(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    int64_t i = luaL_checkinteger(L, 2), j = luaL_optinteger(L, 3, -1);
    if (i < 0) i = f->nrows + i + 1;
    if (j < 0) j = f->nrows + j + 1;
    if (i < 1) i = 1;
    return pushframe(L, lask__frame_slice(f, i - 1, j - i + 1));
}

/* rows at the 1-based positions of a list */
static int l_take(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    int64_t n = (int64_t)luaL_len(L, 2);
    int64_t *idx = lua_newuserdatauv(L, sizeof *idx * (size_t)(n ? n : 1), 0);
    for (int64_t i = 0; i < n; i++) {
        lua_geti(L, 2, i + 1);
        int64_t r = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (r < 1 || r > f->nrows) return luaL_error(L, "take: row %d out of range (1..%d)", (int)r, (int)f->nrows);
        idx[i] = r - 1;
    }
    return pushframe(L, lask__frame_take(f, idx, n));
}

static int l_filter(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    lask__column *m = checkcol(L, 2, NULL);
    return pushframe(L, lask__frame_filter(f, m));
}

static int l_select(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    const char *names[1024];
    int32_t n = checknames(L, 2, names, 1024);
    return pushframe(L, lask__frame_select(f, names, n));
}

static int l_drop(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    const char *drop[1024], *keep[1024];
    int32_t nd = checknames(L, 2, drop, 1024), nk = 0;
    for (int32_t k = 0; k < nd; k++) checkcolidx(L, f, drop[k]);
    for (int32_t j = 0; j < f->ncols; j++) {
        int d = 0;
        for (int32_t k = 0; k < nd; k++) d |= !strcmp(drop[k], f->names[j]);
        if (!d && nk < 1024) keep[nk++] = f->names[j];
    }
    return pushframe(L, lask__frame_select(f, keep, nk));
}

static int l_rename(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "rename: keys must be column names");
        checkcolidx(L, f, lua_tostring(L, -1));
    }
    lask__frame *o = lask__frame_new(f->ncols, f->nrows);
    if (!o) return luaL_error(L, "out of memory");
    o->index = f->index;
    lask__push_chunk(L, &o->h);
    for (int32_t j = 0; j < f->ncols; j++) {
        lua_getfield(L, 2, f->names[j]);
        const char *nm = lua_isstring(L, -1) ? lua_tostring(L, -1) : f->names[j];
        if (lask__frame_set(o, j, nm, lask__column_ref(f->cols[j]))) return luaL_error(L, "out of memory");
        lua_pop(L, 1);
    }
    return 1;
}

/* with_column(name, column | scalar) */
static int l_with(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    const char *name = luaL_checkstring(L, 2);
    lask__scalar s;
    lask__column *c;
    if (toscalar(L, 3, &s)) {
        if (!(c = lask__col_const(&s, f->nrows))) return luaL_error(L, "%s", lask__frame_errmsg());
    } else {
        c = lask__column_ref(checkcol(L, 3, NULL));
    }
    lask__frame *o = lask__frame_with(f, name, c);
    lask__column_unref(c);
    return pushframe(L, o);
}

static int l_sort_values(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    const char *names[64];
    int32_t n = checknames(L, 2, names, 64), cols[64];
    int asc[64];
    for (int32_t k = 0; k < n; k++) { cols[k] = checkcolidx(L, f, names[k]); asc[k] = 1; }
    if (lua_istable(L, 3)) {
        int t = lua_getfield(L, 3, "ascending");
        if (t == LUA_TBOOLEAN) for (int32_t k = 0; k < n; k++) asc[k] = lua_toboolean(L, -1);
        else if (t == LUA_TTABLE) for (int32_t k = 0; k < n; k++) { lua_geti(L, -1, k + 1); asc[k] = lua_isnil(L, -1) || lua_toboolean(L, -1); lua_pop(L, 1); }
        lua_pop(L, 1);
    }
    int64_t *ord = lask__frame_argsort(f, cols, asc, n);
    if (!ord) return luaL_error(L, "%s", lask__frame_errmsg());
    lask__frame *o = lask__frame_take(f, ord, f->nrows);
    free(ord);
    return pushframe(L, o);
}

static int l_dropna(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    const char *names[1024];
    int32_t n = 0, cols[1024];
    if (!lua_isnoneornil(L, 2)) {
        int idx = 2;
        if (lua_istable(L, 2) && lua_getfield(L, 2, "subset") != LUA_TNIL) idx = lua_gettop(L);
        else if (lua_istable(L, 2)) lua_pop(L, 1);
        n = checknames(L, idx, names, 1024);
        for (int32_t k = 0; k < n; k++) cols[k] = checkcolidx(L, f, names[k]);
    }
    if (f->ncols == 1 && n == 0) return pushframe(L, lask__frame_dropna(f, NULL, 0));
    return pushframe(L, lask__frame_dropna(f, cols, n));
}

/* ------------------------------------------------------------ columns */

static const char *resname(lua_State *L, int a, int b) {
    lask__frame *f = testframe(L, a);
    if (f && f->ncols == 1) return f->names[0];
    f = testframe(L, b);
    if (f && f->ncols == 1) return f->names[0];
    return "value";
}

static int binop(lua_State *L, int op) {
    lask__scalar s;
    const char *name = resname(L, 1, 2);
    if (toscalar(L, 1, &s)) {
        lask__column *b = checkcol(L, 2, NULL);
        return pushcol(L, name, lask__col_binop(op, b, NULL, &s, 1));
    }
    lask__column *a = checkcol(L, 1, NULL);
    if (toscalar(L, 2, &s)) return pushcol(L, name, lask__col_binop(op, a, NULL, &s, 0));
    return pushcol(L, name, lask__col_binop(op, a, checkcol(L, 2, NULL), NULL, 0));
}

static int l_add(lua_State *L) { return binop(L, LASK__ADD); }
static int l_sub(lua_State *L) { return binop(L, LASK__SUB); }
static int l_mul(lua_State *L) { return binop(L, LASK__MUL); }
static int l_div(lua_State *L) { return binop(L, LASK__DIV); }
static int l_mod(lua_State *L) { return binop(L, LASK__MOD); }
static int l_idiv(lua_State *L) { return binop(L, LASK__IDIV); }
static int l_pow(lua_State *L) { return binop(L, LASK__POW); }
static int l_band(lua_State *L) { return binop(L, LASK__AND); }
static int l_bor(lua_State *L) { return binop(L, LASK__OR); }
static int l_gt(lua_State *L) { return binop(L, LASK__GT); }
static int l_lt(lua_State *L) { return binop(L, LASK__LT); }
static int l_ge(lua_State *L) { return binop(L, LASK__GE); }
static int l_le(lua_State *L) { return binop(L, LASK__LE); }
static int l_eq(lua_State *L) { return binop(L, LASK__EQ); }
static int l_ne(lua_State *L) { return binop(L, LASK__NE); }

static int l_unm(lua_State *L) {
    const char *name;
    lask__column *a = checkcol(L, 1, &name);
    return pushcol(L, name, lask__col_neg(a));
}

static int l_bnot(lua_State *L) {
    const char *name;
    lask__column *a = checkcol(L, 1, &name);
    return pushcol(L, name, lask__col_not(a));
}

static int l_between(lua_State *L) {
    const char *name;
    lask__column *a = checkcol(L, 1, &name);
    lask__scalar lo, hi;
    if (!toscalar(L, 2, &lo) || !toscalar(L, 3, &hi)) return luaL_error(L, "between: bounds must be values");
    lask__column *x = lask__col_binop(LASK__GE, a, NULL, &lo, 0);
    lask__column *y = x ? lask__col_binop(LASK__LE, a, NULL, &hi, 0) : NULL;
    lask__column *z = y ? lask__col_binop(LASK__AND, x, y, NULL, 0) : NULL;
    lask__column_unref(x);
    lask__column_unref(y);
    return pushcol(L, name, z);
}

static int l_isin(lua_State *L) {
    const char *name;
    lask__column *a = checkcol(L, 1, &name);
    luaL_checktype(L, 2, LUA_TTABLE);
    int32_t n = (int32_t)luaL_len(L, 2);
    lask__scalar *v = lua_newuserdatauv(L, sizeof *v * (size_t)(n ? n : 1), 0);
    for (int32_t i = 0; i < n; i++) {
        lua_geti(L, 2, i + 1);
        if (!toscalar(L, -1, &v[i])) return luaL_error(L, "isin: item %d is not a value", (int)i + 1);
        lua_pop(L, 1);   /* strings stay alive in the table */
    }
    return pushcol(L, name, lask__col_isin(a, v, n));
}

static int l_isna(lua_State *L) { const char *nm; lask__column *a = checkcol(L, 1, &nm); return pushcol(L, nm, lask__col_isna(a, 0)); }
static int l_notna(lua_State *L) { const char *nm; lask__column *a = checkcol(L, 1, &nm); return pushcol(L, nm, lask__col_isna(a, 1)); }
static int l_abs(lua_State *L) { const char *nm; lask__column *a = checkcol(L, 1, &nm); return pushcol(L, nm, lask__col_abs(a)); }
static int l_round(lua_State *L) {
    const char *nm;
    lask__column *a = checkcol(L, 1, &nm);
    return pushcol(L, nm, lask__col_round(a, (int)luaL_optinteger(L, 2, 0)));
}

static int l_fillna(lua_State *L) {
    lask__scalar s;
    if (!toscalar(L, 2, &s)) return luaL_error(L, "fillna: the fill value must be a number, string or boolean");
    lask__frame *f = checkframe(L, 1);
    lask__frame *o = lask__frame_new(f->ncols, f->nrows);
    if (!o) return luaL_error(L, "out of memory");
    lask__push_chunk(L, &o->h);
    for (int32_t j = 0; j < f->ncols; j++) {
        lask__column *c = f->cols[j];
        int ok = s.type < 0 || s.type == c->type ||
                 ((s.type == LASK_COL_INT64 || s.type == LASK_COL_FLOAT64) && (c->type == LASK_COL_INT64 || c->type == LASK_COL_FLOAT64));
        /* like pandas: a frame fills the columns the value fits */
        lask__column *n = ok ? lask__col_fillna(c, &s) : (f->ncols == 1 ? NULL : lask__column_ref(c));
        if (!n || lask__frame_set(o, j, f->names[j], n)) return luaL_error(L, "%s", lask__frame_errmsg());
    }
    return 1;
}

static int l_astype(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    lask__frame *o = lask__frame_new(f->ncols, f->nrows);
    if (!o) return luaL_error(L, "out of memory");
    lask__push_chunk(L, &o->h);
    for (int32_t j = 0; j < f->ncols; j++) {
        const char *tn = NULL;
        if (lua_istable(L, 2)) {  /* {col = type} */
            lua_getfield(L, 2, f->names[j]);
            tn = lua_tostring(L, -1);
            lua_pop(L, 1);
        } else tn = luaL_checkstring(L, 2);
        lask__column *n;
        if (!tn) n = lask__column_ref(f->cols[j]);
        else {
            int32_t t = lask__coltype_from_name(tn);
            if (t < 0) return luaL_error(L, "astype: unknown type '%s' (int64, float64, bool, string, timestamp)", tn);
            n = lask__col_astype(f->cols[j], t);
        }
        if (!n || lask__frame_set(o, j, f->names[j], n)) return luaL_error(L, "column '%s': %s", f->names[j], lask__frame_errmsg());
    }
    return 1;
}

static int l_clip(lua_State *L) {
    const char *nm;
    lask__column *a = checkcol(L, 1, &nm);
    lask__scalar lo, hi;
    toscalar(L, 2, &lo);
    toscalar(L, 3, &hi);
    return pushcol(L, nm, lask__col_clip(a, &lo, &hi));
}

static int strop(lua_State *L, int op) {
    const char *nm;
    lask__column *a = checkcol(L, 1, &nm);
    size_t n = 0;
    const char *arg = NULL;
    int64_t i = 0, j = 0;
    if (op == LASK__STR_CONTAINS || op == LASK__STR_STARTSWITH || op == LASK__STR_ENDSWITH) arg = luaL_checklstring(L, 2, &n);
    else if (op == LASK__STR_SLICE) { i = luaL_checkinteger(L, 2); j = luaL_optinteger(L, 3, -1); }
    else if (op == LASK__STR_SPLIT) { arg = luaL_checklstring(L, 2, &n); i = luaL_optinteger(L, 3, 1); }
    return pushcol(L, nm, lask__col_str(op, a, arg, n, i, j));
}
static int l_str_len(lua_State *L) { return strop(L, LASK__STR_LEN); }
static int l_str_lower(lua_State *L) { return strop(L, LASK__STR_LOWER); }
static int l_str_upper(lua_State *L) { return strop(L, LASK__STR_UPPER); }
static int l_str_contains(lua_State *L) { return strop(L, LASK__STR_CONTAINS); }
static int l_str_startswith(lua_State *L) { return strop(L, LASK__STR_STARTSWITH); }
static int l_str_endswith(lua_State *L) { return strop(L, LASK__STR_ENDSWITH); }
static int l_str_slice(lua_State *L) { return strop(L, LASK__STR_SLICE); }
static int l_str_split(lua_State *L) { return strop(L, LASK__STR_SPLIT); }

static int dtop(lua_State *L, int field) {
    const char *nm;
    lask__column *a = checkcol(L, 1, &nm);
    return pushcol(L, nm, lask__col_dt(field, a));
}
static int l_dt_year(lua_State *L) { return dtop(L, LASK__DT_YEAR); }
static int l_dt_month(lua_State *L) { return dtop(L, LASK__DT_MONTH); }
static int l_dt_day(lua_State *L) { return dtop(L, LASK__DT_DAY); }
static int l_dt_hour(lua_State *L) { return dtop(L, LASK__DT_HOUR); }

/* Reductions: a column gives a value; a frame a table {col = value}
 * (numeric-only ops skip columns they do not apply to, as pandas does). */
static int reduce(lua_State *L, const char *op) {
    lask__frame *f = checkframe(L, 1);
    int ddof = (int)luaL_optinteger(L, 2, 1);
    lask__scalar s;
    if (f->ncols == 1) {
        if (lask__col_reduce(f->cols[0], op, ddof, &s)) return luaL_error(L, "%s: %s", f->names[0], lask__frame_errmsg());
        if (s.type == LASK_COL_TIMESTAMP) { pushcell(L, f->cols[0], 0); lua_pop(L, 1); }
        pushscalar(L, &s);
        return 1;
    }
    lua_createtable(L, 0, f->ncols);
    for (int32_t j = 0; j < f->ncols; j++) {
        if (lask__col_reduce(f->cols[j], op, ddof, &s)) continue;
        pushscalar(L, &s);
        lua_setfield(L, -2, f->names[j]);
    }
    return 1;
}
static int l_reduce(lua_State *L) { const char *op = luaL_checkstring(L, 2); lua_remove(L, 2); return reduce(L, op); }
static int l_sum(lua_State *L) { return reduce(L, "sum"); }
static int l_mean(lua_State *L) { return reduce(L, "mean"); }
static int l_count(lua_State *L) { return reduce(L, "count"); }
static int l_min(lua_State *L) { return reduce(L, "min"); }
static int l_max(lua_State *L) { return reduce(L, "max"); }
static int l_std(lua_State *L) { return reduce(L, "std"); }
static int l_var(lua_State *L) { return reduce(L, "var"); }
static int l_nunique(lua_State *L) { return reduce(L, "nunique"); }
static int l_size(lua_State *L) { lua_pushinteger(L, checkframe(L, 1)->nrows * (checkframe(L, 1)->ncols > 1 ? checkframe(L, 1)->ncols : 1)); return 1; }
static int l_first(lua_State *L) { return reduce(L, "first"); }
static int l_last(lua_State *L) { return reduce(L, "last"); }

/* ------------------------------------------------------------ printing */

static void cell_text(lua_State *L, const lask__column *c, int64_t r, luaL_Buffer *b) {
    char buf[64];
    if (!lask__column_isvalid(c, r)) { luaL_addstring(b, c->type == LASK_COL_FLOAT64 ? "NaN" : "<NA>"); return; }
    switch (c->type) {
    case LASK_COL_INT64: snprintf(buf, sizeof buf, "%lld", (long long)((int64_t *)c->values)[r]); break;
    case LASK_COL_FLOAT64: {
        double d = ((double *)c->values)[r];
        if (d == floor(d) && fabs(d) < 1e15) snprintf(buf, sizeof buf, "%.1f", d);
        else snprintf(buf, sizeof buf, "%.6g", d);
        break;
    }
    case LASK_COL_BOOL: snprintf(buf, sizeof buf, "%s", ((uint8_t *)c->values)[r] ? "true" : "false"); break;
    case LASK_COL_TIMESTAMP: lask__format_timestamp(((int64_t *)c->values)[r], buf); break;
    default: {
        const int64_t *o = c->values;
        int64_t n = o[r + 1] - o[r];
        if (n > 40) { luaL_addlstring(b, c->strdata + o[r], 37); luaL_addstring(b, "..."); }
        else luaL_addlstring(b, c->strdata + o[r], (size_t)n);
        return;
    }
    }
    (void)L;
    luaL_addstring(b, buf);
}

static size_t ulen(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

static int l_tostring(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    int64_t n = f->nrows, shown[20];
    int ns = 0, cut = n > 20;
    for (int64_t r = 0; r < n && ns < 20; r++) {
        if (cut && r == 10) r = n - 10;
        shown[ns++] = r;
    }
    int32_t nc = f->ncols + 1;
    /* cells as strings on the stack in a table: row-major, header first */
    lua_createtable(L, (ns + 1) * nc, 0);
    int t = lua_gettop(L);
    size_t *w = lua_newuserdatauv(L, sizeof *w * (size_t)nc, 0);
    for (int32_t j = 0; j < nc; j++) w[j] = 0;
    for (int i = -1; i < ns; i++) {
        for (int32_t j = 0; j < nc; j++) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            if (i < 0) luaL_addstring(&b, j == 0 ? "" : f->names[j - 1]);
            else if (j == 0) lua_pushfstring(L, "%I", (lua_Integer)(shown[i] + 1)), luaL_addvalue(&b);
            else cell_text(L, f->cols[j - 1], shown[i], &b);
            luaL_pushresult(&b);
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            if (ulen(s, len) > w[j]) w[j] = ulen(s, len);
            lua_seti(L, t, (i + 1) * nc + j + 1);
        }
    }
    luaL_Buffer out;
    luaL_buffinit(L, &out);
    for (int i = -1; i < ns; i++) {
        if (cut && i == 10) {
            for (int32_t j = 0; j < nc; j++) {
                if (j) luaL_addchar(&out, ' ');
                for (size_t k = 3; k < w[j]; k++) luaL_addchar(&out, ' ');
                luaL_addstring(&out, "...");
            }
            luaL_addchar(&out, '\n');
        }
        for (int32_t j = 0; j < nc; j++) {
            lua_geti(L, t, (i + 1) * nc + j + 1);
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            int left = j > 0 && f->cols[j - 1]->type == LASK_COL_STRING;
            size_t pad = w[j] - ulen(s, len);
            if (j) luaL_addchar(&out, ' ');
            if (!left) for (size_t k = 0; k < pad; k++) luaL_addchar(&out, ' ');
            lua_pushvalue(L, -1);
            lua_remove(L, -2);
            luaL_addvalue(&out);
            if (left && j < nc - 1) for (size_t k = 0; k < pad; k++) luaL_addchar(&out, ' ');
        }
        luaL_addchar(&out, '\n');
    }
    lua_pushfstring(L, "[%I rows x %d columns]", (lua_Integer)n, (int)f->ncols);
    luaL_addvalue(&out);
    luaL_pushresult(&out);
    return 1;
}

/* ------------------------------------------------------------ __index */

static int l_index(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    int kt = lua_type(L, 2);
    if (kt == LUA_TSTRING) {
        const char *k = lua_tostring(L, 2);
        lua_getfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
        if (lua_getfield(L, -1, k) != LUA_TNIL) return 1;
        lua_pop(L, 2);
        int32_t j = lask__frame_find(f, k);
        if (j >= 0) return pushcol(L, k, lask__column_ref(f->cols[j]));
        if (k[0] == '_' && k[1] == '_') { lua_pushnil(L); return 1; }   /* protocol probes */
        /* methods written in Lua: load them once, then look again */
        lua_getfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
        if (lua_getfield(L, -1, "__lua_loaded") == LUA_TNIL) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -3, "__lua_loaded");
            lua_getglobal(L, "require");
            lua_pushstring(L, "lask.dataframe.localframe");
            if (lua_pcall(L, 1, 0, 0) != LUA_OK) return lua_error(L);
            lua_pop(L, 1);
            if (lua_getfield(L, -1, k) != LUA_TNIL) return 1;
        }
        return luaL_error(L, "no column or method '%s' (columns: %s)", k, known_columns(L, f));
    }
    if (kt == LUA_TNUMBER) {
        int64_t r = lua_tointeger(L, 2);
        if (r < 0) r = f->nrows + r + 1;
        if (r < 1 || r > f->nrows) return luaL_error(L, "row %d out of range (1..%d)", (int)lua_tointeger(L, 2), (int)f->nrows);
        if (f->ncols == 1) pushcell(L, f->cols[0], r - 1);
        else pushrow(L, f, r - 1);
        return 1;
    }
    if (kt == LUA_TTABLE) {
        lua_settop(L, 2);
        return l_select(L);
    }
    if (testframe(L, 2)) {
        lua_settop(L, 2);
        return l_filter(L);
    }
    return luaL_error(L, "cannot index a frame with a %s", luaL_typename(L, 2));
}

static int l_newindex(lua_State *L) {
    return luaL_error(L, "frames are immutable: use part:assign{%s = ...} (or with_column) for a new frame",
                      lua_isstring(L, 2) ? lua_tostring(L, 2) : "name");
}

static int l_len(lua_State *L) { lua_pushinteger(L, checkframe(L, 1)->nrows); return 1; }

/* ------------------------------------------------------------ module functions */

static int l_concat(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int32_t n = (int32_t)luaL_len(L, 1);
    lask__frame **fs = lua_newuserdatauv(L, sizeof *fs * (size_t)(n ? n : 1), 0);
    for (int32_t i = 0; i < n; i++) {
        lua_geti(L, 1, i + 1);
        fs[i] = testframe(L, -1);
        if (!fs[i]) return luaL_error(L, "concat: item %d is not a frame", (int)i + 1);
        lua_pop(L, 1);
    }
    return pushframe(L, lask__frame_concat(fs, n));
}

static int how_of(lua_State *L, const char *how) {
    if (!strcmp(how, "inner")) return LASK__INNER;
    if (!strcmp(how, "left")) return LASK__LEFT;
    if (!strcmp(how, "right")) return LASK__RIGHT;
    if (!strcmp(how, "outer")) return LASK__OUTER;
    return luaL_error(L, "merge: how must be inner, left, right or outer, got '%s'", how);
}

/* merge_raw(l, r, lkeys, rkeys, how, lsuffix, rsuffix) */
static int l_merge(lua_State *L) {
    lask__frame *l = checkframe(L, 1), *r = checkframe(L, 2);
    const char *lk[64], *rk[64];
    int32_t nl = checknames(L, 3, lk, 64), nr = checknames(L, 4, rk, 64);
    if (nl != nr) return luaL_error(L, "merge: %d left keys but %d right keys", (int)nl, (int)nr);
    int how = how_of(L, luaL_optstring(L, 5, "inner"));
    return pushframe(L, lask__frame_merge(l, r, lk, rk, nl, how, luaL_optstring(L, 6, "_x"), luaL_optstring(L, 7, "_y")));
}

/* aggs: {{col, op, out}, ...} (col may be false for size) */
static int32_t checkaggs(lua_State *L, int idx, lask__agg *a, int32_t max) {
    luaL_checktype(L, idx, LUA_TTABLE);
    int32_t n = (int32_t)luaL_len(L, idx);
    if (n > max) luaL_error(L, "too many aggregations (at most %d)", max);
    for (int32_t i = 0; i < n; i++) {
        lua_geti(L, idx, i + 1);
        lua_geti(L, -1, 1); a[i].col = lua_tostring(L, -1); lua_pop(L, 1);
        lua_geti(L, -1, 2); a[i].op = lua_tostring(L, -1); lua_pop(L, 1);
        lua_geti(L, -1, 3); a[i].out = lua_tostring(L, -1); lua_pop(L, 1);
        if (!a[i].op || !a[i].out) luaL_error(L, "aggregation %d: needs {column, op, name}", (int)i + 1);
        lua_pop(L, 1);
    }
    return n;
}

static int l_groupby_agg(lua_State *L) {  /* (frame, keys, aggs, ddof): exact */
    lask__frame *f = checkframe(L, 1);
    const char *keys[64];
    lask__agg aggs[256];
    int32_t nk = checknames(L, 2, keys, 64), na = checkaggs(L, 3, aggs, 256);
    lask__frame *p = lask__groupby_partial(f, keys, nk, aggs, na);
    if (!p) return luaL_error(L, "%s", lask__frame_errmsg());
    lask__frame *o = lask__groupby_finish(p, keys, nk, aggs, na, (int)luaL_optinteger(L, 4, 1));
    lask_chunk_unref(&p->h);
    return pushframe(L, o);
}

static int l_groupby_partial(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    const char *keys[64];
    lask__agg aggs[256];
    int32_t nk = checknames(L, 2, keys, 64), na = checkaggs(L, 3, aggs, 256);
    return pushframe(L, lask__groupby_partial(f, keys, nk, aggs, na));
}

static int l_groupby_combine(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int32_t n = (int32_t)luaL_len(L, 1);
    lask__frame **fs = lua_newuserdatauv(L, sizeof *fs * (size_t)(n ? n : 1), 0);
    for (int32_t i = 0; i < n; i++) {
        lua_geti(L, 1, i + 1);
        if (!(fs[i] = testframe(L, -1))) return luaL_error(L, "combine: item %d is not a frame", (int)i + 1);
        lua_pop(L, 1);
    }
    const char *keys[64];
    lask__agg aggs[256];
    int32_t nk = checknames(L, 2, keys, 64), na = checkaggs(L, 3, aggs, 256);
    return pushframe(L, lask__groupby_combine(fs, n, keys, nk, aggs, na));
}

static int l_groupby_finish(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    const char *keys[64];
    lask__agg aggs[256];
    int32_t nk = checknames(L, 2, keys, 64), na = checkaggs(L, 3, aggs, 256);
    return pushframe(L, lask__groupby_finish(f, keys, nk, aggs, na, (int)luaL_optinteger(L, 4, 1)));
}

static int push_parts(lua_State *L, lask__frame **parts, int32_t n, int st) {
    if (st) return luaL_error(L, "%s", lask__frame_errmsg());
    lua_createtable(L, n, 0);
    for (int32_t p = 0; p < n; p++) { lask__push_chunk(L, &parts[p]->h); lua_seti(L, -2, p + 1); }
    return 1;
}

static int l_hash_split(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    const char *names[64];
    int32_t nk = checknames(L, 2, names, 64), cols[64];
    for (int32_t k = 0; k < nk; k++) cols[k] = checkcolidx(L, f, names[k]);
    int32_t n = (int32_t)luaL_checkinteger(L, 3);
    if (n < 1) return luaL_error(L, "hash_split: need at least one part");
    lask__frame **parts = lua_newuserdatauv(L, sizeof *parts * (size_t)n, 0);
    return push_parts(L, parts, n, lask__frame_hash_split(f, cols, nk, n, parts));
}

static int l_range_split(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    int32_t col = checkcolidx(L, f, luaL_checkstring(L, 2));
    luaL_checktype(L, 3, LUA_TTABLE);
    int32_t nb = (int32_t)luaL_len(L, 3);
    lask__scalar *b = lua_newuserdatauv(L, sizeof *b * (size_t)(nb ? nb : 1), 0);
    for (int32_t i = 0; i < nb; i++) {
        lua_geti(L, 3, i + 1);
        toscalar(L, -1, &b[i]);
        lua_pop(L, 1);
    }
    lask__frame **parts = lua_newuserdatauv(L, sizeof *parts * (size_t)(nb + 1), 0);
    return push_parts(L, parts, nb + 1, lask__frame_range_split(f, col, b, nb, parts));
}

static int l_to_csv(lua_State *L) {
    lask__frame *f = checkframe(L, 1);
    const char *path = luaL_checkstring(L, 2);
    const char *sep = ",";
    int header = 1;
    if (lua_istable(L, 3)) {
        if (lua_getfield(L, 3, "sep") == LUA_TSTRING) sep = lua_tostring(L, -1);
        if (lua_getfield(L, 3, "header") == LUA_TBOOLEAN) header = lua_toboolean(L, -1);
        lua_pop(L, 2);
    }
    char err[512];
    if (lask__csv_write(f, path, sep[0], header, err, sizeof err)) return luaL_error(L, "to_csv: %s", err);
    lua_pushstring(L, path);
    return 1;
}

/* csv_infer(path, spec, sample_bytes) -> {names, types, keep, schema = string} */
static int l_csv_infer(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    size_t sn;
    const char *spec = luaL_optlstring(L, 2, "", &sn);
    lask__csv_opts o;
    lask__csv_opts_init(&o);
    char err[1024];
    int st = lask__csv_opts_parse(&o, spec, (int64_t)sn, err, sizeof err);
    lask__csv_schema s;
    if (!st) st = lask__csv_infer(path, &o, luaL_optinteger(L, 3, 262144), &s, err, sizeof err);
    lask__csv_opts_free(&o);
    if (st) return luaL_error(L, "read_csv: %s", err);
    lua_createtable(L, 0, 4);
    lua_createtable(L, s.ncols, 0);
    lua_createtable(L, s.ncols, 0);
    lua_createtable(L, s.ncols, 0);
    for (int32_t j = 0; j < s.ncols; j++) {
        lua_pushstring(L, s.names[j]); lua_seti(L, -4, j + 1);
        lua_pushstring(L, lask__coltype_name(s.types[j])); lua_seti(L, -3, j + 1);
        lua_pushboolean(L, s.keep[j]); lua_seti(L, -2, j + 1);
    }
    lua_setfield(L, -4, "keep");
    lua_setfield(L, -3, "types");
    lua_setfield(L, -2, "names");
    lask__csv_schema_free(&s);
    return 1;
}

/* Schema from the Lua side: names, types, keep flags as NUL-separated triples. */
static int parse_schema(const char *p, int64_t n, lask__csv_schema *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    const char *e = p + n;
    int32_t cap = 0;
    while (p < e) {
        const char *nm = p; p += strlen(p) + 1;
        if (p >= e) break;
        const char *ty = p; p += strlen(p) + 1;
        if (p > e) break;
        const char *kp = p; p += strlen(p) + 1;
        if (s->ncols == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(s->names, sizeof *nn * (size_t)cap);
            if (nn) s->names = nn;
            int32_t *nt = realloc(s->types, sizeof *nt * (size_t)cap);
            if (nt) s->types = nt;
            uint8_t *nk = realloc(s->keep, (size_t)cap);
            if (nk) s->keep = nk;
            if (!nn || !nt || !nk) { snprintf(err, errlen, "out of memory"); return LASK_ENOMEM; }
        }
        s->types[s->ncols] = lask__coltype_from_name(ty);
        s->keep[s->ncols] = kp[0] == '1';
        if (!(s->names[s->ncols] = strdup(nm))) { snprintf(err, errlen, "out of memory"); return LASK_ENOMEM; }
        s->ncols++;
        if (s->types[s->ncols - 1] < 0) { snprintf(err, errlen, "bad schema type '%s'", ty); return LASK_EINVAL; }
    }
    return 0;
}

static int read_csv_common(const char *path, int64_t start, int64_t end, const char *spec, int64_t sn,
                           const char *schema, int64_t scn, lask__frame **out, int64_t *skipped,
                           char *err, size_t errlen) {
    lask__csv_opts o;
    lask__csv_opts_init(&o);
    lask__csv_schema s;
    memset(&s, 0, sizeof s);
    int st = lask__csv_opts_parse(&o, spec, sn, err, errlen);
    if (!st) st = parse_schema(schema, scn, &s, err, errlen);
    if (!st) st = lask__csv_read(path, start, end, &o, &s, out, skipped, err, errlen);
    lask__csv_opts_free(&o);
    lask__csv_schema_free(&s);
    return st;
}

/* read_csv(path, start, end, spec, schema) -> frame, skipped */
static int l_read_csv(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    int64_t start = luaL_checkinteger(L, 2), end = luaL_checkinteger(L, 3);
    size_t sn, scn;
    const char *spec = luaL_checklstring(L, 4, &sn), *schema = luaL_checklstring(L, 5, &scn);
    char err[1024];
    lask__frame *f = NULL;
    int64_t skipped = 0;
    if (read_csv_common(path, start, end, spec, (int64_t)sn, schema, (int64_t)scn, &f, &skipped, err, sizeof err))
        return luaL_error(L, "read_csv: %s", err);
    lask__push_chunk(L, &f->h);
    lua_pushinteger(L, skipped);
    return 2;
}

/* glob(pattern) -> sorted list of paths (no shell involved) */
static int l_glob(lua_State *L) {
    const char *pat = luaL_checkstring(L, 1);
    glob_t g;
    int st = glob(pat, 0, NULL, &g);
    lua_newtable(L);
    if (st == 0)
        for (size_t i = 0; i < g.gl_pathc; i++) { lua_pushstring(L, g.gl_pathv[i]); lua_seti(L, -2, (lua_Integer)i + 1); }
    if (st != GLOB_NOMATCH) globfree(&g);
    return 1;
}

/* stat(path) -> size, mtime | nil, message */
static int l_stat(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    struct stat sb;
    if (stat(path, &sb)) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, strerror(errno));
        return 2;
    }
    if (S_ISDIR(sb.st_mode)) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: is a directory", path);
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)sb.st_size);
    lua_pushinteger(L, (lua_Integer)sb.st_mtime);
    return 2;
}

/* mkdirs(path): mkdir -p without a shell */
static int l_mkdirs(lua_State *L) {
    size_t n;
    const char *p = luaL_checklstring(L, 1, &n);
    char *buf = lua_newuserdatauv(L, n + 1, 0);
    memcpy(buf, p, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) && errno != EEXIST) return luaL_error(L, "cannot create directory %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    return 0;
}

/* ------------------------------------------------------------ native kernels */

static const char *arg_bytes(const lask_value *v, int64_t *n) {
    if (v->type != LASK_CHUNK || lask_chunk_kind(v->u.c) != LASK_KIND_BYTES) return NULL;
    return lask_bytes_data(v->u.c, n);
}

static lask__frame *arg_frame(const lask_value *v) {
    return v->type == LASK_CHUNK && lask_chunk_kind(v->u.c) == LASK_KIND_FRAME ? (lask__frame *)v->u.c : NULL;
}

/* frame.read_csv(path, start, end, spec, schema) */
static int32_t k_read_csv(lask_ctx *ctx, const lask_value *a, int32_t n, lask_value *out, void *ud) {
    (void)ud;
    int64_t pn, sn, scn;
    const char *path = n == 5 ? arg_bytes(&a[0], &pn) : NULL, *spec = n == 5 ? arg_bytes(&a[3], &sn) : NULL;
    const char *schema = n == 5 ? arg_bytes(&a[4], &scn) : NULL;
    if (!path || !spec || !schema || a[1].type != LASK_INT || a[2].type != LASK_INT)
        return lask_ctx_error(ctx, "frame.read_csv: expected (path, start, end, spec, schema)");
    char err[1024];
    lask__frame *f = NULL;
    int64_t skipped = 0;
    if (read_csv_common(path, a[1].u.i, a[2].u.i, spec, sn, schema, scn, &f, &skipped, err, sizeof err))
        return lask_ctx_error(ctx, err);
    if (skipped) fprintf(stderr, "lask: read_csv skipped %lld bad line(s) in %s\n", (long long)skipped, path);
    out->type = LASK_CHUNK;
    out->u.c = &f->h;
    return LASK_OK;
}

/* frame.concat(list of frames) */
static int32_t k_concat(lask_ctx *ctx, const lask_value *a, int32_t n, lask_value *out, void *ud) {
    (void)ud;
    if (n != 1 || a[0].type != LASK_LIST) return lask_ctx_error(ctx, "frame.concat: expected a list of frames");
    int32_t m = a[0].len;
    lask__frame **fs = malloc(sizeof *fs * (size_t)(m ? m : 1));
    if (!fs) return lask_ctx_error(ctx, "out of memory");
    for (int32_t i = 0; i < m; i++)
        if (!(fs[i] = arg_frame(&a[0].u.items[i]))) { free(fs); return lask_ctx_error(ctx, "frame.concat: an item is not a frame"); }
    lask__frame *f = lask__frame_concat(fs, m);
    free(fs);
    if (!f) return lask_ctx_error(ctx, lask__frame_errmsg());
    out->type = LASK_CHUNK;
    out->u.c = &f->h;
    return LASK_OK;
}

static int luaopen_methods(lua_State *L);

int luaopen_lask_core_frame(lua_State *L) {
    static const luaL_Reg meta[] = {
        {"__index", l_index}, {"__newindex", l_newindex}, {"__len", l_len}, {"__tostring", l_tostring},
        {"__add", l_add}, {"__sub", l_sub}, {"__mul", l_mul}, {"__div", l_div}, {"__mod", l_mod},
        {"__idiv", l_idiv}, {"__pow", l_pow}, {"__unm", l_unm}, {"__band", l_band}, {"__bor", l_bor},
        {"__bnot", l_bnot}, {NULL, NULL}};
    lask__kind_metatable(L, LASK_KIND_FRAME);
    luaL_setfuncs(L, meta, 0);
    lua_pushstring(L, "frame");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    luaopen_methods(L);
    static const luaL_Reg mod[] = {
        {"frame", l_frame_new}, {"empty", l_empty}, {"concat", l_concat}, {"merge", l_merge},
        {"groupby_agg", l_groupby_agg}, {"groupby_partial", l_groupby_partial},
        {"groupby_combine", l_groupby_combine}, {"groupby_finish", l_groupby_finish},
        {"hash_split", l_hash_split}, {"range_split", l_range_split},
        {"csv_infer", l_csv_infer}, {"read_csv", l_read_csv}, {"glob", l_glob}, {"stat", l_stat},
        {"mkdirs", l_mkdirs}, {NULL, NULL}};
    luaL_newlib(L, mod);
    lua_getfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
    lua_setfield(L, -2, "methods");
    lask__kind_metatable(L, LASK_KIND_FRAME);
    lua_setfield(L, -2, "metatable");
    lask_runtime *rt = lask__runtime(L);
    if (rt) {
        lask_register_kernel(rt, "frame.read_csv", k_read_csv, NULL);
        lask_register_kernel(rt, "frame.concat", k_concat, NULL);
    }
    return 1;
}

static int luaopen_methods(lua_State *L) {
    static const luaL_Reg m[] = {
        {"nrows", l_nrows}, {"ncols", l_ncols}, {"columns", l_columns}, {"dtypes", l_dtypes},
        {"dtype", l_dtype}, {"name", l_name}, {"nbytes", l_nbytes}, {"column", l_column},
        {"totable", l_totable}, {"rows", l_rows}, {"values", l_values}, {"head", l_head},
        {"tail", l_tail}, {"slice", l_slice}, {"take", l_take}, {"filter", l_filter},
        {"select", l_select}, {"drop", l_drop}, {"rename", l_rename}, {"with_column", l_with},
        {"sort_values", l_sort_values}, {"dropna", l_dropna},
        {"gt", l_gt}, {"lt", l_lt}, {"ge", l_ge}, {"le", l_le}, {"eq", l_eq}, {"ne", l_ne},
        {"between", l_between}, {"isin", l_isin}, {"isna", l_isna}, {"notna", l_notna},
        {"fillna", l_fillna}, {"astype", l_astype}, {"abs", l_abs}, {"round", l_round}, {"clip", l_clip},
        {"str_len", l_str_len}, {"str_lower", l_str_lower}, {"str_upper", l_str_upper},
        {"str_contains", l_str_contains}, {"str_startswith", l_str_startswith},
        {"str_endswith", l_str_endswith}, {"str_slice", l_str_slice}, {"str_split", l_str_split},
        {"dt_year", l_dt_year}, {"dt_month", l_dt_month}, {"dt_day", l_dt_day}, {"dt_hour", l_dt_hour},
        {"reduce", l_reduce}, {"sum", l_sum}, {"mean", l_mean}, {"count", l_count}, {"min", l_min},
        {"max", l_max}, {"std", l_std}, {"var", l_var}, {"nunique", l_nunique}, {"size", l_size},
        {"first", l_first}, {"last", l_last}, {"to_csv", l_to_csv}, {NULL, NULL}};
    if (lua_getfield(L, LUA_REGISTRYINDEX, METHODS_KEY) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, METHODS_KEY);
    }
    luaL_setfuncs(L, m, 0);
    lua_pop(L, 1);
    return 0;
}
