# tests/extra.sh - sourced by tools/run_tests.sh after the other suites.
# DuckDB interop: DuckDB must read back what lask's Parquet writer makes.
echo "== DuckDB interop (parquet)"
_pq_fix=""
for _d in "${LASK_SHARED:-}" ../shared ../../shared; do
  [ -n "$_d" ] && [ -f "$_d/data/parquet/snappy.parquet" ] && { _pq_fix="$_d/data/parquet/snappy.parquet"; break; }
done
if ! command -v node >/dev/null 2>&1; then
  echo "  duckdb_interop: node not installed: 1 skipped"; S=$((S + 1))
elif [ ! -d bench/.deps/node_modules/@duckdb/node-api ]; then
  echo "  duckdb_interop: @duckdb/node-api missing (npm install --prefix bench/.deps @duckdb/node-api): 1 skipped"
  S=$((S + 1))
elif [ -z "$_pq_fix" ]; then
  echo "  duckdb_interop: shared Parquet fixtures not found: 1 skipped"; S=$((S + 1))
else
  _pq_out=$(mktemp -d)
  _pq_run() { "$BUILD/lask" tests/interop/lask_write.lua "$_pq_fix" "$_pq_out" && node tests/interop/duckdb_check.mjs "$_pq_fix" "$_pq_out"; }
  run_suite duckdb_interop _pq_run
  rm -rf "$_pq_out"
fi
