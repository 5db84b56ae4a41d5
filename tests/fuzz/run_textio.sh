#!/bin/sh
# Build the textio fuzz target (it links Lua, so it is not one of the
# runtime-only tests/fuzz/fuzz_*.c targets of `make fuzz`) with clang's
# libFuzzer and run it for a short, fixed time (default 30 s) on seeds of
# plain, gzip and zstd text made here. Exits non-zero on a crash.
set -e
SECS=${1:-30}
OUT=${FUZZ_OUT:-build-fuzz/textio}
mkdir -p "$OUT/corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -std=c11 \
  -I/usr/include/lua5.4 -o "$OUT/textio_fuzz" tests/fuzz/textio_fuzz.c lua/l_textio.c \
  -llua5.4 -lz -lzstd -lm
# seeds: mode byte then the file (0: plain, 1: gzip, 2: zstd)
printf '\000a\nbb\n\nccc' > "$OUT/corpus/plain"
printf '\006x\r\ny\r\n' > "$OUT/corpus/crlf"
printf 'one\ntwo\nthree\n' | gzip -c > "$OUT/gz.tmp" 2>/dev/null && \
  { printf '\001'; cat "$OUT/gz.tmp"; } > "$OUT/corpus/gzip"
printf 'one\ntwo\nthree\n' | zstd -q -c > "$OUT/zst.tmp" 2>/dev/null && \
  { printf '\002'; cat "$OUT/zst.tmp"; } > "$OUT/corpus/zstd"
rm -f "$OUT/gz.tmp" "$OUT/zst.tmp"
"$OUT/textio_fuzz" -max_total_time="$SECS" -max_len=4096 -timeout=10 "$OUT/corpus"
