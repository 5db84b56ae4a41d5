/*
 * keymap.h - an open-addressing hash map from C strings to integers.
 *
 * The runtime's one map: kernel names, graph keys, and the dedup set used
 * while freezing a graph. Keys are borrowed (the caller keeps them alive);
 * values are intptr_t so they can hold an id or a pointer.
 */
#ifndef LASK_KEYMAP_H
#define LASK_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct lask__kmslot {
    uint64_t hash;       /* 0: empty slot (real hashes are forced non-zero) */
    const char *key;
    intptr_t val;
} lask__kmslot;

typedef struct lask__keymap {
    lask__kmslot *slots;
    size_t cap;          /* a power of two, or 0 */
    size_t count;
} lask__keymap;

uint64_t lask__keyhash(const char *key);
void lask__keymap_init(lask__keymap *m);
void lask__keymap_free(lask__keymap *m);
/* Room for n entries without growing; 0 or -1 when out of memory. */
int lask__keymap_reserve(lask__keymap *m, size_t n);
/* The slot holding key (hash from lask__keyhash), or NULL. */
lask__kmslot *lask__keymap_find(const lask__keymap *m, const char *key, uint64_t hash);
/* The slot for key, inserting it with val when absent (*added = 1). NULL
 * when out of memory. The pointer is valid until the next insertion. */
lask__kmslot *lask__keymap_put(lask__keymap *m, const char *key, uint64_t hash,
                               intptr_t val, int *added);

#endif
