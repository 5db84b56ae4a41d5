-- lask.dataframe: partitioned data frames, lazily (a Dask DataFrame for Lua).
--
--   local dd = require "lask.dataframe"
--   local df = dd.read_csv("data/trips-*.csv")
--   local r = df[df.x:gt(0.5)]:groupby("key"):agg{y = {"mean", "count"}}
--   print(r:compute())
--
-- A DataFrame is a plan: nodes that know their parents, their column
-- types (meta, an empty local frame) and how to make one task per
-- partition. Tasks are made only when the plan is computed, after a pass
-- that works out which columns each node's consumers need, so read_csv
-- parses only the columns the query uses. A column is a one-column
-- DataFrame. Partition steps run as tasks calling lask.dataframe.ops
-- (one shipped function), CSV parsing as the native kernel frame.read_csv.
local core = require "lask.core"
local base = require "lask.base"
local collection = require "lask.collection"
local config = require "lask.config"
local F = require "lask.core.frame"
local LF = require "lask.dataframe.localframe"
local ops = require "lask.dataframe.ops"
local query = require "lask.dataframe.query"

local M = {}

config.register("dataframe.blocksize", 64 * 1024 * 1024, function(v)
  if v ~= false and (math.type(v) ~= "integer" or v <= 0) then return "expected a positive integer or false" end
end)
config.register("dataframe.split_every", 8, function(v)
  if math.type(v) ~= "integer" or v < 2 then return "expected an integer >= 2" end
end)

-- Every partition step.
local RUN = core.ship(function(op, ...)
  local ops = require "lask.dataframe.ops"
  return (ops[op](...))
end)

local DataFrame = {__name = "lask.DataFrame"}
local methods = {}
local ALL = setmetatable({}, {__name = "all columns"})

local function is_df(v) return getmetatable(v) == DataFrame end
M.is_dataframe = is_df

-- ---------------------------------------------------------------- plans

local function union(a, b)
  if a == nil then return b end
  if a == ALL or b == ALL then return ALL end
  local u = {}
  for k in pairs(a) do u[k] = true end
  for k in pairs(b) do u[k] = true end
  return u
end

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- A node: {parents, meta, nparts, divisions, index, build(self, need,
-- parent_tasks) -> tasks, needs(self, need) -> per-parent needs}.
local function new_node(n)
  n.parents = n.parents or {}
  n.names = n.meta:columns()
  n.dtypes = n.meta:dtypes()
  n.colset = set_of(n.names)
  n.divisions = n.divisions or {}
  return n
end

local function wrap(n) return setmetatable({_node = n}, DataFrame) end

-- Tasks of a node (one per partition), with column needs pushed down.
local function lower(root)
  if root._lowered then return root._lowered end
  local order, seen = {}, {}
  local function visit(n)
    if seen[n] then return end
    seen[n] = true
    for _, p in ipairs(n.parents) do visit(p) end
    order[#order + 1] = n
  end
  visit(root)
  local need = {[root] = ALL}
  for i = #order, 1, -1 do
    local n = order[i]
    local pn = n.needs and n:needs(need[n] or ALL) or {}
    for j, p in ipairs(n.parents) do need[p] = union(need[p], pn[j] or ALL) end
  end
  local tasks = {}
  for _, n in ipairs(order) do
    local pt = {}
    for j, p in ipairs(n.parents) do pt[j] = tasks[p] end
    tasks[n] = n:build(need[n], pt)
  end
  root._lowered = tasks[root]
  return tasks[root]
end
M._lower = lower

local function run_task(name, op, ...)
  return core.ltask(name .. "-" .. core.tokenize(op, ...), RUN, op, ...)
end

local function meta_of(spec, level)
  if type(spec) == "userdata" then return spec:head(0) end
  if is_df(spec) then return spec._node.meta end
  if type(spec) == "table" then
    local names, types = {}, {}
    if #spec > 0 then
      for i, p in ipairs(spec) do names[i], types[i] = p[1], p[2] end
    elseif spec.names then
      names, types = spec.names, spec.types
    else
      names = LF.sorted_keys(spec)
      for i, n in ipairs(names) do types[i] = spec[n] end
    end
    return F.empty(names, types)
  end
  error("meta: expected an empty frame, {col = type} or {names = ..., types = ...}", level + 1)
end

-- A DataFrame over ready-made tasks (one per partition) holding frames;
-- index (optional) names the column that is the index (divisions are its
-- partition bounds).
function M.from_tasks(tasks, meta, divisions, index, level)
  level = level or 1
  if type(tasks) ~= "table" then error("from_tasks: expected a list of tasks", level + 1) end
  local m = meta_of(meta, level + 1)
  if index ~= nil then
    local found = false
    for _, c in ipairs(m:columns()) do found = found or c == index end
    if not found then
      error(("from_tasks: index names no column of meta: %s"):format(tostring(index)), level + 1)
    end
  end
  return wrap(new_node {
    meta = m, nparts = #tasks, divisions = divisions, index = index,
    build = function() return tasks end,
  })
end

-- A partition-wise step: args are values or DataFrames (aligned); op is
-- a function of lask.dataframe.ops. meta comes from running op on the
-- inputs' metas (so type errors show up here, at once) unless given.
local function mapnode(name, op, args, o, level)
  level = (level or 1) + 1
  o = o or {}
  local first, lazy = nil, {}
  local margs = {}
  for i = 1, #args do
    local a = args[i]
    if is_df(a) then
      local n = a._node
      if first and n.nparts ~= first.nparts then
        error(("%s: the frames have %d and %d partitions; they must line up (repartition or merge)")
          :format(name, first.nparts, n.nparts), level)
      end
      first = first or n
      lazy[#lazy + 1] = i
      margs[i] = n.meta
    else
      margs[i] = a
    end
  end
  local meta = o.meta
  if not meta then
    local ok, r = pcall(ops[op], table.unpack(margs, 1, #args))
    if not ok then error(("%s: %s"):format(name, tostring(r):gsub("^[^:]*:%d+: ", "")), level) end
    if type(r) ~= "userdata" then error(name .. ": the step does not give a frame", level) end
    meta = r:head(0)
  end
  local parents = {}
  for k, i in ipairs(lazy) do parents[k] = args[i]._node end
  local n = new_node {
    meta = meta, parents = parents, nparts = first and first.nparts or 1,
    divisions = o.divisions or (o.keep_divisions ~= false and first and first.divisions) or nil,
    index = o.index or (first and first.index),
    needs = o.needs,
    build = function(self, need, pt)
      local out = {}
      for p = 1, self.nparts do
        local a = {}
        for i = 1, #args do a[i] = args[i] end
        for k, i in ipairs(lazy) do a[i] = pt[k][p] end
        local na = #args
        if o.pass_need then
          -- the columns wanted downstream, so the step can drop the rest early
          na = na + 1
          if need == ALL then a[na] = false
          else
            local cols = {}
            for _, c in ipairs(self.names) do if need[c] then cols[#cols + 1] = c end end
            a[na] = cols
          end
        end
        out[p] = run_task(name, op, table.unpack(a, 1, na))
      end
      return out
    end,
  }
  if o.index == false then n.index = nil end
  -- Column expressions remember how to rebuild themselves on a frame that
  -- descends from their base (df:query(...):assign{z = df.x * 2} then
  -- uses the filtered rows, as index alignment would in pandas).
  if op == "select" and #args[2] == 1 then
    n.base = args[1]._node
    n.replay = function(T) return T:_select(args[2]) end
  elseif op == "binop" or op == "unop" or op == "method" then
    local b, ok = nil, #lazy > 0
    for _, i in ipairs(lazy) do
      local an = args[i]._node
      if not an.replay or (b and an.base ~= b) then ok = false; break end
      b = an.base
    end
    if ok then
      n.base = b
      n.replay = function(T)
        local a2 = {}
        for i = 1, #args do a2[i] = is_df(args[i]) and args[i]._node.replay(T) or args[i] end
        return mapnode(name, op, a2, nil, 2)
      end
    end
  end
  return wrap(n)
end
M._mapnode = mapnode

local function descends(t, a)
  if t == a then return true end
  local seen, stack = {}, {t}
  while #stack > 0 do
    local n = table.remove(stack)
    if n == a then return true end
    if not seen[n] then
      seen[n] = true
      for _, p in ipairs(n.parents) do stack[#stack + 1] = p end
    end
  end
  return false
end

-- v (a column) evaluated on the rows of target when it was derived from
-- one of target's ancestors.
local function rebase(target, v)
  local vn = v._node
  if vn.base and vn.base ~= target._node and vn.replay and descends(target._node, vn.base) then
    return vn.replay(target)
  end
  return v
end

-- ---------------------------------------------------------------- read_csv

local function spec_words(t)
  local out = {}
  for i = 1, #t, 2 do out[#out + 1] = tostring(t[i]) .. "\0" .. tostring(t[i + 1]) .. "\0" end
  return table.concat(out)
end

local csv_known = {sep = true, delimiter = true, header = true, names = true, usecols = true, dtype = true,
  na_values = true, parse_dates = true, skiprows = true, comment = true, quotechar = true,
  encoding = true, on_bad_lines = true, blocksize = true, include_path_column = true,
  sample = true, columns = true}

-- read_csv(path | glob | list, opts) -> DataFrame, one partition per
-- blocksize bytes of each file (blocksize = false: one per file).
function M.read_csv(paths, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("read_csv: options must be a table", 2) end
  for k in pairs(opts) do
    if not csv_known[k] then error(("read_csv: unknown option '%s'"):format(tostring(k)), 2) end
  end
  local files = {}
  local list = type(paths) == "table" and paths or {paths}
  if #list == 0 then error("read_csv: expected a path, a glob or a list of paths", 2) end
  for _, p in ipairs(list) do
    if type(p) ~= "string" then error("read_csv: paths must be strings", 2) end
    if p:find("[%*%?%[]") then
      local g = F.glob(p)
      if #g == 0 then error(("read_csv: no files match '%s'"):format(p), 2) end
      for _, f in ipairs(g) do files[#files + 1] = f end
    else
      files[#files + 1] = p
    end
  end
  local enc = opts.encoding
  if enc and not tostring(enc):lower():match("^utf%-?8$") then
    error(("read_csv: encoding '%s' is not supported (only UTF-8)"):format(tostring(enc)), 2)
  end
  local w = {}
  local sep = opts.sep or opts.delimiter
  if sep then
    if type(sep) ~= "string" or #sep ~= 1 then error("read_csv: sep must be one character", 2) end
    w[#w + 1] = "sep"; w[#w + 1] = sep
  end
  if opts.quotechar then w[#w + 1] = "quote"; w[#w + 1] = opts.quotechar end
  if opts.comment then w[#w + 1] = "comment"; w[#w + 1] = opts.comment end
  local header = opts.header
  if header == nil then header = opts.names == nil end
  if header == 0 then header = true end
  w[#w + 1] = "header"; w[#w + 1] = header and 1 or 0
  if opts.skiprows then w[#w + 1] = "skiprows"; w[#w + 1] = math.tointeger(opts.skiprows) or 0 end
  local bad = opts.on_bad_lines or "error"
  if bad ~= "error" and bad ~= "skip" and bad ~= "warn" then
    error("read_csv: on_bad_lines must be \"error\", \"skip\" or \"warn\"", 2)
  end
  if bad ~= "error" then w[#w + 1] = "skip_bad_lines"; w[#w + 1] = 1 end
  for _, n in ipairs(opts.names or {}) do w[#w + 1] = "name"; w[#w + 1] = n end
  local usecols = opts.usecols or opts.columns
  for _, n in ipairs(usecols or {}) do w[#w + 1] = "usecol"; w[#w + 1] = n end
  if opts.na_values then
    w[#w + 1] = "na_given"; w[#w + 1] = 1
    for _, n in ipairs({"", "NA", "N/A", "NaN", "nan", "NULL", "null"}) do w[#w + 1] = "na"; w[#w + 1] = n end
    for _, n in ipairs(type(opts.na_values) == "table" and opts.na_values or {opts.na_values}) do
      w[#w + 1] = "na"; w[#w + 1] = tostring(n)
    end
  end
  local dates = opts.parse_dates
  if type(dates) == "string" then dates = {dates} end
  for _, n in ipairs(dates or {}) do w[#w + 1] = "date"; w[#w + 1] = n end
  local base_spec = spec_words(w)
  local dspec = {}
  if opts.dtype then
    if type(opts.dtype) ~= "table" then error("read_csv: dtype must be a table {column = type}", 2) end
    for _, c in ipairs(LF.sorted_keys(opts.dtype)) do dspec[#dspec + 1] = "dtype\0" .. c .. "\0" .. opts.dtype[c] .. "\0" end
  end
  base_spec = base_spec .. table.concat(dspec)
  local pathcol = opts.include_path_column
  if pathcol == true then pathcol = "path" end
  -- sizes now: a missing file is an error here, not in a worker
  local sizes = {}
  for i, f in ipairs(files) do
    local size, err = F.stat(f)
    if not size then error("read_csv: cannot open " .. err:gsub("^[^:]*: ", f .. ": "), 2) end
    sizes[i] = size
  end
  local ok, schema = pcall(F.csv_infer, files[1], base_spec, opts.sample or 262144)
  if not ok then error(tostring(schema):gsub("^[^:]*:%d+: ", ""), 2) end
  local bs = opts.blocksize
  if bs == nil then bs = config.get("dataframe.blocksize") end
  if type(bs) == "string" then bs = M.parse_bytes(bs) end
  local ranges = {}
  for i, f in ipairs(files) do
    if not bs or sizes[i] <= bs then ranges[#ranges + 1] = {f, 0, -1, sizes[i]}
    else
      for s = 0, sizes[i] - 1, bs do ranges[#ranges + 1] = {f, s, math.min(s + bs, sizes[i]), sizes[i]} end
    end
  end
  local knames, ktypes = {}, {}
  for j, n in ipairs(schema.names) do
    if schema.keep[j] then knames[#knames + 1] = n; ktypes[#ktypes + 1] = schema.types[j] end
  end
  if pathcol then knames[#knames + 1] = pathcol; ktypes[#ktypes + 1] = "string" end
  local meta = F.empty(knames, ktypes)
  return wrap(new_node {
    meta = meta, nparts = #ranges,
    build = function(self, need)
      -- keep only what is needed (at least one column, so rows are counted)
      local sch, any = {}, false
      local keepset = {}
      for j, n in ipairs(schema.names) do
        local k = schema.keep[j] and (need == ALL or need[n])
        keepset[j] = k
        any = any or k
      end
      if not any then
        for j = 1, #schema.names do if schema.keep[j] then keepset[j] = true; break end end
      end
      for j, n in ipairs(schema.names) do
        sch[#sch + 1] = n .. "\0" .. schema.types[j] .. "\0" .. (keepset[j] and "1" or "0") .. "\0"
      end
      local schema_s = table.concat(sch)
      local spec = base_spec
      if pathcol and (need == ALL or need[pathcol]) then spec = spec .. "path_column\0" .. pathcol .. "\0" end
      local out = {}
      for i, r in ipairs(ranges) do
        local key = "read_csv-" .. core.tokenize(r[1], r[2], r[3], r[4], spec, schema_s)
        out[i] = core.task(key, "frame.read_csv", r[1], r[2], r[3], spec, schema_s)
      end
      return out
    end,
  })
end

function M.parse_bytes(s)
  if type(s) == "number" then return s end
  local n, unit = tostring(s):match("^%s*([%d%.]+)%s*(%a*)%s*$")
  local mult = {[""] = 1, B = 1, KB = 1e3, MB = 1e6, GB = 1e9, KIB = 1024, MIB = 1024 ^ 2, GIB = 1024 ^ 3}
  local m = n and mult[unit:upper()]
  if not m then error(("cannot read '%s' as a size (like \"64MB\")"):format(tostring(s)), 3) end
  return math.floor(tonumber(n) * m)
end

-- ---------------------------------------------------------------- other sources

-- A local frame as a lazy one of npartitions row slices.
function M.from_frame(frame, opts)
  local n = math.max(1, math.min(opts and opts.npartitions or 1, math.max(1, frame:nrows())))
  local tasks, rows = {}, frame:nrows()
  local tok = core.tokenize(frame:totable(), frame:columns())
  for i = 1, n do
    local a, b = (i - 1) * rows // n + 1, i * rows // n
    tasks[i] = core.value("from_frame-" .. tok .. "-" .. i, frame:slice(a, b))
  end
  return M.from_tasks(tasks, frame, nil, nil, 2)
end

function M.from_table(t, opts)
  if is_df(t) then return t end
  local f = type(t) == "userdata" and t or F.frame(t, opts)
  return M.from_frame(f, opts)
end

M.frame = function(t, opts) return F.frame(t, opts) end

function M.from_delayed(list, opts)
  local tasks = {}
  for i, d in ipairs(list) do
    if type(d) ~= "table" or not d._lask_task then error(("from_delayed: item %d is not a Delayed"):format(i), 2) end
    tasks[i] = d._lask_task
  end
  if not (opts and opts.meta) then
    error("from_delayed: pass {meta = ...} (an empty frame or {column = type})", 2)
  end
  return M.from_tasks(tasks, opts.meta, opts.divisions, opts.index, 2)
end

-- from_array(x, {columns = {...}}): a 1-d or 2-d lask.array as a frame,
-- one partition per block of rows.
function M.from_array(x, opts)
  opts = opts or {}
  local ok, da = pcall(require, "lask.array")
  if not ok or not da.is_array(x) then error("from_array: expected a lask.array Array", 2) end
  if x.ndim ~= 1 and x.ndim ~= 2 then error(("from_array: need a 1-d or 2-d array, got %d-d"):format(x.ndim), 2) end
  local ncols = x.ndim == 1 and 1 or x.shape[2]
  local names = opts.columns
  if not names then
    names = {}
    if x.ndim == 1 then names[1] = "value" else for j = 1, ncols do names[j] = "col" .. j end end
  end
  if #names ~= ncols then error(("from_array: %d column names for %d columns"):format(#names, ncols), 2) end
  if x.ndim == 2 and x.numblocks[2] > 1 then x = x:rechunk({x.chunks[1], ncols}) end
  local t = ({float64 = "float64", float32 = "float64", bool = "bool"})[x.dtype] or "int64"
  local types = {}
  for j = 1, ncols do types[j] = t end
  local tasks = {}
  for i, blk in ipairs(x:__lask_tasks()) do tasks[i] = run_task("from_array", "from_ndarray", blk, names) end
  return M.from_tasks(tasks, F.empty(names, types), nil, nil, 2)
end

function M.concat(list)
  if type(list) ~= "table" or #list == 0 then error("concat: expected a list of DataFrames", 2) end
  local nodes, tasks_of = {}, {}
  local meta = list[1]._node.meta
  local n = 0
  for i, d in ipairs(list) do
    if not is_df(d) then error(("concat: item %d is not a DataFrame"):format(i), 2) end
    nodes[i] = d._node
    n = n + d._node.nparts
    tasks_of[i] = d._node.nparts
    local ok, err = pcall(F.concat, {meta, d._node.meta})
    if not ok then error("concat: " .. tostring(err):gsub("^[^:]*:%d+: ", ""), 2) end
  end
  return wrap(new_node {
    meta = meta, parents = nodes, nparts = n,
    build = function(self, need, pt)
      local out = {}
      for _, ts in ipairs(pt) do for _, t in ipairs(ts) do out[#out + 1] = t end end
      return out
    end,
  })
end

M.read_parquet = function(...) return require("lask.parquet").read_parquet(...) end
function methods:to_parquet(...) return require("lask.parquet").to_parquet(self, ...) end

-- ---------------------------------------------------------------- access

local fields = {
  npartitions = function(n) return n.nparts end,
  divisions = function(n) return n.divisions end,
  known_divisions = function(n) return n.divisions[1] ~= nil end,
  columns = function(n) return {table.unpack(n.names)} end,
  dtypes = function(n) local t = {}; for k, v in pairs(n.dtypes) do t[k] = v end; return t end,
  index = function(n) return n.index end,
}

DataFrame.__index = function(self, k)
  local m = methods[k]
  if m ~= nil then return m end
  local n = rawget(self, "_node")
  if type(k) == "string" then
    if fields[k] then return fields[k](n) end
    if n.colset[k] then return self:_select({k}) end
    if k:sub(1, 2) == "__" then return nil end
    error(("no column or method '%s' (columns: %s)"):format(k, table.concat(n.names, ", ")), 2)
  end
  if is_df(k) then return self:_filter(k) end
  if type(k) == "table" then return self:_select(k) end
  error("cannot index a DataFrame with a " .. type(k), 2)
end

DataFrame.__newindex = function(_, k)
  error(("DataFrames are immutable: use df:assign{%s = ...}"):format(tostring(k)), 2)
end

function methods:_select(cols)
  local n = self._node
  for _, c in ipairs(cols) do
    if not n.colset[c] then
      error(("no column '%s' (columns: %s)"):format(tostring(c), table.concat(n.names, ", ")), 3)
    end
  end
  return mapnode("select", "select", {self, cols}, {needs = function() return {set_of(cols)} end}, 3)
end

function methods:_filter(mask)
  if mask._node.meta:ncols() ~= 1 or mask._node.dtypes[mask._node.names[1]] ~= "bool" then
    error("a row filter needs a boolean column (like df.x:gt(0))", 3)
  end
  mask = rebase(self, mask)
  return mapnode("filter", "filter", {self, mask}, {pass_need = true,
    needs = function(_, need) return {need, ALL} end}, 3)
end

function methods:filter(mask) return self:_filter(mask) end
function methods:select(cols) if type(cols) == "string" then cols = {cols} end return self:_select(cols) end
function methods:column(name) return self:_select({name}) end

function methods:query(expr, env)
  local ok, tree = pcall(query.parse, expr)
  if not ok then error(tree, 2) end
  local cols = query.columns(tree)
  return mapnode("query", "query", {self, expr, env}, {needs = function(_, need)
    if need == ALL then return {ALL} end
    return {union(need, cols)}
  end}, 2)
end

function methods:eval(expr, env)
  local ok, tree = pcall(query.parse, expr)
  if not ok then error(tree, 2) end
  local cols = query.columns(tree)
  return mapnode("eval", "eval", {self, expr, env, "value"}, {needs = function() return {cols} end}, 2)
end

function methods:assign(spec)
  if type(spec) ~= "table" then error("assign: expected a table {name = value}", 2) end
  local out = self
  for _, name in ipairs(LF.sorted_keys(spec)) do
    local v = spec[name]
    if is_df(v) and v._node.meta:ncols() ~= 1 then error(("assign: '%s' must be one column"):format(name), 2) end
    if is_df(v) then v = rebase(out, v) end
    out = mapnode("assign", "assign", {out, name, v}, {needs = function(_, need)
      if need == ALL then return {ALL, ALL} end
      local n = {}
      for k in pairs(need) do if k ~= name then n[k] = true end end
      if type(v) == "function" then return {ALL, ALL} end
      return {n, ALL}
    end}, 2)
  end
  return out
end

function methods:drop(cols)
  if type(cols) == "table" and cols.columns then cols = cols.columns end
  if type(cols) == "string" then cols = {cols} end
  local n = self._node
  for _, c in ipairs(cols) do
    if not n.colset[c] then error(("drop: no column '%s' (columns: %s)"):format(c, table.concat(n.names, ", ")), 2) end
  end
  return mapnode("drop", "drop", {self, cols}, nil, 2)
end

function methods:rename(map)
  if type(map) == "table" and map.columns then map = map.columns end
  local n = self._node
  for k in pairs(map) do
    if not n.colset[k] then error(("rename: no column '%s' (columns: %s)"):format(k, table.concat(n.names, ", ")), 2) end
  end
  local back = {}
  for k, v in pairs(map) do back[v] = k end
  return mapnode("rename", "rename", {self, map}, {needs = function(_, need)
    if need == ALL then return {ALL} end
    local s = {}
    for k in pairs(need) do s[back[k] or k] = true end
    return {s}
  end}, 2)
end

-- column methods, run on each partition
local colmethods = {"gt", "lt", "ge", "le", "eq", "ne", "isin", "between", "isna", "notna", "fillna",
  "astype", "abs", "round", "clip", "str_len", "str_lower", "str_upper", "str_contains",
  "str_startswith", "str_endswith", "str_slice", "str_split", "dt_year", "dt_month", "dt_day",
  "dt_hour", "dropna"}
for _, name in ipairs(colmethods) do
  methods[name] = function(self, ...)
    local args = {self, name, ...}
    return mapnode(name, "method", args, nil, 2)
  end
end
methods.isnull = methods.isna
methods.notnull = methods.notna

local binops = {__add = "add", __sub = "sub", __mul = "mul", __div = "div", __mod = "mod",
  __idiv = "idiv", __pow = "pow", __band = "band", __bor = "bor"}
for mm, op in pairs(binops) do
  DataFrame[mm] = function(a, b) return mapnode(op, "binop", {op, a, b}, nil, 2) end
end
DataFrame.__unm = function(a) return mapnode("neg", "unop", {"neg", a}, nil, 2) end
DataFrame.__bnot = function(a) return mapnode("not", "unop", {"not", a}, nil, 2) end
DataFrame.__len = function(self) return self:nrows() end

local function scalar_opts(opts) return base.options(opts, 3, "compute") end

-- Compute some partitions' tasks now.
local function compute_parts(self, idx, opts)
  local tasks = lower(self._node)
  local ts = {}
  for i, p in ipairs(idx) do ts[i] = tasks[p] end
  return base.run(ts, scalar_opts(opts))
end

-- head(n): computes partitions from the first until it has n rows.
function methods:head(n, opts)
  n = n or 5
  local parts, got = {}, 0
  for p = 1, self._node.nparts do
    local f = compute_parts(self, {p}, opts)[1]
    parts[#parts + 1] = f
    got = got + f:nrows()
    if got >= n then break end
  end
  if #parts == 0 then return self._node.meta end
  return F.concat(parts):head(n)
end

function methods:tail(n, opts)
  n = n or 5
  local parts, got = {}, 0
  for p = self._node.nparts, 1, -1 do
    local f = compute_parts(self, {p}, opts)[1]
    table.insert(parts, 1, f)
    got = got + f:nrows()
    if got >= n then break end
  end
  if #parts == 0 then return self._node.meta end
  return F.concat(parts):tail(n)
end

function methods:nrows(opts)
  local c = mapnode("nrows", "call", {self, function(p)
    local f = require("lask.core.frame")
    return f.frame({n = {p:nrows()}})
  end}, {meta = F.empty({"n"}, {"int64"}), needs = function() return {{}} end}, 2)
  local total = 0
  for _, f in ipairs(base.run(lower(c._node), scalar_opts(opts))) do total = total + f.n[1] end
  return total
end
methods.__len = methods.nrows

-- ---------------------------------------------------------------- reductions

local function tree(parts, keys, aggs, every)
  while #parts > 1 do
    local nxt = {}
    for i = 1, #parts, every do
      nxt[#nxt + 1] = run_task("combine", "gb_combine", keys, aggs,
        table.unpack(parts, i, math.min(i + every - 1, #parts)))
    end
    parts = nxt
  end
  return parts[1]
end

local Scalar = {__name = "lask.Scalar"}
Scalar.__index = Scalar
collection.mixin(Scalar)
function Scalar:__lask_tasks() return {lower(self.node)[1]} end
function Scalar:__lask_finalize(v) return v[1] end
function Scalar:__lask_rebuild(t) return setmetatable({node = {build = function() return t end, parents = {}}}, Scalar) end
function Scalar:__tostring() return "lask.Scalar<" .. self.what .. ">" end
M.Scalar = Scalar

local function reduction(self, op, opts, level)
  local n = self._node
  local aggs = {}
  local single = n.meta:ncols() == 1
  local numeric = {int64 = true, float64 = true, bool = true}
  local numeric_only = {sum = true, mean = true, std = true, var = true}
  for _, c in ipairs(n.names) do
    if op == "size" then aggs = {{false, "size", "size"}}; break end
    if not numeric_only[op] or numeric[n.dtypes[c]] or single then aggs[#aggs + 1] = {c, op, c} end
  end
  if single and numeric_only[op] and not numeric[n.dtypes[n.names[1]]] then
    error(("%s needs a numeric column, '%s' is %s"):format(op, n.names[1], n.dtypes[n.names[1]]), level + 1)
  end
  local ddof = opts and opts.ddof or 1
  local every = opts and opts.split_every or config.get("dataframe.split_every")
  local need = {}
  for _, a in ipairs(aggs) do if a[1] then need[a[1]] = true end end
  local node = {parents = {n}, needs = function() return {need} end,
    build = function(_, _, pt)
      local parts = {}
      for i, t in ipairs(pt[1]) do parts[i] = run_task(op .. "-partial", "red_partial", t, aggs) end
      if #parts == 0 then
        parts[1] = run_task(op .. "-partial", "red_partial", core.value("meta-" .. core.tokenize(n.names), n.meta), aggs)
      end
      local fin = run_task(op .. "-agg", "gb_finish", tree(parts, {"\31all"}, aggs, every), {"\31all"}, aggs, ddof)
      return {run_task(op, "call", fin, function(p, outs, one)
        if one then return p:column(outs[1])[1] end
        local r = {}
        for _, o in ipairs(outs) do r[o] = p:column(o)[1] end
        return r
      end, (function() local o = {}; for i, a in ipairs(aggs) do o[i] = a[3] end; return o end)(), single or op == "size")}
    end}
  return setmetatable({node = node, what = op}, Scalar)
end

for _, op in ipairs {"sum", "mean", "count", "min", "max", "std", "var", "nunique", "size", "first", "last"} do
  methods[op] = function(self, opts) return reduction(self, op, opts, 2) end
end

-- ---------------------------------------------------------------- groupby

local GroupBy = {__name = "lask.GroupBy"}
local gb_fields = {df = true, keys = true, cols = true, opts = true}
GroupBy.__index = function(self, k)
  local m = GroupBy[k]
  if m then return m end
  if gb_fields[k] then return nil end
  if type(k) == "string" or type(k) == "table" then
    local cols = type(k) == "string" and {k} or k
    for _, c in ipairs(cols) do
      if not self.df._node.colset[c] then
        error(("groupby: no column '%s' (columns: %s)"):format(c, table.concat(self.df._node.names, ", ")), 2)
      end
    end
    return setmetatable({df = self.df, keys = self.keys, cols = cols, opts = self.opts}, GroupBy)
  end
end

function methods:groupby(keys, opts)
  keys = LF.keylist(keys, 2)
  for _, k in ipairs(keys) do
    if not self._node.colset[k] then
      error(("groupby: no column '%s' (columns: %s)"):format(k, table.concat(self._node.names, ", ")), 2)
    end
  end
  return setmetatable({df = self, keys = keys, opts = opts or {}}, GroupBy)
end

function GroupBy:_view()
  local n = self.df._node
  if not self.cols then return n.names, n.dtypes end
  local names = {}
  for _, k in ipairs(self.keys) do names[#names + 1] = k end
  for _, c in ipairs(self.cols) do names[#names + 1] = c end
  return names, n.dtypes
end

-- agg(spec, {split_out = n, split_every = k, ddof = 1})
function GroupBy:agg(spec, opts, level)
  level = level or 2
  opts = opts or {}
  local names, dtypes = self:_view()
  local aggs = LF.normalize_aggs(spec, self.keys, names, dtypes, level)
  return self:_agg(aggs, opts, nil, level)
end
GroupBy.aggregate = GroupBy.agg

function GroupBy:_agg(aggs, opts, sort, level)
  local keys = self.keys
  local n = self.df._node
  local ok, meta = pcall(F.groupby_agg, n.meta, keys, aggs, opts.ddof or 1)
  if not ok then error("groupby: " .. tostring(meta):gsub("^[^:]*:%d+: ", ""), level + 1) end
  local split_out = opts.split_out or self.opts.split_out or 1
  local every = opts.split_every or self.opts.split_every or config.get("dataframe.split_every")
  local ddof = opts.ddof or self.opts.ddof or 1
  local need = set_of(keys)
  for _, a in ipairs(aggs) do if a[1] then need[a[1]] = true end end
  return wrap(new_node {
    meta = meta, parents = {n}, nparts = split_out,
    needs = function() return {need} end,
    build = function(_, _, pt)
      -- a source may make the partial aggregates itself (read_parquet)
      local parts = n.groupby_partials and n.groupby_partials(keys, aggs) or {}
      if #parts == 0 then
        for i, t in ipairs(pt[1]) do parts[i] = run_task("groupby-partial", "gb_partial", t, keys, aggs) end
      end
      if #parts == 0 then
        parts[1] = run_task("groupby-partial", "gb_partial", core.value("meta-" .. core.tokenize(n.names), n.meta), keys, aggs)
      end
      if split_out == 1 then
        return {run_task("groupby-agg", "gb_finish", tree(parts, keys, aggs, every), keys, aggs, ddof, sort)}
      end
      local splits = {}
      for i, p in ipairs(parts) do splits[i] = run_task("groupby-split", "hash_split", p, keys, split_out) end
      local out = {}
      for j = 1, split_out do
        local pieces = {}
        for i, s in ipairs(splits) do pieces[i] = run_task("groupby-pick", "pick", s, j) end
        out[j] = run_task("groupby-agg", "gb_finish", tree(pieces, keys, aggs, every), keys, aggs, ddof, sort)
      end
      return out
    end,
  })
end

for op in pairs(LF.ops) do
  if op ~= "size" then GroupBy[op] = function(self, opts) return self:agg(op, opts, 3) end end
end
function GroupBy:size(opts)
  return self:_agg({{false, "size", "size"}}, opts or {}, nil, 2)
end

-- Shuffle whole groups to partitions, then fn per group (the slow path).
local function shuffle_tasks(pt, keys, nout)
  local splits = {}
  for i, t in ipairs(pt) do splits[i] = run_task("shuffle-split", "hash_split", t, keys, nout) end
  return splits
end

local function group_apply(self, op, fn, opts, level)
  opts = opts or {}
  local n = self.df._node
  local keys, cols = self.keys, self.cols
  local meta = opts.meta and meta_of(opts.meta, level)
  if not meta then
    local ok, r = pcall(ops[op], keys, fn, cols, false, n.meta)
    if not ok or type(r) ~= "userdata" then
      error(("groupby %s: could not work out the result columns (%s); pass {meta = ...}")
        :format(op == "gb_apply" and "apply" or "transform", tostring(r)), level + 1)
    end
    meta = r:head(0)
  end
  local nout = n.nparts
  return wrap(new_node {
    meta = meta, parents = {n}, nparts = nout,
    build = function(_, _, pt)
      local splits = shuffle_tasks(pt[1], keys, nout)
      local out = {}
      for j = 1, nout do
        local pieces = {}
        for i, s in ipairs(splits) do pieces[i] = run_task("shuffle-pick", "pick", s, j) end
        out[j] = run_task("groupby-" .. op, op, keys, fn, cols or false, meta, table.unpack(pieces))
      end
      return out
    end,
  })
end

function GroupBy:apply(fn, opts) return group_apply(self, "gb_apply", fn, opts, 2) end
function GroupBy:transform(fn, opts) return group_apply(self, "gb_transform", fn, opts, 2) end

-- value_counts of a column: counts per value, most frequent first
function methods:value_counts(opts)
  local n = self._node
  if n.meta:ncols() ~= 1 then error("value_counts: call it on a column (df.x:value_counts())", 2) end
  local name = n.names[1]
  local asc = opts and opts.ascending or false
  local g = setmetatable({df = self, keys = {name}, opts = {}}, GroupBy)
  return g:_agg({{false, "size", "count"}}, opts or {}, {by = {"count", name}, ascending = {asc, true}}, 2)
end

function methods:describe()
  local n = self._node
  local meta = n.meta:describe():head(0)
  local num = {}
  for _, c in ipairs(n.names) do if ({int64 = 1, float64 = 1, bool = 1})[n.dtypes[c]] then num[c] = true end end
  return wrap(new_node {
    meta = meta, parents = {n}, nparts = 1,
    needs = function() return {num} end,
    build = function(_, _, pt)
      return {run_task("describe", "call_n", function(...)
        local f = require("lask.core.frame")
        require("lask.dataframe.localframe")
        local parts = {...}
        if #parts == 0 then return nil end
        return f.concat(parts):describe()
      end, table.unpack(pt[1]))}
    end,
  })
end

-- ---------------------------------------------------------------- joins

local function keys_of(v) if type(v) == "string" then return {v} end return v end

function methods:merge(other, opts)
  opts = opts or {}
  if not is_df(other) then
    if type(other) == "userdata" then other = M.from_frame(other)
    else error("merge: expected a DataFrame (or a local frame)", 2) end
  end
  local l, r = self._node, other._node
  local lk, rk = keys_of(opts.left_on or opts.on), keys_of(opts.right_on or opts.on)
  if lk == nil then
    lk = {}
    for _, c in ipairs(l.names) do if r.colset[c] then lk[#lk + 1] = c end end
    if #lk == 0 then error("merge: no common columns; pass on = ... or left_on/right_on", 2) end
    rk = lk
  end
  local how = opts.how or "inner"
  local suf = opts.suffixes or {"_x", "_y"}
  local ok, meta = pcall(F.merge, l.meta, r.meta, lk, rk, how, suf[1], suf[2])
  if not ok then error(tostring(meta):gsub("^[^:]*:%d+: ", ""), 2) end
  local lneed, rneed = set_of(lk), set_of(rk)
  local function needs(_, need)
    if need == ALL then return {ALL, ALL} end
    local a, b = {}, {}
    for k in pairs(lneed) do a[k] = true end
    for k in pairs(rneed) do b[k] = true end
    for c in pairs(need) do
      -- a wanted column may come from either side (possibly suffixed)
      for _, name in ipairs(l.names) do if c == name or c == name .. suf[1] then a[name] = true end end
      for _, name in ipairs(r.names) do if c == name or c == name .. suf[2] then b[name] = true end end
    end
    return {a, b}
  end
  local broadcast_right = r.nparts == 1 and (how == "inner" or how == "left")
  local broadcast_left = l.nparts == 1 and (how == "inner" or how == "right") and not broadcast_right
  local nout = broadcast_right and l.nparts or broadcast_left and r.nparts or math.max(l.nparts, r.nparts)
  return wrap(new_node {
    meta = meta, parents = {l, r}, nparts = nout, needs = needs,
    divisions = broadcast_right and l.divisions or nil,
    build = function(_, _, pt)
      local out = {}
      if broadcast_right then
        for i, t in ipairs(pt[1]) do out[i] = run_task("merge", "merge", t, pt[2][1], lk, rk, how, suf[1], suf[2]) end
      elseif broadcast_left then
        for i, t in ipairs(pt[2]) do out[i] = run_task("merge", "merge", pt[1][1], t, lk, rk, how, suf[1], suf[2]) end
      else
        local ls, rs = shuffle_tasks(pt[1], lk, nout), shuffle_tasks(pt[2], rk, nout)
        for j = 1, nout do
          local a, b = {}, {}
          for i, s in ipairs(ls) do a[i] = run_task("shuffle-pick", "pick", s, j) end
          for i, s in ipairs(rs) do b[i] = run_task("shuffle-pick", "pick", s, j) end
          local la = run_task("shuffle-gather", "concat", table.unpack(a))
          local rb = run_task("shuffle-gather", "concat", table.unpack(b))
          out[j] = run_task("merge", "merge", la, rb, lk, rk, how, suf[1], suf[2])
        end
      end
      return out
    end,
  })
end

function methods:join(other, opts)
  opts = opts or {}
  local on = opts.on or self._node.index
  local ron = other._node.index or on
  if not on then error("join: pass {on = column} or set_index first", 2) end
  return self:merge(other, {left_on = on, right_on = ron, how = opts.how or "left",
    suffixes = {opts.lsuffix or "", opts.rsuffix or "_right"}})
end

-- ---------------------------------------------------------------- order

-- Boundaries for npartitions ranges of col, from sampled quantiles (computed now).
local function sample_divisions(self, col, nparts, opts)
  local s = mapnode("sample", "call", {self:_select({col}), function(p, c)
    local f = require("lask.core.frame")
    local v = require("lask.dataframe.ops").sample(p, c, 64)
    return f.frame({[c] = v})
  end, col}, {meta = self._node.meta:select({col})}, 3)
  local vals = {}
  for _, f in ipairs(base.run(lower(s._node), scalar_opts(opts and opts.compute))) do
    for _, v in ipairs(f:column(col):values()) do vals[#vals + 1] = v end
  end
  table.sort(vals)
  if #vals == 0 then return {} , {} end
  local bounds, divs = {}, {vals[1]}
  for k = 1, nparts - 1 do
    local v = vals[math.max(1, math.min(#vals, math.floor(k * #vals / nparts) + 1))]
    if v ~= bounds[#bounds] and v ~= vals[1] then bounds[#bounds + 1] = v; divs[#divs + 1] = v end
  end
  divs[#divs + 1] = vals[#vals]
  return bounds, divs
end

local function range_shuffle(self, col, sortby, asc, nparts, opts, index)
  local n = self._node
  local bounds, divs = sample_divisions(self, col, nparts, opts)
  local nout = #bounds + 1
  local meta = n.meta
  local ascending = asc
  if type(asc) == "table" then ascending = asc[1] ~= false end
  local res = wrap(new_node {
    meta = meta, parents = {n}, nparts = nout, divisions = ascending ~= false and divs or nil,
    index = index,
    needs = function(_, need)
      if need == ALL then return {ALL} end
      return {union(need, set_of(sortby))}
    end,
    build = function(_, _, pt)
      local splits = {}
      for i, t in ipairs(pt[1]) do splits[i] = run_task("range-split", "range_split", t, col, bounds) end
      local out = {}
      for j = 1, nout do
        local pieces = {}
        for i, s in ipairs(splits) do pieces[i] = s end
        local jj = ascending == false and nout - j + 1 or j
        out[j] = run_task("range-gather", "gather", jj, sortby, asc, table.unpack(pieces))
      end
      return out
    end,
  })
  return res
end

function methods:set_index(col, opts)
  opts = opts or {}
  if not self._node.colset[col] then
    error(("set_index: no column '%s' (columns: %s)"):format(tostring(col), table.concat(self._node.names, ", ")), 2)
  end
  return range_shuffle(self, col, {col}, true, opts.npartitions or self._node.nparts, opts, col)
end

function methods:sort_values(by, opts)
  opts = opts or {}
  by = keys_of(by)
  for _, c in ipairs(by) do
    if not self._node.colset[c] then
      error(("sort_values: no column '%s' (columns: %s)"):format(tostring(c), table.concat(self._node.names, ", ")), 2)
    end
  end
  local asc = opts.ascending
  if asc == nil then asc = true end
  return range_shuffle(self, by[1], by, asc, opts.npartitions or self._node.nparts, opts, nil)
end

function methods:shuffle(on, opts)
  opts = opts or {}
  local keys = keys_of(on)
  local n = self._node
  local nout = opts.npartitions or n.nparts
  return wrap(new_node {
    meta = n.meta, parents = {n}, nparts = nout,
    build = function(_, _, pt)
      local splits = shuffle_tasks(pt[1], keys, nout)
      local out = {}
      for j = 1, nout do
        out[j] = run_task("shuffle-gather", "gather", j, false, true, table.unpack(splits))
      end
      return out
    end,
  })
end

function methods:repartition(opts)
  opts = opts or {}
  local n = self._node
  local target = opts.npartitions
  if opts.partition_size then
    local size = M.parse_bytes(opts.partition_size)
    local c = mapnode("nbytes", "call", {self, function(p)
      return require("lask.core.frame").frame({n = {p:nbytes()}})
    end}, {meta = F.empty({"n"}, {"int64"})}, 2)
    local total = 0
    for _, f in ipairs(base.run(lower(c._node), scalar_opts(nil))) do total = total + f.n[1] end
    target = math.max(1, math.ceil(total / size))
  end
  if math.type(target) ~= "integer" or target < 1 then
    error("repartition: pass {npartitions = n} or {partition_size = \"100MB\"}", 2)
  end
  local cur = n.nparts
  return wrap(new_node {
    meta = n.meta, parents = {n}, nparts = target,
    build = function(_, _, pt)
      local pieces = {}
      if target <= cur then
        pieces = pt[1]
      else
        local k = math.ceil(target / cur)
        for _, t in ipairs(pt[1]) do
          local s = run_task("repartition-split", "rows_split", t, k)
          for j = 1, k do pieces[#pieces + 1] = run_task("repartition-pick", "pick", s, j) end
        end
      end
      local out, m = {}, #pieces
      for j = 1, target do
        local a, b = (j - 1) * m // target + 1, j * m // target
        if b < a then b = a end
        out[j] = run_task("repartition", "concat", table.unpack(pieces, a, math.min(b, m)))
      end
      return out
    end,
  })
end

-- loc(label) or loc(lo, hi): rows by index label (inclusive), using the
-- divisions to skip partitions when they are known.
function methods:loc(lo, hi)
  local n = self._node
  local col = n.index
  if not col then error("loc: the frame has no index; call set_index(column) first", 2) end
  if hi == nil then hi = lo end
  local keep = {}
  local d = n.divisions
  for p = 1, n.nparts do
    if d[1] == nil then keep[#keep + 1] = p
    else
      local a, b = d[p], d[p + 1]
      if not ((hi ~= nil and a ~= nil and a > hi) or (lo ~= nil and b ~= nil and b < lo)) then keep[#keep + 1] = p end
    end
  end
  local sub = wrap(new_node {
    meta = n.meta, parents = {n}, nparts = #keep, index = col,
    build = function(_, _, pt)
      local out = {}
      for i, p in ipairs(keep) do out[i] = pt[1][p] end
      return out
    end,
  })
  local c = sub:_select({col})
  local mask
  if lo ~= nil and hi ~= nil then mask = c:between(lo, hi)
  elseif lo ~= nil then mask = c:ge(lo) else mask = c:le(hi) end
  return sub:_filter(mask)
end

-- ---------------------------------------------------------------- custom

-- map_partitions(fn, ..., {meta = ...}): fn(part, ...) on each partition.
-- fn is a Lua function or the name of a native kernel; DataFrame
-- arguments line up partition by partition.
function methods:map_partitions(fn, ...)
  local args = table.pack(...)
  local o = {}
  local last = args[args.n]
  if args.n > 0 and type(last) == "table" and not is_df(last) and (last.meta or last.name or last.keep_divisions ~= nil) then
    o = last
    args.n = args.n - 1
  end
  local meta = o.meta and meta_of(o.meta, 2)
  if type(fn) == "string" then
    if not meta then error("map_partitions: a native kernel needs {meta = ...}", 2) end
    local n = self._node
    return wrap(new_node {
      meta = meta, parents = {n}, nparts = n.nparts, divisions = n.divisions,
      build = function(_, _, pt)
        local out = {}
        for i, t in ipairs(pt[1]) do
          local a = {}
          for k = 1, args.n do a[k] = args[k] end
          out[i] = core.task(fn .. "-" .. core.tokenize(fn, t, table.unpack(a, 1, args.n)), fn, t, table.unpack(a, 1, args.n))
        end
        return out
      end,
    })
  end
  if type(fn) ~= "function" then error("map_partitions: expected a function or a kernel name", 2) end
  local full = {self, fn}
  for k = 1, args.n do full[k + 2] = args[k] end
  if not meta then
    local margs = {}
    for k = 1, args.n do margs[k] = is_df(args[k]) and args[k]._node.meta or args[k] end
    local ok, r = pcall(fn, self._node.meta, table.unpack(margs, 1, args.n))
    if not ok or type(r) ~= "userdata" then
      error(("map_partitions: could not work out the result columns by running the function on an "
        .. "empty frame (%s); pass {meta = ...}"):format(ok and ("it gave a " .. type(r)) or tostring(r)), 2)
    end
    meta = r:head(0)
  end
  return mapnode("map_partitions", "call", full, {meta = meta, keep_divisions = o.keep_divisions}, 2)
end

-- apply(fn, {axis = "rows"}): fn(row) per row, a column of results (slow).
function methods:apply(fn, opts)
  opts = opts or {}
  local axis = opts.axis or "rows"
  if axis ~= "rows" and axis ~= 1 then error("apply: only axis = \"rows\" is supported", 2) end
  local name = opts.name or "value"
  local meta = F.empty({name}, {opts.dtype or (opts.meta and opts.meta) or "float64"})
  return mapnode("apply", "apply_rows", {self, fn, name}, {meta = meta}, 2)
end

function methods:to_delayed()
  local delayed = require "lask.delayed"
  local out = {}
  for i, t in ipairs(lower(self._node)) do out[i] = delayed.new(t) end
  return out
end

-- to_csv("out/part-*.csv" | "out/"): one file per partition (* becomes the
-- 1-based partition number); computes now and returns the paths.
function methods:to_csv(target, opts)
  opts = opts or {}
  if type(target) ~= "string" then error("to_csv: expected a path pattern like \"out/part-*.csv\"", 2) end
  local n = self._node
  local paths = {}
  local width = #tostring(n.nparts)
  for i = 1, n.nparts do
    local num = ("%0" .. width .. "d"):format(i)
    if target:find("*", 1, true) then paths[i] = target:gsub("%*", num)
    else paths[i] = target:gsub("/$", "") .. "/part-" .. num .. ".csv" end
  end
  for _, p in ipairs(paths) do
    local dir = p:match("^(.*)/[^/]*$")
    if dir and dir ~= "" then F.mkdirs(dir) end
  end
  local wopts = {sep = opts.sep, header = opts.header}
  local tasks = lower(n)
  local ts = {}
  for i, t in ipairs(tasks) do ts[i] = run_task("to_csv", "to_csv", t, paths[i], wopts) end
  base.run(ts, scalar_opts(opts.compute))
  return paths
end

-- ---------------------------------------------------------------- protocol

function methods:__lask_tasks() return lower(self._node) end
function methods:__lask_finalize(values)
  if #values == 0 then return self._node.meta end
  if #values == 1 then return values[1] end
  return F.concat(values)
end
function methods:__lask_rebuild(tasks)
  local n = self._node
  return wrap(new_node {meta = n.meta, nparts = #tasks, divisions = n.divisions, index = n.index,
    build = function() return tasks end})
end
collection.mixin(methods)

function DataFrame.__tostring(self)
  local n = self._node
  local lines = {("lask.DataFrame<npartitions=%d%s>"):format(n.nparts,
    n.index and (", index=" .. n.index) or "")}
  for _, c in ipairs(n.names) do lines[#lines + 1] = ("  %-20s %s"):format(c, n.dtypes[c]) end
  return table.concat(lines, "\n")
end

M.DataFrame = DataFrame
M.GroupBy = GroupBy
M.methods = methods
return M
