/*
 * l_textio.c - lask.core.textio: the text files under lask.bag.
 *
 *   read_lines(path, start, stop [, delim [, buf]])
 *                                             lines whose first byte lies in
 *                                             the byte range [start, stop),
 *                                             and the offset of the first
 *   read_all(path, compression [, delim])     every line of a whole file,
 *                                             "none", "gzip" or "zstd"
 *   write_lines(path, list [, compression [, delim]])  -> bytes written
 *   glob(pattern)                             sorted list of matching paths
 *   size(path)                                file size in bytes
 *   line_of(path, offset [, delim])           1-based line number at offset
 *   mkdir(path)                               create a directory and parents
 *   textbuf()                                 a reusable buffer for read_lines
 *                                             (textbuf.h), decoded in place
 *                                             by lask.core.json.batch
 *   newlist(n)                                an empty table with room for n
 *                                             items (no rehash while filling)
 *
 * Lines are returned without their delimiter, as io.lines does. A line is
 * any run of bytes ended by the delimiter or by the end of the file; the
 * bytes after a final delimiter form no line. Splitting a file at byte
 * offsets gives every line to exactly one block: the block holding its
 * first byte.
 *
 * Every buffer, descriptor and codec stream lives in a userdata whose __gc
 * releases it, so a Lua error (bad data, out of memory while pushing a
 * string) in the middle of a read never leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <lua.h>
#include <lauxlib.h>

#include "textbuf.h"

#define IO_STEP (1 << 20)   /* bytes read per step, at most */
#define OUT_STEP (1 << 18)  /* bytes decompressed per step */

/* Raise a message without luaL_error's position prefix: the callers add
 * the file and line that matter (the data's, not ours). */
static int fail(lua_State *L, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    return lua_error(L);
}

typedef struct textio_res {
    int fd;
    char *buf;              /* pending bytes: buf[0 .. len) */
    size_t len, cap;
    char *aux;              /* compressed input / output staging */
    size_t auxcap;
    z_stream *z;
    int zkind;              /* 0 none, 1 inflate, 2 deflate */
    ZSTD_DStream *zd;
    ZSTD_CStream *zc;
} textio_res;

static void res_release(textio_res *r) {
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
    free(r->buf);
    r->buf = NULL;
    free(r->aux);
    r->aux = NULL;
    if (r->z) {
        if (r->zkind == 1) inflateEnd(r->z);
        else if (r->zkind == 2) deflateEnd(r->z);
        free(r->z);
        r->z = NULL;
    }
    if (r->zd) ZSTD_freeDStream(r->zd);
    r->zd = NULL;
    if (r->zc) ZSTD_freeCStream(r->zc);
    r->zc = NULL;
}

static int res_gc(lua_State *L) {
    res_release(luaL_checkudata(L, 1, "lask.textio.res"));
    return 0;
}

/* A fresh resource userdata on the stack. */
static textio_res *res_new(lua_State *L) {
    textio_res *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    r->fd = -1;
    luaL_setmetatable(L, "lask.textio.res");
    return r;
}

/* Make room for n more bytes after buf[len]. */
static void res_reserve(lua_State *L, textio_res *r, size_t n) {
    if (r->cap - r->len >= n) return;
    size_t cap = r->cap ? r->cap : 4096;
    while (cap - r->len < n) cap *= 2;
    char *p = realloc(r->buf, cap);
    if (!p) fail(L, "out of memory (%I bytes for a text buffer)", (lua_Integer)cap);
    r->buf = p;
    r->cap = cap;
}

static int open_or_error(lua_State *L, textio_res *r, const char *path, int flags) {
    r->fd = open(path, flags | O_CLOEXEC, 0666);
    if (r->fd < 0)
        return fail(L, "cannot open '%s': %s", path, strerror(errno));
    return 0;
}

/* Read up to n bytes at the end of buf; returns the count (0 at EOF). */
static size_t read_some(lua_State *L, textio_res *r, const char *path, size_t n) {
    res_reserve(L, r, n);
    for (;;) {
        ssize_t k = read(r->fd, r->buf + r->len, n);
        if (k >= 0) {
            r->len += (size_t)k;
            return (size_t)k;
        }
        if (errno != EINTR)
            fail(L, "cannot read '%s': %s", path, strerror(errno));
    }
}

static const char *find_delim(const char *p, size_t n, const char *d, size_t dlen) {
    if (n == 0) return NULL;   /* p may be NULL then */
    if (dlen == 1) return memchr(p, d[0], n);
    return memmem(p, n, d, dlen);
}

/* The output list and where its next item goes; or, with span, the text
 * buffer collecting the lines, each followed by the delimiter. */
typedef struct lines_out {
    lua_State *L;
    int list;            /* stack index of the result table */
    lua_Integer n;
    lask__textbuf *span;
    const char *d;
    size_t dlen;
} lines_out;

/* A line; in a span followed by the delimiter unless it is the file's
 * last line without one (a multi-byte delimiter appended after a line
 * ending in part of it would move the split). */
static void emit_line(lines_out *o, const char *p, size_t n, int delimited) {
    if (o->span) {
        lask__textbuf *b = o->span;
        size_t dl = delimited ? o->dlen : 0;
        size_t need = b->len + n + dl + LASK__TEXTBUF_PAD;
        if (need > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < need) cap *= 2;
            char *q = realloc(b->p, cap);
            if (!q) fail(o->L, "out of memory (%I bytes for a text buffer)", (lua_Integer)cap);
            b->p = q;
            b->cap = cap;
        }
        memcpy(b->p + b->len, p, n);
        memcpy(b->p + b->len + n, o->d, dl);
        b->len += n + dl;
        o->n++;
        return;
    }
    lua_pushlstring(o->L, p, n);
    lua_rawseti(o->L, o->list, ++o->n);
}

static void emit(lines_out *o, const char *p, size_t n) { emit_line(o, p, n, 1); }

/* Emit every complete line in buf, keep the unfinished tail at its front. */
static void split_complete(lines_out *o, textio_res *r, const char *d, size_t dlen) {
    const char *p = r->buf, *end = r->buf + r->len, *q;
    while ((q = find_delim(p, (size_t)(end - p), d, dlen)) != NULL) {
        emit(o, p, (size_t)(q - p));
        p = q + dlen;
    }
    r->len = (size_t)(end - p);
    if (r->len && p != r->buf) memmove(r->buf, p, r->len);
}

static const char *check_delim(lua_State *L, int idx, size_t *dlen) {
    const char *d = luaL_optlstring(L, idx, "\n", dlen);
    if (*dlen == 0) luaL_argerror(L, idx, "empty line delimiter");
    return d;
}

/* The result of read_lines: the list (or the text buffer) and the offset
 * of the first line. */
static int lines_result(lua_State *L, lines_out *o, lua_Integer first) {
    lua_settop(L, o->list);
    lua_pushinteger(L, first);
    return 2;
}

/* read_lines(path, start, stop [, delim [, buf]]): offsets are 0-based,
 * stop is exclusive; lines starting in [start, stop) are returned; with a
 * text buffer (textbuf()) its contents become the bytes of those lines,
 * each followed by delim (but a last line without one), and the buffer is
 * returned (lask.core.json.batch decodes it). */
static int t_read_lines(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    lua_Integer start = luaL_checkinteger(L, 2);
    lua_Integer stop = luaL_checkinteger(L, 3);
    size_t dlen;
    const char *d = check_delim(L, 4, &dlen);
    lask__textbuf *span = lua_isnoneornil(L, 5) ? NULL : luaL_checkudata(L, 5, LASK__TEXTBUF_MT);
    luaL_argcheck(L, start >= 0, 2, "negative offset");
    if (stop < start) stop = start;   /* an empty block */
    lua_settop(L, 5);
    if (span) span->len = 0;
    else lua_newtable(L);
    lines_out o = {L, lua_gettop(L), 0, span, d, dlen};
    textio_res *r = res_new(L);
    open_or_error(L, r, path, O_RDONLY);

    /* A block that does not start the file begins after the first
     * delimiter ending at or after start: the line cut by start belongs
     * to the block before. */
    off_t pos = 0;   /* file offset of buf[0] */
    /* Read about the block (small blocks stay cheap), doubling up to
     * IO_STEP while a line runs past what we have. */
    size_t step = stop - start + (lua_Integer)dlen + 1 < IO_STEP
                ? (size_t)(stop - start) + dlen + 1 : IO_STEP;
    if (step < 4096) step = 4096;
    if (start > 0) {
        pos = start > (lua_Integer)dlen ? (off_t)(start - (lua_Integer)dlen) : 0;
        if (lseek(r->fd, pos, SEEK_SET) < 0)
            return fail(L, "cannot seek in '%s': %s", path, strerror(errno));
        for (;;) {
            size_t k = read_some(L, r, path, step);
            if (step < IO_STEP) step *= 2;
            const char *q = find_delim(r->buf, r->len, d, dlen);
            if (q) {
                size_t drop = (size_t)(q - r->buf) + dlen;
                pos += (off_t)drop;
                r->len -= drop;
                memmove(r->buf, r->buf + drop, r->len);
                break;
            }
            if (k == 0) {           /* no line starts in this block */
                res_release(r);
                return lines_result(L, &o, stop);
            }
            /* keep dlen-1 bytes: a delimiter may straddle the read */
            if (r->len >= dlen) {
                size_t drop = r->len - (dlen - 1);
                pos += (off_t)drop;
                memmove(r->buf, r->buf + drop, dlen - 1);
                r->len = dlen - 1;
            }
        }
    }
    /* Now buf[0] starts a line at file offset pos. */
    lua_Integer first = (lua_Integer)pos;
    for (;;) {
        const char *p = r->buf, *end = p ? p + r->len : p, *q;
        while (pos < stop && (q = find_delim(p, (size_t)(end - p), d, dlen)) != NULL) {
            emit(&o, p, (size_t)(q - p));
            pos += (off_t)(q + dlen - p);
            p = q + dlen;
        }
        r->len = (size_t)(end - p);
        if (r->len && p != r->buf) memmove(r->buf, p, r->len);
        if (pos >= stop) break;
        size_t k = read_some(L, r, path, step);
        if (step < IO_STEP) step *= 2;
        if (k == 0) {
            if (r->len) emit_line(&o, r->buf, r->len, 0);   /* last line, no delimiter */
            break;
        }
    }
    res_release(r);
    return lines_result(L, &o, first);
}

static int suffix_is(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* "gzip" | "zstd" | "none" from an option, "infer" meaning the suffix. */
static int compression_of(lua_State *L, int idx, const char *path) {
    const char *c = luaL_optstring(L, idx, "infer");
    if (strcmp(c, "infer") == 0) {
        if (suffix_is(path, ".gz")) return 1;
        if (suffix_is(path, ".zst") || suffix_is(path, ".zstd")) return 2;
        return 0;
    }
    if (strcmp(c, "none") == 0) return 0;
    if (strcmp(c, "gzip") == 0) return 1;
    if (strcmp(c, "zstd") == 0) return 2;
    return fail(L, "unknown compression '%s' (expected \"gzip\", \"zstd\", \"none\" or \"infer\")", c);
}

/* Refill aux with compressed input; returns bytes read. */
static size_t read_aux(lua_State *L, textio_res *r, const char *path) {
    for (;;) {
        ssize_t k = read(r->fd, r->aux, r->auxcap);
        if (k >= 0) return (size_t)k;
        if (errno != EINTR)
            fail(L, "cannot read '%s': %s", path, strerror(errno));
    }
}

static void read_gzip(lua_State *L, lines_out *o, textio_res *r, const char *path,
                      const char *d, size_t dlen) {
    r->z = calloc(1, sizeof *r->z);
    if (!r->z) fail(L, "out of memory");
    if (inflateInit2(r->z, 15 + 32) != Z_OK)   /* +32: gzip or zlib header */
        fail(L, "cannot start gzip decoder for '%s'", path);
    r->zkind = 1;
    int ended = 0, any = 0, full = 0;
    for (;;) {
        if (r->z->avail_in == 0 && !full) {   /* full: output may be pending */
            size_t k = read_aux(L, r, path);
            if (k == 0) break;
            r->z->next_in = (Bytef *)r->aux;
            r->z->avail_in = (uInt)k;
            any = 1;
        }
        if (ended && r->z->avail_in > 0) {   /* another gzip member follows */
            if (inflateReset(r->z) != Z_OK)
                fail(L, "gzip decoder failed on '%s'", path);
            ended = 0;
        }
        res_reserve(L, r, OUT_STEP);
        r->z->next_out = (Bytef *)(r->buf + r->len);
        r->z->avail_out = OUT_STEP;
        int rc = inflate(r->z, Z_NO_FLUSH);
        r->len += OUT_STEP - r->z->avail_out;
        full = r->z->avail_out == 0;
        if (rc == Z_STREAM_END) ended = 1;
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            fail(L, "corrupt gzip file '%s': %s", path,
                       r->z->msg ? r->z->msg : zError(rc));
        split_complete(o, r, d, dlen);
    }
    if (any && !ended)
        fail(L, "truncated gzip file '%s' (the stream ends before its end marker)", path);
}

static void read_zstd(lua_State *L, lines_out *o, textio_res *r, const char *path,
                      const char *d, size_t dlen) {
    r->zd = ZSTD_createDStream();
    if (!r->zd) fail(L, "out of memory");
    ZSTD_initDStream(r->zd);
    size_t last = 0;   /* 0 after a complete frame */
    int full = 0;      /* the last call filled its output: more may wait */
    ZSTD_inBuffer in = {r->aux, 0, 0};
    for (;;) {
        if (in.pos == in.size && !full) {
            size_t k = read_aux(L, r, path);
            if (k == 0) break;
            in.size = k;
            in.pos = 0;
        }
        res_reserve(L, r, OUT_STEP);
        ZSTD_outBuffer out = {r->buf + r->len, OUT_STEP, 0};
        last = ZSTD_decompressStream(r->zd, &out, &in);
        if (ZSTD_isError(last))
            fail(L, "corrupt zstd file '%s': %s", path, ZSTD_getErrorName(last));
        r->len += out.pos;
        full = out.pos == OUT_STEP;
        split_complete(o, r, d, dlen);
    }
    if (last != 0)
        fail(L, "truncated zstd file '%s' (the last frame is incomplete)", path);
}

/* read_all(path [, compression [, delim]]) */
static int t_read_all(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    int comp = compression_of(L, 2, path);
    size_t dlen;
    const char *d = check_delim(L, 3, &dlen);
    lua_newtable(L);
    lines_out o = {L, lua_gettop(L), 0, NULL, d, dlen};
    textio_res *r = res_new(L);
    open_or_error(L, r, path, O_RDONLY);
    /* small files get small buffers */
    struct stat st;
    size_t step = IO_STEP;
    if (fstat(r->fd, &st) == 0 && st.st_size >= 0 && (uint64_t)st.st_size + 1 < IO_STEP)
        step = st.st_size + 1 < 4096 ? 4096 : (size_t)st.st_size + 1;
    if (comp == 0) {
        while (read_some(L, r, path, step) > 0) split_complete(&o, r, d, dlen);
    } else {
        r->auxcap = step;
        r->aux = malloc(r->auxcap);
        if (!r->aux) return fail(L, "out of memory");
        if (comp == 1) read_gzip(L, &o, r, path, d, dlen);
        else read_zstd(L, &o, r, path, d, dlen);
    }
    if (r->len) emit(&o, r->buf, r->len);
    res_release(r);
    lua_settop(L, o.list);
    return 1;
}

/* ------------------------------------------------------------- writing */

static void write_all(lua_State *L, textio_res *r, const char *path, const char *p, size_t n) {
    while (n) {
        ssize_t k = write(r->fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            fail(L, "cannot write '%s': %s", path, strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
}

/* Push buf[0..len) through the codec (or straight out); finish at the end. */
static void flush_buf(lua_State *L, textio_res *r, const char *path, int comp, int finish) {
    if (comp == 0) {
        write_all(L, r, path, r->buf, r->len);
    } else if (comp == 1) {
        r->z->next_in = (Bytef *)r->buf;
        r->z->avail_in = (uInt)r->len;
        int rc;
        do {
            r->z->next_out = (Bytef *)r->aux;
            r->z->avail_out = (uInt)r->auxcap;
            rc = deflate(r->z, finish ? Z_FINISH : Z_NO_FLUSH);
            if (rc == Z_STREAM_ERROR)
                fail(L, "gzip encoder failed on '%s'", path);
            write_all(L, r, path, r->aux, r->auxcap - r->z->avail_out);
        } while (r->z->avail_in > 0 || (finish && rc != Z_STREAM_END));
    } else {
        ZSTD_inBuffer in = {r->buf, r->len, 0};
        size_t left;
        do {
            ZSTD_outBuffer out = {r->aux, r->auxcap, 0};
            left = ZSTD_compressStream2(r->zc, &out, &in, finish ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(left))
                fail(L, "zstd encoder failed on '%s': %s", path, ZSTD_getErrorName(left));
            write_all(L, r, path, r->aux, out.pos);
        } while (in.pos < in.size || (finish && left != 0));
    }
    r->len = 0;
}

/* write_lines(path, list [, compression [, delim]]) -> bytes of text.
 * Items must be strings or numbers; anything else is an error naming the
 * item, so no record is dropped or turned into "table: 0x...". */
static int t_write_lines(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    int comp = compression_of(L, 3, path);
    size_t dlen;
    const char *d = check_delim(L, 4, &dlen);
    textio_res *r = res_new(L);
    res_reserve(L, r, IO_STEP);
    if (comp) {
        r->auxcap = IO_STEP;
        r->aux = malloc(r->auxcap);
        if (!r->aux) return fail(L, "out of memory");
        if (comp == 1) {
            r->z = calloc(1, sizeof *r->z);
            if (!r->z) return fail(L, "out of memory");
            if (deflateInit2(r->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return fail(L, "cannot start gzip encoder");
            r->zkind = 2;
        } else {
            r->zc = ZSTD_createCStream();
            if (!r->zc) return fail(L, "out of memory");
            ZSTD_CCtx_setParameter(r->zc, ZSTD_c_compressionLevel, 3);
        }
    }
    open_or_error(L, r, path, O_WRONLY | O_CREAT | O_TRUNC);
    lua_Integer n = luaL_len(L, 2), total = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        int t = lua_rawgeti(L, 2, i);
        if (t != LUA_TSTRING && t != LUA_TNUMBER)
            return fail(L, "cannot write item %d to '%s': a %s, expected a string "
                              "(map it through tostring or lask.json.encode first)",
                              (int)i, path, luaL_typename(L, -1));
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (r->cap - r->len < len + dlen) {
            flush_buf(L, r, path, comp, 0);
            res_reserve(L, r, len + dlen);
        }
        memcpy(r->buf + r->len, s, len);
        memcpy(r->buf + r->len + len, d, dlen);
        r->len += len + dlen;
        total += (lua_Integer)(len + dlen);
        lua_pop(L, 1);
    }
    flush_buf(L, r, path, comp, 1);
    int fd = r->fd;
    r->fd = -1;
    if (close(fd) != 0)
        return fail(L, "cannot write '%s': %s", path, strerror(errno));
    res_release(r);
    lua_pushinteger(L, total);
    return 1;
}

/* ------------------------------------------------------------ the rest */

static int t_glob(lua_State *L) {
    const char *pat = luaL_checkstring(L, 1);
    glob_t g;
    int rc = glob(pat, GLOB_TILDE | GLOB_BRACE, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        lua_newtable(L);
        return 1;
    }
    if (rc != 0) {
        if (rc != GLOB_NOSPACE) globfree(&g);
        return fail(L, "cannot expand '%s': %s", pat,
                          rc == GLOB_NOSPACE ? "out of memory" : "read error");
    }
    /* copy into C-free form before anything can raise */
    lua_createtable(L, (int)g.gl_pathc, 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (!lua_checkstack(L, 2)) break;
        lua_pushstring(L, g.gl_pathv[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    globfree(&g);
    return 1;
}

static int t_size(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (stat(path, &st) != 0)
        return fail(L, "cannot open '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return fail(L, "cannot read '%s': it is a directory", path);
    lua_pushinteger(L, (lua_Integer)st.st_size);
    return 1;
}

/* line_of(path, offset [, delim]): 1 + delimiters wholly before offset.
 * Used only to name the line of a bad record, so a plain scan will do. */
static int t_line_of(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    lua_Integer off = luaL_checkinteger(L, 2);
    size_t dlen;
    const char *d = check_delim(L, 3, &dlen);
    textio_res *r = res_new(L);
    open_or_error(L, r, path, O_RDONLY);
    lua_Integer line = 1, pos = 0;   /* pos: file offset of buf[0] */
    for (;;) {
        size_t k = read_some(L, r, path, IO_STEP);
        const char *p = r->buf, *end = r->buf + r->len, *q;
        while ((q = find_delim(p, (size_t)(end - p), d, dlen)) != NULL &&
               pos + (q + dlen - r->buf) <= off) {
            line++;
            p = q + dlen;
        }
        if (q || k == 0) break;
        size_t rest = (size_t)(end - p);
        size_t keep = rest < dlen - 1 ? rest : dlen - 1;
        pos += (lua_Integer)(r->len - keep);
        memmove(r->buf, r->buf + r->len - keep, keep);
        r->len = keep;
    }
    res_release(r);
    lua_pushinteger(L, line);
    return 1;
}

/* mkdir(path): like mkdir -p; an existing directory is fine. */
static int t_mkdir(lua_State *L) {
    size_t n;
    const char *path = luaL_checklstring(L, 1, &n);
    luaL_Buffer B;
    char *p = luaL_buffinitsize(L, &B, n + 1);
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char c = p[i];
        p[i] = '\0';
        struct stat st;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return fail(L, "cannot create directory '%s': %s", p, strerror(errno));
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            return fail(L, "cannot create directory '%s': a file is in the way", p);
        p[i] = c;
    }
    return 0;
}

static int textbuf_gc(lua_State *L) {
    lask__textbuf *b = luaL_checkudata(L, 1, LASK__TEXTBUF_MT);
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    return 0;
}

static int textbuf_len(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)((lask__textbuf *)luaL_checkudata(L, 1, LASK__TEXTBUF_MT))->len);
    return 1;
}

/* textbuf(): an empty text buffer for read_lines (see textbuf.h). */
static int t_textbuf(lua_State *L) {
    lask__textbuf *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->p = NULL;
    b->len = b->cap = 0;
    if (luaL_newmetatable(L, LASK__TEXTBUF_MT)) {
        lua_pushcfunction(L, textbuf_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, textbuf_len);
        lua_setfield(L, -2, "__len");
    }
    lua_setmetatable(L, -2);
    return 1;
}

static int t_newlist(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    lua_createtable(L, n > 0 && n < (1 << 30) ? (int)n : 0, 0);
    return 1;
}

static const luaL_Reg textio_fns[] = {
    {"newlist", t_newlist}, {"textbuf", t_textbuf},
    {"mkdir", t_mkdir},
    {"read_lines", t_read_lines},
    {"read_all", t_read_all},
    {"write_lines", t_write_lines},
    {"glob", t_glob},
    {"size", t_size},
    {"line_of", t_line_of},
    {NULL, NULL}
};

int luaopen_lask_core_textio(lua_State *L) {
    if (luaL_newmetatable(L, "lask.textio.res")) {
        lua_pushcfunction(L, res_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, res_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    luaL_newlib(L, textio_fns);
    return 1;
}
