/* nd_linalg.c - matrix products through OpenBLAS.
 *
 * Inside the thread pool every worker already keeps a core busy, so
 * OpenBLAS's own threads would only oversubscribe: a product run from a
 * pool thread sets them to 1; one run from the caller's thread (a local
 * array, a sync compute) gets them all back. */
#include <stdatomic.h>
#include <string.h>
#include <cblas.h>
#include "ndarray_ops.h"
#include "graph.h"

/* the executor may not be linked (C tests of the kernels alone) */
extern int lask__in_worker(void) __attribute__((weak));

static _Atomic int blas_default = 0;

void lask__blas_set_threads(int n) { openblas_set_num_threads(n); }
int lask__blas_get_threads(void) { return openblas_get_num_threads(); }

static void blas_threads_for_here(void) {
    int def = atomic_load(&blas_default);
    if (!def) {
        def = openblas_get_num_threads();
        if (def < 1) def = 1;
        int zero = 0;
        atomic_compare_exchange_strong(&blas_default, &zero, def);
        def = atomic_load(&blas_default);
    }
    int want = (lask__in_worker && lask__in_worker()) ? 1 : def;
    if (openblas_get_num_threads() != want) openblas_set_num_threads(want);
}

/* Describe a 2-d operand for BLAS: row-major with leading dimension ld,
 * transposed or not; 0 when its strides do not fit (copy it first). */
static int blas_layout(const lask__ndarray *a, int64_t es, CBLAS_TRANSPOSE *tr, int64_t *ld) {
    int64_t r = a->shape[0], c = a->shape[1];
    if ((a->strides[1] == es || c == 1) && a->strides[0] >= c * es && a->strides[0] % es == 0) {
        *tr = CblasNoTrans; *ld = a->strides[0] / es; if (*ld < c) *ld = c; if (*ld < 1) *ld = 1;
        return 1;
    }
    if ((a->strides[0] == es || r == 1) && a->strides[1] >= r * es && a->strides[1] % es == 0) {
        *tr = CblasTrans; *ld = a->strides[1] / es; if (*ld < r) *ld = r; if (*ld < 1) *ld = 1;
        return 1;
    }
    return 0;
}

static int check_pair(const lask__ndarray *a, const lask__ndarray *b, lask__nderr *e) {
    char b1[256], b2[256];
    if (a->ndim != 2 || b->ndim != 2 || a->shape[1] != b->shape[0]) {
        lask__nd_seterr(e, "matmul: shapes %s and %s are not aligned (%s)",
                        lask__shape_str(a->ndim, a->shape, b1, 256),
                        lask__shape_str(b->ndim, b->shape, b2, 256),
                        a->ndim != 2 || b->ndim != 2 ? "blocks must be 2-d"
                                                     : "columns of the first != rows of the second");
        return 0;
    }
    return 1;
}

/* o += a @ b (o zero-filled or holding earlier terms) */
static int gemm_acc(lask__ndarray *o, const lask__ndarray *a, const lask__ndarray *b, lask__nderr *e) {
    int32_t dt = o->dtype;
    int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
    if (m == 0 || n == 0 || k == 0) return 1;
    lask__ndarray *ca = NULL, *cb = NULL;
    int ok = 0;
    if (a->dtype != dt && !(ca = lask__nd_astype(a, dt, e))) goto done;
    if (b->dtype != dt && !(cb = lask__nd_astype(b, dt, e))) goto done;
    const lask__ndarray *A = ca ? ca : a, *B = cb ? cb : b;
    if (lask__dtype_isfloat(dt)) {
        int64_t es = lask_dtype_size(dt), lda, ldb;
        CBLAS_TRANSPOSE ta, tb;
        if (!blas_layout(A, es, &ta, &lda)) {
            lask__ndarray *t = lask__nd_astype(A, dt, e);
            if (!t) goto done;
            if (ca) lask_chunk_unref(&ca->h);
            A = ca = t;
            blas_layout(A, es, &ta, &lda);
        }
        if (!blas_layout(B, es, &tb, &ldb)) {
            lask__ndarray *t = lask__nd_astype(B, dt, e);
            if (!t) goto done;
            if (cb) lask_chunk_unref(&cb->h);
            B = cb = t;
            blas_layout(B, es, &tb, &ldb);
        }
        blas_threads_for_here();
        if (dt == LASK_F64)
            cblas_dgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, 1.0,
                        (const double *)A->data, (blasint)lda, (const double *)B->data, (blasint)ldb,
                        1.0, (double *)o->data, (blasint)n);
        else
            cblas_sgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, 1.0f,
                        (const float *)A->data, (blasint)lda, (const float *)B->data, (blasint)ldb,
                        1.0f, (float *)o->data, (blasint)n);
    } else {
        /* integers: plain loops in int64, wrapping like NumPy */
        for (int64_t i = 0; i < m; i++)
            for (int64_t p = 0; p < k; p++) {
                uint64_t x = (uint64_t)lask__nd_geti(A->data + i * A->strides[0] + p * A->strides[1], dt);
                if (!x) continue;
                for (int64_t j = 0; j < n; j++) {
                    char *d = o->data + (i * n + j) * lask_dtype_size(dt);
                    uint64_t y = (uint64_t)lask__nd_geti(B->data + p * B->strides[0] + j * B->strides[1], dt);
                    lask__nd_seti(d, dt, (int64_t)((uint64_t)lask__nd_geti(d, dt) + x * y));
                }
            }
    }
    ok = 1;
done:
    if (ca) lask_chunk_unref(&ca->h);
    if (cb) lask_chunk_unref(&cb->h);
    return ok;
}

lask__ndarray *lask__nd_matmul_sum(const lask__ndarray *const *a, const lask__ndarray *const *b,
                                   int n, lask__nderr *e) {
    if (n < 1) return lask__nd_seterr(e, "matmul: no blocks to multiply");
    int32_t dt = LASK_BOOL8;
    for (int i = 0; i < n; i++) {
        if (!check_pair(a[i], b[i], e)) return NULL;
        if (a[i]->shape[0] != a[0]->shape[0] || b[i]->shape[1] != b[0]->shape[1])
            return lask__nd_seterr(e, "matmul: block pair %d gives another output shape", i + 1);
        dt = lask__dtype_promote(dt, lask__dtype_promote(a[i]->dtype, b[i]->dtype));
    }
    if (dt == LASK_BOOL8 || dt == LASK_U8 || dt == LASK_I32) dt = LASK_I64;
    int64_t sh[2] = {a[0]->shape[0], b[0]->shape[1]};
    lask__ndarray *o = (lask__ndarray *)lask_ndarray_new(dt, 2, sh);
    if (!o) return lask__nd_seterr(e, "out of memory (matmul %lld x %lld)", (long long)sh[0], (long long)sh[1]);
    for (int i = 0; i < n; i++)
        if (!gemm_acc(o, a[i], b[i], e)) { lask_chunk_unref(&o->h); return NULL; }
    return o;
}

lask__ndarray *lask__nd_matmul(const lask__ndarray *a, const lask__ndarray *b, lask__nderr *e) {
    const lask__ndarray *A[1] = {a}, *B[1] = {b};
    return lask__nd_matmul_sum(A, B, 1, e);
}
