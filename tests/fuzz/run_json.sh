#!/bin/sh
# Build the lask.core.json fuzz target (C++ binding + textio, linked with
# Lua and simdjson) with clang's libFuzzer and run it for a short, fixed
# time (default 30 s) on a few seeds. Exits non-zero on a crash.
set -e
SECS=${1:-30}
OUT=${FUZZ_OUT:-build-fuzz/json}
mkdir -p "$OUT/corpus"
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I/usr/include/lua5.4 -Ilua"
clang++ $FLAGS -std=c++17 -fno-exceptions -fno-rtti -c lua/json_simd.cc -o "$OUT/json_simd.o"
clang $FLAGS -std=c11 -o "$OUT/json_fuzz" tests/fuzz/json_fuzz.c lua/l_textio.c "$OUT/json_simd.o" \
  -llua5.4 -lsimdjson -lstdc++ -lz -lzstd -lm
printf '\000{"a": 1, "b": [1, 2.5, "x"], "user": null}\n[1, {"a": 2}]\n7\n' > "$OUT/corpus/lines"
printf '\021{"a": "\\u00e9", "c": {"d": true}}||{"b": -0.0}||{bad' > "$OUT/corpus/pruned"
printf '\004{"a": 123456789012345678901234567890}\n"\377"\n\n{"a":1}' > "$OUT/corpus/odd"
"$OUT/json_fuzz" -max_total_time="$SECS" -max_len=4096 -timeout=10 "$OUT/corpus"
