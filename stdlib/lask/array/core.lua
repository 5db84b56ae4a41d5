-- lask.array.core: the lazy Array object, chunk bookkeeping, creation of
-- arrays from tasks, elementwise operations and the collection protocol.
-- lask.array (array.lua) gathers this and the other array modules.
--
-- An Array is a grid of blocks: x.chunks[d] lists the block lengths along
-- axis d (NaN where unknown, after a boolean mask), x.blocks holds one task
-- per block in row-major order of the grid. Every operation builds new tasks
-- and returns a new Array; nothing runs before compute().
local core = require "lask.core"
local nd = require "lask.core.ndarray"
local config = require "lask.config"
local collection = require "lask.collection"

nd.register_kernels()

local M = {}
local methods = {}
local Array = {__name = "lask.Array"}
M.methods, M.Array, M.nd = methods, Array, nd

local list = core.list
local NaN = 0 / 0
local function isnan(v) return v ~= v end
M.isnan = isnan

-- ------------------------------------------------------------ chunk sizes

local units = {b = 1, kb = 1e3, mb = 1e6, gb = 1e9, tb = 1e12, kib = 1024, mib = 1024 ^ 2,
  gib = 1024 ^ 3, tib = 1024 ^ 4, k = 1e3, m = 1e6, g = 1e9}

-- "64MiB" / 1e6 -> bytes
function M.parse_bytes(v)
  if type(v) == "number" then return v end
  if type(v) ~= "string" then return nil end
  local num, unit = v:lower():gsub("%s", ""):match("^([%d%.e%+]+)(%a*)$")
  num = tonumber(num)
  if not num then return nil end
  local f = units[unit == "" and "b" or unit]
  return f and math.floor(num * f) or nil
end

config.register("array.chunk_size", 128 * 1024 * 1024, function(v)
  local b = M.parse_bytes(v)
  if not b or b <= 0 then return "expected a positive size (bytes or a string like \"64MiB\"), got " .. tostring(v) end
end)

local itemsizes = {float64 = 8, float32 = 4, int64 = 8, int32 = 4, uint8 = 1, bool = 1}
M.itemsizes = itemsizes

function M.check_dtype(dt, level)
  if dt == nil then return nil end
  if not itemsizes[dt] then
    error(("unknown dtype '%s' (float64, float32, int64, int32, uint8, bool)"):format(tostring(dt)), (level or 1) + 1)
  end
  return dt
end

function M.shape_str(shape)
  local t = {}
  for i, v in ipairs(shape) do t[i] = isnan(v) and "nan" or tostring(math.tointeger(v) or v) end
  return "(" .. table.concat(t, ", ") .. (#shape == 1 and ",)" or ")")
end
local shape_str = M.shape_str

local function split(n, c)
  local out = {}
  if n == 0 then return {0} end
  local k = 0
  while k < n do
    local s = math.min(c, n - k)
    out[#out + 1] = s
    k = k + s
  end
  return out
end

-- Normalise chunks against shape: a number (every axis), a table with one
-- entry per axis (a number, -1/nil for the whole axis, or a list of
-- explicit sizes), or "auto" (blocks of about array.chunk_size bytes).
function M.normalize_chunks(chunks, shape, dtype, level)
  level = (level or 1) + 1
  local nd_ = #shape
  if chunks == nil or chunks == "auto" then
    local target = M.parse_bytes(config.get("array.chunk_size")) or 128 * 1024 * 1024
    local elems = math.max(1, target // itemsizes[dtype or "float64"])
    local out = {}
    -- equal edges, then give what small axes leave over to the others
    local remaining, free = elems, nd_
    local order = {}
    for d = 1, nd_ do order[d] = d end
    table.sort(order, function(a, b) return shape[a] < shape[b] end)
    for _, d in ipairs(order) do
      local edge = math.max(1, math.floor(remaining ^ (1 / free) + 1e-9))
      local c = math.min(math.max(shape[d], 1), edge)
      out[d] = split(shape[d], c)
      remaining = math.max(1, remaining // c)
      free = free - 1
    end
    return out
  end
  if type(chunks) == "number" then
    local t = {}
    for d = 1, nd_ do t[d] = chunks end
    chunks = t
  end
  if type(chunks) ~= "table" then
    error("chunks must be a number, a table or \"auto\", got " .. type(chunks), level)
  end
  local out = {}
  for d = 1, nd_ do
    local c = chunks[d]
    if c == nil or c == -1 or c == "auto" then
      out[d] = {shape[d]}
      if c == "auto" then out[d] = M.normalize_chunks("auto", {shape[d]}, dtype)[1] end
    elseif type(c) == "number" then
      if c <= 0 or math.type(c) ~= "integer" and c ~= math.floor(c) then
        error(("chunk size %s on axis %d must be a positive integer"):format(tostring(c), d), level)
      end
      out[d] = split(shape[d], math.tointeger(c))
    elseif type(c) == "table" then
      local s, t = 0, {}
      for i, v in ipairs(c) do
        if type(v) ~= "number" or v < 0 then
          error(("explicit chunk %d on axis %d must be a non-negative integer"):format(i, d), level)
        end
        t[i] = math.tointeger(v) or v
        s = s + v
      end
      if s ~= shape[d] then
        error(("chunks on axis %d add up to %d, but the axis has length %d"):format(d, s, shape[d]), level)
      end
      out[d] = t
    else
      error(("chunks entry for axis %d must be a number or a list"):format(d), level)
    end
  end
  if #chunks > nd_ then
    error(("chunks has %d entries for a %d-d shape %s"):format(#chunks, nd_, shape_str(shape)), level)
  end
  return out
end

local function sum(t)
  local s = 0
  for _, v in ipairs(t) do s = s + v end
  return s
end
M.sum = sum

function M.offsets(c)
  local o, s = {}, 0
  for i, v in ipairs(c) do o[i] = s; s = s + v end
  return o
end

-- ---------------------------------------------------------------- grids

function M.numblocks(chunks)
  local nb = {}
  for d, c in ipairs(chunks) do nb[d] = #c end
  return nb
end

-- Call fn(idx, flat) for every block index (1-based) in row-major order.
function M.each_block(nb, fn)
  local n = #nb
  local total = 1
  for d = 1, n do total = total * nb[d] end
  if total == 0 then return end
  local idx = {}
  for d = 1, n do idx[d] = 1 end
  for flat = 1, total do
    fn(idx, flat)
    for d = n, 1, -1 do
      idx[d] = idx[d] + 1
      if idx[d] <= nb[d] then break end
      idx[d] = 1
    end
  end
end

function M.flat(nb, idx)
  local f = 0
  for d = 1, #nb do f = f * nb[d] + (idx[d] - 1) end
  return f + 1
end

function M.block_shape(chunks, idx)
  local s = {}
  for d = 1, #chunks do s[d] = chunks[d][idx[d]] end
  return s
end

function M.bkey(name, idx)
  return name .. "(" .. table.concat(idx, ",") .. ")"
end

-- A name for a new array: prefix-token(parts...)
function M.tokenize_name(prefix, ...)
  return prefix .. "-" .. core.tokenize(...)
end

-- ---------------------------------------------------------------- arrays

function M.new(name, chunks, dtype, blocks)
  local shape, nb = {}, {}
  local size, known = 1, true
  for d, c in ipairs(chunks) do
    shape[d] = sum(c)
    nb[d] = #c
    for _, v in ipairs(c) do if isnan(v) then known = false end end
    if known then shape[d] = math.tointeger(shape[d]) or shape[d] else shape[d] = isnan(shape[d]) and NaN or shape[d] end
    size = size * shape[d]
  end
  return setmetatable({name = name, chunks = chunks, dtype = dtype, shape = shape,
    numblocks = nb, ndim = #chunks, size = size, nbytes = size * itemsizes[dtype],
    blocks = blocks}, Array)
end

-- Build an array from fn(idx, key, block_shape, flat) -> task, per block.
function M.from_blocks(name, chunks, dtype, fn)
  local blocks = {}
  local nb = M.numblocks(chunks)
  M.each_block(nb, function(idx, flat)
    local key = M.bkey(name, idx)
    blocks[flat] = fn(idx, key, M.block_shape(chunks, idx), flat)
  end)
  return M.new(name, chunks, dtype, blocks)
end

function M.is_array(x) return getmetatable(x) == Array end

function M.block(x, idx) return x.blocks[M.flat(x.numblocks, idx)] end

function M.known(x, what, level)
  for d, c in ipairs(x.chunks) do
    for _, v in ipairs(c) do
      if isnan(v) then
        error(("%s needs known chunk sizes, but axis %d of this array has unknown ones (from a "
          .. "boolean mask); call x:compute_chunk_sizes() first"):format(what, d), (level or 1) + 1)
      end
    end
  end
end

-- Axis (1-based, negative from the end) -> 1-based, checked.
function M.axis(ax, ndim, what, level, allow_end)
  local n = ndim + (allow_end and 1 or 0)
  if math.type(ax) ~= "integer" then
    error(("%s: axis must be an integer, got %s"):format(what, tostring(ax)), (level or 1) + 1)
  end
  local a = ax < 0 and ax + n + 1 or ax
  if ax == 0 or a < 1 or a > n then
    error(("%s: axis %d out of range for a %d-d array (axes are 1..%d, or -1 for the last)")
      :format(what, ax, ndim, n), (level or 1) + 1)
  end
  return a
end

function M.intlist(t, minus)
  local o = {}
  for i, v in ipairs(t) do o[i] = v - (minus or 0) end
  return list(o)
end

-- ------------------------------------------------------------ from local data

-- A local array (or anything nd.from_table takes) split into blocks.
function M.from_array(a, opts, level)
  level = (level or 1) + 1
  opts = opts or {}
  if not nd.is(a) then a = nd.from_table(a, opts.dtype) end
  if opts.dtype and a.dtype ~= opts.dtype then a = a:astype(M.check_dtype(opts.dtype, level)) end
  local shape = a.shape
  local chunks = M.normalize_chunks(opts.chunks, shape, a.dtype, level)
  local _, addr = a:data_ptr()
  local name = opts.name or M.tokenize_name("array", addr, shape_str(shape), a.dtype, shape_str(a.strides))
  return M.from_blocks(name, chunks, a.dtype, function(idx, key, bshape)
    if #shape == 0 then return core.value(key, a) end
    local sl = {}
    for d = 1, #shape do
      local off = M.offsets(chunks[d])[idx[d]]
      sl[d] = bshape[d] > 0 and {off + 1, off + bshape[d]} or {1, 0}
    end
    return core.value(key, a:slice(sl))
  end)
end

-- ------------------------------------------------------------ elementwise

-- A tiny local array of dtype dt, for working out result dtypes.
local metas = {}
local function meta(dt)
  if not metas[dt] then metas[dt] = nd.ones({1}, dt) end
  return metas[dt]
end
M.meta = meta

local function as_operand(v, level)
  if M.is_array(v) then return v end
  local t = type(v)
  if t == "number" or t == "boolean" then return v end
  if nd.is(v) then return M.from_array(v, {chunks = -1}, level + 1) end
  error(("expected a lask array, a local array, a number or a boolean, got %s"):format(t), level + 1)
end

-- Common chunks for arrays broadcast together; rechunks inputs to them.
-- Returns output chunks and the aligned inputs.
local function unify(args, what, level)
  local ndim = 0
  for _, a in ipairs(args) do
    if M.is_array(a) and a.ndim > ndim then ndim = a.ndim end
  end
  local out = {}
  for d = 1, ndim do
    for _, a in ipairs(args) do
      if M.is_array(a) then
        local ad = d - (ndim - a.ndim)
        if ad >= 1 and a.shape[ad] ~= 1 then
          if not out[d] then out[d] = a.chunks[ad]
          elseif a.shape[ad] ~= sum(out[d]) and not (isnan(a.shape[ad]) or isnan(sum(out[d]))) then
            local shapes = {}
            for _, b in ipairs(args) do if M.is_array(b) then shapes[#shapes + 1] = shape_str(b.shape) end end
            error(("%s: shapes %s cannot be broadcast together (axis %d: %s vs %s)"):format(
              what, table.concat(shapes, " and "), d, tostring(sum(out[d])), tostring(a.shape[ad])), level + 1)
          end
        end
      end
    end
    out[d] = out[d] or {1}
  end
  local aligned = {}
  for i, a in ipairs(args) do
    if M.is_array(a) then
      local want, need = {}, false
      for ad = 1, a.ndim do
        local d = ad + (ndim - a.ndim)
        if a.shape[ad] == 1 then want[ad] = a.chunks[ad]
        else
          want[ad] = out[d]
          local c = a.chunks[ad]
          if #c ~= #out[d] then need = true
          else for k = 1, #c do if c[k] ~= out[d][k] then need = true end end end
        end
      end
      if need then
        for ad = 1, a.ndim do
          for _, v in ipairs(a.chunks[ad]) do
            if isnan(v) then
              error(("%s: arrays with unknown chunk sizes can only be combined when their chunks match; "
                .. "call compute_chunk_sizes() first"):format(what), level + 1)
            end
          end
        end
        a = a:rechunk(want)
      end
    end
    aligned[i] = a
  end
  return out, aligned, ndim
end
M.unify = unify

-- out = kernel(args...) elementwise; dtype from a meta computation.
function M.elemwise(kernel, metafn, args, level)
  level = (level or 1) + 1
  for i, a in ipairs(args) do args[i] = as_operand(a, level) end
  local chunks, al, ndim = unify(args, kernel, level)
  local margs = {}
  for i, a in ipairs(al) do margs[i] = M.is_array(a) and meta(a.dtype) or a end
  local ok, m = pcall(metafn, table.unpack(margs, 1, #al))
  if not ok then error(("%s: %s"):format(kernel, tostring(m):gsub("^.-:%d+: ", "")), level) end
  local dtype = m.dtype
  local parts = {kernel}
  for i, a in ipairs(al) do parts[i + 1] = M.is_array(a) and a.name or a end
  local name = M.tokenize_name(kernel:gsub("^nd%.", ""), table.unpack(parts, 1, #al + 1))
  local out
  out = M.from_blocks(name, chunks, dtype, function(idx, key)
    local targs = {}
    for i, a in ipairs(al) do
      if M.is_array(a) then
        local bi = {}
        for ad = 1, a.ndim do
          local d = ad + (ndim - a.ndim)
          bi[ad] = a.numblocks[ad] == 1 and 1 or idx[d]
        end
        targs[i] = M.block(a, bi)
      else
        targs[i] = a
      end
    end
    return core.task(key, kernel, table.unpack(targs, 1, #al))
  end)
  -- remember a binary op, so a sum over it can fuse (lask.array.reduce)
  if #al == 2 then out._ew = {op = kernel:gsub("^nd%.", ""), args = al} end
  return out
end

local binops = {add = "__add", sub = "__sub", mul = "__mul", div = "__div", floordiv = "__idiv",
  mod = "__mod", pow = "__pow", ["and"] = "__band", ["or"] = "__bor", xor = "__bxor"}
local cmps = {"eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum", "atan2"}

local opfn = {
  add = function(x, y) return x + y end, sub = function(x, y) return x - y end,
  mul = function(x, y) return x * y end, div = function(x, y) return x / y end,
  floordiv = function(x, y) return x // y end, mod = function(x, y) return x % y end,
  pow = function(x, y) return x ^ y end, ["and"] = function(x, y) return x & y end,
  ["or"] = function(x, y) return x | y end, xor = function(x, y) return x ~ y end}

local function binary(op)
  local f = opfn[op] or function(x, y) return x[op](x, y) end
  return function(a, b)
    return M.elemwise("nd." .. op, f, {a, b}, 2)
  end
end
for op, ev in pairs(binops) do
  local f = binary(op)
  methods[op] = f
  Array[ev] = f
end
for _, op in ipairs(cmps) do methods[op] = binary(op) end
methods.land, methods.lor, methods.multiply = methods["and"], methods["or"], methods.mul

local unops = {"neg", "abs", "sqrt", "exp", "log", "log1p", "sin", "cos", "tan", "tanh", "floor",
  "ceil", "round", "isnan", "isfinite", "not", "sign", "expm1", "log10", "log2", "arcsin",
  "arccos", "arctan", "sinh", "cosh", "square"}
for _, op in ipairs(unops) do
  methods[op] = function(x)
    return M.elemwise("nd." .. op, function(m) return m[op](m) end, {x}, 2)
  end
end
methods.lnot = methods["not"]
Array.__unm = methods.neg
Array.__bnot = methods["not"]

function methods.clip(x, lo, hi)
  if lo ~= nil then x = x:maximum(lo) end
  if hi ~= nil then x = x:minimum(hi) end
  return x
end

function M.where(c, a, b)
  return M.elemwise("nd.where", function(mc, ma, mb)
    return nd.where(nd.is(mc) and mc or nd.full({1}, mc), ma, mb)
  end, {c, a, b}, 2)
end

function methods.astype(x, dtype)
  M.check_dtype(dtype, 2)
  if dtype == x.dtype then return x end
  local name = M.tokenize_name("astype", x.name, dtype)
  return M.from_blocks(name, x.chunks, dtype, function(idx, key)
    return core.task(key, "nd.astype", M.block(x, idx), dtype)
  end)
end

-- ------------------------------------------------------------ protocol

function methods.__lask_tasks(x) return x.blocks end

function methods.__lask_finalize(x, values)
  if x.ndim == 0 then
    local v = values[1]
    if nd.is(v) then return v:item() end
    return v
  end
  if #values == 1 then return values[1] end
  return nd.block(values, x.numblocks)
end

function methods.__lask_rebuild(x, tasks)
  return M.new(x.name, x.chunks, x.dtype, tasks)
end

function methods.to_delayed(x)
  local delayed = require "lask.delayed"
  local grid = {}
  M.each_block(x.numblocks, function(idx, flat)
    local t = grid
    for d = 1, #idx - 1 do
      t[idx[d]] = t[idx[d]] or {}
      t = t[idx[d]]
    end
    t[idx[#idx]] = delayed.new(x.blocks[flat])
  end)
  if x.ndim == 0 then return delayed.new(x.blocks[1]) end
  return grid
end

function methods.compute_chunk_sizes(x)
  local vals = core.compute(x.blocks, require("lask.base").options(nil, 2, "compute_chunk_sizes"))
  local chunks = {}
  for d = 1, x.ndim do chunks[d] = {} end
  M.each_block(x.numblocks, function(idx, flat)
    local s = vals[flat].shape
    for d = 1, x.ndim do chunks[d][idx[d]] = s[d] end
  end)
  local ready = {}
  for i, t in ipairs(x.blocks) do ready[i] = core.value(core.key(t), vals[i]) end
  return M.new(x.name, chunks, x.dtype, ready)
end

function methods.chunksize(x)
  local t = {}
  for d, c in ipairs(x.chunks) do
    local m = 0
    for _, v in ipairs(c) do if v > m then m = v end end
    t[d] = m
  end
  return t
end

function Array.__tostring(x)
  local nb = {}
  for d, n in ipairs(x.numblocks) do nb[d] = n end
  return ("lask.Array<shape=%s, dtype=%s, chunksize=%s, numblocks=%s, name=%s>"):format(
    shape_str(x.shape), x.dtype, shape_str(methods.chunksize(x)), shape_str(nb), x.name)
end

function Array.__len(x)
  if x.ndim == 0 then error("len() of a 0-d array", 2) end
  return x.shape[1]
end

Array.__index = function(x, k)
  local m = methods[k]
  if m ~= nil then return m end
  if type(k) == "table" or type(k) == "number" then
    if M.is_array(k) or nd.is(k) then return methods.mask(x, k) end
    return methods.getitem(x, k)
  end
  return nil
end

-- < and <= cannot build an array in Lua: point at the methods
Array.__lt = function() error("compare arrays with x:lt(y) (< cannot return an array)", 2) end
Array.__le = function() error("compare arrays with x:le(y) (<= cannot return an array)", 2) end

collection.mixin(methods)

return M
