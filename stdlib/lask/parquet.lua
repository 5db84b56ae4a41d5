-- lask.parquet: read_parquet and to_parquet on lask's own Parquet codec.
--
--   local pq = require "lask.parquet"
--   local df = pq.read_parquet("data/trips/", {columns = {"key", "x"},
--                                              filters = {{"x", ">", 0.5}}})
--   pq.to_parquet(df, "out/", {compression = "zstd", partition_on = {"cat"}})
--
-- Planning happens here, in the caller, from footers only (the last bytes of
-- each file): the schema, and the row-group statistics that prune row groups
-- a filter cannot match. Hive directories (key=value/) become typed columns
-- and are pruned by filters before any file is opened. Each surviving row
-- group (or file) is one task of the native kernel parquet.read_rowgroup,
-- which decodes only the asked columns and filters rows exactly.
local core = require "lask.core"
local pqc = require "lask.core.parquet"

local M = {}

local unpack = table.unpack

local function fail(level, fmt, ...)
  error(("read_parquet: " .. fmt):format(...), level + 1)
end

-- ------------------------------------------------------------ file listing

local function is_glob(s) return s:find("[%*%?%[]") ~= nil end

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function data_file(name)
  return not name:match("^[_.]") and not name:match("%.crc$")
end

-- Walk dir collecting {path, parts = {{key, raw}, ...}}.
local function walk(dir, parts, out)
  local entries, err = pqc.listdir(dir)
  if not entries then error("read_parquet: " .. err, 0) end
  for _, e in ipairs(entries) do
    local p = dir .. "/" .. e.name
    if e.dir then
      local k, v = e.name:match("^([^=]+)=(.*)$")
      if k then
        local sub = {unpack(parts)}
        sub[#sub + 1] = {unescape(k), unescape(v)}
        walk(p, sub, out)
      elseif data_file(e.name) then
        walk(p, parts, out)
      end
    elseif data_file(e.name) then
      out[#out + 1] = {path = p, parts = parts}
    end
  end
end

local function collect(spec, out, level)
  if type(spec) == "table" then
    for _, s in ipairs(spec) do collect(s, out, level + 1) end
    return
  end
  if type(spec) ~= "string" then
    fail(level, "expected a path, glob, directory or list of them, got %s", type(spec))
  end
  if is_glob(spec) then
    local hits = pqc.glob(spec)
    if #hits == 0 then fail(level, "no file matches %s", spec) end
    for _, h in ipairs(hits) do collect(h, out, level + 1) end
    return
  end
  local kind = pqc.stat(spec)
  if kind == "dir" then
    local before = #out
    walk((spec:gsub("/+$", "")), {}, out)
    if #out == before then fail(level, "no Parquet file under %s", spec) end
  elseif kind == "file" then
    out[#out + 1] = {path = spec, parts = {}}
  else
    fail(level, "no such file or directory: %s", spec)
  end
end

-- ------------------------------------------------------------ hive values

-- Type the values of one partition key like the CSV inference: integers,
-- then numbers, then booleans, else strings. __HIVE_DEFAULT_PARTITION__ is
-- missing.
local NULLPART = "__HIVE_DEFAULT_PARTITION__"

local function infer(raws)
  local kinds = {int = true, float = true, bool = true}
  for _, r in ipairs(raws) do
    if r ~= NULLPART then
      if not r:match("^[+-]?%d+$") or math.tointeger(tonumber(r)) == nil then kinds.int = false end
      if tonumber(r) == nil then kinds.float = false end
      if r ~= "true" and r ~= "false" then kinds.bool = false end
    end
  end
  if kinds.int then return "int64", function(r) return math.tointeger(tonumber(r)) end end
  if kinds.float then return "float64", function(r) return tonumber(r) + 0.0 end end
  if kinds.bool then return "bool", function(r) return r == "true" end end
  return "string", function(r) return r end
end

-- ------------------------------------------------------------ filters

local OPS = {["="] = true, ["=="] = "=", ["~="] = true, ["!="] = "~=", ["<"] = true,
  ["<="] = true, [">"] = true, [">="] = true, ["in"] = true}

-- {{col, op, v}, ...} (AND) or {{{...}, ...}, {{...}}} (OR of ANDs) -> OR of ANDs
local function normalize_filters(filters, level)
  if filters == nil then return nil end
  if type(filters) ~= "table" then fail(level, "filters must be a table") end
  if #filters == 0 then return nil end
  local groups = type(filters[1]) == "table" and type(filters[1][1]) == "table" and filters or {filters}
  local out = {}
  for gi, g in ipairs(groups) do
    if type(g) ~= "table" then fail(level, "filter group %d is not a list", gi) end
    local ng = {}
    for pi, p in ipairs(g) do
      if type(p) ~= "table" or type(p[1]) ~= "string" or type(p[2]) ~= "string" then
        fail(level, "filter %d must be {column, op, value}", pi)
      end
      local op = OPS[p[2]]
      if not op then fail(level, "unknown filter operator '%s' (use = ~= < <= > >= in)", p[2]) end
      op = op == true and p[2] or op
      local v = p[3]
      if op == "in" then
        if type(v) ~= "table" then fail(level, "filter 'in' on '%s' needs a list of values", p[1]) end
      elseif v == nil or type(v) == "table" then
        fail(level, "filter on '%s' needs a number, string or boolean value", p[1])
      end
      ng[#ng + 1] = {col = p[1], op = op, value = v}
    end
    out[#out + 1] = ng
  end
  return out
end

local function value_kind(v)
  local t = type(v)
  if t == "number" then return "number" end
  if t == "string" then return "string" end
  if t == "boolean" then return "bool" end
  return t
end

local COMPAT = {int64 = "number", float64 = "number", timestamp = "number", string = "string", bool = "bool"}

local function check_pred_type(p, ctype, level)
  local want = COMPAT[ctype]
  local vals = p.op == "in" and p.value or {p.value}
  for _, v in ipairs(vals) do
    if value_kind(v) ~= want then
      fail(level, "filter compares column '%s' (%s) with a %s", p.col, ctype, value_kind(v))
    end
  end
end

local function cmp(a, b)
  if type(a) == "boolean" then a, b = a and 1 or 0, b and 1 or 0 end
  if a < b then return -1 elseif a > b then return 1 else return 0 end
end

-- Can a value v (known exactly) pass p?
local function value_passes(p, v)
  if v == nil then return false end
  if p.op == "in" then
    for _, w in ipairs(p.value) do if cmp(v, w) == 0 then return true end end
    return false
  end
  local k = cmp(v, p.value)
  if p.op == "=" then return k == 0 elseif p.op == "~=" then return k ~= 0
  elseif p.op == "<" then return k < 0 elseif p.op == "<=" then return k <= 0
  elseif p.op == ">" then return k > 0 else return k >= 0 end
end

-- Might some row with values in [lo, hi] pass p? (nil bounds: unknown)
local function range_may_pass(p, s, nrows)
  if s == nil then return true end
  if s.null_count and nrows and s.null_count >= nrows and nrows > 0 then return false end
  local lo, hi = s.min, s.max
  if lo == nil or hi == nil then return true end
  if p.op == "in" then
    for _, w in ipairs(p.value) do
      if cmp(w, lo) >= 0 and cmp(w, hi) <= 0 then return true end
    end
    return false
  end
  local v = p.value
  if p.op == "=" then return cmp(v, lo) >= 0 and cmp(v, hi) <= 0
  elseif p.op == "~=" then return not (cmp(lo, v) == 0 and cmp(hi, v) == 0)
  elseif p.op == "<" then return cmp(lo, v) < 0
  elseif p.op == "<=" then return cmp(lo, v) <= 0
  elseif p.op == ">" then return cmp(hi, v) > 0
  else return cmp(hi, v) >= 0 end
end

-- OR of ANDs: may anything pass? test(p) answers per predicate.
local function may_pass(groups, test)
  for _, g in ipairs(groups) do
    local ok = true
    for _, p in ipairs(g) do
      if not test(p) then ok = false; break end
    end
    if ok then return true end
  end
  return false
end

local function flat_filters(groups)
  if not groups then return nil end
  local flat = {}
  for gi, g in ipairs(groups) do
    for _, p in ipairs(g) do
      local vals = p.op == "in" and p.value or {p.value}
      flat[#flat + 1] = gi
      flat[#flat + 1] = p.col
      flat[#flat + 1] = p.op
      flat[#flat + 1] = #vals
      for _, v in ipairs(vals) do flat[#flat + 1] = v end
    end
  end
  return core.list(flat)
end

-- ------------------------------------------------------------ the frame

-- Build the lazy data frame from tasks + meta with the dataframe module's
-- constructor when it has one; otherwise a small collection of our own.
local Frame = {}
Frame.__index = Frame

local function new_frame(tasks, meta)
  local ok, dd = pcall(require, "lask.dataframe")
  if ok and type(dd) == "table" and dd.from_tasks then
    return dd.from_tasks(tasks, {names = meta.columns, types = meta.types}, meta.divisions, meta.index, 3)
  end
  return setmetatable({_tasks = tasks, _meta = meta, columns = meta.columns, dtypes = meta.dtypes,
    divisions = meta.divisions, npartitions = #tasks, index = meta.index}, Frame)
end
M._new_frame = new_frame

function Frame:__lask_tasks() return self._tasks end
function Frame:__lask_finalize(values)
  if #values == 0 then return pqc.empty_frame(self._meta.columns, self._meta.types) end
  return pqc.concat(values)
end
function Frame:__lask_rebuild(tasks) return new_frame(tasks, self._meta) end
function Frame:to_parquet(path, opts) return M.to_parquet(self, path, opts) end
function Frame:partitions(i) return new_frame({self._tasks[i]}, self._meta) end
require("lask.collection").mixin(Frame)

-- ------------------------------------------------------------ read_parquet

local KNOWN_READ = {columns = true, filters = true, split_row_groups = true, index = true}

function M.read_parquet(spec, opts, level)
  level = (level or 1) + 1
  opts = opts or {}
  if type(opts) ~= "table" then fail(level, "options must be a table") end
  for k in pairs(opts) do
    if not KNOWN_READ[k] then fail(level, "unknown option '%s'", tostring(k)) end
  end
  local files = {}
  collect(spec, files, level)
  table.sort(files, function(a, b) return a.path < b.path end)

  -- hive keys: same keys in every file, typed across all values
  local keys = {}
  for i, k in ipairs(files[1].parts) do keys[i] = k[1] end
  local raws = {}
  for _, f in ipairs(files) do
    if #f.parts ~= #keys then fail(level, "%s: hive directories differ in depth from %s", f.path, files[1].path) end
    for i, kv in ipairs(f.parts) do
      if kv[1] ~= keys[i] then
        fail(level, "%s: hive key '%s' where %s has '%s'", f.path, kv[1], files[1].path, keys[i])
      end
      raws[i] = raws[i] or {}
      raws[i][#raws[i] + 1] = kv[2]
    end
  end
  local ptypes, pconv = {}, {}
  for i, k in ipairs(keys) do ptypes[k], pconv[i] = infer(raws[i]) end
  for _, f in ipairs(files) do
    f.pvalues = {}
    for i, kv in ipairs(f.parts) do
      if kv[2] ~= NULLPART then f.pvalues[keys[i]] = pconv[i](kv[2]) end
    end
  end

  local groups = normalize_filters(opts.filters, level)
  local is_part = {}
  for _, k in ipairs(keys) do is_part[k] = true end

  -- prune files by partition values before opening any
  if groups then
    local kept = {}
    for _, f in ipairs(files) do
      local keep = may_pass(groups, function(p)
        if is_part[p.col] then return value_passes(p, f.pvalues[p.col]) end
        return true
      end)
      if keep then kept[#kept + 1] = f end
    end
    files = kept
  end

  -- footers: schema (checked equal across files) and statistics
  local schema, names, types
  for _, f in ipairs(files) do
    local ok, footer = pcall(pqc.read_footer, f.path)
    if not ok then error("read_parquet: " .. tostring(footer), level) end
    f.footer = footer
    if not schema then
      schema = f
      names, types = {}, {}
      for _, c in ipairs(footer.columns) do
        names[#names + 1] = c.name
        types[c.name] = c.type or ("nested " .. c.nested)
      end
    else
      local cols = footer.columns
      for i, c in ipairs(cols) do
        local want = types[c.name]
        local got = c.type or ("nested " .. c.nested)
        if want == nil then
          fail(level, "schemas differ: %s has column '%s' that %s lacks", f.path, c.name, schema.path)
        elseif want ~= got then
          fail(level, "schemas differ: column '%s' is %s in %s but %s in %s", c.name, got, f.path, want, schema.path)
        end
        if names[i] ~= c.name then
          fail(level, "schemas differ: column %d is '%s' in %s but '%s' in %s", i, c.name, f.path, names[i], schema.path)
        end
      end
      if #cols ~= #names then
        fail(level, "schemas differ: %s has %d columns, %s has %d", f.path, #cols, schema.path, #names)
      end
    end
  end
  if not schema and #files == 0 then
    -- everything pruned by partition filters: read one footer for the schema
    local all = {}
    collect(spec, all, level)
    local footer = pqc.read_footer(all[1].path)
    names, types = {}, {}
    for _, c in ipairs(footer.columns) do
      names[#names + 1] = c.name
      types[c.name] = c.type or ("nested " .. c.nested)
    end
  end
  for _, k in ipairs(keys) do
    if types[k] then fail(level, "hive key '%s' is also a column in the files", k) end
    names[#names + 1] = k
    types[k] = ptypes[k]
  end

  -- output columns
  local columns = opts.columns
  if columns ~= nil then
    if type(columns) == "string" then columns = {columns} end
    if type(columns) ~= "table" then fail(level, "columns must be a list of names") end
    for _, c in ipairs(columns) do
      if types[c] == nil then fail(level, "no column '%s' (columns: %s)", tostring(c), table.concat(names, ", ")) end
      if types[c]:match("^nested") then
        fail(level, "column '%s' is a %s column, which lask cannot read", c, types[c])
      end
    end
  else
    columns = {}
    for _, c in ipairs(names) do
      if types[c]:match("^nested") then
        fail(level, "column '%s' is a %s column, which lask cannot read (leave it out with the columns option)",
          c, types[c])
      end
      columns[#columns + 1] = c
    end
  end
  if groups then
    for _, g in ipairs(groups) do
      for _, p in ipairs(g) do
        if types[p.col] == nil then fail(level, "filter on a missing column '%s'", p.col) end
        check_pred_type(p, types[p.col], level)
      end
    end
  end
  local index = opts.index
  if index == nil and schema and schema.footer.index and types[schema.footer.index] then
    -- files lask wrote from an indexed frame name their index column
    for _, c in ipairs(columns) do
      if c == schema.footer.index then index = c end
    end
  end
  if index == false then index = nil end
  if index ~= nil and (type(index) ~= "string" or types[index] == nil) then
    fail(level, "index names a missing column '%s'", tostring(index))
  end
  if index ~= nil then
    local found = false
    for _, c in ipairs(columns) do found = found or c == index end
    if not found then columns[#columns + 1] = index end
  end

  -- tasks: one per row group (or file), after pruning by statistics
  local colist = core.list(columns)
  local flat = flat_filters(groups)
  local tasks, bounds, reads = {}, {}, {}
  local split = opts.split_row_groups
  if split == nil then split = true end
  for _, f in ipairs(files) do
    local rgs = {}
    for gi, rg in ipairs(f.footer.row_groups) do
      local keep = rg.num_rows > 0 or #f.footer.row_groups == 1
      if keep and groups then
        keep = may_pass(groups, function(p)
          if is_part[p.col] then return value_passes(p, f.pvalues[p.col]) end
          return range_may_pass(p, rg.stats[p.col], rg.num_rows)
        end)
      end
      if keep then rgs[#rgs + 1] = gi end
    end
    local plist = nil
    if #keys > 0 then
      local pl = {}
      for _, k in ipairs(keys) do
        local v = f.pvalues[k]
        pl[#pl + 1] = k
        pl[#pl + 1] = v ~= nil
        if v == nil then   -- a placeholder of the key's type
          local t = ptypes[k]
          v = t == "int64" and 0 or t == "float64" and 0.0 or t == "bool" and false or ""
        end
        pl[#pl + 1] = v
      end
      plist = core.list(pl)
    end
    local function add(rgsel, stats_of)
      local arg = type(rgsel) == "table" and core.list(rgsel) or rgsel
      local key = "read-parquet-" .. core.tokenize(f.path, rgsel, columns, groups, f.parts, index)
      tasks[#tasks + 1] = core.task(key, "parquet.read_rowgroup", f.path, arg, colist, flat, plist, index)
      reads[#tasks] = {key, f.path, arg, plist}
      if index then
        local lo, hi
        for _, gi in ipairs(type(rgsel) == "table" and rgsel or {rgsel}) do
          local s = f.footer.row_groups[gi].stats[index]
          if not s or s.min == nil or s.max == nil then lo = nil; hi = nil; break end
          if lo == nil or s.min < lo then lo = s.min end
          if hi == nil or s.max > hi then hi = s.max end
        end
        if is_part[index] then lo = f.pvalues[index]; hi = lo end
        bounds[#bounds + 1] = lo ~= nil and {lo, hi} or false
      end
      return stats_of
    end
    if #rgs > 0 then
      if split then
        for _, gi in ipairs(rgs) do add(gi) end
      else
        add(rgs)
      end
    end
  end

  -- divisions from statistics when partitions are sorted by the index
  local divisions
  if index and #bounds > 0 then
    local ok = true
    for i, b in ipairs(bounds) do
      if not b then ok = false; break end
      if i > 1 and not (bounds[i - 1][2] <= b[1]) then ok = false; break end
    end
    if ok then
      divisions = {}
      for i, b in ipairs(bounds) do divisions[i] = b[1] end
      divisions[#bounds + 1] = bounds[#bounds][2]
    end
  end

  local out_types = {}
  for i, c in ipairs(columns) do out_types[i] = types[c] end
  local dtypes = {}
  for _, c in ipairs(columns) do dtypes[c] = types[c] end
  if #tasks == 0 then
    -- nothing survives the filters: one empty partition keeps the schema
    local empty = pqc.empty_frame(columns, out_types)
    tasks[1] = core.value("read-parquet-empty-" .. core.tokenize(spec, columns, groups), empty)
  end
  local meta = {columns = columns, dtypes = dtypes, types = out_types, index = index,
    divisions = divisions, npartitions = #tasks, source = "parquet"}
  local df = new_frame(tasks, meta)
  if #reads == #tasks and type(df) == "table" and type(df._node) == "table" then
    -- a groupby straight on this frame reads and aggregates each row group
    -- in one native task (parquet.read_groupby): the row group's columns
    -- never leave the kernel
    df._node.groupby_partials = function(keys, aggs)
      local klist, alist = core.list(keys), {}
      for _, a in ipairs(aggs) do
        alist[#alist + 1] = a[1] or false
        alist[#alist + 1] = a[2]
        alist[#alist + 1] = a[3]
      end
      alist = core.list(alist)
      local out, gtok = {}, core.tokenize(keys, aggs)
      for i, r in ipairs(reads) do
        local key = "read-parquet-groupby-" .. core.tokenize(r[1], gtok)
        out[i] = core.task(key, "parquet.read_groupby", r[2], r[3], colist, flat, r[4], index, klist, alist)
      end
      return out
    end
  end
  return df
end

-- ------------------------------------------------------------ to_parquet

local KNOWN_WRITE = {compression = true, row_group_size = true, partition_on = true,
  overwrite = true, append = true, scheduler = true, num_workers = true}

-- Existing part.N.parquet files under dir (recursively): count and next N.
local function existing(dir)
  local n, nextn, files = 0, 0, {}
  local function scan(d)
    local entries = pqc.listdir(d)
    if not entries then return end
    for _, e in ipairs(entries) do
      local p = d .. "/" .. e.name
      if e.dir then scan(p)
      elseif e.name:match("%.parquet$") then
        n = n + 1
        files[#files + 1] = p
        local k = tonumber(e.name:match("^part%.(%d+)%.parquet$"))
        if k and k + 1 > nextn then nextn = k + 1 end
      end
    end
  end
  scan(dir)
  return n, nextn, files
end

function M.to_parquet(df, dir, opts)
  opts = opts or {}
  local function werr(fmt, ...) error(("to_parquet: " .. fmt):format(...), 3) end
  if type(dir) ~= "string" or dir == "" then werr("expected a directory path") end
  if type(opts) ~= "table" then werr("options must be a table") end
  for k in pairs(opts) do
    if not KNOWN_WRITE[k] then werr("unknown option '%s'", tostring(k)) end
  end
  if type(df) ~= "table" and type(df) ~= "userdata" or not df.__lask_tasks then
    werr("expected a lask data frame")
  end
  local comp = opts.compression or "snappy"
  local codecs = {snappy = true, zstd = true, gzip = true, none = true, lz4 = true, uncompressed = true}
  if not codecs[comp] then werr("unknown compression '%s' (snappy, zstd, gzip, lz4, none)", tostring(comp)) end
  local rgsize = opts.row_group_size
  if rgsize ~= nil and (math.type(rgsize) ~= "integer" or rgsize < 1) then
    werr("row_group_size must be a positive integer")
  end
  local part_on = opts.partition_on
  if type(part_on) == "string" then part_on = {part_on} end
  if part_on ~= nil and (type(part_on) ~= "table" or #part_on == 0) then
    werr("partition_on must be a list of column names")
  end
  if opts.overwrite and opts.append then werr("overwrite and append cannot both be set") end
  dir = dir:gsub("/+$", "")
  local first = 0
  local kind = pqc.stat(dir)
  if kind == "file" then werr("%s is a file, not a directory", dir) end
  if kind == "dir" then
    local n, nextn, files = existing(dir)
    if n > 0 then
      if opts.overwrite then
        for _, p in ipairs(files) do pqc.remove(p) end
      elseif opts.append then
        first = nextn
      else
        werr("%s already holds a Parquet dataset (%d files): pass overwrite = true or append = true", dir, n)
      end
    end
  end
  pqc.mkdirs(dir)
  local parts = df:__lask_tasks()
  local writes = {}
  local plist = part_on and core.list(part_on) or nil
  for i, t in ipairs(parts) do
    local name = ("part.%d.parquet"):format(first + i - 1)
    local key = "to-parquet-" .. core.tokenize(core.key(t), dir, name, comp, rgsize, part_on)
    if part_on then
      writes[i] = core.task(key, "parquet.write", t, dir, comp, rgsize, plist, name)
    else
      writes[i] = core.task(key, "parquet.write", t, dir .. "/" .. name, comp, rgsize)
    end
  end
  local base = require "lask.base"
  base.run(writes, base.options({scheduler = opts.scheduler, num_workers = opts.num_workers}, 2, "to_parquet"))
  return nil
end

-- read the footer of one file (schema, row groups, statistics) as a table
M.read_footer = pqc.read_footer

return M
