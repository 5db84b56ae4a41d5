-- lask_write.lua FIXTURE OUTDIR: write FIXTURE (a DuckDB-made Parquet file)
-- back out with lask in several ways, for tests/interop/duckdb_check.mjs.
local pq = require "lask.parquet"
local pqc = require "lask.core.parquet"
local src, out = arg[1], arg[2]
local df = pq.read_parquet(src, {split_row_groups = false})
for _, comp in ipairs{"snappy", "zstd", "gzip", "none", "lz4"} do
  pq.to_parquet(df, out .. "/" .. comp, {compression = comp, row_group_size = 1500, overwrite = true})
end
pq.to_parquet(df, out .. "/hive", {partition_on = {"cat"}, overwrite = true})
pqc.write(pqc.empty_frame({"a", "b", "c"}, {"int64", "string", "timestamp"}), out .. "/empty.parquet")
print("written to " .. out)
