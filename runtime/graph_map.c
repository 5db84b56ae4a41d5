/*
 * graph_map.c - the public lask_graph: a map from key to task node whose
 * arguments name other keys. Names are resolved only when computing, so
 * tasks may be added in any order.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "task.h"

struct lask_graph {
    lask__keymap map;   /* key -> lask__task* (one reference each) */
    char err[512];
};

static int32_t fail(lask_graph *g, int32_t st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    return st;
}

lask_graph *lask_graph_new(void) {
    lask_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    lask__keymap_init(&g->map);
    strcpy(g->err, "no error");
    return g;
}

void lask_graph_free(lask_graph *g) {
    if (!g) return;
    for (size_t i = 0; i < g->map.cap; i++)
        if (g->map.slots[i].hash) lask__task_unref((lask__task *)g->map.slots[i].val);
    lask__keymap_free(&g->map);
    free(g);
}

int64_t lask_graph_size(const lask_graph *g) { return g ? (int64_t)g->map.count : 0; }
const char *lask_graph_error(const lask_graph *g) { return g ? g->err : "no graph"; }

lask__task *lask__graph_find(const lask_graph *g, const char *key, uint64_t hash) {
    if (!g) return NULL;
    lask__kmslot *s = lask__keymap_find(&g->map, key, hash);
    return s ? (lask__task *)s->val : NULL;
}

/* Insert t (taking over the caller's reference). The same key twice is
 * fine when the work is the same. */
static int32_t insert(lask_graph *g, lask__task *t) {
    int added;
    lask__kmslot *s = lask__keymap_put(&g->map, lask__task_key(t), t->hash,
                                       (intptr_t)t, &added);
    if (!s) {
        fail(g, LASK_ENOMEM, "out of memory adding task '%s'", t->key);
        lask__task_unref(t);
        return LASK_ENOMEM;
    }
    if (added) return LASK_OK;
    int32_t st = LASK_OK;
    if (!lask__task_same((lask__task *)s->val, t))
        st = fail(g, LASK_EDUPKEY, "key '%s' was added twice with different work", t->key);
    lask__task_unref(t);
    return st;
}

int32_t lask_graph_add(lask_graph *g, const char *key, const char *kernel,
                       const lask_arg *args, int32_t nargs) {
    if (!g) return LASK_EINVAL;
    if (!key) return fail(g, LASK_EINVAL, "lask_graph_add: key is NULL");
    if (!kernel) return fail(g, LASK_EINVAL, "task '%s': kernel name is NULL", key);
    if (nargs < 0 || (nargs > 0 && !args))
        return fail(g, LASK_EINVAL, "task '%s': bad argument count %d", key, (int)nargs);
    lask__targ small[16];
    lask__targ *ta = nargs <= 16 ? small : malloc((size_t)nargs * sizeof *ta);
    if (!ta) return fail(g, LASK_ENOMEM, "out of memory adding task '%s'", key);
    int32_t st = LASK_OK;
    int64_t owed = 0;
    for (int32_t i = 0; i < nargs && st == LASK_OK; i++) {
        const lask_arg *a = &args[i];
        memset(&ta[i], 0, sizeof ta[i]);
        if (owed > 0) owed--;
        switch (a->kind) {
        case LASK_ARG_VALUE:
            if (a->value.type < LASK_NIL || a->value.type > LASK_CHUNK ||
                (a->value.type == LASK_CHUNK && !a->value.u.c))
                st = fail(g, LASK_EINVAL, "task '%s': argument %d holds a bad value (type %d)",
                          key, (int)i + 1, (int)a->value.type);
            ta[i].kind = LASK__ARG_VALUE;
            ta[i].u.value = a->value;
            break;
        case LASK_ARG_KEY:
            if (!a->key)
                st = fail(g, LASK_EINVAL, "task '%s': argument %d names a NULL key", key, (int)i + 1);
            ta[i].kind = LASK__ARG_KEY;
            ta[i].u.key = a->key;
            break;
        case LASK_ARG_LIST:
            if (a->n < 0)
                st = fail(g, LASK_EINVAL, "task '%s': argument %d is a list of %d items",
                          key, (int)i + 1, (int)a->n);
            ta[i].kind = LASK__ARG_LIST;
            ta[i].n = a->n;
            owed += a->n;
            break;
        default:
            st = fail(g, LASK_EINVAL, "task '%s': argument %d has unknown kind %d",
                      key, (int)i + 1, (int)a->kind);
        }
    }
    if (st == LASK_OK && owed > 0)
        st = fail(g, LASK_EINVAL, "task '%s': a list argument wants %lld more items than given",
                  key, (long long)owed);
    if (st == LASK_OK) {
        lask__task *t = lask__task_new(key, kernel, ta, nargs);
        st = t ? insert(g, t) : fail(g, LASK_ENOMEM, "out of memory adding task '%s'", key);
    }
    if (ta != small) free(ta);
    return st;
}

int32_t lask_graph_add_value(lask_graph *g, const char *key, lask_value value) {
    if (!g) return LASK_EINVAL;
    if (!key) return fail(g, LASK_EINVAL, "lask_graph_add_value: key is NULL");
    if (value.type < LASK_NIL || value.type > LASK_CHUNK ||
        (value.type == LASK_CHUNK && !value.u.c))
        return fail(g, LASK_EINVAL, "value '%s': bad value (type %d)", key, (int)value.type);
    lask__targ a;
    memset(&a, 0, sizeof a);
    a.kind = LASK__ARG_VALUE;
    a.u.value = value;
    lask__task *t = lask__task_new(key, NULL, &a, 1);
    if (!t) return fail(g, LASK_ENOMEM, "out of memory adding value '%s'", key);
    return insert(g, t);
}
