#!/bin/sh
# Print a C header as LuaJIT's ffi.cdef takes it: the include guard and the
# #include lines are dropped, nothing else is touched.
exec sed -e '/^#ifndef LASK_H/d' -e '/^#define LASK_H/d' -e '/^#endif/d' -e '/^#include/d' "$1"
