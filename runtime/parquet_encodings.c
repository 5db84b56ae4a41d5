/*
 * parquet_encodings.c - the integer encodings Parquet builds on: the
 * RLE/bit-packed hybrid (levels, dictionary indices, booleans) and
 * DELTA_BINARY_PACKED, both ways where the writer needs them.
 *
 * Every read is checked against the end of its buffer.
 */
#include <stdlib.h>
#include <string.h>
#include "parquet.h"

static int uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *v) {
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= end) return -1;
        uint8_t b = *p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *v = x; *pp = p; return 0; }
    }
    return -1;
}

/* w (<= 57) bits at bit position pos of a buffer of nbytes bytes. */
static inline uint64_t bits_at(const uint8_t *p, int64_t nbytes, int64_t pos, int w) {
    int64_t byte = pos >> 3;
    uint64_t x = 0;
    if (byte + 8 <= nbytes) {
        memcpy(&x, p + byte, 8);   /* little-endian hosts only (x86, arm) */
    } else {
        for (int i = 0; i < 8 && byte + i < nbytes; i++) x |= (uint64_t)p[byte + i] << (8 * i);
    }
    x >>= (pos & 7);
    return w >= 64 ? x : x & ((UINT64_C(1) << w) - 1);
}

static inline uint64_t bits_at64(const uint8_t *p, int64_t nbytes, int64_t pos, int w) {
    if (w <= 56) return bits_at(p, nbytes, pos, w);
    uint64_t lo = bits_at(p, nbytes, pos, 32);
    uint64_t hi = bits_at(p, nbytes, pos + 32, w - 32);
    return lo | hi << 32;
}

void lask__pq_rle_init(lask__pq_rle *r, const uint8_t *p, const uint8_t *end, int bw) {
    memset(r, 0, sizeof *r);
    r->p = p;
    r->end = end;
    r->bw = bw;
}

static int rle_next_run(lask__pq_rle *r) {
    uint64_t h;
    if (uvarint(&r->p, r->end, &h) != 0) return -1;
    if (!(h & 1)) {   /* RLE run: count << 1; bit-packed: groups << 1 | 1 */
        int nb = (r->bw + 7) / 8;
        if (r->end - r->p < nb) return -1;
        uint64_t v = 0;
        for (int i = 0; i < nb; i++) v |= (uint64_t)r->p[i] << (8 * i);
        r->p += nb;
        r->packed = 0;
        r->value = v;
        r->run = (int64_t)(h >> 1);
        if ((h >> 1) > (uint64_t)INT64_MAX / 2) return -1;
    } else {
        uint64_t groups = h >> 1;
        if (groups > (uint64_t)1 << 40) return -1;
        int64_t bytes = (int64_t)groups * r->bw;
        int64_t avail = r->end - r->p;
        int64_t n = (int64_t)groups * 8;
        /* Some writers cut the last group short: take what is there. */
        if (bytes > avail) {
            bytes = avail;
            n = r->bw ? avail * 8 / r->bw : n;
        }
        r->packed = 1;
        r->pk = r->p;
        r->pkbytes = bytes;
        r->bitpos = 0;
        r->run = n;
        r->p += bytes;
    }
    return 0;
}

int lask__pq_rle_skip_run(lask__pq_rle *r, int64_t n, uint32_t v) {
    if (r->run != 0 || r->bw < 0 || r->bw > 32) return 0;
    lask__pq_rle save = *r;
    if (r->p < r->end && rle_next_run(r) == 0 && !r->packed && r->value == v && r->run >= n) {
        r->run -= n;
        return 1;
    }
    *r = save;
    return 0;
}

int lask__pq_rle_read(lask__pq_rle *r, uint32_t *out, int64_t n) {
    if (r->bw < 0 || r->bw > 32) return -1;
    while (n > 0) {
        if (r->run == 0) {
            if (r->p >= r->end) return -1;
            if (rle_next_run(r) != 0) return -1;
            continue;
        }
        int64_t take = r->run < n ? r->run : n;
        if (r->packed) {
            int w = r->bw;
            if (w == 0) {
                memset(out, 0, (size_t)take * sizeof *out);
            } else {
                /* while 8 bytes from the value's first byte are inside the
                 * run, one unaligned load per value and no bounds test */
                const uint8_t *pk = r->pk;
                const uint64_t mask = (UINT64_C(1) << w) - 1;
                int64_t pos = r->bitpos, i = 0, last = (r->pkbytes - 8) * 8;
                for (; i < take && pos <= last; i++, pos += w) {
                    uint64_t x;
                    memcpy(&x, pk + (pos >> 3), 8);   /* little-endian hosts only */
                    out[i] = (uint32_t)((x >> (pos & 7)) & mask);
                }
                for (; i < take; i++, pos += w) out[i] = (uint32_t)bits_at(pk, r->pkbytes, pos, w);
                r->bitpos = pos;
            }
        } else {
            uint32_t v = (uint32_t)r->value;
            for (int64_t i = 0; i < take; i++) out[i] = v;
        }
        out += take;
        n -= take;
        r->run -= take;
    }
    return 0;
}

static int delta_header(const uint8_t **p, const uint8_t *end, uint64_t *bs,
                        uint64_t *mb, uint64_t *total, uint64_t *first) {
    if (uvarint(p, end, bs) || uvarint(p, end, mb) || uvarint(p, end, total) ||
        uvarint(p, end, first))
        return -1;
    if (*bs == 0 || *bs % 128 || *bs > (1u << 20) || *mb == 0 || *bs % *mb ||
        (*bs / *mb) % 32)
        return -1;
    if (*total > (uint64_t)INT64_MAX / 2) return -1;
    return 0;
}

int lask__pq_delta_count(const uint8_t *p, const uint8_t *end, int64_t *count) {
    uint64_t bs, mb, total, first;
    if (delta_header(&p, end, &bs, &mb, &total, &first)) return -1;
    *count = (int64_t)total;
    return 0;
}

int lask__pq_delta_decode(const uint8_t *p, const uint8_t *end, int64_t n,
                          int64_t *out, int64_t *count, int64_t *used, int is32) {
    const uint8_t *start = p;
    uint64_t bs, mb, total, firstz;
    if (delta_header(&p, end, &bs, &mb, &total, &firstz)) return -1;
    if ((int64_t)total > n) return -1;
    uint64_t last = (firstz >> 1) ^ -(firstz & 1);
    int64_t got = 0;
    if (total > 0) out[got++] = is32 ? (int64_t)(int32_t)(uint32_t)last : (int64_t)last;
    uint64_t per_mb = bs / mb;
    while ((uint64_t)got < total) {
        uint64_t mdz;
        if (uvarint(&p, end, &mdz)) return -1;
        uint64_t min_delta = (mdz >> 1) ^ -(mdz & 1);
        if ((uint64_t)(end - p) < mb) return -1;
        const uint8_t *widths = p;
        p += mb;
        for (uint64_t m = 0; m < mb && (uint64_t)got < total; m++) {
            int w = widths[m];
            if (w > 64) return -1;
            int64_t bytes = (int64_t)(per_mb * (uint64_t)w / 8);
            if (end - p < bytes) return -1;
            uint64_t take = total - (uint64_t)got < per_mb ? total - (uint64_t)got : per_mb;
            for (uint64_t i = 0; i < take; i++) {
                uint64_t d = w ? bits_at64(p, bytes, (int64_t)(i * (uint64_t)w), w) : 0;
                last = last + min_delta + d;
                out[got++] = is32 ? (int64_t)(int32_t)(uint32_t)last : (int64_t)last;
            }
            p += bytes;
        }
    }
    *count = (int64_t)total;
    *used = p - start;
    return 0;
}

/* ------------------------------------------------------------------ writing */

void lask__pq_buf_put(lask__pq_buf *b, const void *p, size_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) { b->oom = 1; return; }
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}

void lask__pq_buf_free(lask__pq_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void put_uvarint(lask__pq_buf *b, uint64_t v) {
    uint8_t t[10];
    int n = 0;
    while (v >= 0x80) { t[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    t[n++] = (uint8_t)v;
    lask__pq_buf_put(b, t, (size_t)n);
}

static int64_t run_at(const uint32_t *v, int64_t n, int64_t i) {
    int64_t j = i + 1;
    while (j < n && v[j] == v[i]) j++;
    return j - i;
}

void lask__pq_rle_encode(lask__pq_buf *b, const uint32_t *v, int64_t n, int bw) {
    int nb = (bw + 7) / 8;
    int64_t i = 0;
    while (i < n) {
        int64_t run = run_at(v, n, i);
        if (run >= 8) {
            put_uvarint(b, (uint64_t)run << 1);
            uint8_t t[4];
            for (int k = 0; k < nb; k++) t[k] = (uint8_t)(v[i] >> (8 * k));
            lask__pq_buf_put(b, t, (size_t)nb);
            i += run;
            continue;
        }
        int64_t start = i;
        do { i += 8; } while (i < n && run_at(v, n, i) < 8);
        if (i > n) i = n;
        int64_t groups = (i - start + 7) / 8;
        put_uvarint(b, (uint64_t)groups << 1 | 1);
        uint64_t acc = 0;
        int accbits = 0;
        for (int64_t k = 0; k < groups * 8; k++) {
            uint64_t x = start + k < i ? v[start + k] : 0;
            acc |= x << accbits;
            accbits += bw;
            while (accbits >= 8) {
                uint8_t byte = (uint8_t)acc;
                lask__pq_buf_put(b, &byte, 1);
                acc >>= 8;
                accbits -= 8;
            }
        }
        if (accbits > 0) {   /* groups of 8 values always end on a byte */
            uint8_t byte = (uint8_t)acc;
            lask__pq_buf_put(b, &byte, 1);
        }
    }
}
