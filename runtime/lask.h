/*
 * lask.h - the whole public C API of the lask runtime.
 *
 * Everything between the include lines and the closing guard must load with
 * LuaJIT's ffi.cdef unchanged once tools/cdef.sh has stripped the guard and
 * the #include lines: opaque handles, plain functions, fixed-width integers,
 * enums with explicit values; no macros, varargs, inline functions or
 * bit-fields below this comment.
 *
 * Conventions
 *  - Functions that can fail return an int32_t status (LASK_OK == 0) or NULL;
 *    the message of the last failure on a runtime is lask_runtime_error().
 *  - Chunks are reference counted; a function that returns a chunk hands the
 *    caller one reference, to be dropped with lask_chunk_unref().
 *  - lask_value is a small tagged value. Values given to a kernel are
 *    borrowed; the value a kernel stores in *out belongs to the runtime.
 *  - Several runtimes may live in one process; none shares state with another.
 */
#ifndef LASK_H
#define LASK_H

#include <stddef.h>
#include <stdint.h>

typedef struct lask_runtime lask_runtime;
typedef struct lask_chunk lask_chunk;
typedef struct lask_graph lask_graph;
typedef struct lask_ctx lask_ctx;

/* Status codes returned by every fallible call. */
typedef enum lask_status {
    LASK_OK = 0,
    LASK_EINVAL = 1,     /* a bad argument */
    LASK_ENOMEM = 2,     /* an allocation failed */
    LASK_ENOKEY = 3,     /* a task names a key the graph does not hold */
    LASK_ECYCLE = 4,     /* the graph has a dependency cycle */
    LASK_ETASK = 5,      /* a task failed; the message names its key */
    LASK_EINTR = 6,      /* interrupted by lask_runtime_interrupt() */
    LASK_ENOKERNEL = 7,  /* no kernel of that name is registered */
    LASK_EDUPKEY = 8,    /* a key was added twice with different work */
    LASK_EIO = 9,        /* a file could not be read or written */
    LASK_EFORMAT = 10    /* malformed input data */
} lask_status;

/* Short English name of a status code ("missing key", ...). */
const char *lask_status_string(int32_t status);

/* ---------------------------------------------------------------- values */

typedef enum lask_type {
    LASK_NIL = 0,
    LASK_BOOL = 1,
    LASK_INT = 2,
    LASK_FLOAT = 3,
    LASK_CHUNK = 4,  /* u.c: a chunk reference */
    LASK_LIST = 5    /* u.items[0 .. len-1]: a list of values (task arguments) */
} lask_type;

typedef struct lask_value {
    int32_t type;    /* lask_type */
    int32_t len;     /* LASK_LIST: number of items */
    union {
        int64_t i;   /* LASK_INT, and LASK_BOOL (0 or 1) */
        double f;
        lask_chunk *c;
        const struct lask_value *items;
    } u;
} lask_value;

/* Drop what a value owns (a chunk reference) and set it to nil. Lists are
 * never owned by a value: they exist only as borrowed kernel arguments. */
void lask_value_clear(lask_value *v);

/* ---------------------------------------------------------------- chunks */

typedef enum lask_kind {
    LASK_KIND_BYTES = 0,    /* a byte string (Lua strings, blobs) */
    LASK_KIND_ENCODED = 1,  /* a Lua value in the lask value encoding */
    LASK_KIND_NDARRAY = 2,  /* a typed n-d block */
    LASK_KIND_FRAME = 3,    /* named typed columns */
    LASK_KIND_HOST = 4      /* a host's own data, freed by its callback */
} lask_kind;

lask_chunk *lask_chunk_ref(lask_chunk *c);
void lask_chunk_unref(lask_chunk *c);
int32_t lask_chunk_kind(const lask_chunk *c);
/* Bytes the chunk accounts for (its buffers, shared ones included). */
int64_t lask_chunk_nbytes(const lask_chunk *c);

/* A bytes chunk holding a copy of data[0..n-1]; NULL when out of memory. */
lask_chunk *lask_bytes_new(const void *data, int64_t n);
/* Pointer to the bytes (NUL-terminated for convenience) and their count. */
const char *lask_bytes_data(const lask_chunk *c, int64_t *n);

/* A host chunk wrapping ptr; free_fn(ptr) runs when the last reference goes. */
lask_chunk *lask_host_new(void *ptr, int64_t nbytes, void (*free_fn)(void *ptr));
void *lask_host_ptr(const lask_chunk *c);

/* ---- ndarray chunks: dtype, shape, byte strides, data */

typedef enum lask_dtype {
    LASK_F64 = 0,
    LASK_F32 = 1,
    LASK_I64 = 2,
    LASK_I32 = 3,
    LASK_U8 = 4,
    LASK_BOOL8 = 5   /* one byte per value, 0 or 1 */
} lask_dtype;

/* Size in bytes of one element of dtype (0 for an unknown dtype). */
int32_t lask_dtype_size(int32_t dtype);
/* A new C-contiguous, zero-filled array; ndim from 0 to 32. */
lask_chunk *lask_ndarray_new(int32_t dtype, int32_t ndim, const int64_t *shape);
int32_t lask_ndarray_dtype(const lask_chunk *c);
int32_t lask_ndarray_ndim(const lask_chunk *c);
const int64_t *lask_ndarray_shape(const lask_chunk *c);
const int64_t *lask_ndarray_strides(const lask_chunk *c);  /* in bytes */
int64_t lask_ndarray_size(const lask_chunk *c);            /* element count */
void *lask_ndarray_data(const lask_chunk *c);

/* ---- frame chunks: named typed columns with validity bitmaps */

typedef enum lask_coltype {
    LASK_COL_INT64 = 0,
    LASK_COL_FLOAT64 = 1,
    LASK_COL_BOOL = 2,       /* one byte per value, 0 or 1 */
    LASK_COL_STRING = 3,     /* UTF-8: int64 offsets[n+1] into bytes */
    LASK_COL_TIMESTAMP = 4   /* int64 nanoseconds since the epoch, UTC */
} lask_coltype;

int32_t lask_frame_ncols(const lask_chunk *c);
int64_t lask_frame_nrows(const lask_chunk *c);
/* Column i (0-based) of a frame: its name and type; -1/NULL when out of range. */
const char *lask_frame_colname(const lask_chunk *c, int32_t i);
int32_t lask_frame_coltype(const lask_chunk *c, int32_t i);
/* Values of column i: int64_t*, double* or uint8_t* per type; for strings
 * the int64_t offsets (nrows + 1 of them). */
const void *lask_frame_values(const lask_chunk *c, int32_t i);
/* String bytes of column i (NULL for other types). */
const char *lask_frame_strdata(const lask_chunk *c, int32_t i);
/* Validity bitmap of column i, bit r (LSB first) set when row r is present;
 * NULL when every row is present. */
const uint8_t *lask_frame_validity(const lask_chunk *c, int32_t i);

/* --------------------------------------------------------------- runtime */

/* A runtime with a pool of nthreads worker threads (0: one per core). */
lask_runtime *lask_runtime_new(int32_t nthreads);
void lask_runtime_free(lask_runtime *rt);
int32_t lask_runtime_nthreads(const lask_runtime *rt);
/* Message of the last failure on this runtime (never NULL). */
const char *lask_runtime_error(const lask_runtime *rt);
/* Ask the running compute to stop; safe to call from a signal handler. */
void lask_runtime_interrupt(lask_runtime *rt);

/* Per-worker state: init runs once in each pool thread before its first
 * task and returns that worker's data; fini runs when the pool stops. The
 * Lua bridge keeps one Lua state per worker this way. */
typedef void *(*lask_worker_init_fn)(lask_runtime *rt, int32_t worker, void *ud);
typedef void (*lask_worker_fini_fn)(void *worker_data, void *ud);
int32_t lask_runtime_set_worker_hooks(lask_runtime *rt, lask_worker_init_fn init,
                                      lask_worker_fini_fn fini, void *ud);

/* ---------------------------------------------------------------- kernels */

/* A native kernel: reads args, stores its result in *out (a new reference
 * when it is a chunk), returns LASK_OK or a status after lask_ctx_error(). */
typedef int32_t (*lask_kernel_fn)(lask_ctx *ctx, const lask_value *args,
                                  int32_t nargs, lask_value *out, void *ud);

/* Register fn under name (replacing an earlier one of that name). */
int32_t lask_register_kernel(lask_runtime *rt, const char *name,
                             lask_kernel_fn fn, void *ud);

/* Inside a kernel: record why it failed; returns LASK_ETASK. */
int32_t lask_ctx_error(lask_ctx *ctx, const char *msg);
/* Key of the running task, its worker number and the worker's data. */
const char *lask_ctx_key(const lask_ctx *ctx);
int32_t lask_ctx_worker(const lask_ctx *ctx);
void *lask_ctx_worker_data(const lask_ctx *ctx);
lask_runtime *lask_ctx_runtime(const lask_ctx *ctx);

/* ----------------------------------------------------------------- graphs */

typedef enum lask_argkind {
    LASK_ARG_VALUE = 0,  /* value: a literal (the graph takes a chunk ref) */
    LASK_ARG_KEY = 1,    /* key: the result of another task */
    LASK_ARG_LIST = 2    /* n: the next n arguments (each may be a list)
                            form one list argument */
} lask_argkind;

typedef struct lask_arg {
    int32_t kind;
    int32_t n;
    const char *key;
    lask_value value;
} lask_arg;

lask_graph *lask_graph_new(void);
void lask_graph_free(lask_graph *g);
/* Add task key = kernel(args...). Keys are checked when computing. */
int32_t lask_graph_add(lask_graph *g, const char *key, const char *kernel,
                       const lask_arg *args, int32_t nargs);
/* Add key holding a ready value (the graph takes its own reference). */
int32_t lask_graph_add_value(lask_graph *g, const char *key, lask_value value);
int64_t lask_graph_size(const lask_graph *g);
/* Last error of this graph (a bad add), never NULL. */
const char *lask_graph_error(const lask_graph *g);

typedef enum lask_scheduler {
    LASK_SCHED_THREADS = 0,
    LASK_SCHED_SYNC = 1
} lask_scheduler;

typedef void (*lask_progress_fn)(int64_t done, int64_t total, void *ud);

typedef struct lask_compute_opts {
    int32_t scheduler;        /* lask_scheduler */
    int32_t num_workers;      /* 0: all pool threads */
    void *sync_worker_data;   /* worker data seen by kernels under sync */
    lask_progress_fn progress;/* called from the computing thread, or NULL */
    void *progress_ud;
} lask_compute_opts;

/* Compute keys[0..nkeys-1] of g; results[i] receives a value the caller
 * owns (lask_value_clear it). opts may be NULL (threads, all workers).
 * Culls to what the keys need, fuses linear chains, orders depth-first. */
int32_t lask_compute(lask_runtime *rt, lask_graph *g, const char *const *keys,
                     int32_t nkeys, const lask_compute_opts *opts,
                     lask_value *results);

#endif
