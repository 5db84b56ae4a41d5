/*
 * parquet_decode.c - column chunks of one row group into a frame.
 *
 * Each column chunk is read as one byte range, then walked page by page:
 * an optional dictionary page, then data pages (v1 or v2). A data page
 * gives definition levels (which rows are present) and the present values;
 * values are decoded into the output column densely at the page's first row
 * and then spread out backwards over the null rows, in place.
 *
 * Every length comes from the file, so every one is checked against the
 * bytes that are really there before it is used.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "parquet.h"
#include "thrift_compact.h"
#include "parquet_filter.h"
#include "bigmem.h"

/* Limits that turn absurd sizes from a corrupted file into errors instead of
 * huge allocations (the fuzzer builds with smaller ones). */
#ifndef LASK__PQ_MAX_ROWS
#define LASK__PQ_MAX_ROWS ((int64_t)1 << 36)
#endif
#ifndef LASK__PQ_MAX_PAGE
#define LASK__PQ_MAX_PAGE ((int64_t)1 << 30)
#endif

typedef struct sview { const uint8_t *p; int64_t n; } sview;

typedef struct dec {
    const lask__pq_file *f;
    const lask__pq_column *col;
    const lask__pq_chunk *ch;
    int32_t rg;
    char *err;
    size_t errlen;
    lask__column *out;
    int64_t nrows, row;
    /* strings */
    lask__pq_buf sdata;
    /* dictionary, in output form (fixed types) or as views (strings) */
    int has_dict;
    int64_t dict_n;
    void *dict;                  /* int64_t/double/uint8_t[dict_n] or sview[] */
    uint8_t *dict_page;          /* keeps the bytes dictionary views point at */
    /* scratch, kept per thread between chunks (see scratch_take) */
    uint32_t *lev; int64_t levcap;
    uint32_t *idx; int64_t idxcap;
    sview *sv; int64_t svcap;
    int64_t *tmp64; int64_t tmpcap;
    lask__pq_buf pagebytes;      /* rebuilt DELTA_BYTE_ARRAY values */
    uint8_t *pbuf; int64_t pbufcap;   /* decompressed data pages */
    uint8_t *dense; int64_t densecap; /* present values of a page (masked reads) */
    /* masked reads: only rows r with keep[r] reach the output, at orow */
    const uint8_t *keep;
    int64_t nkeep, orow;
    /* predicate mode: no output column; each page's rows are tested
     * against the predicates on this column, res[i][row] for p[i] */
    const lask__pq_pred *preds;
    int32_t npreds;
    uint8_t *const *res;
} dec;

static int32_t derr(dec *d, int32_t st, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(d->err, d->errlen, "%s: row group %d, column '%s': %s", d->f->path,
             d->rg + 1, d->col->name, msg);
    return st;
}

static int grow(void **p, int64_t *cap, int64_t n, size_t w) {
    if (n <= *cap) return 0;
    int64_t c = *cap ? *cap : 256;
    while (c < n) c *= 2;
    void *q = realloc(*p, (size_t)c * w);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int buf_reserve(lask__pq_buf *b, size_t extra) {
    if (b->oom) return -1;
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q) { b->oom = 1; return -1; }
    b->p = q;
    b->cap = cap;
    return 0;
}

static int32_t le32(const uint8_t *p) {
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* ---------------------------------------------------------------- headers */

typedef struct pagehdr {
    int32_t type, usize, csize;
    int32_t nv, enc, def_enc;
    int32_t nulls, dl, rl, is_compressed;
    int has_body;
} pagehdr;

static void read_dph(lask__tc_reader *r, pagehdr *h, int v2) {
    int16_t id;
    int t;
    lask__tc_struct_begin(r);
    while ((t = lask__tc_field(r, &id)) != LASK__TC_STOP) {
        if (id == 1 && t == LASK__TC_I32) h->nv = lask__tc_i32(r);
        else if (!v2 && id == 2 && t == LASK__TC_I32) h->enc = lask__tc_i32(r);
        else if (!v2 && id == 3 && t == LASK__TC_I32) h->def_enc = lask__tc_i32(r);
        else if (v2 && id == 2 && t == LASK__TC_I32) h->nulls = lask__tc_i32(r);
        else if (v2 && id == 4 && t == LASK__TC_I32) h->enc = lask__tc_i32(r);
        else if (v2 && id == 5 && t == LASK__TC_I32) h->dl = lask__tc_i32(r);
        else if (v2 && id == 6 && t == LASK__TC_I32) h->rl = lask__tc_i32(r);
        else if (v2 && id == 7 && (t == LASK__TC_TRUE || t == LASK__TC_FALSE)) h->is_compressed = t == LASK__TC_TRUE;
        else lask__tc_skip(r, t);
    }
    lask__tc_struct_end(r);
    h->has_body = 1;
}

static int read_pagehdr(const uint8_t *p, const uint8_t *end, pagehdr *h, int64_t *used, const char **why) {
    lask__tc_reader r;
    lask__tc_init(&r, p, (size_t)(end - p));
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->nv = -1;
    h->usize = h->csize = -1;
    h->is_compressed = 1;
    h->def_enc = PQ_ENC_RLE;
    int16_t id;
    int t;
    lask__tc_struct_begin(&r);
    while ((t = lask__tc_field(&r, &id)) != LASK__TC_STOP) {
        if (id == 1 && t == LASK__TC_I32) h->type = lask__tc_i32(&r);
        else if (id == 2 && t == LASK__TC_I32) h->usize = lask__tc_i32(&r);
        else if (id == 3 && t == LASK__TC_I32) h->csize = lask__tc_i32(&r);
        else if (id == 5 && t == LASK__TC_STRUCT && h->type == PQ_PAGE_DATA) read_dph(&r, h, 0);
        else if (id == 7 && t == LASK__TC_STRUCT && h->type == PQ_PAGE_DICT) {
            int16_t id2;
            int t2;
            lask__tc_struct_begin(&r);
            while ((t2 = lask__tc_field(&r, &id2)) != LASK__TC_STOP) {
                if (id2 == 1 && t2 == LASK__TC_I32) h->nv = lask__tc_i32(&r);
                else if (id2 == 2 && t2 == LASK__TC_I32) h->enc = lask__tc_i32(&r);
                else lask__tc_skip(&r, t2);
            }
            lask__tc_struct_end(&r);
            h->has_body = 1;
        }
        else if (id == 8 && t == LASK__TC_STRUCT && h->type == PQ_PAGE_DATA_V2) read_dph(&r, h, 1);
        else lask__tc_skip(&r, t);
    }
    lask__tc_struct_end(&r);
    if (r.err) { *why = r.err; return -1; }
    if (h->usize < 0 || h->csize < 0) { *why = "page header without sizes"; return -1; }
    if (h->type != PQ_PAGE_INDEX && h->type >= 0 && (!h->has_body || h->nv < 0)) {
        *why = "page header without its page type's header";
        return -1;
    }
    if (h->dl < 0 || h->rl < 0 || h->nulls < 0) { *why = "negative level sizes"; return -1; }
    *used = r.p - p;
    return 0;
}

/* ---------------------------------------------------------------- values */

static int pwidth(const lask__pq_column *c) {
    switch (c->physical) {
    case PQ_INT32: case PQ_FLOAT: return 4;
    case PQ_INT64: case PQ_DOUBLE: return 8;
    case PQ_INT96: return 12;
    case PQ_FLBA: return c->type_length;
    default: return 0;
    }
}

static double pow10i(int32_t s) {
    return pow(10.0, (double)s);
}

/* Big-endian two's complement bytes -> double. Negative numbers are summed
 * as their complement so no precision is lost to cancellation. */
static double be_decimal(const uint8_t *p, int64_t n) {
    int neg = n > 0 && (p[0] & 0x80);
    uint8_t x = neg ? 0xff : 0;
    double v = 0;
    for (int64_t i = 0; i < n; i++) v = v * 256.0 + (uint8_t)(p[i] ^ x);
    return neg ? -(v + 1) : v;
}

/* Convert n fixed-width physical values (PLAIN layout at src) into the
 * output type at dst. src and dst may not overlap. */
static void convert_fixed(const lask__pq_column *c, const uint8_t *src, int64_t n, void *dst) {
    int64_t *o64 = dst;
    double *od = dst;
    switch (c->physical) {
    case PQ_INT32:
        for (int64_t i = 0; i < n; i++) {
            int32_t v = le32(src + 4 * i);
            if (c->coltype == LASK_COL_TIMESTAMP) o64[i] = (int64_t)((uint64_t)(int64_t)v * UINT64_C(86400000000000));
            else if (c->coltype == LASK_COL_FLOAT64) od[i] = v / pow10i(c->scale);
            else if (c->logical == PQ_L_INT && !c->is_signed) o64[i] = (int64_t)(uint32_t)v;
            else o64[i] = v;
        }
        break;
    case PQ_INT64: {
        int64_t mul = 1;
        if (c->coltype == LASK_COL_TIMESTAMP)
            mul = c->logical == PQ_L_DATE ? INT64_C(86400000000000)
                : c->unit == 1 ? 1000000 : c->unit == 2 ? 1000 : 1;
        if (c->coltype == LASK_COL_FLOAT64) {
            double sc = pow10i(c->scale);
            for (int64_t i = 0; i < n; i++) {
                int64_t v;
                memcpy(&v, src + 8 * i, 8);
                od[i] = (double)v / sc;
            }
        } else if (mul == 1) {
            memcpy(dst, src, (size_t)n * 8);
        } else {
            for (int64_t i = 0; i < n; i++) {
                int64_t v;
                memcpy(&v, src + 8 * i, 8);
                o64[i] = (int64_t)((uint64_t)v * (uint64_t)mul);
            }
        }
        break;
    }
    case PQ_INT96:
        for (int64_t i = 0; i < n; i++) {
            int64_t nanos;
            memcpy(&nanos, src + 12 * i, 8);
            int64_t day = le32(src + 12 * i + 8);
            o64[i] = (int64_t)((uint64_t)(day - 2440588) * UINT64_C(86400000000000) + (uint64_t)nanos);
        }
        break;
    case PQ_FLOAT:
        for (int64_t i = 0; i < n; i++) {
            float v;
            memcpy(&v, src + 4 * i, 4);
            od[i] = v;
        }
        break;
    case PQ_DOUBLE:
        memcpy(dst, src, (size_t)n * 8);
        break;
    case PQ_FLBA: {   /* only DECIMAL reaches here */
        int64_t w = c->type_length;
        double sc = pow10i(c->scale);
        for (int64_t i = 0; i < n; i++) od[i] = be_decimal(src + w * i, w) / sc;
        break;
    }
    default: break;
    }
}

/* Are PLAIN values of c already in the output form (8 bytes, no scaling)? */
static int plain_is_output(const lask__pq_column *c) {
    if (c->physical == PQ_DOUBLE) return 1;
    if (c->physical != PQ_INT64) return 0;
    if (c->coltype == LASK_COL_INT64) return 1;
    return c->coltype == LASK_COL_TIMESTAMP && c->logical == PQ_L_TIMESTAMP && c->unit == 3;
}

static int outwidth(const lask__pq_column *c) {
    return c->coltype == LASK_COL_BOOL ? 1 : 8;
}

static int need_sv(dec *d, int64_t n) {
    return grow((void **)&d->sv, &d->svcap, n, sizeof(sview));
}

/* Decode n present values encoded with enc from [p, end). Fixed types go to
 * dst (output form); strings and FLBA to d->sv. */
static int32_t decode_values(dec *d, int enc, const uint8_t *p, const uint8_t *end,
                             int64_t n, void *dst) {
    const lask__pq_column *c = d->col;
    int64_t avail = end - p;
    int w = pwidth(c);
    int strings = c->physical == PQ_BYTE_ARRAY || (c->physical == PQ_FLBA && c->coltype == LASK_COL_STRING);
    if (strings || c->physical == PQ_BYTE_ARRAY) {
        if (need_sv(d, n)) return derr(d, LASK_ENOMEM, "out of memory");
    }
    switch (enc) {
    case PQ_ENC_PLAIN:
        if (c->physical == PQ_BOOLEAN) {
            if (avail * 8 < n) return derr(d, LASK_EFORMAT, "truncated BOOLEAN values");
            uint8_t *o = dst;
            for (int64_t i = 0; i < n; i++) o[i] = (p[i >> 3] >> (i & 7)) & 1;
            return LASK_OK;
        }
        if (c->physical == PQ_BYTE_ARRAY) {
            for (int64_t i = 0; i < n; i++) {
                if (end - p < 4) return derr(d, LASK_EFORMAT, "truncated BYTE_ARRAY values");
                uint32_t len = (uint32_t)le32(p);
                p += 4;
                if ((int64_t)len > end - p) return derr(d, LASK_EFORMAT, "BYTE_ARRAY value longer than its page");
                d->sv[i].p = p;
                d->sv[i].n = len;
                p += len;
            }
            goto byte_arrays;
        }
        if (w <= 0) return derr(d, LASK_EFORMAT, "unsupported physical type %d", c->physical);
        if (avail / w < n) return derr(d, LASK_EFORMAT, "truncated PLAIN values (%lld needed, page holds %lld bytes)",
                                       (long long)n, (long long)avail);
        if (strings) {
            for (int64_t i = 0; i < n; i++) { d->sv[i].p = p + (int64_t)w * i; d->sv[i].n = w; }
            return LASK_OK;
        }
        convert_fixed(c, p, n, dst);
        return LASK_OK;
    case PQ_ENC_RLE: {
        if (c->physical != PQ_BOOLEAN) return derr(d, LASK_EFORMAT, "RLE encoding of a non-BOOLEAN column");
        if (avail < 4) return derr(d, LASK_EFORMAT, "truncated RLE BOOLEAN values");
        int64_t len = (uint32_t)le32(p);
        if (len > avail - 4) return derr(d, LASK_EFORMAT, "RLE length past the page");
        if (grow((void **)&d->idx, &d->idxcap, n, 4)) return derr(d, LASK_ENOMEM, "out of memory");
        lask__pq_rle r;
        lask__pq_rle_init(&r, p + 4, p + 4 + len, 1);
        if (lask__pq_rle_read(&r, d->idx, n)) return derr(d, LASK_EFORMAT, "corrupted RLE BOOLEAN values");
        uint8_t *o = dst;
        for (int64_t i = 0; i < n; i++) o[i] = (uint8_t)(d->idx[i] & 1);
        return LASK_OK;
    }
    case PQ_ENC_PLAIN_DICT: case PQ_ENC_RLE_DICT: {
        if (!d->has_dict) return derr(d, LASK_EFORMAT, "dictionary-encoded page without a dictionary page");
        if (n == 0) return LASK_OK;
        if (avail < 1) return derr(d, LASK_EFORMAT, "truncated dictionary indices");
        int bw = p[0];
        if (bw > 32) return derr(d, LASK_EFORMAT, "bad dictionary index bit width %d", bw);
        if (grow((void **)&d->idx, &d->idxcap, n, 4)) return derr(d, LASK_ENOMEM, "out of memory");
        lask__pq_rle r;
        lask__pq_rle_init(&r, p + 1, end, bw);
        if (lask__pq_rle_read(&r, d->idx, n)) return derr(d, LASK_EFORMAT, "corrupted dictionary indices");
        uint64_t dn = (uint64_t)d->dict_n;
        for (int64_t i = 0; i < n; i++)
            if (d->idx[i] >= dn)
                return derr(d, LASK_EFORMAT, "dictionary index %u out of range (dictionary has %lld values)",
                            d->idx[i], (long long)d->dict_n);
        if (strings || c->physical == PQ_BYTE_ARRAY) {
            const sview *dv = d->dict;
            for (int64_t i = 0; i < n; i++) d->sv[i] = dv[d->idx[i]];
            if (c->physical == PQ_BYTE_ARRAY && !strings) goto byte_arrays_dict;
            return LASK_OK;
        }
        if (outwidth(c) == 1) {
            const uint8_t *dv = d->dict;
            uint8_t *o = dst;
            for (int64_t i = 0; i < n; i++) o[i] = dv[d->idx[i]];
        } else {
            const int64_t *dv = d->dict;
            int64_t *o = dst;
            for (int64_t i = 0; i < n; i++) o[i] = dv[d->idx[i]];
        }
        return LASK_OK;
    }
    case PQ_ENC_DELTA_BINARY: {
        if (c->physical != PQ_INT32 && c->physical != PQ_INT64)
            return derr(d, LASK_EFORMAT, "DELTA_BINARY_PACKED on a non-integer column");
        if (grow((void **)&d->tmp64, &d->tmpcap, n + 1, 8)) return derr(d, LASK_ENOMEM, "out of memory");
        int64_t cnt, used;
        if (lask__pq_delta_decode(p, end, n, d->tmp64, &cnt, &used, c->physical == PQ_INT32) || cnt != n)
            return derr(d, LASK_EFORMAT, "corrupted DELTA_BINARY_PACKED values");
        if (c->physical == PQ_INT32) {
            /* back to the PLAIN layout, then the usual conversion */
            int32_t *t32 = (int32_t *)d->tmp64;
            for (int64_t i = 0; i < n; i++) t32[i] = (int32_t)d->tmp64[i];
        }
        convert_fixed(c, (const uint8_t *)d->tmp64, n, dst);
        return LASK_OK;
    }
    case PQ_ENC_DELTA_LENGTH: {
        if (c->physical != PQ_BYTE_ARRAY) return derr(d, LASK_EFORMAT, "DELTA_LENGTH_BYTE_ARRAY on a non-BYTE_ARRAY column");
        if (grow((void **)&d->tmp64, &d->tmpcap, n + 1, 8)) return derr(d, LASK_ENOMEM, "out of memory");
        int64_t cnt, used;
        if (lask__pq_delta_decode(p, end, n, d->tmp64, &cnt, &used, 1) || cnt != n)
            return derr(d, LASK_EFORMAT, "corrupted DELTA_LENGTH_BYTE_ARRAY lengths");
        p += used;
        for (int64_t i = 0; i < n; i++) {
            int64_t len = d->tmp64[i];
            if (len < 0 || len > end - p) return derr(d, LASK_EFORMAT, "DELTA_LENGTH_BYTE_ARRAY value past the page");
            d->sv[i].p = p;
            d->sv[i].n = len;
            p += len;
        }
        goto byte_arrays;
    }
    case PQ_ENC_DELTA_BYTE_ARRAY: {
        if (c->physical != PQ_BYTE_ARRAY && c->physical != PQ_FLBA)
            return derr(d, LASK_EFORMAT, "DELTA_BYTE_ARRAY on a non-byte-array column");
        if (need_sv(d, n)) return derr(d, LASK_ENOMEM, "out of memory");
        if (grow((void **)&d->tmp64, &d->tmpcap, 2 * n + 1, 8)) return derr(d, LASK_ENOMEM, "out of memory");
        int64_t *pre = d->tmp64, *suf = d->tmp64 + n;
        int64_t cnt, used;
        if (lask__pq_delta_decode(p, end, n, pre, &cnt, &used, 1) || cnt != n)
            return derr(d, LASK_EFORMAT, "corrupted DELTA_BYTE_ARRAY prefix lengths");
        p += used;
        if (lask__pq_delta_decode(p, end, n, suf, &cnt, &used, 1) || cnt != n)
            return derr(d, LASK_EFORMAT, "corrupted DELTA_BYTE_ARRAY suffix lengths");
        p += used;
        /* Rebuild every value into one buffer, then point at it. */
        lask__pq_buf *b = &d->pagebytes;
        b->len = 0;
        int64_t prevoff = 0, prevlen = 0;
        for (int64_t i = 0; i < n; i++) {
            if (pre[i] < 0 || pre[i] > prevlen || suf[i] < 0 || suf[i] > end - p)
                return derr(d, LASK_EFORMAT, "corrupted DELTA_BYTE_ARRAY value %lld", (long long)i + 1);
            int64_t off = (int64_t)b->len;
            if (buf_reserve(b, (size_t)(pre[i] + suf[i])))
                return derr(d, LASK_ENOMEM, "out of memory");
            memcpy(b->p + b->len, b->p + prevoff, (size_t)pre[i]);   /* prefix of the previous value */
            b->len += (size_t)pre[i];
            lask__pq_buf_put(b, p, (size_t)suf[i]);
            if (b->oom) return derr(d, LASK_ENOMEM, "out of memory");
            p += suf[i];
            prevoff = off;
            prevlen = pre[i] + suf[i];
            d->sv[i].p = NULL;
            d->sv[i].n = prevlen;
        }
        int64_t off = 0;
        for (int64_t i = 0; i < n; i++) { d->sv[i].p = b->p + off; off += d->sv[i].n; }
        if (c->physical == PQ_FLBA) {
            for (int64_t i = 0; i < n; i++)
                if (d->sv[i].n != c->type_length) return derr(d, LASK_EFORMAT, "FIXED_LEN_BYTE_ARRAY value of the wrong length");
            if (!strings) {
                double sc = pow10i(c->scale);
                for (int64_t i = 0; i < n; i++) ((double *)dst)[i] = be_decimal(d->sv[i].p, d->sv[i].n) / sc;
            }
            return LASK_OK;
        }
        goto byte_arrays;
    }
    case PQ_ENC_BYTE_STREAM_SPLIT: {
        if (w <= 0 || c->physical == PQ_INT96) return derr(d, LASK_EFORMAT, "BYTE_STREAM_SPLIT on an unsupported type");
        if (avail / w < n) return derr(d, LASK_EFORMAT, "truncated BYTE_STREAM_SPLIT values");
        uint8_t *t = malloc((size_t)(n * w) + 1);
        if (!t) return derr(d, LASK_ENOMEM, "out of memory");
        for (int k = 0; k < w; k++)
            for (int64_t i = 0; i < n; i++) t[i * w + k] = p[(int64_t)k * n + i];
        if (strings) {
            /* views must outlive this call: keep the bytes in pagebytes */
            d->pagebytes.len = 0;
            lask__pq_buf_put(&d->pagebytes, t, (size_t)(n * w));
            free(t);
            if (d->pagebytes.oom) return derr(d, LASK_ENOMEM, "out of memory");
            for (int64_t i = 0; i < n; i++) { d->sv[i].p = d->pagebytes.p + i * w; d->sv[i].n = w; }
            return LASK_OK;
        }
        convert_fixed(c, t, n, dst);
        free(t);
        return LASK_OK;
    }
    default:
        return derr(d, LASK_EFORMAT, "unsupported encoding %d", enc);
    }
byte_arrays:
byte_arrays_dict:
    if (!strings) {   /* BYTE_ARRAY DECIMAL */
        double sc = pow10i(c->scale);
        for (int64_t i = 0; i < n; i++) ((double *)dst)[i] = be_decimal(d->sv[i].p, d->sv[i].n) / sc;
    }
    return LASK_OK;
}

/* --------------------------------------------------------------- pages */

static int32_t read_dict(dec *d, const pagehdr *h, uint8_t *page, int64_t len) {
    const lask__pq_column *c = d->col;
    if (d->has_dict) return derr(d, LASK_EFORMAT, "a second dictionary page");
    if (h->enc != PQ_ENC_PLAIN && h->enc != PQ_ENC_PLAIN_DICT)
        return derr(d, LASK_EFORMAT, "unsupported dictionary encoding %d", h->enc);
    int64_t n = h->nv;
    if (c->physical == PQ_BOOLEAN) {
        if (n > len * 8) return derr(d, LASK_EFORMAT, "dictionary page shorter than its values");
    } else if (c->physical == PQ_BYTE_ARRAY) {
        if (n > len / 4) return derr(d, LASK_EFORMAT, "dictionary page shorter than its values");
    } else if (pwidth(c) <= 0 || n > len / pwidth(c)) {
        return derr(d, LASK_EFORMAT, "dictionary page shorter than its values");
    }
    int strings = c->coltype == LASK_COL_STRING;
    int32_t st;
    if (strings) {
        if ((st = decode_values(d, PQ_ENC_PLAIN, page, page + len, n, NULL)) != LASK_OK) return st;
        sview *dv = malloc((size_t)(n ? n : 1) * sizeof *dv);
        if (!dv) return derr(d, LASK_ENOMEM, "out of memory");
        memcpy(dv, d->sv, (size_t)n * sizeof *dv);
        d->dict = dv;
    } else {
        void *dv = malloc((size_t)(n ? n : 1) * (size_t)outwidth(c));
        if (!dv) return derr(d, LASK_ENOMEM, "out of memory");
        d->dict = dv;
        if ((st = decode_values(d, PQ_ENC_PLAIN, page, page + len, n, dv)) != LASK_OK) return st;
    }
    d->dict_page = page;   /* views point into it: keep it */
    d->dict_n = n;
    d->has_dict = 1;
    return LASK_OK;
}

int64_t lask__pq_count_kept(const uint8_t *keep, int64_t n) {
    int64_t c = 0, k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        memcpy(&w, keep + k, 8);
        c += __builtin_popcountll(w);   /* one bit per kept row */
    }
    for (; k < n; k++) c += keep[k];
    return c;
}

/* Put present values (already dense at the page's first row) in place. */
static int32_t spread(dec *d, const uint32_t *lev, int64_t nv, int64_t present) {
    if (present == nv) return LASK_OK;
    uint8_t *valid = lask__column_validity(d->out);
    if (!valid) return derr(d, LASK_ENOMEM, "out of memory");
    int w = outwidth(d->col);
    uint8_t *base = (uint8_t *)d->out->values + d->row * w;
    int64_t j = present;
    for (int64_t k = nv - 1; k >= 0; k--) {
        if (lev[k]) {
            j--;
            if (j != k) memcpy(base + k * w, base + j * w, (size_t)w);
        } else {
            memset(base + k * w, 0, (size_t)w);
            lask__bit_set(valid, d->row + k, 0);
        }
    }
    return LASK_OK;
}

static int32_t append_strings(dec *d, const uint32_t *lev, int64_t nv, int64_t present) {
    int64_t *offs = d->out->values;
    uint8_t *valid = NULL;
    if (present != nv && !(valid = lask__column_validity(d->out))) return derr(d, LASK_ENOMEM, "out of memory");
    size_t bytes = 0;
    for (int64_t j = 0; j < present; j++) bytes += (size_t)d->sv[j].n;
    if (buf_reserve(&d->sdata, bytes + 1)) return derr(d, LASK_ENOMEM, "out of memory");
    uint8_t *sp = d->sdata.p;
    size_t len = d->sdata.len;
    int64_t j = 0;
    for (int64_t k = 0; k < nv; k++) {
        int64_t r = d->row + k;
        if (!lev || lev[k]) {
            memcpy(sp + len, d->sv[j].p, (size_t)d->sv[j].n);
            len += (size_t)d->sv[j].n;
            j++;
        } else {
            lask__bit_set(valid, r, 0);
        }
        offs[r + 1] = (int64_t)len;
    }
    d->sdata.len = len;
    return LASK_OK;
}

/* Masked read: the present values of the page are dense in d->dense (fixed
 * types) or d->sv (strings); copy the kept rows to the output. */
static int32_t emit_kept(dec *d, const uint32_t *lev, int64_t nv, int64_t present) {
    const uint8_t *keep = d->keep + d->row;
    int64_t kept = 0, kept_present = 0;
    if (!lev) {
        kept = lask__pq_count_kept(keep, nv);
        kept_present = kept;
    } else {
        for (int64_t k = 0; k < nv; k++) {
            kept += keep[k];
            kept_present += keep[k] & lev[k];
        }
    }
    if (kept > d->nkeep - d->orow) return derr(d, LASK_EFORMAT, "row mask longer than the output");
    uint8_t *valid = NULL;
    if (kept_present != kept && !(valid = lask__column_validity(d->out))) return derr(d, LASK_ENOMEM, "out of memory");
    int64_t o = d->orow;
    if (d->col->coltype == LASK_COL_STRING) {
        size_t bytes = 0;
        for (int64_t k = 0, j = 0; k < nv; k++) {
            int pr = !lev || lev[k];
            if (keep[k] && pr) bytes += (size_t)d->sv[j].n;
            j += pr;
        }
        if (buf_reserve(&d->sdata, bytes + 1)) return derr(d, LASK_ENOMEM, "out of memory");
        int64_t *offs = d->out->values;
        uint8_t *sp = d->sdata.p;
        size_t len = d->sdata.len;
        for (int64_t k = 0, j = 0; k < nv; k++) {
            int pr = !lev || lev[k];
            if (keep[k]) {
                if (pr) { memcpy(sp + len, d->sv[j].p, (size_t)d->sv[j].n); len += (size_t)d->sv[j].n; }
                else lask__bit_set(valid, o, 0);
                offs[++o] = (int64_t)len;
            }
            j += pr;
        }
        d->sdata.len = len;
    } else if (outwidth(d->col) == 1) {
        const uint8_t *src = d->dense;
        uint8_t *dst = d->out->values;
        for (int64_t k = 0, j = 0; k < nv; k++) {
            int pr = !lev || lev[k];
            if (keep[k]) {
                dst[o] = pr ? src[j] : 0;
                if (!pr) lask__bit_set(valid, o, 0);
                o++;
            }
            j += pr;
        }
    } else if (!lev) {
        /* no missing values: branch-free compaction */
        const int64_t *src = (const int64_t *)d->dense;
        int64_t *dst = (int64_t *)d->out->values + o;
        int64_t m = 0;
        for (int64_t k = 0; k < nv && m < kept; k++) { dst[m] = src[k]; m += keep[k] != 0; }
        o += kept;
    } else {
        const int64_t *src = (const int64_t *)d->dense;
        int64_t *dst = d->out->values;
        for (int64_t k = 0, j = 0; k < nv; k++) {
            int pr = lev[k] != 0;
            if (keep[k]) {
                dst[o] = pr ? src[j] : 0;
                if (!pr) lask__bit_set(valid, o, 0);
                o++;
            }
            j += pr;
        }
    }
    (void)present;
    d->orow = o;
    return LASK_OK;
}

static int32_t data_page(dec *d, const pagehdr *h, const uint8_t *p, const uint8_t *end,
                         const uint8_t *levp, const uint8_t *levend) {
    const lask__pq_column *c = d->col;
    int64_t nv = h->nv;
    if (nv > d->nrows - d->row)
        return derr(d, LASK_EFORMAT, "pages hold more values than the row group's %lld rows", (long long)d->nrows);
    int64_t present = nv;
    uint32_t *lev = NULL;
    if (c->max_def > 0) {
        if (grow((void **)&d->lev, &d->levcap, nv, 4)) return derr(d, LASK_ENOMEM, "out of memory");
        lev = d->lev;
        lask__pq_rle r;
        if (levp) {   /* v2: the levels sit before the values, uncompressed */
            lask__pq_rle_init(&r, levp, levend, 1);
        } else {
            if (h->def_enc != PQ_ENC_RLE)
                return derr(d, LASK_EFORMAT, "unsupported definition level encoding %d", h->def_enc);
            if (end - p < 4) return derr(d, LASK_EFORMAT, "truncated definition levels");
            int64_t len = (uint32_t)le32(p);
            if (len > end - p - 4) return derr(d, LASK_EFORMAT, "definition levels past the page");
            lask__pq_rle_init(&r, p + 4, p + 4 + len, 1);
            p += 4 + len;
        }
        if (nv && lask__pq_rle_skip_run(&r, nv, 1)) {
            lev = NULL;   /* every value present: no levels to expand */
        } else {
            if (nv && lask__pq_rle_read(&r, lev, nv)) return derr(d, LASK_EFORMAT, "corrupted definition levels");
            present = 0;
            for (int64_t i = 0; i < nv; i++) {
                if (lev[i] > 1) return derr(d, LASK_EFORMAT, "definition level %u above the maximum 1", lev[i]);
                present += lev[i];
            }
        }
    }
    int32_t st;
    if (d->preds) {
        /* test the page's values where they are (PLAIN 8-byte values with no
         * nulls, straight from the page) or decoded into the dense buffer;
         * the column never materializes */
        const void *vals;
        if (present == nv && h->enc == PQ_ENC_PLAIN && plain_is_output(c) && (uintptr_t)p % 8 == 0) {
            if ((end - p) / 8 < nv) return derr(d, LASK_EFORMAT, "truncated PLAIN values");
            vals = p;
        } else {
            if (grow((void **)&d->dense, &d->densecap, present + 1, 8)) return derr(d, LASK_ENOMEM, "out of memory");
            if ((st = decode_values(d, h->enc, p, end, present, d->dense)) != LASK_OK) return st;
            vals = d->dense;
        }
        for (int32_t i = 0; i < d->npreds; i++)
            if (strcmp(d->preds[i].col, c->name) == 0)
                lask__pq_pred_rows(c->coltype, vals, present == nv ? NULL : lev, nv, &d->preds[i], d->res[i] + d->row);
        d->row += nv;
        return LASK_OK;
    }
    if (d->keep && present == nv && nv > 0 && (h->enc == PQ_ENC_PLAIN_DICT || h->enc == PQ_ENC_RLE_DICT) &&
        d->has_dict && c->coltype != LASK_COL_STRING && c->physical != PQ_BYTE_ARRAY && outwidth(c) == 8) {
        /* dictionary indices of 8-byte values with no nulls: look up only
         * the kept rows, straight into the output */
        if (end - p < 1) return derr(d, LASK_EFORMAT, "truncated dictionary indices");
        int bw = p[0];
        if (bw > 32) return derr(d, LASK_EFORMAT, "bad dictionary index bit width %d", bw);
        if (grow((void **)&d->idx, &d->idxcap, nv, 4)) return derr(d, LASK_ENOMEM, "out of memory");
        lask__pq_rle r;
        lask__pq_rle_init(&r, p + 1, end, bw);
        if (lask__pq_rle_read(&r, d->idx, nv)) return derr(d, LASK_EFORMAT, "corrupted dictionary indices");
        const uint32_t *idx = d->idx;
        uint32_t top = 0;
        {   /* four running maxima: no loop-carried dependency on one */
            uint32_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
            int64_t k = 0;
            for (; k + 4 <= nv; k += 4) {
                t0 = idx[k] > t0 ? idx[k] : t0;
                t1 = idx[k + 1] > t1 ? idx[k + 1] : t1;
                t2 = idx[k + 2] > t2 ? idx[k + 2] : t2;
                t3 = idx[k + 3] > t3 ? idx[k + 3] : t3;
            }
            for (; k < nv; k++) t0 = idx[k] > t0 ? idx[k] : t0;
            t0 = t1 > t0 ? t1 : t0;
            t2 = t3 > t2 ? t3 : t2;
            top = t2 > t0 ? t2 : t0;
        }
        if ((uint64_t)top >= (uint64_t)d->dict_n)
            return derr(d, LASK_EFORMAT, "dictionary index %u out of range (dictionary has %lld values)",
                        top, (long long)d->dict_n);
        const uint8_t *keep = d->keep + d->row;
        int64_t kept = 0;
        kept = lask__pq_count_kept(keep, nv);
        if (kept > d->nkeep - d->orow) return derr(d, LASK_EFORMAT, "row mask longer than the output");
        const int64_t *dv = d->dict;
        int64_t *dst = (int64_t *)d->out->values + d->orow, m = 0;
        for (int64_t k = 0; k < nv && m < kept; k++) {
            dst[m] = dv[idx[k]];
            m += keep[k];
        }
        d->orow += kept;
        d->row += nv;
        return LASK_OK;
    }
    if (d->keep && present == nv && h->enc == PQ_ENC_PLAIN && plain_is_output(c)) {
        /* PLAIN 8-byte values that need no conversion: compact straight
         * from the page */
        if ((end - p) / 8 < nv) return derr(d, LASK_EFORMAT, "truncated PLAIN values");
        const uint8_t *keep = d->keep + d->row;
        int64_t kept = 0;
        kept = lask__pq_count_kept(keep, nv);
        if (kept > d->nkeep - d->orow) return derr(d, LASK_EFORMAT, "row mask longer than the output");
        int64_t *dst = (int64_t *)d->out->values + d->orow, m = 0;
        for (int64_t k = 0; k < nv && m < kept; k++) {
            memcpy(&dst[m], p + 8 * k, 8);
            m += keep[k];
        }
        d->orow += kept;
        d->row += nv;
        return LASK_OK;
    }
    if (d->keep) {
        void *dst = NULL;
        if (c->coltype != LASK_COL_STRING) {
            if (grow((void **)&d->dense, &d->densecap, present + 1, 8)) return derr(d, LASK_ENOMEM, "out of memory");
            dst = d->dense;
        }
        if ((st = decode_values(d, h->enc, p, end, present, dst)) != LASK_OK) return st;
        /* a page without missing values takes the branch-free paths */
        if ((st = emit_kept(d, present == nv ? NULL : lev, nv, present)) != LASK_OK) return st;
    } else if (c->coltype == LASK_COL_STRING) {
        if ((st = decode_values(d, h->enc, p, end, present, NULL)) != LASK_OK) return st;
        if ((st = append_strings(d, lev, nv, present)) != LASK_OK) return st;
    } else {
        void *dst = (uint8_t *)d->out->values + d->row * outwidth(c);
        if ((st = decode_values(d, h->enc, p, end, present, dst)) != LASK_OK) return st;
        if ((st = spread(d, lev, nv, present)) != LASK_OK) return st;
    }
    d->row += nv;
    return LASK_OK;
}

static int64_t max_ratio(int32_t codec) {
    switch (codec) {
    case PQ_CODEC_NONE: return 1;
    case PQ_CODEC_GZIP: return 1040;
    case PQ_CODEC_LZ4_RAW: return 256;
    case PQ_CODEC_SNAPPY: return 64;   /* checked exactly by snappy anyway */
    default: return 0;                 /* no bound: the page cap applies */
    }
}

static int32_t walk_pages(dec *d, const uint8_t *buf, int64_t len) {
    const lask__pq_chunk *ch = d->ch;
    int64_t pos = 0;
    int32_t st;
    while (d->row < d->nrows) {
        if (pos >= len)
            return derr(d, LASK_EFORMAT, "column chunk ends after %lld of %lld rows",
                        (long long)d->row, (long long)d->nrows);
        pagehdr h;
        int64_t used;
        const char *why = NULL;
        if (read_pagehdr(buf + pos, buf + len, &h, &used, &why))
            return derr(d, LASK_EFORMAT, "corrupted page header at byte %lld (%s)",
                        (long long)(ch->dictionary_page_offset > 0 && ch->dictionary_page_offset < ch->data_page_offset
                                    ? ch->dictionary_page_offset : ch->data_page_offset) + pos, why);
        pos += used;
        if (h.csize > len - pos) return derr(d, LASK_EFORMAT, "page is longer than its column chunk");
        const uint8_t *body = buf + pos;
        pos += h.csize;
        if (h.type == PQ_PAGE_INDEX || h.type < 0 || h.type > 3) continue;   /* skip unknown pages */
        int64_t r = max_ratio(ch->codec);
        if (h.usize > LASK__PQ_MAX_PAGE || (r && h.usize > (int64_t)h.csize * r + 64))
            return derr(d, LASK_EFORMAT, "implausible page size %d", h.usize);
        if (h.type == PQ_PAGE_DATA_V2) {
            int64_t lv = (int64_t)h.dl + h.rl;
            if (lv > h.csize || lv > h.usize) return derr(d, LASK_EFORMAT, "level sizes past the page");
            if (h.rl > 0) return derr(d, LASK_EFORMAT, "repetition levels in a flat column");
            int64_t vlen = h.usize - lv;
            const uint8_t *vals = body + lv;
            if (h.is_compressed && ch->codec != PQ_CODEC_NONE) {
                if (grow((void **)&d->pbuf, &d->pbufcap, vlen + 1, 1)) return derr(d, LASK_ENOMEM, "out of memory");
                if ((st = lask__pq_decompress(ch->codec, body + lv, (size_t)(h.csize - lv), d->pbuf, (size_t)vlen, &why)) != LASK_OK)
                    return derr(d, st, "%s (page at chunk byte %lld)", why, (long long)(body - buf));
                vals = d->pbuf;
            } else if (h.csize - lv != vlen) {
                return derr(d, LASK_EFORMAT, "page sizes differ");
            }
            if ((st = data_page(d, &h, vals, vals + vlen, body, body + h.dl))) return st;
            continue;
        }
        if (h.type == PQ_PAGE_DICT) {
            /* the dictionary's string views point into its page: a buffer of its own */
            uint8_t *page = malloc((size_t)(h.usize ? h.usize : 1));
            if (!page) return derr(d, LASK_ENOMEM, "out of memory");
            if ((st = lask__pq_decompress(ch->codec, body, (size_t)h.csize, page, (size_t)h.usize, &why)) != LASK_OK) {
                free(page);
                return derr(d, st, "%s (page at chunk byte %lld)", why, (long long)(body - buf));
            }
            st = read_dict(d, &h, page, h.usize);
            if (st || !d->has_dict) { free(page); return st; }
            continue;   /* page now owned by d->dict_page */
        }
        const uint8_t *page = body;
        if (ch->codec != PQ_CODEC_NONE) {
            /* one buffer for every page of the chunk: no fresh memory per page */
            if (grow((void **)&d->pbuf, &d->pbufcap, (int64_t)h.usize + 1, 1)) return derr(d, LASK_ENOMEM, "out of memory");
            if ((st = lask__pq_decompress(ch->codec, body, (size_t)h.csize, d->pbuf, (size_t)h.usize, &why)) != LASK_OK)
                return derr(d, st, "%s (page at chunk byte %lld)", why, (long long)(body - buf));
            page = d->pbuf;
        } else if (h.csize != h.usize) {
            return derr(d, LASK_EFORMAT, "uncompressed page sizes differ");
        }
        if ((st = data_page(d, &h, page, page + h.usize, NULL, NULL))) return st;
    }
    return LASK_OK;
}

/* The scratch buffers of a decoder outlive it in a per-thread cache, so the
 * next chunk decoded on this thread writes into memory that is already
 * mapped: first-touch page faults cost more than decoding here. */
#define POOL_N 6
#define LENT_N 32

typedef struct scratch {
    uint32_t *lev; int64_t levcap;
    uint32_t *idx; int64_t idxcap;
    sview *sv; int64_t svcap;
    int64_t *tmp64; int64_t tmpcap;
    uint8_t *pbuf; int64_t pbufcap;
    uint8_t *dense; int64_t densecap;
    /* output value buffers handed back by lask__pq_recycle: kept apart
     * from the decoder's scratch (scratch_take clears only the above) */
    void *pool[POOL_N]; size_t poolcap[POOL_N];
    int lending, nlent;           /* buffers values_alloc lent meanwhile */
    void *lent[LENT_N];
} scratch;

#define SCRATCH_KEEP ((int64_t)64 << 20)   /* bytes a thread may keep */
#define POOL_KEEP ((size_t)64 << 20)       /* ... and in pooled values */

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
    scratch *s = p;
    if (!s) return;
    free(s->lev);
    free(s->idx);
    free(s->sv);
    free(s->tmp64);
    free(s->pbuf);
    free(s->dense);
    for (int i = 0; i < POOL_N; i++) free(s->pool[i]);
    free(s);
}

static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

static void scratch_take(dec *d) {
    pthread_once(&scratch_once, scratch_init);
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) return;
    d->lev = s->lev; d->levcap = s->levcap;
    d->idx = s->idx; d->idxcap = s->idxcap;
    d->sv = s->sv; d->svcap = s->svcap;
    d->tmp64 = s->tmp64; d->tmpcap = s->tmpcap;
    d->pbuf = s->pbuf; d->pbufcap = s->pbufcap;
    d->dense = s->dense; d->densecap = s->densecap;
    s->lev = NULL; s->idx = NULL; s->sv = NULL; s->tmp64 = NULL; s->pbuf = NULL; s->dense = NULL;
    s->levcap = s->idxcap = s->svcap = s->tmpcap = s->pbufcap = s->densecap = 0;
}

/* This thread's scratch record, made on first use (NULL when out of
 * memory: callers then just allocate). */
static scratch *scratch_self(void) {
    pthread_once(&scratch_once, scratch_init);
    return lask__thread_record(scratch_key, sizeof(scratch));
}

/* Output values of nb bytes. While this thread lends (between
 * lask__pq_lend_begin and lask__pq_recycle), the smallest pooled buffer
 * that fits, else a fresh one with some slack (row groups differ a little
 * in size), and the buffer is noted as lent. Pooled
 * buffers are already mapped, so filling them costs no page faults; every
 * one came from malloc-compatible allocators, so a column frees it like
 * any other. */
static void *values_alloc(size_t nb) {
    scratch *s = pthread_getspecific(scratch_key);
    if (!s || !s->lending) return lask__huge_malloc(nb);
    int best = -1;
    for (int i = 0; i < POOL_N; i++)
        if (s->pool[i] && s->poolcap[i] >= nb && (best < 0 || s->poolcap[i] < s->poolcap[best])) best = i;
    void *p;
    size_t cap = nb;
    if (best >= 0) {
        p = s->pool[best];
        cap = s->poolcap[best];
        s->pool[best] = NULL;
        s->poolcap[best] = 0;
    } else {
        if (nb >= ((size_t)1 << 20)) {
            const size_t huge = (size_t)2 << 20;
            cap = (nb + nb / 8 + huge - 1) / huge * huge;
        }
        if (!(p = lask__huge_malloc(cap))) return NULL;
    }
    if (s->nlent < LENT_N) s->lent[s->nlent++] = p;
    return p;
}

void lask__pq_lend_begin(void) {
    scratch *s = scratch_self();
    if (!s) return;
    s->lending = 1;
    s->nlent = 0;
}

void lask__pq_recycle(lask__frame *f) {
    scratch *s = pthread_getspecific(scratch_key);
    if (!s || !s->lending) return;
    for (int32_t i = 0; f && i < f->ncols; i++) {
        lask__column *c = f->cols[i];
        if (!c || !c->values || atomic_load_explicit(&c->refs, memory_order_acquire) != 1) continue;
        int j = 0;
        while (j < s->nlent && s->lent[j] != c->values) j++;
        if (j == s->nlent) continue;   /* not from values_alloc in this lending */
        /* A lent buffer freed meanwhile may have left its address to
         * another allocation, so the capacity is asked of the allocator,
         * never remembered. */
        size_t cap = malloc_usable_size(c->values);
        s->lent[j] = NULL;
        size_t used = (size_t)c->n * (c->type == LASK_COL_BOOL ? 1 : 8) + (c->type == LASK_COL_STRING ? 8 : 0);
        if (cap < used) continue;
        /* an empty slot, else the smallest buffer if this one is bigger */
        int slot = 0;
        size_t total = 0;
        for (int k = 0; k < POOL_N; k++) total += s->poolcap[k];
        for (int k = 1; k < POOL_N && s->pool[slot]; k++)
            if (!s->pool[k] || s->poolcap[k] < s->poolcap[slot]) slot = k;
        if (s->pool[slot] && s->poolcap[slot] >= cap) continue;
        if (total - s->poolcap[slot] + cap > POOL_KEEP) continue;
        free(s->pool[slot]);
        s->pool[slot] = c->values;
        s->poolcap[slot] = cap;
        c->values = NULL;
    }
    s->lending = 0;
    s->nlent = 0;
}

static void scratch_give(dec *d) {
    int64_t bytes = d->levcap * 4 + d->idxcap * 4 + d->svcap * (int64_t)sizeof(sview) +
                    d->tmpcap * 8 + d->pbufcap + d->densecap * 8;
    scratch *s = bytes <= SCRATCH_KEEP ? scratch_self() : NULL;
    if (s) {
        free(s->lev); free(s->idx); free(s->sv); free(s->tmp64); free(s->pbuf); free(s->dense);
        s->dense = d->dense; s->densecap = d->densecap;
        s->lev = d->lev; s->levcap = d->levcap;
        s->idx = d->idx; s->idxcap = d->idxcap;
        s->sv = d->sv; s->svcap = d->svcap;
        s->tmp64 = d->tmp64; s->tmpcap = d->tmpcap;
        s->pbuf = d->pbuf; s->pbufcap = d->pbufcap;
    } else {
        free(d->lev); free(d->idx); free(d->sv); free(d->tmp64); free(d->pbuf); free(d->dense);
    }
    d->lev = NULL; d->idx = NULL; d->sv = NULL; d->tmp64 = NULL; d->pbuf = NULL; d->dense = NULL;
}

static void dec_free(dec *d) {
    scratch_give(d);
    free(d->dict);
    free(d->dict_page);
    lask__pq_buf_free(&d->pagebytes);
    lask__pq_buf_free(&d->sdata);
}


/* Decode one column chunk into a new column. */
static int32_t read_column(dec *d, int fd, const uint8_t *filebuf, int64_t filelen, lask__column **out) {
    const lask__pq_column *c = d->col;
    const lask__pq_chunk *ch = d->ch;
    *out = NULL;
    if (c->coltype < 0)
        return derr(d, LASK_EFORMAT, "unsupported type (physical %d%s)", c->physical,
                    c->physical == PQ_FLBA ? ", bad length" : "");
    if (d->nrows > LASK__PQ_MAX_ROWS) return derr(d, LASK_EFORMAT, "implausible row count %lld", (long long)d->nrows);
    if (d->preds) {   /* predicate mode: pages only, no output column */
        if (c->coltype == LASK_COL_STRING) return derr(d, LASK_EINVAL, "string columns are not tested page by page");
        goto walk;
    }
    d->out = lask__column_new(c->coltype, 0, 0);
    if (!d->out) return derr(d, LASK_ENOMEM, "out of memory");
    int64_t orows = d->keep ? d->nkeep : d->nrows;
    if (orows > 0) {
        /* Every slot is written by the pages (or the walk fails), so the
         * values need no zeroing. */
        size_t nb = (size_t)(c->coltype == LASK_COL_STRING ? orows + 1 : orows) * (size_t)outwidth(c);
        void *v = values_alloc(nb);
        if (!v) { lask__column_unref(d->out); d->out = NULL; return derr(d, LASK_ENOMEM, "out of memory"); }
        if (c->coltype == LASK_COL_STRING) ((int64_t *)v)[0] = 0;
        free(d->out->values);
        d->out->values = v;
        d->out->n = orows;
        d->out->nbytes = (int64_t)nb;
    }
walk:
    if (d->nrows == 0) { *out = d->out; d->out = NULL; return LASK_OK; }
    int64_t start = ch->data_page_offset;
    if (ch->dictionary_page_offset > 0 && ch->dictionary_page_offset < start) start = ch->dictionary_page_offset;
    int64_t len = ch->total_compressed_size;
    int32_t st;
    if (start < 4 || len <= 0 || len > d->f->file_size || start > d->f->file_size - len) {
        st = derr(d, LASK_EFORMAT, "column chunk (offset %lld, %lld bytes) lies outside the file",
                  (long long)start, (long long)len);
        goto fail;
    }
    uint8_t *buf = NULL;
    void *map = NULL;
    size_t mapped = 0;
    const uint8_t *data;
    if (filebuf) {
        if (start + len > filelen) { st = derr(d, LASK_EFORMAT, "column chunk lies outside the file"); goto fail; }
        data = filebuf + start;
    } else {
        /* Map the chunk's pages rather than copy them into fresh memory. */
        int64_t pg = sysconf(_SC_PAGESIZE), off = start - start % pg;
        size_t maplen = (size_t)(start + len - off);
        void *m = mmap(NULL, maplen, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, off);
        if (m != MAP_FAILED) {
            map = m;
            mapped = maplen;
            data = (const uint8_t *)m + (start - off);
        } else {
            buf = malloc((size_t)len);
            if (!buf) { st = derr(d, LASK_ENOMEM, "out of memory"); goto fail; }
            int64_t got = 0;
            while (got < len) {
                ssize_t k = pread(fd, buf + got, (size_t)(len - got), start + got);
                if (k <= 0) {
                    free(buf);
                    st = derr(d, LASK_EIO, "read failed: %s", k < 0 ? strerror(errno) : "file shrank");
                    goto fail;
                }
                got += k;
            }
            data = buf;
        }
    }
    st = walk_pages(d, data, len);
    free(buf);
    if (map) munmap(map, mapped);
    if (st) goto fail;
    if (d->preds) return LASK_OK;
    if (d->keep && d->orow != d->nkeep) {
        st = derr(d, LASK_EINVAL, "row mask keeps %lld rows, pages gave %lld", (long long)d->nkeep, (long long)d->orow);
        goto fail;
    }
    if (c->coltype == LASK_COL_STRING) {
        lask__pq_buf_put(&d->sdata, "", 1);   /* NUL after the last string */
        if (d->sdata.oom) { st = derr(d, LASK_ENOMEM, "out of memory"); goto fail; }
        free(d->out->strdata);
        d->out->strdata = (char *)d->sdata.p;
        d->out->strbytes = (int64_t)d->sdata.len - 1;
        d->out->nbytes += d->out->strbytes;
        memset(&d->sdata, 0, sizeof d->sdata);
    }
    *out = d->out;
    d->out = NULL;
    return LASK_OK;
fail:
    lask__column_unref(d->out);
    d->out = NULL;
    return st;
}

int32_t lask__pq_read_rowgroup(const lask__pq_file *f, int32_t rg,
                               const char *const *cols, int32_t ncols,
                               const uint8_t *buf, int64_t n,
                               lask__frame **out, char *err, size_t errlen) {
    return lask__pq_read_rowgroup_masked(f, rg, cols, ncols, NULL, 0, buf, n, out, err, errlen);
}

int32_t lask__pq_read_rowgroup_masked(const lask__pq_file *f, int32_t rg,
                                      const char *const *cols, int32_t ncols,
                                      const uint8_t *keep, int64_t nkeep,
                                      const uint8_t *buf, int64_t n,
                                      lask__frame **out, char *err, size_t errlen) {
    *out = NULL;
    if (rg < 0 || rg >= f->nrowgroups) {
        snprintf(err, errlen, "%s: no row group %d (the file has %d)", f->path, rg + 1, f->nrowgroups);
        return LASK_EINVAL;
    }
    int32_t want = ncols < 0 ? f->ncols : ncols;
    int32_t *pick = malloc(sizeof(int32_t) * (size_t)(want ? want : 1));
    if (!pick) { snprintf(err, errlen, "%s: out of memory", f->path); return LASK_ENOMEM; }
    for (int32_t i = 0; i < want; i++) {
        int32_t ci = ncols < 0 ? i : lask__pq_find(f, cols[i]);
        if (ci < 0) {
            snprintf(err, errlen, "%s: no column '%s'", f->path, cols[i]);
            free(pick);
            return LASK_EINVAL;
        }
        if (f->cols[ci].nested) {
            snprintf(err, errlen, "%s: column '%s' is a nested %s column, which lask cannot read "
                     "(leave it out with the columns option)", f->path, f->cols[ci].name, f->cols[ci].kind);
            free(pick);
            return LASK_EFORMAT;
        }
        pick[i] = ci;
    }
    int fd = -1;
    if (!buf) {
        fd = open(f->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errlen, "%s: cannot open: %s", f->path, strerror(errno));
            free(pick);
            return LASK_EIO;
        }
    }
    const lask__pq_rowgroup *g = &f->rowgroups[rg];
    lask__frame *fr = lask__frame_new(want, keep ? nkeep : g->num_rows);
    int32_t st = LASK_OK;
    if (!fr) { snprintf(err, errlen, "%s: out of memory", f->path); st = LASK_ENOMEM; }
    for (int32_t i = 0; i < want && st == LASK_OK; i++) {
        dec d;
        memset(&d, 0, sizeof d);
        d.f = f;
        d.rg = rg;
        d.col = &f->cols[pick[i]];
        d.ch = &g->chunks[d.col->leaf];
        d.err = err;
        d.errlen = errlen;
        d.nrows = g->num_rows;
        d.keep = keep;
        d.nkeep = nkeep;
        scratch_take(&d);
        lask__column *col;
        st = read_column(&d, fd, buf, n, &col);
        dec_free(&d);
        if (st == LASK_OK && lask__frame_set(fr, i, d.col->name, col) != LASK_OK) {
            lask__column_unref(col);
            snprintf(err, errlen, "%s: out of memory", f->path);
            st = LASK_ENOMEM;
        }
    }
    if (fd >= 0) close(fd);
    free(pick);
    if (st != LASK_OK) {
        if (fr) lask_chunk_unref(&fr->h);
        return st;
    }
    if (f->index_name) fr->index = lask__frame_find(fr, f->index_name);
    *out = fr;
    return LASK_OK;
}

int32_t lask__pq_rowgroup_preds(const lask__pq_file *f, int32_t rg,
                                const lask__pq_pred *p, int32_t n, uint8_t *const *res,
                                char *err, size_t errlen) {
    if (rg < 0 || rg >= f->nrowgroups) {
        snprintf(err, errlen, "%s: no row group %d (the file has %d)", f->path, rg + 1, f->nrowgroups);
        return LASK_EINVAL;
    }
    const lask__pq_rowgroup *g = &f->rowgroups[rg];
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", f->path, strerror(errno));
        return LASK_EIO;
    }
    int32_t st = LASK_OK;
    for (int32_t i = 0; i < n && st == LASK_OK; i++) {
        int dup = 0;   /* one pass per column, for all its predicates */
        for (int32_t k = 0; k < i; k++) dup |= strcmp(p[k].col, p[i].col) == 0;
        if (dup) continue;
        int32_t ci = lask__pq_find(f, p[i].col);
        if (ci < 0 || f->cols[ci].nested) {
            snprintf(err, errlen, "%s: no flat column '%s'", f->path, p[i].col);
            st = LASK_EINVAL;
            break;
        }
        dec d;
        memset(&d, 0, sizeof d);
        d.f = f;
        d.rg = rg;
        d.col = &f->cols[ci];
        d.ch = &g->chunks[d.col->leaf];
        d.err = err;
        d.errlen = errlen;
        d.nrows = g->num_rows;
        d.preds = p;
        d.npreds = n;
        d.res = res;
        scratch_take(&d);
        lask__column *col = NULL;
        st = read_column(&d, fd, NULL, 0, &col);
        dec_free(&d);
        lask__column_unref(col);
    }
    close(fd);
    return st;
}
