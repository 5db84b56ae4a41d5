/* test_ndarray.c - the n-d kernels against direct loops. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include "harness.h"
#include "ndarray_ops.h"

static lask__ndarray *seq(int32_t dt, int32_t nd, const int64_t *shape, double start) {
    lask__ndarray *a = lask__ndarray_alloc(dt, nd, shape);
    int64_t es = lask_dtype_size(dt);
    for (int64_t i = 0; i < a->size; i++) lask__nd_setd(a->data + i * es, dt, start + (double)i);
    return a;
}
static double at2(const lask__ndarray *a, int64_t i, int64_t j) {
    return lask__nd_getd(a->data + i * a->strides[0] + j * a->strides[1], a->dtype);
}
static double at1(const lask__ndarray *a, int64_t i) {
    return lask__nd_getd(a->data + i * a->strides[0], a->dtype);
}
#define UNREF(a) lask_chunk_unref(&(a)->h)

TEST(broadcast_add_and_promotion) {
    int64_t s1[2] = {3, 4}, s2[1] = {4};
    lask__ndarray *a = seq(LASK_I32, 2, s1, 0), *b = seq(LASK_F32, 1, s2, 10);
    lask__nderr e;
    lask__ndarray *c = lask__nd_binary(LASK__ADD, a, 0, b, 0, &e);
    CHECK(c != NULL);
    CHECK_EQ_INT(c->dtype, LASK_F64);    /* int32 + float32 -> float64, as NumPy */
    CHECK_EQ_INT(c->ndim, 2);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) CHECK(at2(c, i, j) == (i * 4 + j) + (10 + j));
    /* weak scalar keeps the dtype */
    lask__ndarray *two = lask__nd_scalar(LASK_I64, 0, 2, 1);
    lask__ndarray *d = lask__nd_binary(LASK__MUL, a, 0, two, 1, &e);
    CHECK_EQ_INT(d->dtype, LASK_I32);
    CHECK(at2(d, 2, 3) == 22);
    /* floor division and modulo follow Python's signs */
    lask__ndarray *m7 = lask__nd_scalar(LASK_I64, 0, -7, 1), *two2 = lask__nd_scalar(LASK_I64, 0, 2, 1);
    lask__ndarray *q = lask__nd_binary(LASK__FLOORDIV, m7, 0, two2, 0, &e);
    lask__ndarray *r = lask__nd_binary(LASK__MOD, m7, 0, two2, 0, &e);
    CHECK(lask__nd_geti(q->data, q->dtype) == -4);
    CHECK(lask__nd_geti(r->data, r->dtype) == 1);
    UNREF(a); UNREF(b); UNREF(c); UNREF(two); UNREF(d); UNREF(m7); UNREF(two2); UNREF(q); UNREF(r);
}

TEST(broadcast_mismatch_message) {
    int64_t s1[2] = {3, 4}, s2[1] = {5};
    lask__ndarray *a = seq(LASK_F64, 2, s1, 0), *b = seq(LASK_F64, 1, s2, 0);
    lask__nderr e = {{0}};
    CHECK(lask__nd_binary(LASK__ADD, a, 0, b, 0, &e) == NULL);
    CHECK_STR_CONTAINS(e.msg, "(3, 4)");
    CHECK_STR_CONTAINS(e.msg, "(5,)");
    UNREF(a); UNREF(b);
}

TEST(transposed_operand) {
    int64_t s[2] = {5, 7}, st[2] = {7, 5};
    lask__ndarray *a = seq(LASK_F64, 2, s, 0), *b = seq(LASK_F64, 2, st, 100);
    lask__nderr e;
    lask__ndarray *bt = lask__nd_transpose(b, NULL, &e);
    lask__ndarray *c = lask__nd_binary(LASK__SUB, a, 0, bt, 0, &e);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 7; j++) CHECK(at2(c, i, j) == (i * 7 + j) - (100 + j * 5 + i));
    UNREF(a); UNREF(b); UNREF(bt); UNREF(c);
}

TEST(reductions_match_loops) {
    int64_t s[2] = {6, 9};
    lask__ndarray *a = seq(LASK_F64, 2, s, 1);
    lask__nderr e;
    uint8_t ax1[2] = {0, 1}, ax0[2] = {1, 0};
    lask__ndarray *sum1 = lask__nd_reduce(LASK__RSUM, a, ax1, 0, 0, &e);
    CHECK_EQ_INT(sum1->ndim, 1);
    for (int i = 0; i < 6; i++) {
        double t = 0;
        for (int j = 0; j < 9; j++) t += at2(a, i, j);
        CHECK(at1(sum1, i) == t);
    }
    lask__ndarray *mx0 = lask__nd_reduce(LASK__RMAX, a, ax0, 1, 0, &e);
    CHECK_EQ_INT(mx0->ndim, 2);
    CHECK_EQ_INT(mx0->shape[0], 1);
    CHECK(at2(mx0, 0, 3) == at2(a, 5, 3));
    /* variance with ddof against a two-pass computation */
    lask__ndarray *v = lask__nd_reduce(LASK__RVAR, a, NULL, 0, 1, &e);
    double mean = 0, m2 = 0;
    for (int64_t i = 0; i < 54; i++) mean += i + 1;
    mean /= 54;
    for (int64_t i = 0; i < 54; i++) m2 += (i + 1 - mean) * (i + 1 - mean);
    CHECK(fabs(lask__nd_getd(v->data, v->dtype) - m2 / 53) < 1e-9);
    /* moments of two halves combined == moments of the whole */
    int64_t z[2] = {0, 0}, h[2] = {3, 9}, one[2] = {1, 1};
    int64_t st3[2] = {3, 0}, e3[2] = {6, 9};
    lask__ndarray *top = lask__nd_slice(a, z, h, one, &e), *bot = lask__nd_slice(a, st3, e3, one, &e);
    lask__ndarray *mt = lask__nd_reduce(LASK__RMOMENTS, top, NULL, 0, 0, &e);
    lask__ndarray *mb = lask__nd_reduce(LASK__RMOMENTS, bot, NULL, 0, 0, &e);
    const lask__ndarray *parts[2] = {mt, mb};
    lask__ndarray *mc = lask__nd_moments_combine(parts, 2, &e);
    lask__ndarray *var = lask__nd_moments_finish(mc, 1, 1, LASK_F64, &e);
    CHECK(fabs(lask__nd_getd(var->data, LASK_F64) - m2 / 53) < 1e-9);
    /* argmax over all, as a partial with a global position */
    lask__ndarray *am = lask__nd_reduce(LASK__RARGMAX, a, NULL, 0, 0, &e);
    CHECK(lask__nd_geti(am->data, am->dtype) == 53);
    int64_t gs[2] = {3, 0}, gsh[2] = {6, 9};
    lask__ndarray *ap = lask__nd_arg_partial(LASK__RARGMIN, bot, -1, gs, gsh, &e);
    lask__ndarray *af = lask__nd_arg_finish(ap, &e);
    CHECK(lask__nd_geti(af->data, LASK_I64) == 27);
    /* cumsum along axis 2 */
    lask__ndarray *cs = lask__nd_cumulative(LASK__RSUM, a, 1, &e);
    CHECK(at2(cs, 2, 8) == at1(sum1, 2));
    /* min of an empty selection is an error, not garbage */
    int64_t ze[2] = {0, 0}, one0[2] = {0, 9};
    lask__ndarray *empty = lask__nd_slice(a, ze, one0, one, &e);
    e.msg[0] = 0;
    CHECK(lask__nd_reduce(LASK__RMIN, empty, NULL, 0, 0, &e) == NULL);
    CHECK_STR_CONTAINS(e.msg, "empty");
    UNREF(a); UNREF(sum1); UNREF(mx0); UNREF(v); UNREF(top); UNREF(bot); UNREF(mt); UNREF(mb);
    UNREF(mc); UNREF(var); UNREF(am); UNREF(ap); UNREF(af); UNREF(cs); UNREF(empty);
}

TEST(fused_sum_and_row_sums) {
    int64_t s[2] = {300, 70}, st[2] = {70, 300};
    lask__ndarray *a = seq(LASK_F64, 2, s, 0), *b = seq(LASK_F64, 2, st, 3);
    lask__nderr e;
    lask__ndarray *bt = lask__nd_transpose(b, NULL, &e);
    uint8_t ax0[2] = {1, 0}, ax1[2] = {0, 1};
    for (int k = 0; k < 2; k++) {
        const uint8_t *ax = k ? ax1 : ax0;
        lask__ndarray *f = lask__nd_sum_binary(LASK__MUL, a, 0, bt, 0, ax, 0, &e);
        lask__ndarray *t = lask__nd_binary(LASK__MUL, a, 0, bt, 0, &e);
        CHECK(f && f->ndim == 1 && f->shape[0] == (k ? 300 : 70));
        for (int64_t i = 0; f && i < f->shape[0]; i++) {
            double want = 0;
            for (int64_t j = 0; j < (k ? 70 : 300); j++) want += k ? at2(t, i, j) : at2(t, j, i);
            CHECK(fabs(at1(f, i) - want) <= 1e-9 * fabs(want));
        }
        lask_chunk_unref(&f->h);
        lask_chunk_unref(&t->h);
    }
    lask__ndarray *all = lask__nd_sum_binary(LASK__SUB, a, 0, bt, 0, NULL, 0, &e);
    lask__ndarray *t = lask__nd_binary(LASK__SUB, a, 0, bt, 0, &e);
    lask__ndarray *want = lask__nd_reduce(LASK__RSUM, t, NULL, 0, 0, &e);
    CHECK(all && all->ndim == 0);
    CHECK(all && fabs(lask__nd_getd(all->data, LASK_F64) - lask__nd_getd(want->data, LASK_F64)) < 1e-6);
    UNREF(all); UNREF(t); UNREF(want);
    UNREF(a); UNREF(b); UNREF(bt);
}

TEST(nan_propagates_in_max) {
    int64_t s[1] = {4};
    lask__ndarray *a = seq(LASK_F64, 1, s, 0);
    ((double *)a->data)[2] = NAN;
    lask__nderr e;
    lask__ndarray *m = lask__nd_reduce(LASK__RMAX, a, NULL, 0, 0, &e);
    CHECK(isnan(lask__nd_getd(m->data, LASK_F64)));
    lask__ndarray *n = lask__nd_unary(LASK__ISNAN, a, &e);
    CHECK(n->dtype == LASK_BOOL8 && n->data[2] == 1 && n->data[1] == 0);
    UNREF(a); UNREF(m); UNREF(n);
}

TEST(slices_and_selection) {
    int64_t s[2] = {4, 5};
    lask__ndarray *a = seq(LASK_I64, 2, s, 0);
    lask__nderr e;
    int64_t st[2] = {3, 4}, sp[2] = {-1, -1}, step[2] = {-1, -2};
    lask__ndarray *r = lask__nd_slice(a, st, sp, step, &e);   /* a[::-1, ::-2] */
    CHECK_EQ_INT(r->shape[0], 4);
    CHECK_EQ_INT(r->shape[1], 3);
    CHECK(at2(r, 0, 0) == 19 && at2(r, 0, 1) == 17 && at2(r, 3, 2) == 0);
    int64_t ns[1] = {10};
    lask__ndarray *re = lask__nd_reshape(r, 1, (int64_t[]){-1}, &e);
    CHECK_EQ_INT(re->shape[0], 12);
    CHECK(at1(re, 1) == 17);
    e.msg[0] = 0;
    CHECK(lask__nd_reshape(a, 1, ns, &e) == NULL);
    CHECK_STR_CONTAINS(e.msg, "(4, 5)");
    int64_t iv[3] = {4, 0, 4};
    lask__ndarray *ix = lask__ndarray_alloc(LASK_I64, 1, (int64_t[]){3});
    for (int i = 0; i < 3; i++) ((int64_t *)ix->data)[i] = iv[i];
    lask__ndarray *t = lask__nd_take(a, ix, 1, &e);
    CHECK(at2(t, 1, 0) == 9 && at2(t, 1, 1) == 5);
    lask__ndarray *five = lask__nd_scalar(LASK_I64, 0, 12, 1);
    lask__ndarray *mk = lask__nd_binary(LASK__GT, a, 0, five, 1, &e);
    lask__ndarray *sel = lask__nd_mask(a, mk, -1, &e);
    CHECK_EQ_INT(sel->size, 7);
    CHECK(at1(sel, 0) == 13);
    lask__ndarray *row = lask__nd_index(a, 0, 2, &e);
    CHECK(row->ndim == 1 && at1(row, 4) == 14);
    const lask__ndarray *pp[2] = {a, r};
    e.msg[0] = 0;
    CHECK(lask__nd_concatenate(pp, 2, 0, &e) == NULL);   /* 5 vs 3 columns */
    CHECK_STR_CONTAINS(e.msg, "axis 1");
    const lask__ndarray *q[4] = {a, a, a, a};
    lask__ndarray *blk = lask__nd_block(q, 2, (int64_t[]){2, 2}, &e);
    CHECK(blk->shape[0] == 8 && blk->shape[1] == 10 && at2(blk, 7, 9) == 19 && at2(blk, 4, 5) == 0);
    UNREF(a); UNREF(r); UNREF(re); UNREF(ix); UNREF(t); UNREF(five); UNREF(mk); UNREF(sel);
    UNREF(row); UNREF(blk);
}

TEST(matmul_against_loops) {
    int64_t sa[2] = {7, 5}, sb[2] = {5, 3};
    lask__ndarray *a = seq(LASK_F64, 2, sa, 1), *b = seq(LASK_F64, 2, sb, -4);
    lask__nderr e;
    lask__ndarray *c = lask__nd_matmul(a, b, &e);
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 3; j++) {
            double t = 0;
            for (int p = 0; p < 5; p++) t += at2(a, i, p) * at2(b, p, j);
            CHECK(fabs(at2(c, i, j) - t) < 1e-9);
        }
    /* a transposed operand goes to BLAS without a copy, same answer */
    lask__ndarray *bt = lask__nd_transpose(b, NULL, &e), *btt = lask__nd_astype(bt, -1, &e);
    lask__ndarray *btv = lask__nd_transpose(btt, NULL, &e);
    lask__ndarray *c2 = lask__nd_matmul(a, btv, &e);
    CHECK(at2(c2, 6, 2) == at2(c, 6, 2));
    e.msg[0] = 0;
    CHECK(lask__nd_matmul(a, a, &e) == NULL);
    CHECK_STR_CONTAINS(e.msg, "(7, 5) and (7, 5)");
    lask__ndarray *ai = seq(LASK_I32, 2, sa, 1), *bi = seq(LASK_I32, 2, sb, -4);
    lask__ndarray *ci = lask__nd_matmul(ai, bi, &e);
    CHECK(ci->dtype == LASK_I64 && at2(ci, 3, 1) == at2(c, 3, 1));
    UNREF(a); UNREF(b); UNREF(c); UNREF(bt); UNREF(btt); UNREF(btv); UNREF(c2); UNREF(ai); UNREF(bi); UNREF(ci);
}

TEST(random_independent_of_blocks) {
    int64_t g[2] = {10, 12}, z[2] = {0, 0}, st[2] = {4, 5}, bs[2] = {3, 7};
    lask__nderr e;
    lask__ndarray *whole = lask__nd_random(LASK__RAND_UNIFORM, LASK_F64, 42, 2, g, z, g, 0, 1, &e);
    lask__ndarray *part = lask__nd_random(LASK__RAND_UNIFORM, LASK_F64, 42, 2, g, st, bs, 0, 1, &e);
    int same = 1, inrange = 1;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 7; j++) same &= at2(part, i, j) == at2(whole, 4 + i, 5 + j);
    double mean = 0;
    for (int64_t i = 0; i < whole->size; i++) {
        double v = ((double *)whole->data)[i];
        inrange &= v >= 0 && v < 1;
        mean += v;
    }
    CHECK(same && inrange);
    CHECK(fabs(mean / 120 - 0.5) < 0.1);
    lask__ndarray *other = lask__nd_random(LASK__RAND_UNIFORM, LASK_F64, 43, 2, g, z, g, 0, 1, &e);
    CHECK(((double *)other->data)[0] != ((double *)whole->data)[0]);
    lask__ndarray *ri = lask__nd_random(LASK__RAND_INT, LASK_I64, 1, 2, g, z, g, 3, 6, &e);
    int ok = 1;
    for (int64_t i = 0; i < ri->size; i++) ok &= ((int64_t *)ri->data)[i] >= 3 && ((int64_t *)ri->data)[i] < 6;
    CHECK(ok);
    UNREF(whole); UNREF(part); UNREF(other); UNREF(ri);
}

TEST(npy_roundtrip_and_blocks) {
    char path[] = "/tmp/lask_test_npy_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    int64_t s[3] = {4, 3, 5};
    lask__ndarray *a = seq(LASK_F32, 3, s, 0);
    lask__nderr e = {{0}};
    CHECK(lask__npy_save(path, a, &e));
    lask__ndarray *b = lask__npy_load(path, &e);
    CHECK(b && b->dtype == LASK_F32 && b->ndim == 3 && b->shape[2] == 5);
    CHECK(b && memcmp(a->data, b->data, 60 * 4) == 0);
    lask__npyinfo info;
    CHECK(lask__npy_read_info(path, &info, &e));
    CHECK_EQ_INT(info.header_len % 64, 0);
    lask__ndarray *blk = lask__npy_read_block(path, &info, (int64_t[]){1, 1, 2}, (int64_t[]){2, 2, 3}, &e);
    CHECK(blk && lask__nd_getd(blk->data, LASK_F32) == 1 * 15 + 1 * 5 + 2);
    CHECK(blk && lask__nd_getd(blk->data + 11 * 4, LASK_F32) == 2 * 15 + 2 * 5 + 4);
    /* a truncated file is an error naming it */
    CHECK(truncate(path, 100) == 0);
    e.msg[0] = 0;
    CHECK(lask__npy_load(path, &e) == NULL);
    CHECK_STR_CONTAINS(e.msg, "truncated");
    unlink(path);
    UNREF(a); UNREF(b); UNREF(blk);
}

int main(void) {
    RUN(broadcast_add_and_promotion);
    RUN(broadcast_mismatch_message);
    RUN(transposed_operand);
    RUN(reductions_match_loops);
    RUN(fused_sum_and_row_sums);
    RUN(nan_propagates_in_max);
    RUN(slices_and_selection);
    RUN(matmul_against_loops);
    RUN(random_independent_of_blocks);
    RUN(npy_roundtrip_and_blocks);
    return harness_done();
}
