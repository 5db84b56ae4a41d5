/* nd_random.c - counter-based random numbers.
 *
 * Element i (its flat index in the whole array) gets mix(seed, i): the
 * SplitMix64 finaliser over a Weyl sequence, as in Java's SplittableRandom.
 * A block computes its own elements from their global positions, so the
 * array is the same whatever the chunks, threads or scheduler. */
#include <math.h>
#include <string.h>
#include "ndarray_ops.h"

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t draw(uint64_t key, uint64_t i) {
    return mix64(key + (i + 1) * 0x9e3779b97f4a7c15ULL);
}

/* [0, 1) with 53 random bits */
static inline double unit(uint64_t x) { return (double)(x >> 11) * 0x1.0p-53; }

lask__ndarray *lask__nd_random(int kind, int32_t dtype, uint64_t seed, int32_t nd,
                               const int64_t *gshape, const int64_t *start,
                               const int64_t *shape, double p1, double p2, lask__nderr *e) {
    if (kind == LASK__RAND_INT ? lask__dtype_isfloat(dtype) || dtype == LASK_BOOL8
                               : !lask__dtype_isfloat(dtype))
        return lask__nd_seterr(e, "random: dtype %s does not fit this distribution",
                               lask__dtype_name(dtype));
    if (kind == LASK__RAND_INT && !(p2 > p1))
        return lask__nd_seterr(e, "randint: high (%g) must be greater than low (%g)", p2, p1);
    for (int d = 0; d < nd; d++)
        if (start[d] < 0 || shape[d] < 0 || start[d] + shape[d] > gshape[d])
            return lask__nd_seterr(e, "random: block outside the array on axis %d", d + 1);
    lask__ndarray *o = lask__ndarray_alloc(dtype, nd, shape);
    if (!o) return lask__nd_seterr(e, "out of memory (random)");
    if (o->size == 0) return o;
    uint64_t key = mix64(seed ^ 0x6a09e667f3bcc909ULL) ^ ((uint64_t)kind << 56);
    int64_t es = lask_dtype_size(dtype), idx[LASK__MAXDIM] = {0};
    /* gflat: global flat index of the block's first element in each row */
    int64_t rowlen = nd ? shape[nd - 1] : 1;
    uint64_t range = kind == LASK__RAND_INT ? (uint64_t)(p2 - p1) : 0;
    for (int64_t k = 0, w = 0; k < o->size; k += rowlen) {
        int64_t g = 0;
        for (int d = 0; d < nd; d++) g = g * gshape[d] + start[d] + idx[d];
        if (kind == LASK__RAND_UNIFORM && dtype == LASK_F64) {   /* the common case, vectorisable */
            double *out = (double *)o->data + w, span = p2 - p1;
            for (int64_t j = 0; j < rowlen; j++) out[j] = p1 + span * unit(draw(key, (uint64_t)(g + j)));
            w += rowlen;
        } else
        for (int64_t j = 0; j < rowlen; j++, w++) {
            uint64_t gi = (uint64_t)(g + j);
            char *dst = o->data + w * es;
            switch (kind) {
            case LASK__RAND_UNIFORM:
                lask__nd_setd(dst, dtype, p1 + (p2 - p1) * unit(draw(key, gi)));
                break;
            case LASK__RAND_NORMAL: {
                /* Box-Muller from two draws of this element's own stream */
                double u1 = unit(draw(key, 2 * gi)), u2 = unit(draw(key, 2 * gi + 1));
                double z = sqrt(-2.0 * log1p(-u1)) * cos(2 * M_PI * u2);
                lask__nd_setd(dst, dtype, p1 + p2 * z);
                break;
            }
            default: {
                uint64_t r = (uint64_t)(((unsigned __int128)draw(key, gi) * range) >> 64);
                lask__nd_seti(dst, dtype, (int64_t)p1 + (int64_t)r);
            }
            }
        }
        for (int d = nd - 2; d >= 0; d--) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
    }
    return o;
}
