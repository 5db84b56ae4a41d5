/*
 * l_ndarray.c - lask.core.ndarray: the local n-d array seen from Lua.
 *
 * A local array is a chunk userdata of kind NDARRAY. Its operations run at
 * once through the kernels of runtime/ndarray_ops.h, with Lua's conventions
 * on top: 1-based axes and indices, negative ones counting from the end
 * (-1 is the last), inclusive ranges, options as a trailing table.
 *
 * Chunks are immutable once shared, so a:set() writes in place only when
 * the userdata holds the array's only reference and owns its data; else it
 * first copies (copy-on-write), and other holders never see the change.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bridge.h"
#include "ndarray_ops.h"
#include "l_ndarray.h"

#define MT LASK_KIND_NDARRAY

lask__ndarray *lask__check_nd(lua_State *L, int idx) {
    return (lask__ndarray *)lask__check_chunk(L, idx, MT, "ndarray");
}

lask__ndarray *lask__test_nd(lua_State *L, int idx) {
    return (lask__ndarray *)lask__test_chunk(L, idx, MT);
}

/* push a kernel result or raise its error */
static int push_or_error(lua_State *L, lask__ndarray *o, lask__nderr *e) {
    if (!o) return luaL_error(L, "%s", e->msg[0] ? e->msg : "out of memory");
    /* lask__push_chunk weighs the block on the collector */
    lask__push_chunk(L, &o->h);
    return 1;
}

int32_t lask__check_dtype(lua_State *L, int idx, int32_t def) {
    if (lua_isnoneornil(L, idx)) return def;
    const char *s = luaL_checkstring(L, idx);
    int32_t dt = lask__dtype_from_name(s);
    if (dt < 0) luaL_error(L, "unknown dtype '%s' (float64, float32, int64, int32, uint8, bool)", s);
    return dt;
}

/* An operand: an array, a number or a boolean. Numbers become weak 0-d
 * arrays that the caller must unref (*tmp). */
static const lask__ndarray *operand(lua_State *L, int idx, int *weak, lask__ndarray **tmp) {
    *weak = 0;
    *tmp = NULL;
    lask__ndarray *a = lask__test_nd(L, idx);
    if (a) return a;
    lask__ndarray *s = NULL;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        if (lua_isinteger(L, idx)) s = lask__nd_scalar(LASK_I64, 0, lua_tointeger(L, idx), 1);
        else s = lask__nd_scalar(LASK_F64, lua_tonumber(L, idx), 0, 0);
        *weak = 1;
    } else if (lua_type(L, idx) == LUA_TBOOLEAN) {
        s = lask__nd_scalar(LASK_BOOL8, 0, lua_toboolean(L, idx), 1);
    } else {
        luaL_error(L, "bad operand #%d (ndarray, number or boolean expected, got %s)", idx,
                   luaL_typename(L, idx));
    }
    if (!s) luaL_error(L, "out of memory");
    *tmp = s;
    return s;
}

/* When an operand is another kind of object (a lazy array), let its own
 * metamethod handle the expression. Returns 1 with the result pushed. */
static int defer(lua_State *L, const char *event) {
    for (int i = 1; i <= 2; i++) {
        int t = lua_type(L, i);
        if (t == LUA_TNUMBER || t == LUA_TBOOLEAN || lask__test_nd(L, i)) continue;
        if (luaL_getmetafield(L, i, event) != LUA_TNIL) {
            lua_pushvalue(L, 1);
            lua_pushvalue(L, 2);
            lua_call(L, 2, 1);
            return 1;
        }
    }
    return 0;
}

static int binop(lua_State *L, int op, int a, int b) {
    int wa, wb;
    lask__ndarray *ta, *tb;
    const lask__ndarray *x = operand(L, a, &wa, &ta);
    const lask__ndarray *y = operand(L, b, &wb, &tb);
    lask__nderr e = {{0}};
    lask__ndarray *o = lask__nd_binary(op, x, wa, y, wb, &e);
    if (ta) lask_chunk_unref(&ta->h);
    if (tb) lask_chunk_unref(&tb->h);
    return push_or_error(L, o, &e);
}

#define META(fname, ev, op) static int fname(lua_State *L) { \
    if (defer(L, ev)) return 1; \
    return binop(L, op, 1, 2); }
META(m_add, "__add", LASK__ADD)
META(m_sub, "__sub", LASK__SUB)
META(m_mul, "__mul", LASK__MUL)
META(m_div, "__div", LASK__DIV)
META(m_idiv, "__idiv", LASK__FLOORDIV)
META(m_mod, "__mod", LASK__MOD)
META(m_pow, "__pow", LASK__POW)
META(m_band, "__band", LASK__AND)
META(m_bor, "__bor", LASK__OR)
META(m_bxor, "__bxor", LASK__XOR)

/* methods taking (self, other) */
static int binmethod(lua_State *L) {
    int op = (int)lua_tointeger(L, lua_upvalueindex(1));
    lask__check_nd(L, 1);
    if (lua_isnone(L, 2)) return luaL_error(L, "%s: missing operand", lask__binop_name(op));
    return binop(L, op, 1, 2);
}

static int unop(lua_State *L, int op) {
    lask__ndarray *a = lask__check_nd(L, 1);
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_unary(op, a, &e), &e);
}
static int m_unm(lua_State *L) { return unop(L, LASK__NEG); }
static int m_bnot(lua_State *L) { return unop(L, LASK__NOT); }
static int unmethod(lua_State *L) { return unop(L, (int)lua_tointeger(L, lua_upvalueindex(1))); }

static void push_elem(lua_State *L, const char *p, int32_t dt);

/* ---- axes */

int lask__norm_axis(lua_State *L, lua_Integer ax, int ndim, int allow_end) {
    int n = ndim + (allow_end ? 1 : 0);
    lua_Integer a = ax < 0 ? ax + n : ax - 1;
    if (ax == 0 || a < 0 || a >= n)
        luaL_error(L, "axis %d out of range for %d-d array (axes are 1..%d, or -1 for the last)",
                   (int)ax, ndim, n);
    return (int)a;
}

/* opts at idx: nil, an axis number, a list of axes, or {axis=, keepdims=,
 * ddof=}; fills flags (all set when no axis) */
static void reduce_opts(lua_State *L, int idx, const lask__ndarray *a, uint8_t *flags,
                        int *all, int *keepdims, double *ddof, int *single) {
    *all = 1;
    *keepdims = 0;
    *ddof = 0;
    *single = -1;
    memset(flags, 0, LASK__MAXDIM);
    int axis_idx = 0;
    if (lua_type(L, idx) == LUA_TNUMBER) axis_idx = idx;
    else if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "keepdims");
        *keepdims = lua_toboolean(L, -1);
        lua_getfield(L, idx, "ddof");
        *ddof = luaL_optnumber(L, -1, 0);
        lua_pop(L, 2);
        lua_getfield(L, idx, "axis");
        if (lua_isnil(L, -1) && lua_rawlen(L, idx) > 0) {   /* a bare list of axes */
            lua_pop(L, 1);
            lua_pushvalue(L, idx);
        }
        axis_idx = lua_gettop(L);
    }
    if (axis_idx && !lua_isnil(L, axis_idx)) {
        if (lua_type(L, axis_idx) == LUA_TNUMBER) {
            int ax = lask__norm_axis(L, luaL_checkinteger(L, axis_idx), a->ndim, 0);
            flags[ax] = 1;
            *single = ax;
        } else if (lua_istable(L, axis_idx)) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, axis_idx);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, axis_idx, i);
                int ax = lask__norm_axis(L, luaL_checkinteger(L, -1), a->ndim, 0);
                lua_pop(L, 1);
                if (flags[ax]) luaL_error(L, "axis %d given twice", ax + 1);
                flags[ax] = 1;
            }
            if (n == 1) for (int i = 0; i < a->ndim; i++) if (flags[i]) *single = i;
        } else luaL_error(L, "axis must be a number or a list of numbers");
        *all = 0;
    }
    if (axis_idx > idx) lua_pop(L, 1);
}

static int reduce(lua_State *L) {
    int op = (int)lua_tointeger(L, lua_upvalueindex(1));
    lask__ndarray *a = lask__check_nd(L, 1);
    uint8_t flags[LASK__MAXDIM];
    int all, keep, single;
    double ddof;
    reduce_opts(L, 2, a, flags, &all, &keep, &ddof, &single);
    lask__nderr e = {{0}};
    lask__ndarray *o = lask__nd_reduce(op, a, all ? NULL : flags, keep, ddof, &e);
    if (o && (op == LASK__RARGMIN || op == LASK__RARGMAX)) {
        /* positions are 1-based in Lua */
        lask__ndarray *one = lask__nd_scalar(LASK_I64, 0, 1, 1);
        lask__ndarray *p = one ? lask__nd_binary(LASK__ADD, o, 0, one, 1, &e) : NULL;
        if (one) lask_chunk_unref(&one->h);
        lask_chunk_unref(&o->h);
        o = p;
    }
    if (o && o->ndim == 0) {     /* a full reduction gives a Lua number */
        push_elem(L, o->data, o->dtype);
        lask_chunk_unref(&o->h);
        return 1;
    }
    return push_or_error(L, o, &e);
}

static int cumulative(lua_State *L) {
    int op = (int)lua_tointeger(L, lua_upvalueindex(1));
    lask__ndarray *a = lask__check_nd(L, 1);
    lask__nderr e = {{0}};
    if (lua_isnoneornil(L, 2)) {      /* flattened, as NumPy with axis=None */
        int64_t n = a->size;
        lask__ndarray *f = lask__nd_reshape(a, 1, &n, &e);
        if (!f) return push_or_error(L, f, &e);
        lask__ndarray *o = lask__nd_cumulative(op, f, 0, &e);
        lask_chunk_unref(&f->h);
        return push_or_error(L, o, &e);
    }
    int ax = lask__norm_axis(L, luaL_checkinteger(L, 2), a->ndim, 0);
    return push_or_error(L, lask__nd_cumulative(op, a, ax, &e), &e);
}

/* ---- shape */

static int read_shape(lua_State *L, int idx, int64_t *shape, const char *what) {
    if (lua_type(L, idx) == LUA_TNUMBER) {
        shape[0] = luaL_checkinteger(L, idx);
        return 1;
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    int n = (int)lua_rawlen(L, idx);
    if (n > LASK__MAXDIM) luaL_error(L, "%s: at most %d dimensions", what, LASK__MAXDIM);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, idx, i + 1);
        int isint;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        if (!isint) luaL_error(L, "%s: shape entry %d is not an integer", what, i + 1);
        shape[i] = v;
        lua_pop(L, 1);
    }
    return n;
}

int lask__check_shape(lua_State *L, int idx, int64_t *shape, const char *what) {
    int n = read_shape(L, idx, shape, what);
    for (int i = 0; i < n; i++)
        if (shape[i] < 0) luaL_error(L, "%s: negative length %d on axis %d", what, (int)shape[i], i + 1);
    return n;
}

static int m_transpose(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    int32_t perm[LASK__MAXDIM];
    int n = lua_gettop(L) - 1, fromtable = 0;
    if (n == 1 && lua_istable(L, 2)) { n = (int)lua_rawlen(L, 2); fromtable = 1; }
    if (n > 0 && n != a->ndim)
        return luaL_error(L, "transpose: %d axes given for a %d-d array", n, a->ndim);
    for (int i = 0; i < n; i++) {
        if (fromtable) lua_rawgeti(L, 2, i + 1); else lua_pushvalue(L, i + 2);
        perm[i] = lask__norm_axis(L, luaL_checkinteger(L, -1), a->ndim, 0);
        lua_pop(L, 1);
    }
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_transpose(a, n ? perm : NULL, &e), &e);
}

static int m_reshape(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    int64_t sh[LASK__MAXDIM];
    int n;
    if (lua_istable(L, 2)) n = read_shape(L, 2, sh, "reshape");
    else {
        n = lua_gettop(L) - 1;
        if (n > LASK__MAXDIM) return luaL_error(L, "reshape: too many dimensions");
        for (int i = 0; i < n; i++) sh[i] = luaL_checkinteger(L, i + 2);
    }
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_reshape(a, n, sh, &e), &e);
}

static int m_flatten(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    int64_t n = a->size;
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_reshape(a, 1, &n, &e), &e);
}

static int m_squeeze(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    int64_t sh[LASK__MAXDIM];
    int n = 0, only = -1;
    if (!lua_isnoneornil(L, 2)) {
        only = lask__norm_axis(L, luaL_checkinteger(L, 2), a->ndim, 0);
        if (a->shape[only] != 1)
            return luaL_error(L, "squeeze: axis %d has length %d, not 1", only + 1, (int)a->shape[only]);
    }
    for (int i = 0; i < a->ndim; i++)
        if (!(a->shape[i] == 1 && (only < 0 || only == i))) sh[n++] = a->shape[i];
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_reshape(a, n, sh, &e), &e);
}

static int m_expand_dims(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    int ax = lask__norm_axis(L, luaL_checkinteger(L, 2), a->ndim, 1);
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_expand_dims(a, ax, &e), &e);
}

static int m_astype(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    int32_t dt = lask__check_dtype(L, 2, -1);
    if (dt < 0) return luaL_error(L, "astype: dtype expected");
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_astype(a, dt, &e), &e);
}

static int m_copy(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_astype(a, -1, &e), &e);
}

/* indices (an int array or a Lua list, 1-based) -> 0-based int64 array */
static lask__ndarray *index_array(lua_State *L, int idx, int64_t len, const char *what) {
    lask__nderr e = {{0}};
    lask__ndarray *ix;
    lask__ndarray *src = lask__test_nd(L, idx);
    if (src) {
        if (!lask__dtype_isint(src->dtype))
            luaL_error(L, "%s: indices must be integers, got %s", what, lask__dtype_name(src->dtype));
        ix = lask__nd_astype(src, LASK_I64, &e);
    } else {
        luaL_checktype(L, idx, LUA_TTABLE);
        int64_t n = (int64_t)lua_rawlen(L, idx);
        ix = lask__ndarray_alloc(LASK_I64, 1, &n);
        if (ix) for (int64_t i = 0; i < n; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i + 1);
            int isint;
            ((int64_t *)ix->data)[i] = lua_tointegerx(L, -1, &isint);
            lua_pop(L, 1);
            if (!isint) { lask_chunk_unref(&ix->h); luaL_error(L, "%s: index %d is not an integer", what, (int)i + 1); }
        }
    }
    if (!ix) luaL_error(L, "out of memory");
    int64_t *v = (int64_t *)ix->data;
    for (int64_t i = 0; i < ix->size; i++) {
        int64_t x = v[i] < 0 ? v[i] + len : v[i] - 1;
        if (v[i] == 0 || x < 0 || x >= len) {
            long long bad = (long long)v[i];
            lask_chunk_unref(&ix->h);
            luaL_error(L, "%s: index %lld out of range for length %lld (indices are 1..%lld or negative)",
                       what, bad, (long long)len, (long long)len);
        }
        v[i] = x;
    }
    return ix;
}

static int m_take(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    int ax = lua_isnoneornil(L, 3) ? 0 : lask__norm_axis(L, luaL_checkinteger(L, 3), a->ndim, 0);
    if (a->ndim == 0) return luaL_error(L, "take: array is 0-d");
    lask__ndarray *ix = index_array(L, 2, a->shape[ax], "take");
    lask__nderr e = {{0}};
    lask__ndarray *o = lask__nd_take(a, ix, ax, &e);
    lask_chunk_unref(&ix->h);
    return push_or_error(L, o, &e);
}

static int m_mask(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    lask__ndarray *m = lask__check_nd(L, 2);
    int ax = lua_isnoneornil(L, 3) ? 0 : lask__norm_axis(L, luaL_checkinteger(L, 3), a->ndim, 0);
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_mask(a, m, ax, &e), &e);
}

static int m_clip(lua_State *L) {
    lask__check_nd(L, 1);
    int top = lua_gettop(L);
    lua_pushvalue(L, 1);
    if (!lua_isnoneornil(L, 2)) { binop(L, LASK__MAXIMUM, top + 1, 2); lua_replace(L, top + 1); }
    if (!lua_isnoneornil(L, 3)) { binop(L, LASK__MINIMUM, top + 1, 3); lua_replace(L, top + 1); }
    return 1;
}

static int m_matmul(lua_State *L) {
    if (defer(L, "__lask_matmul")) return 1;
    lask__ndarray *a = lask__check_nd(L, 1), *b = lask__check_nd(L, 2);
    lask__nderr e = {{0}};
    /* 1-d operands as in NumPy: a row on the left, a column on the right */
    lask__ndarray *va = NULL, *vb = NULL, *o;
    if (a->ndim == 1) { int64_t s[2] = {1, a->shape[0]}; va = lask__nd_reshape(a, 2, s, &e); }
    if (b->ndim == 1) { int64_t s[2] = {b->shape[0], 1}; vb = lask__nd_reshape(b, 2, s, &e); }
    o = lask__nd_matmul(va ? va : a, vb ? vb : b, &e);
    if (o && (va || vb)) {
        int64_t s[2];
        int n = 0;
        if (!va) s[n++] = o->shape[0];
        if (!vb) s[n++] = o->shape[1];
        lask__ndarray *r = lask__nd_reshape(o, n, s, &e);
        lask_chunk_unref(&o->h);
        o = r;
    }
    if (va) lask_chunk_unref(&va->h);
    if (vb) lask_chunk_unref(&vb->h);
    return push_or_error(L, o, &e);
}

/* ---- element access */

static char *element(lua_State *L, lask__ndarray *a, int first, int n) {
    if (n != a->ndim)
        luaL_error(L, "expected %d indices for a %d-d array, got %d", a->ndim, a->ndim, n);
    char *p = a->data;
    for (int i = 0; i < n; i++) {
        lua_Integer v = luaL_checkinteger(L, first + i);
        int64_t x = v < 0 ? v + a->shape[i] : v - 1;
        if (v == 0 || x < 0 || x >= a->shape[i])
            luaL_error(L, "index %d out of range for axis %d of length %d", (int)v, i + 1, (int)a->shape[i]);
        p += x * a->strides[i];
    }
    return p;
}

static void push_elem(lua_State *L, const char *p, int32_t dt) {
    if (lask__dtype_isfloat(dt)) lua_pushnumber(L, lask__nd_getd(p, dt));
    else if (dt == LASK_BOOL8) lua_pushboolean(L, *p != 0);
    else lua_pushinteger(L, lask__nd_geti(p, dt));
}

static int m_get(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    push_elem(L, element(L, a, 2, lua_gettop(L) - 1), a->dtype);
    return 1;
}

static int m_item(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    if (a->size != 1) {
        char b[256];
        return luaL_error(L, "item: array of shape %s has %d elements, not 1",
                          lask__shape_str(a->ndim, a->shape, b, 256), (int)a->size);
    }
    char *p = a->data;
    push_elem(L, p, a->dtype);
    return 1;
}

static int m_set(lua_State *L) {
    lask__lchunk *u = luaL_checkudata(L, 1, lask__kind_mtname(MT));
    lask__ndarray *a = (lask__ndarray *)u->c;
    int n = lua_gettop(L) - 2;
    if (n < 0) return luaL_error(L, "set: expected indices and a value");
    int vt = lua_type(L, n + 2);
    if (vt != LUA_TNUMBER && vt != LUA_TBOOLEAN)
        return luaL_error(L, "set: value must be a number or boolean, got %s", luaL_typename(L, n + 2));
    element(L, a, 2, n);   /* check the indices before copying */
    if (atomic_load(&a->h.refs) > 1 || a->base) {
        /* shared (a graph's chunk, a view): write into a private copy */
        lask__nderr e = {{0}};
        lask__ndarray *c = lask__nd_astype(a, -1, &e);
        if (!c) return luaL_error(L, "%s", e.msg);
        lask_chunk_unref(u->c);
        u->c = &c->h;
        a = c;
    }
    char *p = element(L, a, 2, n);
    if (vt == LUA_TBOOLEAN) lask__nd_seti(p, a->dtype, lua_toboolean(L, n + 2));
    else if (lua_isinteger(L, n + 2)) lask__nd_seti(p, a->dtype, lua_tointeger(L, n + 2));
    else lask__nd_setd(p, a->dtype, lua_tonumber(L, n + 2));
    lua_settop(L, 1);
    return 1;
}

static void totable(lua_State *L, const lask__ndarray *a, int d, const char *p) {
    if (d == a->ndim) { push_elem(L, p, a->dtype); return; }
    lua_createtable(L, (int)a->shape[d], 0);
    for (int64_t i = 0; i < a->shape[d]; i++) {
        totable(L, a, d + 1, p + i * a->strides[d]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static int m_totable(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    luaL_checkstack(L, a->ndim + 10, "array too deep");
    totable(L, a, 0, a->data);
    return 1;
}

static int m_data_ptr(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    lua_pushlightuserdata(L, a->data);
    lua_pushinteger(L, (lua_Integer)(intptr_t)a->data);
    return 2;
}

static void push_int_list(lua_State *L, int n, const int64_t *v) {
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) { lua_pushinteger(L, v[i]); lua_rawseti(L, -2, i + 1); }
}

/* ---- slicing: x[{...}] */

/* Normalise a Lua index key against shape, NumPy-style 0-based results:
 * fills start/stop/step per axis and drop[i] for integer indices. */
int lask__norm_key(lua_State *L, int idx, int ndim, const int64_t *shape, int64_t *start,
                   int64_t *stop, int64_t *step, uint8_t *drop) {
    int n = lua_istable(L, idx) ? (int)lua_rawlen(L, idx) : 1;
    if (lua_type(L, idx) == LUA_TNUMBER) n = 1;
    if (n > ndim) luaL_error(L, "too many indices: %d for a %d-d array", n, ndim);
    for (int i = 0; i < ndim; i++) {
        int64_t len = shape[i];
        drop[i] = 0;
        start[i] = 0; stop[i] = len; step[i] = 1;
        if (i >= n) continue;
        if (lua_type(L, idx) == LUA_TNUMBER) lua_pushvalue(L, idx);
        else lua_rawgeti(L, idx, i + 1);
        int t = lua_type(L, -1);
        if (t == LUA_TNUMBER) {
            int isint;
            lua_Integer v = lua_tointegerx(L, -1, &isint);
            int64_t x = v < 0 ? v + len : v - 1;
            if (!isint)
                luaL_error(L, "index %s of axis %d is not an integer", lua_tostring(L, -1), i + 1);
            if (v == 0 || x < 0 || x >= len)
                luaL_error(L, "index %s out of range for axis %d of length %d (indices are 1..%d or -%d..-1)",
                           lua_tostring(L, -1), i + 1, (int)len, (int)len, (int)len);
            start[i] = x; stop[i] = x + 1; drop[i] = 1;
        } else if (t == LUA_TTABLE) {
            lua_Integer r[3];
            int has[3];
            for (int k = 0; k < 3; k++) {
                lua_rawgeti(L, -1 - 0, k + 1);
                int isint;
                r[k] = lua_tointegerx(L, -1, &isint);
                has[k] = !lua_isnil(L, -1);
                if (has[k] && !isint)
                    luaL_error(L, "slice of axis %d: entry %d is not an integer", i + 1, k + 1);
                lua_pop(L, 1);
            }
            int64_t sp = has[2] ? r[2] : 1;
            if (sp == 0) luaL_error(L, "slice of axis %d: step is zero", i + 1);
            /* {a} alone selects a..a keeping the axis, as Torch7's narrow */
            if (has[0] && !has[1] && !has[2]) { r[1] = r[0]; has[1] = 1; }
            int64_t a = has[0] ? (r[0] < 0 ? r[0] + len : r[0] - 1) : (sp > 0 ? 0 : len - 1);
            int64_t b = has[1] ? (r[1] < 0 ? r[1] + len : r[1] - 1) : (sp > 0 ? len - 1 : 0);
            if (has[0] && (r[0] == 0 || a < 0 || a >= len) && !(len == 0))
                luaL_error(L, "slice start %d out of range for axis %d of length %d", (int)r[0], i + 1, (int)len);
            int empty = sp > 0 ? b == a - 1 : b == a + 1;   /* {a, a - 1}: nothing */
            if (has[1] && !empty && (r[1] == 0 || b < -1 || b >= len) && !(len == 0))
                luaL_error(L, "slice end %d out of range for axis %d of length %d", (int)r[1], i + 1, (int)len);
            start[i] = a;
            step[i] = sp;
            stop[i] = sp > 0 ? b + 1 : b - 1;   /* inclusive end -> exclusive */
            if (lask__slice_len(start[i], stop[i], sp) == 0) { start[i] = 0; stop[i] = 0; step[i] = 1; }
        } else if (t != LUA_TNIL) {
            luaL_error(L, "index of axis %d must be a number or a {first, last, step} table, got %s",
                       i + 1, luaL_typename(L, -1));
        }
        lua_pop(L, 1);
    }
    return n;
}

static lask__ndarray *slice_key(lua_State *L, lask__ndarray *a, int idx) {
    int64_t s0[LASK__MAXDIM], s1[LASK__MAXDIM], s2[LASK__MAXDIM];
    uint8_t drop[LASK__MAXDIM];
    lask__norm_key(L, idx, a->ndim, a->shape, s0, s1, s2, drop);
    lask__nderr e = {{0}};
    lask__ndarray *v = lask__nd_slice(a, s0, s1, s2, &e);
    if (!v) luaL_error(L, "%s", e.msg);
    int64_t sh[LASK__MAXDIM], st[LASK__MAXDIM];
    int n = 0;
    for (int i = 0; i < a->ndim; i++)
        if (!drop[i]) { sh[n] = v->shape[i]; st[n] = v->strides[i]; n++; }
    if (n == a->ndim) return v;
    lask__ndarray *w = lask__ndarray_view(&v->h, v->dtype, n, sh, st, v->data);
    lask_chunk_unref(&v->h);
    if (!w) luaL_error(L, "out of memory");
    return w;
}

static int m_slice(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    lask__ndarray *v = slice_key(L, a, 2);
    lask__push_chunk(L, &v->h);
    return 1;
}

/* norm_key for the stdlib: returns {start}, {stop}, {step}, {drop} (0-based) */
static int l_normalize_key(lua_State *L) {
    int64_t sh[LASK__MAXDIM], s0[LASK__MAXDIM], s1[LASK__MAXDIM], s2[LASK__MAXDIM];
    int nd = read_shape(L, 2, sh, "normalize_key");
    uint8_t drop[LASK__MAXDIM];
    lask__norm_key(L, 1, nd, sh, s0, s1, s2, drop);
    push_int_list(L, nd, s0);
    push_int_list(L, nd, s1);
    push_int_list(L, nd, s2);
    lua_createtable(L, nd, 0);
    for (int i = 0; i < nd; i++) { lua_pushboolean(L, drop[i]); lua_rawseti(L, -2, i + 1); }
    return 4;
}

static int m_index(lua_State *L) {
    lask__ndarray *a = (lask__ndarray *)lask__check_chunk(L, 1, MT, "ndarray");
    int t = lua_type(L, 2);
    if (t == LUA_TSTRING) {
        const char *k = lua_tostring(L, 2);
        if (!strcmp(k, "shape")) { push_int_list(L, a->ndim, a->shape); return 1; }
        if (!strcmp(k, "dtype")) { lua_pushstring(L, lask__dtype_name(a->dtype)); return 1; }
        if (!strcmp(k, "ndim")) { lua_pushinteger(L, a->ndim); return 1; }
        if (!strcmp(k, "size")) { lua_pushinteger(L, a->size); return 1; }
        if (!strcmp(k, "nbytes")) { lua_pushinteger(L, a->size * lask_dtype_size(a->dtype)); return 1; }
        if (!strcmp(k, "itemsize")) { lua_pushinteger(L, lask_dtype_size(a->dtype)); return 1; }
        if (!strcmp(k, "strides")) { push_int_list(L, a->ndim, a->strides); return 1; }
        /* methods live in the metatable's "methods" table */
        lua_getmetatable(L, 1);
        lua_getfield(L, -1, "methods");
        lua_getfield(L, -1, k);
        return 1;
    }
    if (t == LUA_TTABLE || t == LUA_TNUMBER) {
        lask__ndarray *v = slice_key(L, a, 2);
        lask__push_chunk(L, &v->h);
        return 1;
    }
    if (lask__test_nd(L, 2)) {       /* x[mask] */
        lask__ndarray *m = lask__test_nd(L, 2);
        lask__nderr e = {{0}};
        return push_or_error(L, lask__nd_mask(a, m, 0, &e), &e);
    }
    return luaL_error(L, "cannot index an ndarray with a %s", luaL_typename(L, 2));
}

/* a[key] = v: writes into a (copying it first when it is shared, as :set) */
static int m_newindex(lua_State *L) {
    lask__lchunk *u = luaL_checkudata(L, 1, lask__kind_mtname(MT));
    lask__ndarray *a = (lask__ndarray *)u->c;
    int t = lua_type(L, 2);
    if (t != LUA_TTABLE && t != LUA_TNUMBER)
        return luaL_error(L, "ndarray fields are read-only; assign slices with a[{...}] = value");
    lask__ndarray *v = slice_key(L, a, 2);     /* checks the key first */
    lask_chunk_unref(&v->h);
    int wv;
    lask__ndarray *tmp;
    const lask__ndarray *src = operand(L, 3, &wv, &tmp);
    lask__nderr e = {{0}};
    if (atomic_load(&a->h.refs) > 1 || a->base) {
        lask__ndarray *c = lask__nd_astype(a, -1, &e);
        if (!c) { if (tmp) lask_chunk_unref(&tmp->h); return luaL_error(L, "%s", e.msg); }
        lask_chunk_unref(u->c);
        u->c = &c->h;
        a = c;
    }
    v = slice_key(L, a, 2);
    lask__ndarray *b = lask__nd_broadcast_to(src, v->ndim, v->shape, &e);
    if (tmp) lask_chunk_unref(&tmp->h);
    if (!b) { lask_chunk_unref(&v->h); return luaL_error(L, "assignment: %s", e.msg); }
    lask__nd_copyinto(v, b);
    lask_chunk_unref(&b->h);
    lask_chunk_unref(&v->h);
    return 0;
}

static int m_len(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    if (a->ndim == 0) return luaL_error(L, "len() of a 0-d array");
    lua_pushinteger(L, a->shape[0]);
    return 1;
}

static int m_tostring(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    lask__nd_tostring(L, a);
    return 1;
}

static int m_contiguous(lua_State *L) {
    lua_pushboolean(L, lask__ndarray_contiguous(lask__check_nd(L, 1)));
    return 1;
}

static int m_save_npy(lua_State *L) {
    lask__ndarray *a = lask__check_nd(L, 1);
    lask__nderr e = {{0}};
    if (!lask__npy_save(luaL_checkstring(L, 2), a, &e)) return luaL_error(L, "%s", e.msg);
    return 0;
}

/* ---- module functions */

static int l_is(lua_State *L) {
    lua_pushboolean(L, lask__test_nd(L, 1) != NULL);
    return 1;
}

static int fill(lua_State *L, int shape_idx, int val_idx, int dt_idx, int32_t defdt) {
    int64_t sh[LASK__MAXDIM];
    int nd = lask__check_shape(L, shape_idx, sh, "shape");
    int32_t dt = defdt;
    int useint = 0;
    double d = 0;
    lua_Integer iv = 0;
    if (val_idx && !lua_isnoneornil(L, val_idx)) {
        if (lua_type(L, val_idx) == LUA_TBOOLEAN) { useint = 1; iv = lua_toboolean(L, val_idx); if (dt < 0) dt = LASK_BOOL8; }
        else if (lua_isinteger(L, val_idx)) { useint = 1; iv = lua_tointeger(L, val_idx); if (dt < 0) dt = LASK_I64; }
        else { d = luaL_checknumber(L, val_idx); if (dt < 0) dt = LASK_F64; }
    }
    dt = lask__check_dtype(L, dt_idx, dt < 0 ? LASK_F64 : dt);
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_full(dt, nd, sh, d, iv, useint, &e), &e);
}

static int l_zeros(lua_State *L) { return fill(L, 1, 0, 2, LASK_F64); }
static int l_full(lua_State *L) { return fill(L, 1, 2, 3, -1); }
static int l_ones(lua_State *L) {
    lua_settop(L, 2);
    lua_pushinteger(L, 1);
    return fill(L, 1, 3, 2, LASK_F64);
}

/* arange(stop) / arange(start, stop[, step][, dtype]): stop excluded, as NumPy */
static int l_arange(lua_State *L) {
    int top = lua_gettop(L), dtidx = 0;
    if (top >= 1 && lua_type(L, top) == LUA_TSTRING) { dtidx = top; top--; }
    double start = 0, stop, step = 1;
    int allint = 1;
    for (int i = 1; i <= top; i++) if (!lua_isinteger(L, i)) allint = 0;
    if (top == 1) stop = luaL_checknumber(L, 1);
    else { start = luaL_checknumber(L, 1); stop = luaL_checknumber(L, 2); if (top >= 3) step = luaL_checknumber(L, 3); }
    if (step == 0) return luaL_error(L, "arange: step is zero");
    double n = ceil((stop - start) / step);
    if (n < 0) n = 0;
    int32_t dt = dtidx ? lask__check_dtype(L, dtidx, LASK_F64) : allint ? LASK_I64 : LASK_F64;
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_arange(dt, start, step, (int64_t)n, &e), &e);
}

static int l_linspace(lua_State *L) {
    double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
    lua_Integer n = luaL_optinteger(L, 3, 50);
    if (n < 0) return luaL_error(L, "linspace: negative count %d", (int)n);
    double step = n > 1 ? (b - a) / (double)(n - 1) : 0;
    lask__nderr e = {{0}};
    lask__ndarray *o = lask__nd_arange(LASK_F64, a, step, n, &e);
    if (o && n > 1) ((double *)o->data)[n - 1] = b;   /* exact end point */
    return push_or_error(L, o, &e);
}

static int l_eye(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1), m = luaL_optinteger(L, 2, n), k = luaL_optinteger(L, 3, 0);
    if (n < 0 || m < 0) return luaL_error(L, "eye: negative size");
    int32_t dt = lask__check_dtype(L, 4, LASK_F64);
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_eye(dt, n, m, k, 0, 0, n, m, &e), &e);
}

/* from_table: nested Lua tables (rectangular) -> array. nd < 0 until the
 * first leaf fixes the depth; every other leaf and length must agree. */
static void scan_table(lua_State *L, int idx, int d, int *nd, int64_t *sh, uint8_t *seen, int *kind) {
    if (lua_type(L, idx) == LUA_TTABLE) {
        int64_t n = (int64_t)lua_rawlen(L, idx);
        if (d >= LASK__MAXDIM) luaL_error(L, "from_table: nested more than %d deep", LASK__MAXDIM);
        if (*nd >= 0 && d >= *nd) luaL_error(L, "from_table: ragged table (a table at depth %d)", d + 1);
        if (!seen[d]) { seen[d] = 1; sh[d] = n; }
        else if (sh[d] != n)
            luaL_error(L, "from_table: ragged table (axis %d has lengths %d and %d)", d + 1, (int)sh[d], (int)n);
        if (n == 0) {
            if (*nd < 0) *nd = d + 1;
            else if (*nd != d + 1) luaL_error(L, "from_table: ragged table (empty table at depth %d)", d + 1);
        }
        luaL_checkstack(L, 4, "from_table");
        for (int64_t i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i);
            scan_table(L, lua_gettop(L), d + 1, nd, sh, seen, kind);
            lua_pop(L, 1);
        }
        return;
    }
    if (*nd < 0) *nd = d;
    else if (*nd != d) luaL_error(L, "from_table: ragged table (a value at depth %d)", d + 1);
    int t = lua_type(L, idx);
    if (t == LUA_TBOOLEAN) *kind |= 1;
    else if (t == LUA_TNUMBER) *kind |= lua_isinteger(L, idx) ? 2 : 4;
    else luaL_error(L, "from_table: values must be numbers or booleans, got %s", luaL_typename(L, idx));
}

static void fill_table(lua_State *L, int idx, int d, lask__ndarray *o, int64_t *pos) {
    if (lua_type(L, idx) == LUA_TTABLE) {
        int64_t n = (int64_t)lua_rawlen(L, idx);
        for (int64_t i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i);
            fill_table(L, lua_gettop(L), d + 1, o, pos);
            lua_pop(L, 1);
        }
        return;
    }
    char *p = o->data + (*pos)++ * lask_dtype_size(o->dtype);
    if (lua_type(L, idx) == LUA_TBOOLEAN) lask__nd_seti(p, o->dtype, lua_toboolean(L, idx));
    else if (lua_isinteger(L, idx)) lask__nd_seti(p, o->dtype, lua_tointeger(L, idx));
    else lask__nd_setd(p, o->dtype, lua_tonumber(L, idx));
}

static int l_from_table(lua_State *L) {
    if (lask__test_nd(L, 1)) { lua_settop(L, 1); return 1; }
    int64_t sh[LASK__MAXDIM];
    uint8_t seen[LASK__MAXDIM] = {0};
    int nd = -1, kind = 0;
    scan_table(L, 1, 0, &nd, sh, seen, &kind);
    int32_t def = kind & 4 ? LASK_F64 : kind & 2 ? LASK_I64 : kind & 1 ? LASK_BOOL8 : LASK_F64;
    int32_t dt = lask__check_dtype(L, 2, def);
    lask__ndarray *o = lask__ndarray_alloc(dt, nd, sh);
    if (!o) return luaL_error(L, "from_table: out of memory");
    int64_t pos = 0;
    lask__push_chunk(L, &o->h);
    fill_table(L, 1, 0, o, &pos);
    return 1;
}

static int l_random(lua_State *L) {
    const char *kind = luaL_checkstring(L, 1);
    int64_t sh[LASK__MAXDIM], zero[LASK__MAXDIM] = {0};
    int nd = lask__check_shape(L, 2, sh, "random");
    lua_Integer seed = luaL_optinteger(L, 3, 0);
    int k = !strcmp(kind, "normal") ? LASK__RAND_NORMAL : !strcmp(kind, "randint") ? LASK__RAND_INT
                                                                                 : LASK__RAND_UNIFORM;
    int32_t dt = lask__check_dtype(L, 6, k == LASK__RAND_INT ? LASK_I64 : LASK_F64);
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_random(k, dt, (uint64_t)seed, nd, sh, zero, sh,
                                            luaL_optnumber(L, 4, 0), luaL_optnumber(L, 5, 1), &e), &e);
}

static int l_load_npy(lua_State *L) {
    lask__nderr e = {{0}};
    return push_or_error(L, lask__npy_load(luaL_checkstring(L, 1), &e), &e);
}

static int l_npy_info(lua_State *L) {
    lask__npyinfo info;
    lask__nderr e = {{0}};
    if (!lask__npy_read_info(luaL_checkstring(L, 1), &info, &e)) return luaL_error(L, "%s", e.msg);
    push_int_list(L, info.ndim, info.shape);
    lua_pushstring(L, lask__dtype_name(info.dtype));
    lua_pushboolean(L, info.fortran);
    return 3;
}

/* list of arrays at idx -> malloc'd vector (numbers become 0-d arrays kept
 * alive on the stack) */
static const lask__ndarray **array_list(lua_State *L, int idx, int *n, const char *what) {
    luaL_checktype(L, idx, LUA_TTABLE);
    *n = (int)lua_rawlen(L, idx);
    if (*n < 1) luaL_error(L, "%s: expected a non-empty list of arrays", what);
    const lask__ndarray **p = lua_newuserdatauv(L, sizeof *p * (size_t)*n, 0);
    for (int i = 0; i < *n; i++) {
        lua_rawgeti(L, idx, i + 1);
        p[i] = lask__test_nd(L, -1);
        if (!p[i]) luaL_error(L, "%s: item %d is not an ndarray", what, i + 1);
        lua_pop(L, 1);   /* the table keeps it alive */
    }
    return p;
}

static int l_concatenate(lua_State *L) {
    int n;
    const lask__ndarray **p = array_list(L, 1, &n, "concatenate");
    int ax = lua_isnoneornil(L, 2) ? 0 : lask__norm_axis(L, luaL_checkinteger(L, 2), p[0]->ndim, 0);
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_concatenate(p, n, ax, &e), &e);
}

static int l_stack(lua_State *L) {
    int n;
    const lask__ndarray **p = array_list(L, 1, &n, "stack");
    int ax = lua_isnoneornil(L, 2) ? 0 : lask__norm_axis(L, luaL_checkinteger(L, 2), p[0]->ndim, 1);
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_stack(p, n, ax, &e), &e);
}

static int l_block(lua_State *L) {
    int n;
    const lask__ndarray **p = array_list(L, 1, &n, "block");
    int64_t grid[LASK__MAXDIM], np = 1;
    int nd = read_shape(L, 2, grid, "block grid");
    for (int i = 0; i < nd; i++) np *= grid[i];
    if (np != n) return luaL_error(L, "block: %d pieces for a grid of %d", n, (int)np);
    lask__nderr e = {{0}};
    return push_or_error(L, lask__nd_block(p, nd, grid, &e), &e);
}

static int l_where(lua_State *L) {
    int wc, wa, wb;
    lask__ndarray *tc, *ta, *tb;
    const lask__ndarray *c = operand(L, 1, &wc, &tc), *a = operand(L, 2, &wa, &ta), *b = operand(L, 3, &wb, &tb);
    lask__nderr e = {{0}};
    lask__ndarray *o = lask__nd_where(c, a, wa, b, wb, &e);
    if (tc) lask_chunk_unref(&tc->h);
    if (ta) lask_chunk_unref(&ta->h);
    if (tb) lask_chunk_unref(&tb->h);
    return push_or_error(L, o, &e);
}

static int l_blas_threads(lua_State *L) {
    if (!lua_isnoneornil(L, 1)) lask__blas_set_threads((int)luaL_checkinteger(L, 1));
    lua_pushinteger(L, lask__blas_get_threads());
    return 1;
}

static int l_broadcast_shapes(lua_State *L) {
    int64_t a[LASK__MAXDIM], b[LASK__MAXDIM], o[LASK__MAXDIM];
    int na = read_shape(L, 1, a, "broadcast"), nb = read_shape(L, 2, b, "broadcast");
    int32_t n;
    lask__nderr e = {{0}};
    if (!lask__broadcast_shape(na, a, nb, b, &n, o, &e)) return luaL_error(L, "%s", e.msg);
    push_int_list(L, n, o);
    return 1;
}

/* ---- registration */

/* Registering again only rewrites the same functions under the runtime's
 * lock, so every state that opens the module may do it. */
static void register_kernels(lua_State *L) {
    lask_runtime *rt = lask__runtime(L);
    if (rt) lask__register_nd_kernels(rt);
}

/* nd.register_kernels(): make sure this state's runtime has the nd.* kernels
 * (the module registers them when it opens, if the runtime exists then) */
static int l_register(lua_State *L) {
    register_kernels(L);
    return 0;
}

int luaopen_lask_core_ndarray(lua_State *L) {
    static const luaL_Reg meta[] = {
        {"__index", m_index}, {"__newindex", m_newindex}, {"__add", m_add}, {"__sub", m_sub}, {"__mul", m_mul},
        {"__div", m_div}, {"__idiv", m_idiv}, {"__mod", m_mod}, {"__pow", m_pow},
        {"__unm", m_unm}, {"__band", m_band}, {"__bor", m_bor}, {"__bxor", m_bxor},
        {"__bnot", m_bnot}, {"__len", m_len}, {"__tostring", m_tostring}, {NULL, NULL}};
    static const luaL_Reg methods[] = {
        {"transpose", m_transpose}, {"T", m_transpose}, {"reshape", m_reshape}, {"flatten", m_flatten},
        {"ravel", m_flatten}, {"squeeze", m_squeeze}, {"expand_dims", m_expand_dims},
        {"astype", m_astype}, {"copy", m_copy}, {"take", m_take}, {"mask", m_mask},
        {"clip", m_clip}, {"matmul", m_matmul}, {"dot", m_matmul}, {"get", m_get},
        {"set", m_set}, {"item", m_item}, {"totable", m_totable}, {"data_ptr", m_data_ptr},
        {"slice", m_slice}, {"is_contiguous", m_contiguous}, {"to_npy", m_save_npy},
        {NULL, NULL}};
    lask__kind_metatable(L, MT);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    for (int op = 0; op < LASK__NBINOP; op++) {
        lua_pushinteger(L, op);
        lua_pushcclosure(L, binmethod, 1);
        lua_setfield(L, -2, lask__binop_name(op));
    }
    for (int op = 0; op < LASK__NUNOP; op++) {
        lua_pushinteger(L, op);
        lua_pushcclosure(L, unmethod, 1);
        lua_setfield(L, -2, lask__unop_name(op));
    }
    for (int op = 0; op < LASK__NREDOP; op++) {
        if (op == LASK__RMOMENTS) continue;
        lua_pushinteger(L, op);
        lua_pushcclosure(L, reduce, 1);
        lua_setfield(L, -2, lask__redop_name(op));
    }
    lua_pushinteger(L, LASK__RSUM);
    lua_pushcclosure(L, cumulative, 1);
    lua_setfield(L, -2, "cumsum");
    lua_pushinteger(L, LASK__RPROD);
    lua_pushcclosure(L, cumulative, 1);
    lua_setfield(L, -2, "cumprod");
    /* friendlier names for logical not and the bitwise operators */
    lua_getfield(L, -1, "not");
    lua_setfield(L, -2, "lnot");
    lua_getfield(L, -1, "and");
    lua_setfield(L, -2, "land");
    lua_getfield(L, -1, "or");
    lua_setfield(L, -2, "lor");
    lua_getfield(L, -1, "mul");
    lua_setfield(L, -2, "multiply");
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);

    static const luaL_Reg funcs[] = {
        {"is", l_is}, {"zeros", l_zeros}, {"empty", l_zeros}, {"ones", l_ones}, {"full", l_full},
        {"arange", l_arange}, {"linspace", l_linspace}, {"eye", l_eye},
        {"from_table", l_from_table}, {"array", l_from_table}, {"random", l_random},
        {"load_npy", l_load_npy}, {"npy_info", l_npy_info}, {"save_npy", m_save_npy},
        {"concatenate", l_concatenate}, {"stack", l_stack}, {"block", l_block},
        {"where", l_where}, {"matmul", m_matmul}, {"blas_threads", l_blas_threads},
        {"normalize_key", l_normalize_key}, {"broadcast_shapes", l_broadcast_shapes},
        {"register_kernels", l_register},
        {NULL, NULL}};
    luaL_newlib(L, funcs);
    lask__kind_metatable(L, MT);
    lua_getfield(L, -1, "methods");
    lua_setfield(L, -3, "methods");
    lua_pop(L, 1);
    register_kernels(L);
    return 1;
}
