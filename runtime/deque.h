/*
 * deque.h - a work-stealing deque of task ids (Chase and Lev, 2005, with
 * the C11 orderings of Le et al., 2013). The owner pushes and takes at the
 * bottom (newest first: depth-first, cache-warm); thieves steal at the top
 * (oldest first: the biggest remaining pieces of work).
 *
 * The operations that decide who gets the last item (the owner's bottom
 * store and the top CAS on both sides) are seq_cst instead of relaxed plus
 * fences: same cost on x86, and ThreadSanitizer understands them. The
 * buffer grows by doubling; old buffers stay until the deque is freed, as
 * a thief may still read one.
 */
#ifndef LASK_DEQUE_H
#define LASK_DEQUE_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct lask__dqbuf {
    int64_t mask;                  /* capacity - 1, capacity a power of two */
    struct lask__dqbuf *prev;      /* older buffers, freed with the deque */
    _Atomic int32_t items[];
} lask__dqbuf;

typedef struct lask__deque {
    _Alignas(64) _Atomic int64_t top;
    _Alignas(64) _Atomic int64_t bottom;
    _Atomic(lask__dqbuf *) buf;
    char pad[64 - sizeof(void *)];
} lask__deque;

#define LASK__DQ_EMPTY (-1)
#define LASK__DQ_ABORT (-2)   /* lost a race with another thief: retry */

static inline lask__dqbuf *lask__dqbuf_new(int64_t cap) {
    lask__dqbuf *b = malloc(sizeof *b + (size_t)cap * sizeof(_Atomic int32_t));
    if (b) { b->mask = cap - 1; b->prev = NULL; }
    return b;
}

static inline int lask__dq_init(lask__deque *q, int64_t cap) {
    int64_t c = 64;
    while (c < cap) c *= 2;
    atomic_init(&q->top, 0);
    atomic_init(&q->bottom, 0);
    lask__dqbuf *b = lask__dqbuf_new(c);
    atomic_init(&q->buf, b);
    return b ? 0 : -1;
}

static inline void lask__dq_free(lask__deque *q) {
    lask__dqbuf *b = atomic_load_explicit(&q->buf, memory_order_relaxed);
    while (b) { lask__dqbuf *p = b->prev; free(b); b = p; }
    atomic_store_explicit(&q->buf, NULL, memory_order_relaxed);
}

/* Owner only. -1 when the buffer had to grow and could not. */
static inline int lask__dq_push(lask__deque *q, int32_t x) {
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&q->top, memory_order_acquire);
    lask__dqbuf *a = atomic_load_explicit(&q->buf, memory_order_relaxed);
    if (b - t > a->mask) {
        lask__dqbuf *n = lask__dqbuf_new((a->mask + 1) * 2);
        if (!n) return -1;
        for (int64_t i = t; i < b; i++)
            atomic_store_explicit(&n->items[i & n->mask],
                atomic_load_explicit(&a->items[i & a->mask], memory_order_relaxed),
                memory_order_relaxed);
        n->prev = a;
        atomic_store_explicit(&q->buf, n, memory_order_release);
        a = n;
    }
    atomic_store_explicit(&a->items[b & a->mask], x, memory_order_relaxed);
    atomic_store_explicit(&q->bottom, b + 1, memory_order_release);
    return 0;
}

/* Owner only: the newest item, or LASK__DQ_EMPTY. */
static inline int32_t lask__dq_take(lask__deque *q) {
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_relaxed) - 1;
    lask__dqbuf *a = atomic_load_explicit(&q->buf, memory_order_relaxed);
    atomic_store_explicit(&q->bottom, b, memory_order_seq_cst);
    int64_t t = atomic_load_explicit(&q->top, memory_order_seq_cst);
    int32_t x = LASK__DQ_EMPTY;
    if (t <= b) {
        x = atomic_load_explicit(&a->items[b & a->mask], memory_order_relaxed);
        if (t == b) {
            /* the last item: race the thieves for it */
            if (!atomic_compare_exchange_strong_explicit(&q->top, &t, t + 1,
                    memory_order_seq_cst, memory_order_relaxed))
                x = LASK__DQ_EMPTY;
            atomic_store_explicit(&q->bottom, b + 1, memory_order_release);
        }
    } else {
        atomic_store_explicit(&q->bottom, b + 1, memory_order_release);
    }
    return x;
}

/* Any thread: the oldest item, LASK__DQ_EMPTY or LASK__DQ_ABORT. */
static inline int32_t lask__dq_steal(lask__deque *q) {
    int64_t t = atomic_load_explicit(&q->top, memory_order_seq_cst);
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_seq_cst);
    if (t >= b) return LASK__DQ_EMPTY;
    lask__dqbuf *a = atomic_load_explicit(&q->buf, memory_order_acquire);
    int32_t x = atomic_load_explicit(&a->items[t & a->mask], memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&q->top, &t, t + 1,
            memory_order_seq_cst, memory_order_relaxed))
        return LASK__DQ_ABORT;
    return x;
}

/* Any thread: does the deque look non-empty? */
static inline int lask__dq_nonempty(lask__deque *q) {
    return atomic_load_explicit(&q->top, memory_order_seq_cst) <
           atomic_load_explicit(&q->bottom, memory_order_seq_cst);
}

#endif
