-- lask.delayed: lazy function calls, as Dask's delayed.
--
--   local inc = lask.delayed(function(x) return x + 1 end)
--   local d = inc(1) + inc(2)        -- a Delayed; nothing ran yet
--   d:compute()                      -- 5
--
-- lask.delayed(fn, {pure = true, nout = n, name = "inc"}). Calling the
-- result builds a task; its key is name-token(function, arguments) when pure
-- (the default), so the same call made twice is one task. pure = false gives
-- every call its own key (for functions with side effects or randomness).
--
-- A Delayed supports d.field, d[i], arithmetic, concatenation, unary minus,
-- #d and method calls d:method(x) on the computed value: each builds a new
-- Delayed. Delayeds may appear anywhere in the arguments, also inside plain
-- tables. Reserved names (methods of a Delayed, not fields of its value):
-- compute, persist, visualize, graph_size, key.
local core = require "lask.core"
local base = require "lask.base"
local collection = require "lask.collection"

local M = {}

local methods = {}
local Delayed = {__name = "lask.Delayed"}
local DelayedFunction = {__name = "lask.DelayedFunction"}
DelayedFunction.__index = DelayedFunction

local function is_delayed(v) return getmetatable(v) == Delayed end
M.is_delayed = is_delayed

local function new(task, parent, attr)
  return setmetatable({_lask_task = task, _lask_parent = parent, _lask_attr = attr}, Delayed)
end
M.new = new

-- ---------------------------------------------------------------- arguments

-- The functions below run in worker states: they are shipped once here.
local ship = core.ship
local f_getitem = ship(function(v, k)
  local ok, r = pcall(function() return v[k] end)
  if not ok then error(("cannot index a %s value with %s"):format(type(v), tostring(k)), 0) end
  return r
end)
local f_method = ship(function(obj, name, ...)
  local m = obj[name]
  if m == nil then error(("the computed value (a %s) has no method '%s'"):format(type(obj), tostring(name)), 0) end
  return m(obj, ...)
end)
local f_call = ship(function(f, ...) return f(...) end)
local SLOT = "\0lask.slot"
local f_table = ship(function(spec, vals)
  local seen = {}
  local function fill(t)
    if seen[t] then return seen[t] end
    local slot = rawget(t, "\0lask.slot")
    if slot then return vals[slot] end
    local out = {}
    seen[t] = out
    for k, v in pairs(t) do
      if type(k) == "table" then k = fill(k) end
      if type(v) == "table" then v = fill(v) end
      out[k] = v
    end
    return setmetatable(out, getmetatable(t))
  end
  return fill(spec)
end)

-- Does plain table t (no metatable) hold a Delayed anywhere inside?
local function has_delayed(t, seen)
  if seen[t] then return false end
  seen[t] = true
  for k, v in pairs(t) do
    if is_delayed(k) or is_delayed(v) then return true end
    if type(k) == "table" and getmetatable(k) == nil and has_delayed(k, seen) then return true end
    if type(v) == "table" and getmetatable(v) == nil and has_delayed(v, seen) then return true end
  end
  return false
end

local to_arg

-- A table holding Delayeds becomes a task that builds it from their values.
local function table_task(t)
  local tasks, slots, copies = {}, {}, {}
  local function spec(x)
    if is_delayed(x) then
      local task = x._lask_task
      local i = slots[task]
      if not i then
        tasks[#tasks + 1] = task
        i = #tasks
        slots[task] = i
      end
      return {[SLOT] = i}
    end
    if type(x) ~= "table" or getmetatable(x) ~= nil then return x end
    if copies[x] then return copies[x] end
    local out = {}
    copies[x] = out
    for k, v in pairs(x) do out[spec(k)] = spec(v) end
    return out
  end
  local s = spec(t)
  local l = core.list(tasks)
  return core.ltask("table-" .. core.tokenize(s, l), f_table, s, l)
end

to_arg = function(v, what)
  if is_delayed(v) then return v._lask_task end
  local t = type(v)
  if t == "table" then
    local mt = getmetatable(v)
    if mt == nil then
      if not has_delayed(v, {}) then return v end
      -- a flat sequence of Delayeds and scalars travels as a task list
      local n, flat = #v, true
      for k, x in pairs(v) do
        if math.type(k) ~= "integer" or k < 1 or k > n or (type(x) == "table" and not is_delayed(x)) then
          flat = false
          break
        end
      end
      if flat then
        local items = {}
        for i = 1, n do
          local x = v[i]
          items[i] = is_delayed(x) and x._lask_task or x
        end
        return core.list(items, n)
      end
      return table_task(v)
    end
    if base.is_collection(v) then
      if type(v.to_delayed) == "function" then return v:to_delayed()._lask_task end
      error(("%s: a %s cannot be passed to a delayed function (call :compute() on it, or use its "
        .. "to_delayed method)"):format(what, mt.__name or "collection"), 0)
    end
  end
  return v
end

local function call_task(name, fn, pure, args, n)
  local targs = {}
  for i = 1, n do targs[i] = to_arg(args[i], name) end
  local key
  if pure then
    key = name .. "-" .. core.tokenize(fn, table.unpack(targs, 1, n))
  else
    key = name .. "-" .. core.tokenize(fn, core.now(), math.random(), {})
  end
  return core.ltask(key, fn, table.unpack(targs, 1, n))
end

-- ---------------------------------------------------------- delayed functions

local known_opts = {pure = true, nout = true, name = true}

local function funcname(fn)
  for k, v in pairs(_G) do
    if v == fn and type(k) == "string" then return k end
  end
  return "delayed"
end

-- lask.delayed(fn, opts) -> a function-like object building tasks.
function M.delayed(fn, opts)
  if getmetatable(fn) == DelayedFunction then
    if opts == nil then return fn end
    fn = fn.fn
  end
  if type(fn) ~= "function" then
    error(("lask.delayed: expected a function, got %s"):format(
      is_delayed(fn) and "a Delayed (it is already lazy)" or type(fn)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("lask.delayed: options must be a table, got %s"):format(type(opts)), 2)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not known_opts[k] then error(("lask.delayed: unknown option '%s'"):format(tostring(k)), 2) end
  end
  local nout = opts.nout
  if nout ~= nil and (math.type(nout) ~= "integer" or nout < 0) then
    error("lask.delayed: option nout must be a non-negative integer", 2)
  end
  if opts.name ~= nil and (type(opts.name) ~= "string" or opts.name == "") then
    error("lask.delayed: option name must be a non-empty string", 2)
  end
  local pure = opts.pure
  if pure == nil then pure = true end
  local target = fn
  if nout then
    local f = fn
    target = function(...) return table.pack(f(...)) end
  end
  local ok, shipped = pcall(core.ship, target)
  if not ok then error(shipped, 2) end
  return setmetatable({fn = fn, shipped = shipped, pure = pure and true or false, nout = nout,
    name = opts.name or funcname(fn)}, DelayedFunction)
end

function DelayedFunction.__call(df, ...)
  local n = select("#", ...)
  local ok, task = pcall(call_task, df.name, df.shipped, df.pure, {...}, n)
  if not ok then error(task, 2) end
  local d = new(task)
  if df.nout then
    local outs = {}
    for i = 1, df.nout do outs[i] = d[i] end
    return table.unpack(outs, 1, df.nout)
  end
  return d
end

function DelayedFunction.__tostring(df)
  return ("lask.delayed<%s%s>"):format(df.name, df.pure and "" or ", impure")
end

-- ------------------------------------------------------------------ Delayed

local function derived(name, fn, ...)
  local n = select("#", ...)
  local ok, task = pcall(call_task, name, fn, true, {...}, n)
  if not ok then error(task, 3) end
  return new(task)
end

Delayed.__index = function(d, k)
  local m = methods[k]
  if m ~= nil then return m end
  if type(k) == "string" and k:sub(1, 2) == "__" then return nil end  -- protocol probes
  local task = d._lask_task
  local kt = type(k)
  if kt == "table" or kt == "function" or kt == "userdata" then
    error("a Delayed can only be indexed by strings, numbers and booleans", 2)
  end
  local key = "getitem-" .. core.tokenize(core.key(task), k)
  return new(core.ltask(key, f_getitem, task, k), d, k)
end

Delayed.__newindex = function()
  error("a Delayed is immutable: build a new one instead of assigning a field", 2)
end

Delayed.__call = function(d, ...)
  local parent = rawget(d, "_lask_parent")
  if parent ~= nil and select("#", ...) >= 1 and rawequal((...), parent) then
    -- d:method(x) on a field reached by d.method: call it on the value
    return derived("method-" .. tostring(rawget(d, "_lask_attr")), f_method, parent, rawget(d, "_lask_attr"),
      select(2, ...))
  end
  return derived("call", f_call, d, ...)
end

Delayed.__tostring = function(d)
  return ("Delayed<%s>"):format(core.key(d._lask_task))
end

local binops = {
  add = function(a, b) return a + b end, sub = function(a, b) return a - b end,
  mul = function(a, b) return a * b end, div = function(a, b) return a / b end,
  mod = function(a, b) return a % b end, pow = function(a, b) return a ^ b end,
  idiv = function(a, b) return a // b end, band = function(a, b) return a & b end,
  bor = function(a, b) return a | b end, bxor = function(a, b) return a ~ b end,
  shl = function(a, b) return a << b end, shr = function(a, b) return a >> b end,
  concat = function(a, b) return a .. b end,
}
for name, f in pairs(binops) do
  local s = ship(f)
  Delayed["__" .. name] = function(a, b) return derived(name, s, a, b) end
end
local unops = {
  unm = function(a) return -a end, bnot = function(a) return ~a end,
  len = function(a) return #a end,
}
for name, f in pairs(unops) do
  local s = ship(f)
  Delayed["__" .. name] = function(a) return derived(name, s, a) end
end

local function no_compare()
  error("Delayed values cannot be compared with <, <= or ==: compute them first, "
    .. "or compare inside a delayed function", 2)
end
Delayed.__lt = no_compare
Delayed.__le = no_compare

-- ------------------------------------------------------------------ methods

function methods.key(d) return core.key(d._lask_task) end
function methods.__lask_tasks(d) return {d._lask_task} end
function methods.__lask_finalize(_, values) return values[1] end
function methods.__lask_rebuild(_, tasks) return new(tasks[1]) end
collection.mixin(methods)

M.Delayed = Delayed
M.DelayedFunction = DelayedFunction
M.to_arg = to_arg
return M
