-- bench/dataframe.lua - read_csv -> filter -> groupby on the trips data set,
-- against DuckDB on the same files in the same run.
--
--   build/lask bench/dataframe.lua [data dir]
-- Needs the data from bench/gen_trips.lua (made here when missing) and, for
-- the ratio, `make bench-deps` (DuckDB from npm into bench/.deps).
local dd = require "lask.dataframe"
local core = require "lask.core"
local F = require "lask.core.frame"

local function now() return core.now and core.now() or os.clock() end
local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local lask_bin = arg and arg[-1] or "build/lask"

-- the peak-RSS child: a groupby over one big CSV with small blocks
if arg[1] == "--rss" then
  local path, block = arg[2], tonumber(arg[3])
  local t0 = now()
  local r = dd.read_csv(path, {blocksize = block}):groupby("key"):agg{y = {"mean", "count"}, x = "max"}:compute()
  local hwm
  for line in io.lines("/proc/self/status") do
    local v = line:match("^VmHWM:%s*(%d+)")
    if v then hwm = tonumber(v) end
  end
  print(("rss-result %d %d %.3f"):format(r:nrows(), hwm, now() - t0))
  return
end

local dir = arg[1] or "bench/data"
local files = F.glob(dir .. "/trips-[0-9][0-9].csv")
if #files < 16 then
  print("generating the data set (10M rows) into " .. dir .. " ...")
  assert(os.execute("lua5.4 bench/gen_trips.lua 10000000 " .. sh_quote(dir)))
  files = F.glob(dir .. "/trips-[0-9][0-9].csv")
end
local bytes = 0
for _, f in ipairs(files) do bytes = bytes + F.stat(f) end
local mb = bytes / 1e6

local function query()
  local df = dd.read_csv(dir .. "/trips-[0-9][0-9].csv")
  return df[df.x:gt(0.5)]:groupby("key"):agg{y = {"mean", "count"}}:compute()
end

query()  -- warm the page cache
local best, result, bcpu = math.huge, nil, math.huge
for _ = 1, 3 do
  local t0, c0 = now(), os.clock()
  result = query()
  local t, c = now() - t0, os.clock() - c0   -- os.clock: CPU time of all threads
  if t < best then best = t end
  if c < bcpu then bcpu = c end
end
print(("lask:   %d files, %.0f MB, filter x > 0.5 -> groupby key -> mean y, count: %.3f s (best of 3), %.0f MB/s, %.2f s CPU, %d groups")
  :format(#files, mb, best, mb / best, bcpu, result:nrows()))
print(("        key %d: y_mean %.6f, y_count %d"):format(result.key[1], result.y_mean[1], result.y_count[1]))

-- DuckDB on the same files
local duck = "bench/.deps/node_modules/@duckdb/node-api"
local f = io.open(duck .. "/package.json")
if not f then
  print("duckdb: unavailable (run `make bench-deps`)")
else
  f:close()
  local dbest, dres, dcpu = math.huge, nil, math.huge
  for _ = 1, 3 do
    local p = io.popen("node bench/duckdb_query.mjs " .. sh_quote(dir .. "/trips-[0-9][0-9].csv") .. " 2>&1")
    local out = p:read("a")
    p:close()
    local s = tonumber(out:match('"seconds":([%d%.e%-]+)'))
    if not s then print("duckdb: failed: " .. out); break end
    if s < dbest then dbest, dres = s, out end
    dcpu = math.min(dcpu, tonumber(out:match('"cpu":([%d%.e%-]+)')) or math.huge)
  end
  if dbest < math.huge then
    local first = dres:match('"first":%[([^%]]*)%]') or ""
    print(("duckdb: %.3f s (best of 3), %.0f MB/s, %.2f s CPU; first group %s"):format(dbest, mb / dbest, dcpu, first))
    print(("ratio lask/duckdb: %.2fx wall time (goal <= 1.0x), %.2fx CPU time"):format(best / dbest, bcpu / dcpu))
  end
end

-- bounded memory: a groupby over a CSV five times the memory limit
local big = dir .. "/trips.csv"
local size = F.stat(big)
if size then
  -- the configured limit if the runtime has one, else a fifth of the file
  local limit = size // 5
  local ok, v = pcall(require("lask.config").get, "memory_limit")
  if ok and type(v) == "number" and v > 0 and v * 5 <= size then limit = v end
  local cmd = ("%s bench/dataframe.lua --rss %s %d"):format(sh_quote(lask_bin), sh_quote(big), limit // 4)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  local groups, hwm, secs = out:match("rss%-result (%d+) (%d+) ([%d%.]+)")
  if hwm then
    print(("peak RSS: %.0f MB for a groupby over %.0f MB of CSV (%.1fx a %d MB memory limit, %d MB blocks), %.2f s, %d groups (target <= 1 GB)")
      :format(tonumber(hwm) / 1024, size / 1e6, size / limit, limit // 1048576, limit // 4 // 1048576, tonumber(secs), tonumber(groups)))
  else
    print("peak RSS: failed: " .. out)
  end
end
