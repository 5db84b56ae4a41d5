/* test_frame.c - column kernels, row kernels, group-by and joins. */
#include <stdlib.h>
#include <math.h>
#include "harness.h"
#include "frame_ops.h"
#include "csvio.h"

static char err[512];

/* A frame from CSV text (the reader is tested on its own in test_csv.c). */
static lask__frame *F(const char *text) {
    lask__csv_opts o;
    lask__csv_opts_init(&o);
    lask__csv_opts_parse(&o, "", 0, err, sizeof err);
    lask__csv_schema s;
    lask__frame *f = NULL;
    int64_t sk;
    if (!lask__csv_infer_mem("t", text, (int64_t)strlen(text), &o, &s, err, sizeof err)) {
        lask__csv_read_mem("t", text, (int64_t)strlen(text), &o, &s, &f, &sk, err, sizeof err);
        lask__csv_schema_free(&s);
    }
    lask__csv_opts_free(&o);
    return f;
}
static lask__column *C(lask__frame *f, const char *name) { return f->cols[lask__frame_find(f, name)]; }
static int64_t I(lask__column *c, int64_t r) { return ((int64_t *)c->values)[r]; }
static double D(lask__column *c, int64_t r) { return ((double *)c->values)[r]; }
static int B(lask__column *c, int64_t r) { return ((uint8_t *)c->values)[r]; }
static int S(lask__column *c, int64_t r, const char *want) {
    const int64_t *o = c->values;
    return (size_t)(o[r + 1] - o[r]) == strlen(want) && !memcmp(c->strdata + o[r], want, strlen(want));
}
static void U(lask__frame *f) { if (f) lask_chunk_unref(&f->h); }

TEST(arith_and_compare) {
    lask__frame *f = F("x,y,s\n1,0.5,a\n2,,b\n3,2.5,c\n");
    lask__column *x = C(f, "x"), *y = C(f, "y");
    lask__column *z = lask__col_binop(LASK__ADD, x, y, NULL, 0);
    CHECK_EQ_INT(z->type, LASK_COL_FLOAT64);
    CHECK(D(z, 0) == 1.5 && D(z, 2) == 5.5);
    CHECK(!lask__column_isvalid(z, 1));
    lask__scalar two = {LASK_COL_INT64, 2, 0, NULL, 0};
    lask__column *m = lask__col_binop(LASK__MUL, x, NULL, &two, 0);
    CHECK_EQ_INT(m->type, LASK_COL_INT64);
    CHECK_EQ_INT(I(m, 2), 6);
    lask__column *d = lask__col_binop(LASK__SUB, x, NULL, &two, 1);  /* 2 - x */
    CHECK_EQ_INT(I(d, 0), 1);
    CHECK_EQ_INT(I(d, 2), -1);
    lask__column *gt = lask__col_binop(LASK__GT, y, NULL, &two, 0);
    CHECK(B(gt, 0) == 0 && B(gt, 1) == 0 && B(gt, 2) == 1);
    lask__column *nt = lask__col_not(gt);
    CHECK(B(nt, 1) == 1);
    lask__scalar str = {LASK_COL_STRING, 0, 0, "b", 1};
    lask__column *eq = lask__col_binop(LASK__EQ, C(f, "s"), NULL, &str, 0);
    CHECK(B(eq, 1) == 1 && B(eq, 0) == 0);
    /* type mismatch is an error with a message */
    CHECK(lask__col_binop(LASK__GT, C(f, "s"), NULL, &two, 0) == NULL);
    CHECK_STR_CONTAINS(lask__frame_errmsg(), "cannot compare a string column with a int64 value");
    CHECK(lask__col_binop(LASK__ADD, C(f, "s"), x, NULL, 0) == NULL);
    lask__scalar zero = {LASK_COL_INT64, 0, 0, NULL, 0};
    lask__column *q = lask__col_binop(LASK__IDIV, x, NULL, &zero, 0);
    CHECK(!lask__column_isvalid(q, 0));
    lask__column_unref(z); lask__column_unref(m); lask__column_unref(d); lask__column_unref(gt);
    lask__column_unref(nt); lask__column_unref(eq); lask__column_unref(q);
    U(f);
}

TEST(na_and_cast) {
    lask__frame *f = F("x,s\n1.5,a\n,b\n-2.5,\n");
    lask__column *na = lask__col_isna(C(f, "x"), 0);
    CHECK(B(na, 0) == 0 && B(na, 1) == 1);
    lask__scalar z = {LASK_COL_FLOAT64, 0, 9.0, NULL, 0};
    lask__column *fl = lask__col_fillna(C(f, "x"), &z);
    CHECK(D(fl, 1) == 9.0 && lask__column_isvalid(fl, 1));
    lask__column *ab = lask__col_abs(C(f, "x"));
    CHECK(D(ab, 2) == 2.5);
    lask__column *r = lask__col_round(C(f, "x"), 0);
    CHECK(D(r, 0) == 2.0 && D(r, 2) == -2.0);
    lask__column *as = lask__col_astype(C(f, "x"), LASK_COL_STRING);
    CHECK(S(as, 0, "1.5"));
    CHECK(!lask__column_isvalid(as, 1));
    lask__column *bad = lask__col_astype(C(f, "s"), LASK_COL_INT64);
    CHECK(bad == NULL);
    CHECK_STR_CONTAINS(lask__frame_errmsg(), "cannot convert 'a' to int64");
    lask__frame *dn = lask__frame_dropna(f, NULL, 0);
    CHECK_EQ_INT(dn->nrows, 1);
    lask__column_unref(na); lask__column_unref(fl); lask__column_unref(ab); lask__column_unref(r); lask__column_unref(as);
    U(dn); U(f);
}

TEST(strings_and_dates) {
    lask__frame *f = F("s\nHello World\ncafé\n\"\"\nab-cd-ef\n");
    lask__column *s = C(f, "s");
    lask__column *len = lask__col_str(LASK__STR_LEN, s, NULL, 0, 0, 0);
    CHECK_EQ_INT(I(len, 1), 4);
    CHECK(!lask__column_isvalid(len, 2));
    lask__column *up = lask__col_str(LASK__STR_UPPER, s, NULL, 0, 0, 0);
    CHECK(S(up, 0, "HELLO WORLD"));
    lask__column *ct = lask__col_str(LASK__STR_CONTAINS, s, "World", 5, 0, 0);
    CHECK(B(ct, 0) == 1 && B(ct, 1) == 0 && B(ct, 2) == 0);
    lask__column *sl = lask__col_str(LASK__STR_SLICE, s, NULL, 0, 2, 3);
    CHECK(S(sl, 1, "af"));
    lask__column *sp = lask__col_str(LASK__STR_SPLIT, s, "-", 1, 2, 0);
    CHECK(S(sp, 3, "cd"));
    CHECK(!lask__column_isvalid(sp, 0));
    lask__column_unref(len); lask__column_unref(up); lask__column_unref(ct); lask__column_unref(sl); lask__column_unref(sp);
    U(f);
    lask__csv_opts o;
    lask__csv_opts_init(&o);
    lask__csv_opts_parse(&o, "date\0t", 7, err, sizeof err);
    const char *text = "t\n2024-03-05T17:30:00\n1999-12-31\n";
    lask__csv_schema sc;
    lask__frame *g = NULL;
    int64_t sk;
    CHECK_EQ_INT(lask__csv_infer_mem("t", text, (int64_t)strlen(text), &o, &sc, err, sizeof err), 0);
    CHECK_EQ_INT(lask__csv_read_mem("t", text, (int64_t)strlen(text), &o, &sc, &g, &sk, err, sizeof err), 0);
    lask__column *y = lask__col_dt(LASK__DT_YEAR, g->cols[0]), *h = lask__col_dt(LASK__DT_HOUR, g->cols[0]);
    lask__column *mo = lask__col_dt(LASK__DT_MONTH, g->cols[0]);
    CHECK_EQ_INT(I(y, 0), 2024);
    CHECK_EQ_INT(I(y, 1), 1999);
    CHECK_EQ_INT(I(mo, 1), 12);
    CHECK_EQ_INT(I(h, 0), 17);
    lask__scalar iso = {LASK_COL_STRING, 0, 0, "2000-01-01", 10};
    lask__column *after = lask__col_binop(LASK__GT, g->cols[0], NULL, &iso, 0);
    CHECK(B(after, 0) == 1 && B(after, 1) == 0);
    lask__column_unref(y); lask__column_unref(h); lask__column_unref(mo); lask__column_unref(after);
    U(g);
    lask__csv_schema_free(&sc);
    lask__csv_opts_free(&o);
}

TEST(rows) {
    lask__frame *f = F("k,v\nb,3\na,1\nc,\na,2\n");
    lask__scalar one = {LASK_COL_INT64, 1, 0, NULL, 0};
    lask__column *m = lask__col_binop(LASK__GT, C(f, "v"), NULL, &one, 0);
    lask__frame *g = lask__frame_filter(f, m);
    CHECK_EQ_INT(g->nrows, 2);
    CHECK(S(C(g, "k"), 0, "b") && S(C(g, "k"), 1, "a"));
    int32_t cols[2] = {0, 1};
    int asc[2] = {1, 0};
    int64_t *ord = lask__frame_argsort(f, cols, asc, 2);
    CHECK(ord[0] == 3 && ord[1] == 1 && ord[2] == 0 && ord[3] == 2);
    free(ord);
    int32_t vcol = 1;
    int up = 0;
    ord = lask__frame_argsort(f, &vcol, &up, 1);
    CHECK(ord[0] == 0 && ord[3] == 2);   /* missing last even descending */
    free(ord);
    lask__frame *parts[3];
    CHECK_EQ_INT(lask__frame_hash_split(f, cols, 1, 3, parts), 0);
    int64_t total = 0;
    for (int p = 0; p < 3; p++) {
        total += parts[p]->nrows;
        /* both 'a' rows land in the same part */
        int na = 0;
        for (int64_t r = 0; r < parts[p]->nrows; r++) na += S(parts[p]->cols[0], r, "a");
        CHECK(na == 0 || na == 2);
    }
    CHECK_EQ_INT(total, 4);
    lask__frame *cat = lask__frame_concat(parts, 3);
    CHECK_EQ_INT(cat->nrows, 4);
    lask__scalar bnd[2] = {{LASK_COL_INT64, 2, 0, NULL, 0}, {LASK_COL_INT64, 3, 0, NULL, 0}};
    lask__frame *rs[3];
    CHECK_EQ_INT(lask__frame_range_split(f, 1, bnd, 2, rs), 0);
    CHECK_EQ_INT(rs[0]->nrows, 1);   /* 1 */
    CHECK_EQ_INT(rs[1]->nrows, 1);   /* 2 */
    CHECK_EQ_INT(rs[2]->nrows, 2);   /* 3 and the missing one */
    for (int p = 0; p < 3; p++) { U(parts[p]); U(rs[p]); }
    const char *sel[1] = {"nope"};
    CHECK(lask__frame_select(f, sel, 1) == NULL);
    CHECK_STR_CONTAINS(lask__frame_errmsg(), "no column 'nope' (columns: k, v)");
    lask__frame *sl = lask__frame_slice(f, 1, 2);
    CHECK_EQ_INT(sl->nrows, 2);
    CHECK_EQ_INT(I(C(sl, "v"), 0), 1);
    lask__column_unref(m);
    U(g); U(cat); U(sl); U(f);
}

TEST(groupby_exact_and_partial) {
    const char *text = "k,x,s\na,1,p\nb,2,q\na,3,p\nb,,r\na,5,q\n,7,z\n";
    lask__frame *f = F(text);
    const char *keys[1] = {"k"};
    lask__agg aggs[] = {{"x", "sum", "xs"}, {"x", "mean", "xm"}, {"x", "count", "xc"}, {NULL, "size", "n"},
                        {"x", "min", "lo"}, {"x", "max", "hi"}, {"x", "std", "sd"}, {"s", "nunique", "u"},
                        {"s", "first", "fs"}, {"s", "last", "ls"}};
    int na = (int)(sizeof aggs / sizeof *aggs);
    lask__frame *g = lask__groupby(f, keys, 1, aggs, na);
    CHECK(g != NULL);
    if (!g) { fprintf(stderr, "%s\n", lask__frame_errmsg()); return; }
    CHECK_EQ_INT(g->nrows, 2);              /* the missing key is dropped */
    CHECK(S(C(g, "k"), 0, "a"));
    CHECK_EQ_INT(I(C(g, "xs"), 0), 9);
    CHECK(D(C(g, "xm"), 0) == 3.0);
    CHECK_EQ_INT(I(C(g, "xc"), 1), 1);
    CHECK_EQ_INT(I(C(g, "n"), 1), 2);
    CHECK_EQ_INT(I(C(g, "lo"), 0), 1);
    CHECK_EQ_INT(I(C(g, "hi"), 0), 5);
    CHECK(fabs(D(C(g, "sd"), 0) - 2.0) < 1e-12);
    CHECK(!lask__column_isvalid(C(g, "sd"), 1));   /* one value, ddof 1 */
    CHECK_EQ_INT(I(C(g, "u"), 0), 2);
    CHECK_EQ_INT(I(C(g, "u"), 1), 2);
    CHECK(S(C(g, "fs"), 0, "p") && S(C(g, "ls"), 0, "q"));
    /* the same through partials of two pieces, combined */
    lask__frame *a = lask__frame_slice(f, 0, 3), *b = lask__frame_slice(f, 3, 3);
    lask__frame *pa = lask__groupby_partial(a, keys, 1, aggs, na), *pb = lask__groupby_partial(b, keys, 1, aggs, na);
    lask__frame *ps[2] = {pa, pb};
    lask__frame *cmb = lask__groupby_combine(ps, 2, keys, 1, aggs, na);
    lask__frame *h = cmb ? lask__groupby_finish(cmb, keys, 1, aggs, na, 1) : NULL;
    CHECK(h != NULL);
    if (h) {
        for (int j = 0; j < g->ncols; j++) {
            lask__column *x = g->cols[j], *y = h->cols[j];
            for (int64_t r = 0; r < g->nrows; r++) {
                lask__scalar u, v;
                lask__col_get(x, r, &u);
                lask__col_get(y, r, &v);
                CHECK(u.type == v.type);
                if (u.type == LASK_COL_FLOAT64) CHECK(fabs(u.f - v.f) < 1e-12);
                else if (u.type == LASK_COL_STRING) CHECK(u.n == v.n && !memcmp(u.s, v.s, u.n));
                else CHECK(u.i == v.i);
            }
        }
    }
    lask__agg bad = {"s", "sum", "z"};
    CHECK(lask__groupby(f, keys, 1, &bad, 1) == NULL);
    CHECK_STR_CONTAINS(lask__frame_errmsg(), "sum needs a numeric column");
    lask__agg unk = {"x", "median", "z"};
    CHECK(lask__groupby(f, keys, 1, &unk, 1) == NULL);
    CHECK_STR_CONTAINS(lask__frame_errmsg(), "unknown aggregation 'median'");
    U(a); U(b); U(pa); U(pb); U(cmb); U(h); U(g); U(f);
}

TEST(reduce) {
    lask__frame *f = F("x\n1\n\n4\n");
    lask__scalar v;
    CHECK_EQ_INT(lask__col_reduce(C(f, "x"), "sum", 1, &v), 0);
    CHECK(v.type == LASK_COL_INT64 && v.i == 5);
    lask__col_reduce(C(f, "x"), "mean", 1, &v);
    CHECK(v.type == LASK_COL_FLOAT64 && v.f == 2.5);
    lask__col_reduce(C(f, "x"), "count", 1, &v);
    CHECK(v.i == 2);
    lask__col_reduce(C(f, "x"), "var", 1, &v);
    CHECK(v.f == 4.5);
    lask__col_reduce(C(f, "x"), "nunique", 1, &v);
    CHECK(v.i == 2);
    U(f);
}

TEST(joins) {
    lask__frame *l = F("k,a\n1,x\n2,y\n3,z\n2,w\n");
    lask__frame *r = F("k,b,a\n2,20,R\n4,40,S\n2,21,T\n");
    const char *k[1] = {"k"};
    lask__frame *in = lask__frame_merge(l, r, k, k, 1, LASK__INNER, "_x", "_y");
    CHECK(in != NULL);
    if (!in) return;
    CHECK_EQ_INT(in->nrows, 4);    /* two left 2s times two right 2s */
    CHECK_EQ_INT(in->ncols, 4);
    CHECK(lask__frame_find(in, "a_x") >= 0 && lask__frame_find(in, "a_y") >= 0);
    CHECK_EQ_INT(I(C(in, "b"), 0), 20);
    CHECK_EQ_INT(I(C(in, "b"), 1), 21);
    lask__frame *le = lask__frame_merge(l, r, k, k, 1, LASK__LEFT, "_x", "_y");
    CHECK_EQ_INT(le->nrows, 6);
    CHECK(!lask__column_isvalid(C(le, "b"), 0));
    lask__frame *ou = lask__frame_merge(l, r, k, k, 1, LASK__OUTER, "_x", "_y");
    CHECK_EQ_INT(ou->nrows, 7);
    CHECK_EQ_INT(I(C(ou, "k"), 6), 4);           /* key filled from the right */
    lask__frame *ri = lask__frame_merge(l, r, k, k, 1, LASK__RIGHT, "_x", "_y");
    CHECK_EQ_INT(ri->nrows, 5);
    lask__frame *s = F("k\na\n");
    CHECK(lask__frame_merge(l, s, k, k, 1, LASK__INNER, "_x", "_y") == NULL);
    CHECK_STR_CONTAINS(lask__frame_errmsg(), "key 'k' is int64 on the left but 'k' is string on the right");
    U(in); U(le); U(ou); U(ri); U(s); U(l); U(r);
}

int main(void) {
    RUN(arith_and_compare);
    RUN(na_and_cast);
    RUN(strings_and_dates);
    RUN(rows);
    RUN(groupby_exact_and_partial);
    RUN(reduce);
    RUN(joins);
    return harness_done();
}
