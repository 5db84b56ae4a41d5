/*
 * ndarray_ops.h - native kernels over n-d array chunks (a small NumPy in C).
 *
 * Every function takes borrowed arrays and returns a new array (one
 * reference) or NULL after writing why into *e. Indices, axes and slices are
 * 0-based here, with exclusive stops, as in NumPy; the Lua layers convert
 * from their 1-based inclusive conventions. Views share their base's data:
 * chunks are immutable, so sharing is safe.
 */
#ifndef LASK_NDARRAY_OPS_H
#define LASK_NDARRAY_OPS_H

#include "chunk.h"

typedef struct lask__nderr { char msg[512]; } lask__nderr;

/* printf into e (when e is not NULL); returns NULL for `return seterr(...)`. */
void *lask__nd_seterr(lask__nderr *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- dtypes */
const char *lask__dtype_name(int32_t dtype);        /* "float64", ... */
int32_t lask__dtype_from_name(const char *name);    /* -1 when unknown */
int lask__dtype_isfloat(int32_t dt);
int lask__dtype_isint(int32_t dt);                  /* i64 i32 u8 */
/* NumPy promotion of two array dtypes. */
int32_t lask__dtype_promote(int32_t a, int32_t b);
/* Promotion of an array dtype with a Lua number (a "weak" scalar that does
 * not widen the array: int8 + 1 stays int8, ints + 0.5 become float64). */
int32_t lask__dtype_promote_weak(int32_t arr, int scalar_is_float);
/* "(2, 3)"-style text of a shape, into buf. */
const char *lask__shape_str(int32_t ndim, const int64_t *shape, char *buf, size_t n);

/* ---- element access (p points at one element) */
double lask__nd_getd(const char *p, int32_t dt);
int64_t lask__nd_geti(const char *p, int32_t dt);
void lask__nd_setd(char *p, int32_t dt, double v);
void lask__nd_seti(char *p, int32_t dt, int64_t v);

/* ---- construction and conversion */
lask__ndarray *lask__nd_scalar(int32_t dtype, double d, int64_t i, int use_int);
lask__ndarray *lask__nd_full(int32_t dtype, int32_t ndim, const int64_t *shape,
                             double d, int64_t i, int use_int, lask__nderr *e);
/* A C-contiguous copy with dtype dt (dt < 0: keep the dtype). */
lask__ndarray *lask__nd_astype(const lask__ndarray *a, int32_t dt, lask__nderr *e);
/* a itself (new reference) when already C-contiguous, else a copy. */
lask__ndarray *lask__nd_contiguous(const lask__ndarray *a, lask__nderr *e);
/* Copy src into dst (same shape; dtypes converted). dst is written in place:
 * only for arrays the caller has just made and not yet shared. */
void lask__nd_copyinto(lask__ndarray *dst, const lask__ndarray *src);
lask__ndarray *lask__nd_arange(int32_t dt, double start, double step, int64_t n,
                               lask__nderr *e);
lask__ndarray *lask__nd_eye(int32_t dt, int64_t n, int64_t m, int64_t k,
                            int64_t row0, int64_t col0, int64_t nr, int64_t nc,
                            lask__nderr *e);

/* Call fn once per innermost line of an ndim-d loop over nop operands,
 * merging dimensions that are contiguous for every operand. */
typedef void (*lask__line_fn)(int64_t n, char **p, const int64_t *st, void *ud);
void lask__nd_iter(int32_t ndim, const int64_t *shape, int nop, char **ptrs,
                   int64_t (*strides)[LASK__MAXDIM], lask__line_fn fn, void *ud);

/* ---- elementwise (nd_elementwise.c) */
typedef enum lask__binop {
    LASK__ADD, LASK__SUB, LASK__MUL, LASK__DIV, LASK__FLOORDIV, LASK__MOD,
    LASK__POW, LASK__MAXIMUM, LASK__MINIMUM, LASK__AND, LASK__OR, LASK__XOR,
    LASK__EQ, LASK__NE, LASK__LT, LASK__LE, LASK__GT, LASK__GE, LASK__ATAN2,
    LASK__NBINOP
} lask__binop;
typedef enum lask__unop {
    LASK__NEG, LASK__ABS, LASK__SQRT, LASK__EXP, LASK__LOG, LASK__LOG1P,
    LASK__SIN, LASK__COS, LASK__TAN, LASK__TANH, LASK__FLOOR, LASK__CEIL,
    LASK__ROUND, LASK__ISNAN, LASK__ISFINITE, LASK__NOT, LASK__SIGN,
    LASK__EXPM1, LASK__LOG10, LASK__LOG2, LASK__ARCSIN, LASK__ARCCOS,
    LASK__ARCTAN, LASK__SINH, LASK__COSH, LASK__SQUARE, LASK__NUNOP
} lask__unop;
const char *lask__binop_name(int op);   /* "add", "sub", ... */
int lask__binop_from_name(const char *s);
const char *lask__unop_name(int op);
int lask__unop_from_name(const char *s);

/* Broadcast shapes (NumPy rules); 0 and a message naming both on failure. */
int lask__broadcast_shape(int32_t na, const int64_t *sa, int32_t nb,
                          const int64_t *sb, int32_t *nout, int64_t *out,
                          lask__nderr *e);
/* a op b with broadcasting; a_weak/b_weak mark 0-d arrays made from Lua
 * numbers (see lask__dtype_promote_weak). */
lask__ndarray *lask__nd_binary(int op, const lask__ndarray *a, int a_weak,
                               const lask__ndarray *b, int b_weak, lask__nderr *e);
lask__ndarray *lask__nd_unary(int op, const lask__ndarray *a, lask__nderr *e);
/* where(cond, a, b) with broadcasting of all three. */
lask__ndarray *lask__nd_where(const lask__ndarray *c, const lask__ndarray *a,
                              int a_weak, const lask__ndarray *b, int b_weak,
                              lask__nderr *e);
/* Broadcast a to shape (a view with zero strides). */
lask__ndarray *lask__nd_broadcast_to(const lask__ndarray *a, int32_t ndim,
                                     const int64_t *shape, lask__nderr *e);

/* ---- reductions (nd_reduce.c) */
typedef enum lask__redop {
    LASK__RSUM, LASK__RPROD, LASK__RMIN, LASK__RMAX, LASK__RANY, LASK__RALL,
    LASK__RMEAN, LASK__RVAR, LASK__RSTD, LASK__RARGMIN, LASK__RARGMAX,
    LASK__RMOMENTS, LASK__NREDOP
} lask__redop;
const char *lask__redop_name(int op);
int lask__redop_from_name(const char *s);
/* Reduce a over the axes whose flag is set in axes[0..ndim-1] (NULL: all).
 * MOMENTS gives float64 of the reduced shape plus a trailing axis of 3:
 * (count, mean, M2), the partial state of a parallel mean/variance.
 * ARGMIN/ARGMAX need one axis or all (flat index). */
lask__ndarray *lask__nd_reduce(int op, const lask__ndarray *a, const uint8_t *axes,
                               int keepdims, double ddof, lask__nderr *e);
/* Merge moments arrays (same shape, trailing 3) by Chan's formula. */
lask__ndarray *lask__nd_moments_combine(const lask__ndarray *const *parts, int n,
                                        lask__nderr *e);
/* From moments to mean (what 0), var (1) or std (2) with ddof; drops the
 * trailing axis. out_dt: dtype of the result (float32 or float64). */
lask__ndarray *lask__nd_moments_finish(const lask__ndarray *m, int what,
                                       double ddof, int32_t out_dt, lask__nderr *e);
/* Partial of argmin/argmax over one axis (axis < 0: all, flat) with the
 * position of a in the whole array: float64 of the reduced shape (keepdims)
 * plus a trailing axis of 2 (value, global index). gstart/gshape give the
 * block's offset and the full shape (for flat indices). */
lask__ndarray *lask__nd_arg_partial(int op, const lask__ndarray *a, int axis,
                                    const int64_t *gstart, const int64_t *gshape,
                                    lask__nderr *e);
lask__ndarray *lask__nd_arg_combine(int op, const lask__ndarray *const *parts,
                                    int n, lask__nderr *e);
/* The index channel of an arg partial as int64 (trailing axis dropped). */
lask__ndarray *lask__nd_arg_finish(const lask__ndarray *p, lask__nderr *e);
/* sum(a op b) over axes, in bands of rows so a op b is never stored whole
 * (a fused elementwise + reduction partial). */
lask__ndarray *lask__nd_sum_binary(int op, const lask__ndarray *a, int a_weak,
                                   const lask__ndarray *b, int b_weak, const uint8_t *axes,
                                   int keepdims, lask__nderr *e);
/* cumsum (op RSUM) / cumprod (RPROD) along axis. */
lask__ndarray *lask__nd_cumulative(int op, const lask__ndarray *a, int axis,
                                   lask__nderr *e);

/* ---- shape and selection (nd_shape.c) */
lask__ndarray *lask__nd_transpose(const lask__ndarray *a, const int32_t *perm,
                                  lask__nderr *e);
/* Basic slicing: per axis start, stop (exclusive) and step (non-zero),
 * already clamped NumPy-style by the caller (lask__slice_norm). */
lask__ndarray *lask__nd_slice(const lask__ndarray *a, const int64_t *start,
                              const int64_t *stop, const int64_t *step,
                              lask__nderr *e);
/* Number of elements a normalised slice selects. */
int64_t lask__slice_len(int64_t start, int64_t stop, int64_t step);
/* Select index i of axis, dropping that axis (a view). */
lask__ndarray *lask__nd_index(const lask__ndarray *a, int axis, int64_t i,
                              lask__nderr *e);
lask__ndarray *lask__nd_reshape(const lask__ndarray *a, int32_t ndim,
                                const int64_t *shape, lask__nderr *e);
/* Gather idx (int64 0-based, any shape, 1-d used flat) along axis. */
lask__ndarray *lask__nd_take(const lask__ndarray *a, const lask__ndarray *idx,
                             int axis, lask__nderr *e);
/* Elements where mask (bool, same shape as a) is set, as a 1-d array; or
 * with a 1-d mask of a's axis length, the slices along axis. */
lask__ndarray *lask__nd_mask(const lask__ndarray *a, const lask__ndarray *mask,
                             int axis, lask__nderr *e);
lask__ndarray *lask__nd_concatenate(const lask__ndarray *const *parts, int n,
                                    int axis, lask__nderr *e);
lask__ndarray *lask__nd_stack(const lask__ndarray *const *parts, int n, int axis,
                              lask__nderr *e);
/* Assemble a grid of pieces (row-major over grid[0..ndim-1]) into one array. */
lask__ndarray *lask__nd_block(const lask__ndarray *const *parts, int32_t ndim,
                              const int64_t *grid, lask__nderr *e);
/* Insert a length-1 axis at position axis (a view). */
lask__ndarray *lask__nd_expand_dims(const lask__ndarray *a, int axis, lask__nderr *e);

/* ---- linear algebra (nd_linalg.c) */
/* 2-d matrix product a(m,k) @ b(k,n). */
lask__ndarray *lask__nd_matmul(const lask__ndarray *a, const lask__ndarray *b,
                               lask__nderr *e);
/* sum_i a[i] @ b[i], accumulated in one output (blockwise matmul). */
lask__ndarray *lask__nd_matmul_sum(const lask__ndarray *const *a,
                                   const lask__ndarray *const *b, int n,
                                   lask__nderr *e);
/* OpenBLAS threads: set before a big single call, 1 inside the pool. */
void lask__blas_set_threads(int n);
int lask__blas_get_threads(void);

/* ---- random (nd_random.c): counter-based, so a value depends only on the
 * seed and its position in the whole array (never on chunks or threads). */
typedef enum lask__rand { LASK__RAND_UNIFORM, LASK__RAND_NORMAL, LASK__RAND_INT } lask__rand;
lask__ndarray *lask__nd_random(int kind, int32_t dtype, uint64_t seed,
                               int32_t ndim, const int64_t *gshape,
                               const int64_t *start, const int64_t *shape,
                               double p1, double p2, lask__nderr *e);

/* ---- .npy files (npy.c) */
typedef struct lask__npyinfo {
    int32_t dtype, ndim, fortran;
    int64_t shape[LASK__MAXDIM];
    int64_t header_len;            /* data starts here */
} lask__npyinfo;
int lask__npy_read_info(const char *path, lask__npyinfo *info, lask__nderr *e);
/* Read the block [start, start+shape) of a C-order .npy file. */
lask__ndarray *lask__npy_read_block(const char *path, const lask__npyinfo *info,
                                    const int64_t *start, const int64_t *shape,
                                    lask__nderr *e);
lask__ndarray *lask__npy_load(const char *path, lask__nderr *e);
int lask__npy_save(const char *path, const lask__ndarray *a, lask__nderr *e);
/* Create path with a header for (dtype, shape) and room for the data. */
int lask__npy_create(const char *path, int32_t dtype, int32_t ndim,
                     const int64_t *shape, lask__nderr *e);
/* Write block a at start into a file made by lask__npy_create. */
int lask__npy_write_block(const char *path, const lask__ndarray *a,
                          const int64_t *start, lask__nderr *e);

/* ---- kernels (nd_kernels.c): registers "nd.*" kernels on rt. */
int32_t lask__register_nd_kernels(lask_runtime *rt);

#endif
