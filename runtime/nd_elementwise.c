/* nd_elementwise.c - broadcasting arithmetic, comparisons, math functions and
 * where(), with NumPy's dtype promotion. Integer arithmetic wraps (as in
 * NumPy) and is done in unsigned types so C never sees signed overflow;
 * integer division and modulo by zero give 0, as NumPy does (it warns). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ndarray_ops.h"

static const char *const binnames[LASK__NBINOP] = {
    "add", "sub", "mul", "div", "floordiv", "mod", "pow", "maximum", "minimum",
    "and", "or", "xor", "eq", "ne", "lt", "le", "gt", "ge", "atan2"};
static const char *const unnames[LASK__NUNOP] = {
    "neg", "abs", "sqrt", "exp", "log", "log1p", "sin", "cos", "tan", "tanh",
    "floor", "ceil", "round", "isnan", "isfinite", "not", "sign", "expm1",
    "log10", "log2", "arcsin", "arccos", "arctan", "sinh", "cosh", "square"};

const char *lask__binop_name(int op) { return op >= 0 && op < LASK__NBINOP ? binnames[op] : "?"; }
const char *lask__unop_name(int op) { return op >= 0 && op < LASK__NUNOP ? unnames[op] : "?"; }
int lask__binop_from_name(const char *s) {
    for (int i = 0; i < LASK__NBINOP; i++) if (!strcmp(s, binnames[i])) return i;
    return -1;
}
int lask__unop_from_name(const char *s) {
    for (int i = 0; i < LASK__NUNOP; i++) if (!strcmp(s, unnames[i])) return i;
    return -1;
}

int lask__broadcast_shape(int32_t na, const int64_t *sa, int32_t nb,
                          const int64_t *sb, int32_t *nout, int64_t *out,
                          lask__nderr *e) {
    int32_t n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int ia = i - (n - na), ib = i - (n - nb);
        int64_t x = ia >= 0 ? sa[ia] : 1, y = ib >= 0 ? sb[ib] : 1;
        if (x != y && x != 1 && y != 1) {
            char b1[256], b2[256];
            lask__nd_seterr(e, "shapes %s and %s cannot be broadcast together "
                            "(axis %d: %lld vs %lld)", lask__shape_str(na, sa, b1, 256),
                            lask__shape_str(nb, sb, b2, 256), i + 1, (long long)x, (long long)y);
            return 0;
        }
        out[i] = x == 1 ? y : x;
    }
    *nout = n;
    return 1;
}

/* strides of a as seen through the broadcast shape (zero where repeated) */
static void bstrides(const lask__ndarray *a, int32_t n, const int64_t *shape, int64_t *st) {
    for (int i = 0; i < n; i++) {
        int ia = i - (n - a->ndim);
        st[i] = ia < 0 || (a->shape[ia] == 1 && shape[i] != 1) ? 0 : a->strides[ia];
    }
}

lask__ndarray *lask__nd_broadcast_to(const lask__ndarray *a, int32_t ndim,
                                     const int64_t *shape, lask__nderr *e) {
    int32_t n;
    int64_t out[LASK__MAXDIM], st[LASK__MAXDIM];
    if (ndim < a->ndim || !lask__broadcast_shape(a->ndim, a->shape, ndim, shape, &n, out, e))
        return ndim < a->ndim ? lask__nd_seterr(e, "cannot broadcast %d-d array to %d-d",
                                                a->ndim, ndim) : NULL;
    for (int i = 0; i < n; i++)
        if (out[i] != shape[i]) {
            char b1[256], b2[256];
            return lask__nd_seterr(e, "cannot broadcast shape %s to %s",
                                   lask__shape_str(a->ndim, a->shape, b1, 256),
                                   lask__shape_str(ndim, shape, b2, 256));
        }
    bstrides(a, n, shape, st);
    lask__ndarray *v = lask__ndarray_view((lask_chunk *)&a->h, a->dtype, n, shape, st, a->data);
    return v ? v : lask__nd_seterr(e, "out of memory");
}

/* ---- integer helpers, safe for every input */
static inline int64_t ifdiv(int64_t x, int64_t y) {
    if (y == 0) return 0;
    if (y == -1) return (int64_t)(0 - (uint64_t)x);
    int64_t q = x / y;
    if (x % y != 0 && ((x < 0) != (y < 0))) q--;
    return q;
}
static inline int64_t imod(int64_t x, int64_t y) {
    if (y == 0 || y == -1) return 0;
    int64_t r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
}
static inline int64_t ipow(int64_t x, int64_t y) {
    if (y < 0) return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)x;
    while (y) { if (y & 1) r *= b; b *= b; y >>= 1; }
    return (int64_t)r;
}
static inline double fmodpy(double x, double y) {
    double r = fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
}
static inline uint64_t iabs(int64_t x) { return x < 0 ? 0 - (uint64_t)x : (uint64_t)x; }
static inline int64_t isgn(int64_t x) { return (x > 0) - (x < 0); }
static inline double fmaxnan(double x, double y) { return x != x ? x : y != y ? y : x > y ? x : y; }
static inline double fminnan(double x, double y) { return x != x ? x : y != y ? y : x < y ? x : y; }

typedef struct { int op; int32_t ct; } binctx;

#define BIN(T, TO, EXPR) do { \
    if (sa == (int64_t)sizeof(T) && sb == (int64_t)sizeof(T) && so == (int64_t)sizeof(TO)) { \
        const T *A = (const T *)pa, *B = (const T *)pb; TO *O = (TO *)po; \
        for (int64_t i = 0; i < n; i++) { T x = A[i], y = B[i]; (void)x; (void)y; O[i] = (TO)(EXPR); } \
    } else if (sb == 0 && sa == (int64_t)sizeof(T) && so == (int64_t)sizeof(TO)) { \
        const T *A = (const T *)pa; TO *O = (TO *)po; const T y = *(const T *)pb; \
        for (int64_t i = 0; i < n; i++) { T x = A[i]; (void)x; (void)y; O[i] = (TO)(EXPR); } \
    } else { \
        for (int64_t i = 0; i < n; i++) { T x = *(const T *)(pa + i * sa); \
            T y = *(const T *)(pb + i * sb); (void)x; (void)y; *(TO *)(po + i * so) = (TO)(EXPR); } \
    } } while (0)

/* FE: expression for floats; IE: for integers (x, y of type T) */
#define DISPATCH(TOF, TOI, FE, IE) switch (c->ct) { \
    case LASK_F64: BIN(double, TOF(double), FE); break; \
    case LASK_F32: BIN(float, TOF(float), FE); break; \
    case LASK_I64: BIN(int64_t, TOI(int64_t), IE); break; \
    case LASK_I32: BIN(int32_t, TOI(int32_t), IE); break; \
    default: BIN(uint8_t, TOI(uint8_t), IE); break; }
#define SAME(T) T
#define B8(T) uint8_t
#define U(x) ((uint64_t)(int64_t)(x))

static void bin_line(int64_t n, char **p, const int64_t *st, void *ud) {
    const binctx *c = ud;
    char *po = p[0];
    const char *pa = p[1], *pb = p[2];
    int64_t so = st[0], sa = st[1], sb = st[2];
    switch (c->op) {
    case LASK__ADD: DISPATCH(SAME, SAME, x + y, U(x) + U(y)); break;
    case LASK__SUB: DISPATCH(SAME, SAME, x - y, U(x) - U(y)); break;
    case LASK__MUL: DISPATCH(SAME, SAME, x * y, U(x) * U(y)); break;
    case LASK__DIV: DISPATCH(SAME, SAME, x / y, 0); break;
    case LASK__FLOORDIV: DISPATCH(SAME, SAME, floor(x / y), ifdiv(x, y)); break;
    case LASK__MOD: DISPATCH(SAME, SAME, fmodpy(x, y), imod(x, y)); break;
    case LASK__POW: DISPATCH(SAME, SAME, pow(x, y), ipow(x, y)); break;
    case LASK__MAXIMUM: DISPATCH(SAME, SAME, fmaxnan(x, y), x > y ? x : y); break;
    case LASK__MINIMUM: DISPATCH(SAME, SAME, fminnan(x, y), x < y ? x : y); break;
    case LASK__AND: DISPATCH(SAME, SAME, 0, x & y); break;
    case LASK__OR: DISPATCH(SAME, SAME, 0, x | y); break;
    case LASK__XOR: DISPATCH(SAME, SAME, 0, x ^ y); break;
    case LASK__EQ: DISPATCH(B8, B8, x == y, x == y); break;
    case LASK__NE: DISPATCH(B8, B8, x != y, x != y); break;
    case LASK__LT: DISPATCH(B8, B8, x < y, x < y); break;
    case LASK__LE: DISPATCH(B8, B8, x <= y, x <= y); break;
    case LASK__GT: DISPATCH(B8, B8, x > y, x > y); break;
    case LASK__GE: DISPATCH(B8, B8, x >= y, x >= y); break;
    case LASK__ATAN2: DISPATCH(SAME, SAME, atan2(x, y), 0); break;
    }
}

/* A transposed operand read row by row touches a new cache line per
 * element; going through TILE x TILE squares keeps its lines in cache. */
#define TILE 64
static void tiled2(const int64_t *shape, char **ptrs, int64_t (*st)[LASK__MAXDIM], binctx *c) {
    int64_t inner[3] = {st[0][1], st[1][1], st[2][1]};
    for (int64_t i0 = 0; i0 < shape[0]; i0 += TILE)
        for (int64_t j0 = 0; j0 < shape[1]; j0 += TILE) {
            int64_t ni = shape[0] - i0 < TILE ? shape[0] - i0 : TILE;
            int64_t nj = shape[1] - j0 < TILE ? shape[1] - j0 : TILE;
            for (int64_t i = i0; i < i0 + ni; i++) {
                char *p[3];
                for (int k = 0; k < 3; k++) p[k] = ptrs[k] + i * st[k][0] + j0 * st[k][1];
                bin_line(nj, p, inner, c);
            }
        }
}

static int is_cmp(int op) { return op >= LASK__EQ && op <= LASK__GE; }

lask__ndarray *lask__nd_binary(int op, const lask__ndarray *a, int a_weak,
                               const lask__ndarray *b, int b_weak, lask__nderr *e) {
    if (op < 0 || op >= LASK__NBINOP) return lask__nd_seterr(e, "unknown binary operation %d", op);
    int32_t ct;
    if (a_weak && !b_weak) ct = lask__dtype_promote_weak(b->dtype, lask__dtype_isfloat(a->dtype));
    else if (b_weak && !a_weak) ct = lask__dtype_promote_weak(a->dtype, lask__dtype_isfloat(b->dtype));
    else ct = lask__dtype_promote(a->dtype, b->dtype);
    if ((op == LASK__DIV || op == LASK__ATAN2) && !lask__dtype_isfloat(ct)) ct = LASK_F64;
    if (op >= LASK__AND && op <= LASK__XOR && lask__dtype_isfloat(ct))
        return lask__nd_seterr(e, "'%s' needs integer or bool arrays, got %s and %s",
                               binnames[op], lask__dtype_name(a->dtype), lask__dtype_name(b->dtype));
    /* arithmetic on bools counts in int64 (True + True == 2) */
    if (ct == LASK_BOOL8 && op <= LASK__POW) ct = LASK_I64;
    int32_t nd;
    int64_t shape[LASK__MAXDIM];
    if (!lask__broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &nd, shape, e)) return NULL;
    lask__ndarray *ca = NULL, *cb = NULL, *o = NULL;
    if (a->dtype != ct && !(ca = lask__nd_astype(a, ct, e))) goto done;
    if (b->dtype != ct && !(cb = lask__nd_astype(b, ct, e))) goto done;
    const lask__ndarray *x = ca ? ca : a, *y = cb ? cb : b;
    o = lask__ndarray_alloc(is_cmp(op) ? LASK_BOOL8 : ct, nd, shape);
    if (!o) { lask__nd_seterr(e, "out of memory (%s)", binnames[op]); goto done; }
    int64_t st[3][LASK__MAXDIM];
    memcpy(st[0], o->strides, sizeof st[0]);
    bstrides(x, nd, shape, st[1]);
    bstrides(y, nd, shape, st[2]);
    char *ptrs[3] = {o->data, x->data, y->data};
    binctx c = {op, ct};
    if (nd == 2 && (llabs(st[1][1]) > llabs(st[1][0]) || llabs(st[2][1]) > llabs(st[2][0])))
        tiled2(shape, ptrs, st, &c);
    else
        lask__nd_iter(nd, shape, 3, ptrs, st, bin_line, &c);
done:
    if (ca) lask_chunk_unref(&ca->h);
    if (cb) lask_chunk_unref(&cb->h);
    return o;
}

/* ---- unary */

typedef struct { int op; int32_t ct; } unctx;

#define UN(T, TO, EXPR) do { \
    if (sa == (int64_t)sizeof(T) && so == (int64_t)sizeof(TO)) { \
        const T *A = (const T *)pa; TO *O = (TO *)po; \
        for (int64_t i = 0; i < n; i++) { T x = A[i]; (void)x; O[i] = (TO)(EXPR); } \
    } else for (int64_t i = 0; i < n; i++) { T x = *(const T *)(pa + i * sa); (void)x; \
        *(TO *)(po + i * so) = (TO)(EXPR); } } while (0)
#define UDISPATCH(TOF, TOI, FE, IE) switch (c->ct) { \
    case LASK_F64: UN(double, TOF(double), FE); break; \
    case LASK_F32: UN(float, TOF(float), FE); break; \
    case LASK_I64: UN(int64_t, TOI(int64_t), IE); break; \
    case LASK_I32: UN(int32_t, TOI(int32_t), IE); break; \
    case LASK_U8: UN(uint8_t, TOI(uint8_t), IE); break; \
    default: UN(uint8_t, TOI(uint8_t), IE); break; }
#define FONLY(F) UDISPATCH(SAME, SAME, F(x), 0)

static void un_line(int64_t n, char **p, const int64_t *st, void *ud) {
    const unctx *c = ud;
    char *po = p[0];
    const char *pa = p[1];
    int64_t so = st[0], sa = st[1];
    switch (c->op) {
    case LASK__NEG: UDISPATCH(SAME, SAME, -x, 0 - U(x)); break;
    case LASK__ABS: UDISPATCH(SAME, SAME, fabs(x), iabs(x)); break;
    case LASK__SQUARE: UDISPATCH(SAME, SAME, x * x, U(x) * U(x)); break;
    case LASK__SIGN: UDISPATCH(SAME, SAME, x != x ? x : (x > 0) - (x < 0), isgn(x)); break;
    case LASK__SQRT: FONLY(sqrt); break;
    case LASK__EXP: FONLY(exp); break;
    case LASK__LOG: FONLY(log); break;
    case LASK__LOG1P: FONLY(log1p); break;
    case LASK__EXPM1: FONLY(expm1); break;
    case LASK__LOG10: FONLY(log10); break;
    case LASK__LOG2: FONLY(log2); break;
    case LASK__SIN: FONLY(sin); break;
    case LASK__COS: FONLY(cos); break;
    case LASK__TAN: FONLY(tan); break;
    case LASK__TANH: FONLY(tanh); break;
    case LASK__SINH: FONLY(sinh); break;
    case LASK__COSH: FONLY(cosh); break;
    case LASK__ARCSIN: FONLY(asin); break;
    case LASK__ARCCOS: FONLY(acos); break;
    case LASK__ARCTAN: FONLY(atan); break;
    case LASK__FLOOR: UDISPATCH(SAME, SAME, floor(x), x); break;
    case LASK__CEIL: UDISPATCH(SAME, SAME, ceil(x), x); break;
    /* round half to even, as NumPy */
    case LASK__ROUND: UDISPATCH(SAME, SAME, nearbyint(x), x); break;
    case LASK__ISNAN: UDISPATCH(B8, B8, x != x, 0); break;
    case LASK__ISFINITE: UDISPATCH(B8, B8, isfinite(x), 1); break;
    case LASK__NOT:
        if (c->ct == LASK_BOOL8) UN(uint8_t, uint8_t, !x);
        else UDISPATCH(SAME, SAME, 0, ~U(x));
        break;
    }
}

lask__ndarray *lask__nd_unary(int op, const lask__ndarray *a, lask__nderr *e) {
    if (op < 0 || op >= LASK__NUNOP) return lask__nd_seterr(e, "unknown unary operation %d", op);
    int32_t ct = a->dtype, od = a->dtype;
    switch (op) {
    case LASK__NEG: case LASK__SIGN: case LASK__SQUARE:
        if (ct == LASK_BOOL8)
            return lask__nd_seterr(e, "'%s' is not defined for bool arrays (use :lnot() or ~)",
                                   unnames[op]);
        break;
    case LASK__ABS: case LASK__FLOOR: case LASK__CEIL: case LASK__ROUND: break;
    case LASK__ISNAN: case LASK__ISFINITE: od = LASK_BOOL8; break;
    case LASK__NOT:
        if (lask__dtype_isfloat(ct))
            return lask__nd_seterr(e, "'not' (~) needs an integer or bool array, got %s",
                                   lask__dtype_name(ct));
        break;
    default:   /* math functions: floats keep their dtype, the rest go to float64 */
        if (!lask__dtype_isfloat(ct)) ct = od = LASK_F64;
    }
    lask__ndarray *ca = NULL;
    if (ct != a->dtype && !(ca = lask__nd_astype(a, ct, e))) return NULL;
    const lask__ndarray *x = ca ? ca : a;
    lask__ndarray *o = lask__ndarray_alloc(od, x->ndim, x->shape);
    if (o) {
        int64_t st[2][LASK__MAXDIM];
        memcpy(st[0], o->strides, sizeof st[0]);
        memcpy(st[1], x->strides, sizeof st[1]);
        char *ptrs[2] = {o->data, x->data};
        unctx c = {op, ct};
        lask__nd_iter(x->ndim, x->shape, 2, ptrs, st, un_line, &c);
    } else lask__nd_seterr(e, "out of memory (%s)", unnames[op]);
    if (ca) lask_chunk_unref(&ca->h);
    return o;
}

/* ---- where */

static void where_line(int64_t n, char **p, const int64_t *st, void *ud) {
    int64_t es = *(const int64_t *)ud;
    for (int64_t i = 0; i < n; i++) {
        const char *src = p[1][i * st[1]] ? p[2] + i * st[2] : p[3] + i * st[3];
        memcpy(p[0] + i * st[0], src, (size_t)es);
    }
}

lask__ndarray *lask__nd_where(const lask__ndarray *c, const lask__ndarray *a,
                              int a_weak, const lask__ndarray *b, int b_weak,
                              lask__nderr *e) {
    int32_t ct;
    if (a_weak && !b_weak) ct = lask__dtype_promote_weak(b->dtype, lask__dtype_isfloat(a->dtype));
    else if (b_weak && !a_weak) ct = lask__dtype_promote_weak(a->dtype, lask__dtype_isfloat(b->dtype));
    else ct = lask__dtype_promote(a->dtype, b->dtype);
    if (ct == LASK_I64 && a->dtype == LASK_BOOL8 && b->dtype == LASK_BOOL8) ct = LASK_BOOL8;
    int32_t n1, nd;
    int64_t s1[LASK__MAXDIM], shape[LASK__MAXDIM];
    if (!lask__broadcast_shape(c->ndim, c->shape, a->ndim, a->shape, &n1, s1, e)) return NULL;
    if (!lask__broadcast_shape(n1, s1, b->ndim, b->shape, &nd, shape, e)) return NULL;
    lask__ndarray *cc = NULL, *ca = NULL, *cb = NULL, *o = NULL;
    if (c->dtype != LASK_BOOL8 && !(cc = lask__nd_astype(c, LASK_BOOL8, e))) goto done;
    if (a->dtype != ct && !(ca = lask__nd_astype(a, ct, e))) goto done;
    if (b->dtype != ct && !(cb = lask__nd_astype(b, ct, e))) goto done;
    const lask__ndarray *C = cc ? cc : c, *A = ca ? ca : a, *B = cb ? cb : b;
    if (!(o = lask__ndarray_alloc(ct, nd, shape))) { lask__nd_seterr(e, "out of memory (where)"); goto done; }
    int64_t st[4][LASK__MAXDIM];
    memcpy(st[0], o->strides, sizeof st[0]);
    bstrides(C, nd, shape, st[1]);
    bstrides(A, nd, shape, st[2]);
    bstrides(B, nd, shape, st[3]);
    char *ptrs[4] = {o->data, C->data, A->data, B->data};
    int64_t es = lask_dtype_size(ct);
    lask__nd_iter(nd, shape, 4, ptrs, st, where_line, &es);
done:
    if (cc) lask_chunk_unref(&cc->h);
    if (ca) lask_chunk_unref(&ca->h);
    if (cb) lask_chunk_unref(&cb->h);
    return o;
}
