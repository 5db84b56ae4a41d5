#!/bin/sh
# Run every test suite and print one closing line "N passed, M failed[, K skipped]".
# Each suite prints its own counts; a suite that crashes or prints none counts
# as one failure. BUILD names the build folder (build, build-asan, build-tsan).
BUILD=${BUILD:-build}
P=0; F=0; S=0
LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT

# add_counts NAME FILE STATUS: read the last "N passed, M failed[, K skipped]" line
add_counts() {
  line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
  if [ -z "$line" ]; then
    echo "  $1: no result line (exit $3): counted as 1 failure"; F=$((F + 1)); return
  fi
  p=$(echo "$line" | sed -E 's/^[^0-9]*([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p'); s=${s:-0}
  if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  echo "  $1: $p passed, $f failed, $s skipped"
  P=$((P + p)); F=$((F + f)); S=$((S + s))
}

run_suite() {  # NAME CMD...
  name=$1; shift
  out="$LOG/$(echo "$name" | tr '/ ' '__').log"
  "$@" >"$out" 2>&1; st=$?
  if [ $st -ne 0 ] || grep -qE '[1-9][0-9]* failed' "$out"; then
    sed -n '1,200p' "$out" | grep -vE '^ok ' | tail -n 80
  fi
  add_counts "$name" "$out" "$st"
}

echo "== C unit tests ($BUILD)"
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] && run_suite "$(basename "$t")" "$t"
done

echo "== busted specs"
# busted's TAP output turned into a count
busted_counts() {
  "$BUILD/lask" /usr/bin/busted --lpath='./tests/spec/?.lua' -o TAP tests/spec > "$LOG/busted.tap" 2>&1
  st=$?
  cat "$LOG/busted.tap"
  ok=$(grep -cE '^ok ' "$LOG/busted.tap"); nok=$(grep -cE '^not ok ' "$LOG/busted.tap")
  sk=$(grep -cE '^ok .*# SKIP' "$LOG/busted.tap")
  echo "$((ok - sk)) passed, $nok failed, $sk skipped"
  [ "$nok" -eq 0 ] && [ $st -eq 0 ]
}
run_suite busted busted_counts

if [ "$SAN" != "tsan" ]; then
  echo "== embedding host"
  [ -x "$BUILD/embed_host" ] && run_suite embed_host "$BUILD/embed_host" examples/embed/workflow.lua
  if [ -z "$SAN" ]; then
    echo "== LuaJIT FFI"
    if command -v luajit >/dev/null; then
      run_suite ffi luajit tests/ffi/test_ffi.lua "$BUILD"
    else
      echo "  ffi: luajit not installed: 1 skipped"; S=$((S + 1))
    fi
  fi
fi
[ -f tests/extra.sh ] && . tests/extra.sh

echo "$P passed, $F failed$( [ $S -gt 0 ] && echo ", $S skipped")"
[ $F -eq 0 ]
