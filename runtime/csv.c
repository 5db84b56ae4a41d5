/* csv.c - CSV text to frame chunks (see csvio.h for the model). */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>
#include <math.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <csv.h>
#include "csvio.h"
#include "csv_num.h"

#define LIBCSV_ROW_NOT_BEGUN 0   /* csv_parser.pstate between records */

static const char *default_na[] = {"", "NA", "N/A", "n/a", "NaN", "nan", "-NaN",
                                   "-nan", "NULL", "null", "None", "<NA>", "#N/A"};

/* ------------------------------------------------------------ options */

void lask__csv_opts_init(lask__csv_opts *o) {
    memset(o, 0, sizeof *o);
    o->sep = ',';
    o->quote = '"';
    o->header = 1;
}

static void free_strs(char **v, int32_t n) {
    if (!v) return;
    for (int32_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void lask__csv_opts_free(lask__csv_opts *o) {
    free_strs(o->names, o->nnames);
    free_strs(o->usecols, o->nusecols);
    free_strs(o->dtype_cols, o->ndtypes);
    free(o->dtype_types);
    free_strs(o->na_values, o->nna);
    free_strs(o->parse_dates, o->ndates);
    free(o->path_column);
    lask__csv_opts_init(o);
}

void lask__csv_schema_free(lask__csv_schema *s) {
    free_strs(s->names, s->ncols);
    free(s->types);
    free(s->keep);
    memset(s, 0, sizeof *s);
}

static int push_str(char ***v, int32_t *n, const char *s) {
    char **nv = realloc(*v, sizeof **v * (size_t)(*n + 1));
    if (!nv) return -1;
    *v = nv;
    if (!(nv[*n] = strdup(s))) return -1;
    (*n)++;
    return 0;
}

int lask__csv_opts_parse(lask__csv_opts *o, const char *spec, int64_t n,
                         char *err, size_t errlen) {
    const char *p = spec, *end = spec + n;
    int na_given = 0;
#define NEXT(var) do { if (p >= end) goto bad; var = p; p += strlen(p) + 1; } while (0)
    while (p < end) {
        const char *k, *v;
        NEXT(k);
        NEXT(v);
        int r = 0;
        if (!strcmp(k, "sep")) o->sep = v[0];
        else if (!strcmp(k, "quote")) o->quote = v[0];
        else if (!strcmp(k, "comment")) o->comment = v[0];
        else if (!strcmp(k, "header")) o->header = atoi(v);
        else if (!strcmp(k, "skiprows")) o->skiprows = atoll(v);
        else if (!strcmp(k, "skip_bad_lines")) o->skip_bad_lines = atoi(v);
        else if (!strcmp(k, "name")) r = push_str(&o->names, &o->nnames, v);
        else if (!strcmp(k, "usecol")) r = push_str(&o->usecols, &o->nusecols, v);
        else if (!strcmp(k, "na_given")) na_given = 1;
        else if (!strcmp(k, "na")) r = push_str(&o->na_values, &o->nna, v);
        else if (!strcmp(k, "date")) r = push_str(&o->parse_dates, &o->ndates, v);
        else if (!strcmp(k, "path_column")) { free(o->path_column); r = (o->path_column = strdup(v)) ? 0 : -1; }
        else if (!strcmp(k, "dtype")) {
            const char *t;
            NEXT(t);
            int32_t ty = lask__coltype_from_name(t);
            if (ty < 0) {
                snprintf(err, errlen, "unknown dtype '%s' for column '%s' (use int64, float64, bool, string or timestamp)", t, v);
                return LASK_EINVAL;
            }
            int32_t *nt = realloc(o->dtype_types, sizeof *nt * (size_t)(o->ndtypes + 1));
            if (!nt) r = -1;
            else { o->dtype_types = nt; nt[o->ndtypes] = ty; r = push_str(&o->dtype_cols, &o->ndtypes, v); }
        } else {
            snprintf(err, errlen, "unknown read_csv option '%s'", k);
            return LASK_EINVAL;
        }
        if (r) { snprintf(err, errlen, "out of memory"); return LASK_ENOMEM; }
    }
#undef NEXT
    if (!na_given && !o->na_values) {
        for (size_t i = 0; i < sizeof default_na / sizeof *default_na; i++)
            if (push_str(&o->na_values, &o->nna, default_na[i])) return LASK_ENOMEM;
    }
    o->na_maxlen = 0;
    for (int32_t i = 0; i < o->nna; i++)
        if (strlen(o->na_values[i]) > o->na_maxlen) o->na_maxlen = strlen(o->na_values[i]);
    return LASK_OK;
bad:
    snprintf(err, errlen, "malformed read_csv option string");
    return LASK_EINVAL;
}

/* ------------------------------------------------------------ column builders */

typedef struct colbuf {
    int32_t type;
    int64_t n, cap;
    void *vals;           /* 8 or 1 bytes a value; STRING: int64 offsets[cap+1] */
    char *sdata;
    int64_t slen, scap;
    uint8_t *valid;       /* lazily, on the first missing value */
} colbuf;

/* Large column buffers ask for huge pages: first-touch page faults are a
 * large share of parsing time otherwise. */
static void *big_alloc(size_t n) {
    if (n < ((size_t)4 << 20)) return malloc(n);
    void *p;
    size_t align = (size_t)2 << 20;
    if (posix_memalign(&p, align, (n + align - 1) / align * align)) return NULL;
    madvise(p, (n + align - 1) / align * align, MADV_HUGEPAGE);
    return p;
}

static int colbuf_init(colbuf *b, int32_t type, int64_t cap, int64_t scap) {
    memset(b, 0, sizeof *b);
    b->type = type;
    b->cap = cap < 16 ? 16 : cap;
    int w = type == LASK_COL_BOOL ? 1 : 8;
    b->vals = big_alloc((size_t)(b->cap + 1) * (size_t)w);
    if (!b->vals) return -1;
    if (type == LASK_COL_STRING) {
        ((int64_t *)b->vals)[0] = 0;
        b->scap = scap < 64 ? 64 : scap;
        if (!(b->sdata = big_alloc((size_t)b->scap))) return -1;
    }
    return 0;
}

static void colbuf_free(colbuf *b) {
    free(b->vals);
    free(b->sdata);
    free(b->valid);
    memset(b, 0, sizeof *b);
}

static int colbuf_grow(colbuf *b) {
    int64_t ncap = b->cap * 2;
    int w = b->type == LASK_COL_BOOL ? 1 : 8;
    void *nv = realloc(b->vals, (size_t)(ncap + 1) * (size_t)w);
    if (!nv) return -1;
    b->vals = nv;
    if (b->valid) {
        uint8_t *vv = realloc(b->valid, (size_t)(ncap / 8 + 1));
        if (!vv) return -1;
        b->valid = vv;
    }
    b->cap = ncap;
    return 0;
}

static int colbuf_set_missing(colbuf *b) {
    if (!b->valid) {
        b->valid = malloc((size_t)(b->cap / 8 + 1));
        if (!b->valid) return -1;
        memset(b->valid, 0xff, (size_t)(b->cap / 8 + 1));
    }
    lask__bit_set(b->valid, b->n, 0);
    return 0;
}

static int colbuf_str(colbuf *b, const char *s, size_t n) {
    if (b->slen + (int64_t)n > b->scap) {
        int64_t nc = b->scap * 2;
        while (nc < b->slen + (int64_t)n) nc *= 2;
        char *ns = realloc(b->sdata, (size_t)nc);
        if (!ns) return -1;
        b->sdata = ns;
        b->scap = nc;
    }
    memcpy(b->sdata + b->slen, s, n);
    b->slen += (int64_t)n;
    return 0;
}

/* Hand the buffers over to a column. */
static lask__column *colbuf_finish(colbuf *b) {
    lask__column *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    int w = b->type == LASK_COL_BOOL ? 1 : 8;
    int64_t vn = b->type == LASK_COL_STRING ? b->n + 1 : b->n;
    void *v = realloc(b->vals, (size_t)(vn ? vn : 1) * (size_t)w);
    if (v) b->vals = v;
    atomic_init(&c->refs, 1);
    c->type = b->type;
    c->n = b->n;
    c->values = b->vals;
    c->nbytes = vn * w;
    if (b->type == LASK_COL_STRING) {
        char *s = realloc(b->sdata, (size_t)b->slen + 1);
        if (s) b->sdata = s;
        c->strdata = b->sdata;
        c->strbytes = b->slen;
        c->nbytes += b->slen;
    } else {
        free(b->sdata);
    }
    c->valid = b->valid;
    if (c->valid) c->nbytes += (b->n + 7) / 8;
    memset(b, 0, sizeof *b);
    return c;
}

/* ------------------------------------------------------------ the reader */

typedef struct reader reader;
typedef int (*record_fn)(reader *r, int64_t line);

struct reader {
    const lask__csv_opts *o;
    const lask__csv_schema *s;
    const char *name;          /* file name in messages */
    int64_t begin;             /* file offset of the block */
    int64_t line0;             /* line number of the block's first line, or 0: unknown */
    const char *data;          /* the block */
    int64_t n;
    int32_t *slot;             /* file column -> builder, or -1 */
    colbuf *cols;              /* one per kept column */
    int32_t nkept;
    int64_t nrows, skipped;
    /* records from libcsv: fields as offsets into rec */
    char *rec;
    int64_t reclen, reccap;
    int64_t *fstart;           /* nfield+1 offsets; fnull[i]: empty unquoted */
    uint8_t *fnull;
    int32_t nf, fcap;
    int toolong;
    int partial;               /* a sample cut short: an open quote at the end is fine */
    int64_t cur_line, rec_line;
    struct csv_parser ps;
    int ps_live;               /* ps initialised (we went past the first quote) */
    int64_t line;              /* lines consumed so far, relative to line0 */
    int64_t skip_left;         /* skiprows still to skip at the top */
    int header_left;           /* the header line is still to skip */
    record_fn on_record;
    /* inference */
    int32_t *seen;             /* per column: bitmask of possible types */
    int64_t nsample;
    char **header;
    int32_t nheader;
    int status;
    char *err;
    size_t errlen;
};

/* Line number of the first line of the block, counting from the file. */
static int64_t block_line0(reader *r) {
    if (r->line0) return r->line0;
    int64_t lines = 1;
    int fd = open(r->name, O_RDONLY);
    if (fd >= 0) {
        char buf[1 << 16];
        int64_t left = r->begin;
        while (left > 0) {
            ssize_t k = read(fd, buf, (size_t)(left < (int64_t)sizeof buf ? left : (int64_t)sizeof buf));
            if (k <= 0) break;
            for (ssize_t i = 0; i < k; i++) lines += buf[i] == '\n';
            left -= k;
        }
        close(fd);
    }
    return r->line0 = lines;
}

static int fail(reader *r, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    r->status = status;
    return -1;
}

/* Message for a value that does not fit its column. */
static int bad_value(reader *r, int64_t line, int32_t j, const char *s, size_t n) {
    char shown[64];
    size_t k = n < sizeof shown - 4 ? n : sizeof shown - 4;
    memcpy(shown, s, k);
    strcpy(shown + k, n > k ? "..." : "");
    int32_t t = r->s->types[j];
    return fail(r, LASK_EFORMAT,
                "%s:%lld: column '%s' (%s): cannot parse '%s' as %s; "
                "pass dtype = {[\"%s\"] = \"%s\"} to read_csv",
                r->name, (long long)(block_line0(r) + line), r->s->names[j],
                lask__coltype_name(t), shown, lask__coltype_name(t), r->s->names[j],
                t == LASK_COL_INT64 ? "float64" : "string");
}

static int is_na(const lask__csv_opts *o, const char *s, size_t n) {
    if (n > o->na_maxlen) return 0;
    if (n == 0) s = "";
    for (int32_t i = 0; i < o->nna; i++)
        if (strlen(o->na_values[i]) == n && memcmp(o->na_values[i], s, n) == 0) return 1;
    return 0;
}

static int parse_bool(const char *s, size_t n, uint8_t *v) {
    static const char *t[] = {"true", "True", "TRUE"}, *f[] = {"false", "False", "FALSE"};
    for (int i = 0; i < 3; i++) {
        if (n == 4 && !memcmp(s, t[i], 4)) { *v = 1; return 1; }
        if (n == 5 && !memcmp(s, f[i], 5)) { *v = 0; return 1; }
    }
    return 0;
}

/* Append field s[0..n-1] of file column j (line: relative line number). */
static int put_field(reader *r, int32_t j, const char *s, size_t n, int64_t line) {
    colbuf *b = &r->cols[r->slot[j]];
    if (b->n == b->cap && colbuf_grow(b)) return fail(r, LASK_ENOMEM, "out of memory");
    int missing = 0;
    switch (b->type) {
    case LASK_COL_INT64: {
        int64_t v;
        if (n && lask__scan_int(s, s + n, &v) == s + n) ((int64_t *)b->vals)[b->n] = v;
        else if (n == 0 || is_na(r->o, s, n)) { ((int64_t *)b->vals)[b->n] = 0; missing = 1; }
        else return bad_value(r, line, j, s, n);
        break;
    }
    case LASK_COL_FLOAT64: {
        double v;
        if (n && lask__parse_double_full(s, n, &v)) ((double *)b->vals)[b->n] = v;
        else if (n == 0 || is_na(r->o, s, n)) { ((double *)b->vals)[b->n] = NAN; missing = 1; }
        else return bad_value(r, line, j, s, n);
        break;
    }
    case LASK_COL_BOOL: {
        uint8_t v;
        if (parse_bool(s, n, &v)) ((uint8_t *)b->vals)[b->n] = v;
        else if (n == 0 || is_na(r->o, s, n)) { ((uint8_t *)b->vals)[b->n] = 0; missing = 1; }
        else return bad_value(r, line, j, s, n);
        break;
    }
    case LASK_COL_TIMESTAMP: {
        int64_t v;
        if (n && lask__parse_timestamp(s, n, &v) == 0) ((int64_t *)b->vals)[b->n] = v;
        else if (n == 0 || is_na(r->o, s, n)) { ((int64_t *)b->vals)[b->n] = 0; missing = 1; }
        else return bad_value(r, line, j, s, n);
        break;
    }
    default: /* STRING */
        if (is_na(r->o, s, n)) missing = 1;
        else if (colbuf_str(b, s, n)) return fail(r, LASK_ENOMEM, "out of memory");
        ((int64_t *)b->vals)[b->n + 1] = b->slen;
        break;
    }
    if (missing) { if (colbuf_set_missing(b)) return fail(r, LASK_ENOMEM, "out of memory"); }
    else if (b->valid) lask__bit_set(b->valid, b->n, 1);
    b->n++;
    return 0;
}

/* Undo a partly appended row (a ragged row being skipped). */
static void rollback(reader *r) {
    for (int32_t k = 0; k < r->nkept; k++) {
        colbuf *b = &r->cols[k];
        b->n = r->nrows;
        if (b->type == LASK_COL_STRING) b->slen = ((int64_t *)b->vals)[b->n];
    }
}

static int ragged(reader *r, int64_t line, int32_t got) {
    if (r->o->skip_bad_lines) {
        rollback(r);
        r->skipped++;
        return 0;
    }
    return fail(r, LASK_EFORMAT,
                "%s:%lld: expected %d fields, saw %d (pass on_bad_lines = \"skip\" to drop such lines)",
                r->name, (long long)(block_line0(r) + line), r->s->ncols, got);
}

/* A record from libcsv, for reading. */
static int read_record(reader *r, int64_t line) {
    if (r->toolong) return ragged(r, line, r->nf);
    if (r->nf != r->s->ncols) return ragged(r, line, r->nf);
    for (int32_t j = 0; j < r->nf; j++) {
        if (r->slot[j] < 0) continue;
        if (put_field(r, j, r->rec + r->fstart[j], (size_t)(r->fstart[j + 1] - r->fstart[j]), line))
            return -1;
    }
    r->nrows++;
    return 0;
}

static int is_term(unsigned char c) { return c == '\n' || c == '\r'; }
static int no_space(unsigned char c) { (void)c; return 0; }

static void cb_field(void *s, size_t n, void *ud) {
    reader *r = ud;
    if (r->status) return;
    if (r->nf + 1 >= r->fcap) {
        int32_t nc = r->fcap ? r->fcap * 2 : 64;
        int64_t *fs = realloc(r->fstart, sizeof *fs * (size_t)(nc + 1));
        uint8_t *fn = fs ? realloc(r->fnull, (size_t)(nc + 1)) : NULL;
        if (fs) r->fstart = fs;
        if (!fs || !fn) { fail(r, LASK_ENOMEM, "out of memory"); return; }
        r->fnull = fn;
        r->fcap = nc;
    }
    /* allocate even for an empty field: offsets into rec are used later */
    if (!r->rec || r->reclen + (int64_t)n > r->reccap) {
        int64_t nc = r->reccap ? r->reccap * 2 : 4096;
        while (nc < r->reclen + (int64_t)n) nc *= 2;
        char *nr = realloc(r->rec, (size_t)nc);
        if (!nr) { fail(r, LASK_ENOMEM, "out of memory"); return; }
        r->rec = nr;
        r->reccap = nc;
    }
    if (r->nf == 0) r->fstart[0] = 0;
    if (n) memcpy(r->rec + r->reclen, s, n);
    r->reclen += (int64_t)n;
    r->fnull[r->nf] = s == NULL;
    r->nf++;
    r->fstart[r->nf] = r->reclen;
}

static void cb_row(int c, void *ud) {
    (void)c;
    reader *r = ud;
    if (!r->status && r->nf > 0) r->on_record(r, r->cur_line);
    r->nf = 0;
    r->reclen = 0;
}

/* libcsv, fed one physical line at a time (line numbers for messages;
 * comment lines between records). The parser lives in the reader so a
 * record may span the pieces a file is read in. */
static int libcsv_feed(reader *r, const char *p, const char *end, int64_t *line) {
    if (!r->ps_live) {
        if (csv_init(&r->ps, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL))
            return fail(r, LASK_ENOMEM, "out of memory");
        csv_set_delim(&r->ps, (unsigned char)r->o->sep);
        csv_set_quote(&r->ps, (unsigned char)r->o->quote);
        csv_set_space_func(&r->ps, no_space);
        csv_set_term_func(&r->ps, is_term);
        r->ps_live = 1;
    }
    while (p < end && !r->status) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl + 1 : end;
        if (r->ps.pstate == LIBCSV_ROW_NOT_BEGUN) {
            r->rec_line = *line;
            if (r->o->comment && *p == r->o->comment) { p = le; (*line)++; continue; }
        }
        r->cur_line = r->rec_line;
        size_t k = csv_parse(&r->ps, p, (size_t)(le - p), cb_field, cb_row, r);
        if (r->status) break;
        if (k != (size_t)(le - p))
            return fail(r, LASK_EFORMAT, "%s:%lld: malformed quoting (a quote inside an unquoted field, or text after a closing quote)",
                        r->name, (long long)(block_line0(r) + *line));
        p = le;
        (*line)++;
    }
    return r->status ? -1 : 0;
}

static int libcsv_finish(reader *r) {
    if (!r->ps_live || r->status) return r->status ? -1 : 0;
    r->cur_line = r->rec_line;
    if (csv_fini(&r->ps, cb_field, cb_row, r) && !r->status && !r->partial)
        return fail(r, LASK_EFORMAT, "%s:%lld: unterminated quoted field (the quote opened on this line is never closed)",
                    r->name, (long long)(block_line0(r) + r->rec_line));
    return r->status ? -1 : 0;
}

/* ------------------------------------------------------------ the fast path */

static inline const char *field_end(const char *p, const char *end, char sep) {
    while (p < end && *p != sep && *p != '\n') p++;
    return p;
}

static inline int at_term(const char *q, const char *end, char sep) {
    return q == end || *q == sep || *q == '\n' ||
           (*q == '\r' && (q + 1 == end || q[1] == '\n'));
}

/* Quote-free text: split on sep and newlines, parse numbers in place. */
static int scan_fast(reader *r, const char *p, const char *end, int64_t *linep) {
    int64_t line = *linep;
    const char sep = r->o->sep, comment = r->o->comment;
    const int32_t nc = r->s->ncols;
    while (p < end) {
        if (*p == '\n') { p++; line++; continue; }
        if (*p == '\r' && (p + 1 == end || p[1] == '\n')) { p += p + 1 == end ? 1 : 2; line++; continue; }
        if (comment && *p == comment) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            p = nl ? nl + 1 : end;
            line++;
            continue;
        }
        const char *q = p;
        for (int32_t j = 0; j < nc; j++) {
            int32_t k = r->slot[j];
            if (k >= 0) {
                colbuf *b = &r->cols[k];
                if (b->n < b->cap) {
                    if (b->type == LASK_COL_FLOAT64) {
                        double v;
                        q = lask__scan_double(p, end, &v);
                        if (q && q > p && at_term(q, end, sep)) {
                            ((double *)b->vals)[b->n] = v;
                            if (b->valid) lask__bit_set(b->valid, b->n, 1);
                            b->n++;
                            goto next;
                        }
                    } else if (b->type == LASK_COL_INT64) {
                        int64_t v;
                        q = lask__scan_int(p, end, &v);
                        if (q && at_term(q, end, sep)) {
                            ((int64_t *)b->vals)[b->n] = v;
                            if (b->valid) lask__bit_set(b->valid, b->n, 1);
                            b->n++;
                            goto next;
                        }
                    }
                }
                q = field_end(p, end, sep);
                size_t n = (size_t)(q - p);
                if (n && q[-1] == '\r' && (q == end || *q == '\n')) n--;
                if (put_field(r, j, p, n, line)) return -1;
            } else {
                q = field_end(p, end, sep);
            }
        next:
            if (q < end && *q == '\r') q++;   /* at_term allowed only \r\n or \r at the end */
            if (j < nc - 1) {
                if (q < end && *q == sep) { p = q + 1; continue; }
                /* too few fields */
                if (ragged(r, line, j + 1)) return -1;
                goto eol;
            }
            if (q < end && *q == sep) {
                int32_t got = nc;
                while (q < end && *q != '\n') got += *q++ == sep;
                if (ragged(r, line, got)) return -1;
                goto eol;
            }
            r->nrows++;
        }
    eol:
        if (q < end && *q == '\n') p = q + 1;
        else { q = memchr(q, '\n', (size_t)(end - q)); p = q ? q + 1 : end; }
        line++;
    }
    *linep = line;
    return 0;
}

/* Complete lines: fast path up to the first line holding a quote, libcsv
 * from there on (for the rest of the range). */
static int parse_lines(reader *r, const char *p, const char *end) {
    if (r->ps_live) return libcsv_feed(r, p, end, &r->line);
    const char *qp = memchr(p, r->o->quote, (size_t)(end - p));
    if (!qp) return scan_fast(r, p, end, &r->line);
    const char *ls = qp;
    while (ls > p && ls[-1] != '\n') ls--;
    if (ls > p && scan_fast(r, p, ls, &r->line)) return -1;
    return libcsv_feed(r, ls, end, &r->line);
}

/* ------------------------------------------------------------ files */

/* Open path for reading: *fd and its *size, or LASK_EIO with a message
 * naming the file (a directory is refused here, not at the first read). */
static int open_file(const char *path, int *fd, int64_t *size, char *err, size_t errlen) {
    *fd = open(path, O_RDONLY);
    if (*fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return LASK_EIO;
    }
    struct stat st;
    if (fstat(*fd, &st) || S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot read: %s", path, S_ISDIR(st.st_mode) ? "is a directory" : strerror(errno));
        close(*fd);
        return LASK_EIO;
    }
    *size = st.st_size;
    return LASK_OK;
}

/* The bytes of the lines starting in [start, end) of path: *data (malloc'd),
 * *n, and *begin, the file offset of the first. */
static int read_range(const char *path, int64_t start, int64_t end, char **data,
                      int64_t *n, int64_t *begin, char *err, size_t errlen) {
    int fd;
    int64_t size;
    if (open_file(path, &fd, &size, err, errlen)) return LASK_EIO;
    if (end < 0 || end > size) end = size;
    if (start < 0) start = 0;
    int64_t from = start > 0 ? start - 1 : 0;
    if (from > end) from = end;
    int64_t cap = end - from + 65536, len = 0;
    char *buf = malloc((size_t)cap + 1);
    if (!buf) { close(fd); snprintf(err, errlen, "out of memory"); return LASK_ENOMEM; }
    for (;;) {
        int64_t want = (len < end - from) ? end - from - len : 65536;
        if (len + want > cap) {
            cap = (len + want) * 2;
            char *nb = realloc(buf, (size_t)cap + 1);
            if (!nb) { free(buf); close(fd); snprintf(err, errlen, "out of memory"); return LASK_ENOMEM; }
            buf = nb;
        }
        ssize_t k = pread(fd, buf + len, (size_t)want, from + len);
        if (k < 0) {
            snprintf(err, errlen, "%s: read failed: %s", path, strerror(errno));
            free(buf); close(fd);
            return LASK_EIO;
        }
        int64_t old = len;
        len += k;
        if (len >= end - from) {
            /* past the range: stop at the newline ending the last line */
            int64_t look = old > end - from - 1 ? old : end - from - 1;
            if (look < 0) look = 0;
            char *nl = memchr(buf + look, '\n', (size_t)(len - look));
            if (nl) { len = nl - buf + 1; break; }
        }
        if (k == 0 || from + len >= size) break;
    }
    close(fd);
    int64_t off = 0;
    if (start > 0) {
        char *nl = memchr(buf, '\n', (size_t)len);
        off = nl ? nl - buf + 1 : len;
        if (from + off >= end) off = len;   /* no line starts in the range */
    }
    if (off > 0 && off < len) memmove(buf, buf + off, (size_t)(len - off));
    len -= off;
    buf[len] = '\0';
    *data = buf;
    *n = len;
    *begin = from + off;
    return LASK_OK;
}

/* Skip what precedes the data at the top of a file as its lines arrive:
 * skiprows lines, then blank and comment lines and the header line. */
static const char *skip_top(reader *r, const char *p, const char *end) {
    while (p < end && (r->skip_left > 0 || r->header_left)) {
        int blank = *p == '\n' || *p == '\r' || (r->o->comment && *p == r->o->comment);
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
        r->line++;
        if (r->skip_left > 0) r->skip_left--;
        else if (!blank) r->header_left = 0;
    }
    return p;
}

static int check_utf8(reader *r, const char *p, int64_t n) {
    int64_t bad = lask__utf8_invalid_at(p, n);
    if (bad < 0) return 0;
    const char *ls = p;
    int64_t line = r->line;
    for (int64_t i = 0; i < bad; i++)
        if (p[i] == '\n') { line++; ls = p + i + 1; }
    return fail(r, LASK_EFORMAT, "%s:%lld: invalid UTF-8 (byte 0x%02X at column %lld); only UTF-8 text is supported",
                r->name, (long long)(block_line0(r) + line), (unsigned char)p[bad],
                (long long)(p + bad - ls + 1));
}

static void reader_free(reader *r) {
    if (r->cols) for (int32_t k = 0; k < r->nkept; k++) colbuf_free(&r->cols[k]);
    free(r->cols);
    free(r->slot);
    free(r->rec);
    free(r->fstart);
    free(r->fnull);
    free(r->seen);
    free_strs(r->header, r->nheader);
    if (r->ps_live) csv_free(&r->ps);
}

/* Rows in total bytes, judged from the lines in [p, e). */
static int64_t estimate_rows(const char *p, const char *e, int64_t total) {
    int64_t lines = 0;
    for (const char *c = p; c < e && (c = memchr(c, '\n', (size_t)(e - c))); c++) lines++;
    if (lines == 0) return 1024;
    double avg = (double)(e - p) / (double)lines;
    return (int64_t)((double)total / avg * 1.05) + 1024;
}

static void reader_init(reader *r, const char *name, int64_t begin, const lask__csv_opts *o,
                        const lask__csv_schema *s, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->o = o; r->s = s; r->name = name; r->begin = begin; r->line0 = begin == 0 ? 1 : 0;
    r->err = err; r->errlen = errlen;
    r->on_record = read_record;
    if (begin == 0) { r->skip_left = o->skiprows; r->header_left = o->header; }
}

static int reader_alloc(reader *r, int64_t rows, int64_t bytes) {
    const lask__csv_schema *s = r->s;
    r->slot = malloc(sizeof *r->slot * (size_t)(s->ncols ? s->ncols : 1));
    r->cols = calloc((size_t)(s->ncols ? s->ncols : 1), sizeof *r->cols);
    if (!r->slot || !r->cols) return fail(r, LASK_ENOMEM, "out of memory");
    for (int32_t j = 0; j < s->ncols; j++) {
        r->slot[j] = s->keep[j] ? r->nkept : -1;
        if (s->keep[j] && colbuf_init(&r->cols[r->nkept++], s->types[j], rows, bytes))
            return fail(r, LASK_ENOMEM, "out of memory");
    }
    return 0;
}

/* Complete lines of the range. */
static int feed(reader *r, const char *p, const char *end) {
    if (r->skip_left > 0 || r->header_left) p = skip_top(r, p, end);
    if (p >= end || r->s->ncols == 0) return 0;
    if (check_utf8(r, p, end - p)) return -1;
    return parse_lines(r, p, end);
}

static int reader_frame(reader *r, lask__frame **out) {
    if (libcsv_finish(r)) return -1;
    const lask__csv_schema *s = r->s;
    const lask__csv_opts *o = r->o;
    int32_t extra = o->path_column ? 1 : 0;
    lask__frame *f = lask__frame_new(r->nkept + extra, r->nrows);
    if (!f) return fail(r, LASK_ENOMEM, "out of memory");
    int32_t k = 0;
    for (int32_t j = 0; j < s->ncols; j++) {
        if (!s->keep[j]) continue;
        lask__column *c = colbuf_finish(&r->cols[k]);
        if (!c || lask__frame_set(f, k, s->names[j], c)) {
            lask__column_unref(c);
            lask_chunk_unref(&f->h);
            return fail(r, LASK_ENOMEM, "out of memory");
        }
        k++;
    }
    if (extra) {
        size_t pl = strlen(r->name);
        lask__column *c = lask__column_new(LASK_COL_STRING, r->nrows, (int64_t)pl * r->nrows);
        if (!c || lask__frame_set(f, k, o->path_column, c)) {
            lask__column_unref(c);
            lask_chunk_unref(&f->h);
            return fail(r, LASK_ENOMEM, "out of memory");
        }
        int64_t *off = c->values;
        for (int64_t i = 0; i < r->nrows; i++) {
            memcpy(c->strdata + i * (int64_t)pl, r->name, pl);
            off[i + 1] = (i + 1) * (int64_t)pl;
        }
    }
    *out = f;
    return 0;
}

static const char *skip_bom(const char *p, const char *end) {
    return end - p >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3) ? p + 3 : p;
}

int lask__csv_read_block(const char *name, const char *data, int64_t n, int64_t begin,
                         const lask__csv_opts *o, const lask__csv_schema *s,
                         lask__frame **out, int64_t *skipped, char *err, size_t errlen) {
    reader r;
    reader_init(&r, name, begin, o, s, err, errlen);
    *out = NULL;
    const char *p = data, *end = data + n;
    if (begin == 0) p = skip_bom(p, end);
    int64_t sample = end - p < (1 << 20) ? end - p : (1 << 20);
    if (!reader_alloc(&r, estimate_rows(p, p + sample, end - p), end - p) && !feed(&r, p, end))
        reader_frame(&r, out);
    if (skipped) *skipped = r.skipped;
    reader_free(&r);
    return r.status;
}

int lask__csv_read_mem(const char *name, const char *data, int64_t n,
                       const lask__csv_opts *o, const lask__csv_schema *s,
                       lask__frame **out, int64_t *skipped, char *err, size_t errlen) {
    return lask__csv_read_block(name, data, n, 0, o, s, out, skipped, err, errlen);
}

#define PIECE (1 << 20)

/* Stream the range through a small buffer that stays in cache; each piece
 * is cut after its last complete line and the rest carried over. */
int lask__csv_read(const char *path, int64_t start, int64_t end,
                   const lask__csv_opts *o, const lask__csv_schema *s,
                   lask__frame **out, int64_t *skipped, char *err, size_t errlen) {
    *out = NULL;
    if (skipped) *skipped = 0;
    int fd;
    int64_t size;
    if (open_file(path, &fd, &size, err, errlen)) return LASK_EIO;
    if (end < 0 || end > size) end = size;
    if (start < 0) start = 0;
    reader r;
    reader_init(&r, path, start > 0 ? -1 : 0, o, s, err, errlen);
    int64_t cap = 2 * PIECE, carry = 0, pos = start > 0 ? start - 1 : 0;
    int first = 1, ready = 0;
    char *buf = malloc((size_t)cap + 1);
    if (!buf) { fail(&r, LASK_ENOMEM, "out of memory"); goto done; }
    if (start >= end) goto finish;
    for (;;) {
        if (carry + PIECE > cap) {
            char *nb = realloc(buf, (size_t)(cap *= 2) + 1);
            if (!nb) { fail(&r, LASK_ENOMEM, "out of memory"); goto done; }
            buf = nb;
        }
        ssize_t k = pread(fd, buf + carry, PIECE, pos);
        if (k < 0) { fail(&r, LASK_EIO, "%s: read failed: %s", path, strerror(errno)); goto done; }
        pos += k;
        int64_t have = carry + k, bufoff = pos - have;
        int eof = k == 0 || pos >= size;
        const char *p = buf, *e = buf + have;
        if (first) {
            if (start > 0) {
                const char *nl = memchr(p, '\n', (size_t)have);
                if (!nl) { if (eof) goto finish; carry = 0; continue; }
                p = nl + 1;
            } else {
                p = skip_bom(p, e);
            }
            r.begin = bufoff + (p - buf);
            r.line0 = r.begin == 0 || start == 0 ? 1 : 0;
            first = 0;
            if (r.begin >= end) goto finish;
        }
        /* the lines that start before end, complete ones only */
        const char *cut = NULL;
        int last = 0;
        if (bufoff + have >= end) {
            int64_t fi = end - 1 - bufoff;
            const char *from = fi > p - buf ? buf + fi : p;
            const char *nl = from < e ? memchr(from, '\n', (size_t)(e - from)) : NULL;
            if (nl) { cut = nl + 1; last = 1; }
        }
        if (!cut) {
            if (eof) { cut = e; last = 1; }
            else {
                const char *nl = memrchr(p, '\n', (size_t)(e - p));
                cut = nl ? nl + 1 : p;
            }
        }
        if (!ready) {
            if (cut == p && !last) goto carry_on;   /* no complete line yet */
            if (reader_alloc(&r, estimate_rows(p, cut, end - r.begin), end - r.begin + (e - cut))) goto done;
            ready = 1;
        }
        if (feed(&r, p, cut)) goto done;
        if (last) break;
    carry_on:
        carry = e - cut;
        if (carry) memmove(buf, cut, (size_t)carry);
    }
finish:
    if (!ready && reader_alloc(&r, 16, 64)) goto done;
    reader_frame(&r, out);
done:
    if (skipped) *skipped = r.skipped;
    free(buf);
    close(fd);
    reader_free(&r);
    return r.status;
}

/* ------------------------------------------------------------ inference */

enum { CAN_INT = 1, CAN_FLOAT = 2, CAN_BOOL = 4 };

static int32_t find_name(char **names, int32_t n, const char *name) {
    for (int32_t i = 0; i < n; i++) if (!strcmp(names[i], name)) return i;
    return -1;
}

static int infer_record(reader *r, int64_t line) {
    (void)line;
    if (!r->header && (r->o->header || r->o->nnames)) {
        /* the first record: names from the file (or just its width) */
        r->header = calloc((size_t)r->nf + 1, sizeof *r->header);
        if (!r->header) return fail(r, LASK_ENOMEM, "out of memory");
        for (int32_t j = 0; j < r->nf; j++) {
            size_t len = (size_t)(r->fstart[j + 1] - r->fstart[j]);
            char *nm = malloc(len + 24);
            if (!nm) return fail(r, LASK_ENOMEM, "out of memory");
            memcpy(nm, r->rec + r->fstart[j], len);
            nm[len] = '\0';
            if (!len) sprintf(nm, "unnamed_%d", j + 1);
            r->header[j] = nm;
            r->nheader = j + 1;
        }
        if (r->o->header) return 0;
    }
    if (!r->seen) {
        if (!r->header) {
            r->header = calloc((size_t)r->nf + 1, sizeof *r->header);
            if (!r->header) return fail(r, LASK_ENOMEM, "out of memory");
            for (int32_t j = 0; j < r->nf; j++) {
                if (!(r->header[j] = malloc(24))) return fail(r, LASK_ENOMEM, "out of memory");
                sprintf(r->header[j], "col%d", j + 1);
                r->nheader = j + 1;
            }
        }
        r->seen = calloc((size_t)r->nheader + 1, sizeof *r->seen * 2);
        if (!r->seen) return fail(r, LASK_ENOMEM, "out of memory");
        for (int32_t j = 0; j < r->nheader; j++) r->seen[2 * j] = CAN_INT | CAN_FLOAT | CAN_BOOL;
    }
    if (r->nf != r->nheader) {
        if (r->o->skip_bad_lines) return 0;
        return fail(r, LASK_EFORMAT, "%s:%lld: expected %d fields, saw %d (pass on_bad_lines = \"skip\" to drop such lines)",
                    r->name, (long long)(1 + line), r->nheader, r->nf);
    }
    for (int32_t j = 0; j < r->nf; j++) {
        const char *s = r->rec + r->fstart[j];
        size_t n = (size_t)(r->fstart[j + 1] - r->fstart[j]);
        if (n == 0 || is_na(r->o, s, n)) continue;
        int m = 0;
        int64_t iv; double dv; uint8_t bv;
        if (lask__scan_int(s, s + n, &iv) == s + n) m = CAN_INT | CAN_FLOAT;
        else if (lask__parse_double_full(s, n, &dv)) m = CAN_FLOAT;
        else if (parse_bool(s, n, &bv)) m = CAN_BOOL;
        r->seen[2 * j] &= m;
        r->seen[2 * j + 1] = 1;
    }
    r->nsample++;
    return 0;
}

static int known_list(char *msg, size_t len, char **names, int32_t n) {
    size_t k = 0;
    for (int32_t i = 0; i < n && k + 8 < len; i++)
        k += (size_t)snprintf(msg + k, len - k, "%s%s", i ? ", " : "", names[i]);
    return 0;
}

int lask__csv_infer_mem(const char *name, const char *data, int64_t n,
                        const lask__csv_opts *o, lask__csv_schema *out,
                        char *err, size_t errlen) {
    return lask__csv_infer_block(name, data, n, 0, o, out, err, errlen);
}

int lask__csv_infer_block(const char *name, const char *data, int64_t n, int partial,
                          const lask__csv_opts *o, lask__csv_schema *out,
                          char *err, size_t errlen) {
    reader r;
    memset(&r, 0, sizeof r);
    r.o = o; r.name = name; r.line0 = 1; r.err = err; r.errlen = errlen;
    r.partial = partial;
    r.on_record = infer_record;
    memset(out, 0, sizeof *out);
    const char *p = skip_bom(data, data + n), *end = data + n;
    r.skip_left = o->skiprows;
    p = skip_top(&r, p, end);
    if (check_utf8(&r, p, end - p)) goto done;
    /* the whole sample through libcsv: it is small, and it takes quotes */
    if (libcsv_feed(&r, p, end, &r.line) || libcsv_finish(&r)) goto done;
    if (o->nnames) {
        if (r.nheader && r.nheader != o->nnames) {
            fail(&r, LASK_EINVAL, "%s: names gives %d columns but the file has %d", name, o->nnames, r.nheader);
            goto done;
        }
        free_strs(r.header, r.nheader);
        r.header = calloc((size_t)o->nnames, sizeof *r.header);
        r.nheader = 0;
        if (!r.header) { fail(&r, LASK_ENOMEM, "out of memory"); goto done; }
        for (int32_t j = 0; j < o->nnames; j++) {
            if (!(r.header[j] = strdup(o->names[j]))) { fail(&r, LASK_ENOMEM, "out of memory"); goto done; }
            r.nheader++;
        }
    }
    /* pandas-style names for duplicates: x, x.1, x.2 */
    for (int32_t j = 1; j < r.nheader; j++) {
        for (int k = 1; find_name(r.header, j, r.header[j]) >= 0; k++) {
            char *nm = malloc(strlen(r.header[j]) + 24);
            if (!nm) { fail(&r, LASK_ENOMEM, "out of memory"); goto done; }
            const char *base = r.header[j];
            sprintf(nm, "%s.%d", base, k);
            if (find_name(r.header, j, nm) < 0) { free(r.header[j]); r.header[j] = nm; break; }
            free(nm);
        }
    }
    out->ncols = r.nheader;
    out->names = r.header; r.header = NULL; r.nheader = 0;
    out->types = calloc((size_t)out->ncols + 1, sizeof *out->types);
    out->keep = calloc((size_t)out->ncols + 1, 1);
    if (!out->types || !out->keep) { fail(&r, LASK_ENOMEM, "out of memory"); goto done; }
    char known[1024] = "";
    known_list(known, sizeof known, out->names, out->ncols);
    for (int32_t j = 0; j < out->ncols; j++) {
        int m = r.seen ? r.seen[2 * j] : 0, any = r.seen ? r.seen[2 * j + 1] : 0;
        out->types[j] = !any ? (r.nsample ? LASK_COL_FLOAT64 : LASK_COL_STRING)
                        : (m & CAN_INT) ? LASK_COL_INT64 : (m & CAN_FLOAT) ? LASK_COL_FLOAT64
                        : (m & CAN_BOOL) ? LASK_COL_BOOL : LASK_COL_STRING;
        out->keep[j] = o->nusecols == 0;
    }
    for (int32_t i = 0; i < o->ndates; i++) {
        int32_t j = find_name(out->names, out->ncols, o->parse_dates[i]);
        if (j < 0) { fail(&r, LASK_EINVAL, "%s: parse_dates names unknown column '%s' (columns: %s)", name, o->parse_dates[i], known); goto done; }
        out->types[j] = LASK_COL_TIMESTAMP;
    }
    for (int32_t i = 0; i < o->ndtypes; i++) {
        int32_t j = find_name(out->names, out->ncols, o->dtype_cols[i]);
        if (j < 0) { fail(&r, LASK_EINVAL, "%s: dtype names unknown column '%s' (columns: %s)", name, o->dtype_cols[i], known); goto done; }
        out->types[j] = o->dtype_types[i];
    }
    for (int32_t i = 0; i < o->nusecols; i++) {
        int32_t j = find_name(out->names, out->ncols, o->usecols[i]);
        if (j < 0) { fail(&r, LASK_EINVAL, "%s: usecols names unknown column '%s' (columns: %s)", name, o->usecols[i], known); goto done; }
        out->keep[j] = 1;
    }
done:
    reader_free(&r);
    if (r.status) lask__csv_schema_free(out);
    return r.status;
}

int lask__csv_infer(const char *path, const lask__csv_opts *o, int64_t sample_bytes,
                    lask__csv_schema *out, char *err, size_t errlen) {
    char *data;
    int64_t n, begin;
    memset(out, 0, sizeof *out);
    int st = read_range(path, 0, sample_bytes > 0 ? sample_bytes : 262144, &data, &n, &begin, err, errlen);
    if (st) return st;
    struct stat sb;
    int partial = stat(path, &sb) == 0 && n < sb.st_size;
    st = lask__csv_infer_block(path, data, n, partial, o, out, err, errlen);
    free(data);
    return st;
}
