/*
 * lalloc.c - the allocator of the Lua states lask makes.
 *
 * A worker's Lua state allocates and frees small blocks at a furious rate
 * (a JSON record is a table, a hash part and a few strings, dead a moment
 * later). glibc's malloc spends a third of such a workload in its own
 * bookkeeping; mimalloc (Debian's libmimalloc, thread-local free lists,
 * safe to free from another thread) roughly halves that. Sanitizer builds
 * keep the libc allocator, so AddressSanitizer still sees every block.
 */
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>

#include "bridge.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LASK_LIBC_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LASK_LIBC_ALLOC 1
#endif
#endif
#ifndef LASK_LIBC_ALLOC
#include <mimalloc.h>
#endif

static void *lalloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    (void)osize;
#ifdef LASK_LIBC_ALLOC
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
#else
    if (nsize == 0) {
        mi_free(ptr);
        return NULL;
    }
    return mi_realloc(ptr, nsize);
#endif
}

/* As luaL_newstate's: say what went wrong before Lua aborts. */
static int panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "lask: unprotected error in a Lua state: %s\n", msg ? msg : "(not a string)");
    return 0;
}

lua_State *lask__newstate(void) {
    lua_State *L = lua_newstate(lalloc, NULL);
    if (L) lua_atpanic(L, panic);
    return L;
}
