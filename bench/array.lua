-- bench/array.lua - the figures of the lask.array issue, each printed as a
-- ratio against a baseline measured in the same run.
--
--   build/lask bench/array.lua            -- the issue's sizes (needs ~4 GB RAM)
--   build/lask bench/array.lua small      -- quick run at 1/10 the sizes
local lask = require "lask"
local da = require "lask.array"
local nd = require "lask.core.ndarray"
local core = require "lask.core"

local small = arg and arg[1] == "small"
local function now() return core.now() end

local function status(field)
  local f = io.open("/proc/self/status")
  if not f then return nil end
  for line in f:lines() do
    local v = line:match("^" .. field .. ":%s*(%d+)")
    if v then f:close(); return tonumber(v) * 1024 end
  end
  f:close()
end

-- reset VmHWM (Linux >= 4.0) so each figure sees its own peak
local function reset_peak()
  local f = io.open("/proc/self/clear_refs", "w")
  if f then f:write("5"); f:close() end
end

local function gb(b) return b / 1e9 end

print(("lask.array bench (%s sizes), %d worker threads"):format(small and "small" or "issue", core.nthreads()))

-- ---------------------------------------------------------------- streaming
do
  local n = small and 5000 or 50000
  reset_peak()
  local base = status("VmHWM") or 0
  local x = da.random.random({n, n}, {seed = 1})
  local t0 = now()
  local s = x:sum():compute()
  local dt = now() - t0
  local peak = status("VmHWM") or 0
  print(("streaming: random({%d, %d}):sum() = %.6g (mean %.6f) over %.1f GB never materialised: %.2f s, "
    .. "peak RSS %.2f GB (%.2f GB before), goal < 2 GB"):format(n, n, s, s / (n * n), gb(n * n * 8), dt,
    gb(peak), gb(base)))
end

-- ---------------------------------------------------------------- bandwidth
do
  -- the machine: one in-process reduction over a large resident array
  local m = small and 16 * 1024 * 1024 or 128 * 1024 * 1024       -- elements (1 GiB)
  local big = nd.ones({m})
  big:sum()                                                          -- touch it once
  local t0 = now()
  local reps = 3
  for _ = 1, reps do big:sum() end
  local bw = reps * m * 8 / (now() - t0)
  big = nil
  collectgarbage()

  local n, c = small and 4000 or 20000, small and 400 or 2000
  local x = da.random.random({n, n}, {chunks = {c, c}, seed = 42}):persist()
  local y = (x + x:T()):mean{axis = 1}:sum()
  t0 = now()
  local v = y:compute()
  local dt = now() - t0
  local moved = 2 * n * n * 8      -- x and x:T() are read once each
  local eff = moved / dt
  print(("bandwidth: (x + x:T()):mean{axis=1}:sum() on %d^2 (chunks %d^2) = %.6g in %.3f s, "
    .. "effective %.2f GB/s; one-thread in-process reduction %.2f GB/s; ratio %.2f (goal >= 0.70)")
    :format(n, c, v, dt, gb(eff), gb(bw), eff / bw))
end
collectgarbage()

-- ---------------------------------------------------------------- matmul
do
  local n, c = small and 1000 or 4000, small and 250 or 1000
  local m = da.random.normal({n, n}, {chunks = c, seed = 7}):persist()
  local ml = m:compute()
  local mt = ml:T():copy()
  nd.blas_threads(core.nthreads())
  ml:matmul(mt)                                  -- warm OpenBLAS up
  local t0 = now()
  local whole = ml:matmul(mt)
  local tblas = now() - t0
  local p = m:matmul(m:T())
  t0 = now()
  local r = p:compute()
  local tl = now() - t0
  local d = (r - whole):abs():max()
  print(("matmul: m:matmul(m:T()) on %d^2 (chunks %d): %.3f s; one cblas_dgemm on the whole matrix %.3f s; "
    .. "ratio %.2f (goal <= 1.10); max |difference| %.3g"):format(n, c, tl, tblas, tl / tblas, d))
end
collectgarbage()

-- ---------------------------------------------------------------- map_blocks
do
  local nblocks = small and 1000 or 10000
  local x = da.ones({nblocks * 8}, {chunks = 8}):persist()
  local lua_ = x:map_blocks(function(b) return b * 2 + 1 end):sum()
  local native = x:map_blocks("nd.square"):sum()
  native:compute()
  local t0 = now()
  local s1 = lua_:compute()
  local tl = now() - t0
  t0 = now()
  native:compute()
  local tn = now() - t0
  print(("map_blocks: Lua callback over %d blocks: %.3f s = %.1f us per block (same graph with a native "
    .. "kernel: %.1f us per block; Lua callback overhead %.1f us); sum %g (want %g)"):format(
    nblocks, tl, tl / nblocks * 1e6, tn / nblocks * 1e6, (tl - tn) / nblocks * 1e6, s1, 3 * nblocks * 8))
end
