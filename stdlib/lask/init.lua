-- lask: Dask for Lua. `local lask = require "lask"`.
--
--   lask.delayed(fn, opts)        lazy calls (lask.delayed)
--   lask.compute(a, b, ..., opts) one graph for all, results in order
--   lask.persist(a, b, ..., opts) the same collections over computed results
--   lask.visualize(a, ..., opts)  the task graph as DOT / PNG / SVG
--   lask.config, lask.diagnostics
-- Collections load on first use: lask.array, lask.dataframe, lask.bag, ...
local core = require "lask.core"
local base = require "lask.base"
local config = require "lask.config"
local delayed = require "lask.delayed"
local diagnostics = require "lask.diagnostics"

local M = {
  version = "0.1.0",
  core = core,
  config = config,
  diagnostics = diagnostics,
  delayed = delayed.delayed,
  is_delayed = delayed.is_delayed,
  compute = base.compute,
  persist = base.persist,
  graph_size = base.graph_size,
  is_collection = base.is_collection,
  tokenize = core.tokenize,
  collection = require "lask.collection",
}

function M.visualize(...)
  return require("lask.visualize").visualize(...)
end

-- lask.array etc.: load the stdlib module of that name on first use.
return setmetatable(M, {__index = function(t, k)
  if type(k) ~= "string" then return nil end
  local name = "lask." .. k
  if package.preload[name] or package.searchpath(name, package.path) then
    local mod = require(name)
    rawset(t, k, mod)
    return mod
  end
  return nil
end})
