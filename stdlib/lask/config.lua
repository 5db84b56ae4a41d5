-- lask.config: named options read by the collections and by compute.
--
--   lask.config.set{scheduler = "sync"}          -- from now on
--   lask.config.with({num_workers = 1}, fn, ...) -- only while fn runs
--   lask.config.get("array.chunk_size")
--
-- Names are flat ("array.chunk_size"); set also takes nested tables
-- ({array = {chunk_size = ...}}). An unknown name is an error, so a typo
-- never silently does nothing. Collections add their own options with
-- lask.config.register(name, default, check).
local M = {}

local values, checks, defaults = {}, {}, {}

local function one_of(...)
  local ok = {}
  for _, v in ipairs{...} do ok[v] = true end
  local list = table.concat({...}, ", ")
  return function(v)
    if not ok[v] then return ("expected one of %s, got %s"):format(list, tostring(v)) end
  end
end

local function nonneg_int(v)
  if math.type(v) ~= "integer" or v < 0 then
    return "expected a non-negative integer, got " .. tostring(v)
  end
end

local function positive_number(v)
  if type(v) ~= "number" or v <= 0 then return "expected a positive number, got " .. tostring(v) end
end

-- Declare option name with its default value and a check(v) that returns
-- an error message for a bad value (or nothing).
function M.register(name, default, check)
  if type(name) ~= "string" or name == "" then
    error("lask.config.register: option name must be a non-empty string", 2)
  end
  if defaults[name] == nil then defaults[name] = default; values[name] = default end
  checks[name] = check or checks[name]
end

M.register("scheduler", "threads", one_of("threads", "sync", "synchronous", "single-threaded", "threading"))
M.register("num_workers", 0, nonneg_int)
M.register("progress.minimum", 0.5, function(v)
  if type(v) ~= "number" or v < 0 then return "expected a number >= 0, got " .. tostring(v) end
end)
M.register("array.chunk_size", 128 * 1024 * 1024, positive_number)
M.register("visualize.format", "png", one_of("png", "svg", "pdf", "dot"))

-- {array = {chunk_size = 1}, scheduler = "sync"} -> {["array.chunk_size"] = 1, ...}
local function flatten(t, prefix, out, level)
  for k, v in pairs(t) do
    if type(k) ~= "string" then
      error(("lask.config: option names are strings, got %s"):format(type(k)), level)
    end
    local name = prefix and (prefix .. "." .. k) or k
    if type(v) == "table" and getmetatable(v) == nil and defaults[name] == nil then
      flatten(v, name, out, level + 1)
    else
      out[name] = v
    end
  end
  return out
end

local function check_all(flat, level)
  for name, v in pairs(flat) do
    if defaults[name] == nil then
      error(("lask.config: unknown option '%s'"):format(name), level)
    end
    local msg = checks[name] and checks[name](v)
    if msg then error(("lask.config: option '%s': %s"):format(name, msg), level) end
  end
end

function M.get(name, fallback)
  if defaults[name] == nil then
    if fallback ~= nil then return fallback end
    error(("lask.config.get: unknown option '%s'"):format(tostring(name)), 2)
  end
  return values[name]
end

-- Set options; returns a function that restores the previous values.
function M.set(t)
  if type(t) ~= "table" then error("lask.config.set: expected a table of options", 2) end
  local flat = flatten(t, nil, {}, 3)
  check_all(flat, 3)
  local old = {}
  for name, v in pairs(flat) do old[name] = values[name]; values[name] = v end
  return function()
    for name, v in pairs(old) do values[name] = v end
  end
end

-- Run fn(...) with the options set, restoring them afterwards (also on error).
function M.with(t, fn, ...)
  if type(t) ~= "table" then error("lask.config.with: expected a table of options", 2) end
  if type(fn) ~= "function" then error("lask.config.with: expected a function as argument #2", 2) end
  local flat = flatten(t, nil, {}, 3)
  check_all(flat, 3)
  local old = {}
  for name, v in pairs(flat) do old[name] = values[name]; values[name] = v end
  local r = table.pack(pcall(fn, ...))
  for name, v in pairs(old) do values[name] = v end
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

-- Back to the defaults (tests use it).
function M.reset()
  for name, v in pairs(defaults) do values[name] = v end
end

-- Every option and its current value.
function M.all()
  local t = {}
  for name, v in pairs(values) do t[name] = v end
  return t
end

return M
