/* frame_col.c - element-wise column kernels and reductions. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>
#include <math.h>
#include <ctype.h>
#include "frame_ops.h"
#include "csvio.h"
#include "csv_num.h"

static _Thread_local char errbuf[512];

const char *lask__frame_errmsg(void) { return errbuf[0] ? errbuf : "out of memory"; }

void lask__frame_seterr(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
}

#define OOM() (lask__frame_seterr("out of memory"), (void *)NULL)

static int is_num(int32_t t) { return t == LASK_COL_INT64 || t == LASK_COL_FLOAT64 || t == LASK_COL_BOOL; }
static int is_intlike(int32_t t) { return t == LASK_COL_INT64 || t == LASK_COL_BOOL; }

/* Values as doubles / int64s: borrowed when already so, else a new array. */
static double *as_f64(const lask__column *c, int *owned) {
    *owned = 0;
    if (c->type == LASK_COL_FLOAT64) return c->values;
    double *d = malloc(sizeof *d * (size_t)(c->n ? c->n : 1));
    if (!d) return NULL;
    *owned = 1;
    if (c->type == LASK_COL_BOOL) for (int64_t i = 0; i < c->n; i++) d[i] = ((uint8_t *)c->values)[i];
    else for (int64_t i = 0; i < c->n; i++) d[i] = (double)((int64_t *)c->values)[i];
    return d;
}

static int64_t *as_i64(const lask__column *c, int *owned) {
    *owned = 0;
    if (c->type == LASK_COL_INT64 || c->type == LASK_COL_TIMESTAMP) return c->values;
    int64_t *d = malloc(sizeof *d * (size_t)(c->n ? c->n : 1));
    if (!d) return NULL;
    *owned = 1;
    if (c->type == LASK_COL_BOOL) for (int64_t i = 0; i < c->n; i++) d[i] = ((uint8_t *)c->values)[i];
    else for (int64_t i = 0; i < c->n; i++) d[i] = (int64_t)((double *)c->values)[i];
    return d;
}

/* Validity of a op b into out (which has no bitmap yet). */
static int merge_valid(lask__column *out, const lask__column *a, const lask__column *b, int scalar_missing) {
    if (!a->valid && !(b && b->valid) && !scalar_missing) return 0;
    uint8_t *v = lask__column_validity(out);
    if (!v) return -1;
    int64_t nb = (out->n + 7) / 8;
    if (scalar_missing) { memset(v, 0, (size_t)(nb ? nb : 1)); return 0; }
    for (int64_t i = 0; i < nb; i++)
        v[i] = (a->valid ? a->valid[i] : 0xff) & (b && b->valid ? b->valid[i] : 0xff);
    return 0;
}

static double fmod_floor(double a, double b) {
    double m = fmod(a, b);
    if (m != 0 && (m < 0) != (b < 0)) m += b;
    return m;
}

static const char *op_name(int op) {
    static const char *n[] = {"+", "-", "*", "/", "%", "//", "^", "==", "~=", "<", "<=", ">", ">=", "and", "or"};
    return op >= 0 && op <= LASK__OR ? n[op] : "?";
}

static int str_cmp(const char *a, size_t an, const char *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static int cmp_true(int op, int c) {
    switch (op) {
    case LASK__EQ: return c == 0;
    case LASK__NE: return c != 0;
    case LASK__LT: return c < 0;
    case LASK__LE: return c <= 0;
    case LASK__GT: return c > 0;
    default: return c >= 0;
    }
}

/* Comparison of any two like-typed operands into a BOOL column without a
 * bitmap: missing compares false (true for ~=). */
static lask__column *compare(int op, const lask__column *a, const lask__column *b,
                             const lask__scalar *bs, int swap) {
    int64_t n = a->n;
    int32_t ta = a->type, tb = b ? b->type : bs->type;
    lask__scalar conv;
    /* timestamps compare with ISO-8601 strings */
    if (!b && ta == LASK_COL_TIMESTAMP && tb == LASK_COL_STRING) {
        if (lask__parse_timestamp(bs->s, bs->n, &conv.i)) {
            lask__frame_seterr("cannot compare a timestamp column with '%.*s' (not an ISO-8601 date)", (int)bs->n, bs->s);
            return NULL;
        }
        conv.type = LASK_COL_TIMESTAMP;
        bs = &conv;
        tb = conv.type;
    }
    int numeric = is_num(ta) && is_num(tb);
    if (!numeric && !(ta == tb) && !(tb == -1)) {
        lask__frame_seterr("cannot compare a %s column with a %s %s", lask__coltype_name(ta),
                           lask__coltype_name(tb), b ? "column" : "value");
        return NULL;
    }
    lask__column *out = lask__column_new(LASK_COL_BOOL, n, 0);
    if (!out) return OOM();
    uint8_t *o = out->values;
    if (!b && tb == -1) {  /* against nil: nothing equals it */
        memset(o, op == LASK__NE, (size_t)n);
        return out;
    }
    int s = swap ? -1 : 1;
    if (numeric && (ta == LASK_COL_FLOAT64 || tb == LASK_COL_FLOAT64)) {
        int oa, ob = 0;
        double *x = as_f64(a, &oa), *y = NULL, k = 0;
        if (b) y = as_f64(b, &ob);
        else k = bs->type == LASK_COL_FLOAT64 ? bs->f : (double)bs->i;
        if (!x || (b && !y)) { lask__column_unref(out); return OOM(); }
        if (swap) { /* k op x == x (flipped op) k */
            switch (op) { case LASK__LT: op = LASK__GT; break; case LASK__GT: op = LASK__LT; break;
                          case LASK__LE: op = LASK__GE; break; case LASK__GE: op = LASK__LE; break; }
        }
#define CMPLOOP(RHS) switch (op) { \
        case LASK__EQ: for (int64_t i = 0; i < n; i++) o[i] = x[i] == (RHS); break; \
        case LASK__NE: for (int64_t i = 0; i < n; i++) o[i] = x[i] != (RHS); break; \
        case LASK__LT: for (int64_t i = 0; i < n; i++) o[i] = x[i] < (RHS); break; \
        case LASK__LE: for (int64_t i = 0; i < n; i++) o[i] = x[i] <= (RHS); break; \
        case LASK__GT: for (int64_t i = 0; i < n; i++) o[i] = x[i] > (RHS); break; \
        default: for (int64_t i = 0; i < n; i++) o[i] = x[i] >= (RHS); break; }
        if (b) { CMPLOOP(y[i]) } else { CMPLOOP(k) }
        if (oa) free(x);
        if (ob) free(y);
    } else if (numeric || ta == LASK_COL_TIMESTAMP) {
        int oa, ob = 0;
        int64_t *x = as_i64(a, &oa), *y = NULL, k = 0;
        if (b) y = as_i64(b, &ob);
        else k = bs->i;
        if (!x || (b && !y)) { lask__column_unref(out); return OOM(); }
        if (swap) {
            switch (op) { case LASK__LT: op = LASK__GT; break; case LASK__GT: op = LASK__LT; break;
                          case LASK__LE: op = LASK__GE; break; case LASK__GE: op = LASK__LE; break; }
        }
        if (b) { CMPLOOP(y[i]) } else { CMPLOOP(k) }
#undef CMPLOOP
        if (oa) free(x);
        if (ob) free(y);
    } else { /* strings */
        const int64_t *ao = a->values, *bo = b ? b->values : NULL;
        for (int64_t i = 0; i < n; i++) {
            const char *bp = b ? b->strdata + bo[i] : bs->s;
            size_t bn = b ? (size_t)(bo[i + 1] - bo[i]) : bs->n;
            o[i] = (uint8_t)cmp_true(op, s * str_cmp(a->strdata + ao[i], (size_t)(ao[i + 1] - ao[i]), bp, bn));
        }
    }
    /* missing rows: false, or true for ~= */
    if (a->valid || (b && b->valid))
        for (int64_t i = 0; i < n; i++)
            if (!lask__column_isvalid(a, i) || (b && !lask__column_isvalid(b, i))) o[i] = op == LASK__NE;
    return out;
}

lask__column *lask__col_binop(int op, const lask__column *a, const lask__column *b,
                              const lask__scalar *bs, int swap) {
    if (b && b->n != a->n) {
        lask__frame_seterr("columns of different lengths (%lld and %lld rows)", (long long)a->n, (long long)b->n);
        return NULL;
    }
    int64_t n = a->n;
    int32_t ta = a->type, tb = b ? b->type : bs->type;
    if (op >= LASK__EQ && op <= LASK__GE) return compare(op, a, b, bs, swap);
    if (op == LASK__AND || op == LASK__OR) {
        if (ta != LASK_COL_BOOL || (tb != LASK_COL_BOOL)) {
            lask__frame_seterr("'%s' needs boolean masks, got %s and %s", op == LASK__AND ? "&" : "|",
                               lask__coltype_name(ta), lask__coltype_name(tb));
            return NULL;
        }
        lask__column *out = lask__column_new(LASK_COL_BOOL, n, 0);
        if (!out) return OOM();
        uint8_t *o = out->values, *x = a->values, *y = b ? b->values : NULL, k = b ? 0 : (uint8_t)(bs->i != 0);
        for (int64_t i = 0; i < n; i++) {
            uint8_t xv = x[i] && lask__column_isvalid(a, i);
            uint8_t yv = b ? (y[i] && lask__column_isvalid(b, i)) : k;
            o[i] = op == LASK__AND ? (xv & yv) : (xv | yv);
        }
        return out;
    }
    /* arithmetic */
    if (ta == LASK_COL_STRING && tb == LASK_COL_STRING && op == LASK__ADD) {
        /* concatenation */
        const int64_t *ao = a->values, *bo = b ? b->values : NULL;
        int64_t total = a->strbytes + (b ? b->strbytes : (int64_t)bs->n * n);
        lask__column *out = lask__column_new(LASK_COL_STRING, n, total);
        if (!out) return OOM();
        int64_t *oo = out->values, at = 0;
        for (int64_t i = 0; i < n; i++) {
            const char *x = a->strdata + ao[i], *y = b ? b->strdata + bo[i] : bs->s;
            size_t xn = (size_t)(ao[i + 1] - ao[i]), yn = b ? (size_t)(bo[i + 1] - bo[i]) : bs->n;
            if (swap) { const char *t = x; x = y; y = t; size_t tn = xn; xn = yn; yn = tn; }
            memcpy(out->strdata + at, x, xn); at += (int64_t)xn;
            memcpy(out->strdata + at, y, yn); at += (int64_t)yn;
            oo[i + 1] = at;
        }
        if (merge_valid(out, a, b, 0)) { lask__column_unref(out); return OOM(); }
        return out;
    }
    int tsres = 0;
    if (ta == LASK_COL_TIMESTAMP || tb == LASK_COL_TIMESTAMP) {
        /* ts - ts -> int64 ns; ts +/- int -> ts */
        int ok = (op == LASK__SUB && ta == tb) ||
                 ((op == LASK__ADD || op == LASK__SUB) && ta == LASK_COL_TIMESTAMP && tb == LASK_COL_INT64 && !swap) ||
                 (op == LASK__ADD && tb == LASK_COL_TIMESTAMP && ta == LASK_COL_INT64);
        if (!ok) {
            lask__frame_seterr("cannot apply '%s' to %s and %s", op_name(op), lask__coltype_name(ta), lask__coltype_name(tb));
            return NULL;
        }
        tsres = !(op == LASK__SUB && ta == tb);
    } else if (!is_num(ta) || !is_num(tb)) {
        lask__frame_seterr("cannot apply '%s' to %s and %s%s", op_name(op), lask__coltype_name(ta),
                           tb < 0 ? "nil" : lask__coltype_name(tb), b ? "" : " value");
        return NULL;
    }
    int scalar_missing = !b && tb < 0;
    int as_int = (is_intlike(ta) || ta == LASK_COL_TIMESTAMP) && (is_intlike(tb) || tb == LASK_COL_TIMESTAMP) &&
                 op != LASK__DIV && op != LASK__POW;
    lask__column *out = lask__column_new(tsres ? LASK_COL_TIMESTAMP : as_int ? LASK_COL_INT64 : LASK_COL_FLOAT64, n, 0);
    if (!out) return OOM();
    if (merge_valid(out, a, b, scalar_missing)) { lask__column_unref(out); return OOM(); }
    if (scalar_missing) return out;
    if (as_int) {
        int oa, ob = 0;
        int64_t *x = as_i64(a, &oa), *y = NULL, k = bs ? bs->i : 0, *o = out->values;
        if (b) y = as_i64(b, &ob);
        if (!x || (b && !y)) { lask__column_unref(out); return OOM(); }
        for (int64_t i = 0; i < n; i++) {
            int64_t l = x[i], r = b ? y[i] : k;
            if (swap) { int64_t t = l; l = r; r = t; }
            int64_t v = 0;
            switch (op) {
            case LASK__ADD: v = (int64_t)((uint64_t)l + (uint64_t)r); break;
            case LASK__SUB: v = (int64_t)((uint64_t)l - (uint64_t)r); break;
            case LASK__MUL: v = (int64_t)((uint64_t)l * (uint64_t)r); break;
            case LASK__IDIV: case LASK__MOD:
                if (r == 0 || (r == -1 && l == INT64_MIN)) {
                    if (lask__column_validity(out)) lask__bit_set(out->valid, i, 0);
                    v = 0;
                } else {
                    int64_t q = l / r, m = l % r;
                    if (m != 0 && ((m < 0) != (r < 0))) { q--; m += r; }
                    v = op == LASK__IDIV ? q : m;
                }
                break;
            }
            o[i] = v;
        }
        if (oa) free(x);
        if (ob) free(y);
    } else {
        int oa, ob = 0;
        double *x = as_f64(a, &oa), *y = NULL, *o = out->values;
        double k = bs ? (bs->type == LASK_COL_FLOAT64 ? bs->f : (double)bs->i) : 0;
        if (b) y = as_f64(b, &ob);
        if (!x || (b && !y)) { lask__column_unref(out); return OOM(); }
#define ALOOP(EXPR) do { if (b) { for (int64_t i = 0; i < n; i++) { double l = x[i], r = y[i]; o[i] = (EXPR); } } \
        else if (swap) { for (int64_t i = 0; i < n; i++) { double l = k, r = x[i]; o[i] = (EXPR); } } \
        else { for (int64_t i = 0; i < n; i++) { double l = x[i], r = k; o[i] = (EXPR); } } } while (0)
        switch (op) {
        case LASK__ADD: ALOOP(l + r); break;
        case LASK__SUB: ALOOP(l - r); break;
        case LASK__MUL: ALOOP(l * r); break;
        case LASK__DIV: ALOOP(l / r); break;
        case LASK__MOD: ALOOP(fmod_floor(l, r)); break;
        case LASK__IDIV: ALOOP(floor(l / r)); break;
        default: ALOOP(pow(l, r)); break;
        }
#undef ALOOP
        if (oa) free(x);
        if (ob) free(y);
    }
    return out;
}

lask__column *lask__col_not(const lask__column *a) {
    if (a->type != LASK_COL_BOOL) {
        lask__frame_seterr("'~' needs a boolean mask, got a %s column", lask__coltype_name(a->type));
        return NULL;
    }
    lask__column *out = lask__column_new(LASK_COL_BOOL, a->n, 0);
    if (!out) return OOM();
    uint8_t *o = out->values, *x = a->values;
    for (int64_t i = 0; i < a->n; i++) o[i] = !(x[i] && lask__column_isvalid(a, i));
    return out;
}

lask__column *lask__col_neg(const lask__column *a) {
    lask__scalar zero = {LASK_COL_INT64, 0, 0, NULL, 0};
    return lask__col_binop(LASK__SUB, a, NULL, &zero, 1);
}

lask__column *lask__col_isna(const lask__column *a, int negate) {
    lask__column *out = lask__column_new(LASK_COL_BOOL, a->n, 0);
    if (!out) return OOM();
    uint8_t *o = out->values;
    for (int64_t i = 0; i < a->n; i++) {
        int na = !lask__column_isvalid(a, i) || (a->type == LASK_COL_FLOAT64 && isnan(((double *)a->values)[i]));
        o[i] = (uint8_t)(na ^ negate);
    }
    return out;
}

void lask__col_get(const lask__column *a, int64_t r, lask__scalar *out) {
    memset(out, 0, sizeof *out);
    if (!lask__column_isvalid(a, r)) { out->type = -1; return; }
    out->type = a->type;
    switch (a->type) {
    case LASK_COL_FLOAT64: out->f = ((double *)a->values)[r]; break;
    case LASK_COL_BOOL: out->i = ((uint8_t *)a->values)[r]; break;
    case LASK_COL_STRING: {
        const int64_t *o = a->values;
        out->s = a->strdata + o[r];
        out->n = (size_t)(o[r + 1] - o[r]);
        break;
    }
    default: out->i = ((int64_t *)a->values)[r]; break;
    }
}

/* Build a column of type t from n scalars produced by get(i). */
typedef int (*getter)(const void *ud, int64_t i, lask__scalar *v);

static lask__column *from_scalars(int32_t t, int64_t n, getter get, const void *ud) {
    int64_t bytes = 0;
    lask__scalar v;
    if (t == LASK_COL_STRING)
        for (int64_t i = 0; i < n; i++) { if (get(ud, i, &v)) return NULL; if (v.type >= 0) bytes += (int64_t)v.n; }
    lask__column *out = lask__column_new(t, n, bytes);
    if (!out) return OOM();
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        if (get(ud, i, &v)) { lask__column_unref(out); return NULL; }
        if (v.type < 0) {
            if (!lask__column_validity(out)) { lask__column_unref(out); return OOM(); }
            lask__bit_set(out->valid, i, 0);
            if (t == LASK_COL_STRING) ((int64_t *)out->values)[i + 1] = at;
            else if (t == LASK_COL_FLOAT64) ((double *)out->values)[i] = NAN;
            continue;
        }
        switch (t) {
        case LASK_COL_FLOAT64: ((double *)out->values)[i] = v.type == LASK_COL_FLOAT64 ? v.f : (double)v.i; break;
        case LASK_COL_BOOL: ((uint8_t *)out->values)[i] = (uint8_t)(v.type == LASK_COL_FLOAT64 ? v.f != 0 : v.i != 0); break;
        case LASK_COL_STRING:
            memcpy(out->strdata + at, v.s, v.n);
            at += (int64_t)v.n;
            ((int64_t *)out->values)[i + 1] = at;
            break;
        default: ((int64_t *)out->values)[i] = v.type == LASK_COL_FLOAT64 ? (int64_t)v.f : v.i; break;
        }
    }
    return out;
}

static int get_const(const void *ud, int64_t i, lask__scalar *v) { (void)i; *v = *(const lask__scalar *)ud; return 0; }

lask__column *lask__col_const(const lask__scalar *v, int64_t n) {
    int32_t t = v->type < 0 ? LASK_COL_FLOAT64 : v->type;
    return from_scalars(t, n, get_const, v);
}

typedef struct fill_ud { const lask__column *a; const lask__scalar *v; } fill_ud;
static int get_fill(const void *ud, int64_t i, lask__scalar *v) {
    const fill_ud *f = ud;
    lask__col_get(f->a, i, v);
    if (v->type < 0 || (v->type == LASK_COL_FLOAT64 && isnan(v->f))) *v = *f->v;
    return 0;
}

lask__column *lask__col_fillna(const lask__column *a, const lask__scalar *v) {
    if (v->type >= 0 && v->type != a->type && !(is_num(a->type) && is_num(v->type))) {
        lask__frame_seterr("fillna: cannot fill a %s column with a %s value", lask__coltype_name(a->type), lask__coltype_name(v->type));
        return NULL;
    }
    int32_t t = a->type;
    if (a->type == LASK_COL_INT64 && v->type == LASK_COL_FLOAT64) t = LASK_COL_FLOAT64;
    fill_ud ud = {a, v};
    return from_scalars(t, a->n, get_fill, &ud);
}

typedef struct cast_ud { const lask__column *a; int32_t to; } cast_ud;
static int get_cast(const void *ud, int64_t i, lask__scalar *v) {
    const cast_ud *c = ud;
    lask__col_get(c->a, i, v);
    if (v->type < 0 || v->type == c->to) return 0;
    static _Thread_local char buf[64];
    if (c->to == LASK_COL_STRING) {
        int n = 0;
        switch (v->type) {
        case LASK_COL_FLOAT64: n = snprintf(buf, sizeof buf, "%.17g", v->f); break;
        case LASK_COL_BOOL: n = snprintf(buf, sizeof buf, "%s", v->i ? "true" : "false"); break;
        case LASK_COL_TIMESTAMP: n = lask__format_timestamp(v->i, buf); break;
        default: n = snprintf(buf, sizeof buf, "%lld", (long long)v->i); break;
        }
        v->type = LASK_COL_STRING; v->s = buf; v->n = (size_t)n;
        return 0;
    }
    if (v->type == LASK_COL_STRING) {
        lask__scalar w = {c->to, 0, 0, NULL, 0};
        int ok = 0;
        if (c->to == LASK_COL_INT64) ok = lask__scan_int(v->s, v->s + v->n, &w.i) == v->s + v->n && v->n;
        else if (c->to == LASK_COL_FLOAT64) ok = lask__parse_double_full(v->s, v->n, &w.f);
        else if (c->to == LASK_COL_TIMESTAMP) ok = lask__parse_timestamp(v->s, v->n, &w.i) == 0;
        else if (c->to == LASK_COL_BOOL) {
            ok = 1;
            if (v->n == 4 && !strncasecmp(v->s, "true", 4)) w.i = 1;
            else if (v->n == 5 && !strncasecmp(v->s, "false", 5)) w.i = 0;
            else ok = 0;
        }
        if (!ok) {
            lask__frame_seterr("astype: row %lld: cannot convert '%.*s' to %s", (long long)i + 1,
                               (int)(v->n > 40 ? 40 : v->n), v->s, lask__coltype_name(c->to));
            return -1;
        }
        *v = w;
        return 0;
    }
    if (c->to == LASK_COL_INT64 || c->to == LASK_COL_TIMESTAMP) {
        if (v->type == LASK_COL_FLOAT64) {
            if (isnan(v->f)) { v->type = -1; return 0; }
            if (!(v->f >= -9.2e18 && v->f <= 9.2e18)) {
                lask__frame_seterr("astype: row %lld: %g does not fit int64", (long long)i + 1, v->f);
                return -1;
            }
            v->i = (int64_t)v->f;
        }
        v->type = c->to;
    } else if (c->to == LASK_COL_FLOAT64) {
        if (v->type != LASK_COL_FLOAT64) v->f = (double)v->i;
        v->type = c->to;
    } else if (c->to == LASK_COL_BOOL) {
        v->i = v->type == LASK_COL_FLOAT64 ? v->f != 0 : v->i != 0;
        v->type = c->to;
    }
    return 0;
}

lask__column *lask__col_astype(const lask__column *a, int32_t type) {
    if (type < 0 || type > LASK_COL_TIMESTAMP) { lask__frame_seterr("astype: unknown type"); return NULL; }
    if (type == a->type) return lask__column_ref((lask__column *)a);
    cast_ud ud = {a, type};
    return from_scalars(type, a->n, get_cast, &ud);
}

static lask__column *unary_f(const lask__column *a, int kind, double arg) {
    if (!is_num(a->type)) {
        lask__frame_seterr("%s needs a numeric column, got %s", kind == 0 ? "abs" : "round", lask__coltype_name(a->type));
        return NULL;
    }
    lask__column *out = lask__column_new(a->type == LASK_COL_BOOL ? LASK_COL_INT64 : a->type, a->n, 0);
    if (!out) return OOM();
    if (a->valid) {
        if (!lask__column_validity(out)) { lask__column_unref(out); return OOM(); }
        memcpy(out->valid, a->valid, (size_t)(a->n + 7) / 8);
    }
    if (a->type == LASK_COL_FLOAT64) {
        double *x = a->values, *o = out->values, p = pow(10, arg);
        for (int64_t i = 0; i < a->n; i++)
            o[i] = kind == 0 ? fabs(x[i]) : (arg == 0 ? nearbyint(x[i]) : nearbyint(x[i] * p) / p);
    } else {
        int own;
        int64_t *x = as_i64(a, &own), *o = out->values;
        if (!x) { lask__column_unref(out); return OOM(); }
        for (int64_t i = 0; i < a->n; i++) o[i] = kind == 0 ? (x[i] < 0 ? -x[i] : x[i]) : x[i];
        if (own) free(x);
    }
    return out;
}

lask__column *lask__col_abs(const lask__column *a) { return unary_f(a, 0, 0); }
lask__column *lask__col_round(const lask__column *a, int digits) { return unary_f(a, 1, digits); }

lask__column *lask__col_clip(const lask__column *a, const lask__scalar *lo, const lask__scalar *hi) {
    if (!is_num(a->type)) {
        lask__frame_seterr("clip needs a numeric column, got %s", lask__coltype_name(a->type));
        return NULL;
    }
    int isf = a->type == LASK_COL_FLOAT64 || (lo && lo->type == LASK_COL_FLOAT64) || (hi && hi->type == LASK_COL_FLOAT64);
    lask__column *c = isf ? lask__col_astype(a, LASK_COL_FLOAT64) : lask__col_astype(a, LASK_COL_INT64);
    if (!c) return NULL;
    lask__column *out = lask__column_new(c->type, c->n, 0);
    if (!out) { lask__column_unref(c); return OOM(); }
    if (c->valid) {
        if (!lask__column_validity(out)) { lask__column_unref(c); lask__column_unref(out); return OOM(); }
        memcpy(out->valid, c->valid, (size_t)(c->n + 7) / 8);
    }
    if (isf) {
        double *x = c->values, *o = out->values;
        double l = lo && lo->type >= 0 ? (lo->type == LASK_COL_FLOAT64 ? lo->f : (double)lo->i) : -INFINITY;
        double h = hi && hi->type >= 0 ? (hi->type == LASK_COL_FLOAT64 ? hi->f : (double)hi->i) : INFINITY;
        for (int64_t i = 0; i < c->n; i++) o[i] = x[i] < l ? l : x[i] > h ? h : x[i];
    } else {
        int64_t *x = c->values, *o = out->values;
        int64_t l = lo && lo->type >= 0 ? lo->i : INT64_MIN, h = hi && hi->type >= 0 ? hi->i : INT64_MAX;
        for (int64_t i = 0; i < c->n; i++) o[i] = x[i] < l ? l : x[i] > h ? h : x[i];
    }
    lask__column_unref(c);
    return out;
}

static int scalar_eq(const lask__scalar *a, const lask__scalar *b) {
    if (a->type < 0 || b->type < 0) return 0;
    if (a->type == LASK_COL_STRING || b->type == LASK_COL_STRING)
        return a->type == b->type && a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
    double x = a->type == LASK_COL_FLOAT64 ? a->f : (double)a->i;
    double y = b->type == LASK_COL_FLOAT64 ? b->f : (double)b->i;
    if (a->type != LASK_COL_FLOAT64 && b->type != LASK_COL_FLOAT64) return a->i == b->i;
    return x == y;
}

lask__column *lask__col_isin(const lask__column *a, const lask__scalar *vals, int32_t n) {
    for (int32_t k = 0; k < n; k++) {
        int32_t t = vals[k].type;
        if (t >= 0 && t != a->type && !(is_num(t) && is_num(a->type)) &&
            !(a->type == LASK_COL_TIMESTAMP && t == LASK_COL_INT64)) {
            lask__frame_seterr("isin: a %s value cannot match a %s column", lask__coltype_name(t), lask__coltype_name(a->type));
            return NULL;
        }
    }
    lask__column *out = lask__column_new(LASK_COL_BOOL, a->n, 0);
    if (!out) return OOM();
    uint8_t *o = out->values;
    for (int64_t i = 0; i < a->n; i++) {
        lask__scalar v;
        lask__col_get(a, i, &v);
        o[i] = 0;
        for (int32_t k = 0; k < n && !o[i]; k++) o[i] = (uint8_t)scalar_eq(&v, &vals[k]);
    }
    return out;
}

/* ---- strings */

static int64_t utf8_len(const char *s, int64_t n) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* byte offset of the c-th (0-based) character */
static int64_t utf8_at(const char *s, int64_t n, int64_t c) {
    int64_t i = 0;
    for (; i < n && c > 0; i++)
        if (i + 1 >= n || ((unsigned char)s[i + 1] & 0xC0) != 0x80) c--;
    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
    return i;
}

typedef struct str_ud { const lask__column *a; int op; const char *arg; size_t argn; int64_t i, j; char *tmp; size_t tmpn; } str_ud;

static int get_str(const void *ud, int64_t r, lask__scalar *v) {
    const str_ud *u = ud;
    lask__col_get(u->a, r, v);
    if (v->type < 0) return 0;
    const char *s = v->s;
    int64_t n = (int64_t)v->n;
    switch (u->op) {
    case LASK__STR_LEN: v->type = LASK_COL_INT64; v->i = utf8_len(s, n); break;
    case LASK__STR_CONTAINS:
        v->type = LASK_COL_BOOL;
        v->i = u->argn == 0 || memmem(s, (size_t)n, u->arg, u->argn) != NULL;
        break;
    case LASK__STR_STARTSWITH:
        v->type = LASK_COL_BOOL;
        v->i = (size_t)n >= u->argn && memcmp(s, u->arg, u->argn) == 0;
        break;
    case LASK__STR_ENDSWITH:
        v->type = LASK_COL_BOOL;
        v->i = (size_t)n >= u->argn && memcmp(s + n - (int64_t)u->argn, u->arg, u->argn) == 0;
        break;
    case LASK__STR_LOWER: case LASK__STR_UPPER: {
        /* ASCII letters only; other bytes (UTF-8) pass through */
        str_ud *m = (str_ud *)u;
        if ((size_t)n > m->tmpn) {
            char *t = realloc(m->tmp, (size_t)n + 1);
            if (!t) { lask__frame_seterr("out of memory"); return -1; }
            m->tmp = t; m->tmpn = (size_t)n;
        }
        for (int64_t k = 0; k < n; k++)
            m->tmp[k] = (char)(u->op == LASK__STR_LOWER ? tolower((unsigned char)s[k]) : toupper((unsigned char)s[k]));
        v->s = m->tmp;
        break;
    }
    case LASK__STR_SLICE: {
        int64_t len = utf8_len(s, n), i = u->i, j = u->j;
        if (i < 0) i = len + i + 1;
        if (j < 0) j = len + j + 1;
        if (i < 1) i = 1;
        if (j > len) j = len;
        if (j < i) { v->n = 0; break; }
        int64_t b0 = utf8_at(s, n, i - 1), b1 = utf8_at(s, n, j);
        v->s = s + b0;
        v->n = (size_t)(b1 - b0);
        break;
    }
    case LASK__STR_SPLIT: {
        /* part i (1-based) of s split on arg; missing when there is none */
        int64_t part = 1;
        const char *p = s, *e = s + n;
        while (part < u->i) {
            const char *q = u->argn ? memmem(p, (size_t)(e - p), u->arg, u->argn) : NULL;
            if (!q) { v->type = -1; return 0; }
            p = q + u->argn;
            part++;
        }
        const char *q = u->argn ? memmem(p, (size_t)(e - p), u->arg, u->argn) : NULL;
        v->s = p;
        v->n = (size_t)((q ? q : e) - p);
        break;
    }
    }
    return 0;
}

lask__column *lask__col_str(int op, const lask__column *a, const char *arg, size_t argn,
                            int64_t i, int64_t j) {
    if (a->type != LASK_COL_STRING) {
        lask__frame_seterr("string method on a %s column", lask__coltype_name(a->type));
        return NULL;
    }
    str_ud ud = {a, op, arg, argn, i, j, NULL, 0};
    int32_t t = op == LASK__STR_LEN ? LASK_COL_INT64 :
                (op == LASK__STR_CONTAINS || op == LASK__STR_STARTSWITH || op == LASK__STR_ENDSWITH) ? LASK_COL_BOOL
                : LASK_COL_STRING;
    /* lower/upper reuse one buffer: the byte count pass and the copy pass
     * each see the same lengths, so this is safe */
    lask__column *out = from_scalars(t, a->n, get_str, &ud);
    free(ud.tmp);
    if (out && t != LASK_COL_STRING && a->valid && t == LASK_COL_BOOL) {
        /* a missing string does not contain anything: false, not missing */
        uint8_t *o = out->values;
        for (int64_t r = 0; r < a->n; r++) if (!lask__column_isvalid(a, r)) o[r] = 0;
        free(out->valid);
        out->valid = NULL;
    }
    return out;
}

lask__column *lask__col_dt(int field, const lask__column *a) {
    if (a->type != LASK_COL_TIMESTAMP) {
        lask__frame_seterr("dt fields need a timestamp column, got %s", lask__coltype_name(a->type));
        return NULL;
    }
    lask__column *out = lask__column_new(LASK_COL_INT64, a->n, 0);
    if (!out) return OOM();
    if (a->valid) {
        if (!lask__column_validity(out)) { lask__column_unref(out); return OOM(); }
        memcpy(out->valid, a->valid, (size_t)(a->n + 7) / 8);
    }
    const int64_t *x = a->values;
    int64_t *o = out->values;
    for (int64_t i = 0; i < a->n; i++) {
        int64_t y; int mo, d, h;
        lask__timestamp_fields(x[i], &y, &mo, &d, &h);
        o[i] = field == LASK__DT_YEAR ? y : field == LASK__DT_MONTH ? mo : field == LASK__DT_DAY ? d : h;
    }
    return out;
}

/* ---- reductions */

int lask__col_reduce(const lask__column *a, const char *op, int ddof, lask__scalar *out) {
    memset(out, 0, sizeof *out);
    out->type = -1;
    int64_t n = a->n, cnt = 0;
    if (!strcmp(op, "size")) { out->type = LASK_COL_INT64; out->i = n; return 0; }
    int isf = a->type == LASK_COL_FLOAT64;
    #define PRESENT(i) (lask__column_isvalid(a, i) && !(isf && isnan(((double *)a->values)[i])))
    if (!strcmp(op, "count")) {
        for (int64_t i = 0; i < n; i++) cnt += PRESENT(i);
        out->type = LASK_COL_INT64; out->i = cnt;
        return 0;
    }
    if (!strcmp(op, "first") || !strcmp(op, "last")) {
        int first = op[0] == 'f';
        for (int64_t k = 0; k < n; k++) {
            int64_t i = first ? k : n - 1 - k;
            if (PRESENT(i)) { lask__col_get(a, i, out); return 0; }
        }
        return 0;
    }
    if (!strcmp(op, "min") || !strcmp(op, "max")) {
        int mx = op[1] == 'a';
        for (int64_t i = 0; i < n; i++) {
            if (!PRESENT(i)) continue;
            lask__scalar v;
            lask__col_get(a, i, &v);
            if (out->type < 0) { *out = v; continue; }
            int c;
            if (a->type == LASK_COL_STRING) c = str_cmp(v.s, v.n, out->s, out->n);
            else if (isf) c = (v.f > out->f) - (v.f < out->f);
            else c = (v.i > out->i) - (v.i < out->i);
            if (mx ? c > 0 : c < 0) *out = v;
        }
        return 0;
    }
    if (!strcmp(op, "nunique")) {
        int64_t ng = 0, *first = NULL;
        lask__column *keys[1] = {(lask__column *)a};
        int64_t *ids = lask__group_ids(keys, 1, n, &ng, &first);
        if (!ids) return -1;
        int64_t k = ng;
        for (int64_t g = 0; g < ng; g++) if (!PRESENT(first[g])) k--;
        free(ids); free(first);
        out->type = LASK_COL_INT64; out->i = k;
        return 0;
    }
    if (!is_num(a->type)) {
        lask__frame_seterr("%s needs a numeric column, got %s", op, lask__coltype_name(a->type));
        return -1;
    }
    if (!strcmp(op, "sum") && !isf) {
        int own;
        int64_t *x = as_i64(a, &own), s = 0;
        if (!x) { lask__frame_seterr("out of memory"); return -1; }
        for (int64_t i = 0; i < n; i++) if (PRESENT(i)) s += x[i];
        if (own) free(x);
        out->type = LASK_COL_INT64; out->i = s;
        return 0;
    }
    int own;
    double *x = as_f64(a, &own), s = 0, mean = 0, m2 = 0;
    if (!x) { lask__frame_seterr("out of memory"); return -1; }
    for (int64_t i = 0; i < n; i++) {
        if (!PRESENT(i)) continue;
        cnt++;
        s += x[i];
        double d = x[i] - mean;
        mean += d / (double)cnt;
        m2 += d * (x[i] - mean);
    }
    if (own) free(x);
    #undef PRESENT
    out->type = LASK_COL_FLOAT64;
    if (!strcmp(op, "sum")) out->f = s;
    else if (!strcmp(op, "mean")) { if (!cnt) out->type = -1; else out->f = s / (double)cnt; }
    else if (!strcmp(op, "var") || !strcmp(op, "std")) {
        if (cnt - ddof <= 0) out->type = -1;
        else { out->f = m2 / (double)(cnt - ddof); if (op[0] == 's') out->f = sqrt(out->f); }
    } else {
        lask__frame_seterr("unknown aggregation '%s' (use sum mean count min max std var nunique size first last)", op);
        return -1;
    }
    return 0;
}

int lask__col_cmp(const lask__column *c, int64_t a, int64_t b) {
    switch (c->type) {
    case LASK_COL_FLOAT64: {
        double x = ((double *)c->values)[a], y = ((double *)c->values)[b];
        return (x > y) - (x < y);
    }
    case LASK_COL_BOOL: return ((uint8_t *)c->values)[a] - ((uint8_t *)c->values)[b];
    case LASK_COL_STRING: {
        const int64_t *o = c->values;
        size_t na = (size_t)(o[a + 1] - o[a]), nb = (size_t)(o[b + 1] - o[b]);
        int r = memcmp(c->strdata + o[a], c->strdata + o[b], na < nb ? na : nb);
        return r ? r : (na > nb) - (na < nb);
    }
    default: {
        int64_t x = ((int64_t *)c->values)[a], y = ((int64_t *)c->values)[b];
        return (x > y) - (x < y);
    }
    }
}
