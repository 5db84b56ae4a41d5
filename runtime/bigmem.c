/* bigmem.c - malloc for small buffers, huge-page mappings for big ones. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "bigmem.h"

#define BIG_MIN ((size_t)256 << 10)
#define HUGE ((size_t)2 << 20)

/* Every block starts with this header, 64 bytes before the user pointer. */
typedef struct hdr {
    size_t len;       /* bytes asked for */
    void *base;       /* the mapping, or NULL for malloc'd blocks */
    size_t maplen;
    char pad[64 - 3 * sizeof(size_t)];
} hdr;

static void *alloc(size_t n, int zero) {
    if (n > SIZE_MAX / 2) return NULL;
    hdr *h;
    if (n < BIG_MIN) {
        h = zero ? calloc(1, sizeof *h + n) : malloc(sizeof *h + n);
        if (!h) return NULL;
        h->base = NULL;
        h->maplen = 0;
    } else {
        /* whole huge pages for the block, starting on a huge-page boundary
         * with the header in the page before it */
        size_t span = (n + HUGE - 1) & ~(HUGE - 1);
        size_t maplen = span + HUGE + 4096;
        char *base = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) return NULL;
        uintptr_t user = ((uintptr_t)base + sizeof(hdr) + HUGE - 1) & ~(uintptr_t)(HUGE - 1);
#ifdef MADV_HUGEPAGE
        madvise((void *)user, span, MADV_HUGEPAGE);
#endif
        h = (hdr *)(user - sizeof(hdr));
        h->base = base;
        h->maplen = maplen;
    }
    h->len = n;
    return h + 1;
}

void *lask__big_alloc(size_t n) { return alloc(n, 0); }
void *lask__big_calloc(size_t n) { return alloc(n, 1); }   /* fresh mappings are zero */

void lask__big_free(void *p) {
    if (!p) return;
    hdr *h = (hdr *)p - 1;
    if (h->base) munmap(h->base, h->maplen);
    else free(h);
}

void *lask__big_realloc(void *p, size_t n) {
    if (!p) return alloc(n, 0);
    hdr *h = (hdr *)p - 1;
    if (!h->base && n < BIG_MIN) {
        hdr *r = realloc(h, sizeof *h + n);
        if (!r) return NULL;
        r->len = n;
        return r + 1;
    }
    void *q = alloc(n, 0);
    if (!q) return NULL;
    memcpy(q, p, h->len < n ? h->len : n);
    lask__big_free(p);
    return q;
}

void *lask__huge_malloc(size_t nb) {
    const size_t huge = (size_t)2 << 20;
    if (nb < huge) return malloc(nb);
    void *p;
    size_t span = (nb + huge - 1) / huge * huge;
    if (posix_memalign(&p, huge, span)) return NULL;
    madvise(p, span, MADV_HUGEPAGE);
    return p;
}

void *lask__thread_record(pthread_key_t key, size_t size) {
    void *r = pthread_getspecific(key);
    if (!r && (r = calloc(1, size)) && pthread_setspecific(key, r)) {
        free(r);
        r = NULL;
    }
    return r;
}
