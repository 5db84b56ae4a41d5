/* nd_kernels.c - the n-d operations as named native kernels ("nd.add",
 * "nd.sum", "nd.matmul_sum", ...), the form task graphs call them in.
 *
 * Argument conventions (what stdlib/lask/array.lua passes): arrays are
 * NDARRAY chunks; Lua numbers may stand for arrays in elementwise kernels
 * (as weak scalars); shapes, axes and positions are lists of 0-based
 * integers; names (dtypes, operations, paths) are strings (BYTES chunks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ndarray_ops.h"

typedef struct kargs {
    lask_ctx *ctx;
    const lask_value *v;
    int32_t n;
    lask__nderr err;
    lask__ndarray *tmp[8];   /* scalars made into arrays, freed after */
    int ntmp;
} kargs;

static int32_t fail(kargs *k, const char *fmt, const char *a) {
    char buf[600];
    snprintf(buf, sizeof buf, fmt, a);
    return lask_ctx_error(k->ctx, buf);
}

static void release(kargs *k) {
    for (int i = 0; i < k->ntmp; i++) lask_chunk_unref(&k->tmp[i]->h);
    k->ntmp = 0;
}

static const lask__ndarray *as_nd(const lask_value *v) {
    return v->type == LASK_CHUNK && v->u.c && v->u.c->kind == LASK_KIND_NDARRAY
               ? (const lask__ndarray *)v->u.c : NULL;
}

/* array argument i; numbers become weak 0-d arrays (*weak set) */
static const lask__ndarray *arr(kargs *k, int i, int *weak) {
    if (weak) *weak = 0;
    if (i >= k->n) return NULL;
    const lask_value *v = &k->v[i];
    const lask__ndarray *a = as_nd(v);
    if (a) return a;
    if ((v->type == LASK_INT || v->type == LASK_FLOAT || v->type == LASK_BOOL) && k->ntmp < 8) {
        lask__ndarray *s = v->type == LASK_FLOAT ? lask__nd_scalar(LASK_F64, v->u.f, 0, 0)
                         : lask__nd_scalar(v->type == LASK_BOOL ? LASK_BOOL8 : LASK_I64, 0, v->u.i, 1);
        if (!s) return NULL;
        k->tmp[k->ntmp++] = s;
        if (weak) *weak = v->type != LASK_BOOL;
        return s;
    }
    return NULL;
}

static int64_t ival(kargs *k, int i, int64_t def) {
    if (i >= k->n) return def;
    const lask_value *v = &k->v[i];
    return v->type == LASK_INT || v->type == LASK_BOOL ? v->u.i
         : v->type == LASK_FLOAT ? (int64_t)v->u.f : def;
}

static double dval(kargs *k, int i, double def) {
    if (i >= k->n) return def;
    const lask_value *v = &k->v[i];
    return v->type == LASK_FLOAT ? v->u.f : v->type == LASK_INT || v->type == LASK_BOOL ? (double)v->u.i : def;
}

static const char *sval(kargs *k, int i) {
    if (i >= k->n || k->v[i].type != LASK_CHUNK) return NULL;
    return lask_bytes_data(k->v[i].u.c, NULL);
}

/* list of ints -> out[0..n-1]; -1 when i is not a list (nil: -2) */
static int ilist(kargs *k, int i, int64_t *out, int max) {
    if (i >= k->n || k->v[i].type == LASK_NIL) return -2;
    const lask_value *v = &k->v[i];
    if (v->type != LASK_LIST || v->len > max) return -1;
    for (int j = 0; j < v->len; j++) {
        const lask_value *x = &v->u.items[j];
        if (x->type != LASK_INT && x->type != LASK_FLOAT) return -1;
        out[j] = x->type == LASK_INT ? x->u.i : (int64_t)x->u.f;
    }
    return v->len;
}

/* list of arrays -> malloc'd pointer vector */
static const lask__ndarray **alist(kargs *k, int i, int *n) {
    if (i >= k->n || k->v[i].type != LASK_LIST) return NULL;
    const lask_value *v = &k->v[i];
    const lask__ndarray **p = malloc(sizeof *p * (size_t)(v->len ? v->len : 1));
    if (!p) return NULL;
    for (int j = 0; j < v->len; j++)
        if (!(p[j] = as_nd(&v->u.items[j]))) { free(p); return NULL; }
    *n = v->len;
    return p;
}

static int32_t put(kargs *k, lask__ndarray *o, lask_value *out) {
    release(k);
    if (!o) return lask_ctx_error(k->ctx, k->err.msg[0] ? k->err.msg : "out of memory");
    out->type = LASK_CHUNK;
    out->len = 0;
    out->u.c = &o->h;
    return LASK_OK;
}

#define KBEGIN kargs K = {ctx, args, nargs, {{0}}, {0}, 0}; kargs *k = &K; (void)ud
#define NEED(i, var, what) const lask__ndarray *var = arr(k, i, NULL); \
    if (!var) { release(k); return fail(k, "%s: argument must be an n-d array", what); }

static int32_t k_binary(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    int op = (int)(intptr_t)ud, wa, wb;
    const lask__ndarray *a = arr(k, 0, &wa), *b = arr(k, 1, &wb);
    if (!a || !b) { release(k); return fail(k, "nd.%s: operands must be arrays or numbers", lask__binop_name(op)); }
    return put(k, lask__nd_binary(op, a, wa, b, wb, &k->err), out);
}

static int32_t k_unary(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    int op = (int)(intptr_t)ud;
    NEED(0, a, lask__unop_name(op));
    return put(k, lask__nd_unary(op, a, &k->err), out);
}

static int32_t k_where(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    int wa, wb, wc;
    const lask__ndarray *c = arr(k, 0, &wc), *a = arr(k, 1, &wa), *b = arr(k, 2, &wb);
    if (!a || !b || !c) { release(k); return fail(k, "%s: operands must be arrays or numbers", "nd.where"); }
    return put(k, lask__nd_where(c, a, wa, b, wb, &k->err), out);
}

static int32_t k_astype(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.astype");
    const char *s = sval(k, 1);
    int32_t dt = s ? lask__dtype_from_name(s) : -1;
    if (dt < 0) return fail(k, "nd.astype: unknown dtype %s", s ? s : "(none)");
    return put(k, lask__nd_astype(a, dt, &k->err), out);
}

static int32_t k_copy(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.copy");
    return put(k, lask__nd_astype(a, -1, &k->err), out);
}

/* axes list (0-based) -> flags; nil: all */
static int axes_flags(kargs *k, int i, const lask__ndarray *a, uint8_t *flags, int *all) {
    int64_t ax[LASK__MAXDIM];
    int n = ilist(k, i, ax, LASK__MAXDIM);
    *all = n == -2;
    memset(flags, *all, LASK__MAXDIM);
    if (n == -1) { lask__nd_seterr(&k->err, "axes must be a list of integers"); return 0; }
    for (int j = 0; j < n; j++) {
        if (ax[j] < 0 || ax[j] >= a->ndim) {
            lask__nd_seterr(&k->err, "axis %lld out of range for %d-d array", (long long)ax[j] + 1, a->ndim);
            return 0;
        }
        flags[ax[j]] = 1;
    }
    return 1;
}

/* (a, axes|nil, keepdims, ddof) */
static int32_t k_reduce(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    int op = (int)(intptr_t)ud;
    NEED(0, a, lask__redop_name(op));
    uint8_t flags[LASK__MAXDIM];
    int all;
    if (!axes_flags(k, 1, a, flags, &all)) return put(k, NULL, out);
    return put(k, lask__nd_reduce(op, a, all ? NULL : flags, ival(k, 2, 0) != 0, dval(k, 3, 0), &k->err), out);
}

/* (binop name, a, b, axes|nil, keepdims) -> sum(a op b) */
static int32_t k_sum_binary(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *s = sval(k, 0);
    int op = s ? lask__binop_from_name(s) : -1;
    if (op < 0) return fail(k, "nd.sum_binary: unknown operation %s", s ? s : "(none)");
    int wa, wb;
    const lask__ndarray *a = arr(k, 1, &wa), *b = arr(k, 2, &wb);
    if (!a || !b) { release(k); return fail(k, "%s: operands must be arrays or numbers", "nd.sum_binary"); }
    const lask__ndarray *full = a->ndim >= b->ndim ? a : b;
    uint8_t flags[LASK__MAXDIM];
    int all;
    if (!axes_flags(k, 3, full, flags, &all)) return put(k, NULL, out);
    return put(k, lask__nd_sum_binary(op, a, wa, b, wb, all ? NULL : flags, ival(k, 4, 0) != 0, &k->err), out);
}

/* (opname, {parts}): fold partial results elementwise */
static int32_t k_combine(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *s = sval(k, 0);
    int n = 0;
    const lask__ndarray **p = alist(k, 1, &n);
    if (!s || !p || n < 1) { free(p); return fail(k, "%s: expected (operation, {partials})", "nd.combine"); }
    lask__ndarray *o = NULL;
    if (!strcmp(s, "moments")) o = lask__nd_moments_combine(p, n, &k->err);
    else if (!strcmp(s, "argmin")) o = lask__nd_arg_combine(LASK__RARGMIN, p, n, &k->err);
    else if (!strcmp(s, "argmax")) o = lask__nd_arg_combine(LASK__RARGMAX, p, n, &k->err);
    else {
        int op = !strcmp(s, "sum") ? LASK__ADD : !strcmp(s, "prod") ? LASK__MUL
               : !strcmp(s, "min") ? LASK__MINIMUM : !strcmp(s, "max") ? LASK__MAXIMUM
               : !strcmp(s, "any") ? LASK__OR : !strcmp(s, "all") ? LASK__AND : -1;
        if (op < 0) { free(p); return fail(k, "nd.combine: unknown operation %s", s); }
        o = (lask__ndarray *)lask_chunk_ref((lask_chunk *)&p[0]->h);
        for (int i = 1; i < n && o; i++) {
            lask__ndarray *t = lask__nd_binary(op, o, 0, p[i], 0, &k->err);
            lask_chunk_unref(&o->h);
            o = t;
        }
    }
    free(p);
    return put(k, o, out);
}

/* (m, what 0/1/2, ddof, dtype) */
static int32_t k_moments_finish(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, m, "nd.moments_finish");
    const char *s = sval(k, 3);
    int32_t dt = s ? lask__dtype_from_name(s) : LASK_F64;
    if (dt != LASK_F32) dt = LASK_F64;
    return put(k, lask__nd_moments_finish(m, (int)ival(k, 1, 0), dval(k, 2, 0), dt, &k->err), out);
}

/* (opname, a, axis|-1, {gstart}, {gshape}) */
static int32_t k_arg_partial(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *s = sval(k, 0);
    NEED(1, a, "nd.arg_partial");
    int64_t gs[LASK__MAXDIM], gsh[LASK__MAXDIM];
    int n1 = ilist(k, 3, gs, LASK__MAXDIM), n2 = ilist(k, 4, gsh, LASK__MAXDIM);
    int op = s && !strcmp(s, "argmax") ? LASK__RARGMAX : LASK__RARGMIN;
    return put(k, lask__nd_arg_partial(op, a, (int)ival(k, 2, -1), n1 == a->ndim ? gs : NULL,
                                       n2 == a->ndim ? gsh : NULL, &k->err), out);
}

static int32_t k_arg_finish(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, p, "nd.arg_finish");
    return put(k, lask__nd_arg_finish(p, &k->err), out);
}

/* (opname "sum"/"prod", a, axis) */
static int32_t k_cumulative(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *s = sval(k, 0);
    NEED(1, a, "nd.cumulative");
    int op = s && !strcmp(s, "prod") ? LASK__RPROD : LASK__RSUM;
    return put(k, lask__nd_cumulative(op, a, (int)ival(k, 2, 0), &k->err), out);
}

static int32_t k_transpose(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.transpose");
    int64_t p[LASK__MAXDIM];
    int32_t perm[LASK__MAXDIM];
    int n = ilist(k, 1, p, LASK__MAXDIM);
    if (n >= 0 && n != a->ndim) return fail(k, "%s: permutation length differs from ndim", "nd.transpose");
    for (int i = 0; i < n; i++) perm[i] = (int32_t)p[i];
    return put(k, lask__nd_transpose(a, n >= 0 ? perm : NULL, &k->err), out);
}

static int32_t k_slice(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.slice");
    int64_t s0[LASK__MAXDIM], s1[LASK__MAXDIM], s2[LASK__MAXDIM];
    if (ilist(k, 1, s0, LASK__MAXDIM) != a->ndim || ilist(k, 2, s1, LASK__MAXDIM) != a->ndim ||
        ilist(k, 3, s2, LASK__MAXDIM) != a->ndim)
        return fail(k, "%s: starts, stops and steps must have one entry per axis", "nd.slice");
    return put(k, lask__nd_slice(a, s0, s1, s2, &k->err), out);
}

static int32_t k_index(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.index");
    return put(k, lask__nd_index(a, (int)ival(k, 1, 0), ival(k, 2, 0), &k->err), out);
}

static int32_t k_expand_dims(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.expand_dims");
    return put(k, lask__nd_expand_dims(a, (int)ival(k, 1, 0), &k->err), out);
}

static int32_t k_reshape(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.reshape");
    int64_t sh[LASK__MAXDIM];
    int n = ilist(k, 1, sh, LASK__MAXDIM);
    if (n < 0) return fail(k, "%s: shape must be a list", "nd.reshape");
    return put(k, lask__nd_reshape(a, n, sh, &k->err), out);
}

/* (a, indices array or list (0-based), axis) */
static int32_t k_take(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.take");
    const lask__ndarray *ix = k->n > 1 ? as_nd(&k->v[1]) : NULL;
    lask__ndarray *own = NULL;
    if (!ix && k->n > 1 && k->v[1].type == LASK_LIST) {
        int64_t len = k->v[1].len;
        own = lask__ndarray_alloc(LASK_I64, 1, &len);
        if (!own) return fail(k, "%s: out of memory", "nd.take");
        for (int64_t j = 0; j < len; j++) {
            const lask_value *x = &k->v[1].u.items[j];
            ((int64_t *)own->data)[j] = x->type == LASK_FLOAT ? (int64_t)x->u.f : x->u.i;
        }
        ix = own;
    }
    if (!ix) return fail(k, "%s: indices must be an array or a list", "nd.take");
    lask__ndarray *o = lask__nd_take(a, ix, (int)ival(k, 2, 0), &k->err);
    if (own) lask_chunk_unref(&own->h);
    return put(k, o, out);
}

static int32_t k_mask(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.mask");
    NEED(1, m, "nd.mask");
    return put(k, lask__nd_mask(a, m, (int)ival(k, 2, -1), &k->err), out);
}

/* (op, {parts}, axis): concatenate or stack */
static int32_t k_join(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    int n = 0;
    const lask__ndarray **p = alist(k, 0, &n);
    if (!p || n < 1) { free(p); return fail(k, "%s: expected a non-empty list of arrays", ud ? "nd.stack" : "nd.concatenate"); }
    int axis = (int)ival(k, 1, 0);
    lask__ndarray *o = ud ? lask__nd_stack(p, n, axis, &k->err) : lask__nd_concatenate(p, n, axis, &k->err);
    free(p);
    return put(k, o, out);
}

/* ({pieces}, {grid}) */
static int32_t k_block(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    int n = 0;
    const lask__ndarray **p = alist(k, 0, &n);
    int64_t grid[LASK__MAXDIM], np = 1;
    int nd = ilist(k, 1, grid, LASK__MAXDIM);
    for (int d = 0; d < nd; d++) np *= grid[d];
    if (!p || nd < 0 || np != n) { free(p); return fail(k, "%s: pieces do not match the grid", "nd.block"); }
    lask__ndarray *o = lask__nd_block(p, nd, grid, &k->err);
    free(p);
    return put(k, o, out);
}

static int32_t k_matmul(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.matmul");
    NEED(1, b, "nd.matmul");
    return put(k, lask__nd_matmul(a, b, &k->err), out);
}

static int32_t k_matmul_sum(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    int na = 0, nb = 0;
    const lask__ndarray **a = alist(k, 0, &na), **b = alist(k, 1, &nb);
    lask__ndarray *o = NULL;
    if (!a || !b || na != nb) lask__nd_seterr(&k->err, "nd.matmul_sum: expected two lists of arrays of one length");
    else o = lask__nd_matmul_sum(a, b, na, &k->err);
    free(a);
    free(b);
    return put(k, o, out);
}

/* (kind, dtype, seed, {gshape}, {start}, {shape}, p1, p2) */
static int32_t k_random(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *kind = sval(k, 0), *dts = sval(k, 1);
    int64_t g[LASK__MAXDIM], s[LASK__MAXDIM], sh[LASK__MAXDIM];
    int nd = ilist(k, 3, g, LASK__MAXDIM);
    if (!kind || !dts || nd < 0 || ilist(k, 4, s, LASK__MAXDIM) != nd || ilist(k, 5, sh, LASK__MAXDIM) != nd)
        return fail(k, "%s: bad arguments", "nd.random");
    int kd = !strcmp(kind, "normal") ? LASK__RAND_NORMAL : !strcmp(kind, "randint") ? LASK__RAND_INT
                                                                                 : LASK__RAND_UNIFORM;
    return put(k, lask__nd_random(kd, lask__dtype_from_name(dts), (uint64_t)ival(k, 2, 0), nd, g, s, sh,
                                  dval(k, 6, 0), dval(k, 7, 1), &k->err), out);
}

/* (dtype, {shape}, value) */
static int32_t k_full(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *dts = sval(k, 0);
    int64_t sh[LASK__MAXDIM];
    int nd = ilist(k, 1, sh, LASK__MAXDIM);
    int32_t dt = dts ? lask__dtype_from_name(dts) : -1;
    if (dt < 0 || nd < 0) return fail(k, "%s: bad dtype or shape", "nd.full");
    int useint = k->n > 2 && (k->v[2].type == LASK_INT || k->v[2].type == LASK_BOOL);
    return put(k, lask__nd_full(dt, nd, sh, dval(k, 2, 0), ival(k, 2, 0), useint, &k->err), out);
}

/* (dtype, start, step, n) */
static int32_t k_arange(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *dts = sval(k, 0);
    int32_t dt = dts ? lask__dtype_from_name(dts) : -1;
    if (dt < 0) return fail(k, "%s: bad dtype", "nd.arange");
    return put(k, lask__nd_arange(dt, dval(k, 1, 0), dval(k, 2, 1), ival(k, 3, 0), &k->err), out);
}

/* (dtype, k, row0, col0, nr, nc) */
static int32_t k_eye(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *dts = sval(k, 0);
    int32_t dt = dts ? lask__dtype_from_name(dts) : -1;
    if (dt < 0) return fail(k, "%s: bad dtype", "nd.eye");
    return put(k, lask__nd_eye(dt, 0, 0, ival(k, 1, 0), ival(k, 2, 0), ival(k, 3, 0), ival(k, 4, 0),
                               ival(k, 5, 0), &k->err), out);
}

/* (path, {start}, {shape}) */
static int32_t k_npy_read(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *path = sval(k, 0);
    int64_t s[LASK__MAXDIM], sh[LASK__MAXDIM];
    lask__npyinfo info;
    if (!path) return fail(k, "%s: path must be a string", "nd.npy_read");
    if (!lask__npy_read_info(path, &info, &k->err)) return put(k, NULL, out);
    if (ilist(k, 1, s, LASK__MAXDIM) != info.ndim || ilist(k, 2, sh, LASK__MAXDIM) != info.ndim)
        return fail(k, "nd.npy_read: block does not match the dimensions of %s", path);
    return put(k, lask__npy_read_block(path, &info, s, sh, &k->err), out);
}

/* (path, dtype, {shape}) -> true */
static int32_t k_npy_create(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *path = sval(k, 0), *dts = sval(k, 1);
    int64_t sh[LASK__MAXDIM];
    int nd = ilist(k, 2, sh, LASK__MAXDIM);
    int32_t dt = dts ? lask__dtype_from_name(dts) : -1;
    if (!path || dt < 0 || nd < 0) return fail(k, "%s: bad arguments", "nd.npy_create");
    if (!lask__npy_create(path, dt, nd, sh, &k->err)) return put(k, NULL, out);
    out->type = LASK_BOOL;
    out->u.i = 1;
    return LASK_OK;
}

/* (path, a, {start}, ...) -> true; extra arguments only order the task */
static int32_t k_npy_write(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    const char *path = sval(k, 0);
    NEED(1, a, "nd.npy_write");
    int64_t s[LASK__MAXDIM];
    if (!path || ilist(k, 2, s, LASK__MAXDIM) != a->ndim) return fail(k, "%s: bad arguments", "nd.npy_write");
    if (!lask__npy_write_block(path, a, s, &k->err)) return put(k, NULL, out);
    out->type = LASK_BOOL;
    out->u.i = 1;
    return LASK_OK;
}

/* (a) -> the single element as a number (or bool) */
static int32_t k_item(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    KBEGIN;
    NEED(0, a, "nd.item");
    if (a->size != 1) return fail(k, "%s: array must have exactly one element", "nd.item");
    int64_t off = 0;
    (void)off;
    if (lask__dtype_isfloat(a->dtype)) { out->type = LASK_FLOAT; out->u.f = lask__nd_getd(a->data, a->dtype); }
    else { out->type = a->dtype == LASK_BOOL8 ? LASK_BOOL : LASK_INT; out->u.i = lask__nd_geti(a->data, a->dtype); }
    return LASK_OK;
}

int32_t lask__register_nd_kernels(lask_runtime *rt) {
    char name[64];
    int32_t st = LASK_OK;
    for (int i = 0; i < LASK__NBINOP && !st; i++) {
        snprintf(name, sizeof name, "nd.%s", lask__binop_name(i));
        st = lask_register_kernel(rt, name, k_binary, (void *)(intptr_t)i);
    }
    for (int i = 0; i < LASK__NUNOP && !st; i++) {
        snprintf(name, sizeof name, "nd.%s", lask__unop_name(i));
        st = lask_register_kernel(rt, name, k_unary, (void *)(intptr_t)i);
    }
    for (int i = 0; i < LASK__NREDOP && !st; i++) {
        snprintf(name, sizeof name, "nd.%s", lask__redop_name(i));
        st = lask_register_kernel(rt, name, k_reduce, (void *)(intptr_t)i);
    }
    static const struct { const char *name; lask_kernel_fn fn; void *ud; } ks[] = {
        {"nd.where", k_where, NULL}, {"nd.sum_binary", k_sum_binary, NULL}, {"nd.astype", k_astype, NULL}, {"nd.copy", k_copy, NULL},
        {"nd.combine", k_combine, NULL}, {"nd.moments_finish", k_moments_finish, NULL},
        {"nd.arg_partial", k_arg_partial, NULL}, {"nd.arg_finish", k_arg_finish, NULL},
        {"nd.cumulative", k_cumulative, NULL}, {"nd.transpose", k_transpose, NULL},
        {"nd.slice", k_slice, NULL}, {"nd.index", k_index, NULL},
        {"nd.expand_dims", k_expand_dims, NULL}, {"nd.reshape", k_reshape, NULL},
        {"nd.take", k_take, NULL}, {"nd.mask", k_mask, NULL},
        {"nd.concatenate", k_join, NULL}, {"nd.stack", k_join, (void *)1},
        {"nd.block", k_block, NULL}, {"nd.matmul", k_matmul, NULL},
        {"nd.matmul_sum", k_matmul_sum, NULL}, {"nd.random", k_random, NULL},
        {"nd.full", k_full, NULL}, {"nd.arange", k_arange, NULL}, {"nd.eye", k_eye, NULL},
        {"nd.npy_read", k_npy_read, NULL}, {"nd.npy_create", k_npy_create, NULL},
        {"nd.npy_write", k_npy_write, NULL}, {"nd.item", k_item, NULL}};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0] && !st; i++)
        st = lask_register_kernel(rt, ks[i].name, ks[i].fn, ks[i].ud);
    return st;
}
