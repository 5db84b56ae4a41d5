/*
 * lua_decode_fuzz.c - libFuzzer target for the value decoder (lua/encode.c).
 *
 * The input is an encoding body; the target adds the header and checksum
 * itself so that the fuzzer reaches the decoder proper instead of stopping
 * at the checksum. Functions are refused (LASK__DEC_NOCODE): Lua does not
 * verify bytecode, so only trusted bytes may carry it.
 *
 *   sh tests/fuzz/run_decode.sh [seconds]
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <lualib.h>
#include "lcore.h"

static lua_State *L;

static int decode_it(lua_State *S) {
    size_t n;
    const char *p = lua_tolstring(S, 1, &n);
    lask__decode_ex(S, p, (int64_t)n, LASK__DEC_NOCODE);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!L) {
        L = luaL_newstate();
        luaL_openlibs(L);
        lask__preload(L);
    }
    char *buf = malloc(size + 12);
    if (!buf) return 0;
    memcpy(buf, "LSK\x01", 4);
    uint64_t h = lask__hash(data, size, 0);
    memcpy(buf + 4, &h, 8);
    if (size) memcpy(buf + 12, data, size);
    lua_pushcfunction(L, decode_it);
    lua_pushlstring(L, buf, size + 12);
    free(buf);
    lua_pcall(L, 1, 1, 0);
    lua_settop(L, 0);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
