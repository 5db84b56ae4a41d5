/*
 * parquet.h - lask's own Parquet reader and writer (runtime internal).
 *
 * Reading: lask__pq_open reads only the footer (the last 8 bytes, then the
 * footer itself) and flattens the schema into top-level columns;
 * lask__pq_read_rowgroup decodes the column chunks of one row group that a
 * projection asks for into a frame. Writing: lask__pq_write turns a frame
 * into one file. Every failure returns a lask_status and writes a message
 * naming the file, row group and column into err.
 */
#ifndef LASK_PARQUET_H
#define LASK_PARQUET_H

#include <stddef.h>
#include <stdint.h>
#include "frame.h"

/* Parquet enums (values from the format's thrift definition). */
enum { PQ_BOOLEAN = 0, PQ_INT32 = 1, PQ_INT64 = 2, PQ_INT96 = 3, PQ_FLOAT = 4,
       PQ_DOUBLE = 5, PQ_BYTE_ARRAY = 6, PQ_FLBA = 7 };
enum { PQ_CODEC_NONE = 0, PQ_CODEC_SNAPPY = 1, PQ_CODEC_GZIP = 2, PQ_CODEC_LZO = 3,
       PQ_CODEC_BROTLI = 4, PQ_CODEC_LZ4 = 5, PQ_CODEC_ZSTD = 6, PQ_CODEC_LZ4_RAW = 7 };
enum { PQ_ENC_PLAIN = 0, PQ_ENC_PLAIN_DICT = 2, PQ_ENC_RLE = 3, PQ_ENC_BIT_PACKED = 4,
       PQ_ENC_DELTA_BINARY = 5, PQ_ENC_DELTA_LENGTH = 6, PQ_ENC_DELTA_BYTE_ARRAY = 7,
       PQ_ENC_RLE_DICT = 8, PQ_ENC_BYTE_STREAM_SPLIT = 9 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICT = 2, PQ_PAGE_DATA_V2 = 3 };
/* What a leaf's logical/converted annotation means for us. */
enum { PQ_L_NONE = 0, PQ_L_STRING, PQ_L_INT, PQ_L_DATE, PQ_L_TIMESTAMP,
       PQ_L_DECIMAL, PQ_L_TIME, PQ_L_OTHER };

typedef struct lask__pq_stats {
    const uint8_t *min, *max;     /* PLAIN-encoded bounds (into the footer) */
    int32_t min_len, max_len;     /* -1: absent */
    int64_t null_count;           /* -1: absent */
    int32_t legacy;               /* from the deprecated min/max fields */
} lask__pq_stats;

typedef struct lask__pq_chunk {   /* ColumnMetaData of one leaf in one row group */
    int32_t type, codec;
    int64_t num_values;
    int64_t data_page_offset, dictionary_page_offset;   /* -1: none */
    int64_t total_compressed_size;
    lask__pq_stats stats;
} lask__pq_chunk;

typedef struct lask__pq_rowgroup {
    int64_t num_rows;
    lask__pq_chunk *chunks;       /* one per leaf */
} lask__pq_rowgroup;

/* A top-level column. Flat columns have one leaf; nested ones (a group, a
 * repeated field) are kept only to say why they cannot be read. */
typedef struct lask__pq_column {
    char *name;
    int32_t leaf, nleaves;        /* leaves [leaf, leaf + nleaves) */
    int32_t nested;               /* 1: LIST, MAP, STRUCT or repeated */
    const char *kind;             /* "LIST", "MAP", "STRUCT", "repeated" */
    int32_t physical, type_length;
    int32_t max_def;              /* 0 required, 1 optional */
    int32_t logical;              /* PQ_L_* */
    int32_t bits, is_signed;      /* PQ_L_INT */
    int32_t unit;                 /* PQ_L_TIMESTAMP/TIME: 1 ms, 2 us, 3 ns */
    int32_t scale, precision;     /* PQ_L_DECIMAL */
    int32_t coltype;              /* the lask_coltype it decodes to, or -1 */
} lask__pq_column;

typedef struct lask__pq_file {
    char *path;
    int64_t file_size;
    uint8_t *footer;              /* the FileMetaData bytes (stats point in) */
    int64_t footer_len;
    int64_t num_rows;
    int32_t ncols, nleaves, nrowgroups;
    lask__pq_column *cols;
    lask__pq_rowgroup *rowgroups;
    char *created_by;
    char *index_name;             /* "lask.index" key-value metadata, or NULL */
} lask__pq_file;

/* Read the footer of path. */
int32_t lask__pq_open(const char *path, lask__pq_file **out, char *err, size_t errlen);
/* The same from a footer already in memory (for fuzzing): buf holds the
 * whole file. */
int32_t lask__pq_open_mem(const char *name, const uint8_t *buf, int64_t n,
                          lask__pq_file **out, char *err, size_t errlen);
void lask__pq_close(lask__pq_file *f);
/* Column position by name, or -1. */
int32_t lask__pq_find(const lask__pq_file *f, const char *name);

/* The same keeping only rows r with keep[r] == 1 (keep holds the row
 * group's num_rows flags, each 0 or 1, nkeep of them set): values are
 * decoded page by page into reused buffers and only kept rows reach the
 * frame. */
int32_t lask__pq_read_rowgroup_masked(const lask__pq_file *f, int32_t rg,
                                      const char *const *cols, int32_t ncols,
                                      const uint8_t *keep, int64_t nkeep,
                                      const uint8_t *buf, int64_t n,
                                      lask__frame **out, char *err, size_t errlen);

/* How many of the n flags (each 0 or 1) are set, eight at a time. */
int64_t lask__pq_count_kept(const uint8_t *keep, int64_t n);

struct lask__pq_pred;
/* Test predicates p[0..n) (parquet_filter.h) on row group rg page by page:
 * res[i][r] = 1 when row r passes p[i]. Each predicate's column must be a
 * flat fixed-width column of f (lask__pq_pred_pagewise); the columns are
 * decoded a page at a time into reused buffers and never materialize. */
int32_t lask__pq_rowgroup_preds(const lask__pq_file *f, int32_t rg,
                                const struct lask__pq_pred *p, int32_t n, uint8_t *const *res,
                                char *err, size_t errlen);

/* A statistics bound of column c in the column's output domain: returns 0
 * when unusable, 1 integer (*i; int64 and timestamps in ns), 2 number (*d),
 * 3 boolean (*i), 4 string (the bytes p[0..len-1] as they are). */
int32_t lask__pq_stat_value(const lask__pq_column *c, const uint8_t *p, int32_t len,
                            int32_t legacy, int64_t *i, double *d);

/* Decode row group rg (0-based) into a new frame holding the columns named
 * in cols (all flat columns when ncols < 0; nested ones are then an error).
 * When buf is not NULL it holds the whole file (n bytes) and no I/O is
 * done. */
int32_t lask__pq_read_rowgroup(const lask__pq_file *f, int32_t rg,
                               const char *const *cols, int32_t ncols,
                               const uint8_t *buf, int64_t n,
                               lask__frame **out, char *err, size_t errlen);

/* A kernel that consumes the frame it reads (e.g. into partial
 * aggregates) calls lask__pq_lend_begin before reading, then
 * lask__pq_recycle(f) before dropping f (f may be NULL after a failed
 * read): the value buffers the reads on this thread allocated meanwhile
 * that nothing else references go back to this thread's pool, and the
 * next read fills them again instead of faulting in fresh memory. */
void lask__pq_lend_begin(void);
void lask__pq_recycle(lask__frame *f);

typedef struct lask__pq_write_opts {
    int32_t codec;                /* PQ_CODEC_NONE/SNAPPY/GZIP/ZSTD */
    int64_t row_group_size;       /* rows per row group (<= 0: 1M) */
    int32_t dictionary;           /* 0: never; 1: for low-cardinality columns */
    int32_t compression_level;    /* 0: the codec's default */
} lask__pq_write_opts;

/* Write frame f to path (one file). opts may be NULL (snappy, 1M rows). */
int32_t lask__pq_write(const lask__frame *f, const char *path,
                       const lask__pq_write_opts *opts, char *err, size_t errlen);
/* The same into a malloc'd buffer (*out, *outlen). */
int32_t lask__pq_write_mem(const lask__frame *f, const lask__pq_write_opts *opts,
                           uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* --- shared between the decoder files (parquet_decode.c, parquet_encodings.c) */

/* RLE/bit-packed hybrid reader. */
typedef struct lask__pq_rle {
    const uint8_t *p, *end;
    int bw;
    int64_t run;          /* values left in the current run */
    int packed;           /* current run is bit-packed */
    uint64_t value;       /* RLE run value */
    int64_t bitpos;       /* bit position inside the packed run */
    const uint8_t *pk;    /* start of the packed run's bytes */
    int64_t pkbytes;
} lask__pq_rle;

void lask__pq_rle_init(lask__pq_rle *r, const uint8_t *p, const uint8_t *end, int bw);
/* Read n values into out (uint32); returns 0 or -1 when the data ends early
 * or is malformed. */
int lask__pq_rle_read(lask__pq_rle *r, uint32_t *out, int64_t n);
/* At the start of a run: is it one RLE run of value v covering n values?
 * Then those n are consumed and 1 returned; otherwise 0, r unchanged. (A
 * column without nulls: its definition levels are all one such run.) */
int lask__pq_rle_skip_run(lask__pq_rle *r, int64_t n, uint32_t v);

/* DELTA_BINARY_PACKED: decodes n values into out (int64); *used receives the
 * bytes consumed. Returns 0 or -1. (n is a limit: the header's count must
 * be >= n.) */
int lask__pq_delta_decode(const uint8_t *p, const uint8_t *end, int64_t n,
                          int64_t *out, int64_t *count, int64_t *used, int is32);
/* The header's value count only. */
int lask__pq_delta_count(const uint8_t *p, const uint8_t *end, int64_t *count);

/* Encoders used by the writer. */
typedef struct lask__pq_buf { uint8_t *p; size_t len, cap; int oom; } lask__pq_buf;
void lask__pq_buf_put(lask__pq_buf *b, const void *p, size_t n);
void lask__pq_buf_free(lask__pq_buf *b);
/* RLE/bit-packed hybrid of n values of bit width bw (no length prefix). */
void lask__pq_rle_encode(lask__pq_buf *b, const uint32_t *v, int64_t n, int bw);

/* Compression (parquet_codec.c): decompress src into exactly dstlen bytes. */
int32_t lask__pq_decompress(int32_t codec, const uint8_t *src, size_t srclen,
                            uint8_t *dst, size_t dstlen, const char **why);
/* Compress src into *dst (a malloc'd buffer of *dstcap bytes, grown as
 * needed and kept for the next call); *dstlen receives the size. */
int32_t lask__pq_compress(int32_t codec, int32_t level, const uint8_t *src, size_t srclen,
                          uint8_t **dst, size_t *dstcap, size_t *dstlen);
const char *lask__pq_codec_name(int32_t codec);

#endif
