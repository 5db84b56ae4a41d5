/* test_exec.c - the executors: results, ordering and memory, failures,
 * interrupts, nested computes, worker hooks, several runtimes. */
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "graph.h"
#include "chunk.h"

static lask_arg akey(const char *k) { lask_arg a = {LASK_ARG_KEY, 0, k, {0}}; return a; }
static lask_arg aint(int64_t i) {
    lask_arg a = {LASK_ARG_VALUE, 0, NULL, {0}};
    a.value.type = LASK_INT;
    a.value.u.i = i;
    return a;
}
static lask_compute_opts opts_for(int sync, int nw) {
    lask_compute_opts o = {sync ? LASK_SCHED_SYNC : LASK_SCHED_THREADS, nw, NULL, NULL, NULL};
    return o;
}

/* ---- the benchmark shape: chains of "inc", a tree "add" over their ends */

static int32_t k_inc(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                     lask_value *out, void *ud) {
    (void)ud;
    if (nargs != 1 || args[0].type != LASK_INT) return lask_ctx_error(ctx, "inc wants an integer");
    out->type = LASK_INT;
    out->u.i = args[0].u.i + 1;
    return LASK_OK;
}

/* nchains chains of len incs starting at the chain number, then a binary
 * tree of adds; returns the root key in root. */
static void build_chain_tree(lask_graph *g, int nchains, int len, char *root) {
    char key[64], prev[64];
    char (*ends)[64] = malloc((size_t)nchains * sizeof *ends);
    for (int c = 0; c < nchains; c++) {
        for (int i = 0; i < len; i++) {
            snprintf(key, sizeof key, "inc-%d-%d", c, i);
            lask_arg a = i == 0 ? aint(c) : akey(prev);
            lask_graph_add(g, key, "inc", &a, 1);
            strcpy(prev, key);
        }
        strcpy(ends[c], prev);
    }
    int n = nchains, level = 0;
    while (n > 1) {
        int m = 0;
        for (int i = 0; i < n; i += 2, m++) {
            snprintf(key, sizeof key, "add-%d-%d", level, m);
            lask_arg a[2] = {akey(ends[i]), akey(i + 1 < n ? ends[i + 1] : ends[i])};
            lask_graph_add(g, key, "add", a, i + 1 < n ? 2 : 1);
            strcpy(ends[m], key);
        }
        n = m;
        level++;
    }
    strcpy(root, ends[0]);
    free(ends);
}

static int64_t expected_sum(int nchains, int len) {
    int64_t s = 0;
    for (int c = 0; c < nchains; c++) s += c + len;
    return s;
}

TEST(chain_tree_all_schedulers) {
    lask_runtime *rt = lask_runtime_new(2);
    lask_register_kernel(rt, "inc", k_inc, NULL);
    lask_graph *g = lask_graph_new();
    char root[64];
    build_chain_tree(g, 1000, 100, root);
    CHECK_EQ_INT(lask_graph_size(g), 100000 + 1001);   /* 1000 leaves: 500+250+125+63+32+16+8+4+2+1 adds */
    const char *k = root;
    int cases[][2] = {{1, 0}, {0, 1}, {0, 2}, {0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lask_compute_opts o = opts_for(cases[i][0], cases[i][1]);
        lask_value r = {LASK_NIL, 0, {0}};
        CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
        CHECK_EQ_INT(r.type, LASK_INT);
        CHECK_EQ_INT(r.u.i, expected_sum(1000, 100));
    }
    /* several outputs, one repeated, and an intermediate */
    const char *keys[] = {root, "inc-5-99", root, "inc-0-0"};
    lask_value r[4];
    lask_compute_opts o = opts_for(0, 0);
    CHECK_EQ_INT(lask_compute(rt, g, keys, 4, &o, r), LASK_OK);
    CHECK_EQ_INT(r[0].u.i, expected_sum(1000, 100));
    CHECK_EQ_INT(r[1].u.i, 105);
    CHECK_EQ_INT(r[2].u.i, r[0].u.i);
    CHECK_EQ_INT(r[3].u.i, 1);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

/* Asking for no keys is not an error and runs nothing, on every scheduler. */
TEST(empty_compute) {
    lask_runtime *rt = lask_runtime_new(2);
    lask_graph *g = lask_graph_new();
    lask_value none;
    for (int sched = 0; sched < 2; sched++) {
        lask_compute_opts o = opts_for(sched, 0);
        CHECK_EQ_INT(lask_compute(rt, g, NULL, 0, &o, &none), LASK_OK);
    }
    CHECK_EQ_INT(lask_compute(rt, g, NULL, 0, NULL, NULL), LASK_OK);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

TEST(wide_graph_threads) {
    /* many ready tasks at once: deques grow, thieves steal */
    lask_runtime *rt = lask_runtime_new(2);
    lask_register_kernel(rt, "inc", k_inc, NULL);
    lask_graph *g = lask_graph_new();
    int n = 20000;
    lask_arg *items = malloc((size_t)(n + 1) * sizeof *items);
    char (*keys)[32] = malloc((size_t)n * sizeof *keys);
    items[0].kind = LASK_ARG_LIST;
    items[0].n = n;
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], 32, "w-%d", i);
        lask_arg a = aint(i);
        lask_graph_add(g, keys[i], "inc", &a, 1);
        items[i + 1] = akey(keys[i]);
    }
    lask_graph_add(g, "total", "sum", items, n + 1);
    const char *k = "total";
    for (int nw = 1; nw <= 2; nw++) {
        lask_compute_opts o = opts_for(0, nw);
        lask_value r;
        CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
        CHECK_EQ_INT(r.u.i, (int64_t)n * (n + 1) / 2);
    }
    lask_graph_free(g);
    /* fan-out: one task with n dependents, all ready at once on one worker
     * (its deque grows from 64 slots; the other worker steals) */
    g = lask_graph_new();
    lask_graph_add(g, "root", "inc", (lask_arg[]){aint(0)}, 1);
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], 32, "f-%d", i);
        lask_graph_add(g, keys[i], "add", (lask_arg[]){akey("root"), aint(i)}, 2);
        items[i + 1] = akey(keys[i]);
    }
    lask_graph_add(g, "total", "sum", items, n + 1);
    for (int nw = 1; nw <= 2; nw++) {
        lask_compute_opts o = opts_for(0, nw);
        lask_value r;
        CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
        CHECK_EQ_INT(r.u.i, (int64_t)n * (n - 1) / 2 + n);
    }
    free(items);
    free(keys);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

/* ---- memory: chunks made by tasks are counted while alive */

typedef struct live {
    atomic_int now, peak, made;
} live;

static live LIVE;

static void host_free(void *p) {
    (void)p;
    atomic_fetch_sub(&LIVE.now, 1);
}

/* mk(prev or int): a new host chunk (1 KB accounted) */
static int32_t k_mk(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                    lask_value *out, void *ud) {
    (void)args; (void)nargs; (void)ud;
    lask_chunk *c = lask_host_new(NULL, 1024, host_free);
    if (!c) return lask_ctx_error(ctx, "out of memory");
    int now = atomic_fetch_add(&LIVE.now, 1) + 1;
    atomic_fetch_add(&LIVE.made, 1);
    int peak = atomic_load(&LIVE.peak);
    while (now > peak && !atomic_compare_exchange_weak(&LIVE.peak, &peak, now)) {}
    out->type = LASK_CHUNK;
    out->u.c = c;
    return LASK_OK;
}

/* count(...): how many chunk arguments (lists included) */
static int32_t k_nchunks(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                         lask_value *out, void *ud) {
    (void)ctx; (void)ud;
    int64_t n = 0;
    for (int32_t i = 0; i < nargs; i++) n += args[i].type == LASK_CHUNK;
    out->type = LASK_INT;
    out->u.i = n;
    return LASK_OK;
}

TEST(intermediates_are_freed) {
    lask_runtime *rt = lask_runtime_new(2);
    lask_register_kernel(rt, "mk", k_mk, NULL);
    lask_register_kernel(rt, "nchunks", k_nchunks, NULL);
    lask_graph *g = lask_graph_new();
    char key[64], prev[64];
    int nchains = 200, len = 50;
    lask_arg *ends = malloc((size_t)nchains * sizeof *ends);
    char (*endk)[64] = malloc((size_t)nchains * sizeof *endk);
    for (int c = 0; c < nchains; c++) {
        for (int i = 0; i < len; i++) {
            snprintf(key, sizeof key, "mk-%d-%d", c, i);
            lask_arg a = i == 0 ? aint(c) : akey(prev);
            lask_graph_add(g, key, "mk", &a, 1);
            strcpy(prev, key);
        }
        /* reduce each chain to a number so the chunks can go */
        snprintf(endk[c], 64, "n-%d", c);
        lask_arg a = akey(prev);
        lask_graph_add(g, endk[c], "nchunks", &a, 1);
        ends[c] = akey(endk[c]);
    }
    lask_graph_add(g, "total", "add", ends, nchains);
    const char *k = "total";
    for (int sync = 1; sync >= 0; sync--) {
        atomic_store(&LIVE.peak, 0);
        atomic_store(&LIVE.made, 0);
        lask_compute_opts o = opts_for(sync, 0);
        lask_value r;
        CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
        CHECK_EQ_INT(r.u.i, nchains);
        CHECK_EQ_INT(atomic_load(&LIVE.made), nchains * len);
        CHECK_EQ_INT(atomic_load(&LIVE.now), 0);
        /* depth-first: a chain holds at most two chunks at a time, per worker */
        CHECK(atomic_load(&LIVE.peak) <= (sync ? 2 : 4));
    }
    /* an output that is a chunk stays alive, the rest goes */
    const char *k2 = "mk-3-49";
    lask_value r;
    lask_compute_opts o = opts_for(0, 0);
    CHECK_EQ_INT(lask_compute(rt, g, &k2, 1, &o, &r), LASK_OK);
    CHECK_EQ_INT(r.type, LASK_CHUNK);
    CHECK_EQ_INT(atomic_load(&LIVE.now), 1);
    lask_value_clear(&r);
    CHECK_EQ_INT(atomic_load(&LIVE.now), 0);
    free(ends);
    free(endk);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

/* ---- failures */

static atomic_int RAN;

static int32_t k_slow(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                      lask_value *out, void *ud) {
    (void)ctx; (void)args; (void)nargs; (void)ud;
    atomic_fetch_add(&RAN, 1);
    usleep(200);
    out->type = LASK_INT;
    out->u.i = 1;
    return LASK_OK;
}

static int32_t k_boom(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                      lask_value *out, void *ud) {
    (void)args; (void)nargs; (void)ud; (void)out;
    char msg[128];
    snprintf(msg, sizeof msg, "boom in %s", lask_ctx_key(ctx));
    return lask_ctx_error(ctx, msg);
}

static int32_t k_status(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                        lask_value *out, void *ud) {
    (void)ctx; (void)args; (void)nargs; (void)ud; (void)out;
    return LASK_EIO;   /* fails without a message */
}

/* n slow independent tasks; a failing one at position bad; their sum */
static void build_failing(lask_graph *g, int n, int bad, const char *kernel) {
    lask_arg *items = malloc((size_t)(n + 1) * sizeof *items);
    char (*keys)[32] = malloc((size_t)n * sizeof *keys);
    items[0].kind = LASK_ARG_LIST;
    items[0].n = n;
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], 32, "t-%d", i);
        lask_arg a = aint(i);
        lask_graph_add(g, keys[i], i == bad ? kernel : "slow", &a, 1);
        items[i + 1] = akey(keys[i]);
    }
    lask_graph_add(g, "total", "sum", items, n + 1);
    free(items);
    free(keys);
}

TEST(first_failure_stops_compute) {
    lask_runtime *rt = lask_runtime_new(2);
    lask_register_kernel(rt, "slow", k_slow, NULL);
    lask_register_kernel(rt, "boom", k_boom, NULL);
    lask_register_kernel(rt, "status", k_status, NULL);
    for (int sync = 0; sync <= 1; sync++) {
        lask_graph *g = lask_graph_new();
        build_failing(g, 2000, 20, "boom");
        atomic_store(&RAN, 0);
        const char *k = "total";
        lask_value r;
        lask_compute_opts o = opts_for(sync, 0);
        CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_ETASK);
        CHECK_STR_CONTAINS(lask_runtime_error(rt), "task 't-20' failed: boom in t-20");
        CHECK_EQ_INT(r.type, LASK_NIL);
        CHECK(atomic_load(&RAN) < 1000);   /* the rest was dropped */
        lask_graph_free(g);
    }
    lask_graph *g = lask_graph_new();
    build_failing(g, 10, 3, "status");
    const char *k = "total";
    lask_value r;
    lask_compute_opts o = opts_for(0, 0);
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_ETASK);
    CHECK_STR_CONTAINS(lask_runtime_error(rt), "task 't-3' failed: kernel 'status' returned status 9");
    /* the runtime is still usable */
    lask_graph_add(g, "ok", "add", (lask_arg[]){aint(1), aint(2)}, 2);
    k = "ok";
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
    CHECK_EQ_INT(r.u.i, 3);
    /* the builtin error kernel */
    lask_chunk *m = lask_bytes_new("custom message", 14);
    lask_arg e = {LASK_ARG_VALUE, 0, NULL, {LASK_CHUNK, 0, {.c = m}}};
    lask_graph_add(g, "err", "error", &e, 1);
    lask_chunk_unref(m);
    k = "err";
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_ETASK);
    CHECK_STR_CONTAINS(lask_runtime_error(rt), "task 'err' failed: custom message");
    lask_graph_free(g);
    lask_runtime_free(rt);
}

typedef struct irq { lask_runtime *rt; int ms; } irq;

static void *interrupter(void *arg) {
    irq *q = arg;
    usleep((useconds_t)q->ms * 1000);
    lask_runtime_interrupt(q->rt);
    return NULL;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static lask_runtime *SIG_RT;
static void on_alarm(int sig) {
    (void)sig;
    lask_runtime_interrupt(SIG_RT);
}

TEST(interrupt_stops_compute) {
    lask_runtime *rt = lask_runtime_new(2);
    lask_register_kernel(rt, "slow", k_slow, NULL);
    lask_graph *g = lask_graph_new();
    build_failing(g, 20000, -1, "slow");   /* ~4 s of work */
    for (int sync = 0; sync <= 1; sync++) {
        atomic_store(&RAN, 0);
        irq q = {rt, 30};
        pthread_t th;
        pthread_create(&th, NULL, interrupter, &q);
        const char *k = "total";
        lask_value r;
        lask_compute_opts o = opts_for(sync, 0);
        double t0 = now_s();
        CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_EINTR);
        CHECK(now_s() - t0 < 1.5);
        CHECK_STR_CONTAINS(lask_runtime_error(rt), "interrupted");
        CHECK(atomic_load(&RAN) < 20000);
        pthread_join(th, NULL);
    }
    /* from a signal handler, as the REPL does on Ctrl-C */
    SIG_RT = rt;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &it, NULL);
    {
        const char *k = "total";
        lask_value r;
        lask_compute_opts o = opts_for(0, 0);
        double t0 = now_s();
        CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_EINTR);
        CHECK(now_s() - t0 < 1.5);
    }
    signal(SIGALRM, SIG_DFL);
    /* an interrupt between computes does not hit the next one */
    lask_runtime_interrupt(rt);
    lask_graph_add(g, "ok", "add", (lask_arg[]){aint(1), aint(2)}, 2);
    const char *k = "ok";
    lask_value r;
    lask_compute_opts o = opts_for(0, 0);
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

/* ---- nested computes, worker hooks, progress */

static int32_t k_nested(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                        lask_value *out, void *ud) {
    (void)nargs; (void)ud;
    lask_runtime *rt = lask_ctx_runtime(ctx);
    lask_graph *g = lask_graph_new();
    lask_graph_add(g, "x", "add", (lask_arg[]){aint(args[0].u.i), aint(1000)}, 2);
    lask_graph_add(g, "y", "add", (lask_arg[]){akey("x"), akey("x")}, 2);
    const char *k = "y";
    lask_compute_opts o = opts_for(0, 0);   /* asks for threads: must not deadlock */
    int32_t st = lask_compute(rt, g, &k, 1, &o, out);
    lask_graph_free(g);
    return st == LASK_OK ? LASK_OK : lask_ctx_error(ctx, lask_runtime_error(rt));
}

TEST(nested_compute) {
    lask_runtime *rt = lask_runtime_new(2);
    lask_register_kernel(rt, "nested", k_nested, NULL);
    lask_graph *g = lask_graph_new();
    build_failing(g, 200, 0, "nested");
    /* replace the slow ones: every task nested */
    lask_graph_free(g);
    g = lask_graph_new();
    lask_arg items[201];
    char keys[200][16];
    items[0].kind = LASK_ARG_LIST;
    items[0].n = 200;
    int64_t want = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(keys[i], 16, "n-%d", i);
        lask_graph_add(g, keys[i], "nested", (lask_arg[]){aint(i)}, 1);
        items[i + 1] = akey(keys[i]);
        want += 2 * (i + 1000);
    }
    lask_graph_add(g, "total", "sum", items, 201);
    const char *k = "total";
    for (int sync = 0; sync <= 1; sync++) {
        lask_value r;
        lask_compute_opts o = opts_for(sync, 0);
        CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
        CHECK_EQ_INT(r.u.i, want);
    }
    lask_graph_free(g);
    lask_runtime_free(rt);
}

typedef struct hooks { atomic_int inits, finis; int data[8]; } hooks;

static int32_t k_whoami(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                        lask_value *out, void *ud);

static void *h_init(lask_runtime *rt, int32_t worker, void *ud) {
    hooks *h = ud;
    /* a worker may register kernels (as the Lua bridge's kind modules do) */
    lask_register_kernel(rt, "whoami", k_whoami, NULL);
    atomic_fetch_add(&h->inits, 1);
    h->data[worker] = 100 + worker;
    return &h->data[worker];
}

static void h_fini(void *wd, void *ud) {
    hooks *h = ud;
    if (wd) atomic_fetch_add(&h->finis, 1);
}

/* whoami(): worker data's value (100 + worker), or -1 under sync */
static int32_t k_whoami(lask_ctx *ctx, const lask_value *args, int32_t nargs,
                        lask_value *out, void *ud) {
    (void)args; (void)nargs; (void)ud;
    int *d = lask_ctx_worker_data(ctx);
    int w = lask_ctx_worker(ctx);
    if (w >= 0 && (!d || *d != 100 + w)) return lask_ctx_error(ctx, "wrong worker data");
    out->type = LASK_INT;
    out->u.i = d ? *d : -1;
    return LASK_OK;
}

static void progress(int64_t done, int64_t total, void *ud) {
    int64_t *p = ud;
    if (done < p[0] || total != p[2]) p[3] = 1;   /* went backwards or wrong total */
    p[0] = done;
    p[1]++;
}

TEST(worker_hooks_and_progress) {
    hooks h;
    memset(&h, 0, sizeof h);
    lask_runtime *rt = lask_runtime_new(3);
    CHECK_EQ_INT(lask_runtime_nthreads(rt), 3);
    CHECK_EQ_INT(lask_runtime_set_worker_hooks(rt, h_init, h_fini, &h), LASK_OK);
    lask_register_kernel(rt, "whoami", k_whoami, NULL);
    lask_graph *g = lask_graph_new();
    lask_arg items[101];
    char keys[100][16];
    items[0].kind = LASK_ARG_LIST;
    items[0].n = 100;
    for (int i = 0; i < 100; i++) {
        snprintf(keys[i], 16, "who-%d", i);
        lask_graph_add(g, keys[i], "whoami", (lask_arg[]){aint(i)}, 1);
        items[i + 1] = akey(keys[i]);
    }
    lask_graph_add(g, "n", "len", items, 101);
    const char *k = "n";
    int64_t p[4] = {0, 0, 101, 0};
    lask_compute_opts o = opts_for(0, 0);
    o.progress = progress;
    o.progress_ud = p;
    lask_value r;
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
    CHECK_EQ_INT(r.u.i, 100);
    CHECK_EQ_INT(p[0], 101);   /* done == total at the end */
    CHECK(p[1] >= 2);
    CHECK_EQ_INT(p[3], 0);
    CHECK_EQ_INT(atomic_load(&h.inits), 3);
    /* too late to change hooks */
    CHECK_EQ_INT(lask_runtime_set_worker_hooks(rt, NULL, NULL, NULL), LASK_EINVAL);
    /* progress under sync */
    int64_t ps[4] = {0, 0, 101, 0};
    o = opts_for(1, 0);
    o.progress = progress;
    o.progress_ud = ps;
    k = "n";
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
    CHECK_EQ_INT(ps[0], 101);
    CHECK(ps[1] >= 2);
    CHECK_EQ_INT(ps[3], 0);
    /* sync: the caller's worker data, worker -1 */
    int mine = 99;
    o = opts_for(1, 0);
    o.sync_worker_data = &mine;
    k = "who-1";
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
    CHECK_EQ_INT(r.u.i, 99);
    lask_graph_free(g);
    lask_runtime_free(rt);
    CHECK_EQ_INT(atomic_load(&h.finis), 3);
}

/* ---- several runtimes at once */

typedef struct par { int64_t result; int32_t st; int nw; } par;

static void *run_one(void *arg) {
    par *p = arg;
    lask_runtime *rt = lask_runtime_new(2);
    lask_register_kernel(rt, "inc", k_inc, NULL);
    lask_graph *g = lask_graph_new();
    char root[64];
    build_chain_tree(g, 100, 50, root);
    const char *k = root;
    lask_value r = {LASK_NIL, 0, {0}};
    lask_compute_opts o = opts_for(0, p->nw);
    p->st = lask_compute(rt, g, &k, 1, &o, &r);
    p->result = r.u.i;
    lask_graph_free(g);
    lask_runtime_free(rt);
    return NULL;
}

TEST(several_runtimes) {
    pthread_t th[3];
    par ps[3] = {{0, -1, 1}, {0, -1, 2}, {0, -1, 0}};
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, run_one, &ps[i]);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(ps[i].st, LASK_OK);
        CHECK_EQ_INT(ps[i].result, expected_sum(100, 50));
    }
}

/* A runtime recycles its compute buffers: big and small graphs, failures
 * in between, graphs freed between computes (stale entries would be
 * use-after-free under ASan, or wrong dedup). */
TEST(buffers_recycle_between_computes) {
    lask_runtime *rt = lask_runtime_new(2);
    lask_register_kernel(rt, "inc", k_inc, NULL);
    lask_graph *big = lask_graph_new();
    char root[64];
    build_chain_tree(big, 200, 100, root);
    const char *k = root;
    lask_value r;
    for (int round = 0; round < 30; round++) {
        if (round % 10 == 0) {
            lask_compute_opts o = opts_for(round % 20 == 0, 0);
            CHECK_EQ_INT(lask_compute(rt, big, &k, 1, &o, &r), LASK_OK);
            CHECK_EQ_INT(r.u.i, expected_sum(200, 100));
        }
        lask_graph *g = lask_graph_new();
        lask_graph_add(g, "a", "inc", (lask_arg[]){aint(round)}, 1);
        lask_graph_add(g, "b", "add", (lask_arg[]){akey("a"), akey("a")}, 2);
        if (round % 3 == 1) lask_graph_add(g, "c", "add", (lask_arg[]){akey("b"), akey("c")}, 2);
        else if (round % 3 == 2) lask_graph_add(g, "c", "add", (lask_arg[]){akey("b"), akey("zz")}, 2);
        else lask_graph_add(g, "c", "add", (lask_arg[]){akey("b"), akey("a")}, 2);
        const char *kc = "c";
        lask_compute_opts o = opts_for(round % 2, 0);
        int32_t st = lask_compute(rt, g, &kc, 1, &o, &r);
        CHECK_EQ_INT(st, round % 3 == 1 ? LASK_ECYCLE : round % 3 == 2 ? LASK_ENOKEY : LASK_OK);
        if (st == LASK_OK) CHECK_EQ_INT(r.u.i, 3 * (round + 1));
        lask_graph_free(g);
    }
    lask_graph_free(big);
    lask_runtime_free(rt);
}

/* Out of memory is a status, never an abort: with the address space capped
 * just above what is in use, a big compute fails with LASK_ENOMEM, and works
 * again once memory is back. Runs in a child process (the cap is process
 * wide); sanitizers reserve huge shadow mappings, so it is skipped there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
TEST(out_of_memory_is_a_status) {}
#else
static long vm_bytes(void) {
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) { if (fscanf(f, "%ld", &pages) != 1) pages = 0; fclose(f); }
    return pages * sysconf(_SC_PAGESIZE);
}

static int oom_child(void) {
    lask_runtime *rt = lask_runtime_new(2);
    lask_register_kernel(rt, "inc", k_inc, NULL);
    lask_graph *g = lask_graph_new();
    char root[64];
    build_chain_tree(g, 2000, 100, root);
    const char *k = root;
    lask_value r;
    lask_compute_opts o = opts_for(0, 0);
    /* start the pool first: its thread stacks are not what we test */
    lask_graph_add(g, "one", "add", (lask_arg[]){aint(1)}, 1);
    const char *one = "one";
    if (lask_compute(rt, g, &one, 1, &o, &r) != LASK_OK) return 10;
    struct rlimit old, lim;
    getrlimit(RLIMIT_AS, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)vm_bytes() + (4 << 20);
    if (setrlimit(RLIMIT_AS, &lim) != 0) return 11;
    for (int sync = 0; sync <= 1; sync++) {
        o = opts_for(sync, 0);
        int32_t st = lask_compute(rt, g, &k, 1, &o, &r);
        if (st != LASK_ENOMEM) return 12 + sync;
        if (!strstr(lask_runtime_error(rt), "out of memory")) return 14;
        if (r.type != LASK_NIL) return 15;
    }
    /* graph building fails the same way */
    int32_t st = LASK_OK;
    char key[32];
    for (int i = 0; i < 10000000 && st == LASK_OK; i++) {
        snprintf(key, sizeof key, "more-%d", i);
        st = lask_graph_add(g, key, "inc", (lask_arg[]){aint(i)}, 1);
    }
    if (st != LASK_ENOMEM || !strstr(lask_graph_error(g), "out of memory")) return 16;
    setrlimit(RLIMIT_AS, &old);
    o = opts_for(0, 0);
    if (lask_compute(rt, g, &k, 1, &o, &r) != LASK_OK || r.u.i != expected_sum(2000, 100)) return 17;
    lask_graph_free(g);
    lask_runtime_free(rt);
    return 0;
}

TEST(out_of_memory_is_a_status) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(oom_child());
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
}
#endif

/* Kernels registered from another thread while computes run. */
typedef struct reg { lask_runtime *rt; atomic_int stop; } reg;

static void *registrar(void *arg) {
    reg *g = arg;
    char name[32];
    for (int i = 0; !atomic_load(&g->stop); i++) {
        snprintf(name, sizeof name, "k-%d", i % 500);
        lask_register_kernel(g->rt, name, k_inc, NULL);
        lask_register_kernel(g->rt, "inc", k_inc, NULL);   /* replaces: same fn */
    }
    return NULL;
}

TEST(register_while_computing) {
    lask_runtime *rt = lask_runtime_new(2);
    lask_register_kernel(rt, "inc", k_inc, NULL);
    lask_graph *g = lask_graph_new();
    char root[64];
    build_chain_tree(g, 50, 20, root);
    reg rg = {rt, 0};
    pthread_t th;
    pthread_create(&th, NULL, registrar, &rg);
    const char *k = root;
    for (int i = 0; i < 20; i++) {
        lask_compute_opts o = opts_for(i % 2, 0);
        lask_value r;
        CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_OK);
        CHECK_EQ_INT(r.u.i, expected_sum(50, 20));
    }
    atomic_store(&rg.stop, 1);
    pthread_join(th, NULL);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

TEST(bad_compute_args) {
    lask_runtime *rt = lask_runtime_new(1);
    lask_graph *g = lask_graph_new();
    lask_graph_add(g, "a", "noop", NULL, 0);
    const char *k = "a";
    lask_value r;
    lask_compute_opts o = {7, 0, NULL, NULL, NULL};
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, &o, &r), LASK_EINVAL);
    CHECK_STR_CONTAINS(lask_runtime_error(rt), "scheduler");
    CHECK_EQ_INT(lask_compute(rt, NULL, &k, 1, NULL, &r), LASK_EINVAL);
    const char *nul = NULL;
    CHECK_EQ_INT(lask_compute(rt, g, &nul, 1, NULL, &r), LASK_EINVAL);
    CHECK_EQ_INT(lask_compute(rt, g, &k, 1, NULL, &r), LASK_OK);
    CHECK_EQ_INT(r.type, LASK_NIL);
    CHECK_EQ_INT(lask_compute(rt, g, &k, 0, NULL, &r), LASK_OK);
    lask_graph_free(g);
    lask_runtime_free(rt);
}

int main(void) {
    RUN(chain_tree_all_schedulers);
    RUN(empty_compute);
    RUN(wide_graph_threads);
    RUN(intermediates_are_freed);
    RUN(first_failure_stops_compute);
    RUN(interrupt_stops_compute);
    RUN(nested_compute);
    RUN(worker_hooks_and_progress);
    RUN(several_runtimes);
    RUN(buffers_recycle_between_computes);
    RUN(register_while_computing);
    RUN(out_of_memory_is_a_status);
    RUN(bad_compute_args);
    return harness_done();
}
