/*
 * l_parquet.c - the lask.core.parquet module: Parquet footers as Lua
 * tables, and the native kernels read_parquet/to_parquet build graphs of.
 *
 * Kernels (arguments follow the value mapping of bridge.h):
 *   parquet.read_rowgroup(path, rowgroup, columns, filters, partitions, index)
 *     rowgroup: 1-based; columns: list of names or nil (every flat column,
 *     then the partition columns); filters: nil or a flat list of records
 *     group, column, op, nvalues, value... (same group = AND, groups OR);
 *     partitions: nil or a flat list name, present, value, ... of constant
 *     columns (present false: missing);
 *     index: the index column's name or nil. -> a frame chunk
 *   parquet.read_groupby(path, rowgroup, columns, filters, partitions, index,
 *                        keys, aggs)
 *     the same read, then the partial aggregates of a groupby on it (the
 *     frame lask.core.frame's groupby_partial gives); keys: list of names;
 *     aggs: flat list column (false for size), op, name, ... -> a frame chunk
 *   parquet.write(frame, path, compression, row_group_size, partition_on,
 *                 filename) -> nil
 *     without partition_on, path is the file; with it (a list of column
 *     names), path is the dataset directory and each group of rows goes to
 *     path/col=value/.../filename without the partition columns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <glob.h>
#include "bridge.h"
#include "frame.h"
#include "parquet.h"
#include "parquet_filter.h"
#include "frame_ops.h"

#define ERRLEN 1024

/* ------------------------------------------------------------ arguments */

static const char *value_str(const lask_value *v, int64_t *len) {
    if (v->type != LASK_CHUNK || !v->u.c || lask_chunk_kind(v->u.c) != LASK_KIND_BYTES) return NULL;
    int64_t n;
    const char *s = lask_bytes_data(v->u.c, &n);
    if (len) *len = n;
    return s;
}

static int value_scalar(const lask_value *v, lask__pq_scalar *s) {
    memset(s, 0, sizeof *s);
    switch (v->type) {
    case LASK_NIL: s->type = PQ_S_NIL; return 0;
    case LASK_BOOL: s->type = PQ_S_BOOL; s->i = v->u.i; return 0;
    case LASK_INT: s->type = PQ_S_INT; s->i = v->u.i; return 0;
    case LASK_FLOAT: s->type = PQ_S_FLOAT; s->f = v->u.f; return 0;
    default:
        if ((s->s = value_str(v, &s->slen))) { s->type = PQ_S_STRING; return 0; }
        return -1;
    }
}

typedef struct readspec {
    const char *path;
    int32_t rg;
    int32_t nrg;                   /* row groups to read and concatenate */
    int32_t *rgs;
    int32_t ncols;                 /* -1: all */
    const char **cols;
    int32_t npreds;
    lask__pq_pred *preds;
    lask__pq_scalar *predvals;
    int32_t nparts;
    const char **pnames;
    lask__pq_scalar *pvals;
    const char *index;
} readspec;

static void spec_free(readspec *s) {
    free(s->rgs);
    free(s->cols);
    free(s->preds);
    free(s->predvals);
    free(s->pnames);
    free(s->pvals);
}

static int32_t bad(char *err, const char *msg) {
    snprintf(err, ERRLEN, "parquet.read_rowgroup: %s", msg);
    return LASK_EINVAL;
}

static int32_t parse_spec(const lask_value *args, int32_t nargs, readspec *s, char *err) {
    memset(s, 0, sizeof *s);
    s->ncols = -1;
    if (nargs < 2 || !(s->path = value_str(&args[0], NULL)) ||
        (args[1].type != LASK_INT && args[1].type != LASK_LIST))
        return bad(err, "expects (path, rowgroup(s), columns, filters, partitions, index)");
    s->nrg = args[1].type == LASK_INT ? 1 : args[1].len;
    s->rgs = calloc((size_t)(s->nrg ? s->nrg : 1), sizeof *s->rgs);
    if (!s->rgs) return LASK_ENOMEM;
    for (int32_t i = 0; i < s->nrg; i++) {
        const lask_value *v = args[1].type == LASK_INT ? &args[1] : &args[1].u.items[i];
        if (v->type != LASK_INT || v->u.i < 1 || v->u.i > INT32_MAX) return bad(err, "row group numbers start at 1");
        s->rgs[i] = (int32_t)(v->u.i - 1);
    }
    if (s->nrg == 0) return bad(err, "no row group to read");
    s->rg = s->rgs[0];
    if (nargs > 2 && args[2].type == LASK_LIST) {
        s->ncols = args[2].len;
        s->cols = calloc((size_t)(s->ncols ? s->ncols : 1), sizeof *s->cols);
        if (!s->cols) return LASK_ENOMEM;
        for (int32_t i = 0; i < s->ncols; i++)
            if (!(s->cols[i] = value_str(&args[2].u.items[i], NULL))) return bad(err, "column names must be strings");
    }
    if (nargs > 3 && args[3].type == LASK_LIST) {
        const lask_value *it = args[3].u.items;
        int32_t n = args[3].len;
        s->preds = calloc((size_t)(n ? n : 1), sizeof *s->preds);
        s->predvals = calloc((size_t)(n ? n : 1), sizeof *s->predvals);
        if (!s->preds || !s->predvals) return LASK_ENOMEM;
        int32_t k = 0, nv = 0;
        while (k < n) {
            if (k + 4 > n || it[k].type != LASK_INT || it[k + 3].type != LASK_INT) return bad(err, "malformed filter list");
            lask__pq_pred *p = &s->preds[s->npreds++];
            p->group = (int32_t)it[k].u.i;
            p->col = value_str(&it[k + 1], NULL);
            const char *op = value_str(&it[k + 2], NULL);
            p->op = lask__pq_op_parse(op);
            if (!p->col || p->op < 0) {
                snprintf(err, ERRLEN, "parquet filter: bad operator '%s' (use = ~= < <= > >= in)", op ? op : "?");
                return LASK_EINVAL;
            }
            int64_t cnt = it[k + 3].u.i;
            if (cnt < 0 || cnt > n - k - 4) return bad(err, "malformed filter list");
            p->nvals = (int32_t)cnt;
            p->vals = &s->predvals[nv];
            for (int64_t j = 0; j < cnt; j++)
                if (value_scalar(&it[k + 4 + j], &s->predvals[nv++])) return bad(err, "filter values must be numbers, strings or booleans");
            k += 4 + (int32_t)cnt;
        }
    }
    if (nargs > 4 && args[4].type == LASK_LIST) {
        /* triples: name, present (bool), value */
        int32_t n = args[4].len / 3;
        s->nparts = n;
        s->pnames = calloc((size_t)(n ? n : 1), sizeof *s->pnames);
        s->pvals = calloc((size_t)(n ? n : 1), sizeof *s->pvals);
        if (!s->pnames || !s->pvals) return LASK_ENOMEM;
        for (int32_t i = 0; i < n; i++) {
            const lask_value *it = &args[4].u.items[3 * i];
            if (!(s->pnames[i] = value_str(&it[0], NULL)) || it[1].type != LASK_BOOL ||
                value_scalar(&it[2], &s->pvals[i]))
                return bad(err, "malformed partition list");
            if (!it[1].u.i) s->pvals[i].missing = 1;
        }
    }
    if (nargs > 5) s->index = value_str(&args[5], NULL);
    return LASK_OK;
}

/* Can every predicate be tested page by page: a flat fixed-width column of
 * the file (not a partition key) and values of a comparable kind? */
static int pagewise_ok(const lask__pq_file *f, const readspec *s) {
    for (int32_t i = 0; i < s->npreds; i++) {
        const lask__pq_pred *p = &s->preds[i];
        for (int32_t k = 0; k < s->nparts; k++)
            if (strcmp(s->pnames[k], p->col) == 0) return 0;
        int32_t ci = lask__pq_find(f, p->col);
        if (ci < 0 || f->cols[ci].nested || !lask__pq_pred_pagewise(f->cols[ci].coltype, p)) return 0;
    }
    return 1;
}

/* Filtered read without materializing the filter columns: the predicates
 * are tested on each page of their columns as it is decoded (into reused
 * buffers), giving the row mask; then the output columns (want: file
 * columns, filter columns included when asked) are decoded keeping only the
 * passing rows; partition columns are constants. */
static int32_t read_pagewise(const lask__pq_file *f, const readspec *s,
                             const char **outnames, int32_t nout,
                             lask__frame **out, char *err) {
    int64_t nrows = f->rowgroups[s->rg].num_rows, nkeep = 0;
    int32_t np = s->npreds, st = LASK_OK;
    size_t nb = (size_t)(nrows ? nrows : 1);
    uint8_t *keep = malloc(nb);
    /* one result row per predicate; a single predicate writes the mask */
    uint8_t *buf = np > 1 ? malloc(nb * (size_t)np) : NULL;
    uint8_t **res = calloc((size_t)np, sizeof *res);
    lask__frame *fm = NULL, *filt = NULL;
    if (!keep || !res || (np > 1 && !buf)) goto oom;
    for (int32_t i = 0; i < np; i++) res[i] = np > 1 ? buf + (size_t)i * nb : keep;
    if ((st = lask__pq_rowgroup_preds(f, s->rg, s->preds, np, res, err, ERRLEN))) goto done;
    if (np > 1) {
        /* OR over groups of the AND within each (a group's predicates are
         * consecutive) */
        memset(keep, 0, (size_t)nrows);
        for (int32_t i = 0; i < np;) {
            int32_t j = i + 1;
            while (j < np && s->preds[j].group == s->preds[i].group) j++;
            for (int64_t r = 0; r < nrows; r++) {
                uint8_t a = res[i][r];
                for (int32_t k = i + 1; k < j; k++) a &= res[k][r];
                keep[r] |= a;
            }
            i = j;
        }
    }
    nkeep = lask__pq_count_kept(keep, nrows);
    /* filter columns asked for output are read again, masked */
    const char **rd = calloc((size_t)nout + 1, sizeof *rd);
    if (!rd) goto oom;
    int32_t nrd = 0;
    for (int32_t i = 0; i < nout; i++) {
        int part = 0;
        for (int32_t k = 0; k < s->nparts; k++) part |= strcmp(s->pnames[k], outnames[i]) == 0;
        if (!part) rd[nrd++] = outnames[i];
    }
    if (nrd > 0)
        st = lask__pq_read_rowgroup_masked(f, s->rg, rd, nrd, keep, nkeep, NULL, 0, &fm, err, ERRLEN);
    free(rd);
    if (st) goto done;
    filt = lask__frame_new(nout, nkeep);
    if (!filt) goto oom;
    for (int32_t i = 0; i < nout; i++) {
        int32_t ci = fm ? lask__frame_find(fm, outnames[i]) : -1;
        lask__column *c = NULL;
        if (ci >= 0) {
            c = lask__column_ref(fm->cols[ci]);
        } else {
            for (int32_t k = 0; k < s->nparts && !c; k++)
                if (strcmp(s->pnames[k], outnames[i]) == 0 && !(c = lask__pq_const_column(&s->pvals[k], nkeep))) goto oom;
            if (!c) {
                snprintf(err, ERRLEN, "%s: no column '%s'", s->path, outnames[i]);
                st = LASK_EINVAL;
                goto done;
            }
        }
        if (lask__frame_set(filt, i, outnames[i], c) != LASK_OK) { lask__column_unref(c); goto oom; }
    }
    const char *ix = s->index ? s->index : f->index_name;
    filt->index = ix ? lask__frame_find(filt, ix) : -1;
    *out = filt;
    filt = NULL;
    goto done;
oom:
    snprintf(err, ERRLEN, "%s: out of memory", s->path);
    st = LASK_ENOMEM;
done:
    if (fm) lask_chunk_unref(&fm->h);
    if (filt) lask_chunk_unref(&filt->h);
    free(keep);
    free(buf);
    free(res);
    return st;
}

/* Decode, add partition columns, filter, select. */
static int32_t do_read(const readspec *s, lask__frame **out, char *err) {
    *out = NULL;
    lask__pq_file *f;
    int32_t st = lask__pq_open(s->path, &f, err, ERRLEN);
    if (st) return st;
    /* file columns to decode: the asked ones and those the filters need */
    int32_t cap = (s->ncols < 0 ? f->ncols : s->ncols) + s->npreds;
    const char **want = calloc((size_t)(cap ? cap : 1), sizeof *want);
    const char **outnames = calloc((size_t)(cap + s->nparts + 1), sizeof *outnames);
    int32_t nwant = 0, nout = 0;
    lask__frame *fr = NULL, *wide = NULL, *filt = NULL;
    if (!want || !outnames) { st = LASK_ENOMEM; snprintf(err, ERRLEN, "out of memory"); goto done; }
    if (s->rg < 0 || s->rg >= f->nrowgroups) {
        snprintf(err, ERRLEN, "%s: no row group %d (the file has %d)", s->path, s->rg + 1, f->nrowgroups);
        st = LASK_EINVAL;
        goto done;
    }
    for (int32_t i = 0; i < (s->ncols < 0 ? f->ncols : s->ncols); i++) {
        const char *nm = s->ncols < 0 ? f->cols[i].name : s->cols[i];
        int is_part = 0;
        for (int32_t k = 0; k < s->nparts; k++) is_part |= strcmp(nm, s->pnames[k]) == 0;
        if (s->ncols < 0 && (f->cols[i].nested || is_part)) {
            if (f->cols[i].nested) {
                snprintf(err, ERRLEN, "%s: column '%s' is a nested %s column, which lask cannot read "
                         "(leave it out with the columns option)", s->path, nm, f->cols[i].kind);
                st = LASK_EFORMAT;
                goto done;
            }
            continue;
        }
        outnames[nout++] = nm;
        if (!is_part) want[nwant++] = nm;
    }
    if (s->ncols < 0)
        for (int32_t k = 0; k < s->nparts; k++) outnames[nout++] = s->pnames[k];
    /* Without filters: decode the output columns. With filters: decode
     * the filter columns, work out which rows pass, then decode the other
     * output columns keeping only those rows (they never materialize in
     * full). */
    int32_t nfw = 0;
    const char **fwant = calloc((size_t)(s->npreds + 1), sizeof *fwant);
    if (!fwant) { st = LASK_ENOMEM; goto oom; }
    for (int32_t i = 0; i < s->npreds; i++) {
        int have = 0;
        for (int32_t k = 0; k < nfw; k++) have |= strcmp(fwant[k], s->preds[i].col) == 0;
        for (int32_t k = 0; k < s->nparts; k++) have |= strcmp(s->pnames[k], s->preds[i].col) == 0;
        if (!have && lask__pq_find(f, s->preds[i].col) >= 0) fwant[nfw++] = s->preds[i].col;
    }
    if (s->npreds > 0) {
        /* output file columns that are not filter columns: read masked */
        int32_t m = 0;
        for (int32_t i = 0; i < nwant; i++) {
            int isf = 0;
            for (int32_t k = 0; k < nfw; k++) isf |= strcmp(want[i], fwant[k]) == 0;
            if (!isf) want[m++] = want[i];
        }
        nwant = m;
    }
    if (s->npreds > 0 && pagewise_ok(f, s)) {
        free(fwant);
        st = read_pagewise(f, s, outnames, nout, out, err);
        goto done;
    }
    st = lask__pq_read_rowgroup(f, s->rg, s->npreds > 0 ? fwant : want, s->npreds > 0 ? nfw : nwant,
                                NULL, 0, &fr, err, ERRLEN);
    if (st) { free(fwant); goto done; }
    if (s->nparts) {
        wide = lask__frame_new(fr->ncols + s->nparts, fr->nrows);
        if (!wide) { free(fwant); st = LASK_ENOMEM; goto oom; }
        for (int32_t i = 0; i < fr->ncols; i++)
            lask__frame_set(wide, i, fr->names[i], lask__column_ref(fr->cols[i]));
        for (int32_t k = 0; k < s->nparts; k++) {
            lask__column *c = lask__pq_const_column(&s->pvals[k], fr->nrows);
            if (!c || lask__frame_set(wide, fr->ncols + k, s->pnames[k], c) != LASK_OK) {
                lask__column_unref(c);
                free(fwant);
                st = LASK_ENOMEM;
                goto oom;
            }
        }
    } else {
        wide = (lask__frame *)lask_chunk_ref(&fr->h);
    }
    char where[600];
    snprintf(where, sizeof where, "%s: row group %d", s->path, s->rg + 1);
    if ((st = lask__pq_check_preds(wide, s->preds, s->npreds, where, err, ERRLEN))) { free(fwant); goto done; }
    const char *ix = s->index ? s->index : f->index_name;
    if (s->npreds == 0) {
        free(fwant);
        if ((st = lask__pq_filter(wide, NULL, 0, outnames, nout, &filt, err, ERRLEN))) goto done;
        filt->index = ix ? lask__frame_find(filt, ix) : -1;
        *out = filt;
        filt = NULL;
        goto done;
    }
    free(fwant);
    int64_t nrows = f->rowgroups[s->rg].num_rows, nkeep = 0;
    uint8_t *keep = malloc((size_t)(nrows ? nrows : 1));
    if (!keep || lask__pq_mask(wide, s->preds, s->npreds, keep, &nkeep) != LASK_OK) {
        free(keep);
        st = LASK_ENOMEM;
        goto oom;
    }
    lask__frame *fm = NULL;
    if (nwant > 0 &&
        (st = lask__pq_read_rowgroup_masked(f, s->rg, want, nwant, keep, nkeep, NULL, 0, &fm, err, ERRLEN))) {
        free(keep);
        goto done;
    }
    filt = lask__frame_new(nout, nkeep);
    for (int32_t i = 0; filt && i < nout && st == LASK_OK; i++) {
        int32_t ci = fm ? lask__frame_find(fm, outnames[i]) : -1;
        lask__column *c;
        if (ci >= 0) {
            c = lask__column_ref(fm->cols[ci]);
        } else if ((ci = lask__frame_find(wide, outnames[i])) >= 0) {
            c = nkeep == nrows ? lask__column_ref(wide->cols[ci]) : lask__column_take(wide->cols[ci], keep, nkeep);
        } else {
            snprintf(err, ERRLEN, "%s: no column '%s'", s->path, outnames[i]);
            st = LASK_EINVAL;
            break;
        }
        if (!c || lask__frame_set(filt, i, outnames[i], c) != LASK_OK) {
            lask__column_unref(c);
            snprintf(err, ERRLEN, "%s: out of memory", s->path);
            st = LASK_ENOMEM;
        }
    }
    free(keep);
    if (fm) lask_chunk_unref(&fm->h);
    if (!filt) { st = LASK_ENOMEM; goto oom; }
    if (st) goto done;
    filt->index = ix ? lask__frame_find(filt, ix) : -1;
    *out = filt;
    filt = NULL;
    goto done;
oom:
    snprintf(err, ERRLEN, "%s: out of memory", s->path);
done:
    if (fr) lask_chunk_unref(&fr->h);
    if (wide) lask_chunk_unref(&wide->h);
    if (filt) lask_chunk_unref(&filt->h);
    free(want);
    free(outnames);
    lask__pq_close(f);
    return st;
}

/* Every row group of the spec, concatenated. */
static int32_t do_read_all(readspec *s, lask__frame **out, char *err) {
    if (s->nrg == 1) { s->rg = s->rgs[0]; return do_read(s, out, err); }
    lask__frame **parts = calloc((size_t)s->nrg, sizeof *parts);
    if (!parts) { snprintf(err, ERRLEN, "out of memory"); return LASK_ENOMEM; }
    int32_t st = LASK_OK, got = 0;
    for (; got < s->nrg && st == LASK_OK; got++) {
        s->rg = s->rgs[got];
        st = do_read(s, &parts[got], err);
    }
    if (st == LASK_OK) st = lask__pq_concat(parts, s->nrg, out, err, ERRLEN);
    for (int32_t i = 0; i < s->nrg; i++)
        if (parts[i]) lask_chunk_unref(&parts[i]->h);
    free(parts);
    return st;
}

static int32_t k_read(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    (void)ud;
    char err[ERRLEN];
    readspec s;
    int32_t st = parse_spec(args, nargs, &s, err);
    lask__frame *fr = NULL;
    if (st == LASK_ENOMEM) snprintf(err, ERRLEN, "out of memory");
    if (st == LASK_OK) st = do_read_all(&s, &fr, err);
    spec_free(&s);
    if (st) return lask_ctx_error(ctx, err);
    out->type = LASK_CHUNK;
    out->u.c = &fr->h;
    return LASK_OK;
}

/* Read + partial group-by in one task: the row group's frame never leaves
 * the kernel, and its buffers go back to this thread's pool for the next
 * row group (lask__pq_recycle). */
static int32_t k_read_groupby(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    (void)ud;
    char err[ERRLEN];
    if (nargs != 8 || args[6].type != LASK_LIST || args[7].type != LASK_LIST || args[7].len % 3 != 0 ||
        args[6].len < 1 || args[6].len > 64 || args[7].len / 3 > 256)
        return lask_ctx_error(ctx, "parquet.read_groupby: expects (path, rowgroup(s), columns, filters, "
                              "partitions, index, keys, aggs as column/false, op, name triples)");
    const char *keys[64];
    lask__agg aggs[256];
    int32_t nk = args[6].len, na = args[7].len / 3;
    for (int32_t i = 0; i < nk; i++)
        if (!(keys[i] = value_str(&args[6].u.items[i], NULL)))
            return lask_ctx_error(ctx, "parquet.read_groupby: key names must be strings");
    for (int32_t i = 0; i < na; i++) {
        const lask_value *t = &args[7].u.items[3 * i];
        aggs[i].col = t[0].type == LASK_BOOL ? NULL : value_str(&t[0], NULL);
        aggs[i].op = value_str(&t[1], NULL);
        aggs[i].out = value_str(&t[2], NULL);
        if ((!aggs[i].col && t[0].type != LASK_BOOL) || !aggs[i].op || !aggs[i].out)
            return lask_ctx_error(ctx, "parquet.read_groupby: aggregations are column/false, op, name triples");
    }
    readspec s;
    int32_t st = parse_spec(args, 6, &s, err);
    lask__frame *fr = NULL;
    if (st == LASK_ENOMEM) snprintf(err, ERRLEN, "out of memory");
    if (st == LASK_OK) {
        lask__pq_lend_begin();
        st = do_read_all(&s, &fr, err);
        if (st) lask__pq_recycle(NULL);
    }
    lask__frame *p = NULL;
    if (st == LASK_OK) {
        p = lask__groupby_partial(fr, keys, nk, aggs, na);
        if (!p) {
            snprintf(err, ERRLEN, "%s: row group %d: groupby: %s", s.path, s.rg + 1, lask__frame_errmsg());
            st = LASK_EINVAL;
        }
        lask__pq_recycle(fr);
        lask_chunk_unref(&fr->h);
    }
    spec_free(&s);
    if (st) return lask_ctx_error(ctx, err);
    out->type = LASK_CHUNK;
    out->u.c = &p->h;
    return LASK_OK;
}

/* ------------------------------------------------------------ writing */

static int32_t codec_of(const char *s, int32_t *codec) {
    if (!s || !strcmp(s, "snappy")) *codec = PQ_CODEC_SNAPPY;
    else if (!strcmp(s, "zstd")) *codec = PQ_CODEC_ZSTD;
    else if (!strcmp(s, "gzip")) *codec = PQ_CODEC_GZIP;
    else if (!strcmp(s, "lz4") || !strcmp(s, "lz4_raw")) *codec = PQ_CODEC_LZ4_RAW;
    else if (!strcmp(s, "none") || !strcmp(s, "uncompressed")) *codec = PQ_CODEC_NONE;
    else return -1;
    return 0;
}

static int mkdirs(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int r = mkdir(path, 0777);
        *p = '/';
        if (r != 0 && errno != EEXIST) return -1;
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return -1;
    return 0;
}

/* Hive text of row r of c: percent-escaped so it is one path segment. */
static void hive_value(const lask__column *c, int64_t r, lask__pq_buf *b) {
    char tmp[64];
    if (!lask__column_isvalid(c, r)) {
        lask__pq_buf_put(b, "__HIVE_DEFAULT_PARTITION__", 26);
        return;
    }
    const char *s = tmp;
    int64_t n;
    switch (c->type) {
    case LASK_COL_INT64: case LASK_COL_TIMESTAMP:
        n = snprintf(tmp, sizeof tmp, "%lld", (long long)((const int64_t *)c->values)[r]);
        break;
    case LASK_COL_FLOAT64: {
        double v = ((const double *)c->values)[r];
        for (int prec = 1; prec <= 17; prec++) {
            n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v) break;
        }
        break;
    }
    case LASK_COL_BOOL:
        n = snprintf(tmp, sizeof tmp, "%s", ((const uint8_t *)c->values)[r] ? "true" : "false");
        break;
    default: {
        const int64_t *o = c->values;
        s = c->strdata + o[r];
        n = o[r + 1] - o[r];
    }
    }
    for (int64_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == ' ' || ch >= 0x80) {
            if (!(i == 0 && ch == '.')) { lask__pq_buf_put(b, &ch, 1); continue; }
        }
        char e[4];
        snprintf(e, sizeof e, "%%%02X", ch);
        lask__pq_buf_put(b, e, 3);
    }
}

static int32_t write_partitioned(const lask__frame *f, const char *dir, const char *const *pcols,
                                 int32_t np, const char *filename, const lask__pq_write_opts *o,
                                 char *err) {
    int32_t *pi = malloc(sizeof(int32_t) * (size_t)np);
    uint8_t *keep = malloc((size_t)(f->nrows ? f->nrows : 1));
    uint8_t *done = calloc((size_t)(f->nrows ? f->nrows : 1), 1);
    lask__pq_buf key = {0}, other = {0};
    int32_t st = LASK_OK;
    if (!pi || !keep || !done) { st = LASK_ENOMEM; snprintf(err, ERRLEN, "out of memory"); goto out; }
    for (int32_t k = 0; k < np; k++) {
        if ((pi[k] = lask__frame_find(f, pcols[k])) < 0) {
            snprintf(err, ERRLEN, "to_parquet: partition_on names a missing column '%s'", pcols[k]);
            st = LASK_EINVAL;
            goto out;
        }
    }
    if (np >= f->ncols) {
        snprintf(err, ERRLEN, "to_parquet: partition_on leaves no column to write");
        st = LASK_EINVAL;
        goto out;
    }
    /* One pass per distinct key: fine for the few partitions hive layouts have. */
    for (int64_t r0 = 0; r0 < f->nrows && st == LASK_OK; r0++) {
        if (done[r0]) continue;
        key.len = 0;
        for (int32_t k = 0; k < np; k++) {
            lask__pq_buf_put(&key, "/", 1);
            lask__pq_buf_put(&key, pcols[k], strlen(pcols[k]));
            lask__pq_buf_put(&key, "=", 1);
            hive_value(f->cols[pi[k]], r0, &key);
        }
        int64_t nkeep = 0;
        for (int64_t r = r0; r < f->nrows; r++) {
            keep[r] = 0;
            if (done[r]) continue;
            other.len = 0;
            for (int32_t k = 0; k < np; k++) {
                lask__pq_buf_put(&other, "/", 1);
                lask__pq_buf_put(&other, pcols[k], strlen(pcols[k]));
                lask__pq_buf_put(&other, "=", 1);
                hive_value(f->cols[pi[k]], r, &other);
            }
            if (other.len == key.len && memcmp(other.p, key.p, key.len) == 0) {
                keep[r] = 1;
                done[r] = 1;
                nkeep++;
            }
        }
        memset(keep, 0, (size_t)r0);
        if (key.oom || other.oom) { st = LASK_ENOMEM; snprintf(err, ERRLEN, "out of memory"); break; }
        lask__frame *part = lask__frame_new(f->ncols - np, nkeep);
        if (!part) { st = LASK_ENOMEM; snprintf(err, ERRLEN, "out of memory"); break; }
        int32_t j = 0;
        for (int32_t c = 0; c < f->ncols && st == LASK_OK; c++) {
            int is_p = 0;
            for (int32_t k = 0; k < np; k++) is_p |= pi[k] == c;
            if (is_p) continue;
            lask__column *col = lask__column_take(f->cols[c], keep, nkeep);
            if (!col || lask__frame_set(part, j++, f->names[c], col) != LASK_OK) {
                lask__column_unref(col);
                st = LASK_ENOMEM;
                snprintf(err, ERRLEN, "out of memory");
            }
        }
        if (st == LASK_OK) {
            size_t plen = strlen(dir) + key.len + strlen(filename) + 2;
            char *path = malloc(plen);
            if (!path) { st = LASK_ENOMEM; snprintf(err, ERRLEN, "out of memory"); }
            else {
                snprintf(path, plen, "%s%.*s", dir, (int)key.len, (const char *)key.p);
                if (mkdirs(path) != 0) {
                    snprintf(err, ERRLEN, "to_parquet: cannot create %s: %s", path, strerror(errno));
                    st = LASK_EIO;
                } else {
                    snprintf(path, plen, "%s%.*s/%s", dir, (int)key.len, (const char *)key.p, filename);
                    st = lask__pq_write(part, path, o, err, ERRLEN);
                }
                free(path);
            }
        }
        lask_chunk_unref(&part->h);
    }
out:
    free(pi);
    free(keep);
    free(done);
    lask__pq_buf_free(&key);
    lask__pq_buf_free(&other);
    return st;
}

static int32_t do_write(lask_chunk *fc, const char *path, const char *comp, int64_t rgsize,
                        const char *const *pcols, int32_t np, const char *filename, char *err) {
    if (!fc || lask_chunk_kind(fc) != LASK_KIND_FRAME) {
        snprintf(err, ERRLEN, "to_parquet: expected a frame chunk");
        return LASK_EINVAL;
    }
    lask__pq_write_opts o = {PQ_CODEC_SNAPPY, rgsize, 1, 0};
    if (codec_of(comp, &o.codec)) {
        snprintf(err, ERRLEN, "to_parquet: unknown compression '%s' (snappy, zstd, gzip, lz4, none)", comp);
        return LASK_EINVAL;
    }
    const lask__frame *f = (const lask__frame *)fc;
    if (np > 0) return write_partitioned(f, path, pcols, np, filename ? filename : "part.0.parquet", &o, err);
    return lask__pq_write(f, path, &o, err, ERRLEN);
}

static int32_t k_write(lask_ctx *ctx, const lask_value *args, int32_t nargs, lask_value *out, void *ud) {
    (void)ud;
    char err[ERRLEN];
    const char *path = nargs > 1 ? value_str(&args[1], NULL) : NULL;
    if (nargs < 2 || args[0].type != LASK_CHUNK || !path)
        return lask_ctx_error(ctx, "parquet.write expects (frame, path, compression, row_group_size, partition_on, filename)");
    const char *comp = nargs > 2 ? value_str(&args[2], NULL) : NULL;
    int64_t rgsize = nargs > 3 && args[3].type == LASK_INT ? args[3].u.i : 0;
    const char *pcols[64];
    int32_t np = 0;
    if (nargs > 4 && args[4].type == LASK_LIST) {
        if (args[4].len > 64) return lask_ctx_error(ctx, "to_parquet: at most 64 partition_on columns");
        for (int32_t i = 0; i < args[4].len; i++)
            if (!(pcols[np++] = value_str(&args[4].u.items[i], NULL)))
                return lask_ctx_error(ctx, "to_parquet: partition_on must list column names");
    }
    const char *filename = nargs > 5 ? value_str(&args[5], NULL) : NULL;
    int32_t st = do_write(args[0].u.c, path, comp, rgsize, pcols, np, filename, err);
    if (st) return lask_ctx_error(ctx, err);
    out->type = LASK_NIL;
    return LASK_OK;
}

/* ------------------------------------------------------------ Lua side */

static const char *coltype_name(int32_t t) {
    static const char *n[] = {"int64", "float64", "bool", "string", "timestamp"};
    return t >= 0 && t < 5 ? n[t] : NULL;
}

static void push_stat(lua_State *L, const lask__pq_column *c, const uint8_t *p, int32_t len, int32_t legacy) {
    int64_t i;
    double d;
    switch (lask__pq_stat_value(c, p, len, legacy, &i, &d)) {
    case 1: lua_pushinteger(L, (lua_Integer)i); break;
    case 2: lua_pushnumber(L, d); break;
    case 3: lua_pushboolean(L, (int)i); break;
    case 4: lua_pushlstring(L, (const char *)p, (size_t)len); break;
    default: lua_pushnil(L);
    }
}

/* read_footer(path) -> {path, num_rows, created_by, index, columns, row_groups} */
static int l_read_footer(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    char err[ERRLEN];
    lask__pq_file *f;
    if (lask__pq_open(path, &f, err, sizeof err) != LASK_OK) return luaL_error(L, "%s", err);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    lua_pushinteger(L, (lua_Integer)f->num_rows);
    lua_setfield(L, -2, "num_rows");
    if (f->created_by) { lua_pushstring(L, f->created_by); lua_setfield(L, -2, "created_by"); }
    if (f->index_name) { lua_pushstring(L, f->index_name); lua_setfield(L, -2, "index"); }
    lua_createtable(L, f->ncols, 0);
    for (int32_t i = 0; i < f->ncols; i++) {
        const lask__pq_column *c = &f->cols[i];
        lua_createtable(L, 0, 4);
        lua_pushstring(L, c->name);
        lua_setfield(L, -2, "name");
        if (c->nested) { lua_pushstring(L, c->kind); lua_setfield(L, -2, "nested"); }
        else if (coltype_name(c->coltype)) { lua_pushstring(L, coltype_name(c->coltype)); lua_setfield(L, -2, "type"); }
        lua_pushinteger(L, c->physical);
        lua_setfield(L, -2, "physical");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "columns");
    lua_createtable(L, f->nrowgroups, 0);
    for (int32_t g = 0; g < f->nrowgroups; g++) {
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, (lua_Integer)f->rowgroups[g].num_rows);
        lua_setfield(L, -2, "num_rows");
        lua_createtable(L, 0, f->ncols);
        for (int32_t i = 0; i < f->ncols; i++) {
            const lask__pq_column *c = &f->cols[i];
            if (c->nested) continue;
            const lask__pq_stats *s = &f->rowgroups[g].chunks[c->leaf].stats;
            lua_createtable(L, 0, 3);
            push_stat(L, c, s->min, s->min_len, s->legacy);
            lua_setfield(L, -2, "min");
            push_stat(L, c, s->max, s->max_len, s->legacy);
            lua_setfield(L, -2, "max");
            if (s->null_count >= 0) { lua_pushinteger(L, (lua_Integer)s->null_count); lua_setfield(L, -2, "null_count"); }
            lua_setfield(L, -2, c->name);
        }
        lua_setfield(L, -2, "stats");
        lua_rawseti(L, -2, g + 1);
    }
    lua_setfield(L, -2, "row_groups");
    lask__pq_close(f);
    return 1;
}

/* Lua value at idx -> lask_value (scalars and strings only); owned. */
static void to_scalar(lua_State *L, int idx, lask_value *v, const char *what) {
    int t = lua_type(L, idx);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN && t != LUA_TNUMBER && t != LUA_TSTRING)
        luaL_error(L, "parquet: %s must be a number, string or boolean (got %s)", what, luaL_typename(L, idx));
    lask__to_value(L, idx, v);
}

/* A Lua sequence at idx -> LASK_LIST of owned scalars (items malloc'd). */
static void to_list(lua_State *L, int idx, lask_value *v, const char *what) {
    memset(v, 0, sizeof *v);
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer n = luaL_len(L, idx);
    if (n < 0 || n > INT32_MAX / 2) luaL_error(L, "parquet: %s too long", what);
    lask_value *items = calloc((size_t)(n ? n : 1), sizeof *items);
    if (!items) luaL_error(L, "out of memory");
    v->type = LASK_LIST;
    v->len = (int32_t)n;
    v->u.items = items;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        to_scalar(L, -1, &items[i - 1], what);
        lua_pop(L, 1);
    }
}

static void clear_args(lask_value *a, int n) {
    for (int i = 0; i < n; i++) {
        if (a[i].type == LASK_LIST) {
            lask_value *items = (lask_value *)a[i].u.items;
            for (int32_t k = 0; k < a[i].len; k++) lask_value_clear(&items[k]);
            free(items);
            a[i].type = LASK_NIL;
        } else {
            lask_value_clear(&a[i]);
        }
    }
}

/* read_rowgroup(path, rowgroup, columns, filters, partitions, index) -> frame
 * (the kernel, called at once in this state; errors raise). */
static int l_read_rowgroup(lua_State *L) {
    lask_value a[6];
    memset(a, 0, sizeof a);
    luaL_checkstring(L, 1);
    to_scalar(L, 1, &a[0], "path");
    if (lua_istable(L, 2)) to_list(L, 2, &a[1], "row groups");
    else { luaL_checkinteger(L, 2); to_scalar(L, 2, &a[1], "row group"); }
    to_list(L, 3, &a[2], "columns");
    to_list(L, 4, &a[3], "filters");
    to_list(L, 5, &a[4], "partitions");
    if (!lua_isnoneornil(L, 6)) to_scalar(L, 6, &a[5], "index");
    char err[ERRLEN];
    readspec s;
    int32_t st = parse_spec(a, 6, &s, err);
    lask__frame *fr = NULL;
    if (st == LASK_OK) st = do_read_all(&s, &fr, err);
    spec_free(&s);
    clear_args(a, 6);
    if (st) return luaL_error(L, "%s", err);
    lask__push_chunk(L, &fr->h);
    return 1;
}

/* write(frame, path, {compression, row_group_size, partition_on, filename}) */
static int l_write(lua_State *L) {
    lask_chunk *c = lask__check_chunk(L, 1, LASK_KIND_FRAME, "frame");
    const char *path = luaL_checkstring(L, 2);
    const char *comp = NULL, *filename = NULL;
    int64_t rgsize = 0;
    const char *pcols[64];
    int32_t np = 0;
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "compression");
        comp = lua_tostring(L, -1);
        lua_getfield(L, 3, "row_group_size");
        rgsize = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
        lua_getfield(L, 3, "filename");
        filename = lua_tostring(L, -1);
        lua_getfield(L, 3, "partition_on");
        if (lua_istable(L, -1)) {
            lua_Integer n = luaL_len(L, -1);
            if (n > 64) return luaL_error(L, "to_parquet: at most 64 partition_on columns");
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, i);
                if (!(pcols[np++] = lua_tostring(L, -1)))
                    return luaL_error(L, "to_parquet: partition_on must list column names");
                lua_pop(L, 1);   /* the table keeps the string alive */
            }
        }
    }
    char err[ERRLEN];
    if (do_write(c, path, comp, rgsize, pcols, np, filename, err) != LASK_OK) return luaL_error(L, "%s", err);
    return 0;
}

/* ------------------------------------------------ file system and frames */

/* listdir(path) -> {{name = , dir = bool}, ...} sorted by name; nil + msg. */
static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int l_listdir(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    DIR *d = opendir(path);
    if (!d) { lua_pushnil(L); lua_pushfstring(L, "%s: %s", path, strerror(errno)); return 2; }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n == cap) {
            char **q = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
            if (!q) break;
            names = q;
        }
        if (!(names[n] = strdup(e->d_name))) break;
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, names[i]);
        lua_setfield(L, -2, "name");
        size_t pl = strlen(path) + strlen(names[i]) + 2;
        char *full = malloc(pl);
        struct stat sb;
        int isdir = 0;
        if (full) {
            snprintf(full, pl, "%s/%s", path, names[i]);
            isdir = stat(full, &sb) == 0 && S_ISDIR(sb.st_mode);
            free(full);
        }
        lua_pushboolean(L, isdir);
        lua_setfield(L, -2, "dir");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        free(names[i]);
    }
    free(names);
    return 1;
}

/* stat(path) -> "file" | "dir" | nil */
static int l_stat(lua_State *L) {
    struct stat sb;
    if (stat(luaL_checkstring(L, 1), &sb) != 0) return 0;
    lua_pushstring(L, S_ISDIR(sb.st_mode) ? "dir" : "file");
    return 1;
}

static int l_glob(lua_State *L) {
    glob_t g;
    int r = glob(luaL_checkstring(L, 1), 0, NULL, &g);
    lua_newtable(L);
    if (r == 0)
        for (size_t i = 0; i < g.gl_pathc; i++) {
            lua_pushstring(L, g.gl_pathv[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    globfree(&g);
    return 1;
}

static int l_mkdirs(lua_State *L) {
    size_t n;
    const char *p = luaL_checklstring(L, 1, &n);
    char *q = strdup(p);
    if (!q) return luaL_error(L, "out of memory");
    int r = mkdirs(q);
    free(q);
    if (r != 0) return luaL_error(L, "cannot create directory %s: %s", p, strerror(errno));
    return 0;
}

static int l_remove(lua_State *L) {
    const char *p = luaL_checkstring(L, 1);
    if (remove(p) != 0) return luaL_error(L, "cannot remove %s: %s", p, strerror(errno));
    return 0;
}

static int coltype_of(const char *s) {
    static const char *n[] = {"int64", "float64", "bool", "string", "timestamp"};
    for (int i = 0; i < 5; i++)
        if (s && !strcmp(s, n[i])) return i;
    return -1;
}

/* empty_frame({names}, {types}) -> a frame with no rows */
static int l_empty_frame(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n < 0 || n > 100000) return luaL_error(L, "empty_frame: bad column count");
    lask__frame *f = lask__frame_new((int32_t)n, 0);
    if (!f) return luaL_error(L, "out of memory");
    lask__push_chunk(L, &f->h);   /* collected if we raise below */
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        lua_rawgeti(L, 2, i);
        int t = coltype_of(lua_tostring(L, -1));
        if (t < 0 || !lua_isstring(L, -2)) return luaL_error(L, "empty_frame: bad name or type of column %d", (int)i);
        lask__column *c = lask__column_new(t, 0, 0);
        if (!c || lask__frame_set(f, (int32_t)i - 1, lua_tostring(L, -2), c) != LASK_OK) {
            lask__column_unref(c);
            return luaL_error(L, "out of memory");
        }
        lua_pop(L, 2);
    }
    return 1;
}

/* to_table(frame) -> {names = {...}, types = {...}, nrows = n, columns = {name = {v1, v2, ...}}}
 * with nil for missing values (for tests and small results). */
static int l_to_table(lua_State *L) {
    const lask__frame *f = (const lask__frame *)lask__check_chunk(L, 1, LASK_KIND_FRAME, "frame");
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)f->nrows);
    lua_setfield(L, -2, "nrows");
    lua_createtable(L, f->ncols, 0);
    lua_createtable(L, f->ncols, 0);
    lua_createtable(L, 0, f->ncols);
    for (int32_t i = 0; i < f->ncols; i++) {
        const lask__column *c = f->cols[i];
        lua_pushstring(L, f->names[i]);
        lua_rawseti(L, -4, i + 1);
        lua_pushstring(L, coltype_name(c->type));
        lua_rawseti(L, -3, i + 1);
        lua_createtable(L, (int)(f->nrows < 1 << 20 ? f->nrows : 1 << 20), 0);
        for (int64_t r = 0; r < f->nrows; r++) {
            if (!lask__column_isvalid(c, r)) continue;
            switch (c->type) {
            case LASK_COL_FLOAT64: lua_pushnumber(L, ((const double *)c->values)[r]); break;
            case LASK_COL_BOOL: lua_pushboolean(L, ((const uint8_t *)c->values)[r]); break;
            case LASK_COL_STRING: {
                const int64_t *o = c->values;
                lua_pushlstring(L, c->strdata + o[r], (size_t)(o[r + 1] - o[r]));
                break;
            }
            default: lua_pushinteger(L, (lua_Integer)((const int64_t *)c->values)[r]);
            }
            lua_rawseti(L, -2, (lua_Integer)r + 1);
        }
        lua_setfield(L, -2, f->names[i]);
    }
    lua_setfield(L, -4, "columns");
    lua_setfield(L, -3, "types");
    lua_setfield(L, -2, "names");
    if (f->index >= 0) { lua_pushstring(L, f->names[f->index]); lua_setfield(L, -2, "index"); }
    return 1;
}

/* concat({frames}) -> one frame */
static int l_concat(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n < 1 || n > INT32_MAX / 8) return luaL_error(L, "concat: expects a non-empty list of frames");
    lask__frame **fs = lua_newuserdatauv(L, sizeof *fs * (size_t)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        fs[i - 1] = (lask__frame *)lask__check_chunk(L, -1, LASK_KIND_FRAME, "frame");
        lua_pop(L, 1);   /* still referenced by the table */
    }
    lask__frame *out;
    char err[ERRLEN];
    if (lask__pq_concat(fs, (int32_t)n, &out, err, sizeof err) != LASK_OK) return luaL_error(L, "%s", err);
    lask__push_chunk(L, &out->h);
    return 1;
}

int luaopen_lask_core_parquet(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"read_footer", l_read_footer},
        {"read_rowgroup", l_read_rowgroup},
        {"write", l_write},
        {"listdir", l_listdir},
        {"stat", l_stat},
        {"glob", l_glob},
        {"mkdirs", l_mkdirs},
        {"remove", l_remove},
        {"empty_frame", l_empty_frame},
        {"to_table", l_to_table},
        {"concat", l_concat},
        {NULL, NULL}
    };
    luaL_newlib(L, fns);
    lask_runtime *rt = lask__runtime(L);
    if (rt) {
        lask_register_kernel(rt, "parquet.read_rowgroup", k_read, NULL);
        lask_register_kernel(rt, "parquet.read_groupby", k_read_groupby, NULL);
        lask_register_kernel(rt, "parquet.write", k_write, NULL);
    }
    return 1;
}
