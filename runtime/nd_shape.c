/* nd_shape.c - views (transpose, slices, indexing, reshape, expand_dims)
 * and the copies that select or join (take, mask, concatenate, stack,
 * block assembly). */
#include <stdlib.h>
#include <string.h>
#include "ndarray_ops.h"

#define SHP(a, b) lask__shape_str((a)->ndim, (a)->shape, b, sizeof b)

static lask__ndarray *view(const lask__ndarray *a, int32_t nd, const int64_t *shape,
                           const int64_t *strides, char *ptr, lask__nderr *e) {
    lask__ndarray *v = lask__ndarray_view((lask_chunk *)&a->h, a->dtype, nd, shape, strides, ptr);
    return v ? v : lask__nd_seterr(e, "out of memory (view)");
}

lask__ndarray *lask__nd_transpose(const lask__ndarray *a, const int32_t *perm, lask__nderr *e) {
    int64_t sh[LASK__MAXDIM], st[LASK__MAXDIM];
    int seen[LASK__MAXDIM] = {0};
    for (int i = 0; i < a->ndim; i++) {
        int p = perm ? perm[i] : a->ndim - 1 - i;
        if (p < 0 || p >= a->ndim || seen[p]++)
            return lask__nd_seterr(e, "transpose: axes are not a permutation of 1..%d", a->ndim);
        sh[i] = a->shape[p];
        st[i] = a->strides[p];
    }
    return view(a, a->ndim, sh, st, a->data, e);
}

int64_t lask__slice_len(int64_t start, int64_t stop, int64_t step) {
    if (step > 0) return stop > start ? (stop - start + step - 1) / step : 0;
    return start > stop ? (start - stop - step - 1) / (-step) : 0;
}

lask__ndarray *lask__nd_slice(const lask__ndarray *a, const int64_t *start,
                              const int64_t *stop, const int64_t *step, lask__nderr *e) {
    int64_t sh[LASK__MAXDIM], st[LASK__MAXDIM];
    char *p = a->data;
    for (int i = 0; i < a->ndim; i++) {
        if (step[i] == 0) return lask__nd_seterr(e, "slice step of axis %d is zero", i + 1);
        int64_t n = lask__slice_len(start[i], stop[i], step[i]);
        if (n > 0 && (start[i] < 0 || start[i] >= a->shape[i] ||
                      start[i] + (n - 1) * step[i] < 0 || start[i] + (n - 1) * step[i] >= a->shape[i]))
            return lask__nd_seterr(e, "slice out of range on axis %d (length %lld)", i + 1,
                                   (long long)a->shape[i]);
        sh[i] = n;
        st[i] = a->strides[i] * step[i];
        if (n > 0) p += start[i] * a->strides[i];
    }
    return view(a, a->ndim, sh, st, p, e);
}

lask__ndarray *lask__nd_index(const lask__ndarray *a, int axis, int64_t i, lask__nderr *e) {
    if (axis < 0 || axis >= a->ndim)
        return lask__nd_seterr(e, "axis %d out of range for %d-d array", axis + 1, a->ndim);
    if (i < 0 || i >= a->shape[axis])
        return lask__nd_seterr(e, "index %lld out of range for axis %d of length %lld",
                               (long long)i + 1, axis + 1, (long long)a->shape[axis]);
    int64_t sh[LASK__MAXDIM], st[LASK__MAXDIM];
    int k = 0;
    for (int d = 0; d < a->ndim; d++)
        if (d != axis) { sh[k] = a->shape[d]; st[k] = a->strides[d]; k++; }
    return view(a, a->ndim - 1, sh, st, a->data + i * a->strides[axis], e);
}

lask__ndarray *lask__nd_expand_dims(const lask__ndarray *a, int axis, lask__nderr *e) {
    if (axis < 0 || axis > a->ndim || a->ndim >= LASK__MAXDIM)
        return lask__nd_seterr(e, "expand_dims: axis %d out of range for %d-d array", axis + 1, a->ndim);
    int64_t sh[LASK__MAXDIM], st[LASK__MAXDIM];
    for (int d = 0, k = 0; d <= a->ndim; d++) {
        if (d == axis) { sh[d] = 1; st[d] = 0; continue; }
        sh[d] = a->shape[k]; st[d] = a->strides[k]; k++;
    }
    return view(a, a->ndim + 1, sh, st, a->data, e);
}

lask__ndarray *lask__nd_reshape(const lask__ndarray *a, int32_t nd, const int64_t *shape,
                                lask__nderr *e) {
    int64_t sh[LASK__MAXDIM], n = 1;
    int neg = -1;
    if (nd < 0 || nd > LASK__MAXDIM) return lask__nd_seterr(e, "reshape: bad number of dimensions %d", nd);
    for (int i = 0; i < nd; i++) {
        sh[i] = shape[i];
        if (shape[i] == -1 && neg < 0) { neg = i; continue; }
        if (shape[i] < 0) return lask__nd_seterr(e, "reshape: bad length %lld for axis %d",
                                                 (long long)shape[i], i + 1);
        n *= shape[i];
    }
    if (neg >= 0) sh[neg] = n ? a->size / n : 0;
    char b1[256], b2[256];
    int64_t m = 1;
    for (int i = 0; i < nd; i++) m *= sh[i];
    if (m != a->size || (neg >= 0 && n * sh[neg] != a->size))
        return lask__nd_seterr(e, "cannot reshape array of shape %s (%lld elements) into %s",
                               SHP(a, b1), (long long)a->size, lask__shape_str(nd, shape, b2, 256));
    lask__ndarray *c = lask__nd_contiguous(a, e);
    if (!c) return NULL;
    int64_t st[LASK__MAXDIM], s = lask_dtype_size(a->dtype);
    for (int i = nd - 1; i >= 0; i--) { st[i] = s; s *= sh[i] ? sh[i] : 1; }
    lask__ndarray *v = view(c, nd, sh, st, c->data, e);
    lask_chunk_unref(&c->h);
    return v;
}

lask__ndarray *lask__nd_take(const lask__ndarray *a, const lask__ndarray *idx, int axis,
                             lask__nderr *e) {
    if (axis < 0 || axis >= a->ndim)
        return lask__nd_seterr(e, "take: axis %d out of range for %d-d array", axis + 1, a->ndim);
    if (!lask__dtype_isint(idx->dtype))
        return lask__nd_seterr(e, "take: indices must be integers, got %s", lask__dtype_name(idx->dtype));
    lask__ndarray *ix = lask__nd_astype(idx, LASK_I64, e);
    if (!ix) return NULL;
    const int64_t *iv = (const int64_t *)ix->data;
    int64_t len = a->shape[axis];
    for (int64_t j = 0; j < ix->size; j++)
        if (iv[j] < 0 || iv[j] >= len) {
            lask_chunk_unref(&ix->h);
            return lask__nd_seterr(e, "take: index %lld out of range for axis %d of length %lld",
                                   (long long)iv[j] + 1, axis + 1, (long long)len);
        }
    int64_t sh[LASK__MAXDIM];
    memcpy(sh, a->shape, sizeof sh);
    sh[axis] = ix->size;
    lask__ndarray *o = lask__ndarray_alloc(a->dtype, a->ndim, sh);
    if (!o) { lask_chunk_unref(&ix->h); return lask__nd_seterr(e, "out of memory (take)"); }
    for (int64_t j = 0; j < ix->size; j++) {
        lask__ndarray *src = lask__nd_index(a, axis, iv[j], e);
        lask__ndarray *dst = lask__nd_index(o, axis, j, e);
        if (!src || !dst) {
            if (src) lask_chunk_unref(&src->h);
            if (dst) lask_chunk_unref(&dst->h);
            lask_chunk_unref(&o->h);
            lask_chunk_unref(&ix->h);
            return NULL;
        }
        lask__nd_copyinto(dst, src);
        lask_chunk_unref(&src->h);
        lask_chunk_unref(&dst->h);
    }
    lask_chunk_unref(&ix->h);
    return o;
}

lask__ndarray *lask__nd_mask(const lask__ndarray *a, const lask__ndarray *mask, int axis,
                             lask__nderr *e) {
    char b1[256], b2[256];
    if (mask->dtype != LASK_BOOL8)
        return lask__nd_seterr(e, "mask must be a bool array, got %s", lask__dtype_name(mask->dtype));
    int same = mask->ndim == a->ndim;
    for (int i = 0; same && i < a->ndim; i++) same = mask->shape[i] == a->shape[i];
    if (!same && mask->ndim == 1 && axis >= 0 && axis < a->ndim && mask->shape[0] == a->shape[axis]) {
        /* a 1-d mask along one axis: take the selected positions */
        int64_t cnt = 0, sh[1];
        for (int64_t i = 0; i < mask->size; i++) cnt += mask->data[i * mask->strides[0]] != 0;
        sh[0] = cnt;
        lask__ndarray *ix = lask__ndarray_alloc(LASK_I64, 1, sh);
        if (!ix) return lask__nd_seterr(e, "out of memory (mask)");
        for (int64_t i = 0, k = 0; i < mask->size; i++)
            if (mask->data[i * mask->strides[0]]) ((int64_t *)ix->data)[k++] = i;
        lask__ndarray *o = lask__nd_take(a, ix, axis, e);
        lask_chunk_unref(&ix->h);
        return o;
    }
    if (!same)
        return lask__nd_seterr(e, "boolean mask of shape %s does not match array of shape %s",
                               SHP(mask, b1), SHP(a, b2));
    lask__ndarray *ca = lask__nd_contiguous(a, e);
    if (!ca) return NULL;
    lask__ndarray *cm = lask__nd_contiguous(mask, e);
    if (!cm) { lask_chunk_unref(&ca->h); return NULL; }
    int64_t cnt = 0, es = lask_dtype_size(a->dtype);
    for (int64_t i = 0; i < cm->size; i++) cnt += cm->data[i] != 0;
    int64_t sh[1] = {cnt};
    lask__ndarray *o = lask__ndarray_alloc(a->dtype, 1, sh);
    if (o) {
        for (int64_t i = 0, k = 0; i < cm->size; i++)
            if (cm->data[i]) memcpy(o->data + es * k++, ca->data + es * i, (size_t)es);
    } else lask__nd_seterr(e, "out of memory (mask)");
    lask_chunk_unref(&ca->h);
    lask_chunk_unref(&cm->h);
    return o;
}

lask__ndarray *lask__nd_concatenate(const lask__ndarray *const *parts, int n, int axis,
                                    lask__nderr *e) {
    if (n < 1) return lask__nd_seterr(e, "concatenate needs at least one array");
    const lask__ndarray *f = parts[0];
    if (axis < 0 || axis >= f->ndim)
        return lask__nd_seterr(e, "concatenate: axis %d out of range for %d-d arrays", axis + 1, f->ndim);
    int32_t dt = f->dtype;
    int64_t sh[LASK__MAXDIM];
    memcpy(sh, f->shape, sizeof sh);
    sh[axis] = 0;
    for (int i = 0; i < n; i++) {
        const lask__ndarray *p = parts[i];
        int ok = p->ndim == f->ndim;
        for (int d = 0; ok && d < f->ndim; d++) ok = d == axis || p->shape[d] == f->shape[d];
        if (!ok) {
            char b1[256], b2[256];
            return lask__nd_seterr(e, "concatenate along axis %d: array %d has shape %s, array 1 has %s",
                                   axis + 1, i + 1, SHP(p, b1), SHP(f, b2));
        }
        dt = lask__dtype_promote(dt, p->dtype);
        sh[axis] += p->shape[axis];
    }
    lask__ndarray *o = lask__ndarray_alloc(dt, f->ndim, sh);
    if (!o) return lask__nd_seterr(e, "out of memory (concatenate)");
    char *p = o->data;
    for (int i = 0; i < n; i++) {
        int64_t vsh[LASK__MAXDIM];
        memcpy(vsh, sh, sizeof vsh);
        vsh[axis] = parts[i]->shape[axis];
        lask__ndarray *v = lask__ndarray_view(&o->h, dt, o->ndim, vsh, o->strides, p);
        if (!v) { lask_chunk_unref(&o->h); return lask__nd_seterr(e, "out of memory"); }
        lask__nd_copyinto(v, parts[i]);
        lask_chunk_unref(&v->h);
        p += vsh[axis] * o->strides[axis];
    }
    return o;
}

lask__ndarray *lask__nd_stack(const lask__ndarray *const *parts, int n, int axis,
                              lask__nderr *e) {
    if (n < 1) return lask__nd_seterr(e, "stack needs at least one array");
    lask__ndarray **v = calloc((size_t)n, sizeof *v);
    if (!v) return lask__nd_seterr(e, "out of memory");
    lask__ndarray *o = NULL;
    for (int i = 0; i < n; i++) {
        int same = parts[i]->ndim == parts[0]->ndim;
        for (int d = 0; same && d < parts[0]->ndim; d++) same = parts[i]->shape[d] == parts[0]->shape[d];
        if (!same) {
            char b1[256], b2[256];
            lask__nd_seterr(e, "stack: array %d has shape %s, array 1 has %s", i + 1,
                            SHP(parts[i], b1), SHP(parts[0], b2));
            goto done;
        }
        if (!(v[i] = lask__nd_expand_dims(parts[i], axis, e))) goto done;
    }
    o = lask__nd_concatenate((const lask__ndarray *const *)v, n, axis, e);
done:
    for (int i = 0; i < n; i++) if (v[i]) lask_chunk_unref(&v[i]->h);
    free(v);
    return o;
}

lask__ndarray *lask__nd_block(const lask__ndarray *const *parts, int32_t nd,
                              const int64_t *grid, lask__nderr *e) {
    int64_t np = 1;
    for (int d = 0; d < nd; d++) np *= grid[d];
    if (np < 1) return lask__nd_seterr(e, "block: empty grid");
    int32_t dt = parts[0]->dtype;
    int64_t stride[LASK__MAXDIM], sh[LASK__MAXDIM];
    /* piece index of grid position g: row-major */
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) { stride[d] = s; s *= grid[d]; }
    for (int d = 0; d < nd; d++) {
        sh[d] = 0;
        for (int64_t g = 0; g < grid[d]; g++) sh[d] += parts[g * stride[d]]->shape[d];
    }
    for (int64_t i = 0; i < np; i++) {
        if (parts[i]->ndim != nd)
            return lask__nd_seterr(e, "block: piece %lld is %d-d, expected %d-d",
                                   (long long)i + 1, parts[i]->ndim, nd);
        dt = lask__dtype_promote(dt, parts[i]->dtype);
    }
    lask__ndarray *o = lask__ndarray_alloc(dt, nd, sh);
    if (!o) return lask__nd_seterr(e, "out of memory (block)");
    for (int64_t i = 0; i < np; i++) {
        int64_t rem = i, off = 0;
        for (int d = 0; d < nd; d++) {
            int64_t g = rem / stride[d];
            rem %= stride[d];
            /* offset along d: sizes of the pieces before g in this column */
            int64_t before = 0;
            for (int64_t k = 0; k < g; k++) before += parts[k * stride[d]]->shape[d];
            int64_t want = parts[g * stride[d]]->shape[d];
            if (parts[i]->shape[d] != want) {
                char b1[256];
                lask_chunk_unref(&o->h);
                return lask__nd_seterr(e, "block: piece %lld has shape %s, expected length %lld on axis %d",
                                       (long long)i + 1, SHP(parts[i], b1), (long long)want, d + 1);
            }
            off += before * o->strides[d];
        }
        lask__ndarray *v = lask__ndarray_view(&o->h, dt, nd, parts[i]->shape, o->strides, o->data + off);
        if (!v) { lask_chunk_unref(&o->h); return lask__nd_seterr(e, "out of memory"); }
        lask__nd_copyinto(v, parts[i]);
        lask_chunk_unref(&v->h);
    }
    return o;
}
