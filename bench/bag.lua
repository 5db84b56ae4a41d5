-- bench/bag.lua: JSON lines through lask.bag, against DuckDB in the same run.
--
--   build/lask bench/bag.lua [PATH]
--
-- Query: read_text -> map(json.decode) -> filter(value > 0.5) -> pluck("kind")
-- -> frequencies(), on the 2M-record file bench/gen_jsonl.lua writes (made
-- on first use). DuckDB runs the same query through @duckdb/node-api from
-- bench/.deps (`make bench-deps`); without it the line says "unavailable".
-- Then the per-element cost of a trivial map over 10M integers.
local lask = require "lask"
local core = require "lask.core"
local db = require "lask.bag"
local json = require "lask.json"

local here = (arg and arg[0] or "bench/bag.lua"):match("^(.*)/[^/]*$") or "."
local PATH = arg and arg[1] or (here .. "/data/records.jsonl")
local NREC = 2000000

local function now() return core.now() end

local function exists(p)
  local f = io.open(p, "r")
  if f then f:close() end
  return f ~= nil
end

if not arg[1] and not exists(PATH .. ".count") then
  local saved = arg
  arg = { [0] = here .. "/gen_jsonl.lua", tostring(NREC), PATH }
  dofile(here .. "/gen_jsonl.lua")
  arg = saved
end
local nrec = NREC
do
  local f = io.open(PATH .. ".count")
  if f then nrec = tonumber(f:read("l")) or NREC; f:close() end
end
local size = require("lask.core.textio").size(PATH)

print(("bag: %s, %d records, %.0f MB, %d worker threads"):format(PATH, nrec, size / 1e6, core.nthreads()))

-- ---------------------------------------------------------------- lask
local function query()
  return db.read_text(PATH, { blocksize = "16MiB" })
    :map(json.decode)
    :filter(function(r) return r.value > 0.5 end)
    :pluck("kind")
    :frequencies({ sort = true })
    :compute()
end

query() -- warm the page cache and the worker states
local best = math.huge
local result
for _ = 1, 3 do
  local t0 = now()
  result = query()
  best = math.min(best, now() - t0)
end
local total = 0
for _, kv in ipairs(result) do total = total + kv[2] end
print(("lask.bag: %.3f s (best of 3), %.2f M records/s, %d matches in %d kinds"):format(
  best, nrec / best / 1e6, total, #result))

-- -------------------------------------------------------------- duckdb
local function duckdb()
  local mod = here .. "/.deps/node_modules/@duckdb/node-api"
  if mod:sub(1, 1) ~= "/" then mod = (os.getenv("PWD") or ".") .. "/" .. mod end
  if not exists(mod .. "/package.json") then return nil, "no " .. mod .. " (make bench-deps)" end
  if not os.execute("command -v node >/dev/null 2>&1") then return nil, "node not found" end
  local js = os.tmpname() .. ".js"
  local f = assert(io.open(js, "w"))
  f:write([[
const { DuckDBInstance } = require(process.argv[2]);
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const sql = `SELECT kind, count(*) AS n FROM read_json('${process.argv[3]}',
    format = 'newline_delimited',
    columns = {user: 'VARCHAR', kind: 'VARCHAR', value: 'DOUBLE', tags: 'VARCHAR[]'})
    WHERE value > 0.5 GROUP BY kind ORDER BY n DESC, kind`;
  await con.runAndReadAll(sql);  // warm-up, as for lask
  let best = Infinity, rows;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = await con.runAndReadAll(sql);
    rows = r.getRows();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  console.log(best);
  for (const [k, n] of rows) console.log(k + "\t" + n.toString());
})().catch(e => { console.error(e.message); process.exit(1); });
]])
  f:close()
  local p = io.popen(("node '%s' '%s' '%s' 2>&1"):format(js, mod, PATH))
  local out = p:read("a")
  p:close()
  os.remove(js)
  local secs = tonumber(out:match("^([%d%.e%-]+)\n"))
  if not secs then return nil, "failed: " .. out:gsub("\n", " ") end
  local rows = {}
  for k, n in out:gmatch("\n([^\t\n]+)\t(%d+)") do rows[k] = tonumber(n) end
  return secs, rows
end

local dsecs, drows = duckdb()
if dsecs then
  local same = true
  for _, kv in ipairs(result) do if drows[kv[1]] ~= kv[2] then same = false end end
  print(("duckdb:   %.3f s (best of 3), %.2f M records/s; lask/duckdb time ratio %.2f; results %s"):format(
    dsecs, nrec / dsecs / 1e6, best / dsecs, same and "agree" or "DIFFER"))
else
  print("duckdb: unavailable (" .. drows .. ")")
end

-- ------------------------------------------------ per-element overhead
local N = 10000000
local np = math.max(2, 2 * core.nthreads())
local function timed(b)
  local t = math.huge
  for _ = 1, 3 do
    local t0 = now()
    b:compute()
    t = math.min(t, now() - t0)
  end
  return t
end
local base = timed(db.range(N, { npartitions = np }):count())
local mapped = timed(db.range(N, { npartitions = np }):map(function(x) return x end):count())
print(("map over %dM integers: %.3f s with map, %.3f s without: %.1f ns per element for the map "
  .. "(%.1f ns per element in all, wall clock, %d threads)"):format(N / 1e6, mapped, base,
  (mapped - base) / N * 1e9, mapped / N * 1e9, core.nthreads()))
local _ = lask
