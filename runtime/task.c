/*
 * task.c - immutable, reference-counted task nodes and the depth-first walk
 * over them.
 */
#include <stdlib.h>
#include <string.h>
#include "chunk.h"
#include "task.h"
#include "bigmem.h"

/* A value a node may own: nil, bool, int, float or a non-NULL chunk. */
static int value_ok(const lask_value *v) {
    switch (v->type) {
    case LASK_NIL: case LASK_BOOL: case LASK_INT: case LASK_FLOAT: return 1;
    case LASK_CHUNK: return v->u.c != NULL;
    default: return 0;
    }
}

lask__task *lask__task_new(const char *key, const char *kernel,
                           const lask__targ *args, int32_t nargs) {
    if (!key || nargs < 0 || (nargs > 0 && !args)) return NULL;
    if (!kernel && (nargs != 1 || args[0].kind != LASK__ARG_VALUE)) return NULL;
    /* Check the arguments and size the strings. Lists are well formed when
     * every slot they open is filled: each argument fills one open slot (if
     * any), a list opens n more. */
    size_t strbytes = strlen(key) + 1 + (kernel ? strlen(kernel) + 1 : 0);
    int64_t owed = 0;
    int32_t ntop = 0, ndeps = 0, haslist = 0;
    for (int32_t i = 0; i < nargs; i++) {
        const lask__targ *a = &args[i];
        if (owed > 0) owed--; else ntop++;
        switch (a->kind) {
        case LASK__ARG_VALUE: if (!value_ok(&a->u.value)) return NULL; break;
        case LASK__ARG_DEP: if (!a->u.dep) return NULL; ndeps++; break;
        case LASK__ARG_KEY:
            if (!a->u.key) return NULL;
            strbytes += strlen(a->u.key) + 1;
            ndeps++;
            break;
        case LASK__ARG_LIST:
            if (a->n < 0) return NULL;
            owed += a->n;
            haslist = 1;
            break;
        default: return NULL;
        }
    }
    if (owed != 0) return NULL;

    size_t head = sizeof(lask__task) + (size_t)nargs * sizeof(lask__targ);
    lask__task *t = malloc(head + strbytes);
    if (!t) return NULL;
    char *s = (char *)t + head;
    atomic_init(&t->refs, 1);
    t->next_dead = NULL;
    t->nargs = nargs;
    t->ntop = ntop;
    t->ndeps = ndeps;
    t->haslist = haslist;
    size_t n = strlen(key) + 1;
    memcpy(s, key, n);
    t->key = s;
    s += n;
    t->hash = lask__keyhash(t->key);
    if (kernel) {
        n = strlen(kernel) + 1;
        memcpy(s, kernel, n);
        t->kernel = s;
        s += n;
    } else {
        t->kernel = NULL;
    }
    for (int32_t i = 0; i < nargs; i++) {
        lask__targ *a = &t->args[i];
        *a = args[i];
        if (a->kind == LASK__ARG_VALUE) {
            if (a->u.value.type == LASK_CHUNK) lask_chunk_ref(a->u.value.u.c);
        } else if (a->kind == LASK__ARG_DEP) {
            lask__task_ref(a->u.dep);
        } else if (a->kind == LASK__ARG_KEY) {
            n = strlen(args[i].u.key) + 1;
            memcpy(s, args[i].u.key, n);
            a->u.key = s;
            s += n;
        }
    }
    return t;
}

lask__task *lask__task_ref(lask__task *t) {
    if (t) atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

/* Dead nodes are threaded through next_dead instead of recursing, so a
 * million-long chain goes away in constant stack. */
void lask__task_unref(lask__task *t) {
    if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    t->next_dead = NULL;
    while (t) {
        lask__task *next = t->next_dead;
        for (int32_t i = 0; i < t->nargs; i++) {
            lask__targ *a = &t->args[i];
            if (a->kind == LASK__ARG_VALUE) {
                lask_value_clear(&a->u.value);
            } else if (a->kind == LASK__ARG_DEP &&
                       atomic_fetch_sub_explicit(&a->u.dep->refs, 1,
                                                 memory_order_acq_rel) == 1) {
                a->u.dep->next_dead = next;
                next = a->u.dep;
            }
        }
        free(t);
        t = next;
    }
}

const char *lask__task_key(const lask__task *t) { return t->key; }
const char *lask__task_kernel(const lask__task *t) { return t->kernel; }
int32_t lask__task_nargs(const lask__task *t) { return t->nargs; }
const lask__targ *lask__task_args(const lask__task *t) { return t->args; }

static int value_same(const lask_value *a, const lask_value *b) {
    if (a->type != b->type) return 0;
    switch (a->type) {
    case LASK_NIL: return 1;
    case LASK_BOOL: case LASK_INT: return a->u.i == b->u.i;
    case LASK_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof(double)) == 0;
    case LASK_CHUNK: {
        if (a->u.c == b->u.c) return 1;
        int64_t na, nb;
        const char *pa = lask_bytes_data(a->u.c, &na), *pb = lask_bytes_data(b->u.c, &nb);
        return pa && pb && a->u.c->kind == b->u.c->kind && na == nb &&
               memcmp(pa, pb, (size_t)na) == 0;
    }
    default: return 0;
    }
}

int lask__task_same(const lask__task *a, const lask__task *b) {
    if (a == b) return 1;
    if (strcmp(a->key, b->key) != 0 || a->nargs != b->nargs) return 0;
    if ((a->kernel == NULL) != (b->kernel == NULL)) return 0;
    if (a->kernel && strcmp(a->kernel, b->kernel) != 0) return 0;
    for (int32_t i = 0; i < a->nargs; i++) {
        const lask__targ *x = &a->args[i], *y = &b->args[i];
        if (x->kind != y->kind) return 0;
        switch (x->kind) {
        case LASK__ARG_VALUE: if (!value_same(&x->u.value, &y->u.value)) return 0; break;
        case LASK__ARG_DEP: if (strcmp(x->u.dep->key, y->u.dep->key) != 0) return 0; break;
        case LASK__ARG_KEY: if (strcmp(x->u.key, y->u.key) != 0) return 0; break;
        case LASK__ARG_LIST: if (x->n != y->n) return 0; break;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- walk */

typedef struct frame {
    lask__task *t;
    size_t slot;    /* t's seen slot (until the set grows) */
    int32_t ai;     /* next argument to look at */
    int32_t k;      /* dependency arguments seen so far */
    int64_t base;   /* first edge slot of t */
} frame;

/* The seen set: one probe finds a key or the empty slot it goes in. Node
 * pointers compare first (the common case: one node per key). */
static size_t seen_probe(const lask__dfs *d, const lask__task *t) {
    size_t mask = d->seencap - 1, j = (size_t)t->hash & mask;
    uint32_t h = (uint32_t)t->hash;
    for (;;) {
        const lask__seenslot *s = &d->seen[j];
        if (!s->node || s->node == t ||
            (s->h == h && s->node->hash == t->hash && strcmp(s->node->key, t->key) == 0))
            return j;
        j = (j + 1) & mask;
    }
}

static int seen_grow(lask__dfs *d) {
    size_t cap = d->seencap ? d->seencap * 2 : 1024;
    lask__seenslot *n = lask__big_calloc(cap * sizeof *n), *old = d->seen;
    if (!n) return -1;
    size_t ocap = d->seencap;
    d->seen = n;
    d->seencap = cap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].node) d->seen[seen_probe(d, old[i].node)] = old[i];
    lask__big_free(old);
    return 0;
}

int32_t lask__dfs_id(const lask__dfs *d, const lask__task *t) {
    if (!d->seencap) return -1;
    const lask__seenslot *s = &d->seen[seen_probe(d, t)];
    return s->node ? s->id : -1;
}

void lask__dfs_free(lask__dfs *d) {
    lask__big_free(d->seen);
    lask__big_free(d->order);
    lask__big_free(d->ebase);
    lask__big_free(d->edges);
    lask__big_free(d->stack);
    memset(d, 0, sizeof *d);
}

void lask__dfs_reset(lask__dfs *d) {
    if (d->nseen == 0) return;
    if ((size_t)d->n < d->nseen || d->nseen * 8 > d->seencap) {
        memset(d->seen, 0, d->seencap * sizeof *d->seen);
    } else {
        /* a big table from an earlier run, few entries: find them all
         * first (emptying a slot would cut other probe chains), then clear
         * them; ebase is free by now */
        for (int32_t i = 0; i < d->n; i++) d->ebase[i] = (int64_t)seen_probe(d, d->order[i]);
        for (int32_t i = 0; i < d->n; i++) d->seen[d->ebase[i]].node = NULL;
    }
    d->nseen = 0;
    d->n = 0;
    d->nedges = 0;
}

static int grow_nodes(lask__dfs *d) {
    int32_t cap = d->cap ? d->cap * 2 : 256;
    if (d->cap > INT32_MAX / 2) return -1;
    lask__task **o = lask__big_realloc(d->order, (size_t)cap * sizeof *o);
    if (!o) return -1;
    d->order = o;
    int64_t *e = lask__big_realloc(d->ebase, (size_t)cap * sizeof *e);
    if (!e) return -1;
    d->ebase = e;
    d->cap = cap;
    return 0;
}

static int reserve_edges(lask__dfs *d, int64_t n) {
    if (d->nedges + n <= d->ecap) return 0;
    int64_t cap = d->ecap ? d->ecap : 1024;
    while (cap < d->nedges + n) cap *= 2;
    int32_t *e = lask__big_realloc(d->edges, (size_t)cap * sizeof *e);
    if (!e) return -1;
    d->edges = e;
    d->ecap = cap;
    return 0;
}

/* Put t on the stack (grey) in the empty seen slot j found for it. */
static int32_t push(lask__dfs *d, frame **stack, int64_t *sn, lask__task *t, size_t j) {
    d->seen[j] = (lask__seenslot){t, -1, (uint32_t)t->hash};
    d->nseen++;
    if (*sn == d->scap) {
        int64_t cap = d->scap ? d->scap * 2 : 64;
        frame *s = lask__big_realloc(*stack, (size_t)cap * sizeof *s);
        if (!s) return LASK_ENOMEM;
        *stack = s;
        d->stack = s;
        d->scap = cap;
    }
    if (reserve_edges(d, t->ndeps) != 0) return LASK_ENOMEM;
    (*stack)[(*sn)++] = (frame){t, j, 0, 0, d->nedges};
    d->nedges += t->ndeps;
    return LASK_OK;
}

int32_t lask__dfs_run(lask__dfs *d, lask__task *const *outs, int32_t nouts,
                      const lask_graph *g, int strict) {
    d->n = 0;
    d->nedges = 0;
    d->err_key = d->err_from = NULL;
    frame *stack = d->stack;
    int64_t sn = 0;
    int32_t st = LASK_OK;
    /* size the set for the whole graph when we know it */
    size_t want = 1024;
    while (g && want / 2 < (size_t)lask_graph_size(g) + 16) want *= 2;
    while (d->seencap < want)
        if (seen_grow(d) != 0) return LASK_ENOMEM;
    for (int32_t o = 0; o < nouts && st == LASK_OK; o++) {
        if (d->nseen + 1 > d->seencap / 2 && seen_grow(d) != 0) { st = LASK_ENOMEM; break; }
        size_t j = seen_probe(d, outs[o]);
        if (d->seen[j].node) continue;
        if ((st = push(d, &stack, &sn, outs[o], j)) != LASK_OK) break;
        while (sn > 0) {
            frame *f = &stack[sn - 1];
            lask__task *t = f->t;
            lask__task *child = NULL;
            size_t cslot = 0;
            /* find the next dependency of t not yet done */
            while (f->ai < t->nargs) {
                const lask__targ *a = &t->args[f->ai];
                if (a->kind == LASK__ARG_DEP) {
                    child = a->u.dep;
                } else if (a->kind == LASK__ARG_KEY) {
                    child = strict ? lask__graph_find(g, a->u.key, lask__keyhash(a->u.key)) : NULL;
                    if (!child && strict) {
                        d->err_key = a->u.key;
                        d->err_from = t->key;
                        st = LASK_ENOKEY;
                        goto out;
                    }
                } else {
                    f->ai++;
                    continue;
                }
                int32_t cid = -1;
                if (child) {
                    if (d->nseen + 1 > d->seencap / 2) {
                        if (seen_grow(d) != 0) { st = LASK_ENOMEM; goto out; }
                        for (int64_t i = 0; i < sn; i++) stack[i].slot = seen_probe(d, stack[i].t);
                    }
                    cslot = seen_probe(d, child);
                    lask__seenslot *s = &d->seen[cslot];
                    if (!s->node) break;       /* descend into child */
                    if (s->id < 0 && strict) {
                        d->err_key = child->key;
                        d->err_from = t->key;
                        st = LASK_ECYCLE;
                        goto out;
                    }
                    cid = s->id;
                }
                d->edges[f->base + f->k++] = cid;
                f->ai++;
                child = NULL;
            }
            if (child) {
                if ((st = push(d, &stack, &sn, child, cslot)) != LASK_OK) goto out;
                continue;
            }
            /* all dependencies done: t gets the next id */
            if (d->n == d->cap && grow_nodes(d) != 0) { st = LASK_ENOMEM; goto out; }
            int32_t id = d->n++;
            d->order[id] = t;
            d->ebase[id] = f->base;
            d->seen[f->slot].id = id;
            sn--;
            if (sn > 0) {
                frame *p = &stack[sn - 1];
                d->edges[p->base + p->k++] = id;
                p->ai++;
            }
        }
    }
out:
    if (st != LASK_OK && d->seen) {
        /* grey nodes are only on the stack: simply wipe the set */
        memset(d->seen, 0, d->seencap * sizeof *d->seen);
        d->nseen = 0;
    }
    return st;
}

int64_t lask__tasks_count(lask__task *const *outs, int32_t nouts) {
    lask__dfs d;
    memset(&d, 0, sizeof d);
    int32_t st = lask__dfs_run(&d, outs, nouts, NULL, 0);
    int64_t n = st == LASK_OK ? d.n : -1;
    lask__dfs_free(&d);
    return n;
}

int lask__tasks_walk(lask__task *const *outs, int32_t nouts,
                     lask__visit_fn fn, void *ud) {
    lask__dfs d;
    memset(&d, 0, sizeof d);
    int32_t st = lask__dfs_run(&d, outs, nouts, NULL, 0);
    int r = 0;
    if (st != LASK_OK) r = -LASK_ENOMEM;
    for (int32_t i = 0; st == LASK_OK && i < d.n && r == 0; i++) r = fn(d.order[i], ud);
    lask__dfs_free(&d);
    return r;
}
