/* test_csv.c - the CSV reader and writer on well-formed and malformed text. */
#include <stdlib.h>
#include <math.h>
#include <unistd.h>
#include "harness.h"
#include "csvio.h"

static char err[1024];

/* Infer then read text with the option spec (NUL-separated words). */
static lask__frame *parse(const char *text, const char *spec, size_t speclen, int *status) {
    lask__csv_opts o;
    lask__csv_opts_init(&o);
    *status = lask__csv_opts_parse(&o, spec, (int64_t)speclen, err, sizeof err);
    lask__frame *f = NULL;
    if (*status) return NULL;
    lask__csv_schema s;
    *status = lask__csv_infer_mem("t.csv", text, (int64_t)strlen(text), &o, &s, err, sizeof err);
    if (!*status) {
        int64_t skipped;
        *status = lask__csv_read_mem("t.csv", text, (int64_t)strlen(text), &o, &s, &f, &skipped, err, sizeof err);
        lask__csv_schema_free(&s);
    }
    lask__csv_opts_free(&o);
    return f;
}
#define P(text, f, st) lask__frame *f = parse(text, "", 0, &st)
#define PS(text, spec, f, st) lask__frame *f = parse(text, spec, sizeof spec - 1, &st)

static int64_t I(lask__frame *f, int j, int64_t r) { return ((int64_t *)f->cols[j]->values)[r]; }
static double D(lask__frame *f, int j, int64_t r) { return ((double *)f->cols[j]->values)[r]; }
static int S(lask__frame *f, int j, int64_t r, const char *want) {
    const int64_t *o = f->cols[j]->values;
    size_t n = (size_t)(o[r + 1] - o[r]);
    return n == strlen(want) && memcmp(f->cols[j]->strdata + o[r], want, n) == 0;
}

TEST(basic_types) {
    int st;
    P("id,x,name,flag\n1,0.5,alpha,true\n2,-1.25e2,beta,false\n3,,gamma,\n", f, st);
    CHECK_EQ_INT(st, 0);
    if (!f) return;
    CHECK_EQ_INT(f->ncols, 4);
    CHECK_EQ_INT(f->nrows, 3);
    CHECK(strcmp(f->names[1], "x") == 0);
    CHECK_EQ_INT(f->cols[0]->type, LASK_COL_INT64);
    CHECK_EQ_INT(f->cols[1]->type, LASK_COL_FLOAT64);
    CHECK_EQ_INT(f->cols[2]->type, LASK_COL_STRING);
    CHECK_EQ_INT(f->cols[3]->type, LASK_COL_BOOL);
    CHECK_EQ_INT(I(f, 0, 2), 3);
    CHECK(D(f, 1, 1) == -125.0);
    CHECK(!lask__column_isvalid(f->cols[1], 2));
    CHECK(lask__column_isvalid(f->cols[1], 1));
    CHECK(S(f, 2, 1, "beta"));
    CHECK(!lask__column_isvalid(f->cols[3], 2));
    lask_chunk_unref(&f->h);
}

TEST(quotes_crlf_no_final_newline) {
    int st;
    P("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",2\r\nlast,3", f, st);
    CHECK_EQ_INT(st, 0);
    if (!f) return;
    CHECK_EQ_INT(f->nrows, 3);
    CHECK(S(f, 0, 0, "x,1"));
    CHECK(S(f, 1, 0, "say \"hi\""));
    CHECK(S(f, 0, 1, "multi\nline"));
    CHECK(S(f, 0, 2, "last"));
    CHECK(S(f, 1, 2, "3"));
    lask_chunk_unref(&f->h);
}

TEST(crlf_fast_path_numbers) {
    int st;
    P("a,b\r\n1,2.5\r\n3,4\r\n", f, st);
    CHECK_EQ_INT(st, 0);
    if (!f) return;
    CHECK_EQ_INT(f->nrows, 2);
    CHECK_EQ_INT(f->cols[0]->type, LASK_COL_INT64);
    CHECK_EQ_INT(I(f, 0, 1), 3);
    CHECK(D(f, 1, 1) == 4.0);
    lask_chunk_unref(&f->h);
}

TEST(empty_and_header_only) {
    int st;
    P("", f, st);
    CHECK_EQ_INT(st, 0);
    if (f) { CHECK_EQ_INT(f->ncols, 0); CHECK_EQ_INT(f->nrows, 0); lask_chunk_unref(&f->h); }
    P("a,b\n", g, st);
    CHECK_EQ_INT(st, 0);
    if (g) { CHECK_EQ_INT(g->ncols, 2); CHECK_EQ_INT(g->nrows, 0); lask_chunk_unref(&g->h); }
}

/* A first record of only empty fields (found by fuzz_csv: the record buffer
 * was still unallocated when the sampler took field offsets into it). */
TEST(all_empty_fields) {
    int st;
    PS(",\n,\n", "header\0" "0", f, st);
    CHECK_EQ_INT(st, 0);
    if (f) {
        CHECK_EQ_INT(f->ncols, 2);
        CHECK_EQ_INT(f->nrows, 2);
        CHECK(!lask__column_isvalid(f->cols[0], 0));
        CHECK(!lask__column_isvalid(f->cols[1], 1));
        lask_chunk_unref(&f->h);
    }
}

TEST(ragged_rows) {
    int st;
    P("a,b\n1,2\n3\n4,5\n", f, st);
    CHECK(st != 0);
    CHECK_STR_CONTAINS(err, "t.csv:3");
    CHECK_STR_CONTAINS(err, "expected 2 fields, saw 1");
    CHECK(f == NULL);
    PS("a,b\n1,2\n3\n4,5,6\n7,8\n", "skip_bad_lines\0" "1", g, st);
    CHECK_EQ_INT(st, 0);
    if (g) {
        CHECK_EQ_INT(g->nrows, 2);
        CHECK_EQ_INT(I(g, 0, 1), 7);
        CHECK_EQ_INT(I(g, 1, 1), 8);
        lask_chunk_unref(&g->h);
    }
}

TEST(unterminated_quote) {
    int st;
    P("a,b\n1,2\n3,\"open\n4,5\n", f, st);
    CHECK(st != 0);
    CHECK_STR_CONTAINS(err, "t.csv:3");
    CHECK_STR_CONTAINS(err, "unterminated");
    CHECK(f == NULL);
}

TEST(bad_quote) {
    int st;
    P("a,b\n1,x\"y\n", f, st);
    CHECK(st != 0);
    CHECK_STR_CONTAINS(err, "t.csv:2");
    CHECK(f == NULL);
}

TEST(invalid_utf8) {
    int st;
    P("a,b\n1,ok\n2,caf\xC3\n", f, st);
    CHECK(st != 0);
    CHECK_STR_CONTAINS(err, "invalid UTF-8");
    CHECK_STR_CONTAINS(err, "t.csv:3");
    P("a,b\n1,caf\xC3\xA9\n", g, st);
    CHECK_EQ_INT(st, 0);
    if (g) { CHECK(S(g, 1, 0, "caf\xC3\xA9")); lask_chunk_unref(&g->h); }
    (void)f;
}

TEST(type_mismatch_later_block) {
    /* schema from a sample of the first rows; a later block breaks it */
    lask__csv_opts o;
    lask__csv_opts_init(&o);
    lask__csv_opts_parse(&o, "", 0, err, sizeof err);
    const char *text = "a,b\n1,2\n3,4\n";
    lask__csv_schema s;
    CHECK_EQ_INT(lask__csv_infer_mem("t.csv", text, (int64_t)strlen(text), &o, &s, err, sizeof err), 0);
    CHECK_EQ_INT(s.types[1], LASK_COL_INT64);
    /* a file on disk whose second block has a float in the int column */
    char path[] = "/tmp/lask_test_csv_XXXXXX";
    int fd = mkstemp(path);
    const char *body = "a,b\n1,2\n3,4\n5,6.5\n";
    CHECK(write(fd, body, strlen(body)) == (ssize_t)strlen(body));
    close(fd);
    lask__frame *f = NULL;
    int64_t sk;
    int st = lask__csv_read(path, 12, -1, &o, &s, &f, &sk, err, sizeof err);
    CHECK(st != 0);
    CHECK_STR_CONTAINS(err, ":4: column 'b' (int64): cannot parse '6.5'");
    CHECK_STR_CONTAINS(err, "dtype");
    /* blocks split anywhere still give each line once */
    int64_t total = 0;
    for (int64_t a = 0; a < 20; a += 5) {
        lask__frame *g = NULL;
        lask__csv_opts o2; lask__csv_opts_init(&o2);
        lask__csv_opts_parse(&o2, "dtype\0b\0float64", 15, err, sizeof err);
        lask__csv_schema s2;
        CHECK_EQ_INT(lask__csv_infer(path, &o2, 0, &s2, err, sizeof err), 0);
        st = lask__csv_read(path, a, a + 5, &o2, &s2, &g, &sk, err, sizeof err);
        CHECK_EQ_INT(st, 0);
        if (g) { total += g->nrows; lask_chunk_unref(&g->h); }
        lask__csv_schema_free(&s2);
        lask__csv_opts_free(&o2);
    }
    CHECK_EQ_INT(total, 3);
    unlink(path);
    lask__csv_schema_free(&s);
    lask__csv_opts_free(&o);
}

TEST(nonnumber_in_dtype_column) {
    int st;
    PS("a,b\n1,2\nx,3\n", "dtype\0a\0int64", f, st);
    CHECK(st != 0);
    CHECK_STR_CONTAINS(err, "t.csv:3: column 'a' (int64): cannot parse 'x'");
    (void)f;
}

TEST(options) {
    int st;
    PS("# top comment\nskip me\nx;y;z\n1;NA;a\n# c\n2;7;b\n", "skiprows\0" "2\0sep\0;\0comment\0#\0usecol\0y\0usecol\0z", f, st);
    CHECK_EQ_INT(st, 0);
    if (f) {
        CHECK_EQ_INT(f->ncols, 2);
        CHECK_EQ_INT(f->nrows, 2);
        CHECK(strcmp(f->names[0], "y") == 0);
        CHECK(!lask__column_isvalid(f->cols[0], 0));
        CHECK_EQ_INT(I(f, 0, 1), 7);
        CHECK(S(f, 1, 1, "b"));
        lask_chunk_unref(&f->h);
    }
    PS("1,2\n3,4\n", "header\0" "0\0name\0p\0name\0q", g, st);
    CHECK_EQ_INT(st, 0);
    if (g) {
        CHECK_EQ_INT(g->nrows, 2);
        CHECK(strcmp(g->names[1], "q") == 0);
        CHECK_EQ_INT(I(g, 1, 0), 2);
        lask_chunk_unref(&g->h);
    }
    PS("a,b\n1,2\n", "usecol\0zz", h, st);
    CHECK(st != 0);
    CHECK_STR_CONTAINS(err, "unknown column 'zz' (columns: a, b)");
    (void)h;
}

TEST(timestamps) {
    int64_t ns;
    CHECK_EQ_INT(lask__parse_timestamp("1970-01-02", 10, &ns), 0);
    CHECK_EQ_INT(ns, 86400LL * 1000000000);
    CHECK_EQ_INT(lask__parse_timestamp("2000-03-01T00:00:01.5Z", 22, &ns), 0);
    CHECK_EQ_INT(ns, 951868801500000000LL);
    CHECK_EQ_INT(lask__parse_timestamp("2000-03-01 02:00:00+02:00", 25, &ns), 0);
    CHECK_EQ_INT(ns, 951868800000000000LL);
    CHECK(lask__parse_timestamp("2001-02-29", 10, &ns) != 0);
    CHECK(lask__parse_timestamp("2001-13-01", 10, &ns) != 0);
    /* outside int64 nanoseconds (years 1677..2262): refused, not wrapped */
    CHECK(lask__parse_timestamp("2721-01-01", 10, &ns) != 0);
    CHECK(lask__parse_timestamp("1500-01-01", 10, &ns) != 0);
    CHECK_EQ_INT(lask__parse_timestamp("2262-04-11", 10, &ns), 0);
    CHECK(ns > 0);
    char buf[40];
    lask__format_timestamp(951868801500000000LL, buf);
    CHECK(strcmp(buf, "2000-03-01T00:00:01.5") == 0);
    int st;
    PS("t,v\n2024-01-31,1\n2024-02-01T10:00:00,2\n", "date\0t", f, st);
    CHECK_EQ_INT(st, 0);
    if (f) {
        CHECK_EQ_INT(f->cols[0]->type, LASK_COL_TIMESTAMP);
        CHECK_EQ_INT(I(f, 0, 1) - I(f, 0, 0), 34LL * 3600 * 1000000000);
        lask_chunk_unref(&f->h);
    }
}

TEST(float_exact) {
    int st;
    P("x\n0.1\n1e-300\n123456789012345678901234\n-0.000123\n", f, st);
    CHECK_EQ_INT(st, 0);
    if (!f) return;
    CHECK(D(f, 0, 0) == 0.1);
    CHECK(D(f, 0, 1) == 1e-300);
    CHECK(D(f, 0, 2) == 123456789012345678901234.0);
    CHECK(D(f, 0, 3) == -0.000123);
    lask_chunk_unref(&f->h);
}

TEST(write_roundtrip) {
    int st;
    P("s,x,i\n\"a,b\",0.1,1\n\"q\"\"\",,2\nplain,3.25,\n", f, st);
    CHECK_EQ_INT(st, 0);
    if (!f) return;
    char path[] = "/tmp/lask_test_csvw_XXXXXX";
    close(mkstemp(path));
    CHECK_EQ_INT(lask__csv_write(f, path, ',', 1, err, sizeof err), 0);
    FILE *fp = fopen(path, "r");
    char text[256] = "";
    size_t n = fread(text, 1, sizeof text - 1, fp);
    text[n] = '\0';
    fclose(fp);
    CHECK(strcmp(text, "s,x,i\n\"a,b\",0.10000000000000001,1\n\"q\"\"\",,2\nplain,3.25,\n") == 0
          || strcmp(text, "s,x,i\n\"a,b\",0.1,1\n\"q\"\"\",,2\nplain,3.25,\n") == 0);
    lask__frame *g = parse(text, "", 0, &st);
    CHECK_EQ_INT(st, 0);
    if (g) {
        CHECK(S(g, 0, 1, "q\""));
        CHECK(D(g, 1, 0) == 0.1);
        CHECK(!lask__column_isvalid(g->cols[2], 2));
        lask_chunk_unref(&g->h);
    }
    unlink(path);
    lask_chunk_unref(&f->h);
}

TEST(missing_file) {
    lask__csv_opts o;
    lask__csv_opts_init(&o);
    lask__csv_schema s;
    CHECK(lask__csv_infer("/nonexistent/x.csv", &o, 0, &s, err, sizeof err) == LASK_EIO);
    CHECK_STR_CONTAINS(err, "/nonexistent/x.csv: cannot open");
}

int main(void) {
    RUN(basic_types);
    RUN(quotes_crlf_no_final_newline);
    RUN(crlf_fast_path_numbers);
    RUN(empty_and_header_only);
    RUN(all_empty_fields);
    RUN(ragged_rows);
    RUN(unterminated_quote);
    RUN(bad_quote);
    RUN(invalid_utf8);
    RUN(type_mismatch_later_block);
    RUN(nonnumber_in_dtype_column);
    RUN(options);
    RUN(timestamps);
    RUN(float_exact);
    RUN(write_roundtrip);
    RUN(missing_file);
    return harness_done();
}
