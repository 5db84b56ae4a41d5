/*
 * textio_fuzz.c - libFuzzer target for lask.core.textio (lua/l_textio.c).
 *
 * The first input byte picks the codec (plain, gzip, zstd) and, for plain
 * text, a block size and a delimiter; the rest is the file. Corrupt or
 * truncated compressed data must give a Lua error, never a crash, and a
 * plain file split into blocks must give exactly the lines read_all gives.
 *
 *   sh tests/fuzz/run_textio.sh [seconds]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_lask_core_textio(lua_State *L);

static lua_State *L;
static char path[64];

static const char *check =
    "local T, path, mode, bs, delim = ...\n"
    "if mode == 0 then\n"
    "  local all = T.read_all(path, 'none', delim)\n"
    "  local size, got = T.size(path), {}\n"
    "  for s = 0, size - 1, bs do\n"
    "    for _, l in ipairs((T.read_lines(path, s, math.min(s + bs, size), delim))) do got[#got + 1] = l end\n"
    "  end\n"
    "  if #got ~= #all then error('FUZZ: block split gave ' .. #got .. ' lines, read_all ' .. #all) end\n"
    "  for i = 1, #all do if got[i] ~= all[i] then error('FUZZ: line ' .. i .. ' differs') end end\n"
    "  if #all > 0 then T.line_of(path, size // 2, delim) end\n"
    "else\n"
    "  local ok, err = pcall(T.read_all, path, mode == 1 and 'gzip' or 'zstd', delim)\n"
    "  if not ok and type(err) ~= 'string' then error('FUZZ: non-string error') end\n"
    "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!L) {
        L = luaL_newstate();
        luaL_openlibs(L);
        snprintf(path, sizeof path, "/tmp/lask-textio-fuzz-%d", (int)getpid());
    }
    if (size < 1) return 0;
    int mode = data[0] % 3;
    /* 1 byte .. the whole file, in 64 steps: few blocks for big inputs */
    int bs = 1 + (int)(((size - 1) * (size_t)(data[0] >> 2)) / 64);
    const char *delim = (data[0] & 2) ? "\r\n" : "\n";
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) abort();
    fclose(f);
    lua_settop(L, 0);
    if (luaL_loadstring(L, check) != LUA_OK) abort();
    luaL_requiref(L, "lask.core.textio", luaopen_lask_core_textio, 0);
    lua_pushstring(L, path);
    lua_pushinteger(L, mode);
    lua_pushinteger(L, bs);
    lua_pushstring(L, delim);
    if (lua_pcall(L, 5, 0, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        /* only a broken invariant is a finding; plain errors are fine */
        if (msg && strstr(msg, "FUZZ:")) {
            fprintf(stderr, "%s\n", msg);
            abort();
        }
    }
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}
