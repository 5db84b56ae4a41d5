-- lask.array: chunked n-dimensional arrays, like Dask Array (docs/array.md).
--
--   local da = require "lask.array"
--   local x = da.random.random({20000, 20000}, {chunks = {2000, 2000}, seed = 42})
--   print(((x + x:T()):mean{axis = 1}):sum():compute())
--
-- Indices, axes and ranges are 1-based and inclusive; options come last as a
-- table. Local arrays (what compute() returns and callbacks receive) come
-- from lask.core.ndarray and share the operations.
local core = require "lask.core"
local C = require "lask.array.core"
require "lask.array.reduce"
local shape = require "lask.array.shape"
local linalg = require "lask.array.linalg"
local custom = require "lask.array.custom"

local nd, list = C.nd, core.list
local M = {}

M.Array = C.Array
M.is_array = C.is_array
M.local_array = nd     -- the local (in-memory) array module
M.normalize_chunks = function(chunks, shp, dtype) return C.normalize_chunks(chunks, shp, dtype, 2) end

local function check_shape(shp, what, level)
  if type(shp) == "number" then shp = {shp} end
  if type(shp) ~= "table" then error(what .. ": shape must be a table of lengths", level + 1) end
  local s = {}
  for i, v in ipairs(shp) do
    if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) or v < 0 then
      error(("%s: shape entry %d (%s) must be a non-negative integer"):format(what, i, tostring(v)), level + 1)
    end
    s[i] = math.tointeger(v)
  end
  return s
end

local function opts_of(o, what, level)
  if o ~= nil and type(o) ~= "table" then
    error(("%s: options must be a table, got %s"):format(what, type(o)), level + 1)
  end
  return o or {}
end

-- ---------------------------------------------------------------- creation

function M.full(shp, value, opts)
  opts = opts_of(opts, "full", 2)
  shp = check_shape(shp, "full", 2)
  local dtype = C.check_dtype(opts.dtype, 2)
  if not dtype then
    dtype = type(value) == "boolean" and "bool" or math.type(value) == "integer" and "int64" or "float64"
  end
  if type(value) ~= "number" and type(value) ~= "boolean" then
    error("full: fill value must be a number or a boolean, got " .. type(value), 2)
  end
  local chunks = C.normalize_chunks(opts.chunks, shp, dtype, 2)
  local name = opts.name or C.tokenize_name("full", C.shape_str(shp), value, dtype, core.encode(chunks))
  return C.from_blocks(name, chunks, dtype, function(_, key, bshape)
    return core.task(key, "nd.full", dtype, C.intlist(bshape), value)
  end)
end

function M.zeros(shp, opts) return M.full(shp, 0, {dtype = (opts and opts.dtype) or "float64", chunks = opts and opts.chunks}) end
function M.ones(shp, opts) return M.full(shp, 1, {dtype = (opts and opts.dtype) or "float64", chunks = opts and opts.chunks}) end
M.empty = M.zeros

function M.zeros_like(x, opts) return M.zeros(x.shape, {dtype = opts and opts.dtype or x.dtype, chunks = x.chunks}) end
function M.ones_like(x, opts) return M.ones(x.shape, {dtype = opts and opts.dtype or x.dtype, chunks = x.chunks}) end
function M.full_like(x, v, opts) return M.full(x.shape, v, {dtype = opts and opts.dtype or x.dtype, chunks = x.chunks}) end

-- arange(stop) / arange(start, stop[, step])[, opts]: stop excluded, as NumPy
function M.arange(...)
  local args = {...}
  local opts = {}
  if type(args[#args]) == "table" then opts = table.remove(args) end
  local start, stop, step = 0, nil, 1
  if #args == 1 then stop = args[1] else start, stop, step = args[1], args[2], args[3] or 1 end
  for _, v in ipairs{start, stop, step} do
    if type(v) ~= "number" then error("arange: start, stop and step must be numbers", 2) end
  end
  if step == 0 then error("arange: step is zero", 2) end
  local n = math.max(0, math.ceil((stop - start) / step))
  n = math.tointeger(n) or n
  local allint = math.type(start) == "integer" and math.type(stop) == "integer" and math.type(step) == "integer"
  local dtype = C.check_dtype(opts.dtype, 2) or (allint and "int64" or "float64")
  local chunks = C.normalize_chunks(opts.chunks, {n}, dtype, 2)
  local offs = C.offsets(chunks[1])
  local name = C.tokenize_name("arange", start, stop, step, dtype, core.encode(chunks))
  return C.from_blocks(name, chunks, dtype, function(idx, key, bshape)
    return core.task(key, "nd.arange", dtype, start + offs[idx[1]] * step, step, bshape[1])
  end)
end

function M.linspace(a, b, n, opts)
  n = n or 50
  opts = opts_of(opts, "linspace", 2)
  if math.type(n) ~= "integer" or n < 0 then error("linspace: count must be a non-negative integer", 2) end
  local step = n > 1 and (b - a) / (n - 1) or 0
  local chunks = C.normalize_chunks(opts.chunks, {n}, "float64", 2)
  local offs = C.offsets(chunks[1])
  local name = C.tokenize_name("linspace", a, b, n, core.encode(chunks))
  return C.from_blocks(name, chunks, "float64", function(idx, key, bshape)
    return core.task(key, "nd.arange", "float64", a + offs[idx[1]] * step, step, bshape[1])
  end)
end

function M.eye(n, opts)
  opts = opts_of(opts, "eye", 2)
  local m, k = opts.m or n, opts.k or 0
  local dtype = C.check_dtype(opts.dtype, 2) or "float64"
  local chunks = C.normalize_chunks(opts.chunks, {n, m}, dtype, 2)
  local ro, co = C.offsets(chunks[1]), C.offsets(chunks[2])
  local name = C.tokenize_name("eye", n, m, k, dtype, core.encode(chunks))
  return C.from_blocks(name, chunks, dtype, function(idx, key, bshape)
    return core.task(key, "nd.eye", dtype, k, ro[idx[1]], co[idx[2]], bshape[1], bshape[2])
  end)
end

function M.from_array(a, opts) return C.from_array(a, opts_of(opts, "from_array", 2), 2) end
function M.from_table(t, opts)
  opts = opts_of(opts, "from_table", 2)
  local ok, a = pcall(nd.from_table, t, opts.dtype)
  if not ok then error(tostring(a):gsub("^.-:%d+: ", ""), 2) end
  return C.from_array(a, opts, 2)
end
M.array = M.from_table

-- from_delayed(d, shape, {dtype=}): one block computed by a Delayed that
-- yields a local array of that shape.
function M.from_delayed(d, shp, opts)
  opts = opts_of(opts, "from_delayed", 2)
  local delayed = require "lask.delayed"
  if not delayed.is_delayed(d) then error("from_delayed: expected a Delayed value", 2) end
  shp = check_shape(shp, "from_delayed", 2)
  local dtype = C.check_dtype(opts.dtype, 2) or "float64"
  local chunks = {}
  for i, v in ipairs(shp) do chunks[i] = {v} end
  local t = d:__lask_tasks()[1]
  local name = C.tokenize_name("from_delayed", core.key(t))
  local check = core.ship(function(v, want, dt)
    local ndm = require "lask.core.ndarray"
    if type(v) == "table" then v = ndm.from_table(v, dt) end
    if not ndm.is(v) then error("from_delayed: the delayed value is a " .. type(v) .. ", not an array", 0) end
    local s = v.shape
    local bad = #s ~= #want
    for i = 1, #want do if s[i] ~= want[i] then bad = true end end
    if bad then
      error(("from_delayed: the delayed value has shape (%s), declared (%s)"):format(
        table.concat(s, ", "), table.concat(want, ", ")), 0)
    end
    if v.dtype ~= dt then v = v:astype(dt) end
    return v
  end)
  return C.from_blocks(name, chunks, dtype, function(_, key)
    return core.ltask(key, check, t, list(shp), dtype)
  end)
end

-- ---------------------------------------------------------------- random

M.random = {}

local seed_counter = 0
local function seed_of(opts)
  if opts.seed ~= nil then
    if math.type(opts.seed) ~= "integer" then error("random: seed must be an integer", 3) end
    return opts.seed
  end
  -- no seed: a fresh stream each call, as NumPy without a seed
  seed_counter = seed_counter + 1
  return math.floor(os.time() * 1000003 + os.clock() * 1e6) ~ (seed_counter * 0x9E3779B9)
end

local function random_array(kind, shp, p1, p2, opts, level)
  opts = opts_of(opts, "random." .. kind, level + 1)
  shp = check_shape(shp, "random." .. kind, level + 1)
  local dtype = C.check_dtype(opts.dtype, level + 1) or (kind == "randint" and "int64" or "float64")
  local isfloat = dtype == "float64" or dtype == "float32"
  if (kind == "randint") == isfloat or dtype == "bool" then
    error(("random.%s: dtype %s does not fit (%s)"):format(kind, dtype,
      kind == "randint" and "int64, int32 or uint8" or "float64 or float32"), level + 1)
  end
  local chunks = C.normalize_chunks(opts.chunks, shp, dtype, level + 1)
  local seed = seed_of(opts)
  local offs = {}
  for d = 1, #shp do offs[d] = C.offsets(chunks[d]) end
  local name = C.tokenize_name("random_" .. kind, seed, C.shape_str(shp), p1, p2, dtype, core.encode(chunks))
  local gshape = list(shp)
  return C.from_blocks(name, chunks, dtype, function(idx, key, bshape)
    local st = {}
    for d = 1, #shp do st[d] = offs[d][idx[d]] end
    return core.task(key, "nd.random", kind, dtype, seed, gshape, list(st), list(bshape), p1, p2)
  end)
end

function M.random.random(shp, opts) return random_array("uniform", shp, 0.0, 1.0, opts, 2) end
function M.random.uniform(low, high, shp, opts)
  return random_array("uniform", shp, low or 0.0, high or 1.0, opts, 2)
end
function M.random.normal(loc, scale, shp, opts)
  if type(loc) == "table" and shp == nil then -- normal(shape, opts)
    return random_array("normal", loc, 0.0, 1.0, scale, 2)
  end
  return random_array("normal", shp, loc or 0.0, scale or 1.0, opts, 2)
end
function M.random.randint(low, high, shp, opts)
  if math.type(low) ~= "integer" or math.type(high) ~= "integer" or high <= low then
    error(("random.randint: need integers low < high, got %s and %s"):format(tostring(low), tostring(high)), 2)
  end
  return random_array("randint", shp, low, high, opts, 2)
end
-- random.normal(shape, opts) in the issue's example: normal({4000, 4000}, {chunks = 1000})

-- ---------------------------------------------------------------- .npy

function M.from_npy(path, opts)
  opts = opts_of(opts, "from_npy", 2)
  local ok, shp, dtype, fortran = pcall(nd.npy_info, path)
  if not ok then error(tostring(shp):gsub("^.-:%d+: ", ""), 2) end
  if fortran then error(("from_npy: %s is in Fortran order; load it with lask.core.ndarray.load_npy"):format(path), 2) end
  local chunks = C.normalize_chunks(opts.chunks, shp, dtype, 2)
  local offs = {}
  for d = 1, #shp do offs[d] = C.offsets(chunks[d]) end
  local f = io.open(path, "rb")
  local size = f and f:seek("end") or 0
  if f then f:close() end
  local name = C.tokenize_name("from_npy", path, size, C.shape_str(shp), dtype, core.encode(chunks))
  return C.from_blocks(name, chunks, dtype, function(idx, key, bshape)
    local st = {}
    for d = 1, #shp do st[d] = offs[d][idx[d]] end
    return core.task(key, "nd.npy_read", path, list(st), list(bshape))
  end)
end

-- to_npy(path, x, opts): blocks are written in place by many tasks at once.
function M.to_npy(path, x, opts)
  if C.is_array(path) then path, x = x, path end
  if not C.is_array(x) then error("to_npy: expected an array", 2) end
  C.known(x, "to_npy", 2)
  local base = require "lask.base"
  local o = base.options(opts, 2, "to_npy")
  local name = C.tokenize_name("to_npy", path, x.name)
  local create = core.task(name .. "-create", "nd.npy_create", path, x.dtype, C.intlist(x.shape))
  local offs = {}
  for d = 1, x.ndim do offs[d] = C.offsets(x.chunks[d]) end
  local writes = {}
  C.each_block(x.numblocks, function(idx, flat)
    local st = {}
    for d = 1, x.ndim do st[d] = offs[d][idx[d]] end
    writes[#writes + 1] = core.task(C.bkey(name, idx), "nd.npy_write", path, x.blocks[flat], list(st), create)
  end)
  if #writes == 0 then writes[1] = create end
  base.run(writes, o)
  return nil
end
C.methods.to_npy = function(x, path, opts) return M.to_npy(path, x, opts) end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then error("cannot write " .. tostring(err), 3) end
  f:write(text)
  f:close()
end

-- A directory of one .npy file per block along axis (blocks span the other
-- axes whole), plus "info" describing the array.
function M.to_npy_stack(dir, x, opts)
  if not C.is_array(x) then error("to_npy_stack: expected an array", 2) end
  opts = opts_of(opts, "to_npy_stack", 2)
  local axis = C.axis(opts.axis or 1, x.ndim, "to_npy_stack", 2)
  C.known(x, "to_npy_stack", 2)
  local want = {}
  for d = 1, x.ndim do want[d] = d == axis and x.chunks[d] or -1 end
  x = x:rechunk(want)
  os.execute(("mkdir -p '%s'"):format(dir:gsub("'", "'\\''")))
  local base = require "lask.base"
  local writes = {}
  local name = C.tokenize_name("to_npy_stack", dir, x.name)
  for i = 1, x.numblocks[axis] do
    local path = ("%s/%d.npy"):format(dir, i - 1)
    local create = core.task(name .. "-c" .. i, "nd.npy_create", path, x.dtype,
      C.intlist(C.block_shape(x.chunks, (function()
        local t = {}
        for d = 1, x.ndim do t[d] = d == axis and i or 1 end
        return t
      end)())))
    local idx = {}
    for d = 1, x.ndim do idx[d] = d == axis and i or 1 end
    local zero = {}
    for d = 1, x.ndim do zero[d] = 0 end
    writes[#writes + 1] = core.task(name .. "-w" .. i, "nd.npy_write", path, C.block(x, idx), list(zero), create)
  end
  write_file(dir .. "/info", ("return {axis = %d, dtype = %q, shape = {%s}, chunks = {%s}}\n"):format(
    axis, x.dtype, table.concat(x.shape, ", "), table.concat(x.chunks[axis], ", ")))
  base.run(writes, base.options(opts.scheduler and {scheduler = opts.scheduler} or nil, 2, "to_npy_stack"))
end

function M.from_npy_stack(dir)
  local fn, err = loadfile(dir .. "/info", "t", {})
  if not fn then error("from_npy_stack: cannot read " .. dir .. "/info: " .. tostring(err), 2) end
  local info = fn()
  local chunks = {}
  for d = 1, #info.shape do chunks[d] = d == info.axis and info.chunks or {info.shape[d]} end
  local name = C.tokenize_name("from_npy_stack", dir, core.encode(info))
  return C.from_blocks(name, chunks, info.dtype, function(idx, key, bshape)
    local zero = {}
    for d = 1, #bshape do zero[d] = 0 end
    return core.task(key, "nd.npy_read", ("%s/%d.npy"):format(dir, idx[info.axis] - 1), list(zero), list(bshape))
  end)
end

-- ---------------------------------------------------------------- the rest

M.concatenate = shape.concatenate
M.stack = shape.stack
M.where = C.where
M.matmul = function(a, b) return C.methods.matmul(a, b) end
M.dot = M.matmul
M.tensordot = linalg.tensordot
M.outer = linalg.outer
M.map_blocks = custom.map_blocks
M.blockwise = custom.blockwise
M.map_overlap = function(x, fn, opts) return C.methods.map_overlap(x, fn, opts) end
M.from_delayed = M.from_delayed

for _, f in ipairs{"sum", "prod", "min", "max", "any", "all", "mean", "var", "std", "argmin",
  "argmax", "cumsum", "cumprod", "transpose", "reshape", "squeeze", "expand_dims", "take",
  "rechunk", "abs", "sqrt", "exp", "log", "log1p", "sin", "cos", "tan", "tanh", "floor", "ceil",
  "round", "isnan", "isfinite", "clip", "maximum", "minimum", "astype"} do
  M[f] = function(x, ...) return x[f](x, ...) end
end

return M
