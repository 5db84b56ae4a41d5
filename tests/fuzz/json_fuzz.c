/*
 * json_fuzz.c - libFuzzer target for lask.core.json (lua/json_simd.cc).
 *
 * The first input byte picks the delimiter, the batch size and whether
 * records are pruned to a few keys; the rest is a text of JSON lines. The
 * text is decoded with batch() (from a string and, through read_lines, from
 * a text buffer) and line by line with decode(): both must agree record by
 * record, a refused record must come back with its text, and nothing may
 * crash or read outside its buffer.
 *
 *   sh tests/fuzz/run_json.sh [seconds]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_lask_core_json(lua_State *L);
int luaopen_lask_core_textio(lua_State *L);

static lua_State *L;
static char path[64];

static const char *check =
    "local J, T, path, text, delim, max, keys = ...\n"
    "local function same(a, b)\n"
    "  if type(a) ~= type(b) then return false end\n"
    "  if type(a) ~= 'table' then return a == b or (a ~= a and b ~= b) end\n"
    "  for k, v in pairs(a) do if not same(v, b[k]) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "local function lines(s)\n"
    "  local t, p = {}, 1\n"
    "  while p <= #s do\n"
    "    local q = s:find(delim, p, true)\n"
    "    t[#t + 1] = s:sub(p, (q or #s + 1) - 1)\n"
    "    p = q and q + #delim or #s + 1\n"
    "  end\n"
    "  return t\n"
    "end\n"
    "local want = lines(text)\n"
    "local function run(src, len)\n"
    "  local out, pos, i = {}, 0, 0\n"
    "  while pos < len do\n"
    "    local np, k, msg, line, after = J.batch(src, pos, delim, keys, out, max)\n"
    "    if np then\n"
    "      if np <= pos or k < 1 or k > max or #out ~= k then error('FUZZ: bad batch result') end\n"
    "      pos = np\n"
    "    else\n"
    "      if type(msg) ~= 'string' or line ~= want[i + k] or after <= pos then error('FUZZ: bad refusal') end\n"
    "      if J.decode(line) ~= nil then error('FUZZ: batch refused what decode accepts') end\n"
    "      k = k - 1\n"
    "      pos = after\n"
    "    end\n"
    "    for j = 1, k do\n"
    "      local full = J.decode(want[i + j])\n"
    "      local v = out[j]\n"
    "      if keys and type(full) == 'table' and full[1] == nil and next(full) ~= nil then\n"
    "        for kk, vv in pairs(v) do if not same(vv, full[kk]) then error('FUZZ: pruned field differs') end end\n"
    "      elseif not same(full, v) then error('FUZZ: batch and decode differ') end\n"
    "    end\n"
    "    i = i + k + (np and 0 or 1)\n"
    "  end\n"
    "  if i ~= #want then error('FUZZ: ' .. i .. ' records for ' .. #want .. ' lines') end\n"
    "end\n"
    "run(text, #text)\n"
    "local buf = T.textbuf()\n"
    "T.read_lines(path, 0, #text + 1, delim, buf)\n"
    "run(buf, #buf)\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!L) {
        L = luaL_newstate();
        luaL_openlibs(L);
        luaL_requiref(L, "lask.core.json", luaopen_lask_core_json, 0);
        luaL_requiref(L, "lask.core.textio", luaopen_lask_core_textio, 0);
        lua_settop(L, 0);
        snprintf(path, sizeof path, "/tmp/lask-json-fuzz-%d", (int)getpid());
    }
    if (size < 1) return 0;
    const char *delim = (data[0] & 1) ? "||" : "\n";
    int max = 1 + ((data[0] >> 1) & 7);
    int prune = data[0] & 16;
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) abort();
    fclose(f);
    lua_settop(L, 0);
    if (luaL_loadstring(L, check) != LUA_OK) abort();
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "lask.core.json");
    lua_getfield(L, -2, "lask.core.textio");
    lua_remove(L, -3);
    lua_pushstring(L, path);
    lua_pushlstring(L, (const char *)data + 1, size - 1);
    lua_pushstring(L, delim);
    lua_pushinteger(L, max);
    if (prune) {
        lua_createtable(L, 3, 0);
        const char *k[] = {"a", "b", "user"};
        for (int i = 0; i < 3; i++) {
            lua_pushstring(L, k[i]);
            lua_rawseti(L, -2, i + 1);
        }
    } else {
        lua_pushnil(L);
    }
    if (lua_pcall(L, 7, 0, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        /* the decoder's only errors are about memory; a FUZZ check failing
         * is a bug */
        if (msg && strstr(msg, "FUZZ:")) {
            fprintf(stderr, "%s\n", msg);
            abort();
        }
    }
    return 0;
}
