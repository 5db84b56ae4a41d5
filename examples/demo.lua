-- demo.lua - one small end-to-end workflow over every lask collection.
-- `make demo` runs it: build/lask examples/demo.lua [workdir]
local lask = require "lask"
local da = require "lask.array"
local dd = require "lask.dataframe"
local db = require "lask.bag"
local json = require "lask.json"

local dir = arg[1] or os.tmpname() .. ".d"
os.execute("mkdir -p " .. dir .. "/trips " .. dir .. "/logs")
local function timed(label, fn)
  local t0 = lask.core.now()
  local r = fn()
  io.write(("%-52s %6.3f s\n"):format(label, lask.core.now() - t0))
  return r
end

-- 1. delayed: write 8 CSV files of taxi-like trips in parallel, one task each
local cats = { "alpha", "beta", "gamma", "delta" }
local write_part = lask.delayed(function(path, seed, n)
  local f = assert(io.open(path, "w"))
  f:write("id,key,cat,x,y\n")
  local s = seed
  for i = 1, n do
    s = (s * 1103515245 + 12345) % 2147483648      -- a tiny LCG: reproducible
    local x = (s % 10000) / 10000
    f:write(("%d,%d,%s,%.4f,%.3f\n"):format(seed * n + i, s % 50, cats[s % 4 + 1], x, x * 10 + i % 7))
  end
  f:close()
  return n
end)
local parts = {}
for p = 1, 8 do parts[p] = write_part(("%s/trips/part-%d.csv"):format(dir, p), p, 25000) end
local rows = timed("delayed: wrote 8 CSV files in parallel", function()
  local counts = { lask.compute(table.unpack(parts)) }
  local s = 0
  for _, c in ipairs(counts) do s = s + c end
  return s
end)
print(("  %d rows in %s/trips"):format(rows, dir))

-- 2. dataframe: read the CSV files, filter, group, aggregate
local df = dd.read_csv(dir .. "/trips/*.csv")
print(df)
local by_cat = timed("dataframe: x > 0.5 -> groupby cat -> y mean/count", function()
  return df[df.x:gt(0.5)]:groupby("cat"):agg{ y = { "mean", "count" } }:compute()
end)
print(by_cat)

-- 3. parquet: write the frame as a Parquet dataset and query it back
timed("parquet: to_parquet (zstd)", function()
  df:to_parquet(dir .. "/trips.parquet", { compression = "zstd", overwrite = true })
end)
local pq = dd.read_parquet(dir .. "/trips.parquet", { columns = { "key", "x", "y" }, filters = { { "x", ">", 0.9 } } })
local top = timed("parquet: filtered read -> groupby key -> mean", function()
  return pq:groupby("key"):agg{ y = "mean" }:compute()
end)
print(top:head(5))

-- 4. array: a chunked random matrix, its symmetric part and a matrix product
local x = da.random.random({ 2000, 2000 }, { chunks = { 500, 500 }, seed = 42 })
print(x)
local m = timed("array: mean of (x + x^T) and x x^T[1:2, 1:2]", function()
  local mean = (x + x:T()):mean()
  local gram = x:matmul(x:T())
  return { lask.compute(mean, gram[{ { 1, 2 }, { 1, 2 } }]) }
end)
print(("  mean(x + x^T) = %.4f (expected about 1.0)"):format(m[1]))
print(m[2])

-- 5. bag: JSON-lines events, filtered and counted by kind
local f = assert(io.open(dir .. "/logs/events.jsonl", "w"))
local kinds = { "buy", "sell", "view", "click" }
for i = 1, 20000 do
  f:write(json.encode{ user = "u" .. i % 97, kind = kinds[i % 4 + 1], value = (i * 7919 % 1000) / 1000 }, "\n")
end
f:close()
local freq = timed("bag: read_text -> json.decode -> frequencies", function()
  return db.read_text(dir .. "/logs/*.jsonl"):map(json.decode)
    :filter(function(r) return r.value > 0.5 end):pluck("kind"):frequencies{ sort = true }:compute()
end)
for _, kv in ipairs(freq) do print(("  %-6s %d"):format(kv[1], kv[2])) end

os.execute("rm -rf " .. dir)
print("demo done")
