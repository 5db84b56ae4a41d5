/*
 * lalloc.c - the allocator of the Lua states lask makes.
 *
 * A worker's Lua state allocates and frees small blocks at a furious rate
 * (a JSON record is a table, a hash part and a few strings, dead a moment
 * later). glibc's malloc spends a third of such a workload in its own
 * bookkeeping; mimalloc (Debian's libmimalloc: thread-local free lists,
 * safe to free from another thread) roughly halves that.
 *
 * Debian ships mimalloc only as a shared library that exports malloc and
 * free: linking it would replace malloc for the whole process, which makes
 * the runtime's big column buffers slower (to_parquet lost ~25%). So it is
 * opened with RTLD_LOCAL, where its malloc interposes nothing, and only
 * mi_realloc/mi_free are used, for Lua states alone. Without the library
 * (or in sanitizer builds, so AddressSanitizer sees every block) Lua states
 * use libc's realloc/free.
 */
#include <dlfcn.h>
#include <pthread.h>
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

typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);

static realloc_fn mi_realloc_p;
static free_fn mi_free_p;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load_mimalloc(void) {
#ifndef LASK_LIBC_ALLOC
    if (getenv("LASK_LIBC_ALLOC")) return;   /* for comparisons */
    void *h = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    realloc_fn r = (realloc_fn)dlsym(h, "mi_realloc");
    free_fn f = (free_fn)dlsym(h, "mi_free");
    if (r && f) {
        mi_realloc_p = r;
        mi_free_p = f;
    }
#endif
}

static void *lalloc_mi(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        mi_free_p(ptr);
        return NULL;
    }
    return mi_realloc_p(ptr, nsize);
}

static void *lalloc_libc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

/* As luaL_newstate's: say what went wrong before Lua aborts. */
static int panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "lask: unprotected error in a Lua state: %s\n", msg ? msg : "(not a string)");
    return 0;
}

lua_State *lask__newstate(void) {
    pthread_once(&once, load_mimalloc);
    lua_State *L = lua_newstate(mi_realloc_p ? lalloc_mi : lalloc_libc, NULL);
    if (L) lua_atpanic(L, panic);
    return L;
}
