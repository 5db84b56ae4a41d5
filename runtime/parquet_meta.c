/*
 * parquet_meta.c - the Parquet footer: FileMetaData, schema flattening.
 *
 * Only the tail of the file is read: the last 8 bytes (footer length and
 * magic), then the footer. Statistics point into the kept footer bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "parquet.h"
#include "thrift_compact.h"

static int32_t ferr(char *err, size_t errlen, int32_t st, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

typedef struct schema_el {
    int32_t type, type_length, repetition, num_children, converted, scale, precision;
    int32_t has_type;
    /* logical type */
    int32_t lt;               /* LogicalType union field id, 0 none */
    int32_t lt_unit, lt_bits, lt_signed, lt_scale, lt_precision;
    char *name;
} schema_el;

static void read_timeunit(lask__tc_reader *r, int32_t *unit) {
    int16_t id;
    int t;
    lask__tc_struct_begin(r);
    while ((t = lask__tc_field(r, &id)) != LASK__TC_STOP) {
        if (t == LASK__TC_STRUCT && id >= 1 && id <= 3) *unit = id;
        lask__tc_skip(r, t);
    }
    lask__tc_struct_end(r);
}

static void read_logical(lask__tc_reader *r, schema_el *e) {
    int16_t id, id2;
    int t, t2;
    lask__tc_struct_begin(r);
    while ((t = lask__tc_field(r, &id)) != LASK__TC_STOP) {
        if (t != LASK__TC_STRUCT) { lask__tc_skip(r, t); continue; }
        e->lt = id;
        lask__tc_struct_begin(r);
        while ((t2 = lask__tc_field(r, &id2)) != LASK__TC_STOP) {
            if (id == 5 && id2 == 1 && t2 == LASK__TC_I32) e->lt_scale = lask__tc_i32(r);
            else if (id == 5 && id2 == 2 && t2 == LASK__TC_I32) e->lt_precision = lask__tc_i32(r);
            else if ((id == 7 || id == 8) && id2 == 2 && t2 == LASK__TC_STRUCT) read_timeunit(r, &e->lt_unit);
            else if (id == 10 && id2 == 1 && t2 == LASK__TC_I8) {
                if (r->p < r->end) e->lt_bits = (int8_t)*r->p++;
                else lask__tc_skip(r, t2);
            }
            else if (id == 10 && id2 == 2) e->lt_signed = t2 == LASK__TC_TRUE;
            else lask__tc_skip(r, t2);
        }
        lask__tc_struct_end(r);
    }
    lask__tc_struct_end(r);
}

static void read_schema_el(lask__tc_reader *r, schema_el *e) {
    int16_t id;
    int t;
    memset(e, 0, sizeof *e);
    e->converted = -1;
    e->repetition = 0;
    lask__tc_struct_begin(r);
    while ((t = lask__tc_field(r, &id)) != LASK__TC_STOP) {
        if (id == 1 && t == LASK__TC_I32) { e->type = lask__tc_i32(r); e->has_type = 1; }
        else if (id == 2 && t == LASK__TC_I32) e->type_length = lask__tc_i32(r);
        else if (id == 3 && t == LASK__TC_I32) e->repetition = lask__tc_i32(r);
        else if (id == 4 && t == LASK__TC_BINARY) {
            int64_t n;
            const uint8_t *s = lask__tc_binary(r, &n);
            if (s) {
                free(e->name);
                e->name = strndup((const char *)s, (size_t)n);
                if (!e->name) r->err = "out of memory";
            }
        }
        else if (id == 5 && t == LASK__TC_I32) e->num_children = lask__tc_i32(r);
        else if (id == 6 && t == LASK__TC_I32) e->converted = lask__tc_i32(r);
        else if (id == 7 && t == LASK__TC_I32) e->scale = lask__tc_i32(r);
        else if (id == 8 && t == LASK__TC_I32) e->precision = lask__tc_i32(r);
        else if (id == 10 && t == LASK__TC_STRUCT) read_logical(r, e);
        else lask__tc_skip(r, t);
    }
    lask__tc_struct_end(r);
}

static void read_stats(lask__tc_reader *r, lask__pq_stats *s) {
    int16_t id;
    int t;
    const uint8_t *omin = NULL, *omax = NULL;
    int64_t ominl = -1, omaxl = -1, n;
    lask__tc_struct_begin(r);
    while ((t = lask__tc_field(r, &id)) != LASK__TC_STOP) {
        if (id == 1 && t == LASK__TC_BINARY) { omax = lask__tc_binary(r, &n); omaxl = n; }
        else if (id == 2 && t == LASK__TC_BINARY) { omin = lask__tc_binary(r, &n); ominl = n; }
        else if (id == 3 && t == LASK__TC_I64) s->null_count = lask__tc_i64(r);
        else if (id == 5 && t == LASK__TC_BINARY) { s->max = lask__tc_binary(r, &n); s->max_len = (int32_t)n; }
        else if (id == 6 && t == LASK__TC_BINARY) { s->min = lask__tc_binary(r, &n); s->min_len = (int32_t)n; }
        else lask__tc_skip(r, t);
    }
    lask__tc_struct_end(r);
    /* The deprecated min/max only stand in when the new ones are absent;
     * their order is only right for signed numbers (legacy = 1 says so). */
    if (s->min_len < 0 && s->max_len < 0 && omin && omax) {
        s->min = omin; s->min_len = (int32_t)ominl;
        s->max = omax; s->max_len = (int32_t)omaxl;
        s->legacy = 1;
    }
}

static void read_colmeta(lask__tc_reader *r, lask__pq_chunk *c) {
    int16_t id;
    int t;
    lask__tc_struct_begin(r);
    while ((t = lask__tc_field(r, &id)) != LASK__TC_STOP) {
        if (id == 1 && t == LASK__TC_I32) c->type = lask__tc_i32(r);
        else if (id == 4 && t == LASK__TC_I32) c->codec = lask__tc_i32(r);
        else if (id == 5 && t == LASK__TC_I64) c->num_values = lask__tc_i64(r);
        else if (id == 7 && t == LASK__TC_I64) c->total_compressed_size = lask__tc_i64(r);
        else if (id == 9 && t == LASK__TC_I64) c->data_page_offset = lask__tc_i64(r);
        else if (id == 11 && t == LASK__TC_I64) c->dictionary_page_offset = lask__tc_i64(r);
        else if (id == 12 && t == LASK__TC_STRUCT) read_stats(r, &c->stats);
        else lask__tc_skip(r, t);
    }
    lask__tc_struct_end(r);
}

static void read_colchunk(lask__tc_reader *r, lask__pq_chunk *c, int *has_meta) {
    int16_t id;
    int t;
    lask__tc_struct_begin(r);
    while ((t = lask__tc_field(r, &id)) != LASK__TC_STOP) {
        if (id == 3 && t == LASK__TC_STRUCT) { read_colmeta(r, c); *has_meta = 1; }
        else if (id == 1 && t == LASK__TC_BINARY) {
            int64_t n;
            lask__tc_binary(r, &n);
            if (!r->err) r->err = "column chunks in other files are not supported";
        }
        else lask__tc_skip(r, t);
    }
    lask__tc_struct_end(r);
}

static void init_chunk(lask__pq_chunk *c) {
    memset(c, 0, sizeof *c);
    c->type = -1;
    c->data_page_offset = -1;
    c->dictionary_page_offset = -1;
    c->stats.min_len = c->stats.max_len = -1;
    c->stats.null_count = -1;
}

/* RowGroup: fills rg->chunks (nleaves of them, checked). */
static int read_rowgroup(lask__tc_reader *r, lask__pq_rowgroup *rg, int32_t nleaves) {
    int16_t id;
    int t, got_cols = 0;
    rg->num_rows = -1;
    lask__tc_struct_begin(r);
    while ((t = lask__tc_field(r, &id)) != LASK__TC_STOP) {
        if (id == 1 && t == LASK__TC_LIST && !got_cols) {
            int et;
            int64_t n = lask__tc_list(r, &et);
            if (r->err) break;
            if (n != nleaves || et != LASK__TC_STRUCT) {
                r->err = "row group column count differs from the schema";
                break;
            }
            rg->chunks = calloc((size_t)(n ? n : 1), sizeof *rg->chunks);
            if (!rg->chunks) { r->err = "out of memory"; break; }
            for (int64_t i = 0; i < n && !r->err; i++) {
                int has = 0;
                init_chunk(&rg->chunks[i]);
                read_colchunk(r, &rg->chunks[i], &has);
                if (!has && !r->err) r->err = "column chunk without metadata";
            }
            got_cols = 1;
        }
        else if (id == 3 && t == LASK__TC_I64) rg->num_rows = lask__tc_i64(r);
        else lask__tc_skip(r, t);
    }
    lask__tc_struct_end(r);
    if (!r->err && (!got_cols || rg->num_rows < 0)) r->err = "row group without columns or row count";
    return r->err ? -1 : 0;
}

/* Map a leaf's annotation to what we decode it as. */
static void classify(lask__pq_column *c, const schema_el *e) {
    c->physical = e->type;
    c->type_length = e->type_length;
    c->logical = PQ_L_NONE;
    c->is_signed = 1;
    switch (e->lt) {
    case 1: case 4: case 12: c->logical = PQ_L_STRING; break;   /* STRING ENUM JSON */
    case 5: c->logical = PQ_L_DECIMAL; c->scale = e->lt_scale; c->precision = e->lt_precision; break;
    case 6: c->logical = PQ_L_DATE; break;
    case 7: c->logical = PQ_L_TIME; c->unit = e->lt_unit; break;
    case 8: c->logical = PQ_L_TIMESTAMP; c->unit = e->lt_unit; break;
    case 10: c->logical = PQ_L_INT; c->bits = e->lt_bits; c->is_signed = e->lt_signed; break;
    case 0: break;
    default: c->logical = PQ_L_OTHER; break;
    }
    if (c->logical == PQ_L_NONE) {
        switch (e->converted) {
        case 0: case 4: case 19: c->logical = PQ_L_STRING; break;       /* UTF8 ENUM JSON */
        case 5: c->logical = PQ_L_DECIMAL; c->scale = e->scale; c->precision = e->precision; break;
        case 6: c->logical = PQ_L_DATE; break;
        case 7: c->logical = PQ_L_TIME; c->unit = 1; break;
        case 8: c->logical = PQ_L_TIME; c->unit = 2; break;
        case 9: c->logical = PQ_L_TIMESTAMP; c->unit = 1; break;
        case 10: c->logical = PQ_L_TIMESTAMP; c->unit = 2; break;
        case 11: case 12: case 13: case 14:
            c->logical = PQ_L_INT; c->is_signed = 0; c->bits = 8 << (e->converted - 11); break;
        case 15: case 16: case 17: case 18:
            c->logical = PQ_L_INT; c->is_signed = 1; c->bits = 8 << (e->converted - 15); break;
        default: break;
        }
    }
    c->coltype = -1;
    switch (c->physical) {
    case PQ_BOOLEAN: c->coltype = LASK_COL_BOOL; break;
    case PQ_INT32: case PQ_INT64:
        if (c->logical == PQ_L_DATE || c->logical == PQ_L_TIMESTAMP) c->coltype = LASK_COL_TIMESTAMP;
        else if (c->logical == PQ_L_DECIMAL) c->coltype = LASK_COL_FLOAT64;
        else c->coltype = LASK_COL_INT64;
        break;
    case PQ_INT96: c->coltype = LASK_COL_TIMESTAMP; break;
    case PQ_FLOAT: case PQ_DOUBLE: c->coltype = LASK_COL_FLOAT64; break;
    case PQ_BYTE_ARRAY: case PQ_FLBA:
        c->coltype = c->logical == PQ_L_DECIMAL ? LASK_COL_FLOAT64 : LASK_COL_STRING;
        break;
    default: break;
    }
    if (c->physical == PQ_FLBA && c->type_length <= 0) c->coltype = -1;
    if (c->physical == PQ_INT96) c->type_length = 12;
}

/* Walk the schema list depth-first: top-level children become columns. */
static int flatten(lask__pq_file *f, schema_el *els, int64_t nels, char *err, size_t errlen) {
    if (nels < 1) return ferr(err, errlen, LASK_EFORMAT, "%s: empty schema", f->path);
    int64_t nroot = els[0].num_children;
    if (nroot < 0 || nroot > nels - 1)
        return ferr(err, errlen, LASK_EFORMAT, "%s: malformed schema (root has %lld children)",
                    f->path, (long long)nroot);
    f->cols = calloc((size_t)(nroot ? nroot : 1), sizeof *f->cols);
    if (!f->cols) return ferr(err, errlen, LASK_ENOMEM, "%s: out of memory", f->path);
    int64_t pos = 1;
    int32_t leaf = 0;
    for (int64_t i = 0; i < nroot; i++) {
        if (pos >= nels) return ferr(err, errlen, LASK_EFORMAT, "%s: malformed schema (truncated)", f->path);
        schema_el *e = &els[pos];
        lask__pq_column *c = &f->cols[f->ncols++];
        c->name = strdup(e->name ? e->name : "");
        if (!c->name) return ferr(err, errlen, LASK_ENOMEM, "%s: out of memory", f->path);
        c->leaf = leaf;
        c->coltype = -1;
        /* Count the subtree: elements to skip and leaves inside. */
        int64_t todo = 1, nleaves = 0, start = pos;
        while (todo > 0) {
            if (pos >= nels) return ferr(err, errlen, LASK_EFORMAT, "%s: malformed schema (truncated)", f->path);
            int32_t nc = els[pos].num_children;
            if (nc < 0 || nc > nels) return ferr(err, errlen, LASK_EFORMAT, "%s: malformed schema", f->path);
            todo += nc - 1;
            if (nc == 0) nleaves++;
            pos++;
        }
        c->nleaves = (int32_t)nleaves;
        leaf += (int32_t)nleaves;
        if (e->num_children > 0 || e->repetition == 2) {
            c->nested = 1;
            c->kind = e->converted == 3 || e->lt == 3 ? "LIST"
                    : e->converted == 1 || e->converted == 2 || e->lt == 2 ? "MAP"
                    : e->num_children > 0 ? "STRUCT" : "repeated";
        } else {
            if (!e->has_type)
                return ferr(err, errlen, LASK_EFORMAT, "%s: column '%s' has no type", f->path, c->name);
            c->max_def = e->repetition == 1 ? 1 : 0;
            classify(c, e);
        }
        (void)start;
    }
    if (pos != nels)
        return ferr(err, errlen, LASK_EFORMAT, "%s: malformed schema (%lld extra elements)",
                    f->path, (long long)(nels - pos));
    f->nleaves = leaf;
    return LASK_OK;
}

static int32_t parse_footer(lask__pq_file *f, char *err, size_t errlen) {
    lask__tc_reader r;
    lask__tc_init(&r, f->footer, (size_t)f->footer_len);
    schema_el *els = NULL;
    int64_t nels = 0, nrg = 0;
    int have_schema = 0, have_rg = 0;
    int32_t st = LASK_OK;
    const uint8_t *rg_start = NULL;
    int16_t id;
    int t;
    f->num_rows = -1;
    lask__tc_struct_begin(&r);
    while ((t = lask__tc_field(&r, &id)) != LASK__TC_STOP) {
        if (id == 2 && t == LASK__TC_LIST && !have_schema) {
            int et;
            nels = lask__tc_list(&r, &et);
            if (r.err) break;
            if (et != LASK__TC_STRUCT) { r.err = "schema is not a list of elements"; break; }
            els = calloc((size_t)(nels ? nels : 1), sizeof *els);
            if (!els) { r.err = "out of memory"; break; }
            for (int64_t i = 0; i < nels && !r.err; i++) read_schema_el(&r, &els[i]);
            have_schema = 1;
        } else if (id == 3 && t == LASK__TC_I64) {
            f->num_rows = lask__tc_i64(&r);
        } else if (id == 4 && t == LASK__TC_LIST && !have_rg) {
            /* Row groups need the leaf count from the schema, which may
             * come later in theory: remember where they start. */
            rg_start = r.p;
            lask__tc_skip(&r, t);
            have_rg = 1;
        } else if (id == 5 && t == LASK__TC_LIST) {
            int et;
            int64_t n = lask__tc_list(&r, &et);
            for (int64_t i = 0; i < n && !r.err; i++) {
                if (et != LASK__TC_STRUCT) { lask__tc_skip(&r, et); continue; }
                int16_t kid;
                int kt;
                const uint8_t *k = NULL, *v = NULL;
                int64_t kl = 0, vl = 0;
                lask__tc_struct_begin(&r);
                while ((kt = lask__tc_field(&r, &kid)) != LASK__TC_STOP) {
                    if (kid == 1 && kt == LASK__TC_BINARY) k = lask__tc_binary(&r, &kl);
                    else if (kid == 2 && kt == LASK__TC_BINARY) v = lask__tc_binary(&r, &vl);
                    else lask__tc_skip(&r, kt);
                }
                lask__tc_struct_end(&r);
                if (k && v && kl == 10 && memcmp(k, "lask.index", 10) == 0 && !f->index_name) {
                    f->index_name = strndup((const char *)v, (size_t)vl);
                    if (!f->index_name) r.err = "out of memory";
                }
            }
        } else if (id == 6 && t == LASK__TC_BINARY) {
            int64_t n;
            const uint8_t *s = lask__tc_binary(&r, &n);
            if (s && !f->created_by) f->created_by = strndup((const char *)s, (size_t)n);
        } else {
            lask__tc_skip(&r, t);
        }
    }
    lask__tc_struct_end(&r);
    if (r.err) {
        st = ferr(err, errlen, LASK_EFORMAT, "%s: corrupted footer (%s)", f->path, r.err);
        goto done;
    }
    if (!have_schema || f->num_rows < 0) {
        st = ferr(err, errlen, LASK_EFORMAT, "%s: corrupted footer (no schema or row count)", f->path);
        goto done;
    }
    if ((st = flatten(f, els, nels, err, errlen)) != LASK_OK) goto done;
    if (have_rg) {
        lask__tc_reader r2;
        lask__tc_init(&r2, rg_start, (size_t)(f->footer + f->footer_len - rg_start));
        r2.depth = 1;   /* inside FileMetaData */
        int et;
        nrg = lask__tc_list(&r2, &et);
        if (!r2.err && et != LASK__TC_STRUCT && nrg > 0) r2.err = "row groups are not structures";
        if (!r2.err) {
            f->rowgroups = calloc((size_t)(nrg ? nrg : 1), sizeof *f->rowgroups);
            if (!f->rowgroups) r2.err = "out of memory";
        }
        for (int64_t i = 0; i < nrg && !r2.err; i++) {
            f->nrowgroups = (int32_t)(i + 1);
            if (read_rowgroup(&r2, &f->rowgroups[i], f->nleaves) != 0) {
                st = ferr(err, errlen, LASK_EFORMAT, "%s: row group %lld: corrupted metadata (%s)",
                          f->path, (long long)i + 1, r2.err);
                goto done;
            }
        }
        if (r2.err) {
            st = ferr(err, errlen, LASK_EFORMAT, "%s: corrupted row group metadata (%s)", f->path, r2.err);
            goto done;
        }
        if (nrg > INT32_MAX) { st = ferr(err, errlen, LASK_EFORMAT, "%s: too many row groups", f->path); goto done; }
    }
    /* Check what the decoder will rely on. */
    for (int32_t g = 0; g < f->nrowgroups; g++) {
        for (int32_t c = 0; c < f->ncols; c++) {
            lask__pq_column *col = &f->cols[c];
            if (col->nested) continue;
            lask__pq_chunk *ch = &f->rowgroups[g].chunks[col->leaf];
            if (ch->type != col->physical) {
                st = ferr(err, errlen, LASK_EFORMAT, "%s: row group %d, column '%s': chunk type differs from the schema",
                          f->path, g + 1, col->name);
                goto done;
            }
        }
    }
done:
    for (int64_t i = 0; els && i < nels; i++) free(els[i].name);
    free(els);
    return st;
}

void lask__pq_close(lask__pq_file *f) {
    if (!f) return;
    for (int32_t i = 0; i < f->ncols; i++) free(f->cols[i].name);
    free(f->cols);
    for (int32_t i = 0; i < f->nrowgroups; i++) free(f->rowgroups[i].chunks);
    free(f->rowgroups);
    free(f->footer);
    free(f->path);
    free(f->created_by);
    free(f->index_name);
    free(f);
}

int32_t lask__pq_find(const lask__pq_file *f, const char *name) {
    for (int32_t i = 0; i < f->ncols; i++)
        if (strcmp(f->cols[i].name, name) == 0) return i;
    return -1;
}

/* Check the tail (8 bytes at tail) and take the footer from buf/fd. */
static int32_t open_common(const char *path, int fd, const uint8_t *buf, int64_t size,
                           lask__pq_file **out, char *err, size_t errlen) {
    *out = NULL;
    lask__pq_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return ferr(err, errlen, LASK_ENOMEM, "%s: out of memory", path);
    }
    f->file_size = size;
    int32_t st;
    uint8_t head[4], tail[8];
    if (size < 12) {
        st = ferr(err, errlen, LASK_EFORMAT, "%s: not a Parquet file (only %lld bytes)", path, (long long)size);
        goto fail;
    }
    if (buf) {
        memcpy(head, buf, 4);
        memcpy(tail, buf + size - 8, 8);
    } else if (pread(fd, head, 4, 0) != 4 || pread(fd, tail, 8, size - 8) != 8) {
        st = ferr(err, errlen, LASK_EIO, "%s: read failed: %s", path, strerror(errno));
        goto fail;
    }
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0) {
        st = ferr(err, errlen, LASK_EFORMAT, "%s: not a Parquet file (bad magic)", path);
        goto fail;
    }
    uint32_t flen = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
    if ((int64_t)flen > size - 12) {
        st = ferr(err, errlen, LASK_EFORMAT, "%s: footer length %u is past the start of the file (%lld bytes)",
                  path, flen, (long long)size);
        goto fail;
    }
    f->footer_len = flen;
    f->footer = malloc(flen ? flen : 1);
    if (!f->footer) { st = ferr(err, errlen, LASK_ENOMEM, "%s: out of memory", path); goto fail; }
    if (buf) memcpy(f->footer, buf + size - 8 - flen, flen);
    else {
        ssize_t got = pread(fd, f->footer, flen, size - 8 - (int64_t)flen);
        if (got != (ssize_t)flen) {
            st = ferr(err, errlen, LASK_EIO, "%s: reading the footer failed", path);
            goto fail;
        }
    }
    if ((st = parse_footer(f, err, errlen)) != LASK_OK) goto fail;
    *out = f;
    return LASK_OK;
fail:
    lask__pq_close(f);
    return st;
}

int32_t lask__pq_open(const char *path, lask__pq_file **out, char *err, size_t errlen) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ferr(err, errlen, LASK_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ferr(err, errlen, LASK_EIO, "%s: not a regular file", path);
    }
    int32_t st = open_common(path, fd, NULL, (int64_t)sb.st_size, out, err, errlen);
    close(fd);
    return st;
}

int32_t lask__pq_open_mem(const char *name, const uint8_t *buf, int64_t n,
                          lask__pq_file **out, char *err, size_t errlen) {
    return open_common(name, -1, buf, n, out, err, errlen);
}

int32_t lask__pq_stat_value(const lask__pq_column *c, const uint8_t *p, int32_t len,
                            int32_t legacy, int64_t *i, double *d) {
    if (!p || len < 0 || c->nested || c->coltype < 0) return 0;
    int64_t v64;
    int32_t v32;
    switch (c->physical) {
    case PQ_BOOLEAN:
        if (len < 1) return 0;
        *i = p[0] != 0;
        return 3;
    case PQ_INT32:
        if (len != 4) return 0;
        memcpy(&v32, p, 4);
        if (c->coltype == LASK_COL_FLOAT64) { *d = v32 / pow(10.0, c->scale); return 2; }
        if (c->coltype == LASK_COL_TIMESTAMP) {   /* days; ns overflow past ~292 years */
            if (v32 > 106751 || v32 < -106751) return 0;
            *i = (int64_t)v32 * INT64_C(86400000000000);
            return 1;
        }
        if (c->logical == PQ_L_INT && !c->is_signed) { if (legacy) return 0; *i = (uint32_t)v32; return 1; }
        *i = v32;
        return 1;
    case PQ_INT64:
        if (len != 8) return 0;
        memcpy(&v64, p, 8);
        if (c->coltype == LASK_COL_FLOAT64) { *d = (double)v64 / pow(10.0, c->scale); return 2; }
        if (c->logical == PQ_L_INT && !c->is_signed && (legacy || v64 < 0)) return 0;
        if (c->coltype == LASK_COL_TIMESTAMP) {
            int64_t mul = c->logical == PQ_L_DATE ? INT64_C(86400000000000)
                        : c->unit == 1 ? 1000000 : c->unit == 2 ? 1000 : 1;
            if (v64 > INT64_MAX / mul || v64 < INT64_MIN / mul) return 0;
            v64 *= mul;
        }
        *i = v64;
        return 1;
    case PQ_FLOAT: {
        float f;
        if (len != 4) return 0;
        memcpy(&f, p, 4);
        if (isnan(f)) return 0;
        *d = f;
        return 2;
    }
    case PQ_DOUBLE:
        if (len != 8) return 0;
        memcpy(d, p, 8);
        return isnan(*d) ? 0 : 2;
    case PQ_BYTE_ARRAY: case PQ_FLBA:
        if (c->coltype == LASK_COL_FLOAT64) {
            if (len < 1 || len > 32) return 0;
            int neg = p[0] & 0x80;
            double v = 0;
            for (int32_t k = 0; k < len; k++) v = v * 256.0 + (uint8_t)(p[k] ^ (neg ? 0xff : 0));
            *d = (neg ? -(v + 1) : v) / pow(10.0, c->scale);
            return 2;
        }
        return legacy ? 0 : 4;
    default:
        return 0;
    }
}
