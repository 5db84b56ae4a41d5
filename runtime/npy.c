/* npy.c - NumPy .npy files (format versions 1.0-3.0, little-endian).
 *
 * The header is a Python dict literal: {'descr': '<f8', 'fortran_order':
 * False, 'shape': (3, 4), } padded with spaces to a 64-byte boundary and
 * ended by a newline. Blocks of a C-order file are read and written in place
 * with pread/pwrite, so many tasks can share one file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ndarray_ops.h"

static const struct { const char *descr; int32_t dt; } descrs[] = {
    {"<f8", LASK_F64}, {"<f4", LASK_F32}, {"<i8", LASK_I64}, {"<i4", LASK_I32},
    {"|u1", LASK_U8}, {"<u1", LASK_U8}, {"u1", LASK_U8}, {"|b1", LASK_BOOL8}, {"b1", LASK_BOOL8}};

static const char *dt_descr(int32_t dt) {
    switch (dt) {
    case LASK_F64: return "<f8"; case LASK_F32: return "<f4";
    case LASK_I64: return "<i8"; case LASK_I32: return "<i4";
    case LASK_U8: return "|u1"; default: return "|b1";
    }
}

static int full_read(int fd, void *buf, int64_t n, int64_t off) {
    char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, (size_t)n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        p += r; n -= r; off += r;
    }
    return 1;
}

static int full_write(int fd, const void *buf, int64_t n, int64_t off) {
    const char *p = buf;
    while (n > 0) {
        ssize_t r = pwrite(fd, p, (size_t)n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        p += r; n -= r; off += r;
    }
    return 1;
}

/* the value text following 'key': in the header dict, or NULL */
static const char *dict_value(const char *h, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

int lask__npy_read_info(const char *path, lask__npyinfo *info, lask__nderr *e) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { lask__nd_seterr(e, "cannot open %s: %s", path, strerror(errno)); return 0; }
    unsigned char pre[12];
    char *h = NULL;
    int ok = 0;
    if (!full_read(fd, pre, 10, 0) || memcmp(pre, "\x93NUMPY", 6) != 0) {
        lask__nd_seterr(e, "%s: not a .npy file (bad magic)", path);
        goto done;
    }
    int64_t hl, hstart;
    if (pre[6] == 1) { hl = pre[8] | (pre[9] << 8); hstart = 10; }
    else if (pre[6] == 2 || pre[6] == 3) {
        if (!full_read(fd, pre + 10, 2, 10)) { lask__nd_seterr(e, "%s: truncated header", path); goto done; }
        hl = (int64_t)pre[8] | ((int64_t)pre[9] << 8) | ((int64_t)pre[10] << 16) | ((int64_t)pre[11] << 24);
        hstart = 12;
    } else { lask__nd_seterr(e, "%s: unsupported .npy version %d.%d", path, pre[6], pre[7]); goto done; }
    if (hl <= 0 || hl > (1 << 24)) { lask__nd_seterr(e, "%s: bad header length %lld", path, (long long)hl); goto done; }
    if (!(h = malloc((size_t)hl + 1))) { lask__nd_seterr(e, "out of memory"); goto done; }
    if (!full_read(fd, h, hl, hstart)) { lask__nd_seterr(e, "%s: truncated header", path); goto done; }
    h[hl] = 0;
    const char *v = dict_value(h, "descr");
    if (!v || (*v != '\'' && *v != '"')) { lask__nd_seterr(e, "%s: header has no 'descr'", path); goto done; }
    char d[16] = {0};
    int i = 0;
    for (v++; *v && *v != '\'' && *v != '"' && i < 15; v++) d[i++] = *v;
    info->dtype = -1;
    for (size_t k = 0; k < sizeof descrs / sizeof descrs[0]; k++)
        if (!strcmp(d, descrs[k].descr)) info->dtype = descrs[k].dt;
    if (info->dtype < 0) {
        lask__nd_seterr(e, "%s: unsupported dtype '%s' (supported: <f8 <f4 <i8 <i4 |u1 |b1, little-endian)", path, d);
        goto done;
    }
    v = dict_value(h, "fortran_order");
    if (!v) { lask__nd_seterr(e, "%s: header has no 'fortran_order'", path); goto done; }
    info->fortran = strncmp(v, "True", 4) == 0;
    v = dict_value(h, "shape");
    if (!v || *v != '(') { lask__nd_seterr(e, "%s: header has no 'shape'", path); goto done; }
    v++;
    info->ndim = 0;
    int64_t total = 1;
    for (;;) {
        while (*v == ' ' || *v == ',') v++;
        if (*v == ')') break;
        char *end;
        long long n = strtoll(v, &end, 10);
        if (end == v || n < 0 || info->ndim >= LASK__MAXDIM) {
            lask__nd_seterr(e, "%s: malformed shape in header", path);
            goto done;
        }
        info->shape[info->ndim++] = n;
        if (n && total > INT64_MAX / n) { lask__nd_seterr(e, "%s: shape too large", path); goto done; }
        total *= n;
        v = end;
    }
    info->header_len = hstart + hl;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < info->header_len + total * lask_dtype_size(info->dtype)) {
        lask__nd_seterr(e, "%s: file is truncated (%lld bytes, header says %lld elements)",
                        path, (long long)size, (long long)total);
        goto done;
    }
    ok = 1;
done:
    free(h);
    close(fd);
    return ok;
}

/* length of the largest contiguous run of a block in a C-order file, and
 * the number of leading dims iterated one by one */
static int64_t run_len(int32_t nd, const int64_t *gshape, const int64_t *shape, int *outer) {
    int64_t run = 1;
    int k = nd - 1;
    for (; k >= 0; k--) {
        run *= shape[k];
        if (shape[k] != gshape[k]) break;
    }
    *outer = k < 0 ? 0 : k;
    return run;
}

static int blockio(int fd, int write, char *buf, int32_t nd, const int64_t *gshape,
                   const int64_t *start, const int64_t *shape, int64_t es, int64_t base) {
    int outer;
    int64_t run = run_len(nd, gshape, shape, &outer), total = 1;
    for (int d = 0; d < nd; d++) total *= shape[d];
    if (total == 0) return 1;
    int64_t idx[LASK__MAXDIM] = {0};
    for (int64_t done = 0; done < total; done += run) {
        int64_t g = 0;
        for (int d = 0; d < nd; d++) g = g * gshape[d] + start[d] + (d < outer ? idx[d] : 0);
        int64_t off = base + g * es;
        if (!(write ? full_write(fd, buf + done * es, run * es, off)
                    : full_read(fd, buf + done * es, run * es, off))) return 0;
        for (int d = outer - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
    }
    return 1;
}

lask__ndarray *lask__npy_read_block(const char *path, const lask__npyinfo *info,
                                    const int64_t *start, const int64_t *shape, lask__nderr *e) {
    if (info->fortran)
        return lask__nd_seterr(e, "%s: Fortran-order .npy files can only be loaded whole", path);
    for (int d = 0; d < info->ndim; d++)
        if (start[d] < 0 || shape[d] < 0 || start[d] + shape[d] > info->shape[d])
            return lask__nd_seterr(e, "%s: block outside the array on axis %d", path, d + 1);
    lask__ndarray *o = lask__ndarray_alloc(info->dtype, info->ndim, shape);
    if (!o) return lask__nd_seterr(e, "out of memory reading %s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { lask_chunk_unref(&o->h); return lask__nd_seterr(e, "cannot open %s: %s", path, strerror(errno)); }
    int ok = blockio(fd, 0, o->data, info->ndim, info->shape, start, shape,
                     lask_dtype_size(info->dtype), info->header_len);
    close(fd);
    if (!ok) { lask_chunk_unref(&o->h); return lask__nd_seterr(e, "%s: read failed (truncated?)", path); }
    if (info->dtype == LASK_BOOL8)   /* keep the 0/1 invariant whatever the file holds */
        for (int64_t i = 0; i < o->size; i++) o->data[i] = o->data[i] != 0;
    return o;
}

lask__ndarray *lask__npy_load(const char *path, lask__nderr *e) {
    lask__npyinfo info;
    if (!lask__npy_read_info(path, &info, e)) return NULL;
    int64_t zero[LASK__MAXDIM] = {0};
    if (!info.fortran) return lask__npy_read_block(path, &info, zero, info.shape, e);
    /* Fortran order: read as the reversed shape in C order, then transpose */
    lask__npyinfo rev = info;
    for (int d = 0; d < info.ndim; d++) rev.shape[d] = info.shape[info.ndim - 1 - d];
    rev.fortran = 0;
    lask__ndarray *t = lask__npy_read_block(path, &rev, zero, rev.shape, e);
    if (!t) return NULL;
    lask__ndarray *v = lask__nd_transpose(t, NULL, e);
    lask_chunk_unref(&t->h);
    if (!v) return NULL;
    lask__ndarray *o = lask__nd_astype(v, -1, e);
    lask_chunk_unref(&v->h);
    return o;
}

static int64_t make_header(char *buf, size_t n, int32_t dt, int32_t nd, const int64_t *shape) {
    char dict[2048], sh[1024];
    lask__shape_str(nd, shape, sh, sizeof sh);
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                       dt_descr(dt), sh);
    int64_t total = 10 + len + 1;
    int64_t pad = (64 - total % 64) % 64;
    int64_t hl = len + pad + 1;
    if ((size_t)(10 + hl) > n || hl > 65535) return -1;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(hl & 0xff);
    buf[9] = (char)(hl >> 8);
    memcpy(buf + 10, dict, (size_t)len);
    memset(buf + 10 + len, ' ', (size_t)pad);
    buf[10 + hl - 1] = '\n';
    return 10 + hl;
}

int lask__npy_create(const char *path, int32_t dt, int32_t nd, const int64_t *shape, lask__nderr *e) {
    char hdr[4096];
    int64_t hl = make_header(hdr, sizeof hdr, dt, nd, shape);
    if (hl < 0) { lask__nd_seterr(e, "%s: shape too long for a .npy header", path); return 0; }
    int64_t total = lask_dtype_size(dt);
    for (int d = 0; d < nd; d++) total *= shape[d];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { lask__nd_seterr(e, "cannot create %s: %s", path, strerror(errno)); return 0; }
    int ok = full_write(fd, hdr, hl, 0) && ftruncate(fd, (off_t)(hl + total)) == 0;
    if (close(fd) != 0) ok = 0;
    if (!ok) lask__nd_seterr(e, "cannot write %s: %s", path, strerror(errno));
    return ok;
}

int lask__npy_write_block(const char *path, const lask__ndarray *a, const int64_t *start,
                          lask__nderr *e) {
    lask__npyinfo info;
    if (!lask__npy_read_info(path, &info, e)) return 0;
    if (info.dtype != a->dtype || info.ndim != a->ndim || info.fortran) {
        lask__nd_seterr(e, "%s: block of dtype %s and %d dims does not match the file (%s, %d dims)",
                        path, lask__dtype_name(a->dtype), a->ndim, lask__dtype_name(info.dtype), info.ndim);
        return 0;
    }
    for (int d = 0; d < a->ndim; d++)
        if (start[d] < 0 || start[d] + a->shape[d] > info.shape[d]) {
            lask__nd_seterr(e, "%s: block outside the array on axis %d", path, d + 1);
            return 0;
        }
    lask__ndarray *c = lask__nd_contiguous(a, e);
    if (!c) return 0;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int ok = fd >= 0 && blockio(fd, 1, c->data, a->ndim, info.shape, start, a->shape,
                                lask_dtype_size(a->dtype), info.header_len);
    if (fd >= 0 && close(fd) != 0) ok = 0;
    lask_chunk_unref(&c->h);
    if (!ok) lask__nd_seterr(e, "cannot write %s: %s", path, strerror(errno));
    return ok;
}

int lask__npy_save(const char *path, const lask__ndarray *a, lask__nderr *e) {
    int64_t zero[LASK__MAXDIM] = {0};
    return lask__npy_create(path, a->dtype, a->ndim, a->shape, e) &&
           lask__npy_write_block(path, a, zero, e);
}
