-- lask.dataframe.ops: the work on one partition, as run by the tasks of a
-- lazy data frame (in worker threads' Lua states). Every task of the lazy
-- frame calls run(op, ...), one shipped function, so that a partition's
-- chain of steps costs one Lua call each and no closure shipping.
require "lask.core"
local F = require "lask.core.frame"
local query = require "lask.dataframe.query"
require "lask.dataframe.localframe"

local M = {}

-- (Frames weigh on the collector by their size: lask__push_chunk tells it,
-- so garbage frames do not pile up between collections.)

function M.select(p, cols) return p:select(cols) end
function M.filter(p, m, cols)
  if cols and #cols < p:ncols() then p = p:select(cols) end
  return p:filter(m)
end
function M.query(p, expr, env) return query.filter(p, expr, env) end
function M.eval(p, expr, env, name)
  local r = query.evaluate(p, expr, env)
  if type(r) ~= "userdata" then r = p:with_column(name, r):column(name) end
  return r
end
function M.drop(p, cols) return p:drop(cols) end
function M.rename(p, map) return p:rename(map) end
function M.head(p, n) return p:head(n) end
function M.tail(p, n) return p:tail(n) end

-- p:name(...) for a method of the local frame
function M.method(p, name, ...) return p[name](p, ...) end

local arith = {
  add = function(a, b) return a + b end, sub = function(a, b) return a - b end,
  mul = function(a, b) return a * b end, div = function(a, b) return a / b end,
  mod = function(a, b) return a % b end, idiv = function(a, b) return a // b end,
  pow = function(a, b) return a ^ b end, band = function(a, b) return a & b end,
  bor = function(a, b) return a | b end,
}
function M.binop(op, a, b) return arith[op](a, b) end
function M.unop(op, a) if op == "neg" then return -a end return ~a end

-- assign one column: value is a frame column, a scalar, or fn(part)
function M.assign(p, name, v)
  if type(v) == "function" then v = v(p) end
  if type(v) == "table" then error("assign: a table value for '" .. name .. "' cannot be spread over partitions", 0) end
  return p:with_column(name, v)
end

function M.call(p, fn, ...) return fn(p, ...) end
function M.call_n(fn, ...) return fn(...) end
function M.apply_rows(p, fn, name) return p:apply(fn, {axis = "rows", name = name}) end

function M.concat(...) return F.concat({...}) end
function M.concat_list(list) return F.concat(list) end

function M.gb_partial(p, keys, aggs) return F.groupby_partial(p, keys, aggs) end
function M.gb_combine(keys, aggs, ...) return F.groupby_combine({...}, keys, aggs) end
function M.gb_finish(p, keys, aggs, ddof, sort)
  local r = F.groupby_finish(p, keys, aggs, ddof)
  if sort then r = r:sort_values(sort.by, {ascending = sort.ascending}) end
  return r
end
function M.gb_apply(keys, fn, cols, meta, ...)
  local p = F.concat({...})
  if p:nrows() == 0 and meta then return meta end
  local g = p:groupby(keys)
  if cols then g = g:select(cols) end
  return g:apply(fn)
end
function M.gb_transform(keys, fn, cols, meta, ...)
  local p = F.concat({...})
  if p:nrows() == 0 and meta then return meta end
  local g = p:groupby(keys)
  if cols then g = g:select(cols) end
  return g:transform(fn)
end

-- a partition split for a shuffle: a list of frames
function M.hash_split(p, cols, n) return F.hash_split(p, cols, n) end
function M.range_split(p, col, bounds) return F.range_split(p, col, bounds) end
function M.pick(list, i) return list[i] end
function M.rows_split(p, k)
  local n, out = p:nrows(), {}
  for i = 1, k do
    local a, b = (i - 1) * n // k + 1, i * n // k
    out[i] = p:slice(a, b)
  end
  return out
end

-- shuffle target j: concat the j-th piece of each split, optionally sorted
function M.gather(j, sort, asc, ...)
  local parts = {}
  for i, list in ipairs({...}) do parts[i] = list[j] end
  local r = F.concat(parts)
  if sort then r = r:sort_values(sort, {ascending = asc}) end
  return r
end

function M.merge(l, r, lk, rk, how, ls, rs) return F.merge(l, r, lk, rk, how, ls, rs) end

-- sample of a column for quantile divisions: sorted present values
function M.sample(p, col, k)
  local c = p:column(col):dropna()
  local s = c:sort_values(col)
  local n = s:nrows()
  local out = {}
  if n == 0 then return out end
  for i = 1, k do
    local r = math.max(1, math.min(n, math.floor((i - 0.5) * n / k) + 1))
    out[#out + 1] = s[r]
  end
  return out
end

function M.from_ndarray(a, names) return F.from_ndarray(a, names) end
function M.nrows(p) return p:nrows() end
function M.nbytes(p) return p:nbytes() end

-- a whole-frame reduction through a constant key (tree-reduced like groupby)
function M.red_partial(p, aggs)
  return F.groupby_partial(p:with_column("\31all", 1), {"\31all"}, aggs)
end

function M.to_csv(p, path, opts) return p:to_csv(path, opts) end

return M
