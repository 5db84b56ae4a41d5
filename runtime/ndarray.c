/* ndarray.c - construction and accessors of n-d array chunks. */
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include "chunk.h"

int32_t lask_dtype_size(int32_t dtype) {
    switch (dtype) {
    case LASK_F64: case LASK_I64: return 8;
    case LASK_F32: case LASK_I32: return 4;
    case LASK_U8: case LASK_BOOL8: return 1;
    default: return 0;
    }
}

static void big_free(void *p, int64_t nb);

static void ndarray_destroy(lask_chunk *c) {
    lask__ndarray *a = (lask__ndarray *)c;
    if (a->base) lask_chunk_unref(a->base);
    else big_free(a->data, a->h.nbytes);
    free(a);
}

/* Blocks of several MiB are the common case. Fresh pages cost a fault each,
 * which some virtual machines make very slow (~30 us per 4 KiB page), so big
 * buffers use transparent huge pages (512 times fewer faults), and a few
 * freed ones are kept for the next block of the same size: a chunked
 * computation allocates the same sizes over and over. */
#define BIG (4 << 20)
#define HUGE_PAGE (2u << 20)
#define CACHE_SLOTS 8
#define CACHE_BYTES (256 << 20)

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { void *p; size_t sz; } cache[CACHE_SLOTS];
static size_t cache_total;

static size_t big_size(int64_t nb) {
    return ((size_t)nb + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
}

static void *big_alloc(int64_t nb) {
    if (nb < BIG) return malloc(nb ? (size_t)nb : 1);
    size_t sz = big_size(nb);
    void *p = NULL;
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].p && cache[i].sz == sz) {
            p = cache[i].p;
            cache[i].p = NULL;
            cache_total -= sz;
            break;
        }
    pthread_mutex_unlock(&cache_lock);
    if (p) return p;
    if (posix_memalign(&p, HUGE_PAGE, sz) != 0) return NULL;
    madvise(p, sz, MADV_HUGEPAGE);   /* a hint: failure only costs speed */
    return p;
}

static void big_free(void *p, int64_t nb) {
    if (nb < BIG) { free(p); return; }
    size_t sz = big_size(nb);
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_SLOTS && p; i++)
        if (!cache[i].p && cache_total + sz <= CACHE_BYTES) {
            cache[i].p = p;
            cache[i].sz = sz;
            cache_total += sz;
            p = NULL;
        }
    pthread_mutex_unlock(&cache_lock);
    free(p);
}

static lask__ndarray *header(int32_t dtype, int32_t ndim, const int64_t *shape) {
    int32_t es = lask_dtype_size(dtype);
    if (!es || ndim < 0 || ndim > LASK__MAXDIM || (ndim && !shape)) return NULL;
    lask__ndarray *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->dtype = dtype;
    a->ndim = ndim;
    int64_t size = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] && size > INT64_MAX / es / shape[i])) {
            free(a);
            return NULL;
        }
        a->shape[i] = shape[i];
        size *= shape[i];
    }
    a->size = size;
    int64_t st = es;
    for (int i = ndim - 1; i >= 0; i--) {
        a->strides[i] = st;
        st *= shape[i] ? shape[i] : 1;
    }
    return a;
}

lask__ndarray *lask__ndarray_alloc(int32_t dtype, int32_t ndim, const int64_t *shape) {
    lask__ndarray *a = header(dtype, ndim, shape);
    if (!a) return NULL;
    int64_t nb = a->size * lask_dtype_size(dtype);
    a->data = big_alloc(nb);
    if (!a->data) { free(a); return NULL; }
    lask__chunk_init(&a->h, LASK_KIND_NDARRAY, nb, ndarray_destroy);
    return a;
}

lask_chunk *lask_ndarray_new(int32_t dtype, int32_t ndim, const int64_t *shape) {
    lask__ndarray *a = lask__ndarray_alloc(dtype, ndim, shape);
    if (!a) return NULL;
    memset(a->data, 0, (size_t)a->h.nbytes);
    return &a->h;
}

lask__ndarray *lask__ndarray_view(lask_chunk *base, int32_t dtype, int32_t ndim,
                                  const int64_t *shape, const int64_t *strides,
                                  char *ptr) {
    lask__ndarray *a = header(dtype, ndim, shape);
    if (!a) return NULL;
    for (int i = 0; i < ndim; i++) a->strides[i] = strides[i];
    a->data = ptr;
    a->base = lask_chunk_ref(base);
    /* a view accounts for nothing: its base already does */
    lask__chunk_init(&a->h, LASK_KIND_NDARRAY, 0, ndarray_destroy);
    return a;
}

int lask__ndarray_contiguous(const lask__ndarray *a) {
    int64_t st = lask_dtype_size(a->dtype);
    for (int i = a->ndim - 1; i >= 0; i--) {
        if (a->shape[i] != 1 && a->strides[i] != st) return 0;
        st *= a->shape[i];
    }
    return 1;
}

#define ND(c) ((const lask__ndarray *)(c))
#define IS_ND(c) ((c) && (c)->kind == LASK_KIND_NDARRAY)
int32_t lask_ndarray_dtype(const lask_chunk *c) { return IS_ND(c) ? ND(c)->dtype : -1; }
int32_t lask_ndarray_ndim(const lask_chunk *c) { return IS_ND(c) ? ND(c)->ndim : -1; }
const int64_t *lask_ndarray_shape(const lask_chunk *c) { return IS_ND(c) ? ND(c)->shape : NULL; }
const int64_t *lask_ndarray_strides(const lask_chunk *c) { return IS_ND(c) ? ND(c)->strides : NULL; }
int64_t lask_ndarray_size(const lask_chunk *c) { return IS_ND(c) ? ND(c)->size : 0; }
void *lask_ndarray_data(const lask_chunk *c) { return IS_ND(c) ? ND(c)->data : NULL; }
