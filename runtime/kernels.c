/*
 * kernels.c - the kernels every runtime has: small, value-level helpers
 * that make graphs testable without any host (noop, identity, add/sum, len,
 * error).
 */
#include <stdio.h>
#include <string.h>
#include "engine.h"

/* Copy a borrowed value into *out, taking a chunk reference. */
static void keep_value(const lask_value *v, lask_value *out) {
    *out = *v;
    if (v->type == LASK_CHUNK) lask_chunk_ref(v->u.c);
}

/* noop(...): nil, or its first argument (lists give nil). */
static int32_t k_noop(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                      lask_value *out, void *ud) {
    (void)ctx; (void)ud;
    if (nargs > 0 && args[0].type != LASK_LIST) keep_value(&args[0], out);
    return LASK_OK;
}

/* identity(x): x. */
static int32_t k_identity(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                          lask_value *out, void *ud) {
    (void)ud;
    if (nargs != 1) return lask_ctx_error(ctx, "identity takes exactly one argument");
    if (args[0].type == LASK_LIST) return lask_ctx_error(ctx, "identity cannot return a list");
    keep_value(&args[0], out);
    return LASK_OK;
}

typedef struct acc {
    int64_t i;
    double f;
    int isfloat;
} acc;

/* Lists nest; 64 levels is far more than any real graph builds. */
static int32_t add_all(lask_ctx *ctx, const lask_value *v, int32_t n, acc *a, int depth) {
    char msg[96];
    if (depth > 64) return lask_ctx_error(ctx, "sum: lists nested too deeply");
    for (int32_t i = 0; i < n; i++) {
        switch (v[i].type) {
        case LASK_INT:
            /* integers wrap like Lua's */
            a->i = (int64_t)((uint64_t)a->i + (uint64_t)v[i].u.i);
            break;
        case LASK_FLOAT:
            a->f += v[i].u.f;
            a->isfloat = 1;
            break;
        case LASK_LIST: {
            int32_t st = add_all(ctx, v[i].u.items, v[i].len, a, depth + 1);
            if (st != LASK_OK) return st;
            break;
        }
        default:
            snprintf(msg, sizeof msg, "sum: item %d is not a number (type %d)",
                     (int)i + 1, (int)v[i].type);
            return lask_ctx_error(ctx, msg);
        }
    }
    return LASK_OK;
}

/* add(...)/sum(...): the sum of numbers, lists flattened; integers stay
 * integers unless a float joins in. */
static int32_t k_sum(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                     lask_value *out, void *ud) {
    (void)ud;
    acc a = {0, 0.0, 0};
    int32_t st = add_all(ctx, args, nargs, &a, 0);
    if (st != LASK_OK) return st;
    if (a.isfloat) {
        out->type = LASK_FLOAT;
        out->u.f = a.f + (double)a.i;
    } else {
        out->type = LASK_INT;
        out->u.i = a.i;
    }
    return LASK_OK;
}

/* len(list) or len(...): the number of items. */
static int32_t k_len(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                     lask_value *out, void *ud) {
    (void)ctx; (void)ud;
    out->type = LASK_INT;
    out->u.i = nargs == 1 && args[0].type == LASK_LIST ? args[0].len : nargs;
    return LASK_OK;
}

/* error(msg): always fails with msg (a bytes chunk). */
static int32_t k_error(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                       lask_value *out, void *ud) {
    (void)out; (void)ud;
    const char *m = nargs > 0 && args[0].type == LASK_CHUNK ? lask_bytes_data(args[0].u.c, NULL) : NULL;
    return lask_ctx_error(ctx, m ? m : "error kernel called");
}

int32_t lask__register_builtins(lask_runtime *rt) {
    static const struct { const char *name; lask_kernel_fn fn; } k[] = {
        {"noop", k_noop}, {"identity", k_identity}, {"add", k_sum},
        {"sum", k_sum}, {"len", k_len}, {"error", k_error},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        int32_t st = lask_register_kernel(rt, k[i].name, k[i].fn, NULL);
        if (st != LASK_OK) return st;
    }
    return LASK_OK;
}
