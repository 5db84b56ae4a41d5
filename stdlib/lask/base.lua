-- lask.base: compute, persist and graph_size for every collection.
--
-- A collection is any object whose metatable gives it three methods:
--   obj:__lask_tasks()          -> the task objects holding its output
--   obj:__lask_finalize(values) -> the user-facing result from their values
--   obj:__lask_rebuild(tasks)   -> the same collection over ready tasks
-- compute gathers the tasks of all its arguments into one graph, so work
-- they share runs once.
local core = require "lask.core"
local config = require "lask.config"

local M = {}

-- Objects notified about every compute (diagnostics): cb:_start(ntasks),
-- cb:_progress(done, total), cb:_finish(ok, seconds).
M.callbacks = {}

function M.is_collection(obj)
  local t = type(obj)
  if (t ~= "table" and t ~= "userdata") or getmetatable(obj) == nil then return false end
  local ok, f = pcall(function() return obj.__lask_tasks end)
  return ok and type(f) == "function"
end

local schedulers = {
  threads = "threads", threading = "threads",
  sync = "sync", synchronous = "sync", ["single-threaded"] = "sync",
}
local known = {scheduler = true, num_workers = true}

-- Resolve compute options against the config; level is for error().
function M.options(opts, level, what)
  level = (level or 1) + 1
  if opts ~= nil and type(opts) ~= "table" then
    error(("%s: options must be a table, got %s"):format(what, type(opts)), level)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if math.type(k) == "integer" then
      error(("%s: the last argument is a plain table, taken as options; pass collections as "
        .. "separate arguments (table.unpack(list))"):format(what), level)
    end
    if not known[k] then error(("%s: unknown option '%s'"):format(what, tostring(k)), level) end
  end
  local s = opts.scheduler or config.get("scheduler")
  local sched = schedulers[s]
  if not sched then
    error(("%s: unknown scheduler '%s' (expected \"threads\" or \"sync\")"):format(what, tostring(s)), level)
  end
  local nw = opts.num_workers or config.get("num_workers")
  if math.type(nw) ~= "integer" or nw < 0 then
    error(("%s: option num_workers must be a non-negative integer, got %s"):format(what, tostring(nw)), level)
  end
  return {scheduler = sched, num_workers = nw}
end

-- Compute a list of tasks with resolved options; returns their values.
function M.run(tasks, o)
  local cbs = {}
  for cb in pairs(M.callbacks) do cbs[#cbs + 1] = cb end
  if #cbs == 0 then return core.compute(tasks, o) end
  local n = core.count(tasks)
  local t0 = core.now()
  for _, cb in ipairs(cbs) do pcall(cb._start, cb, n) end
  local copts = {scheduler = o.scheduler, num_workers = o.num_workers,
    progress = function(done, total)
      for _, cb in ipairs(cbs) do cb:_progress(done, total) end
    end}
  local ok, res = pcall(core.compute, tasks, copts)
  for _, cb in ipairs(cbs) do pcall(cb._finish, cb, ok, core.now() - t0) end
  if not ok then error(res, 0) end
  return res
end

local function gather(objs, n, what, level)
  if n == 0 then
    -- a lone plain table was read as the options: say so rather than
    -- quietly computing nothing
    error(("%s: no lask collection given (a trailing plain table is taken as options)")
      :format(what), level + 1)
  end
  local all, spans = {}, {}
  for i = 1, n do
    local obj = objs[i]
    if not M.is_collection(obj) then
      error(("%s: argument #%d is a %s, not a lask collection (delayed value, array, "
        .. "dataframe or bag)"):format(what, i, type(obj)), level + 1)
    end
    local ts = obj:__lask_tasks()
    spans[i] = {#all, #ts}
    for j = 1, #ts do all[#all + 1] = ts[j] end
  end
  return all, spans
end

local function split_opts(...)
  local n = select("#", ...)
  local objs = {...}
  local last = objs[n]
  if n > 0 and type(last) == "table" and getmetatable(last) == nil then
    return objs, n - 1, last
  end
  return objs, n, nil
end

-- lask.compute(a, b, ..., {scheduler = ...}) -> the results of a, b, ...
function M.compute(...)
  local objs, n, opts = split_opts(...)
  local o = M.options(opts, 2, "lask.compute")
  local all, spans = gather(objs, n, "lask.compute", 2)
  local values = M.run(all, o)
  local out = {}
  for i = 1, n do
    local s = spans[i]
    out[i] = objs[i]:__lask_finalize(table.move(values, s[1] + 1, s[1] + s[2], 1, {}))
  end
  return table.unpack(out, 1, n)
end

-- obj:compute(opts)
function M.compute_one(obj, opts)
  local o = M.options(opts, 2, "compute")
  local all = gather({obj}, 1, "compute", 2)
  return obj:__lask_finalize(M.run(all, o))
end

-- lask.persist(a, b, ..., opts) -> the same collections over computed results
function M.persist(...)
  local objs, n, opts = split_opts(...)
  local o = M.options(opts, 2, "lask.persist")
  local all, spans = gather(objs, n, "lask.persist", 2)
  local values = M.run(all, o)
  local out = {}
  for i = 1, n do
    local s = spans[i]
    local ready = {}
    for j = 1, s[2] do
      local t = all[s[1] + j]
      ready[j] = core.value(core.key(t), values[s[1] + j])
    end
    out[i] = objs[i]:__lask_rebuild(ready)
  end
  return table.unpack(out, 1, n)
end

function M.graph_size(obj)
  return core.count(gather({obj}, 1, "graph_size", 2))
end

return M
