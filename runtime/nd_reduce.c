/* nd_reduce.c - reductions over axes, the partial states that make them
 * parallel (moments for mean/variance, (value, index) pairs for argmin/
 * argmax), and cumulative sums and products.
 *
 * Variance uses shifted sums (pivot K = the first value seen): one pass,
 * vectorisable, and exact enough when K is near the data. Partials are then
 * merged with Chan et al.'s pairwise formula. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ndarray_ops.h"

static const char *const rednames[LASK__NREDOP] = {
    "sum", "prod", "min", "max", "any", "all", "mean", "var", "std",
    "argmin", "argmax", "moments"};
const char *lask__redop_name(int op) { return op >= 0 && op < LASK__NREDOP ? rednames[op] : "?"; }
int lask__redop_from_name(const char *s) {
    for (int i = 0; i < LASK__NREDOP; i++) if (!strcmp(s, rednames[i])) return i;
    return -1;
}

typedef struct racc {
    int op;
    int32_t dt;
    int isf;          /* float input */
    int has, nan;
    int64_t cnt, pos; /* elements seen; flat position for arg */
    double s, s2, k;  /* float sums (s2, k: shifted squares and pivot) */
    int64_t si;       /* integer sums/products (wrapping) */
    double best;      /* min/max/arg */
    int64_t besti, bestpos;
} racc;

#define LOOP(T, BODY) do { \
    if (st == (int64_t)sizeof(T)) { const T *A = (const T *)p; \
        for (int64_t i = 0; i < n; i++) { T x = A[i]; BODY; } } \
    else for (int64_t i = 0; i < n; i++) { T x = *(const T *)(p + i * st); BODY; } } while (0)
#define TYPED(BODY) switch (r->dt) { \
    case LASK_F64: LOOP(double, BODY); break; case LASK_F32: LOOP(float, BODY); break; \
    case LASK_I64: LOOP(int64_t, BODY); break; case LASK_I32: LOOP(int32_t, BODY); break; \
    default: LOOP(uint8_t, BODY); break; }

static void red_line(int64_t n, char **pp, const int64_t *sts, void *ud) {
    racc *r = ud;
    const char *p = pp[0];
    int64_t st = sts[0];
    switch (r->op) {
    case LASK__RSUM: case LASK__RMEAN:
        if (r->dt == LASK_F64 && st == 8) {
            /* four accumulators: lets the compiler keep several adds in flight */
            const double *A = (const double *)p;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int64_t i = 0;
            for (; i + 4 <= n; i += 4) { s0 += A[i]; s1 += A[i + 1]; s2 += A[i + 2]; s3 += A[i + 3]; }
            for (; i < n; i++) s0 += A[i];
            r->s += (s0 + s1) + (s2 + s3);
        } else if (r->isf) { double s = 0; TYPED(s += x); r->s += s; }
        else { uint64_t s = 0; TYPED(s += (uint64_t)(int64_t)x); r->si = (int64_t)((uint64_t)r->si + s); }
        break;
    case LASK__RPROD:
        if (r->isf) { double s = r->s; TYPED(s *= x); r->s = s; }
        else { uint64_t s = (uint64_t)r->si; TYPED(s *= (uint64_t)(int64_t)x); r->si = (int64_t)s; }
        break;
    case LASK__RMIN: case LASK__RMAX: {
        int mx = r->op == LASK__RMAX;
        if (r->isf) {
            double b = r->has ? r->best : (mx ? -INFINITY : INFINITY);
            int nan = 0;
            if (mx) { TYPED(if (x != x) nan = 1; else if (x > b) b = x); }
            else { TYPED(if (x != x) nan = 1; else if (x < b) b = x); }
            r->best = b;
            if (nan) r->nan = 1;
        } else {
            int64_t b = r->has ? r->besti : (mx ? INT64_MIN : INT64_MAX);
            if (mx) { TYPED(if ((int64_t)x > b) b = (int64_t)x); }
            else { TYPED(if ((int64_t)x < b) b = (int64_t)x); }
            r->besti = b;
        }
        break;
    }
    case LASK__RANY: { int any = 0; TYPED(any |= (x != 0)); if (any) r->si = 1; break; }
    case LASK__RALL: { int all = 1; TYPED(all &= (x != 0)); if (!all) r->si = 0; break; }
    case LASK__RVAR: case LASK__RSTD: case LASK__RMOMENTS: {
        if (!r->has && n) { r->k = lask__nd_getd(p, r->dt); }
        double k = r->k, s1 = 0, s2 = 0;
        TYPED(double d = (double)x - k; s1 += d; s2 += d * d);
        r->s += s1;
        r->s2 += s2;
        break;
    }
    case LASK__RARGMIN: case LASK__RARGMAX: {
        int mx = r->op == LASK__RARGMAX;
        for (int64_t i = 0; i < n; i++) {
            double v = lask__nd_getd(p + i * st, r->dt);
            int take;
            if (!r->has && i == 0) take = 1;
            else if (r->best != r->best) take = 0;          /* first NaN wins */
            else if (v != v) take = 1;
            else take = mx ? v > r->best : v < r->best;
            if (take) { r->best = v; r->bestpos = r->pos + i; }
        }
        r->pos += n;
        break;
    }
    }
    if (n) r->has = 1;
    r->cnt += n;
}

static int32_t out_dtype(int op, int32_t dt) {
    switch (op) {
    case LASK__RSUM: case LASK__RPROD:
        return lask__dtype_isfloat(dt) ? dt : LASK_I64;
    case LASK__RMIN: case LASK__RMAX: return dt;
    case LASK__RANY: case LASK__RALL: return LASK_BOOL8;
    case LASK__RMEAN: case LASK__RVAR: case LASK__RSTD: return dt == LASK_F32 ? LASK_F32 : LASK_F64;
    case LASK__RARGMIN: case LASK__RARGMAX: return LASK_I64;
    default: return LASK_F64;
    }
}

/* pairs: ARG ops write (value, position) doubles instead of the index */
static lask__ndarray *reduce_impl(int op, const lask__ndarray *a, const uint8_t *axes,
                                  int keepdims, double ddof, int pairs, lask__nderr *e) {
    if (op < 0 || op >= LASK__NREDOP) return lask__nd_seterr(e, "unknown reduction %d", op);
    int nd = a->ndim, nk = 0, nr = 0, onl = 0;
    int64_t kshape[LASK__MAXDIM], kst[LASK__MAXDIM], rst[1][LASK__MAXDIM];
    int64_t rshape[LASK__MAXDIM], oshape[LASK__MAXDIM + 1];
    int64_t rcount = 1;
    for (int i = 0; i < nd; i++) {
        int red = axes ? axes[i] != 0 : 1;
        if (red) { rshape[nr] = a->shape[i]; rst[0][nr] = a->strides[i]; nr++; rcount *= a->shape[i]; }
        else { kshape[nk] = a->shape[i]; kst[nk] = a->strides[i]; nk++; }
        if (keepdims) oshape[onl++] = red ? 1 : a->shape[i];
        else if (!red) oshape[onl++] = a->shape[i];
    }
    int isarg = op == LASK__RARGMIN || op == LASK__RARGMAX;
    if (isarg && nr != 1 && nr != nd)
        return lask__nd_seterr(e, "%s takes one axis or all of them, got %d of %d",
                               rednames[op], nr, nd);
    if (rcount == 0 && (op == LASK__RMIN || op == LASK__RMAX || isarg)) {
        char b[256];
        return lask__nd_seterr(e, "%s of an empty selection (shape %s) has no identity",
                               rednames[op], lask__shape_str(nd, a->shape, b, 256));
    }
    int32_t od = out_dtype(op, a->dtype);
    int trail = op == LASK__RMOMENTS ? 3 : (isarg && pairs) ? 2 : 0;
    if (trail) { oshape[onl++] = trail; od = LASK_F64; }
    lask__ndarray *o = lask__ndarray_alloc(od, onl, oshape);
    if (!o) return lask__nd_seterr(e, "out of memory (%s)", rednames[op]);
    int64_t nout = 1;
    for (int i = 0; i < nk; i++) nout *= kshape[i];
    int64_t es = lask_dtype_size(od), idx[LASK__MAXDIM] = {0};
    char *base = a->data;
    for (int64_t k = 0; k < nout; k++) {
        racc r = {0};
        r.op = op;
        r.dt = a->dtype;
        r.isf = lask__dtype_isfloat(a->dtype);
        if (op == LASK__RPROD) { r.s = 1; r.si = 1; }
        if (op == LASK__RALL) r.si = 1;
        char *ptr = base;
        lask__nd_iter(nr, rshape, 1, &ptr, rst, red_line, &r);
        char *dst = o->data + k * es * (trail ? trail : 1);
        double c = (double)r.cnt;
        switch (op) {
        case LASK__RSUM: case LASK__RPROD:
            if (r.isf) lask__nd_setd(dst, od, r.s); else lask__nd_seti(dst, od, r.si);
            break;
        case LASK__RMEAN:
            lask__nd_setd(dst, od, (r.isf ? r.s : (double)r.si) / c);
            break;
        case LASK__RMIN: case LASK__RMAX:
            if (r.isf) lask__nd_setd(dst, od, r.nan ? NAN : r.best);
            else lask__nd_seti(dst, od, r.besti);
            break;
        case LASK__RANY: case LASK__RALL: lask__nd_seti(dst, od, r.si); break;
        case LASK__RVAR: case LASK__RSTD: {
            double m2 = r.cnt ? r.s2 - r.s * r.s / c : 0;
            double v = c - ddof > 0 ? (m2 < 0 ? 0 : m2) / (c - ddof) : NAN;
            lask__nd_setd(dst, od, op == LASK__RSTD ? sqrt(v) : v);
            break;
        }
        case LASK__RMOMENTS: {
            double *d = (double *)dst;
            d[0] = c;
            d[1] = r.cnt ? r.k + r.s / c : 0;
            d[2] = r.cnt ? r.s2 - r.s * r.s / c : 0;
            if (d[2] < 0) d[2] = 0;
            break;
        }
        default:
            if (pairs) { ((double *)dst)[0] = r.best; ((double *)dst)[1] = (double)r.bestpos; }
            else lask__nd_seti(dst, od, r.bestpos);
        }
        for (int d = nk - 1; d >= 0; d--) {
            base += kst[d];
            if (++idx[d] < kshape[d]) break;
            base -= kst[d] * kshape[d];
            idx[d] = 0;
        }
    }
    return o;
}

static void acc_line(int64_t n, char **p, const int64_t *st, void *ud) {
    int32_t dt = *(const int32_t *)ud;
    double *o = (double *)p[0];
    if (dt == LASK_F64 && st[1] == 8 && st[0] == 8) {
        const double *a = (const double *)p[1];
        for (int64_t i = 0; i < n; i++) o[i] += a[i];
    } else if (dt == LASK_F32 && st[1] == 4 && st[0] == 8) {
        const float *a = (const float *)p[1];
        for (int64_t i = 0; i < n; i++) o[i] += a[i];
    } else {
        for (int64_t i = 0; i < n; i++)
            *(double *)(p[0] + i * st[0]) += lask__nd_getd(p[1] + i * st[1], dt);
    }
}

/* Float sums over outer axes with the innermost axis kept: add whole rows
 * into the output in memory order instead of walking columns. */
static lask__ndarray *sum_rows(const lask__ndarray *a, const uint8_t *axes, int keepdims,
                               lask__nderr *e) {
    int nd = a->ndim;
    int64_t kshape[LASK__MAXDIM] = {0}, oshape[LASK__MAXDIM] = {0}, st[2][LASK__MAXDIM] = {{0}};
    int onl = 0;
    for (int i = 0; i < nd; i++) {
        kshape[i] = axes[i] ? 1 : a->shape[i];
        if (keepdims || !axes[i]) oshape[onl++] = kshape[i];
    }
    int64_t one = 1;
    lask__ndarray *acc = lask__nd_full(LASK_F64, nd, kshape, 0, 0, 0, e);
    if (!acc) return NULL;
    (void)one;
    for (int i = 0; i < nd; i++) {
        st[0][i] = axes[i] ? 0 : acc->strides[i];
        st[1][i] = a->strides[i];
    }
    char *ptrs[2] = {acc->data, a->data};
    int32_t dt = a->dtype;
    lask__nd_iter(nd, a->shape, 2, ptrs, st, acc_line, &dt);
    lask__ndarray *o = acc;
    if (a->dtype != LASK_F64) {
        o = lask__nd_astype(acc, a->dtype, e);
        lask_chunk_unref(&acc->h);
        if (!o) return NULL;
    }
    lask__ndarray *r = lask__nd_reshape(o, onl, oshape, e);
    lask_chunk_unref(&o->h);
    return r;
}

lask__ndarray *lask__nd_reduce(int op, const lask__ndarray *a, const uint8_t *axes,
                               int keepdims, double ddof, lask__nderr *e) {
    int nd = a->ndim;
    if (op == LASK__RSUM && axes && nd >= 2 && !axes[nd - 1] && lask__dtype_isfloat(a->dtype) &&
        a->strides[nd - 1] == lask_dtype_size(a->dtype) && a->size > 0) {
        int any = 0;
        for (int i = 0; i < nd; i++) any |= axes[i];
        if (any) return sum_rows(a, axes, keepdims, e);
    }
    return reduce_impl(op, a, axes, keepdims, ddof, 0, e);
}

static int same_shapes(const lask__ndarray *const *p, int n, int trail, const char *what,
                       lask__nderr *e) {
    if (n < 1) { lask__nd_seterr(e, "%s: nothing to combine", what); return 0; }
    for (int i = 0; i < n; i++) {
        int ok = p[i]->dtype == LASK_F64 && p[i]->ndim >= 1 && p[i]->ndim == p[0]->ndim &&
                 p[i]->shape[p[i]->ndim - 1] == trail;
        for (int d = 0; ok && d < p[0]->ndim; d++) ok = p[i]->shape[d] == p[0]->shape[d];
        if (!ok) { lask__nd_seterr(e, "%s: partial %d has another shape or dtype", what, i + 1); return 0; }
    }
    return 1;
}

lask__ndarray *lask__nd_moments_combine(const lask__ndarray *const *parts, int n,
                                        lask__nderr *e) {
    if (!same_shapes(parts, n, 3, "moments combine", e)) return NULL;
    lask__ndarray *o = lask__nd_astype(parts[0], LASK_F64, e);
    if (!o) return NULL;
    int64_t m = o->size / 3;
    double *d = (double *)o->data;
    for (int p = 1; p < n; p++) {
        lask__ndarray *c = lask__nd_contiguous(parts[p], e);
        if (!c) { lask_chunk_unref(&o->h); return NULL; }
        const double *s = (const double *)c->data;
        for (int64_t i = 0; i < m; i++) {
            double na = d[3 * i], nb = s[3 * i], nn = na + nb;
            if (nb == 0) continue;
            if (na == 0) { d[3 * i] = nb; d[3 * i + 1] = s[3 * i + 1]; d[3 * i + 2] = s[3 * i + 2]; continue; }
            double delta = s[3 * i + 1] - d[3 * i + 1];
            d[3 * i + 1] += delta * nb / nn;
            d[3 * i + 2] += s[3 * i + 2] + delta * delta * na * nb / nn;
            d[3 * i] = nn;
        }
        lask_chunk_unref(&c->h);
    }
    return o;
}

lask__ndarray *lask__nd_moments_finish(const lask__ndarray *m, int what, double ddof,
                                       int32_t out_dt, lask__nderr *e) {
    if (m->dtype != LASK_F64 || m->ndim < 1 || m->shape[m->ndim - 1] != 3)
        return lask__nd_seterr(e, "moments: expected float64 (..., 3) partials");
    lask__ndarray *c = lask__nd_contiguous(m, e);
    if (!c) return NULL;
    lask__ndarray *o = lask__ndarray_alloc(out_dt, m->ndim - 1, m->shape);
    if (!o) { lask_chunk_unref(&c->h); return lask__nd_seterr(e, "out of memory"); }
    const double *s = (const double *)c->data;
    int64_t es = lask_dtype_size(out_dt);
    for (int64_t i = 0; i < o->size; i++) {
        double n = s[3 * i], v;
        if (what == 0) v = n > 0 ? s[3 * i + 1] : NAN;
        else {
            v = n - ddof > 0 ? s[3 * i + 2] / (n - ddof) : NAN;
            if (what == 2) v = sqrt(v);
        }
        lask__nd_setd(o->data + i * es, out_dt, v);
    }
    lask_chunk_unref(&c->h);
    return o;
}

lask__ndarray *lask__nd_arg_partial(int op, const lask__ndarray *a, int axis,
                                    const int64_t *gstart, const int64_t *gshape,
                                    lask__nderr *e) {
    if (op != LASK__RARGMIN && op != LASK__RARGMAX)
        return lask__nd_seterr(e, "arg partial needs argmin or argmax");
    uint8_t axes[LASK__MAXDIM];
    if (axis >= a->ndim) return lask__nd_seterr(e, "axis %d out of range for %d-d array", axis + 1, a->ndim);
    for (int i = 0; i < a->ndim; i++) axes[i] = axis < 0 || i == axis;
    lask__ndarray *o = reduce_impl(op, a, axes, 1, 0, 1, e);
    if (!o) return NULL;
    double *d = (double *)o->data;
    for (int64_t i = 0; i < o->size / 2; i++) {
        int64_t pos = (int64_t)d[2 * i + 1];
        if (axis >= 0) pos += gstart ? gstart[axis] : 0;
        else if (gstart && gshape) {
            /* local flat position -> global flat index */
            int64_t g = 0, rem = pos, loc[LASK__MAXDIM];
            for (int k = a->ndim - 1; k >= 0; k--) { loc[k] = rem % a->shape[k]; rem /= a->shape[k]; }
            for (int k = 0; k < a->ndim; k++) g = g * gshape[k] + loc[k] + gstart[k];
            pos = g;
        }
        d[2 * i + 1] = (double)pos;
    }
    return o;
}

lask__ndarray *lask__nd_arg_combine(int op, const lask__ndarray *const *parts, int n,
                                    lask__nderr *e) {
    if (!same_shapes(parts, n, 2, "arg combine", e)) return NULL;
    lask__ndarray *o = lask__nd_astype(parts[0], LASK_F64, e);
    if (!o) return NULL;
    double *d = (double *)o->data;
    int mx = op == LASK__RARGMAX;
    for (int p = 1; p < n; p++) {
        lask__ndarray *c = lask__nd_contiguous(parts[p], e);
        if (!c) { lask_chunk_unref(&o->h); return NULL; }
        const double *s = (const double *)c->data;
        for (int64_t i = 0; i < o->size / 2; i++) {
            double a = d[2 * i], b = s[2 * i];
            int take;
            if (a != a) take = b != b && s[2 * i + 1] < d[2 * i + 1];
            else if (b != b) take = 1;
            else if (a == b) take = s[2 * i + 1] < d[2 * i + 1];
            else take = mx ? b > a : b < a;
            if (take) { d[2 * i] = b; d[2 * i + 1] = s[2 * i + 1]; }
        }
        lask_chunk_unref(&c->h);
    }
    return o;
}

lask__ndarray *lask__nd_arg_finish(const lask__ndarray *p, lask__nderr *e) {
    if (p->dtype != LASK_F64 || p->ndim < 1 || p->shape[p->ndim - 1] != 2)
        return lask__nd_seterr(e, "arg finish: expected float64 (..., 2) partials");
    lask__ndarray *c = lask__nd_contiguous(p, e);
    if (!c) return NULL;
    lask__ndarray *o = lask__ndarray_alloc(LASK_I64, p->ndim - 1, p->shape);
    if (o) for (int64_t i = 0; i < o->size; i++)
        ((int64_t *)o->data)[i] = (int64_t)((const double *)c->data)[2 * i + 1];
    else lask__nd_seterr(e, "out of memory");
    lask_chunk_unref(&c->h);
    return o;
}

lask__ndarray *lask__nd_cumulative(int op, const lask__ndarray *a, int axis, lask__nderr *e) {
    if (axis < 0 || axis >= a->ndim)
        return lask__nd_seterr(e, "axis %d out of range for %d-d array", axis + 1, a->ndim);
    if (op != LASK__RSUM && op != LASK__RPROD) return lask__nd_seterr(e, "cumulative: sum or prod");
    int32_t od = out_dtype(op, a->dtype);
    lask__ndarray *o = lask__ndarray_alloc(od, a->ndim, a->shape);
    if (!o) return lask__nd_seterr(e, "out of memory (cumulative)");
    if (o->size == 0) return o;
    int nd = a->ndim, isf = lask__dtype_isfloat(od);
    int64_t len = a->shape[axis], sa = a->strides[axis], so = o->strides[axis];
    int64_t idx[LASK__MAXDIM] = {0}, outer = o->size / len;
    char *pa = a->data, *po = o->data;
    for (int64_t k = 0; k < outer; k++) {
        double s = op == LASK__RSUM ? 0 : 1;
        uint64_t si = op == LASK__RSUM ? 0 : 1;
        for (int64_t i = 0; i < len; i++) {
            if (isf) {
                double v = lask__nd_getd(pa + i * sa, a->dtype);
                s = op == LASK__RSUM ? s + v : s * v;
                lask__nd_setd(po + i * so, od, s);
            } else {
                uint64_t v = (uint64_t)lask__nd_geti(pa + i * sa, a->dtype);
                si = op == LASK__RSUM ? si + v : si * v;
                lask__nd_seti(po + i * so, od, (int64_t)si);
            }
        }
        for (int d = nd - 1; d >= 0; d--) {
            if (d == axis) continue;
            pa += a->strides[d]; po += o->strides[d];
            if (++idx[d] < a->shape[d]) break;
            pa -= a->strides[d] * a->shape[d]; po -= o->strides[d] * a->shape[d];
            idx[d] = 0;
        }
    }
    return o;
}

/* sum(a op b) over axes without materialising a op b: bands of rows are
 * combined and reduced while they are in cache. a and b have the shape of
 * the result of op (or are weak scalars). */
/* The 2-d float64 case of sum(a op b), the one (x + x:T()).mean() needs:
 * one pass in TILE x TILE squares (a transposed operand stays in cache), no
 * temporary at all. */
#define FTILE 64
#define FLOOP(EXPR) do { \
    for (int64_t i0 = 0; i0 < n0; i0 += FTILE) \
        for (int64_t j0 = 0; j0 < n1; j0 += FTILE) { \
            int64_t ie = i0 + FTILE < n0 ? i0 + FTILE : n0, je = j0 + FTILE < n1 ? j0 + FTILE : n1; \
            for (int64_t i = i0; i < ie; i++) { \
                const double *pa = A + i * a0, *pb = B + i * b0; \
                if (red0 && !red1) \
                    for (int64_t j = j0; j < je; j++) { double x = pa[j * a1], y = pb[j * b1]; acc[j] += (EXPR); } \
                else { \
                    double s = 0; \
                    for (int64_t j = j0; j < je; j++) { double x = pa[j * a1], y = pb[j * b1]; s += (EXPR); } \
                    acc[red0 ? 0 : i] += s; \
                } \
            } \
        } } while (0)

static lask__ndarray *fused2d(int op, const lask__ndarray *a, const lask__ndarray *b, int red0,
                              int red1, int keepdims, lask__nderr *e) {
    int64_t n0 = a->shape[0], n1 = a->shape[1];
    int64_t a0 = a->strides[0] / 8, a1 = a->strides[1] / 8, b0 = b->strides[0] / 8, b1 = b->strides[1] / 8;
    int64_t osh[2] = {red0 ? 1 : n0, red1 ? 1 : n1};
    lask__ndarray *o = lask__nd_full(LASK_F64, 2, osh, 0, 0, 0, e);
    if (!o) return NULL;
    double *acc = (double *)o->data;
    const double *A = (const double *)a->data, *B = (const double *)b->data;
    switch (op) {
    case LASK__ADD: FLOOP(x + y); break;
    case LASK__SUB: FLOOP(x - y); break;
    default: FLOOP(x * y); break;
    }
    if (keepdims) return o;
    int64_t sh[2];
    int n = 0;
    if (!red0) sh[n++] = n0;
    if (!red1) sh[n++] = n1;
    lask__ndarray *r = lask__nd_reshape(o, n, sh, e);
    lask_chunk_unref(&o->h);
    return r;
}

lask__ndarray *lask__nd_sum_binary(int op, const lask__ndarray *a, int a_weak,
                                   const lask__ndarray *b, int b_weak, const uint8_t *axes,
                                   int keepdims, lask__nderr *e) {
    if ((op == LASK__ADD || op == LASK__SUB || op == LASK__MUL) && a->dtype == LASK_F64 &&
        b->dtype == LASK_F64 && a->ndim == 2 && b->ndim == 2 && a->shape[0] == b->shape[0] &&
        a->shape[1] == b->shape[1] && a->strides[0] % 8 == 0 && a->strides[1] % 8 == 0 &&
        b->strides[0] % 8 == 0 && b->strides[1] % 8 == 0)
        return fused2d(op, a, b, axes ? axes[0] != 0 : 1, axes ? axes[1] != 0 : 1, keepdims, e);
    const lask__ndarray *full = a->ndim >= b->ndim ? a : b;
    int nd = full->ndim;
    int plain = nd >= 1 && (a->ndim == nd || (a->ndim == 0 && a_weak)) &&
                (b->ndim == nd || (b->ndim == 0 && b_weak));
    for (int i = 0; plain && i < nd; i++)
        plain = (a->ndim == 0 || a->shape[i] == full->shape[i]) && (b->ndim == 0 || b->shape[i] == full->shape[i]);
    if (!plain || full->shape[0] == 0) {
        lask__ndarray *t = lask__nd_binary(op, a, a_weak, b, b_weak, e);
        if (!t) return NULL;
        lask__ndarray *o = lask__nd_reduce(LASK__RSUM, t, axes, keepdims, 0, e);
        lask_chunk_unref(&t->h);
        return o;
    }
    int64_t rowbytes = full->size / full->shape[0] * 8;
    int64_t band = rowbytes > 0 ? (256 * 1024) / rowbytes : full->shape[0];
    if (band < 1) band = 1;
    int red0 = axes ? axes[0] != 0 : 1;
    uint8_t ax[LASK__MAXDIM];
    for (int i = 0; i < nd; i++) ax[i] = axes ? axes[i] : 1;
    lask__ndarray *acc = NULL, *out = NULL;
    int64_t st[LASK__MAXDIM], sp[LASK__MAXDIM], one[LASK__MAXDIM];
    for (int i = 0; i < nd; i++) { st[i] = 0; sp[i] = full->shape[i]; one[i] = 1; }
    for (int64_t r = 0; r < full->shape[0]; r += band) {
        st[0] = r;
        sp[0] = r + band < full->shape[0] ? r + band : full->shape[0];
        lask__ndarray *va = a->ndim ? lask__nd_slice(a, st, sp, one, e) : (lask__ndarray *)lask_chunk_ref((lask_chunk *)&a->h);
        lask__ndarray *vb = b->ndim ? lask__nd_slice(b, st, sp, one, e) : (lask__ndarray *)lask_chunk_ref((lask_chunk *)&b->h);
        lask__ndarray *t = va && vb ? lask__nd_binary(op, va, a_weak, vb, b_weak, e) : NULL;
        if (va) lask_chunk_unref(&va->h);
        if (vb) lask_chunk_unref(&vb->h);
        lask__ndarray *s = t ? lask__nd_reduce(LASK__RSUM, t, ax, 1, 0, e) : NULL;
        if (t) lask_chunk_unref(&t->h);
        if (!s) goto fail;
        if (red0) {
            if (!acc) acc = s;
            else {
                lask__ndarray *n2 = lask__nd_binary(LASK__ADD, acc, 0, s, 0, e);
                lask_chunk_unref(&acc->h);
                lask_chunk_unref(&s->h);
                acc = n2;
                if (!acc) goto fail;
            }
        } else {
            if (!out) {
                int64_t osh[LASK__MAXDIM];
                for (int i = 0; i < nd; i++) osh[i] = i == 0 ? full->shape[0] : s->shape[i];
                out = lask__ndarray_alloc(s->dtype, nd, osh);
                if (!out) { lask_chunk_unref(&s->h); lask__nd_seterr(e, "out of memory"); goto fail; }
            }
            int64_t o0[LASK__MAXDIM] = {0}, o1[LASK__MAXDIM];
            for (int i = 0; i < nd; i++) o1[i] = out->shape[i];
            o0[0] = r;
            o1[0] = sp[0];
            lask__ndarray *dst = lask__nd_slice(out, o0, o1, one, e);
            if (!dst) { lask_chunk_unref(&s->h); goto fail; }
            lask__nd_copyinto(dst, s);
            lask_chunk_unref(&dst->h);
            lask_chunk_unref(&s->h);
        }
    }
    {
        lask__ndarray *res = red0 ? acc : out;
        if (keepdims) return res;
        int64_t osh[LASK__MAXDIM];
        int n = 0;
        for (int i = 0; i < nd; i++) if (!ax[i]) osh[n++] = res->shape[i];
        lask__ndarray *r2 = lask__nd_reshape(res, n, osh, e);
        lask_chunk_unref(&res->h);
        return r2;
    }
fail:
    if (acc) lask_chunk_unref(&acc->h);
    if (out) lask_chunk_unref(&out->h);
    return NULL;
}
