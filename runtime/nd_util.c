/* nd_util.c - dtypes, promotion, element access, conversion and the loop
 * driver shared by the n-d kernels. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ndarray_ops.h"

void *lask__nd_seterr(lask__nderr *e, const char *fmt, ...) {
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

static const char *const dtnames[] = {"float64", "float32", "int64", "int32",
                                      "uint8", "bool"};

const char *lask__dtype_name(int32_t dt) {
    return dt >= 0 && dt <= LASK_BOOL8 ? dtnames[dt] : "unknown";
}

int32_t lask__dtype_from_name(const char *s) {
    for (int i = 0; i <= LASK_BOOL8; i++)
        if (strcmp(s, dtnames[i]) == 0) return i;
    if (!strcmp(s, "f8") || !strcmp(s, "double")) return LASK_F64;
    if (!strcmp(s, "f4") || !strcmp(s, "float")) return LASK_F32;
    if (!strcmp(s, "i8") || !strcmp(s, "int")) return LASK_I64;
    if (!strcmp(s, "i4")) return LASK_I32;
    if (!strcmp(s, "u1")) return LASK_U8;
    if (!strcmp(s, "bool8") || !strcmp(s, "boolean")) return LASK_BOOL8;
    return -1;
}

int lask__dtype_isfloat(int32_t dt) { return dt == LASK_F64 || dt == LASK_F32; }
int lask__dtype_isint(int32_t dt) { return dt == LASK_I64 || dt == LASK_I32 || dt == LASK_U8; }

/* bool < u8 < i32 < i64 among ints; u8 fits in i32, so no unsigned surprises */
static int intrank(int32_t dt) {
    return dt == LASK_BOOL8 ? 0 : dt == LASK_U8 ? 1 : dt == LASK_I32 ? 2 : 3;
}

int32_t lask__dtype_promote(int32_t a, int32_t b) {
    if (a == b) return a;
    if (a == LASK_F64 || b == LASK_F64) return LASK_F64;
    if (a == LASK_F32 || b == LASK_F32) {
        int32_t o = a == LASK_F32 ? b : a;
        /* float32 holds bool and uint8 exactly, not int32/int64 */
        return o == LASK_BOOL8 || o == LASK_U8 ? LASK_F32 : LASK_F64;
    }
    return intrank(a) >= intrank(b) ? a : b;
}

int32_t lask__dtype_promote_weak(int32_t arr, int scalar_is_float) {
    if (scalar_is_float) return lask__dtype_isfloat(arr) ? arr : LASK_F64;
    return arr == LASK_BOOL8 ? LASK_I64 : arr;
}

const char *lask__shape_str(int32_t ndim, const int64_t *shape, char *buf, size_t n) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < n) snprintf(buf + k, n - k, ndim == 1 ? ",)" : ")");
    return buf;
}

double lask__nd_getd(const char *p, int32_t dt) {
    switch (dt) {
    case LASK_F64: return *(const double *)p;
    case LASK_F32: return *(const float *)p;
    case LASK_I64: return (double)*(const int64_t *)p;
    case LASK_I32: return *(const int32_t *)p;
    case LASK_U8: return *(const uint8_t *)p;
    default: return *(const uint8_t *)p != 0;
    }
}

int64_t lask__nd_geti(const char *p, int32_t dt) {
    switch (dt) {
    case LASK_F64: return (int64_t)*(const double *)p;
    case LASK_F32: return (int64_t)*(const float *)p;
    case LASK_I64: return *(const int64_t *)p;
    case LASK_I32: return *(const int32_t *)p;
    case LASK_U8: return *(const uint8_t *)p;
    default: return *(const uint8_t *)p != 0;
    }
}

void lask__nd_setd(char *p, int32_t dt, double v) {
    switch (dt) {
    case LASK_F64: *(double *)p = v; break;
    case LASK_F32: *(float *)p = (float)v; break;
    case LASK_I64: *(int64_t *)p = isfinite(v) ? (int64_t)v : INT64_MIN; break;
    case LASK_I32: *(int32_t *)p = isfinite(v) ? (int32_t)(int64_t)v : INT32_MIN; break;
    case LASK_U8: *(uint8_t *)p = isfinite(v) ? (uint8_t)(int64_t)v : 0; break;
    default: *(uint8_t *)p = v != 0; break;
    }
}

void lask__nd_seti(char *p, int32_t dt, int64_t v) {
    switch (dt) {
    case LASK_F64: *(double *)p = (double)v; break;
    case LASK_F32: *(float *)p = (float)v; break;
    case LASK_I64: *(int64_t *)p = v; break;
    case LASK_I32: *(int32_t *)p = (int32_t)v; break;
    case LASK_U8: *(uint8_t *)p = (uint8_t)v; break;
    default: *(uint8_t *)p = v != 0; break;
    }
}

/* ---- the loop driver */

void lask__nd_iter(int32_t ndim, const int64_t *shape, int nop, char **ptrs,
                   int64_t (*strides)[LASK__MAXDIM], lask__line_fn fn, void *ud) {
    int64_t sh[LASK__MAXDIM], st[4][LASK__MAXDIM];
    int nd = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 0) return;
        if (shape[i] == 1) continue;              /* no effect on addressing */
        int merge = nd > 0;
        for (int k = 0; merge && k < nop; k++)
            if (st[k][nd - 1] != strides[k][i] * shape[i]) merge = 0;
        if (merge) {
            sh[nd - 1] *= shape[i];
            for (int k = 0; k < nop; k++) st[k][nd - 1] = strides[k][i];
        } else {
            sh[nd] = shape[i];
            for (int k = 0; k < nop; k++) st[k][nd] = strides[k][i];
            nd++;
        }
    }
    char *p[4];
    int64_t inner[4];
    for (int k = 0; k < nop; k++) p[k] = ptrs[k];
    if (nd == 0) {
        for (int k = 0; k < nop; k++) inner[k] = 0;
        fn(1, p, inner, ud);
        return;
    }
    for (int k = 0; k < nop; k++) inner[k] = st[k][nd - 1];
    int64_t idx[LASK__MAXDIM] = {0};
    int64_t n = sh[nd - 1];
    for (;;) {
        fn(n, p, inner, ud);
        int d = nd - 2;
        for (; d >= 0; d--) {
            for (int k = 0; k < nop; k++) p[k] += st[k][d];
            if (++idx[d] < sh[d]) break;
            for (int k = 0; k < nop; k++) p[k] -= st[k][d] * sh[d];
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}

/* ---- conversion */

#define CONV(TS, TD) do { \
    for (int64_t i = 0; i < n; i++) \
        *(TD *)(po + i * so) = (TD)*(const TS *)(pa + i * sa); } while (0)
#define CONV_FROM(TS) switch (c->dd) { \
    case LASK_F64: CONV(TS, double); break; case LASK_F32: CONV(TS, float); break; \
    case LASK_I64: CONV(TS, int64_t); break; case LASK_I32: CONV(TS, int32_t); break; \
    case LASK_U8: CONV(TS, uint8_t); break; default: \
        for (int64_t i = 0; i < n; i++) *(uint8_t *)(po + i * so) = *(const TS *)(pa + i * sa) != 0; }

typedef struct { int32_t sd, dd; } convctx;

static void conv_line(int64_t n, char **p, const int64_t *st, void *ud) {
    const convctx *c = ud;
    char *po = p[0];
    const char *pa = p[1];
    int64_t so = st[0], sa = st[1];
    if (c->sd == c->dd && so == sa) {
        int64_t es = lask_dtype_size(c->sd);
        if (so == es) { memcpy(po, pa, (size_t)(n * es)); return; }
    }
    /* float to int: NaN/inf would be undefined behaviour, so go through setd */
    if (lask__dtype_isfloat(c->sd) && c->dd != LASK_F64 && c->dd != LASK_F32) {
        for (int64_t i = 0; i < n; i++)
            lask__nd_setd(po + i * so, c->dd, lask__nd_getd(pa + i * sa, c->sd));
        return;
    }
    switch (c->sd) {
    case LASK_F64: CONV_FROM(double); break;
    case LASK_F32: CONV_FROM(float); break;
    case LASK_I64: CONV_FROM(int64_t); break;
    case LASK_I32: CONV_FROM(int32_t); break;
    default: CONV_FROM(uint8_t); break;   /* u8 and bool: both one byte */
    }
}

lask__ndarray *lask__nd_astype(const lask__ndarray *a, int32_t dt, lask__nderr *e) {
    if (dt < 0) dt = a->dtype;
    lask__ndarray *o = lask__ndarray_alloc(dt, a->ndim, a->shape);
    if (!o) return lask__nd_seterr(e, "out of memory (astype)");
    convctx c = {a->dtype, dt};
    char *ptrs[2] = {o->data, a->data};
    int64_t st[2][LASK__MAXDIM];
    memcpy(st[0], o->strides, sizeof st[0]);
    memcpy(st[1], a->strides, sizeof st[1]);
    lask__nd_iter(a->ndim, a->shape, 2, ptrs, st, conv_line, &c);
    return o;
}

void lask__nd_copyinto(lask__ndarray *dst, const lask__ndarray *src) {
    convctx c = {src->dtype, dst->dtype};
    char *ptrs[2] = {dst->data, src->data};
    int64_t st[2][LASK__MAXDIM];
    memcpy(st[0], dst->strides, sizeof st[0]);
    memcpy(st[1], src->strides, sizeof st[1]);
    lask__nd_iter(dst->ndim, dst->shape, 2, ptrs, st, conv_line, &c);
}

lask__ndarray *lask__nd_contiguous(const lask__ndarray *a, lask__nderr *e) {
    if (lask__ndarray_contiguous(a))
        return (lask__ndarray *)lask_chunk_ref((lask_chunk *)&a->h);
    return lask__nd_astype(a, -1, e);
}

lask__ndarray *lask__nd_scalar(int32_t dt, double d, int64_t i, int use_int) {
    lask__ndarray *o = lask__ndarray_alloc(dt, 0, NULL);
    if (!o) return NULL;
    if (use_int) lask__nd_seti(o->data, dt, i);
    else lask__nd_setd(o->data, dt, d);
    return o;
}

lask__ndarray *lask__nd_full(int32_t dt, int32_t ndim, const int64_t *shape,
                             double d, int64_t iv, int use_int, lask__nderr *e) {
    lask__ndarray *o = lask__ndarray_alloc(dt, ndim, shape);
    if (!o) return lask__nd_seterr(e, "cannot allocate an array of shape %s and dtype %s",
                                   lask__shape_str(ndim, shape, (char[256]){0}, 256),
                                   lask__dtype_name(dt));
    int64_t es = lask_dtype_size(dt);
    if (o->size == 0) return o;
    if (use_int) lask__nd_seti(o->data, dt, iv);
    else lask__nd_setd(o->data, dt, d);
    int zero = 1;
    for (int64_t b = 0; b < es; b++) if (o->data[b]) zero = 0;
    if (zero) { memset(o->data, 0, (size_t)(o->size * es)); return o; }
    if (es == 1) { memset(o->data, o->data[0], (size_t)o->size); return o; }
    /* doubling copies: log2(n) memcpy calls */
    int64_t done = 1;
    while (done < o->size) {
        int64_t k = done < o->size - done ? done : o->size - done;
        memcpy(o->data + done * es, o->data, (size_t)(k * es));
        done += k;
    }
    return o;
}

lask__ndarray *lask__nd_arange(int32_t dt, double start, double step, int64_t n,
                               lask__nderr *e) {
    if (n < 0) n = 0;
    int64_t sh[1] = {n};
    lask__ndarray *o = lask__ndarray_alloc(dt, 1, sh);
    if (!o) return lask__nd_seterr(e, "cannot allocate arange of %lld elements", (long long)n);
    int64_t es = lask_dtype_size(dt);
    if (lask__dtype_isfloat(dt))
        for (int64_t i = 0; i < n; i++) lask__nd_setd(o->data + i * es, dt, start + (double)i * step);
    else
        for (int64_t i = 0; i < n; i++)
            lask__nd_seti(o->data + i * es, dt, (int64_t)start + i * (int64_t)step);
    return o;
}

lask__ndarray *lask__nd_eye(int32_t dt, int64_t n, int64_t m, int64_t k,
                            int64_t row0, int64_t col0, int64_t nr, int64_t nc,
                            lask__nderr *e) {
    (void)n; (void)m;
    int64_t sh[2] = {nr, nc};
    lask__ndarray *o = (lask__ndarray *)lask_ndarray_new(dt, 2, sh);
    if (!o) return lask__nd_seterr(e, "cannot allocate eye block (%lld, %lld)",
                                   (long long)nr, (long long)nc);
    for (int64_t i = 0; i < nr; i++) {
        int64_t j = row0 + i + k - col0;
        if (j >= 0 && j < nc) lask__nd_seti(o->data + i * o->strides[0] + j * o->strides[1], dt, 1);
    }
    return o;
}
