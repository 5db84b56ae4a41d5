/*
 * runtime.c - the runtime object: error messages, the kernel registry,
 * worker hooks, interrupts and the kernel context accessors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine.h"

const char *lask_status_string(int32_t status) {
    switch (status) {
    case LASK_OK: return "ok";
    case LASK_EINVAL: return "bad argument";
    case LASK_ENOMEM: return "out of memory";
    case LASK_ENOKEY: return "missing key";
    case LASK_ECYCLE: return "dependency cycle";
    case LASK_ETASK: return "task failed";
    case LASK_EINTR: return "interrupted";
    case LASK_ENOKERNEL: return "unknown kernel";
    case LASK_EDUPKEY: return "duplicate key";
    case LASK_EIO: return "input/output error";
    case LASK_EFORMAT: return "malformed data";
    default: return "unknown status";
    }
}

lask_runtime *lask_runtime_new(int32_t nthreads) {
    if (nthreads < 0) return NULL;
    if (nthreads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = n > 0 ? (n > 1024 ? 1024 : (int32_t)n) : 1;
    }
    lask_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) return NULL;
    rt->nthreads = nthreads;
    atomic_init(&rt->interrupt, 0);
    lask__keymap_init(&rt->kernel_index);
    strcpy(rt->err, "no error");
    if (pthread_mutex_init(&rt->lock, NULL) != 0) { free(rt); return NULL; }
    if (pthread_mutex_init(&rt->compute_lock, NULL) != 0) {
        pthread_mutex_destroy(&rt->lock);
        free(rt);
        return NULL;
    }
    if (lask__register_builtins(rt) != LASK_OK) {
        lask_runtime_free(rt);
        return NULL;
    }
    return rt;
}

void lask_runtime_free(lask_runtime *rt) {
    if (!rt) return;
    lask__pool_stop(rt);
    while (rt->spare) {
        lask__work *w = rt->spare;
        rt->spare = w->next;
        lask__work_free(w);
    }
    for (int32_t i = 0; i < rt->nkernels; i++) free(rt->kernels[i].name);
    free(rt->kernels);
    lask__keymap_free(&rt->kernel_index);
    pthread_mutex_destroy(&rt->compute_lock);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

int32_t lask_runtime_nthreads(const lask_runtime *rt) { return rt ? rt->nthreads : 0; }

const char *lask_runtime_error(const lask_runtime *rt) { return rt ? rt->err : "no runtime"; }

int32_t lask__rt_fail(lask_runtime *rt, int32_t st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&rt->lock);
    vsnprintf(rt->err, sizeof rt->err, fmt, ap);
    pthread_mutex_unlock(&rt->lock);
    va_end(ap);
    return st;
}

/* Only a lock-free atomic store: async-signal-safe. */
void lask_runtime_interrupt(lask_runtime *rt) {
    if (rt) atomic_store_explicit(&rt->interrupt, 1, memory_order_relaxed);
}

int32_t lask_runtime_set_worker_hooks(lask_runtime *rt, lask_worker_init_fn init,
                                      lask_worker_fini_fn fini, void *ud) {
    if (!rt) return LASK_EINVAL;
    pthread_mutex_lock(&rt->lock);
    int started = rt->pool_started;
    if (!started) {
        rt->init = init;
        rt->fini = fini;
        rt->hook_ud = ud;
    }
    pthread_mutex_unlock(&rt->lock);
    if (started)
        return lask__rt_fail(rt, LASK_EINVAL,
                             "worker hooks must be set before the first threaded compute");
    return LASK_OK;
}

/* ---------------------------------------------------------------- kernels */

int32_t lask_register_kernel(lask_runtime *rt, const char *name,
                             lask_kernel_fn fn, void *ud) {
    if (!rt) return LASK_EINVAL;
    if (!name || !fn)
        return lask__rt_fail(rt, LASK_EINVAL, "lask_register_kernel: %s is NULL",
                             name ? "fn" : "name");
    int32_t st = LASK_OK;
    pthread_mutex_lock(&rt->lock);
    uint64_t h = lask__keyhash(name);
    lask__kmslot *s = lask__keymap_find(&rt->kernel_index, name, h);
    if (s) {
        rt->kernels[s->val].fn = fn;
        rt->kernels[s->val].ud = ud;
    } else {
        char *copy = strdup(name);
        if (rt->nkernels == rt->kcap) {
            int32_t cap = rt->kcap ? rt->kcap * 2 : 32;
            lask__kernel *k = realloc(rt->kernels, (size_t)cap * sizeof *k);
            if (k) { rt->kernels = k; rt->kcap = cap; }
        }
        int added;
        if (!copy || rt->nkernels == rt->kcap ||
            !lask__keymap_put(&rt->kernel_index, copy, h, rt->nkernels, &added)) {
            free(copy);
            st = LASK_ENOMEM;
        } else {
            rt->kernels[rt->nkernels++] = (lask__kernel){fn, ud, copy};
        }
    }
    pthread_mutex_unlock(&rt->lock);
    if (st != LASK_OK)
        lask__rt_fail(rt, st, "out of memory registering kernel '%s'", name);
    return st;
}

int lask__rt_kernel(lask_runtime *rt, const char *name, lask_kernel_fn *fn, void **ud) {
    pthread_mutex_lock(&rt->lock);
    lask__kmslot *s = lask__keymap_find(&rt->kernel_index, name, lask__keyhash(name));
    if (s) {
        *fn = rt->kernels[s->val].fn;
        *ud = rt->kernels[s->val].ud;
    }
    pthread_mutex_unlock(&rt->lock);
    return s ? 0 : -1;
}

/* ---------------------------------------------------------------- context */

int32_t lask_ctx_error(lask_ctx *ctx, const char *msg) {
    if (!ctx) return LASK_ETASK;
    free(ctx->msg);
    ctx->msg = strdup(msg ? msg : "(no message)");
    ctx->msg_oom = ctx->msg == NULL;
    return LASK_ETASK;
}

const char *lask_ctx_key(const lask_ctx *ctx) { return ctx ? ctx->key : NULL; }
int32_t lask_ctx_worker(const lask_ctx *ctx) { return ctx ? ctx->worker : -1; }
void *lask_ctx_worker_data(const lask_ctx *ctx) { return ctx ? ctx->wdata : NULL; }
lask_runtime *lask_ctx_runtime(const lask_ctx *ctx) { return ctx ? ctx->rt : NULL; }
