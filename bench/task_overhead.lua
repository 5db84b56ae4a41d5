-- task_overhead.lua - what one task costs (issue 2, "Figures").
--
-- 1000 independent chains of 100 tiny tasks plus a tree sum over the chain
-- ends (~101k tasks). Prints the graph-build time per task and the compute
-- time per task for the runtime's native kernels (add(x, 1), sum) and Lua callbacks
-- (x + 1, a + b) on the "threads" and "sync" schedulers.
--   lask bench/task_overhead.lua [chains] [length]
local core = require "lask.core"

local CHAINS = tonumber(arg and arg[1]) or 1000
local LENGTH = tonumber(arg and arg[2]) or 100
local EXPECT = CHAINS * (CHAINS + 1) // 2 + CHAINS * LENGTH

local lua_inc = core.ship(function(x) return x + 1 end)
local lua_add = core.ship(function(a, b) return a + b end)

local function build(kind)
  local task = core.task
  local inc = function(key, t) return task(key, "add", t, 1) end
  local add = function(key, a, b) return task(key, "add", a, b) end
  if kind == "lua" then
    local ltask = core.ltask
    inc = function(key, t) return ltask(key, lua_inc, t) end
    add = function(key, a, b) return ltask(key, lua_add, a, b) end
  end
  local level = {}
  for c = 1, CHAINS do
    local t = core.value("start-" .. c, c)
    for i = 1, LENGTH do t = inc("inc-" .. c .. "-" .. i, t) end
    level[c] = t
  end
  local depth = 0
  while #level > 1 do
    depth = depth + 1
    local next_level = {}
    for i = 1, #level, 2 do
      if level[i + 1] then
        next_level[#next_level + 1] = add(("sum-%d-%d"):format(depth, i), level[i], level[i + 1])
      else
        next_level[#next_level + 1] = level[i]
      end
    end
    level = next_level
  end
  return level[1]
end

local function measure(kind, scheduler)
  collectgarbage()
  local t0 = core.now()
  local root = build(kind)
  local t1 = core.now()
  local n = core.count({root})
  local t2 = core.now()
  local r = core.compute({root}, {scheduler = scheduler})[1]
  local t3 = core.now()
  assert(r == EXPECT, ("wrong result %s, expected %s"):format(tostring(r), tostring(EXPECT)))
  print(("%-6s %-7s tasks %6d   build %6.2f us/task   compute %6.2f us/task   (%.3f s)"):format(
    kind, scheduler, n, (t1 - t0) / n * 1e6, (t3 - t2) / n * 1e6, t3 - t2))
  root = nil
end

print(("task_overhead: %d chains x %d tasks + tree sum, %d threads"):format(
  CHAINS, LENGTH, core.nthreads()))
-- the same chains through lask.delayed: tokenized keys, Delayed objects
local function measure_delayed(scheduler)
  local lask = require "lask"
  local inc = lask.delayed(function(x) return x + 1 end)
  local add = lask.delayed(function(a, b) return a + b end)
  collectgarbage()
  local t0 = core.now()
  local level = {}
  for c = 1, CHAINS do
    local d = c
    for _ = 1, LENGTH do d = inc(d) end
    level[c] = d
  end
  while #level > 1 do
    local nxt = {}
    for i = 1, #level, 2 do nxt[#nxt + 1] = level[i + 1] and add(level[i], level[i + 1]) or level[i] end
    level = nxt
  end
  local t1 = core.now()
  local n = level[1]:graph_size()
  local t2 = core.now()
  local r = level[1]:compute{scheduler = scheduler}
  local t3 = core.now()
  assert(r == EXPECT, ("wrong result %s"):format(tostring(r)))
  print(("%-6s %-7s tasks %6d   build %6.2f us/task   compute %6.2f us/task   (%.3f s)"):format(
    "delayd", scheduler, n, (t1 - t0) / n * 1e6, (t3 - t2) / n * 1e6, t3 - t2))
end

measure("native", "threads")
measure("lua", "threads")
measure("native", "sync")
measure("lua", "sync")
measure_delayed("threads")
