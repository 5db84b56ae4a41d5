/*
 * kernels.c - a few native kernels on scalars that the bridge registers on
 * every runtime it creates: cheap building blocks for tree reductions
 * written in Lua, and the native side of bench/task_overhead.lua.
 *
 *   lask.noop(...)   -> its first argument (nil without one)
 *   lask.inc(x)      -> x + 1 (integer or float)
 *   lask.sum(...)    -> the sum of its numeric arguments; list arguments
 *                       are summed item by item (integers stay integers)
 */
#include "lcore.h"

static int32_t k_noop(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                      lask_value *out, void *ud) {
    (void)ud;
    if (nargs < 1) return LASK_OK;
    if (args[0].type == LASK_LIST) return lask_ctx_error(ctx, "lask.noop: cannot return a list");
    *out = args[0];
    if (out->type == LASK_CHUNK) lask_chunk_ref(out->u.c);
    return LASK_OK;
}

static int32_t k_inc(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                     lask_value *out, void *ud) {
    (void)ud;
    if (nargs != 1) return lask_ctx_error(ctx, "lask.inc: expected one number");
    if (args[0].type == LASK_INT) { out->type = LASK_INT; out->u.i = (int64_t)((uint64_t)args[0].u.i + 1); }
    else if (args[0].type == LASK_FLOAT) { out->type = LASK_FLOAT; out->u.f = args[0].u.f + 1; }
    else return lask_ctx_error(ctx, "lask.inc: expected a number");
    return LASK_OK;
}

/* Add v into (isum, fsum, isfloat); 0 when v is not numeric. */
static int add_value(const lask_value *v, int64_t *is, double *fs, int *fl, int depth) {
    switch (v->type) {
    case LASK_INT: *is = (int64_t)((uint64_t)*is + (uint64_t)v->u.i); return 1;
    case LASK_FLOAT: *fs += v->u.f; *fl = 1; return 1;
    case LASK_LIST:
        if (depth > 64) return 0;
        for (int32_t i = 0; i < v->len; i++)
            if (!add_value(&v->u.items[i], is, fs, fl, depth + 1)) return 0;
        return 1;
    default: return 0;
    }
}

static int32_t k_sum(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                     lask_value *out, void *ud) {
    (void)ud;
    int64_t is = 0;
    double fs = 0;
    int fl = 0;
    for (int32_t i = 0; i < nargs; i++)
        if (!add_value(&args[i], &is, &fs, &fl, 0))
            return lask_ctx_error(ctx, "lask.sum: arguments must be numbers or lists of numbers");
    if (fl) { out->type = LASK_FLOAT; out->u.f = fs + (double)is; }
    else { out->type = LASK_INT; out->u.i = is; }
    return LASK_OK;
}

int32_t lask__register_basic_kernels(lask_runtime *rt) {
    int32_t st = lask_register_kernel(rt, "lask.noop", k_noop, NULL);
    if (st == LASK_OK) st = lask_register_kernel(rt, "lask.inc", k_inc, NULL);
    if (st == LASK_OK) st = lask_register_kernel(rt, "lask.sum", k_sum, NULL);
    return st;
}
