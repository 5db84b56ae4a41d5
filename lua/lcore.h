/*
 * lcore.h - what the files of the lask.core module share beyond bridge.h.
 *
 * Every Lua state the bridge touches (the user's main state and one per pool
 * thread) carries a lask__lstate in its registry: the runtime it computes
 * on, whether it is a worker, and the cache of shipped functions.
 */
#ifndef LASK_LCORE_H
#define LASK_LCORE_H

#include "bridge.h"
#include "graph.h"

#define LASK__TASK_MT   "lask.task"
#define LASK__SHIP_MT   "lask.shipped"
#define LASK__LIST_MT   "lask.list"
#define LASK__FNCACHE   "lask.fncache"   /* registry: function id -> function */

/* ---- encode.c */

/* Encoding flags. */
#define LASK__ENC_TOKEN 1   /* tokenizing: unshippable values hash by identity,
                               tasks by key, chunks by address */

/* Decoding flags. */
#define LASK__DEC_NOCODE 1  /* refuse functions (bytecode is not verified) */
/* lask__decode with flags. */
void lask__decode_ex(lua_State *L, const char *p, int64_t n, int flags);
/* Decode an ENCODED chunk made by lask__encode (its chunk references come
 * back as chunk userdata); pushes the value. */
void lask__decode_chunk(lua_State *L, const lask_chunk *c);
/* Encode the value at idx into a Lua string (no chunks allowed); pushes it. */
void lask__encode_string(lua_State *L, int idx);
/* Fold the value at idx into the 128-bit token h. */
void lask__token_value(lua_State *L, int idx, uint64_t h[2]);
/* Function id of an ENCODED chunk (cached in its hash field). */
uint64_t lask__encoded_id(lask_chunk *c);

/* ---- values.c */

/* The task at idx, or NULL when it is not a task object. Borrowed. */
lask__task *lask__test_task(lua_State *L, int idx);
/* Push t as a task object (takes over the caller's reference). */
void lask__push_task(lua_State *L, lask__task *t);
/* Shipped function userdata: its ENCODED chunk. */
typedef struct lask__shipped {
    lask_chunk *c;
    uint64_t id;
} lask__shipped;
lask__shipped *lask__test_shipped(lua_State *L, int idx);
/* Push a shipped function for ENCODED chunk c (takes the caller's reference). */
void lask__push_shipped(lua_State *L, lask_chunk *c);
/* Create the task/shipped/list metatables in L. */
void lask__open_values(lua_State *L);

/* ---- ship.c */

/* core.ship: push a shipped function for the Lua function at idx. */
void lask__ship(lua_State *L, int idx);
/* The "lua.call" kernel, registered on every runtime the bridge creates. */
int32_t lask__lua_call_kernel(lask_ctx *ctx, const lask_value *args,
                              int32_t nargs, lask_value *out, void *ud);

/* ---- workers.c */

typedef struct lask__lstate {
    lask_runtime *rt;
    lua_State *L;          /* the state (the main thread) */
    lua_State *running;    /* thread to run Lua tasks on under sync */
    int worker;            /* -1: the user's main state */
    int owns_rt;
} lask__lstate;

/* This state's bridge record, or NULL before the runtime is created. */
lask__lstate *lask__state(lua_State *L);
/* Set up a fresh worker-like state: standard libraries, preloads, kind
 * modules, the runtime pointer. Used for pool threads. */
lua_State *lask__new_worker_state(lask_runtime *rt, int worker,
                                  const char *path, const char *cpath);
/* Ask every worker state of rt (and the main one) to stop running Lua. */
void lask__interrupt_states(lask_runtime *rt);
/* Called by core.compute before it starts: clears stale interrupt hooks. */
void lask__compute_begin(lua_State *L);
/* Open the kind modules that are linked, as preloads and at once. */
void lask__open_kind_modules(lua_State *L);

/* Register package.preload entries for the linked kind modules (each opens
 * lask.core first), so they may be required before lask.core. */
void lask__preload_kind_modules(lua_State *L);

/* ---- loader.c */

/* Register package.preload entries for lask.core and the embedded stdlib. */
void lask__preload(lua_State *L);

int luaopen_lask_core(lua_State *L);
int luaopen_lask(lua_State *L);

#endif
