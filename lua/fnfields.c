/*
 * fnfields.c - which fields of its first argument a Lua function can see.
 *
 * The bag decoder may build JSON records holding only the fields a callback
 * reads, if nobody can observe the difference. We prove that from bytecode:
 * dump the function (stripped), parse the Lua 5.4 binary chunk, and accept
 * only when register 0 (the first parameter) is touched by nothing but
 *   GETFIELD A 0 K     a read of a constant string key,
 *   GETTABLE A 0 R     whose key register R was loaded from a string
 *                      constant by the LOADK just before (5.4 emits that
 *                      for keys longer than 40 bytes or past constant 255),
 *   TEST 0 k           its truthiness,
 * and no nested function captures it. Anything else, including an opcode or
 * a chunk layout we do not know, answers "no". Everything here follows
 * Lua 5.4's ldump.c / lopcodes.h / lvm.c; tests/spec/fnfields_spec.lua
 * checks the opcode table against `luac5.4 -l`.
 */
#include <stdint.h>
#include <string.h>
#include "lcore.h"

/* Operand roles, per opcode. Every register range in 5.4 starts at A and
 * grows upward (CALL, RETURN, CONCAT, LOADNIL, SETLIST, VARARG, the FOR
 * loops' A..A+3, TFORCALL's A..A+3+C), so "A is a register" covers it:
 * such a range holds register 0 only when A is 0. */
enum {
    RA = 1, RB = 2, RC = 4,
    RKC = 8,    /* C is a register when k == 0, else a constant */
    SKIP = 16   /* may continue at pc + 2 (skips a JMP, MMBIN or EXTRAARG) */
};

typedef struct { const char *name; unsigned char f; } opinfo;

/* In lopcodes.h order: the index is the opcode. Not listed: not known. */
static const opinfo ops[] = {
    {"MOVE", RA|RB}, {"LOADI", RA}, {"LOADF", RA}, {"LOADK", RA},
    {"LOADKX", RA|SKIP}, {"LOADFALSE", RA}, {"LFALSESKIP", RA|SKIP},
    {"LOADTRUE", RA}, {"LOADNIL", RA},
    {"GETUPVAL", RA}, {"SETUPVAL", RA},             /* B: upvalue index */
    {"GETTABUP", RA},                               /* B upvalue, C constant */
    {"GETTABLE", RA|RB|RC}, {"GETI", RA|RB}, {"GETFIELD", RA|RB},
    {"SETTABUP", RKC},                              /* A upvalue, B constant */
    {"SETTABLE", RA|RB|RKC}, {"SETI", RA|RKC}, {"SETFIELD", RA|RKC},
    {"NEWTABLE", RA|SKIP}, {"SELF", RA|RB|RKC},
    /* arithmetic skips its MMBIN* follower when no metamethod is needed */
    {"ADDI", RA|RB|SKIP}, {"ADDK", RA|RB|SKIP}, {"SUBK", RA|RB|SKIP},
    {"MULK", RA|RB|SKIP}, {"MODK", RA|RB|SKIP}, {"POWK", RA|RB|SKIP},
    {"DIVK", RA|RB|SKIP}, {"IDIVK", RA|RB|SKIP}, {"BANDK", RA|RB|SKIP},
    {"BORK", RA|RB|SKIP}, {"BXORK", RA|RB|SKIP}, {"SHRI", RA|RB|SKIP},
    {"SHLI", RA|RB|SKIP}, {"ADD", RA|RB|RC|SKIP}, {"SUB", RA|RB|RC|SKIP},
    {"MUL", RA|RB|RC|SKIP}, {"MOD", RA|RB|RC|SKIP}, {"POW", RA|RB|RC|SKIP},
    {"DIV", RA|RB|RC|SKIP}, {"IDIV", RA|RB|RC|SKIP}, {"BAND", RA|RB|RC|SKIP},
    {"BOR", RA|RB|RC|SKIP}, {"BXOR", RA|RB|RC|SKIP}, {"SHL", RA|RB|RC|SKIP},
    {"SHR", RA|RB|RC|SKIP},
    {"MMBIN", RA|RB}, {"MMBINI", RA}, {"MMBINK", RA},  /* C: the event */
    {"UNM", RA|RB}, {"BNOT", RA|RB}, {"NOT", RA|RB}, {"LEN", RA|RB},
    {"CONCAT", RA}, {"CLOSE", RA}, {"TBC", RA}, {"JMP", 0},
    {"EQ", RA|RB|SKIP}, {"LT", RA|RB|SKIP}, {"LE", RA|RB|SKIP},
    {"EQK", RA|SKIP}, {"EQI", RA|SKIP}, {"LTI", RA|SKIP}, {"LEI", RA|SKIP},
    {"GTI", RA|SKIP}, {"GEI", RA|SKIP}, {"TEST", RA|SKIP},
    {"TESTSET", RA|RB|SKIP}, {"CALL", RA}, {"TAILCALL", RA}, {"RETURN", RA},
    {"RETURN0", 0}, {"RETURN1", RA}, {"FORLOOP", RA}, {"FORPREP", RA},
    {"TFORPREP", RA}, {"TFORCALL", RA}, {"TFORLOOP", RA},
    {"SETLIST", RA|SKIP},                           /* k: an EXTRAARG follows */
    {"CLOSURE", RA}, {"VARARG", RA}, {"VARARGPREP", 0},  /* A: a count */
    {"EXTRAARG", 0},
};
#define NOPS ((int)(sizeof ops / sizeof ops[0]))
enum { OP_LOADK = 3, OP_GETTABLE = 12, OP_GETFIELD = 14, OP_JMP = 56,
       OP_EQ = 57, OP_TEST = 66, OP_TESTSET = 67, OP_FORLOOP = 73, OP_FORPREP,
       OP_TFORPREP, OP_TFORCALL, OP_TFORLOOP };

#define GET_OP(i) ((int)((i) & 0x7f))
#define GET_A(i)  ((int)(((i) >> 7) & 0xff))
#define GET_K(i)  ((int)(((i) >> 15) & 1))
#define GET_B(i)  ((int)(((i) >> 16) & 0xff))
#define GET_C(i)  ((int)(((i) >> 24) & 0xff))
#define GET_BX(i) ((int64_t)((i) >> 15))
#define GET_SJ(i) ((int64_t)((i) >> 7) - ((1 << 24) - 1))

/* ------------------------------------------------------ chunk reading */

typedef struct { const unsigned char *p, *end; int bad; } reader;

static int rbyte(reader *r) {
    if (r->bad || r->p >= r->end) { r->bad = 1; return 0; }
    return *r->p++;
}

/* ldump.c's dumpSize: 7 bits a byte, most significant first, the last
 * byte marked with 0x80. Capped well below anything a real chunk holds. */
static size_t rsize(reader *r) {
    size_t x = 0;
    int b;
    do {
        b = rbyte(r);
        if (x > ((size_t)1 << 30)) r->bad = 1;
        if (r->bad) return 0;
        x = (x << 7) | (size_t)(b & 0x7f);
    } while (!(b & 0x80));
    return x;
}

static const unsigned char *rskip(reader *r, size_t n) {
    const unsigned char *at = r->p;
    if (r->bad || n > (size_t)(r->end - r->p)) { r->bad = 1; return NULL; }
    r->p += n;
    return at;
}

/* A string: size + 1 then the bytes; size 0 is NULL (len -1). */
static const unsigned char *rstring(reader *r, int64_t *len) {
    size_t n = rsize(r);
    *len = (int64_t)n - 1;
    return n ? rskip(r, n - 1) : NULL;
}

/* The parts of the top-level function the analysis needs. */
typedef struct {
    int numparams, vararg;
    const unsigned char *code; int64_t ncode;
    const unsigned char *k, *end; int64_t nk;  /* constants, still encoded */
    int captured;                          /* a child captures register 0 */
} proto;

/* Parse one function (lundump.c's loadFunction). depth 0 fills *top;
 * depth 1 (direct children) checks what their upvalues capture. */
static void rfunction(reader *r, int depth, proto *top) {
    int64_t len;
    if (depth > 200) { r->bad = 1; return; }   /* deeper than Lua allows */
    rstring(r, &len);                          /* source */
    rsize(r); rsize(r);                        /* linedefined, lastline */
    int numparams = rbyte(r), vararg = rbyte(r);
    rbyte(r);                                  /* maxstacksize */
    size_t n = rsize(r);
    const unsigned char *code = rskip(r, n > SIZE_MAX / 4 ? SIZE_MAX : n * 4);
    if (depth == 0) {
        top->numparams = numparams; top->vararg = vararg;
        top->code = code; top->ncode = (int64_t)n;
        top->k = r->p;
    }
    size_t nk = rsize(r);
    for (size_t i = 0; i < nk && !r->bad; i++) {
        switch (rbyte(r)) {
        case 0x00: case 0x01: case 0x11: break;        /* nil false true */
        case 0x03: rskip(r, sizeof(lua_Integer)); break;
        case 0x13: rskip(r, sizeof(lua_Number)); break;
        case 0x04: case 0x14: rstring(r, &len); break;  /* short, long */
        default: r->bad = 1;
        }
    }
    if (depth == 0) top->nk = (int64_t)nk;
    size_t nup = rsize(r);
    for (size_t i = 0; i < nup && !r->bad; i++) {
        int instack = rbyte(r), idx = rbyte(r);
        rbyte(r);                                      /* kind */
        if (depth == 1 && instack && idx == 0) top->captured = 1;
    }
    size_t np = rsize(r);
    for (size_t i = 0; i < np && !r->bad; i++) rfunction(r, depth + 1, top);
    rskip(r, rsize(r));                                /* lineinfo */
    n = rsize(r);                                      /* abslineinfo */
    for (size_t i = 0; i < n && !r->bad; i++) { rsize(r); rsize(r); }
    n = rsize(r);                                      /* locvars */
    for (size_t i = 0; i < n && !r->bad; i++) { rstring(r, &len); rsize(r); rsize(r); }
    n = rsize(r);                                      /* upvalue names */
    for (size_t i = 0; i < n && !r->bad; i++) rstring(r, &len);
}

static int rchunk(const unsigned char *s, size_t n, proto *top) {
    static const char head[] = "\x1bLua\x54\x00\x19\x93\r\n\x1a\n";
    lua_Integer li = 0x5678;
    lua_Number ln = 370.5;
    reader r = {s, s + n, 0};
    const unsigned char *h = rskip(&r, sizeof head - 1);
    if (!h || memcmp(h, head, sizeof head - 1) != 0) return 0;
    if (rbyte(&r) != 4 || rbyte(&r) != sizeof(lua_Integer)
        || rbyte(&r) != sizeof(lua_Number)) return 0;
    h = rskip(&r, sizeof li);
    if (!h || memcmp(h, &li, sizeof li) != 0) return 0;
    h = rskip(&r, sizeof ln);
    if (!h || memcmp(h, &ln, sizeof ln) != 0) return 0;
    rbyte(&r);                                  /* upvalues of the closure */
    memset(top, 0, sizeof *top);
    top->end = r.end;
    rfunction(&r, 0, top);
    return !r.bad && r.p == r.end;
}

static uint32_t insn(const proto *f, int64_t pc) {
    uint32_t i;
    memcpy(&i, f->code + 4 * pc, 4);   /* dumped in native byte order */
    return i;
}

typedef struct { const unsigned char *s; int64_t len; } kref;

/* Pushes a userdata indexing the constants: string ones get their bytes. */
static kref *kindex(lua_State *L, const proto *f) {
    kref *k = lua_newuserdatauv(L, (size_t)(f->nk ? f->nk : 1) * sizeof *k, 0);
    reader r = {f->k, f->end, 0};
    rsize(&r);
    for (int64_t i = 0; i < f->nk; i++) {
        int t = rbyte(&r);
        k[i].s = NULL;
        if (t == 0x03) rskip(&r, sizeof(lua_Integer));
        else if (t == 0x13) rskip(&r, sizeof(lua_Number));
        else if (t == 0x04 || t == 0x14) k[i].s = rstring(&r, &k[i].len);
    }
    return k;                          /* rfunction already checked bounds */
}

/* Append the key to the list at -2 unless the set at -1 has it. */
static void addkey(lua_State *L, const kref *k) {
    lua_pushlstring(L, (const char *)k->s, (size_t)k->len);
    if (lua_rawget(L, -2) == LUA_TNIL) {
        lua_pushlstring(L, (const char *)k->s, (size_t)k->len);
        lua_pushboolean(L, 1);
        lua_rawset(L, -4);
        lua_pushlstring(L, (const char *)k->s, (size_t)k->len);
        lua_rawseti(L, -4, (lua_Integer)lua_rawlen(L, -4) + 1);
    }
    lua_pop(L, 1);
}

/* Pushes (among scratch) the field list and returns 1, or returns 0. */
static int analyse(lua_State *L, const proto *f) {
    int64_t n = f->ncode;
    if (f->numparams < 1 || f->vararg || f->captured) return 0;
    const kref *k = kindex(L, f);
    /* Where control may arrive other than from the instruction before. */
    unsigned char *target = lua_newuserdatauv(L, (size_t)n + 2, 0);
    memset(target, 0, (size_t)n + 2);
    for (int64_t pc = 0; pc < n; pc++) {
        uint32_t i = insn(f, pc);
        int op = GET_OP(i);
        int64_t t = -1;
        if (op >= NOPS) return 0;
        switch (op) {   /* as lvm.c moves pc, relative to pc + 1 */
        case OP_JMP: t = pc + 1 + GET_SJ(i); break;
        case OP_FORPREP: t = pc + 2 + GET_BX(i); break;
        case OP_TFORPREP: t = pc + 1 + GET_BX(i); break;
        case OP_FORLOOP: case OP_TFORLOOP: t = pc + 1 - GET_BX(i); break;
        }
        if (t != -1) {
            if (t < 0 || t > n) return 0;
            target[t] = 1;
        }
        /* lvm.c runs these followers without looking at their opcode, so
         * insist on what the compiler emits: tests take the next JMP, a
         * TFORPREP lands on TFORCALL, which goes on to TFORLOOP. */
        if (op >= OP_EQ && op <= OP_TESTSET
            && (pc + 1 >= n || GET_OP(insn(f, pc + 1)) != OP_JMP)) return 0;
        if (op == OP_TFORPREP && (t >= n || GET_OP(insn(f, t)) != OP_TFORCALL)) return 0;
        if (op == OP_TFORCALL
            && (pc + 1 >= n || GET_OP(insn(f, pc + 1)) != OP_TFORLOOP)) return 0;
        if (ops[op].f & SKIP) target[pc + 2] = 1;
    }
    lua_newtable(L);                   /* the list */
    lua_newtable(L);                   /* the keys seen */
    for (int64_t pc = 0; pc < n; pc++) {
        uint32_t i = insn(f, pc);
        int op = GET_OP(i), a = GET_A(i), b = GET_B(i), c = GET_C(i);
        int fl = ops[op].f;
        if (op == OP_GETFIELD && b == 0 && a != 0) {
            if (c >= f->nk || !k[c].s) return 0;
            addkey(L, &k[c]);
            continue;
        }
        if (op == OP_GETTABLE && b == 0 && a != 0 && c != 0 && pc > 0 && !target[pc]) {
            uint32_t p = insn(f, pc - 1);  /* the only way in: R[c] = K[bx] */
            int64_t bx = GET_BX(p);
            if (GET_OP(p) != OP_LOADK || GET_A(p) != c || bx >= f->nk || !k[bx].s)
                return 0;
            addkey(L, &k[bx]);
            continue;
        }
        if (op == OP_TEST && a == 0) continue;
        if (((fl & RA) && a == 0) || ((fl & RB) && b == 0) || ((fl & RC) && c == 0)
            || ((fl & RKC) && !GET_K(i) && c == 0))
            return 0;
    }
    lua_pop(L, 1);
    return 1;
}

/* Dump and parse the function at idx: pushes the chunk and returns 1, or
 * pushes nothing and returns 0. */
typedef struct { luaL_Buffer b; int init; } dumpbuf;

static int dwriter(lua_State *L, const void *p, size_t sz, void *ud) {
    dumpbuf *d = ud;
    if (!d->init) { d->init = 1; luaL_buffinit(L, &d->b); }
    luaL_addlstring(&d->b, p, sz);
    return 0;
}

static int dump(lua_State *L, int idx, proto *f) {
    int top = lua_gettop(L);
    dumpbuf d;
    size_t n;
    if (lua_type(L, idx) != LUA_TFUNCTION || lua_iscfunction(L, idx)) return 0;
    lua_pushvalue(L, idx);             /* lua_dump wants it on top */
    d.init = 0;
    int st = lua_dump(L, dwriter, &d, 1);
    if (!d.init) { lua_settop(L, top); return 0; }
    luaL_pushresult(&d.b);
    lua_remove(L, top + 1);
    const char *s = lua_tolstring(L, -1, &n);
    if (st != 0 || !rchunk((const unsigned char *)s, n, f)) { lua_settop(L, top); return 0; }
    return 1;
}

int lask__fn_fields(lua_State *L, int idx) {
    proto f;
    int top = lua_gettop(L);
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 8, "fn_fields");
    if (dump(L, idx, &f) && analyse(L, &f)) {
        lua_replace(L, top + 1);       /* over the chunk */
        lua_settop(L, top + 1);
    } else {
        lua_settop(L, top);
        lua_pushnil(L);
    }
    return 1;
}

/* core.fn_fields(fn) -> list or nil. core.fn_fields(fn, "ops") -> the
 * opcode names of fn's own instructions, by which the tests check the
 * numbering above against luac5.4 -l. */
int lask__l_fn_fields(lua_State *L) {
    proto f;
    luaL_checkany(L, 1);
    if (lua_isnoneornil(L, 2)) return lask__fn_fields(L, 1);
    if (strcmp(luaL_checkstring(L, 2), "ops") != 0)
        return luaL_argerror(L, 2, "expected \"ops\" or nothing");
    if (!dump(L, 1, &f)) { lua_pushnil(L); return 1; }
    lua_createtable(L, (int)(f.ncode < 1000000 ? f.ncode : 0), 0);
    for (int64_t pc = 0; pc < f.ncode; pc++) {
        int op = GET_OP(insn(&f, pc));
        lua_pushstring(L, op < NOPS ? ops[op].name : "?");
        lua_rawseti(L, -2, (lua_Integer)pc + 1);
    }
    return 1;
}
