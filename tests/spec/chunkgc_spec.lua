-- Chunks held by Lua userdata weigh on Lua's collector by their size, so
-- big arrays and frames dropped by a script are collected without waiting
-- for Lua's own (small) heap to grow.
require "lask.core"
local nd = require "lask.core.ndarray"
local F = require "lask.core.frame"

-- Make columns of 4 MiB until a sentinel made before them is finalized.
local function until_collected(make)
  collectgarbage()
  collectgarbage("restart")
  local collected = false
  do setmetatable({}, { __gc = function() collected = true end }) end
  local made = 0
  for _ = 1, 48 do   -- 192 MiB at most, visible to the collector only if chunks weigh
    local x = make()
    assert.is_not_nil(x)
    made = made + 1
    if collected then break end
  end
  return collected, made
end

describe("chunk memory and the Lua collector", function()
  it("collects as frame columns are made, with no collectgarbage call", function()
    local col = F.from_ndarray(nd.ones({ 512 * 1024, 1 }), { "x" }):column("x")
    assert.equals(4 * 1024 * 1024, col:nbytes())
    local collected, made = until_collected(function() return col + 1 end)
    assert.is_true(collected, "no collection after " .. made .. " columns of 4 MiB")
  end)

  it("collects as arrays are made", function()
    local collected, made = until_collected(function() return nd.ones({ 512 * 1024 }) end)
    assert.is_true(collected, "no collection after " .. made .. " arrays of 4 MiB")
  end)
end)
