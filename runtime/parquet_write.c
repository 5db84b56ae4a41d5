/*
 * parquet_write.c - a frame into one Parquet file.
 *
 * Layout: "PAR1", then per row group one column chunk per column (an
 * optional dictionary page, then data pages v1 of about 1 MB), then the
 * FileMetaData footer, its length and "PAR1". Every column is written
 * OPTIONAL so files of one dataset agree on their schema whether or not a
 * partition has nulls. Low-cardinality columns get a dictionary; the others
 * are PLAIN. Each chunk carries min, max and null_count.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdatomic.h>
#include "parquet.h"
#include "thrift_compact.h"

#define PAGE_TARGET (1 << 20)       /* uncompressed bytes per data page */
#define DICT_MAX_ENTRIES 65536
#define STAT_MAX_STRING 256         /* longer string bounds are left out */

typedef struct chunkinfo {
    int64_t start, dict_off, data_off;
    int64_t usize, csize;
    int has_dict;
    int64_t nulls;
    int has_minmax;
    uint8_t minb[8], maxb[8];       /* fixed-width bounds */
    const char *mins, *maxs;        /* string bounds (into the column) */
    int64_t minl, maxl;
} chunkinfo;

typedef struct wctx {
    const lask__frame *f;
    const lask__pq_write_opts *o;
    lask__pq_buf out;               /* bytes not yet flushed to fd */
    int fd;                         /* -1: everything stays in out */
    int64_t base;                   /* bytes already flushed */
    int ioerr;                      /* errno of a failed write */
    uint8_t *z; size_t zcap;        /* compressed page, reused */
    lask__pq_buf body, lev;         /* page being built, reused */
    uint32_t *tmp; int64_t tmpcap;
    char *err;
    size_t errlen;
    int32_t rg;
} wctx;

static int32_t werr(wctx *w, int32_t st, const char *col, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (col) snprintf(w->err, w->errlen, "parquet write: row group %d, column '%s': %s", w->rg + 1, col, msg);
    else snprintf(w->err, w->errlen, "parquet write: %s", msg);
    return st;
}

/* File offset of the next byte. */
static int64_t wpos(const wctx *w) { return w->base + (int64_t)w->out.len; }

/* Write out what is staged once there is enough of it (or at the end). */
static int flush_out(wctx *w, int all) {
    if (w->fd < 0 || w->ioerr || (!all && w->out.len < ((size_t)8 << 20))) return w->ioerr ? -1 : 0;
    size_t off = 0;
    while (off < w->out.len) {
        ssize_t k = write(w->fd, w->out.p + off, w->out.len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) { w->ioerr = k < 0 ? errno : EIO; return -1; }
        off += (size_t)k;
    }
    w->base += (int64_t)w->out.len;
    w->out.len = 0;
    return 0;
}

static int physical_of(int32_t coltype) {
    switch (coltype) {
    case LASK_COL_INT64: case LASK_COL_TIMESTAMP: return PQ_INT64;
    case LASK_COL_FLOAT64: return PQ_DOUBLE;
    case LASK_COL_BOOL: return PQ_BOOLEAN;
    case LASK_COL_STRING: return PQ_BYTE_ARRAY;
    default: return -1;
    }
}

/* ------------------------------------------------------------ dictionary */

typedef struct dict {
    int64_t *slots;      /* row of the first occurrence + 1, 0 = empty */
    int64_t nslots, n;
    int64_t *rows;       /* dictionary entry -> row */
    uint32_t *ids;       /* per row of the chunk: entry id */
} dict;

static uint64_t hash_row(const lask__column *c, int64_t r) {
    if (c->type == LASK_COL_STRING) {
        const int64_t *o = c->values;
        return lask__hash(c->strdata + o[r], (size_t)(o[r + 1] - o[r]), 0x9e37);
    }
    uint64_t x;
    memcpy(&x, (const int64_t *)c->values + r, 8);
    if (c->type == LASK_COL_FLOAT64 && ((const double *)c->values)[r] == 0) x = 0;   /* -0.0 == 0.0 */
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return x;
}

static int same_row(const lask__column *c, int64_t a, int64_t b) {
    if (c->type == LASK_COL_STRING) {
        const int64_t *o = c->values;
        int64_t la = o[a + 1] - o[a];
        return la == o[b + 1] - o[b] && memcmp(c->strdata + o[a], c->strdata + o[b], (size_t)la) == 0;
    }
    /* bitwise, so NaNs of one payload share an entry and -0.0 stays -0.0 */
    return memcmp((const int64_t *)c->values + a, (const int64_t *)c->values + b, 8) == 0;
}

static void dict_free(dict *d) {
    free(d->slots);
    free(d->rows);
    free(d->ids);
    memset(d, 0, sizeof *d);
}

/* Build a dictionary of rows [r0, r0 + n); 0 when the column is worth it,
 * 1 when it has too many distinct values, -1 when out of memory. */
static int dict_build(dict *d, const lask__column *c, int64_t r0, int64_t n, int64_t present) {
    memset(d, 0, sizeof *d);
    int64_t limit = present / 2;
    if (limit > DICT_MAX_ENTRIES) limit = DICT_MAX_ENTRIES;
    if (limit < 1) return 1;
    d->nslots = 64;
    while (d->nslots < limit * 2) d->nslots *= 2;
    d->slots = calloc((size_t)d->nslots, sizeof *d->slots);
    d->rows = malloc((size_t)limit * sizeof *d->rows);
    d->ids = malloc((size_t)(n ? n : 1) * sizeof *d->ids);
    if (!d->slots || !d->rows || !d->ids) { dict_free(d); return -1; }
    int64_t strbytes = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = r0 + i;
        if (!lask__column_isvalid(c, r)) { d->ids[i] = 0; continue; }
        uint64_t h = hash_row(c, r);
        int64_t s = (int64_t)(h & (uint64_t)(d->nslots - 1));
        for (;;) {
            int64_t e = d->slots[s];
            if (!e) {
                if (d->n >= limit) { dict_free(d); return 1; }
                d->rows[d->n] = r;
                d->slots[s] = d->n + 1;
                d->ids[i] = (uint32_t)d->n++;
                if (c->type == LASK_COL_STRING) {
                    const int64_t *o = c->values;
                    strbytes += o[r + 1] - o[r];
                    if (strbytes > PAGE_TARGET * 4) { dict_free(d); return 1; }
                }
                break;
            }
            if (same_row(c, d->rows[e - 1], r)) { d->ids[i] = (uint32_t)(e - 1); break; }
            s = (s + 1) & (d->nslots - 1);
        }
    }
    return 0;
}

/* ------------------------------------------------------------ statistics */

static int str_less(const lask__column *c, int64_t a, int64_t b) {
    const int64_t *o = c->values;
    int64_t la = o[a + 1] - o[a], lb = o[b + 1] - o[b];
    int k = memcmp(c->strdata + o[a], c->strdata + o[b], (size_t)(la < lb ? la : lb));
    return k < 0 || (k == 0 && la < lb);
}

static void stats(const lask__column *c, int64_t r0, int64_t n, chunkinfo *ci) {
    int64_t nulls = 0, lo = -1, hi = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = r0 + i;
        if (!lask__column_isvalid(c, r)) { nulls++; continue; }
        switch (c->type) {
        case LASK_COL_FLOAT64: {
            double v = ((const double *)c->values)[r];
            if (isnan(v)) break;
            if (lo < 0 || v < ((const double *)c->values)[lo]) lo = r;
            if (hi < 0 || v > ((const double *)c->values)[hi]) hi = r;
            break;
        }
        case LASK_COL_BOOL: {
            uint8_t v = ((const uint8_t *)c->values)[r];
            if (lo < 0 || v < ((const uint8_t *)c->values)[lo]) lo = r;
            if (hi < 0 || v > ((const uint8_t *)c->values)[hi]) hi = r;
            break;
        }
        case LASK_COL_STRING:
            if (lo < 0 || str_less(c, r, lo)) lo = r;
            if (hi < 0 || str_less(c, hi, r)) hi = r;
            break;
        default: {
            int64_t v = ((const int64_t *)c->values)[r];
            if (lo < 0 || v < ((const int64_t *)c->values)[lo]) lo = r;
            if (hi < 0 || v > ((const int64_t *)c->values)[hi]) hi = r;
        }
        }
    }
    ci->nulls = nulls;
    ci->has_minmax = lo >= 0;
    if (lo < 0) return;
    if (c->type == LASK_COL_STRING) {
        const int64_t *o = c->values;
        ci->mins = c->strdata + o[lo];
        ci->minl = o[lo + 1] - o[lo];
        ci->maxs = c->strdata + o[hi];
        ci->maxl = o[hi + 1] - o[hi];
        if (ci->minl > STAT_MAX_STRING || ci->maxl > STAT_MAX_STRING) ci->has_minmax = 0;
    } else if (c->type == LASK_COL_BOOL) {
        ci->minb[0] = ((const uint8_t *)c->values)[lo];
        ci->maxb[0] = ((const uint8_t *)c->values)[hi];
        ci->minl = ci->maxl = 1;
    } else {
        double z;
        memcpy(ci->minb, (const int64_t *)c->values + lo, 8);
        memcpy(ci->maxb, (const int64_t *)c->values + hi, 8);
        if (c->type == LASK_COL_FLOAT64) {   /* the format asks for -0.0 / +0.0 bounds */
            memcpy(&z, ci->minb, 8);
            if (z == 0) { z = -0.0; memcpy(ci->minb, &z, 8); }
            memcpy(&z, ci->maxb, 8);
            if (z == 0) { z = 0.0; memcpy(ci->maxb, &z, 8); }
        }
        ci->minl = ci->maxl = 8;
    }
}

/* ------------------------------------------------------------ pages */

static int bitwidth(uint64_t maxv) {
    int b = 0;
    while (maxv) { b++; maxv >>= 1; }
    return b;
}

static int64_t count_nulls(const uint32_t *present, int64_t m) {
    int64_t n = 0;
    for (int64_t i = 0; i < m; i++) n += !present[i];
    return n;
}

/* Room for n more bytes in b (b->oom set when there is none). */
static int reserve(lask__pq_buf *b, size_t n) {
    if (b->oom) return -1;
    if (b->len + n <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q) { b->oom = 1; return -1; }
    b->p = q;
    b->cap = cap;
    return 0;
}

/* Append one PLAIN value of row r. */
static void plain_value(lask__pq_buf *b, const lask__column *c, int64_t r) {
    if (c->type == LASK_COL_STRING) {
        const int64_t *o = c->values;
        uint32_t len = (uint32_t)(o[r + 1] - o[r]);
        lask__pq_buf_put(b, &len, 4);
        lask__pq_buf_put(b, c->strdata + o[r], len);
    } else {
        lask__pq_buf_put(b, (const int64_t *)c->values + r, 8);
    }
}

/* Compress body and append header + body; adds to the chunk's sizes. */
static int32_t emit_page(wctx *w, const char *name, chunkinfo *ci, int type, const uint8_t *body,
                         size_t blen, int64_t nv, int enc) {
    size_t zlen;
    if (blen > INT32_MAX) return werr(w, LASK_EINVAL, name, "page larger than 2 GB");
    int32_t st = lask__pq_compress(w->o->codec, w->o->compression_level, body, blen, &w->z, &w->zcap, &zlen);
    const uint8_t *z = w->z;
    if (st) return werr(w, st, name, "compression failed");
    if (zlen > INT32_MAX) return werr(w, LASK_EINVAL, name, "page larger than 2 GB");
    lask__tc_writer h;
    lask__tc_winit(&h);
    lask__tc_wstruct_begin(&h);
    lask__tc_wfield_i32(&h, 1, type);
    lask__tc_wfield_i32(&h, 2, (int32_t)blen);
    lask__tc_wfield_i32(&h, 3, (int32_t)zlen);
    if (type == PQ_PAGE_DICT) {
        lask__tc_wfield(&h, 7, LASK__TC_STRUCT);
        lask__tc_wstruct_begin(&h);
        lask__tc_wfield_i32(&h, 1, (int32_t)nv);
        lask__tc_wfield_i32(&h, 2, enc);
        lask__tc_wstruct_end(&h);
    } else {
        lask__tc_wfield(&h, 5, LASK__TC_STRUCT);
        lask__tc_wstruct_begin(&h);
        lask__tc_wfield_i32(&h, 1, (int32_t)nv);
        lask__tc_wfield_i32(&h, 2, enc);
        lask__tc_wfield_i32(&h, 3, PQ_ENC_RLE);
        lask__tc_wfield_i32(&h, 4, PQ_ENC_RLE);
        lask__tc_wstruct_end(&h);
    }
    lask__tc_wstruct_end(&h);
    if (h.oom) { lask__tc_wfree(&h); return werr(w, LASK_ENOMEM, name, "out of memory"); }
    lask__pq_buf_put(&w->out, h.buf, h.len);
    lask__pq_buf_put(&w->out, z, zlen);
    if (flush_out(w, 0)) { lask__tc_wfree(&h); return werr(w, LASK_EIO, name, "write failed: %s", strerror(w->ioerr)); }
    ci->usize += (int64_t)(h.len + blen);
    ci->csize += (int64_t)(h.len + zlen);
    lask__tc_wfree(&h);
    if (w->out.oom) return werr(w, LASK_ENOMEM, name, "out of memory");
    return LASK_OK;
}

static int32_t write_chunk(wctx *w, const char *name, const lask__column *c, int64_t r0, int64_t n,
                           chunkinfo *ci) {
    memset(ci, 0, sizeof *ci);
    ci->start = wpos(w);
    stats(c, r0, n, ci);
    int64_t present = n - ci->nulls;
    dict d;
    memset(&d, 0, sizeof d);
    int use_dict = 0;
    if (w->o->dictionary && c->type != LASK_COL_BOOL && present > 0) {
        int k = dict_build(&d, c, r0, n, present);
        if (k < 0) return werr(w, LASK_ENOMEM, name, "out of memory");
        use_dict = k == 0;
    }
    /* page buffers live in w, reused by every chunk */
    lask__pq_buf body = w->body, lev = w->lev;
    body.len = lev.len = 0;
    int32_t st = LASK_OK;
    if (n > w->tmpcap) {
        uint32_t *t = realloc(w->tmp, sizeof(uint32_t) * (size_t)n);
        if (!t) { st = werr(w, LASK_ENOMEM, name, "out of memory"); goto done; }
        w->tmp = t;
        w->tmpcap = n;
    }
    uint32_t *tmp = w->tmp;
    if (use_dict) {
        ci->has_dict = 1;
        ci->dict_off = wpos(w);
        for (int64_t e = 0; e < d.n; e++) plain_value(&body, c, d.rows[e]);
        if (body.oom) { st = werr(w, LASK_ENOMEM, name, "out of memory"); goto done; }
        if ((st = emit_page(w, name, ci, PQ_PAGE_DICT, body.p, body.len, d.n, PQ_ENC_PLAIN_DICT))) goto done;
    }
    ci->data_off = wpos(w);
    /* rows per page from the average row width */
    int64_t width = c->type == LASK_COL_BOOL ? 1 : 8;
    if (c->type == LASK_COL_STRING && n > 0) {
        const int64_t *o = c->values;
        width = 4 + (o[r0 + n] - o[r0]) / n;
    }
    if (use_dict) width = 4;
    int64_t per_page = PAGE_TARGET / (width ? width : 1);
    if (per_page < 1) per_page = 1;
    int bw = use_dict ? bitwidth((uint64_t)(d.n - 1)) : 0;
    int64_t p0 = 0;
    do {
        int64_t m = n - p0 < per_page ? n - p0 : per_page;
        body.len = 0;
        lev.len = 0;
        /* definition levels: 4-byte length, RLE/bit-packed width 1 */
        for (int64_t i = 0; i < m; i++) tmp[i] = (uint32_t)lask__column_isvalid(c, r0 + p0 + i);
        lask__pq_rle_encode(&lev, tmp, m, 1);
        uint32_t levlen = (uint32_t)lev.len;
        lask__pq_buf_put(&body, &levlen, 4);
        lask__pq_buf_put(&body, lev.p, lev.len);
        int64_t k = 0;
        if (use_dict) {
            for (int64_t i = 0; i < m; i++)
                if (tmp[i]) tmp[k++] = d.ids[p0 + i];
            uint8_t b = (uint8_t)bw;
            lask__pq_buf_put(&body, &b, 1);
            lask__pq_rle_encode(&body, tmp, k, bw);
        } else if (c->type == LASK_COL_BOOL) {
            uint8_t acc = 0;
            for (int64_t i = 0; i < m; i++) {
                if (!tmp[i]) continue;
                acc |= (uint8_t)((((const uint8_t *)c->values)[r0 + p0 + i] & 1) << (k & 7));
                if ((++k & 7) == 0) { lask__pq_buf_put(&body, &acc, 1); acc = 0; }
            }
            if (k & 7) lask__pq_buf_put(&body, &acc, 1);
        } else if (c->type != LASK_COL_STRING && (k = m - count_nulls(tmp, m), 1)) {
            /* fixed width: copy runs of present values in bulk */
            const int64_t *v = (const int64_t *)c->values + r0 + p0;
            if (k == m) {
                lask__pq_buf_put(&body, v, (size_t)m * 8);
            } else if (reserve(&body, (size_t)k * 8) == 0) {
                uint8_t *o = body.p + body.len;   /* unaligned: after the levels */
                int64_t j = 0;
                for (int64_t i = 0; i < m; i++)
                    if (tmp[i]) memcpy(o + 8 * j++, &v[i], 8);
                body.len += (size_t)k * 8;
            }
        } else {
            const int64_t *o = c->values;
            size_t bytes = 0;
            for (int64_t i = 0; i < m; i++)
                if (tmp[i]) bytes += 4 + (size_t)(o[r0 + p0 + i + 1] - o[r0 + p0 + i]);
            if (reserve(&body, bytes) == 0) {
                uint8_t *q = body.p + body.len;
                for (int64_t i = 0; i < m; i++) {
                    if (!tmp[i]) continue;
                    int64_t r = r0 + p0 + i;
                    uint32_t len = (uint32_t)(o[r + 1] - o[r]);
                    memcpy(q, &len, 4);
                    memcpy(q + 4, c->strdata + o[r], len);
                    q += 4 + len;
                }
                body.len += bytes;
            }
        }
        if (body.oom || lev.oom) { st = werr(w, LASK_ENOMEM, name, "out of memory"); goto done; }
        if ((st = emit_page(w, name, ci, PQ_PAGE_DATA, body.p, body.len, m,
                            use_dict ? PQ_ENC_PLAIN_DICT : PQ_ENC_PLAIN))) goto done;
        p0 += m;
    } while (p0 < n);
done:
    body.oom = lev.oom = 0;
    w->body = body;
    w->lev = lev;
    dict_free(&d);
    return st;
}

/* ------------------------------------------------------------ footer */

static void write_schema(lask__tc_writer *t, const lask__frame *f) {
    lask__tc_wfield(t, 2, LASK__TC_LIST);
    lask__tc_wlist(t, LASK__TC_STRUCT, f->ncols + 1);
    lask__tc_wstruct_begin(t);
    lask__tc_wfield_binary(t, 4, "schema", 6);
    lask__tc_wfield_i32(t, 5, f->ncols);
    lask__tc_wstruct_end(t);
    for (int32_t i = 0; i < f->ncols; i++) {
        int32_t ty = f->cols[i]->type;
        lask__tc_wstruct_begin(t);
        lask__tc_wfield_i32(t, 1, physical_of(ty));
        lask__tc_wfield_i32(t, 3, 1);   /* OPTIONAL */
        lask__tc_wfield_binary(t, 4, f->names[i], strlen(f->names[i]));
        if (ty == LASK_COL_STRING) {
            lask__tc_wfield_i32(t, 6, 0);   /* UTF8 */
            lask__tc_wfield(t, 10, LASK__TC_STRUCT);
            lask__tc_wstruct_begin(t);
            lask__tc_wfield(t, 1, LASK__TC_STRUCT);   /* STRING */
            lask__tc_wstruct_begin(t);
            lask__tc_wstruct_end(t);
            lask__tc_wstruct_end(t);
        } else if (ty == LASK_COL_TIMESTAMP) {
            lask__tc_wfield(t, 10, LASK__TC_STRUCT);
            lask__tc_wstruct_begin(t);
            lask__tc_wfield(t, 8, LASK__TC_STRUCT);   /* TIMESTAMP */
            lask__tc_wstruct_begin(t);
            lask__tc_wfield_bool(t, 1, 0);            /* isAdjustedToUTC */
            lask__tc_wfield(t, 2, LASK__TC_STRUCT);   /* unit */
            lask__tc_wstruct_begin(t);
            lask__tc_wfield(t, 3, LASK__TC_STRUCT);   /* NANOS */
            lask__tc_wstruct_begin(t);
            lask__tc_wstruct_end(t);
            lask__tc_wstruct_end(t);
            lask__tc_wstruct_end(t);
            lask__tc_wstruct_end(t);
        }
        lask__tc_wstruct_end(t);
    }
}

static void write_colmeta(lask__tc_writer *t, const char *name, int32_t ty, int32_t codec,
                          int64_t nrows, const chunkinfo *ci) {
    lask__tc_wstruct_begin(t);   /* ColumnChunk */
    lask__tc_wfield_i64(t, 2, ci->start);
    lask__tc_wfield(t, 3, LASK__TC_STRUCT);
    lask__tc_wstruct_begin(t);   /* ColumnMetaData */
    lask__tc_wfield_i32(t, 1, physical_of(ty));
    lask__tc_wfield(t, 2, LASK__TC_LIST);
    lask__tc_wlist(t, LASK__TC_I32, ci->has_dict ? 2 : 2);
    lask__tc_wi64(t, ci->has_dict ? PQ_ENC_PLAIN_DICT : PQ_ENC_PLAIN);
    lask__tc_wi64(t, PQ_ENC_RLE);
    lask__tc_wfield(t, 3, LASK__TC_LIST);
    lask__tc_wlist(t, LASK__TC_BINARY, 1);
    lask__tc_wbinary(t, name, strlen(name));
    lask__tc_wfield_i32(t, 4, codec);
    lask__tc_wfield_i64(t, 5, nrows);
    lask__tc_wfield_i64(t, 6, ci->usize);
    lask__tc_wfield_i64(t, 7, ci->csize);
    lask__tc_wfield_i64(t, 9, ci->data_off);
    if (ci->has_dict) lask__tc_wfield_i64(t, 11, ci->dict_off);
    lask__tc_wfield(t, 12, LASK__TC_STRUCT);
    lask__tc_wstruct_begin(t);   /* Statistics */
    lask__tc_wfield_i64(t, 3, ci->nulls);
    if (ci->has_minmax) {
        if (ty == LASK_COL_STRING) {
            lask__tc_wfield_binary(t, 5, ci->maxs, (size_t)ci->maxl);
            lask__tc_wfield_binary(t, 6, ci->mins, (size_t)ci->minl);
        } else {
            lask__tc_wfield_binary(t, 5, ci->maxb, (size_t)ci->maxl);
            lask__tc_wfield_binary(t, 6, ci->minb, (size_t)ci->minl);
        }
    }
    lask__tc_wstruct_end(t);
    lask__tc_wstruct_end(t);     /* ColumnMetaData */
    lask__tc_wstruct_end(t);     /* ColumnChunk */
}

static int32_t write_frame(const lask__frame *f, const lask__pq_write_opts *opts, int fd,
                           uint8_t **outp, size_t *outlen, char *err, size_t errlen) {
    lask__pq_write_opts dflt = {PQ_CODEC_SNAPPY, 0, 1, 0};
    wctx w;
    memset(&w, 0, sizeof w);
    w.fd = fd;
    w.f = f;
    w.o = opts ? opts : &dflt;
    w.err = err;
    w.errlen = errlen;
    int32_t codec = w.o->codec;
    if (codec != PQ_CODEC_NONE && codec != PQ_CODEC_SNAPPY && codec != PQ_CODEC_GZIP &&
        codec != PQ_CODEC_ZSTD && codec != PQ_CODEC_LZ4_RAW)
        return werr(&w, LASK_EINVAL, NULL, "unsupported compression %s", lask__pq_codec_name(codec));
    if (f->ncols < 1) return werr(&w, LASK_EINVAL, NULL, "a Parquet file needs at least one column");
    for (int32_t i = 0; i < f->ncols; i++) {
        if (!f->cols[i] || !f->names[i] || !f->names[i][0])
            return werr(&w, LASK_EINVAL, NULL, "column %d has no name", i + 1);
        if (physical_of(f->cols[i]->type) < 0)
            return werr(&w, LASK_EINVAL, f->names[i], "unsupported column type %d", f->cols[i]->type);
        if (f->cols[i]->n != f->nrows)
            return werr(&w, LASK_EINVAL, f->names[i], "column has %lld rows, frame has %lld",
                        (long long)f->cols[i]->n, (long long)f->nrows);
        for (int32_t j = 0; j < i; j++)
            if (strcmp(f->names[i], f->names[j]) == 0)
                return werr(&w, LASK_EINVAL, f->names[i], "duplicate column name");
    }
    int64_t rgsize = w.o->row_group_size > 0 ? w.o->row_group_size : (int64_t)1 << 20;
    int64_t nrg = f->nrows ? (f->nrows + rgsize - 1) / rgsize : 1;
    if (nrg > INT32_MAX) return werr(&w, LASK_EINVAL, NULL, "too many row groups");
    chunkinfo *ci = calloc((size_t)(nrg * f->ncols), sizeof *ci);
    if (!ci) return werr(&w, LASK_ENOMEM, NULL, "out of memory");
    int32_t st = LASK_OK;
    lask__pq_buf_put(&w.out, "PAR1", 4);
    for (int64_t g = 0; g < nrg && st == LASK_OK; g++) {
        w.rg = (int32_t)g;
        int64_t r0 = g * rgsize, n = f->nrows - r0 < rgsize ? f->nrows - r0 : rgsize;
        for (int32_t c = 0; c < f->ncols && st == LASK_OK; c++)
            st = write_chunk(&w, f->names[c], f->cols[c], r0, n, &ci[g * f->ncols + c]);
    }
    if (st != LASK_OK) goto done;
    lask__tc_writer t;
    lask__tc_winit(&t);
    lask__tc_wstruct_begin(&t);
    lask__tc_wfield_i32(&t, 1, 1);
    write_schema(&t, f);
    lask__tc_wfield_i64(&t, 3, f->nrows);
    lask__tc_wfield(&t, 4, LASK__TC_LIST);
    lask__tc_wlist(&t, LASK__TC_STRUCT, nrg);
    for (int64_t g = 0; g < nrg; g++) {
        int64_t r0 = g * rgsize, n = f->nrows - r0 < rgsize ? f->nrows - r0 : rgsize;
        int64_t usum = 0, csum = 0;
        lask__tc_wstruct_begin(&t);
        lask__tc_wfield(&t, 1, LASK__TC_LIST);
        lask__tc_wlist(&t, LASK__TC_STRUCT, f->ncols);
        for (int32_t c = 0; c < f->ncols; c++) {
            const chunkinfo *k = &ci[g * f->ncols + c];
            write_colmeta(&t, f->names[c], f->cols[c]->type, codec, n, k);
            usum += k->usize;
            csum += k->csize;
        }
        lask__tc_wfield_i64(&t, 2, usum);
        lask__tc_wfield_i64(&t, 3, n);
        lask__tc_wfield_i64(&t, 5, ci[g * f->ncols].start);
        lask__tc_wfield_i64(&t, 6, csum);
        lask__tc_wfield(&t, 7, LASK__TC_I16);
        lask__tc_wi64(&t, (int16_t)g);
        lask__tc_wstruct_end(&t);
    }
    if (f->index >= 0 && f->index < f->ncols) {
        lask__tc_wfield(&t, 5, LASK__TC_LIST);
        lask__tc_wlist(&t, LASK__TC_STRUCT, 1);
        lask__tc_wstruct_begin(&t);
        lask__tc_wfield_binary(&t, 1, "lask.index", 10);
        lask__tc_wfield_binary(&t, 2, f->names[f->index], strlen(f->names[f->index]));
        lask__tc_wstruct_end(&t);
    }
    lask__tc_wfield_binary(&t, 6, "lask", 4);
    lask__tc_wfield(&t, 7, LASK__TC_LIST);   /* column_orders: TypeDefinedOrder */
    lask__tc_wlist(&t, LASK__TC_STRUCT, f->ncols);
    for (int32_t c = 0; c < f->ncols; c++) {
        lask__tc_wstruct_begin(&t);
        lask__tc_wfield(&t, 1, LASK__TC_STRUCT);
        lask__tc_wstruct_begin(&t);
        lask__tc_wstruct_end(&t);
        lask__tc_wstruct_end(&t);
    }
    lask__tc_wstruct_end(&t);
    if (t.oom || t.len > UINT32_MAX) {
        lask__tc_wfree(&t);
        st = werr(&w, LASK_ENOMEM, NULL, "out of memory");
        goto done;
    }
    uint32_t flen = (uint32_t)t.len;
    lask__pq_buf_put(&w.out, t.buf, t.len);
    lask__pq_buf_put(&w.out, &flen, 4);
    lask__pq_buf_put(&w.out, "PAR1", 4);
    lask__tc_wfree(&t);
    if (w.out.oom) { st = werr(&w, LASK_ENOMEM, NULL, "out of memory"); goto done; }
    if (flush_out(&w, 1)) { st = werr(&w, LASK_EIO, NULL, "write failed: %s", strerror(w.ioerr)); goto done; }
    if (outp) {
        *outp = w.out.p;
        *outlen = w.out.len;
        w.out.p = NULL;
    }
done:
    free(ci);
    lask__pq_buf_free(&w.out);
    lask__pq_buf_free(&w.body);
    lask__pq_buf_free(&w.lev);
    free(w.z);
    free(w.tmp);
    return st;
}

int32_t lask__pq_write_mem(const lask__frame *f, const lask__pq_write_opts *opts,
                           uint8_t **outp, size_t *outlen, char *err, size_t errlen) {
    *outp = NULL;
    *outlen = 0;
    return write_frame(f, opts, -1, outp, outlen, err, errlen);
}

int32_t lask__pq_write(const lask__frame *f, const char *path,
                       const lask__pq_write_opts *opts, char *err, size_t errlen) {
    /* Write beside the target, then rename: readers never see half a file. */
    size_t plen = strlen(path);
    char *tmpp = malloc(plen + 32);
    if (!tmpp) { snprintf(err, errlen, "%s: out of memory", path); return LASK_ENOMEM; }
    static _Atomic int seq;
    snprintf(tmpp, plen + 32, "%s.tmp%d.%d", path, (int)getpid(), atomic_fetch_add(&seq, 1));
    int fd = open(tmpp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        free(tmpp);
        return LASK_EIO;
    }
    int32_t st = write_frame(f, opts, fd, NULL, NULL, err, errlen);
    int e = errno;
    if (close(fd) != 0 && st == LASK_OK) {
        e = errno;
        st = LASK_EIO;
        snprintf(err, errlen, "write failed: %s", strerror(e));
    }
    if (st == LASK_OK && rename(tmpp, path) != 0) {
        st = LASK_EIO;
        snprintf(err, errlen, "cannot rename into place: %s", strerror(errno));
    }
    if (st != LASK_OK) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", err);
        snprintf(err, errlen, "%s: %s", path, tmp);
        unlink(tmpp);
    }
    (void)e;
    free(tmpp);
    return st;
}
