-- gen_jsonl.lua [N] [PATH]: write a deterministic JSON-lines file of N
-- records (default 2,000,000, about 150 MB) for bench/bag.lua:
--   {"user": "u0123456", "kind": <one of 8 words>, "value": <float in [0,1)>,
--    "tags": [<1 to 3 words>]}
-- The same N always gives the same bytes (a xorshift generator, not
-- math.random), so figures from different runs compare.
local N = tonumber(arg and arg[1]) or 2000000
local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local PATH = arg and arg[2] or (script_dir .. "/data/records.jsonl")

local KINDS = { "buy", "sell", "view", "click", "share", "like", "return", "search" }
local TAGS = { "red", "green", "blue", "sale", "new", "gift", "promo", "bulk", "eu", "us" }

local s = 0x9E3779B97F4A7C15
local function rnd()   -- xorshift64*, top 53 bits as a float in [0, 1)
  s = s ~ (s >> 12); s = s ~ (s << 25); s = s ~ (s >> 27)
  return ((s * 0x2545F4914F6CDD1D) >> 11) * (1.0 / 9007199254740992.0)
end

local function ensure_dir(path)
  local dir = path:match("^(.*)/[^/]*$")
  if dir then os.execute("mkdir -p '" .. dir .. "'") end
end

-- skip the work when the file is there already with the expected record count
local f = io.open(PATH .. ".count", "r")
if f then
  local n = tonumber(f:read("l"))
  f:close()
  local g = io.open(PATH, "r")
  if g and n == N then
    g:close()
    print(("gen_jsonl: %s already holds %d records"):format(PATH, N))
    return
  end
  if g then g:close() end
end

ensure_dir(PATH)
local out = assert(io.open(PATH, "wb"))
local fmt = string.format
local buf, nb = {}, 0
local t0 = os.clock()
for i = 1, N do
  local nt = 1 + math.floor(rnd() * 3)
  local tags = {}
  for j = 1, nt do tags[j] = '"' .. TAGS[1 + math.floor(rnd() * #TAGS)] .. '"' end
  nb = nb + 1
  buf[nb] = fmt('{"user": "u%07d", "kind": "%s", "value": %.6f, "tags": [%s]}\n',
    math.floor(rnd() * 5000000), KINDS[1 + math.floor(rnd() * #KINDS)], rnd(),
    table.concat(tags, ", "))
  if nb == 10000 then
    out:write(table.concat(buf))
    buf, nb = {}, 0
  end
end
out:write(table.concat(buf, "", 1, nb))
out:close()
f = assert(io.open(PATH .. ".count", "w"))
f:write(N, "\n")
f:close()
print(fmt("gen_jsonl: wrote %d records to %s in %.1f s", N, PATH, os.clock() - t0))
