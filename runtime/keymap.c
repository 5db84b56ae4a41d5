/* keymap.c - string -> intptr_t map with linear probing (no deletions). */
#include <stdlib.h>
#include <string.h>
#include "keymap.h"
#include "chunk.h"
#include "bigmem.h"

uint64_t lask__keyhash(const char *key) {
    uint64_t h = lask__hash(key, strlen(key), 0x6c61736bULL);
    return h ? h : 1;
}

void lask__keymap_init(lask__keymap *m) {
    m->slots = NULL;
    m->cap = m->count = 0;
}

void lask__keymap_free(lask__keymap *m) {
    lask__big_free(m->slots);
    lask__keymap_init(m);
}

static int rehash(lask__keymap *m, size_t cap) {
    lask__kmslot *s = lask__big_calloc(cap * sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        lask__kmslot *o = &m->slots[i];
        if (!o->hash) continue;
        size_t j = (size_t)o->hash & (cap - 1);
        while (s[j].hash) j = (j + 1) & (cap - 1);
        s[j] = *o;
    }
    lask__big_free(m->slots);
    m->slots = s;
    m->cap = cap;
    return 0;
}

int lask__keymap_reserve(lask__keymap *m, size_t n) {
    /* keep the load under 1/2 so probes stay short */
    size_t cap = m->cap ? m->cap : 16;
    while (cap / 2 < n) {
        if (cap > SIZE_MAX / 4) return -1;
        cap *= 2;
    }
    return cap == m->cap ? 0 : rehash(m, cap);
}

lask__kmslot *lask__keymap_find(const lask__keymap *m, const char *key, uint64_t hash) {
    if (!m->cap) return NULL;
    size_t j = (size_t)hash & (m->cap - 1);
    for (;;) {
        lask__kmslot *s = &m->slots[j];
        if (!s->hash) return NULL;
        if (s->hash == hash && (s->key == key || strcmp(s->key, key) == 0)) return s;
        j = (j + 1) & (m->cap - 1);
    }
}

lask__kmslot *lask__keymap_put(lask__keymap *m, const char *key, uint64_t hash,
                               intptr_t val, int *added) {
    *added = 0;
    lask__kmslot *s = lask__keymap_find(m, key, hash);
    if (s) return s;
    if (lask__keymap_reserve(m, m->count + 1) != 0) return NULL;
    size_t j = (size_t)hash & (m->cap - 1);
    while (m->slots[j].hash) j = (j + 1) & (m->cap - 1);
    s = &m->slots[j];
    s->hash = hash;
    s->key = key;
    s->val = val;
    m->count++;
    *added = 1;
    return s;
}
