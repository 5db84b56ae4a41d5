#!/bin/sh
# Build the value-decoder fuzz target (it links Lua, so it is not one of the
# runtime-only tests/fuzz/fuzz_*.c targets of `make fuzz`) with clang's
# libFuzzer and run it for a short, fixed time (default 30 s) on seeds made
# by decode_seeds.lua. Exits non-zero on a crash.
set -e
SECS=${1:-30}
OUT=${FUZZ_OUT:-build-fuzz/lua-decode}
mkdir -p "$OUT/corpus"
make -s all >/dev/null
build/lask tests/fuzz/decode_seeds.lua "$OUT/corpus"
lua5.4 tools/embed.lua "$OUT/stdlib_embed.c" $(find stdlib -name '*.lua' | sort)
clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -std=c11 \
  -Iruntime -Ilua -I/usr/include/lua5.4 -I/usr/include/x86_64-linux-gnu/openblas-pthread -o "$OUT/lua_decode_fuzz" tests/fuzz/lua_decode_fuzz.c \
  lua/encode.c lua/values.c lua/ship.c lua/workers.c lua/core.c lua/loader.c lua/lalloc.c lua/fnfields.c \
  "$OUT/stdlib_embed.c" runtime/*.c -llua5.4 \
  -L/usr/lib/x86_64-linux-gnu/openblas-pthread $(sed -n 's/^RT_LIBS *:= *//p' Makefile)
"$OUT/lua_decode_fuzz" -max_total_time="$SECS" -max_len=4096 "$OUT/corpus"
