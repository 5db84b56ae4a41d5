/* thrift_compact.c - bounds-checked Thrift compact protocol reader and writer. */
#include <stdlib.h>
#include <string.h>
#include "thrift_compact.h"

static void fail(lask__tc_reader *r, const char *why) {
    if (!r->err) r->err = why;
    r->p = r->end;
}

void lask__tc_init(lask__tc_reader *r, const void *p, size_t n) {
    memset(r, 0, sizeof *r);
    r->p = p;
    r->end = r->p + n;
}

static uint64_t varint(lask__tc_reader *r) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) { fail(r, "truncated varint"); return 0; }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    fail(r, "varint too long");
    return 0;
}

static int64_t zigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

void lask__tc_struct_begin(lask__tc_reader *r) {
    if (r->err) return;
    if (r->depth >= LASK__TC_MAXDEPTH) { fail(r, "structures nested too deeply"); return; }
    r->last[r->depth++] = 0;
}

void lask__tc_struct_end(lask__tc_reader *r) {
    if (r->depth > 0) r->depth--;
}

int lask__tc_field(lask__tc_reader *r, int16_t *id) {
    *id = 0;
    if (r->err) return LASK__TC_STOP;
    if (r->p >= r->end) { fail(r, "truncated structure"); return LASK__TC_STOP; }
    if (r->depth <= 0) { fail(r, "field outside a structure"); return LASK__TC_STOP; }
    uint8_t b = *r->p++;
    int type = b & 0x0f;
    if (type == LASK__TC_STOP) return LASK__TC_STOP;
    int delta = b >> 4;
    int64_t fid = delta ? r->last[r->depth - 1] + delta : zigzag(varint(r));
    if (fid < INT16_MIN || fid > INT16_MAX) { fail(r, "bad field id"); return LASK__TC_STOP; }
    if (type > LASK__TC_STRUCT) { fail(r, "bad field type"); return LASK__TC_STOP; }
    r->last[r->depth - 1] = (int16_t)fid;
    *id = (int16_t)fid;
    return r->err ? LASK__TC_STOP : type;
}

int64_t lask__tc_list(lask__tc_reader *r, int *elemtype) {
    *elemtype = 0;
    if (r->err) return 0;
    if (r->p >= r->end) { fail(r, "truncated list"); return 0; }
    uint8_t b = *r->p++;
    int64_t n = b >> 4;
    if (n == 15) n = (int64_t)varint(r);
    *elemtype = b & 0x0f;
    /* Every element takes at least one byte, except bools packed in none. */
    if (n < 0 || n > r->end - r->p) { fail(r, "list longer than its data"); return 0; }
    return r->err ? 0 : n;
}

int64_t lask__tc_i64(lask__tc_reader *r) { return zigzag(varint(r)); }

int32_t lask__tc_i32(lask__tc_reader *r) {
    int64_t v = zigzag(varint(r));
    if (v < INT32_MIN || v > INT32_MAX) { fail(r, "i32 out of range"); return 0; }
    return (int32_t)v;
}

double lask__tc_double(lask__tc_reader *r) {
    if (r->end - r->p < 8) { fail(r, "truncated double"); return 0; }
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = (u << 8) | r->p[i];
    r->p += 8;
    double d;
    memcpy(&d, &u, 8);
    return d;
}

int lask__tc_bool_elem(lask__tc_reader *r) {
    if (r->p >= r->end) { fail(r, "truncated bool"); return 0; }
    return *r->p++ == 1;
}

const uint8_t *lask__tc_binary(lask__tc_reader *r, int64_t *len) {
    uint64_t n = varint(r);
    *len = 0;
    if (r->err) return NULL;
    if (n > (uint64_t)(r->end - r->p)) { fail(r, "string longer than its data"); return NULL; }
    const uint8_t *s = r->p;
    r->p += n;
    *len = (int64_t)n;
    return s;
}

void lask__tc_skip(lask__tc_reader *r, int type) {
    if (r->err) return;
    switch (type) {
    case LASK__TC_TRUE: case LASK__TC_FALSE: return;   /* value in the type */
    case LASK__TC_I8:
        if (r->p >= r->end) fail(r, "truncated byte"); else r->p++;
        return;
    case LASK__TC_I16: case LASK__TC_I32: case LASK__TC_I64: varint(r); return;
    case LASK__TC_DOUBLE: lask__tc_double(r); return;
    case LASK__TC_BINARY: { int64_t n; lask__tc_binary(r, &n); return; }
    case LASK__TC_LIST: case LASK__TC_SET: {
        int et;
        int64_t n = lask__tc_list(r, &et);
        if (r->depth >= LASK__TC_MAXDEPTH) { fail(r, "structures nested too deeply"); return; }
        r->depth++;   /* count list nesting against the depth limit too */
        r->last[r->depth - 1] = 0;
        for (int64_t i = 0; i < n && !r->err; i++) {
            if (et == LASK__TC_TRUE || et == LASK__TC_FALSE) lask__tc_bool_elem(r);
            else lask__tc_skip(r, et);
        }
        r->depth--;
        return;
    }
    case LASK__TC_MAP: {
        int64_t n = (int64_t)varint(r);
        if (r->err || n == 0) return;
        if (n < 0 || n > r->end - r->p) { fail(r, "map longer than its data"); return; }
        if (r->p >= r->end) { fail(r, "truncated map"); return; }
        uint8_t kv = *r->p++;
        if (r->depth >= LASK__TC_MAXDEPTH) { fail(r, "structures nested too deeply"); return; }
        r->depth++;
        for (int64_t i = 0; i < n && !r->err; i++) {
            int kt = kv >> 4, vt = kv & 0x0f;
            if (kt == LASK__TC_TRUE || kt == LASK__TC_FALSE) lask__tc_bool_elem(r); else lask__tc_skip(r, kt);
            if (vt == LASK__TC_TRUE || vt == LASK__TC_FALSE) lask__tc_bool_elem(r); else lask__tc_skip(r, vt);
        }
        r->depth--;
        return;
    }
    case LASK__TC_STRUCT: {
        lask__tc_struct_begin(r);
        int16_t id;
        int t;
        while ((t = lask__tc_field(r, &id)) != LASK__TC_STOP) lask__tc_skip(r, t);
        lask__tc_struct_end(r);
        return;
    }
    default:
        fail(r, "bad type");
    }
}

/* ------------------------------------------------------------------ writer */

void lask__tc_winit(lask__tc_writer *w) { memset(w, 0, sizeof *w); }
void lask__tc_wfree(lask__tc_writer *w) { free(w->buf); memset(w, 0, sizeof *w); }

void lask__tc_wbytes(lask__tc_writer *w, const void *p, size_t n) {
    if (w->oom) return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n) cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b) { w->oom = 1; return; }
        w->buf = b;
        w->cap = cap;
    }
    if (n) memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void wbyte(lask__tc_writer *w, uint8_t b) { lask__tc_wbytes(w, &b, 1); }

void lask__tc_wvarint(lask__tc_writer *w, uint64_t v) {
    uint8_t b[10];
    int n = 0;
    while (v >= 0x80) { b[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    b[n++] = (uint8_t)v;
    lask__tc_wbytes(w, b, (size_t)n);
}

void lask__tc_wi64(lask__tc_writer *w, int64_t v) {
    lask__tc_wvarint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void lask__tc_wstruct_begin(lask__tc_writer *w) {
    if (w->depth >= LASK__TC_MAXDEPTH) { w->oom = 1; return; }
    w->last[w->depth++] = 0;
}

void lask__tc_wstruct_end(lask__tc_writer *w) {
    wbyte(w, LASK__TC_STOP);
    if (w->depth > 0) w->depth--;
}

void lask__tc_wfield(lask__tc_writer *w, int16_t id, int type) {
    if (w->depth <= 0) { w->oom = 1; return; }
    int16_t last = w->last[w->depth - 1];
    if (id > last && id - last <= 15) {
        wbyte(w, (uint8_t)(((id - last) << 4) | type));
    } else {
        wbyte(w, (uint8_t)type);
        lask__tc_wi64(w, id);
    }
    w->last[w->depth - 1] = id;
}

void lask__tc_wlist(lask__tc_writer *w, int elemtype, int64_t n) {
    if (n < 15) {
        wbyte(w, (uint8_t)((n << 4) | elemtype));
    } else {
        wbyte(w, (uint8_t)(0xf0 | elemtype));
        lask__tc_wvarint(w, (uint64_t)n);
    }
}

void lask__tc_wbinary(lask__tc_writer *w, const void *p, size_t n) {
    lask__tc_wvarint(w, n);
    lask__tc_wbytes(w, p, n);
}

void lask__tc_wfield_i32(lask__tc_writer *w, int16_t id, int32_t v) {
    lask__tc_wfield(w, id, LASK__TC_I32);
    lask__tc_wi64(w, v);
}

void lask__tc_wfield_i64(lask__tc_writer *w, int16_t id, int64_t v) {
    lask__tc_wfield(w, id, LASK__TC_I64);
    lask__tc_wi64(w, v);
}

void lask__tc_wfield_bool(lask__tc_writer *w, int16_t id, int v) {
    lask__tc_wfield(w, id, v ? LASK__TC_TRUE : LASK__TC_FALSE);
}

void lask__tc_wfield_binary(lask__tc_writer *w, int16_t id, const void *p, size_t n) {
    lask__tc_wfield(w, id, LASK__TC_BINARY);
    lask__tc_wbinary(w, p, n);
}
