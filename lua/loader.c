/*
 * loader.c - luaopen_lask: the stdlib compiled into the module.
 *
 * tools/embed.lua turns the files of stdlib/lask/ into lask__stdlib[]; each becomes a
 * package.preload entry whose chunk name is "@stdlib/lask/x.lua", so errors
 * and tracebacks point at the file a reader can open.
 */
#include <string.h>
#include "lcore.h"

typedef struct { const char *name; const char *path; const char *src; size_t len; } lask_embedded;
extern const lask_embedded lask__stdlib[];

static int load_embedded(lua_State *L) {
    const lask_embedded *e = lua_touserdata(L, lua_upvalueindex(1));
    lua_pushfstring(L, "@%s", e->path);
    if (luaL_loadbufferx(L, e->src, e->len, lua_tostring(L, -1), "t") != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, 1);          /* module name, as require passes it */
    lua_pushfstring(L, "%s", e->path);
    lua_call(L, 2, 1);
    return 1;
}

void lask__preload(lua_State *L) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const lask_embedded *e = lask__stdlib; e->name; e++) {
        lua_pushlightuserdata(L, (void *)e);
        lua_pushcclosure(L, load_embedded, 1);
        lua_setfield(L, -2, e->name);
    }
    lua_pushcfunction(L, luaopen_lask_core);
    lua_setfield(L, -2, "lask.core");
    lua_pop(L, 1);
    lask__preload_kind_modules(L);
}

int luaopen_lask(lua_State *L) {
    lask__preload(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    if (lua_getfield(L, -1, "lask") != LUA_TFUNCTION)
        return luaL_error(L, "lask: the stdlib entry (stdlib/lask/init.lua) is not embedded");
    lua_pushliteral(L, "lask");
    lua_pushliteral(L, "stdlib/lask/init.lua");
    lua_call(L, 2, 1);
    return 1;
}
