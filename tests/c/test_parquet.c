/*
 * test_parquet.c - the Parquet codec: fixtures a real writer made (compared
 * with expected.csv exactly), round trips through our writer, bad files.
 *
 * The fixtures live in shared/data/parquet beside the clone (../shared), or
 * under $LASK_SHARED.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "parquet.h"
#include "parquet_filter.h"

static char fixdir[1024];
static int skipped;

static int find_fixtures(void) {
    const char *env = getenv("LASK_SHARED");
    const char *cands[] = {"../shared", "../../shared", "/work/shared"};
    char p[1024];
    if (env) {
        snprintf(p, sizeof p, "%s/data/parquet/expected.csv", env);
        if (access(p, R_OK) == 0) { snprintf(fixdir, sizeof fixdir, "%s/data/parquet", env); return 1; }
    }
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
        snprintf(p, sizeof p, "%s/data/parquet/expected.csv", cands[i]);
        if (access(p, R_OK) == 0) { snprintf(fixdir, sizeof fixdir, "%s/data/parquet", cands[i]); return 1; }
    }
    return 0;
}

/* ------------------------------------------------------------ formatting */

/* Shortest digits that read back to v, printed without an exponent for
 * moderate magnitudes, with ".0" on whole numbers (as DuckDB prints). */
static void fmt_shortest(char *b, size_t n, double v, int is_float) {
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(b, n, "%.*g", prec, v);
        if (is_float ? strtof(b, NULL) == (float)v : strtod(b, NULL) == v) break;
    }
    char *e = strchr(b, 'e');
    if (e && fabs(v) < 1e15 && fabs(v) >= 1e-4) {
        int exp10 = atoi(e + 1);
        int dec = prec - 1 - exp10;
        snprintf(b, n, "%.*f", dec > 0 ? dec : 0, v);
    }
    if (!strpbrk(b, ".en")) strncat(b, ".0", n - strlen(b) - 1);
}

static void fmt_double(char *b, size_t n, double v) { fmt_shortest(b, n, v, 0); }
static void fmt_float(char *b, size_t n, double v) { fmt_shortest(b, n, (double)(float)v, 1); }

static void fmt_ts(char *b, size_t n, int64_t ns, int date_only) {
    time_t s = (time_t)(ns / 1000000000);
    int64_t frac = ns % 1000000000;
    if (frac < 0) { frac += 1000000000; s--; }
    struct tm tm;
    gmtime_r(&s, &tm);
    if (date_only) strftime(b, n, "%Y-%m-%d", &tm);
    else {
        strftime(b, n, "%Y-%m-%d %H:%M:%S", &tm);
        if (frac) {
            size_t l = strlen(b);
            snprintf(b + l, n - l, ".%06lld", (long long)(frac / 1000));
        }
    }
}

/* Row r of frame f as the fixture CSV prints it; k32 given separately when
 * the frame lacks it (hive files). */
static void fmt_row(const lask__frame *f, int64_t r, char *out, size_t n, int64_t k32) {
    static const char *names[] = {"id", "k32", "x", "f32", "flag", "cat", "label", "ts", "d", "s16"};
    out[0] = 0;
    for (int i = 0; i < 10; i++) {
        char cell[512] = "";
        int32_t ci = lask__frame_find(f, names[i]);
        if (ci < 0 && i == 1) {
            snprintf(cell, sizeof cell, "%lld", (long long)k32);
        } else if (ci < 0) {
            snprintf(cell, sizeof cell, "<missing>");
        } else {
            const lask__column *c = f->cols[ci];
            if (!lask__column_isvalid(c, r)) cell[0] = 0;
            else switch (c->type) {
            case LASK_COL_INT64: snprintf(cell, sizeof cell, "%lld", (long long)((int64_t *)c->values)[r]); break;
            case LASK_COL_FLOAT64:
                if (i == 3) fmt_float(cell, sizeof cell, ((double *)c->values)[r]);
                else fmt_double(cell, sizeof cell, ((double *)c->values)[r]);
                break;
            case LASK_COL_BOOL: snprintf(cell, sizeof cell, "%s", ((uint8_t *)c->values)[r] ? "true" : "false"); break;
            case LASK_COL_STRING: {
                int64_t *o = c->values;
                snprintf(cell, sizeof cell, "%.*s", (int)(o[r + 1] - o[r]), c->strdata + o[r]);
                break;
            }
            case LASK_COL_TIMESTAMP: fmt_ts(cell, sizeof cell, ((int64_t *)c->values)[r], i == 8); break;
            }
        }
        if (i) strncat(out, ",", n - strlen(out) - 1);
        strncat(out, cell, n - strlen(out) - 1);
    }
}

static char **expected;
static int64_t nexpected;

static int load_expected(void) {
    char p[1200];
    snprintf(p, sizeof p, "%s/expected.csv", fixdir);
    FILE *fp = fopen(p, "r");
    if (!fp) return 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t cap2 = 8192;
    expected = malloc(sizeof(char *) * (size_t)cap2);
    int first = 1;
    while ((len = getline(&line, &cap, fp)) > 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (first) { first = 0; continue; }
        if (nexpected == cap2) expected = realloc(expected, sizeof(char *) * (size_t)(cap2 *= 2));
        expected[nexpected++] = strdup(line);
    }
    free(line);
    fclose(fp);
    return nexpected > 0;
}

/* Read every row group of path; check each row against expected.csv by id.
 * Returns the rows seen (-1 on a read error). */
static int64_t check_file(const char *path, int64_t k32, int *mismatches) {
    lask__pq_file *f;
    char err[512];
    int32_t st = lask__pq_open(path, &f, err, sizeof err);
    if (st != LASK_OK) { fprintf(stderr, "%s\n", err); return -1; }
    int64_t seen = 0;
    for (int32_t g = 0; g < f->nrowgroups; g++) {
        lask__frame *fr;
        st = lask__pq_read_rowgroup(f, g, NULL, -1, NULL, 0, &fr, err, sizeof err);
        if (st != LASK_OK) { fprintf(stderr, "%s\n", err); lask__pq_close(f); return -1; }
        int32_t idc = lask__frame_find(fr, "id");
        for (int64_t r = 0; r < fr->nrows; r++) {
            char line[2048];
            fmt_row(fr, r, line, sizeof line, k32);
            int64_t id = idc >= 0 ? ((int64_t *)fr->cols[idc]->values)[r] : -1;
            if (id < 0 || id >= nexpected || strcmp(line, expected[id]) != 0) {
                if (*mismatches < 5)
                    fprintf(stderr, "%s row %lld:\n  got      %s\n  expected %s\n", path, (long long)r, line,
                            id >= 0 && id < nexpected ? expected[id] : "(no such id)");
                (*mismatches)++;
            }
        }
        seen += fr->nrows;
        lask_chunk_unref(&fr->h);
    }
    lask__pq_close(f);
    return seen;
}

static void check_fixture(const char *name, int32_t want_rowgroups) {
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", fixdir, name);
    int mism = 0;
    int64_t seen = check_file(p, -1, &mism);
    CHECK_EQ_INT(seen, nexpected);
    CHECK_EQ_INT(mism, 0);
    if (want_rowgroups > 0) {
        lask__pq_file *f;
        char err[256];
        if (lask__pq_open(p, &f, err, sizeof err) == LASK_OK) {
            CHECK_EQ_INT(f->nrowgroups, want_rowgroups);
            CHECK_EQ_INT(f->num_rows, nexpected);
            lask__pq_close(f);
        } else CHECK(0);
    }
}

TEST(fixture_snappy) { check_fixture("snappy.parquet", 1); }
TEST(fixture_zstd) { check_fixture("zstd.parquet", 0); }
TEST(fixture_gzip) { check_fixture("gzip.parquet", 0); }
TEST(fixture_uncompressed) { check_fixture("uncompressed.parquet", 0); }
TEST(fixture_rowgroups) {
    check_fixture("rowgroups.parquet", 0);
    char p[1200], err[256];
    snprintf(p, sizeof p, "%s/rowgroups.parquet", fixdir);
    lask__pq_file *f;
    CHECK_EQ_INT(lask__pq_open(p, &f, err, sizeof err), LASK_OK);
    CHECK(f->nrowgroups > 1);
    lask__pq_close(f);
}
TEST(fixture_v2pages) { check_fixture("v2pages.parquet", 0); }

TEST(fixture_hive) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/hive", fixdir);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d) return;
    struct dirent *e;
    int64_t total = 0;
    int mism = 0;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "k32=", 4) != 0) continue;
        int64_t k = atoll(e->d_name + 4);
        char sub[1500];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        DIR *d2 = opendir(sub);
        struct dirent *e2;
        while (d2 && (e2 = readdir(d2))) {
            if (!strstr(e2->d_name, ".parquet")) continue;
            char p[2000];
            snprintf(p, sizeof p, "%s/%s", sub, e2->d_name);
            int64_t n = check_file(p, k, &mism);
            CHECK(n >= 0);
            total += n;
        }
        if (d2) closedir(d2);
    }
    closedir(d);
    CHECK_EQ_INT(total, nexpected);
    CHECK_EQ_INT(mism, 0);
}

TEST(projection_reads_named_columns) {
    char p[1200];
    snprintf(p, sizeof p, "%s/rowgroups.parquet", fixdir);
    lask__pq_file *f;
    char err[256];
    CHECK_EQ_INT(lask__pq_open(p, &f, err, sizeof err), LASK_OK);
    const char *cols[] = {"label", "id"};
    lask__frame *fr;
    CHECK_EQ_INT(lask__pq_read_rowgroup(f, 1, cols, 2, NULL, 0, &fr, err, sizeof err), LASK_OK);
    CHECK_EQ_INT(fr->ncols, 2);
    CHECK(strcmp(fr->names[0], "label") == 0 && strcmp(fr->names[1], "id") == 0);
    int64_t first = f->rowgroups[0].num_rows;   /* ids run 0.. in order */
    CHECK_EQ_INT(((int64_t *)fr->cols[1]->values)[0], first);
    char want[32];
    snprintf(want, sizeof want, "row-%lld", (long long)first);
    int64_t *o = fr->cols[0]->values;
    CHECK(o[1] - o[0] >= (int64_t)strlen(want) && memcmp(fr->cols[0]->strdata, want, strlen(want)) == 0);
    lask_chunk_unref(&fr->h);
    const char *bad[] = {"nope"};
    CHECK(lask__pq_read_rowgroup(f, 0, bad, 1, NULL, 0, &fr, err, sizeof err) == LASK_EINVAL);
    CHECK_STR_CONTAINS(err, "nope");
    CHECK(lask__pq_read_rowgroup(f, 99, NULL, -1, NULL, 0, &fr, err, sizeof err) == LASK_EINVAL);
    CHECK_STR_CONTAINS(err, "row group 100");
    /* statistics of the id column in row group 2: 1000 .. 1999 */
    int32_t idc = lask__pq_find(f, "id");
    const lask__pq_stats *s = &f->rowgroups[1].chunks[f->cols[idc].leaf].stats;
    CHECK(s->min_len == 8 && s->max_len == 8);
    if (s->min_len == 8) {
        int64_t lo, hi;
        memcpy(&lo, s->min, 8);
        memcpy(&hi, s->max, 8);
        CHECK_EQ_INT(lo, first);
        CHECK_EQ_INT(hi, first + f->rowgroups[1].num_rows - 1);
    }
    lask__pq_close(f);
}

/* ------------------------------------------------------------ round trips */

static lask__frame *sample_frame(int64_t n, int with_nulls, int64_t longlen) {
    lask__frame *f = lask__frame_new(6, n);
    lask__column *ci = lask__column_new(LASK_COL_INT64, n, 0);
    lask__column *cd = lask__column_new(LASK_COL_FLOAT64, n, 0);
    lask__column *cb = lask__column_new(LASK_COL_BOOL, n, 0);
    lask__column *ct = lask__column_new(LASK_COL_TIMESTAMP, n, 0);
    lask__column *cc = lask__column_new(LASK_COL_INT64, n, 0);   /* low cardinality */
    /* strings: "s<i % 7>" plus one long one */
    int64_t bytes = 0;
    for (int64_t i = 0; i < n; i++) bytes += (i == 3 ? longlen : 3);
    lask__column *cs = lask__column_new(LASK_COL_STRING, n, bytes);
    int64_t *so = cs->values, pos = 0;
    for (int64_t i = 0; i < n; i++) {
        ((int64_t *)ci->values)[i] = i * 1000003 - 77;
        ((double *)cd->values)[i] = i * 0.25 - 3.5;
        ((uint8_t *)cb->values)[i] = (uint8_t)(i % 3 == 0);
        ((int64_t *)ct->values)[i] = INT64_C(1700000000123456789) + i * 1000;
        ((int64_t *)cc->values)[i] = i % 5;
        if (i == 3) {
            for (int64_t k = 0; k < longlen; k++) cs->strdata[pos + k] = (char)('a' + k % 26);
            pos += longlen;
        } else {
            snprintf(cs->strdata + pos, 4, "s%d", (int)(i % 7));
            cs->strdata[pos + 2] = '!';
            pos += 3;
        }
        so[i + 1] = pos;
    }
    if (with_nulls) {
        lask__column *cols[] = {ci, cd, cb, ct, cc, cs};
        for (int k = 0; k < 6; k++) {
            uint8_t *v = lask__column_validity(cols[k]);
            for (int64_t i = 0; i < n; i++)
                if ((i + k) % 4 == 1) lask__bit_set(v, i, 0);
        }
    }
    lask__frame_set(f, 0, "i", ci);
    lask__frame_set(f, 1, "d", cd);
    lask__frame_set(f, 2, "b", cb);
    lask__frame_set(f, 3, "t", ct);
    lask__frame_set(f, 4, "c", cc);
    lask__frame_set(f, 5, "s", cs);
    return f;
}

/* Same values, same validity (values of null rows are not compared). */
static int same_column(const lask__column *a, const lask__column *b, int64_t arow, int64_t n) {
    if (a->type != b->type) return 0;
    for (int64_t r = 0; r < n; r++) {
        int va = lask__column_isvalid(a, arow + r), vb = lask__column_isvalid(b, r);
        if (va != vb) return 0;
        if (!va) continue;
        switch (a->type) {
        case LASK_COL_BOOL:
            if (((uint8_t *)a->values)[arow + r] != ((uint8_t *)b->values)[r]) return 0;
            break;
        case LASK_COL_STRING: {
            int64_t *oa = a->values, *ob = b->values;
            int64_t la = oa[arow + r + 1] - oa[arow + r], lb = ob[r + 1] - ob[r];
            if (la != lb || memcmp(a->strdata + oa[arow + r], b->strdata + ob[r], (size_t)la)) return 0;
            break;
        }
        default:
            if (memcmp((int64_t *)a->values + arow + r, (int64_t *)b->values + r, 8)) return 0;
        }
    }
    return 1;
}

static void roundtrip(lask__frame *f, int32_t codec, int64_t rgsize, int dict) {
    lask__pq_write_opts o = {codec, rgsize, dict, 0};
    uint8_t *buf;
    size_t len;
    char err[512];
    int32_t st = lask__pq_write_mem(f, &o, &buf, &len, err, sizeof err);
    CHECK_EQ_INT(st, LASK_OK);
    if (st) { fprintf(stderr, "%s\n", err); return; }
    lask__pq_file *pf;
    st = lask__pq_open_mem("mem.parquet", buf, (int64_t)len, &pf, err, sizeof err);
    CHECK_EQ_INT(st, LASK_OK);
    if (st) { fprintf(stderr, "%s\n", err); free(buf); return; }
    CHECK_EQ_INT(pf->num_rows, f->nrows);
    CHECK_EQ_INT(pf->ncols, f->ncols);
    int64_t row = 0;
    for (int32_t g = 0; g < pf->nrowgroups; g++) {
        lask__frame *r;
        st = lask__pq_read_rowgroup(pf, g, NULL, -1, buf, (int64_t)len, &r, err, sizeof err);
        CHECK_EQ_INT(st, LASK_OK);
        if (st) { fprintf(stderr, "%s\n", err); break; }
        for (int32_t c = 0; c < f->ncols; c++) {
            CHECK(strcmp(r->names[c], f->names[c]) == 0);
            if (!same_column(f->cols[c], r->cols[c], row, r->nrows)) {
                fprintf(stderr, "column %s differs (codec %d, dict %d, row group %d)\n", f->names[c], codec, dict, g);
                CHECK(0);
            }
        }
        row += r->nrows;
        lask_chunk_unref(&r->h);
    }
    CHECK_EQ_INT(row, f->nrows);
    if (rgsize > 0 && f->nrows > 0) CHECK_EQ_INT(pf->nrowgroups, (f->nrows + rgsize - 1) / rgsize);
    lask__pq_close(pf);
    free(buf);
}

TEST(roundtrip_every_codec) {
    lask__frame *f = sample_frame(3000, 1, 40);
    int32_t codecs[] = {PQ_CODEC_NONE, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP, PQ_CODEC_ZSTD, PQ_CODEC_LZ4_RAW};
    for (int i = 0; i < 5; i++) {
        roundtrip(f, codecs[i], 0, 1);
        roundtrip(f, codecs[i], 0, 0);
    }
    lask_chunk_unref(&f->h);
}

TEST(roundtrip_nulls_and_row_groups) {
    lask__frame *f = sample_frame(10007, 1, 10);
    roundtrip(f, PQ_CODEC_SNAPPY, 1000, 1);
    roundtrip(f, PQ_CODEC_ZSTD, 3, 1);
    lask_chunk_unref(&f->h);
    lask__frame *g = sample_frame(500, 0, 10);
    roundtrip(g, PQ_CODEC_SNAPPY, 100, 1);
    lask_chunk_unref(&g->h);
}

TEST(roundtrip_empty_and_long_strings) {
    lask__frame *e = sample_frame(0, 0, 0);
    roundtrip(e, PQ_CODEC_SNAPPY, 0, 1);   /* a zero-row row group */
    lask_chunk_unref(&e->h);
    lask__frame *z = lask__frame_new(0, 0);
    uint8_t *buf;
    size_t len;
    char err[256];
    CHECK(lask__pq_write_mem(z, NULL, &buf, &len, err, sizeof err) == LASK_EINVAL);
    lask_chunk_unref(&z->h);
    lask__frame *l = sample_frame(20, 1, 3 << 20);   /* a 3 MB string */
    roundtrip(l, PQ_CODEC_SNAPPY, 0, 1);
    roundtrip(l, PQ_CODEC_NONE, 7, 0);
    lask_chunk_unref(&l->h);
}

TEST(writer_statistics_and_dictionary) {
    lask__frame *f = sample_frame(1000, 1, 10);
    uint8_t *buf;
    size_t len;
    char err[256];
    CHECK_EQ_INT(lask__pq_write_mem(f, NULL, &buf, &len, err, sizeof err), LASK_OK);
    lask__pq_file *pf;
    CHECK_EQ_INT(lask__pq_open_mem("m", buf, (int64_t)len, &pf, err, sizeof err), LASK_OK);
    /* column "c" = i % 5 with nulls where (i + 4) % 4 == 1 */
    const lask__pq_stats *s = &pf->rowgroups[0].chunks[4].stats;
    CHECK_EQ_INT(s->null_count, 250);
    int64_t lo = -1, hi = -1;
    if (s->min_len == 8) memcpy(&lo, s->min, 8);
    if (s->max_len == 8) memcpy(&hi, s->max, 8);
    CHECK_EQ_INT(lo, 0);
    CHECK_EQ_INT(hi, 4);
    const lask__pq_stats *ss = &pf->rowgroups[0].chunks[5].stats;
    CHECK(ss->min_len == 10 && memcmp(ss->min, "abcdefghij", 10) == 0);
    CHECK(ss->max_len == 3 && memcmp(ss->max, "s6!", 3) == 0);
    CHECK_EQ_INT(pf->cols[3].coltype, LASK_COL_TIMESTAMP);
    CHECK_EQ_INT(pf->cols[5].coltype, LASK_COL_STRING);
    lask__pq_close(pf);
    free(buf);
    lask_chunk_unref(&f->h);
}


/* ------------------------------------------------ our own DuckDB fixtures */

/* Every column of frame row r, CSV as types_expected.csv prints it. */
static void fmt_generic(const lask__frame *f, int64_t r, char *out, size_t n) {
    out[0] = 0;
    for (int32_t i = 0; i < f->ncols; i++) {
        char cell[512] = "";
        const lask__column *c = f->cols[i];
        if (lask__column_isvalid(c, r)) switch (c->type) {
        case LASK_COL_INT64: case LASK_COL_TIMESTAMP:
            snprintf(cell, sizeof cell, "%lld", (long long)((int64_t *)c->values)[r]); break;
        case LASK_COL_FLOAT64: fmt_double(cell, sizeof cell, ((double *)c->values)[r]); break;
        case LASK_COL_BOOL: snprintf(cell, sizeof cell, "%s", ((uint8_t *)c->values)[r] ? "true" : "false"); break;
        case LASK_COL_STRING: {
            int64_t *o = c->values;
            snprintf(cell, sizeof cell, "%.*s", (int)(o[r + 1] - o[r]), c->strdata + o[r]);
            break;
        }
        }
        if (i) strncat(out, ",", n - strlen(out) - 1);
        strncat(out, cell, n - strlen(out) - 1);
    }
}

static void check_types_file(const char *name) {
    static const char *cols[] = {"id", "i8", "u8", "u16", "u32", "u64", "dec9", "dec18", "dec30",
                                 "s", "dbl", "b", "ts_ms", "ts_ns"};
    char p[256], err[512];
    snprintf(p, sizeof p, "tests/fixtures/parquet/%s", name);
    FILE *fp = fopen("tests/fixtures/parquet/types_expected.csv", "r");
    CHECK(fp != NULL);
    if (!fp) return;
    char line[2048], got[2048];
    CHECK(fgets(line, sizeof line, fp) != NULL);   /* header */
    lask__pq_file *f;
    int32_t st = lask__pq_open(p, &f, err, sizeof err);
    CHECK_EQ_INT(st, LASK_OK);
    if (st) { fprintf(stderr, "%s\n", err); fclose(fp); return; }
    int64_t rows = 0, bad = 0;
    for (int32_t g = 0; g < f->nrowgroups; g++) {
        lask__frame *fr;
        st = lask__pq_read_rowgroup(f, g, cols, 14, NULL, 0, &fr, err, sizeof err);
        CHECK_EQ_INT(st, LASK_OK);
        if (st) { fprintf(stderr, "%s\n", err); break; }
        for (int64_t r = 0; r < fr->nrows; r++, rows++) {
            if (!fgets(line, sizeof line, fp)) { bad++; break; }
            line[strcspn(line, "\r\n")] = 0;
            fmt_generic(fr, r, got, sizeof got);
            if (strcmp(got, line) != 0 && bad++ < 3)
                fprintf(stderr, "%s row %lld:\n  got      %s\n  expected %s\n", name, (long long)rows, got, line);
        }
        lask_chunk_unref(&fr->h);
    }
    CHECK_EQ_INT(rows, 1000);
    CHECK_EQ_INT(bad, 0);
    lask__pq_close(f);
    fclose(fp);
}

TEST(types_v1_snappy) { check_types_file("types_v1_snappy.parquet"); }
TEST(types_v2_zstd) { check_types_file("types_v2_zstd.parquet"); }
TEST(types_v2_lz4) { check_types_file("types_v2_lz4.parquet"); }
TEST(types_brotli) { check_types_file("types_brotli.parquet"); }
TEST(types_nodict_v2) { check_types_file("types_nodict_v2.parquet"); }

TEST(nested_columns_named_in_errors) {
    lask__pq_file *f;
    char err[512];
    CHECK_EQ_INT(lask__pq_open("tests/fixtures/parquet/nested.parquet", &f, err, sizeof err), LASK_OK);
    if (!f) return;
    CHECK_EQ_INT(f->ncols, 4);
    lask__frame *fr;
    CHECK_EQ_INT(lask__pq_read_rowgroup(f, 0, NULL, -1, NULL, 0, &fr, err, sizeof err), LASK_EFORMAT);
    CHECK_STR_CONTAINS(err, "column 'st' is a nested STRUCT column");
    const char *lst[] = {"lst"};
    CHECK_EQ_INT(lask__pq_read_rowgroup(f, 0, lst, 1, NULL, 0, &fr, err, sizeof err), LASK_EFORMAT);
    CHECK_STR_CONTAINS(err, "column 'lst' is a nested LIST column");
    const char *ok[] = {"name", "id"};
    CHECK_EQ_INT(lask__pq_read_rowgroup(f, 0, ok, 2, NULL, 0, &fr, err, sizeof err), LASK_OK);
    if (fr) {
        CHECK_EQ_INT(fr->nrows, 10);
        CHECK_EQ_INT(((int64_t *)fr->cols[1]->values)[9], 9);
        int64_t *o = fr->cols[0]->values;
        CHECK(o[10] - o[9] == 2 && memcmp(fr->cols[0]->strdata + o[9], "k9", 2) == 0);
        lask_chunk_unref(&fr->h);
    }
    lask__pq_close(f);
}



TEST(masked_reads_match_full_reads) {
    /* every fixture variant: decode with a mask, compare to decode + take */
    const char *names[] = {"types_v1_snappy", "types_v2_zstd", "types_nodict_v2", "types_brotli"};
    for (int v = 0; v < 4; v++) {
        char p[256], err[512];
        snprintf(p, sizeof p, "tests/fixtures/parquet/%s.parquet", names[v]);
        lask__pq_file *f;
        if (lask__pq_open(p, &f, err, sizeof err) != LASK_OK) { CHECK(0); continue; }
        for (int32_t g = 0; g < f->nrowgroups; g++) {
            lask__frame *full, *masked;
            CHECK_EQ_INT(lask__pq_read_rowgroup(f, g, NULL, -1, NULL, 0, &full, err, sizeof err), LASK_OK);
            int64_t n = full->nrows, nkeep = 0;
            uint8_t *keep = malloc((size_t)n + 1);
            for (int64_t r = 0; r < n; r++) nkeep += keep[r] = (r * 7 + g) % 5 < 2;
            CHECK_EQ_INT(lask__pq_read_rowgroup_masked(f, g, NULL, -1, keep, nkeep, NULL, 0, &masked, err, sizeof err), LASK_OK);
            CHECK_EQ_INT(masked->nrows, nkeep);
            for (int32_t c = 0; c < full->ncols; c++) {
                lask__column *t = lask__column_take(full->cols[c], keep, nkeep);
                if (!same_column(t, masked->cols[c], 0, nkeep)) {
                    fprintf(stderr, "%s row group %d column %s differs\n", names[v], g, full->names[c]);
                    CHECK(0);
                }
                lask__column_unref(t);
            }
            /* a mask claiming more rows than it keeps is an error, not a crash */
            lask__frame *bad;
            CHECK(lask__pq_read_rowgroup_masked(f, g, NULL, -1, keep, nkeep + 1, NULL, 0, &bad, err, sizeof err) != LASK_OK);
            free(keep);
            lask_chunk_unref(&full->h);
            lask_chunk_unref(&masked->h);
        }
        lask__pq_close(f);
    }
}

TEST(masked_reads_of_our_files) {
    /* PLAIN pages without missing values take the straight-from-page path */
    for (int nulls = 0; nulls < 2; nulls++) {
        lask__frame *src = sample_frame(5000, nulls, 10);
        lask__pq_write_opts o = {PQ_CODEC_SNAPPY, 2000, 0, 0};
        uint8_t *buf;
        size_t len;
        char err[512];
        CHECK_EQ_INT(lask__pq_write_mem(src, &o, &buf, &len, err, sizeof err), LASK_OK);
        lask__pq_file *f;
        CHECK_EQ_INT(lask__pq_open_mem("m", buf, (int64_t)len, &f, err, sizeof err), LASK_OK);
        int64_t row0 = 0;
        for (int32_t g = 0; g < f->nrowgroups; g++) {
            int64_t n = f->rowgroups[g].num_rows, nkeep = 0;
            uint8_t *keep = malloc((size_t)n);
            for (int64_t r = 0; r < n; r++) nkeep += keep[r] = r % 3 != 1;
            lask__frame *m;
            CHECK_EQ_INT(lask__pq_read_rowgroup_masked(f, g, NULL, -1, keep, nkeep, buf, (int64_t)len, &m, err, sizeof err), LASK_OK);
            uint8_t *all = calloc((size_t)src->nrows, 1);
            for (int64_t r = 0; r < n; r++) all[row0 + r] = keep[r];
            for (int32_t c = 0; c < src->ncols; c++) {
                lask__column *t = lask__column_take(src->cols[c], all, nkeep);
                CHECK(same_column(t, m->cols[c], 0, nkeep));
                lask__column_unref(t);
            }
            free(all);
            free(keep);
            lask_chunk_unref(&m->h);
            row0 += n;
        }
        lask__pq_close(f);
        free(buf);
        lask_chunk_unref(&src->h);
    }
}

TEST(recycled_buffers_are_refilled) {
    /* a fused kernel's reads: lend, read, recycle; the next read on this
     * thread fills the recycled buffers (no fresh memory) with the right
     * values, and a column still referenced elsewhere is left alone */
    lask__frame *src = sample_frame(300000, 1, 10);
    lask__pq_write_opts o = {PQ_CODEC_SNAPPY, 150000, 1, 0};
    uint8_t *buf;
    size_t len;
    char err[512];
    CHECK_EQ_INT(lask__pq_write_mem(src, &o, &buf, &len, err, sizeof err), LASK_OK);
    lask__pq_file *f;
    CHECK_EQ_INT(lask__pq_open_mem("m", buf, (int64_t)len, &f, err, sizeof err), LASK_OK);
    CHECK_EQ_INT(f->nrowgroups, 2);
    void *seen[8] = {0};
    int nseen = 0, reused = 0;
    lask__column *held = NULL;
    void *held_values = NULL;
    for (int round = 0; round < 4; round++) {
        int32_t g = round % 2;
        int64_t n = f->rowgroups[g].num_rows, nkeep = 0, row0 = g ? f->rowgroups[0].num_rows : 0;
        uint8_t *keep = malloc((size_t)n);
        /* more rows kept each round: the pool's slack must cover them */
        for (int64_t r = 0; r < n; r++) nkeep += keep[r] = (r % 10) < 6 + round;
        lask__pq_lend_begin();
        lask__frame *m;
        CHECK_EQ_INT(lask__pq_read_rowgroup_masked(f, g, NULL, -1, keep, nkeep, buf, (int64_t)len, &m, err, sizeof err), LASK_OK);
        uint8_t *all = calloc((size_t)src->nrows, 1);
        for (int64_t r = 0; r < n; r++) all[row0 + r] = keep[r];
        for (int32_t c = 0; c < src->ncols; c++) {
            lask__column *t = lask__column_take(src->cols[c], all, nkeep);
            if (!same_column(t, m->cols[c], 0, nkeep)) {
                fprintf(stderr, "round %d column %s differs\n", round, src->names[c]);
                CHECK(0);
            }
            lask__column_unref(t);
            for (int k = 0; k < nseen; k++) reused += m->cols[c]->values == seen[k];
        }
        if (round == 1) { held = lask__column_ref(m->cols[1]); held_values = held->values; }
        nseen = 0;
        for (int32_t c = 0; c < m->ncols && nseen < 8; c++) if (m->cols[c] != held) seen[nseen++] = m->cols[c]->values;
        lask__pq_recycle(m);
        if (round == 1) CHECK(held->values == held_values);   /* still referenced: kept */
        lask_chunk_unref(&m->h);
        free(all);
        free(keep);
    }
    CHECK(reused > 0);
    /* the held column is intact after later reads */
    int64_t n0 = f->rowgroups[1].num_rows, nk = 0;
    uint8_t *all = calloc((size_t)src->nrows, 1);
    for (int64_t r = 0; r < n0; r++) nk += all[f->rowgroups[0].num_rows + r] = (r % 10) < 7;
    lask__column *t = lask__column_take(src->cols[1], all, nk);
    CHECK(same_column(t, held, 0, nk));
    lask__column_unref(t);
    lask__column_unref(held);
    free(all);
    /* without lending, recycle leaves the frame alone */
    lask__frame *m;
    CHECK_EQ_INT(lask__pq_read_rowgroup(f, 0, NULL, -1, buf, (int64_t)len, &m, err, sizeof err), LASK_OK);
    void *v0 = m->cols[0]->values;
    lask__pq_recycle(m);
    CHECK(m->cols[0]->values == v0);
    lask_chunk_unref(&m->h);
    lask__pq_close(f);
    free(buf);
    lask_chunk_unref(&src->h);
}

TEST(rle_hybrid_every_width) {
    /* every bit width, runs and bit-packed stretches, read back in pieces
     * of odd sizes (the fast path stops 8 bytes before a run's end) */
    uint64_t seed = 88172645463325252ULL;
    for (int bw = 1; bw <= 32; bw++) {
        int64_t n = 1000 + bw * 37;
        uint32_t *v = malloc(sizeof *v * (size_t)n), *got = malloc(sizeof *got * (size_t)n);
        uint32_t mask = bw == 32 ? UINT32_MAX : (UINT32_C(1) << bw) - 1;
        for (int64_t i = 0; i < n; i++) {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
            v[i] = (i / 50) % 3 == 1 ? v[i > 0 ? i - 1 : 0] & mask : (uint32_t)seed & mask;
        }
        lask__pq_buf b = {0};
        lask__pq_rle_encode(&b, v, n, bw);
        CHECK(!b.oom);
        lask__pq_rle r;
        lask__pq_rle_init(&r, b.p, b.p + b.len, bw);
        int64_t at = 0, piece = 1;
        int ok = 1;
        while (at < n) {
            int64_t k = piece < n - at ? piece : n - at;
            if (lask__pq_rle_read(&r, got + at, k)) { ok = 0; break; }
            at += k;
            piece = piece * 3 % 97 + 1;
        }
        for (int64_t i = 0; ok && i < n; i++) ok = got[i] == v[i];
        if (!ok) fprintf(stderr, "bit width %d: values differ\n", bw);
        CHECK(ok);
        /* asking past the end of the data is an error, not a read past it */
        lask__pq_rle_init(&r, b.p, b.p + b.len, bw);
        uint32_t *more = malloc(sizeof *more * (size_t)(n + 64));
        CHECK(lask__pq_rle_read(&r, more, n + 64) != 0);
        free(more);
        lask__pq_buf_free(&b);
        free(v);
        free(got);
    }
}

/* ------------------------------------------------------------ row filters */

static int64_t count_pass(lask__frame *f, const char *col, const char *op, lask__pq_scalar v) {
    lask__pq_pred p = {col, lask__pq_op_parse(op), 0, 1, &v};
    lask__frame *out;
    char err[256];
    if (lask__pq_check_preds(f, &p, 1, "t", err, sizeof err) != LASK_OK) return -1;
    if (lask__pq_filter(f, &p, 1, NULL, 0, &out, err, sizeof err) != LASK_OK) return -2;
    int64_t n = out->nrows;
    lask_chunk_unref(&out->h);
    return n;
}

TEST(filters_agree_fast_and_general) {
    /* d: 0, 1, ..., 9 and a NaN; i: -5 .. 5. Same data twice: without a
     * validity bitmap (tight loops) and with an all-valid one (general). */
    lask__frame *f[2];
    for (int k = 0; k < 2; k++) {
        f[k] = lask__frame_new(2, 11);
        lask__column *d = lask__column_new(LASK_COL_FLOAT64, 11, 0);
        lask__column *i = lask__column_new(LASK_COL_INT64, 11, 0);
        for (int r = 0; r < 11; r++) {
            ((double *)d->values)[r] = r < 10 ? r : NAN;
            ((int64_t *)i->values)[r] = r - 5;
        }
        if (k) { lask__column_validity(d); lask__column_validity(i); }
        lask__frame_set(f[k], 0, "d", d);
        lask__frame_set(f[k], 1, "i", i);
    }
    const char *ops[] = {"=", "~=", "<", "<=", ">", ">="};
    int64_t want_d[] = {1, 9, 4, 5, 5, 6};   /* vs 4.0; NaN passes nothing */
    int64_t want_i[] = {1, 10, 5, 6, 5, 6};  /* vs 0 */
    for (int o = 0; o < 6; o++)
        for (int k = 0; k < 2; k++) {
            lask__pq_scalar v4 = {PQ_S_FLOAT, 0, 4.0, NULL, 0, 0};
            lask__pq_scalar v0 = {PQ_S_INT, 0, 0, NULL, 0, 0};
            CHECK_EQ_INT(count_pass(f[k], "d", ops[o], v4), want_d[o]);
            CHECK_EQ_INT(count_pass(f[k], "i", ops[o], v0), want_i[o]);
        }
    lask__pq_scalar s = {PQ_S_STRING, 0, 0, "x", 1, 0};
    CHECK_EQ_INT(count_pass(f[0], "d", "=", s), -1);
    CHECK_EQ_INT(count_pass(f[0], "nope", "=", s), -1);
    lask_chunk_unref(&f[0]->h);
    lask_chunk_unref(&f[1]->h);
}

/* Predicates tested page by page give the same rows as lask__pq_mask over
 * the decoded row group: nulls (x), dictionary pages, v2 pages, int columns
 * against floats, bools, timestamps, 'in'. */
TEST(pagewise_preds_match_whole_columns) {
    const char *files[] = {"snappy.parquet", "v2pages.parquet", "rowgroups.parquet", "uncompressed.parquet"};
    lask__pq_scalar f500 = {PQ_S_FLOAT, 0, 500.5, NULL, 0, 0}, i300 = {PQ_S_INT, 300, 0, NULL, 0, 0};
    lask__pq_scalar yes = {PQ_S_BOOL, 1, 0, NULL, 0, 0}, f100 = {PQ_S_FLOAT, 0, 100.5, NULL, 0, 0};
    lask__pq_scalar ts = {PQ_S_INT, (int64_t)1704067200 * 1000000000 + (int64_t)86400 * 1000000000, 0, NULL, 0, 0};
    lask__pq_scalar in3[3] = {{PQ_S_INT, 1, 0, NULL, 0, 0}, {PQ_S_INT, 4000, 0, NULL, 0, 0}, {PQ_S_FLOAT, 0, 7.0, NULL, 0, 0}};
    lask__pq_pred preds[] = {
        {"x", PQ_OP_GT, 0, 1, &f500}, {"id", PQ_OP_LT, 0, 1, &i300},     /* group 0: x > 500.5 and id < 300 */
        {"flag", PQ_OP_EQ, 1, 1, &yes}, {"id", PQ_OP_GE, 1, 1, &f100},   /* or flag and id >= 100.5 */
        {"ts", PQ_OP_LE, 2, 1, &ts},                                     /* or ts <= day 2 */
        {"id", PQ_OP_IN, 3, 3, in3},                                     /* or id in (1, 4000, 7.0) */
    };
    int32_t np = (int32_t)(sizeof preds / sizeof *preds);
    for (size_t fi = 0; fi < sizeof files / sizeof *files; fi++) {
        char p[1200], err[512];
        snprintf(p, sizeof p, "%s/%s", fixdir, files[fi]);
        lask__pq_file *f;
        CHECK_EQ_INT(lask__pq_open(p, &f, err, sizeof err), LASK_OK);
        for (int32_t rg = 0; rg < f->nrowgroups; rg++) {
            lask__frame *fr;
            CHECK_EQ_INT(lask__pq_read_rowgroup(f, rg, NULL, -1, NULL, 0, &fr, err, sizeof err), LASK_OK);
            int64_t n = fr->nrows, total = 0;
            uint8_t *res[6], *keep = malloc((size_t)n + 1), *one = malloc((size_t)n + 1);
            for (int32_t i = 0; i < np; i++) res[i] = malloc((size_t)n + 1);
            CHECK_EQ_INT(lask__pq_rowgroup_preds(f, rg, preds, np, res, err, sizeof err), LASK_OK);
            int64_t nkeep, bad = 0;
            for (int32_t i = 0; i < np; i++) {   /* each predicate alone */
                lask__pq_pred q = preds[i];
                q.group = 0;
                CHECK_EQ_INT(lask__pq_mask(fr, &q, 1, one, &nkeep), LASK_OK);
                for (int64_t r = 0; r < n; r++) { bad += one[r] != res[i][r]; total += res[i][r]; }
            }
            CHECK_EQ_INT(bad, 0);
            CHECK(total > 0);
            CHECK_EQ_INT(lask__pq_mask(fr, preds, np, keep, &nkeep), LASK_OK);
            CHECK(nkeep > 0 && nkeep < n);
            for (int32_t i = 0; i < np; i++) free(res[i]);
            free(keep);
            free(one);
            lask_chunk_unref(&fr->h);
        }
        /* a string column is not tested page by page: an error, not a crash */
        lask__pq_scalar s = {PQ_S_STRING, 0, 0, "a", 1, 0};
        lask__pq_pred sp = {"cat", PQ_OP_EQ, 0, 1, &s};
        uint8_t *r1 = malloc((size_t)f->rowgroups[0].num_rows + 1);
        CHECK(lask__pq_rowgroup_preds(f, 0, &sp, 1, &r1, err, sizeof err) != LASK_OK);
        CHECK_STR_CONTAINS(err, "'cat'");
        free(r1);
        lask__pq_close(f);
    }
}

/* ------------------------------------------------------------ bad input */

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len);
    if (fread(b, 1, (size_t)len, fp) != (size_t)len) { free(b); b = NULL; }
    fclose(fp);
    *n = (size_t)len;
    return b;
}

/* Open + read everything; returns the first failing status. */
static int32_t read_all_mem(const uint8_t *b, size_t n, char *err, size_t errlen) {
    lask__pq_file *f;
    int32_t st = lask__pq_open_mem("bad.parquet", b, (int64_t)n, &f, err, errlen);
    if (st) return st;
    for (int32_t g = 0; g < f->nrowgroups && !st; g++) {
        lask__frame *fr;
        st = lask__pq_read_rowgroup(f, g, NULL, -1, b, (int64_t)n, &fr, err, errlen);
        if (!st) lask_chunk_unref(&fr->h);
    }
    lask__pq_close(f);
    return st;
}

TEST(bad_magic_and_truncation) {
    char p[1200], err[512];
    snprintf(p, sizeof p, "%s/snappy.parquet", fixdir);
    size_t n;
    uint8_t *b = slurp(p, &n);
    CHECK(b != NULL);
    if (!b) return;
    uint8_t *c = malloc(n);
    memcpy(c, b, n);
    c[n - 1] = 'X';
    CHECK_EQ_INT(read_all_mem(c, n, err, sizeof err), LASK_EFORMAT);
    CHECK_STR_CONTAINS(err, "bad magic");
    /* truncated at many points: never a crash, always an error */
    for (size_t cut = 0; cut < n; cut += n / 97 + 1) {
        int32_t st = read_all_mem(b, cut, err, sizeof err);
        CHECK(st != LASK_OK);
    }
    /* footer length past the file */
    memcpy(c, b, n);
    c[n - 8] = 0xff; c[n - 7] = 0xff; c[n - 6] = 0xff; c[n - 5] = 0x7f;
    CHECK_EQ_INT(read_all_mem(c, n, err, sizeof err), LASK_EFORMAT);
    CHECK_STR_CONTAINS(err, "footer length");
    /* a file cut in the middle but keeping a valid-looking tail */
    CHECK(lask__pq_open("/nonexistent/x.parquet", &(lask__pq_file *){NULL}, err, sizeof err) == LASK_EIO);
    CHECK_STR_CONTAINS(err, "/nonexistent/x.parquet");
    free(c);
    free(b);
}

TEST(corrupted_pages_name_the_column) {
    char p[1200], err[512];
    snprintf(p, sizeof p, "%s/snappy.parquet", fixdir);
    size_t n;
    uint8_t *b = slurp(p, &n);
    if (!b) { CHECK(0); return; }
    lask__pq_file *f;
    CHECK_EQ_INT(lask__pq_open_mem("snappy.parquet", b, (int64_t)n, &f, err, sizeof err), LASK_OK);
    /* Scribble over the middle of the label column's chunk. */
    int32_t ci = lask__pq_find(f, "label");
    const lask__pq_chunk *ch = &f->rowgroups[0].chunks[f->cols[ci].leaf];
    int64_t start = ch->dictionary_page_offset > 0 ? ch->dictionary_page_offset : ch->data_page_offset;
    uint8_t *c = malloc(n);
    memcpy(c, b, n);
    for (int64_t k = start + ch->total_compressed_size / 3; k < start + ch->total_compressed_size / 3 + 64; k++)
        c[k] ^= 0x5a;
    lask__frame *fr;
    int32_t st = lask__pq_read_rowgroup(f, 0, (const char *[]){"label"}, 1, c, (int64_t)n, &fr, err, sizeof err);
    CHECK(st != LASK_OK);
    if (st == LASK_OK) lask_chunk_unref(&fr->h);
    else {
        CHECK_STR_CONTAINS(err, "snappy.parquet: row group 1, column 'label'");
    }
    /* Every single-byte corruption of the whole file: errors or data, never
     * a crash (the ASan build checks the reads). Sampled to stay quick. */
    for (size_t k = 0; k < n; k += n / 300 + 1) {
        memcpy(c, b, n);
        c[k] ^= 0xff;
        read_all_mem(c, n, err, sizeof err);
    }
    lask__pq_close(f);
    free(c);
    free(b);
}

TEST(writer_rejects_bad_frames) {
    char err[512];
    uint8_t *buf;
    size_t len;
    lask__frame *f = sample_frame(10, 0, 3);
    lask__pq_write_opts lzo = {PQ_CODEC_LZO, 0, 1, 0};
    CHECK_EQ_INT(lask__pq_write_mem(f, &lzo, &buf, &len, err, sizeof err), LASK_EINVAL);
    CHECK_STR_CONTAINS(err, "unsupported compression LZO");
    free(f->names[1]);
    f->names[1] = strdup("i");   /* a duplicate name */
    CHECK_EQ_INT(lask__pq_write_mem(f, NULL, &buf, &len, err, sizeof err), LASK_EINVAL);
    CHECK_STR_CONTAINS(err, "column 'i': duplicate column name");
    lask_chunk_unref(&f->h);
    lask__frame *g = sample_frame(3, 0, 1);
    CHECK_EQ_INT(lask__pq_write(g, "/nonexistent/dir/x.parquet", NULL, err, sizeof err), LASK_EIO);
    CHECK_STR_CONTAINS(err, "/nonexistent/dir/x.parquet: cannot create");
    lask_chunk_unref(&g->h);
}

int main(void) {
    if (!find_fixtures() || !load_expected()) {
        fprintf(stderr, "parquet fixtures not found (../shared/data/parquet or $LASK_SHARED): fixture tests skipped\n");
        skipped = 9;
    } else {
        RUN(fixture_snappy);
        RUN(fixture_zstd);
        RUN(fixture_gzip);
        RUN(fixture_uncompressed);
        RUN(fixture_rowgroups);
        RUN(fixture_v2pages);
        RUN(fixture_hive);
        RUN(pagewise_preds_match_whole_columns);
        RUN(projection_reads_named_columns);
        RUN(bad_magic_and_truncation);
        RUN(corrupted_pages_name_the_column);
    }
    RUN(types_v1_snappy);
    RUN(types_v2_zstd);
    RUN(types_v2_lz4);
    RUN(types_brotli);
    RUN(types_nodict_v2);
    RUN(nested_columns_named_in_errors);
    RUN(roundtrip_every_codec);
    RUN(roundtrip_nulls_and_row_groups);
    RUN(roundtrip_empty_and_long_strings);
    RUN(writer_statistics_and_dictionary);
    RUN(writer_rejects_bad_frames);
    RUN(filters_agree_fast_and_general);
    RUN(masked_reads_match_full_reads);
    RUN(masked_reads_of_our_files);
    RUN(recycled_buffers_are_refilled);
    RUN(rle_hybrid_every_width);
    if (!skipped) return harness_done();
    printf("%d passed, %d failed, %d skipped\n", harness_passed, harness_failed, skipped);
    return harness_failed ? 1 : 0;
}
