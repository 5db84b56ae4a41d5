/* l_ndarray.h - what the local-array files of the bridge share. */
#ifndef LASK_L_NDARRAY_H
#define LASK_L_NDARRAY_H
#include <lua.h>
#include "ndarray_ops.h"

lask__ndarray *lask__check_nd(lua_State *L, int idx);
lask__ndarray *lask__test_nd(lua_State *L, int idx);
/* Push a NumPy-like text of a (abbreviated with ... when large). */
void lask__nd_tostring(lua_State *L, const lask__ndarray *a);
#endif
