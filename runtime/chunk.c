/* chunk.c - reference counting and the simple chunk kinds. */
#include <stdlib.h>
#include <string.h>
#include "chunk.h"

void lask__chunk_init(lask_chunk *c, int32_t kind, int64_t nbytes,
                      void (*destroy)(lask_chunk *)) {
    atomic_init(&c->refs, 1);
    c->kind = kind;
    c->nbytes = nbytes;
    c->destroy = destroy;
}

lask_chunk *lask_chunk_ref(lask_chunk *c) {
    if (c) atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void lask_chunk_unref(lask_chunk *c) {
    if (!c) return;
    /* acq_rel: the last owner must see every write made before the others
     * let go, then it may free. */
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        c->destroy(c);
}

int32_t lask_chunk_kind(const lask_chunk *c) { return c ? c->kind : -1; }
int64_t lask_chunk_nbytes(const lask_chunk *c) { return c ? c->nbytes : 0; }

void lask_value_clear(lask_value *v) {
    if (!v) return;
    if (v->type == LASK_CHUNK) lask_chunk_unref(v->u.c);
    v->type = LASK_NIL;
    v->len = 0;
    v->u.i = 0;
}

/* ---- bytes */

static void bytes_destroy(lask_chunk *c) { free(c); }

lask__bytes *lask__bytes_alloc(int32_t kind, int64_t n) {
    if (n < 0 || (uint64_t)n > SIZE_MAX - sizeof(lask__bytes) - 1) return NULL;
    lask__bytes *b = malloc(sizeof *b + (size_t)n + 1);
    if (!b) return NULL;
    lask__chunk_init(&b->h, kind, n, bytes_destroy);
    b->n = n;
    b->hash = 0;
    b->data[n] = '\0';
    return b;
}

lask_chunk *lask_bytes_new(const void *data, int64_t n) {
    lask__bytes *b = lask__bytes_alloc(LASK_KIND_BYTES, n);
    if (!b) return NULL;
    if (n) memcpy(b->data, data, (size_t)n);
    return &b->h;
}

const char *lask_bytes_data(const lask_chunk *c, int64_t *n) {
    if (!c || (c->kind != LASK_KIND_BYTES && c->kind != LASK_KIND_ENCODED)) {
        if (n) *n = 0;
        return NULL;
    }
    const lask__bytes *b = (const lask__bytes *)c;
    if (n) *n = b->n;
    return b->data;
}

/* ---- host */

static void host_destroy(lask_chunk *c) {
    lask__host *h = (lask__host *)c;
    if (h->free_fn) h->free_fn(h->ptr);
    free(h);
}

lask_chunk *lask_host_new(void *ptr, int64_t nbytes, void (*free_fn)(void *)) {
    lask__host *h = malloc(sizeof *h);
    if (!h) return NULL;
    lask__chunk_init(&h->h, LASK_KIND_HOST, nbytes, host_destroy);
    h->ptr = ptr;
    h->free_fn = free_fn;
    return &h->h;
}

void *lask_host_ptr(const lask_chunk *c) {
    return c && c->kind == LASK_KIND_HOST ? ((const lask__host *)c)->ptr : NULL;
}

/* ---- hashing */

uint64_t lask__hash(const void *p, size_t n, uint64_t seed) {
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL ^ seed;
    size_t i = 0;
    /* eight bytes at a time keeps tokenizing large literals cheap */
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}
