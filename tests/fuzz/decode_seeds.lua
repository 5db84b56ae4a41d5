-- decode_seeds.lua DIR: write seed inputs (encoding bodies, header stripped).
local core = require "lask.core"
local dir = assert(arg[1], "usage: decode_seeds.lua DIR")
local t = {1, 2.5, "x\0y", true, false, {nested = {deep = -7}}, math.huge, 0 / 0, math.mininteger}
t.self = t
local seeds = {nil, 0, -1, 1e300, "", ("s"):rep(300), t, {string.format, math.floor, _G},
  setmetatable({a = 1}, {__index = {b = 2}}), {[{}] = {}, [1.5] = "k"}}
for i = 1, 10 do
  local f = assert(io.open(("%s/seed%02d"):format(dir, i), "wb"))
  f:write(core.encode(seeds[i]):sub(13))
  f:close()
end
