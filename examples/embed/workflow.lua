-- workflow.lua - the Lua half of the embedding example (run by host.c).
-- Returns the number of checks passed and failed.
local lask = require "lask"
local passed, failed = 0, 0
local function check(ok, what)
  if ok then passed = passed + 1 else failed = failed + 1; io.stderr:write("FAILED: ", what, "\n") end
end

local inc = lask.delayed(function(x) return x + 1 end)
local add = lask.delayed(function(a, b) return a + b end)
local total = lask.delayed(function(...)
  local s = 0
  for _, v in ipairs{...} do s = s + v end
  return s
end)

local parts = {}
for i = 1, 1000 do parts[i] = inc(i) end
local t = total(table.unpack(parts))
check(t:compute() == 501500, "sum of inc(1..1000) on threads")
check(t:compute{scheduler = "sync"} == 501500, "the same on sync")
local a, b = lask.compute(inc(1), add(inc(2), 10))
check(a == 2 and b == 13, "lask.compute of two results")

-- a word count: tables travel between tasks
local count = lask.delayed(function(line)
  local c = {}
  for w in line:gmatch("%a+") do c[w] = (c[w] or 0) + 1 end
  return c
end)
local merge = lask.delayed(function(...)
  local all = {}
  for _, c in ipairs{...} do
    for w, n in pairs(c) do all[w] = (all[w] or 0) + n end
  end
  return all
end)
local words = merge(count("a b a"), count("b c"), count("a")):compute()
check(words.a == 3 and words.b == 2 and words.c == 1, "word count")

local ok, err = pcall(function()
  return lask.delayed(function() error("expected failure") end)():compute()
end)
check(not ok and tostring(err):find("expected failure", 1, true) ~= nil, "task errors reach the caller")

return passed, failed
