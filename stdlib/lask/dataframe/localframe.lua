-- lask.dataframe.localframe: the methods of local frames written in Lua
-- (the C ones are in lua/l_frame.c). They are installed into the frame
-- method table of the Lua state that first asks for one, so callbacks in
-- worker threads see the same API as the main script.
require "lask.core"
local F = require "lask.core.frame"
local query = require "lask.dataframe.query"

local M = {}
local methods = F.methods

M.ops = {sum = true, mean = true, count = true, min = true, max = true, std = true,
         var = true, nunique = true, size = true, first = true, last = true}
local numeric_only = {sum = true, mean = true, std = true, var = true}
local numeric = {int64 = true, float64 = true, bool = true}

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end
M.sorted_keys = sorted_keys

local function checkop(op, level)
  if not M.ops[op] then
    error(("unknown aggregation '%s' (use sum mean count min max std var nunique size first last)")
      :format(tostring(op)), level + 1)
  end
  return op
end

-- Normalise an aggregation spec to a list of {column, op, output name}.
--   "mean"                      every non-key column (numeric ones for sum/mean/std/var)
--   {"mean", "count"}           every non-key column, named col_op
--   {y = "mean"}                one op on a column, named like the column
--   {y = {"mean", "count"}}     several, named y_mean, y_count
--   {avg = {"y", "mean"}}       a named aggregation (also {column = "y", agg = "mean"})
-- dtypes maps column -> type; keys are excluded.
function M.normalize_aggs(spec, keys, names, dtypes, level)
  level = (level or 1) + 1
  local iskey = {}
  for _, k in ipairs(keys) do iskey[k] = true end
  local out = {}
  local function every(op, suffix)
    checkop(op, level + 1)
    if op == "size" then out[#out + 1] = {false, "size", "size"}; return end
    for _, c in ipairs(names) do
      if not iskey[c] and (not numeric_only[op] or numeric[dtypes[c]]) then
        out[#out + 1] = {c, op, suffix and (c .. "_" .. op) or c}
      end
    end
  end
  if type(spec) == "string" then
    every(spec, false)
  elseif type(spec) == "table" and #spec > 0 then
    for _, op in ipairs(spec) do every(op, true) end
  elseif type(spec) == "table" then
    for _, name in ipairs(sorted_keys(spec)) do
      local v = spec[name]
      if type(v) == "string" then
        if dtypes[name] == nil and v ~= "size" then
          error(("agg: no column '%s' (columns: %s)"):format(name, table.concat(names, ", ")), level)
        end
        out[#out + 1] = {v == "size" and false or name, checkop(v, level), name}
      elseif type(v) == "table" and v.column then
        out[#out + 1] = {v.column, checkop(v.agg, level), name}
      elseif type(v) == "table" and #v == 2 and dtypes[v[1]] and not M.ops[v[1]] then
        out[#out + 1] = {v[1], checkop(v[2], level), name}
      elseif type(v) == "table" then
        if dtypes[name] == nil then
          error(("agg: no column '%s' (columns: %s)"):format(name, table.concat(names, ", ")), level)
        end
        for _, op in ipairs(v) do out[#out + 1] = {name, checkop(op, level), name .. "_" .. op} end
      else
        error(("agg: bad spec for '%s' (an op name, a list of ops or {column, op})"):format(name), level)
      end
    end
  else
    error("agg: expected an op name, a list of ops or a table {column = op}", level)
  end
  for _, a in ipairs(out) do
    if a[1] and dtypes[a[1]] == nil then
      error(("agg: no column '%s' (columns: %s)"):format(a[1], table.concat(names, ", ")), level)
    end
  end
  return out
end

local function keylist(keys, level)
  if type(keys) == "string" then return {keys} end
  if type(keys) ~= "table" or #keys == 0 then error("groupby: expected a column name or a list of names", level + 1) end
  return keys
end
M.keylist = keylist

-- ---------------------------------------------------------------- frames

function methods.assign(self, spec)
  if type(spec) ~= "table" then error("assign: expected a table {name = value}", 2) end
  local out = self
  for _, name in ipairs(sorted_keys(spec)) do
    local v = spec[name]
    if type(v) == "function" then v = v(self) end
    if type(v) == "table" then
      v = F.frame({[name] = v})
      v = v:column(name)
    end
    out = out:with_column(name, v)
  end
  return out
end

function methods.query(self, expr, env) return query.filter(self, expr, env) end
function methods.eval(self, expr, env) return query.evaluate(self, expr, env) end
function methods.compute(self) return self end
function methods.map_partitions(self, fn, ...) return fn(self, ...) end
function methods.between_rows(self, i, j) return self:slice(i, j) end

function methods.merge(self, other, opts)
  opts = opts or {}
  local on = opts.on
  local lk, rk = opts.left_on or on, opts.right_on or on
  if lk == nil then
    -- the columns both sides share
    lk = {}
    local theirs = {}
    for _, c in ipairs(other:columns()) do theirs[c] = true end
    for _, c in ipairs(self:columns()) do if theirs[c] then lk[#lk + 1] = c end end
    if #lk == 0 then error("merge: no common columns; pass on = ... or left_on/right_on", 2) end
    rk = lk
  end
  if type(lk) == "string" then lk = {lk} end
  if type(rk) == "string" then rk = {rk} end
  local suf = opts.suffixes or {"_x", "_y"}
  return F.merge(self, other, lk, rk, opts.how or "inner", suf[1], suf[2])
end

function methods.join(self, other, opts)
  opts = opts or {}
  return methods.merge(self, other, {on = opts.on, how = opts.how or "left",
    suffixes = {opts.lsuffix or "", opts.rsuffix or "_right"}})
end

function methods.set_index(self, col) return self:sort_values(col) end

function methods.value_counts(self, opts)
  local name = self:columns()[1]
  if self:ncols() ~= 1 then error("value_counts: call it on a column (df.x:value_counts())", 2) end
  local g = F.groupby_agg(self, {name}, {{false, "size", "count"}})
  local asc = opts and opts.ascending or false
  return g:sort_values({"count", name}, {ascending = {asc, true}})
end

-- Linear-interpolated quantile q of the sorted present values of a column.
local function quantile(sorted, n, q)
  if n == 0 then return nil end
  local pos = (n - 1) * q + 1
  local lo = math.floor(pos)
  local hi = math.min(lo + 1, n)
  local a, b = sorted[lo], sorted[hi]
  return a + (b - a) * (pos - lo)
end
M.quantile = quantile

function methods.describe(self)
  local stats = {"count", "mean", "std", "min", "25%", "50%", "75%", "max"}
  local cols, names = {stat = stats}, {"stat"}
  for _, c in ipairs(self:columns()) do
    local col = self:column(c)
    local t = col:dtype()
    if numeric[t] then
      local v = col:dropna():sort_values(c):values()
      local n = #v
      cols[c] = {n, col:mean(), col:std(), v[1] and v[1] + 0.0, quantile(v, n, 0.25), quantile(v, n, 0.5),
                 quantile(v, n, 0.75), v[n] and v[n] + 0.0}
      cols[c][1] = cols[c][1] + 0.0
      names[#names + 1] = c
    end
  end
  return F.frame(cols, {columns = names})
end

function methods.quantile(self, q)
  local c = self:columns()[1]
  local v = self:dropna():sort_values(c):values()
  if type(q) == "table" then
    local out = {}
    for i, x in ipairs(q) do out[i] = quantile(v, #v, x) end
    return out
  end
  return quantile(v, #v, q or 0.5)
end

-- fn(row) for each row (a table column -> value): a column of the results.
function methods.apply(self, fn, opts)
  local axis = opts and opts.axis or "rows"
  if axis ~= "rows" and axis ~= 1 then error("apply: only axis = \"rows\" is supported", 2) end
  local out = {}
  for i, row in ipairs(self:rows()) do out[i] = fn(row) end
  local name = opts and opts.name or "value"
  return F.frame({[name] = out}):column(name)
end

-- ---------------------------------------------------------------- groupby

local GroupBy = {}
local gb_fields = {frame = true, keys = true, cols = true, opts = true}
GroupBy.__index = function(self, k)
  local m = GroupBy[k]
  if m then return m end
  if gb_fields[k] then return nil end
  if type(k) == "string" or type(k) == "table" then return self:select(k) end
end

function methods.groupby(self, keys, opts)
  keys = keylist(keys, 2)
  for _, k in ipairs(keys) do self:column(k) end
  return setmetatable({frame = self, keys = keys, cols = nil, opts = opts or {}}, GroupBy)
end

function GroupBy:select(cols)
  if type(cols) == "string" then cols = {cols} end
  for _, c in ipairs(cols) do self.frame:column(c) end
  return setmetatable({frame = self.frame, keys = self.keys, cols = cols, opts = self.opts}, GroupBy)
end

function GroupBy:_view()
  local f = self.frame
  local names, dtypes = f:columns(), f:dtypes()
  if self.cols then
    names = {}
    for _, k in ipairs(self.keys) do names[#names + 1] = k end
    for _, c in ipairs(self.cols) do names[#names + 1] = c end
  end
  return names, dtypes
end

function GroupBy:agg(spec)
  local names, dtypes = self:_view()
  local aggs = M.normalize_aggs(spec, self.keys, names, dtypes, 2)
  return F.groupby_agg(self.frame, self.keys, aggs, self.opts.ddof or 1)
end
GroupBy.aggregate = GroupBy.agg

for op in pairs(M.ops) do
  if op ~= "size" then GroupBy[op] = function(self) return self:agg(op) end end
end
function GroupBy:size()
  return F.groupby_agg(self.frame, self.keys, {{false, "size", "size"}})
end

-- Row numbers of each group, in key order (the slow path's helper).
function GroupBy:_groups()
  local f = self.frame
  local kv = {}
  for i, k in ipairs(self.keys) do kv[i] = f:column(k):values() end
  local index, order = {}, {}
  for r = 1, f:nrows() do
    local parts, skip = {}, false
    for i = 1, #self.keys do
      local v = kv[i][r]
      if v == nil then skip = true end
      parts[i] = type(v) .. ":" .. tostring(v)
    end
    if not skip then
      local id = table.concat(parts, "\31")
      local g = index[id]
      if not g then
        g = {rows = {}, key = {}}
        for i = 1, #self.keys do g.key[i] = kv[i][r] end
        index[id] = g
        order[#order + 1] = g
      end
      g.rows[#g.rows + 1] = r
    end
  end
  table.sort(order, function(a, b)
    for i = 1, #a.key do
      local x, y = a.key[i], b.key[i]
      if x ~= y then
        if type(x) == type(y) and type(x) ~= "boolean" then return x < y end
        return tostring(x) < tostring(y)
      end
    end
    return false
  end)
  return order
end

-- fn(group frame) -> frame, table or value; the results joined into one
-- frame, with the group keys in front when fn gives values. Slow path.
function GroupBy:apply(fn)
  local parts = {}
  for _, g in ipairs(self:_groups()) do
    local sub = self.frame:take(g.rows)
    if self.cols then sub = sub:select(self.cols) end
    local r = fn(sub)
    if type(r) ~= "userdata" then
      local row = {}
      for i, k in ipairs(self.keys) do row[k] = {g.key[i]} end
      if type(r) == "table" then for k, v in pairs(r) do row[k] = {v} end
      else row.value = {r} end
      local names = {}
      for _, k in ipairs(self.keys) do names[#names + 1] = k end
      for _, k in ipairs(sorted_keys(row)) do
        local iskey = false
        for _, kk in ipairs(self.keys) do iskey = iskey or kk == k end
        if not iskey then names[#names + 1] = k end
      end
      r = F.frame(row, {columns = names})
    end
    parts[#parts + 1] = r
  end
  if #parts == 0 then return self.frame:head(0) end
  return F.concat(parts)
end

-- fn(group column) -> a column of the same length; results in the original
-- row order, one column per selected column. Slow path.
function GroupBy:transform(fn)
  local f = self.frame
  local cols = self.cols
  if not cols then
    cols = {}
    local iskey = {}
    for _, k in ipairs(self.keys) do iskey[k] = true end
    for _, c in ipairs(f:columns()) do if not iskey[c] then cols[#cols + 1] = c end end
  end
  local out = {}
  for _, c in ipairs(cols) do out[c] = {} end
  for _, g in ipairs(self:_groups()) do
    local sub = f:take(g.rows)
    for _, c in ipairs(cols) do
      local r = fn(sub:column(c))
      local vals, nv
      if type(r) == "userdata" then vals, nv = r:values(), r:nrows()
      elseif type(r) == "table" then vals, nv = r, #r
      else vals = {}; for i = 1, #g.rows do vals[i] = r end; nv = #g.rows end
      if nv ~= #g.rows then
        error(("transform: the function gave %d values for a group of %d rows"):format(nv, #g.rows), 2)
      end
      for i, row in ipairs(g.rows) do out[c][row] = vals[i] end
    end
  end
  local r = f
  local t = F.frame(out, {columns = cols, nrows = f:nrows()})
  for _, c in ipairs(cols) do r = r:with_column(c, t:column(c)) end
  return r
end

return M
