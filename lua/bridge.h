/*
 * bridge.h - what the Lua-side C code (the files in lua/) shares.
 *
 * The `lask.core` module (luaopen_lask_core) owns one lask_runtime per main
 * Lua state and one Lua state per worker thread. Modules for chunk kinds
 * (lask.core.ndarray, lask.core.frame, ...) register a metatable per kind so
 * that chunks arriving in any state come out as the right userdata.
 *
 * Value mapping between Lua and lask_value (used for task arguments and
 * results, in every state):
 *   nil, boolean, integer, float  <->  LASK_NIL/BOOL/INT/FLOAT
 *   string                        <->  BYTES chunk
 *   table, function               <->  ENCODED chunk (the value encoding)
 *   chunk userdata (any kind)     <->  that chunk, by reference
 */
#ifndef LASK_BRIDGE_H
#define LASK_BRIDGE_H

#include <lua.h>
#include <lauxlib.h>
#include "lask.h"
#include "chunk.h"

/* Userdata layout of every chunk object seen from Lua. */
typedef struct lask__lchunk {
    lask_chunk *c;   /* one reference, dropped by __gc */
} lask__lchunk;

/* Registry name of the metatable used for chunks of kind k, e.g.
 * "lask.chunk.2" for NDARRAY. A kind module fills it with its methods
 * (its __gc must unref, or it may keep the one lask__chunk_gc provides). */
const char *lask__kind_mtname(int32_t kind);
/* Create (or fetch) the metatable for kind and leave it on the stack. */
void lask__kind_metatable(lua_State *L, int32_t kind);
/* __gc shared by every chunk metatable. */
int lask__chunk_gc(lua_State *L);

/* Push c as a chunk userdata (takes over one reference of the caller's). */
void lask__push_chunk(lua_State *L, lask_chunk *c);
/* The chunk at idx, or NULL when idx is not a chunk userdata (or of another
 * kind when kind >= 0). Borrowed. */
lask_chunk *lask__test_chunk(lua_State *L, int idx, int32_t kind);
/* Like lask__test_chunk but raises "bad argument #idx (... expected)". */
lask_chunk *lask__check_chunk(lua_State *L, int idx, int32_t kind, const char *what);

/* Push v (borrowed) following the value mapping above; LASK_LIST becomes
 * a sequence table. Decoding errors raise a Lua error. */
void lask__push_value(lua_State *L, const lask_value *v);
/* Convert the Lua value at idx to an owned lask_value; raises on values
 * that cannot be encoded (naming what and where). */
void lask__to_value(lua_State *L, int idx, lask_value *out);

/* The value encoding (lua/encode.c): Lua value <-> bytes. Round-trips
 * every shippable value exactly; functions travel as bytecode plus their
 * upvalues. Encoding raises a Lua error naming what could not be shipped. */
lask_chunk *lask__encode(lua_State *L, int idx);      /* ENCODED chunk */
void lask__decode(lua_State *L, const char *p, int64_t n); /* pushes it */

/* A new Lua state on lask's allocator (lua/lalloc.c: mimalloc), with a
 * panic handler; NULL when out of memory. Worker states and the lask
 * executable's state are made here. */
lua_State *lask__newstate(void);

/* The runtime of this Lua state (the main state's, also in workers). */
lask_runtime *lask__runtime(lua_State *L);

/* Pushes a sequence of the distinct constant string keys `k` that the Lua
 * function at idx reads as `arg1.k` (GETFIELD on register 0), if that is the
 * ONLY way the function uses its first parameter; pushes nil otherwise
 * (C function, vararg function, no parameters, any other use of the first
 * parameter, a closure capturing it, a dump it cannot parse). Never raises
 * except on memory errors. A key longer than 40 bytes, which 5.4 reads as
 * LOADK + GETTABLE instead of GETFIELD, counts as a constant key too.
 * (lua/fnfields.c) */
int lask__fn_fields(lua_State *L, int idx);
/* core.fn_fields(fn [, "ops"]): the binding of lask__fn_fields. */
int lask__l_fn_fields(lua_State *L);

#endif
