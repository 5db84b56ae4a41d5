#!/bin/sh
# Run every libFuzzer target for SECS seconds each (default 20) and print
# "N passed, M failed": a target passes when it ran its time without a crash,
# leak or sanitizer report. Reproducers land in build-fuzz/.
SECS=${1:-20}
P=0; F=0
one() {  # NAME CMD...
  name=$1; shift
  if "$@" > "build-fuzz/$name.log" 2>&1; then P=$((P + 1)); echo "  fuzz $name: ok"
  else F=$((F + 1)); echo "  fuzz $name: FAILED"; grep -E "ERROR|runtime error|SUMMARY|Test unit" "build-fuzz/$name.log" | head -5
  fi
}
mkdir -p build-fuzz
for src in tests/fuzz/fuzz_*.c; do
  n=$(basename "$src" .c); n=${n#fuzz_}
  one "$n" sh -c "make -s build-fuzz/fuzz_$n && cd build-fuzz && mkdir -p corpus-$n && \
    ./fuzz_$n -max_total_time=$SECS -rss_limit_mb=1536 -timeout=10 corpus-$n \
    \$(for d in ../tests/fuzz/corpus/$n ../tests/fuzz/${n}_corpus; do [ -d \$d ] && echo \$d; done)"
done
one decode sh tests/fuzz/run_decode.sh "$SECS"
one textio sh tests/fuzz/run_textio.sh "$SECS"
one json sh tests/fuzz/run_json.sh "$SECS"
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
