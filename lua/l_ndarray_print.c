/* l_ndarray_print.c - tostring of local arrays, in NumPy's layout:
 *
 *   array([[1., 2.],
 *          [3., 4.]])
 *
 * Arrays of more than 1000 elements show three entries at each end of every
 * axis with "..." between; the dtype is named unless it is a default one
 * (float64, int64, bool). */
#include <lauxlib.h>
#include <stdio.h>
#include <math.h>
#include <string.h>
#include "l_ndarray.h"

#define EDGE 3

/* Floats print as NumPy's default: fixed point with at most 8 decimals,
 * each value with as few as it needs, padded on the right so the decimal
 * points line up; scientific when the magnitudes are very small, very large
 * or far apart. */
typedef struct fmode {
    int sci;           /* scientific notation */
    int dec;           /* decimals (fixed) or mantissa digits (sci) to pad to */
} fmode;

static int trimmed_decimals(double v, int sci) {
    char buf[64];
    snprintf(buf, sizeof buf, sci ? "%.8e" : "%.8f", v);
    char *dot = strchr(buf, '.');
    if (!dot) return 0;
    char *end = sci ? strchr(buf, 'e') : buf + strlen(buf);
    int n = (int)(end - dot - 1);
    while (n > 0 && dot[n] == '0') n--;
    return n;
}

static int fmt(char *buf, size_t n, const char *p, int32_t dt, const fmode *m) {
    if (dt == LASK_BOOL8) return snprintf(buf, n, "%s", *p ? "true" : "false");
    if (!lask__dtype_isfloat(dt)) return snprintf(buf, n, "%lld", (long long)lask__nd_geti(p, dt));
    double v = lask__nd_getd(p, dt);
    if (v != v) return snprintf(buf, n, "%*s", m->sci ? 0 : 0, "nan");
    if (isinf(v)) return snprintf(buf, n, "%s", v < 0 ? "-inf" : "inf");
    if (m->sci) return snprintf(buf, n, "%.*e", m->dec, v);
    int d = trimmed_decimals(v, 0);
    int k = snprintf(buf, n, "%.*f", d, v);
    if (d == 0 && k + 1 < (int)n) { buf[k++] = '.'; buf[k] = 0; }
    while (d < m->dec && k + 1 < (int)n) { buf[k++] = ' '; buf[k] = 0; d++; }
    return k;
}

typedef struct pctx {
    const lask__ndarray *a;
    int summarize, width, indent;
    luaL_Buffer *b;   /* NULL: measuring pass */
    fmode m;
    int scan;         /* scanning pass: magnitudes and decimals */
    double maxabs, minabs;
} pctx;

static void visit(pctx *c, int d, const char *p) {
    const lask__ndarray *a = c->a;
    char buf[64];
    if (d == a->ndim) {
        if (c->scan) {
            if (lask__dtype_isfloat(a->dtype)) {
                double v = fabs(lask__nd_getd(p, a->dtype));
                if (isfinite(v)) {
                    if (v > c->maxabs) c->maxabs = v;
                    if (v > 0 && v < c->minabs) c->minabs = v;
                    int k = trimmed_decimals(lask__nd_getd(p, a->dtype), c->m.sci);
                    if (k > c->m.dec) c->m.dec = k;
                }
            }
            return;
        }
        int k = fmt(buf, sizeof buf, p, a->dtype, &c->m);
        if (!c->b) { if (k > c->width) c->width = k; return; }
        for (int i = k; i < c->width; i++) luaL_addchar(c->b, ' ');
        luaL_addstring(c->b, buf);
        return;
    }
    int64_t n = a->shape[d];
    int cut = c->summarize && n > 2 * EDGE;
    if (c->b) luaL_addchar(c->b, '[');
    for (int64_t i = 0; i < n; i++) {
        if (cut && i == EDGE) {
            if (c->b) {
                luaL_addstring(c->b, d == a->ndim - 1 ? "..., " : "...,\n");
                if (d < a->ndim - 1)
                    for (int s = 0; s < c->indent + d + 1; s++) luaL_addchar(c->b, ' ');
            }
            i = n - EDGE;
        }
        visit(c, d + 1, p + i * a->strides[d]);
        if (c->b && i < n - 1) {
            if (d == a->ndim - 1) luaL_addstring(c->b, ", ");
            else {
                luaL_addchar(c->b, ',');
                for (int s = 0; s < a->ndim - 1 - d; s++) luaL_addchar(c->b, '\n');
                for (int s = 0; s < c->indent + d + 1; s++) luaL_addchar(c->b, ' ');
            }
        }
    }
    if (c->b) luaL_addchar(c->b, ']');
}

void lask__nd_tostring(lua_State *L, const lask__ndarray *a) {
    luaL_Buffer b;
    pctx c = {a, a->size > 1000, 0, 6, NULL, {0, 0}, 1, 0, INFINITY};
    int empty = a->size == 0;
    if (!empty && lask__dtype_isfloat(a->dtype)) {
        visit(&c, 0, a->data);
        if (c.maxabs >= 1e8 || (c.minabs < 1e-4 && c.minabs > 0) ||
            (c.minabs > 0 && c.maxabs / c.minabs > 1e3)) {
            c.m.sci = 1;
            c.m.dec = 0;
            visit(&c, 0, a->data);   /* mantissa digits */
        }
    }
    c.scan = 0;
    if (!empty) visit(&c, 0, a->data);
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "array(");
    if (empty) {
        for (int i = 0; i < a->ndim; i++) luaL_addchar(&b, '[');
        for (int i = 0; i < a->ndim; i++) luaL_addchar(&b, ']');
    } else {
        c.b = &b;
        visit(&c, 0, a->data);
    }
    int def = a->dtype == LASK_F64 || a->dtype == LASK_I64 || a->dtype == LASK_BOOL8;
    if (!def || empty) {
        char sh[256];
        if (empty) {
            luaL_addstring(&b, ", shape=");
            luaL_addstring(&b, lask__shape_str(a->ndim, a->shape, sh, sizeof sh));
        }
        luaL_addstring(&b, ", dtype=");
        luaL_addstring(&b, lask__dtype_name(a->dtype));
    }
    luaL_addchar(&b, ')');
    luaL_pushresult(&b);
}
