-- bench/parquet.lua - Parquet figures (issue 6), each against DuckDB in the
-- same run where there is a DuckDB equivalent.
--
--   build/lask bench/parquet.lua [rows]      (default 10M rows)
--
-- 1. the trips CSV (bench/gen_trips.lua) to Parquet with lask: write
--    throughput of to_parquet for snappy and zstd (in-memory frame MB/s);
-- 2. filter x > 0.5 -> groupby key -> mean y, count, from the snappy files:
--    seconds, and the ratio to DuckDB running the same query on the same
--    files (best of 3 each);
-- 3. the time to open the footers of a 1000-file dataset (read_parquet's
--    planning: list, read every footer, build the graph).
local core = require "lask.core"
local dd = require "lask.dataframe"
local pq = require "lask.parquet"
local pqc = require "lask.core.parquet"

local rows = tonumber(arg and arg[1]) or 10000000
local DATA = "bench/data"
local csv = ("%s/trips-%d.csv"):format(DATA, rows)
local now = core.now

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

if pqc.stat(csv) ~= "file" then
  local tmp = DATA .. "/gen-" .. rows
  print(("generating %d rows of trips CSV ..."):format(rows))
  os.execute(("lua5.4 bench/gen_trips.lua %d %s >/dev/null && mv %s/trips.csv %s && rm -rf %s")
    :format(rows, tmp, tmp, csv, tmp))
end

local function best(n, fn)
  local b, r = math.huge, nil
  for _ = 1, n do
    local t0 = now()
    r = fn()
    local s = now() - t0
    if s < b then b = s end
  end
  return b, r
end

-- 1. CSV -> Parquet
local df = dd.read_csv(csv):persist()
local frames = core.compute(df:__lask_tasks())
local mbytes = 0
for _, f in ipairs(frames) do mbytes = mbytes + f:nbytes() end
mbytes = mbytes / 1e6
print(("trips: %d rows, %d partitions, %.0f MB in memory"):format(rows, df.npartitions, mbytes))
local dirs = {}
for _, comp in ipairs{"snappy", "zstd"} do
  local dir = ("%s/trips-%d-%s.parquet.d"):format(DATA, rows, comp)
  dirs[comp] = dir
  local s = best(1, function() return pq.to_parquet(df, dir, {compression = comp, overwrite = true}) end)
  local disk = tonumber(sh("du -sb " .. dir .. " | cut -f1")) / 1e6
  print(("to_parquet %-6s  %6.2f s  %7.1f MB/s  (%.0f MB on disk)"):format(comp, s, mbytes / s, disk))
end

-- 2. the query, lask then DuckDB on the same files
local dir = dirs.snappy
local function lask_query()
  return dd.read_parquet(dir, {columns = {"key", "y"}, filters = {{"x", ">", 0.5}}})
    :groupby("key"):agg{y = {"mean", "count"}}:compute()
end
local ls, res = best(3, lask_query)
local groups, total = res:nrows(), 0
for _, v in ipairs(res:column("y_count"):values()) do total = total + v end
local sql = ("SELECT key, avg(y), count(y) FROM read_parquet('%s/*.parquet') WHERE x > 0.5 GROUP BY key"):format(dir)
local out = sh(("node bench/parquet_duckdb.mjs %q 3 2>&1"):format(sql))
local ds, drows = out:match("seconds (%S+) rows (%d+)")
print(("query filter x > 0.5 -> groupby key -> mean y, count: lask %.3f s (%d groups, %d rows)"):format(ls, groups, total))
if ds then
  ds = tonumber(ds)
  print(("                                                  DuckDB %.3f s (%s groups)   ratio %.2fx")
    :format(ds, drows, ls / ds))
else
  print("DuckDB: not available (" .. out:gsub("\n.*", "") .. ")")
end
local rs = best(3, function()
  return core.compute(dd.read_parquet(dir, {columns = {"key", "x", "y"}}):__lask_tasks())
end)
print(("read key, x, y (no filter): %.3f s, %.0f M rows/s"):format(rs, rows / rs / 1e6))

-- 3. footers of a 1000-file dataset
local many = DATA .. "/parquet-1000-files"
if pqc.stat(many .. "/part.999.parquet") ~= "file" then
  pqc.mkdirs(many)
  local small = pqc.read_rowgroup(dir .. "/part.0.parquet", 1, nil, {1, "id", "<=", 1, 100})
  for i = 0, 999 do pqc.write(small, ("%s/part.%d.parquet"):format(many, i), {}) end
end
local fs, d1000 = best(3, function() return pq.read_parquet(many) end)
print(("open the footers of 1000 files: %.3f s (%d partitions)"):format(fs, d1000.npartitions))
