-- lask.array.shape: rechunk, slicing and indexing, take, boolean masks,
-- transpose, reshape, squeeze, expand_dims, concatenate and stack.
local core = require "lask.core"
local C = require "lask.array.core"

local methods, nd, list = C.methods, C.nd, core.list
local M = {}

-- ---------------------------------------------------------------- rechunk

-- For one axis: for each new chunk, the pieces {old block, lo, hi} (0-based
-- within the old block, hi exclusive) that make it up.
local function plan_axis(old, new)
  local plan = {}
  local oi, ooff = 1, 0       -- current old block and its start
  local pos = 0
  for j, n in ipairs(new) do
    local pieces, need = {}, n
    while need > 0 do
      while oi <= #old and ooff + old[oi] <= pos do ooff = ooff + old[oi]; oi = oi + 1 end
      local lo = pos - ooff
      local take = math.min(need, old[oi] - lo)
      pieces[#pieces + 1] = {oi, lo, lo + take}
      pos = pos + take
      need = need - take
    end
    if n == 0 then pieces[1] = {math.min(oi, #old), 0, 0} end
    plan[j] = pieces
  end
  return plan
end

function methods.rechunk(x, chunks, opts)
  local new = C.normalize_chunks(chunks, x.shape, x.dtype, 2)
  local same = true
  for d = 1, x.ndim do
    if #new[d] ~= #x.chunks[d] then same = false
    else for k = 1, #new[d] do if new[d][k] ~= x.chunks[d][k] then same = false end end end
  end
  if same then return x end
  C.known(x, "rechunk", 2)
  local plans = {}
  for d = 1, x.ndim do plans[d] = plan_axis(x.chunks[d], new[d]) end
  local name = C.tokenize_name("rechunk", x.name, core.encode(new))
  return C.from_blocks(name, new, x.dtype, function(idx, key)
    -- cartesian product of the pieces of every axis
    local per = {}
    local grid = {}
    for d = 1, x.ndim do per[d] = plans[d][idx[d]]; grid[d] = #per[d] end
    local pieces = {}
    C.each_block(grid, function(pidx)
      local oidx, st, sp, one, whole = {}, {}, {}, {}, true
      for d = 1, x.ndim do
        local p = per[d][pidx[d]]
        oidx[d] = p[1]; st[d] = p[2]; sp[d] = p[3]; one[d] = 1
        if p[2] ~= 0 or p[3] ~= x.chunks[d][p[1]] then whole = false end
      end
      local b = C.block(x, oidx)
      if whole then pieces[#pieces + 1] = b
      else
        pieces[#pieces + 1] = core.task(C.bkey(key .. "-s", pidx), "nd.slice", b, list(st), list(sp), list(one))
      end
    end)
    if #pieces == 1 then
      if core.key(pieces[1]) == key then return pieces[1] end
      return core.task(key, "nd.copy", pieces[1])
    end
    return core.task(key, "nd.block", list(pieces), list(grid))
  end)
end

-- ---------------------------------------------------------------- slicing

-- Per axis, the output chunks of selecting start:stop:step (0-based,
-- exclusive stop, normalised): list of {block, lo, hi, step, count}.
local function select_axis(chunks, start, stop, step)
  local count
  if step > 0 then count = stop > start and (stop - start + step - 1) // step or 0
  else count = start > stop and (start - stop - step - 1) // (-step) or 0 end
  local offs = C.offsets(chunks)
  local out = {}
  if count == 0 then return {{1, 0, 0, 1, 0}} end
  local order = {}
  for b = 1, #chunks do order[#order + 1] = b end
  if step < 0 then
    local r = {}
    for i = #order, 1, -1 do r[#r + 1] = order[i] end
    order = r
  end
  for _, b in ipairs(order) do
    local lo, hi = offs[b], offs[b] + chunks[b]     -- [lo, hi)
    -- the k with lo <= start + k*step < hi
    local k0, k1
    if step > 0 then
      k0 = math.max(0, (lo - start + step - 1) // step)
      k1 = math.min(count - 1, (hi - 1 - start) // step)
    else
      local s = -step
      k0 = math.max(0, (start - (hi - 1) + s - 1) // s)
      k1 = math.min(count - 1, (start - lo) // s)
    end
    if k1 >= k0 then
      local g0 = start + k0 * step
      local c = k1 - k0 + 1
      local l0 = g0 - lo
      out[#out + 1] = {b, l0, l0 + c * step, step, c}
    end
  end
  return out
end

function methods.getitem(x, key)
  local ok, s0, s1, s2, drop = pcall(nd.normalize_key, key, x.shape)
  if not ok then error("index: " .. tostring(s0):gsub("^.-:%d+: ", ""), 3) end
  local sel, outchunks, outdims = {}, {}, {}
  for d = 1, x.ndim do
    local full = s0[d] == 0 and s1[d] == x.shape[d] and s2[d] == 1
    if C.isnan(x.shape[d]) then
      if not full then C.known(x, "slicing", 3) end
    end
    if full then
      sel[d] = {}
      for b, n in ipairs(x.chunks[d]) do sel[d][b] = {b, 0, n, 1, n} end
    else
      sel[d] = select_axis(x.chunks[d], s0[d], s1[d], s2[d])
    end
    if not drop[d] then
      local c = {}
      for j, p in ipairs(sel[d]) do c[j] = p[5] end
      outchunks[#outchunks + 1] = c
      outdims[#outdims + 1] = d
    end
  end
  local name = C.tokenize_name("getitem", x.name, core.encode({s0, s1, s2, drop}))
  local grid = {}
  for d = 1, x.ndim do grid[d] = #sel[d] end
  local blocks = {}
  C.each_block(grid, function(sidx, flat)
    local bidx, st, sp, stp, identity = {}, {}, {}, {}, true
    for d = 1, x.ndim do
      local p = sel[d][sidx[d]]
      bidx[d] = p[1]; st[d] = p[2]; sp[d] = p[3]; stp[d] = p[4]
      if not (p[2] == 0 and p[4] == 1 and p[3] == x.chunks[d][p[1]]) then identity = false end
      if p[5] == 0 then st[d] = 0; sp[d] = 0; stp[d] = 1 end
    end
    local oidx = {}
    for j, d in ipairs(outdims) do oidx[j] = sidx[d] end
    local key = C.bkey(name, oidx)
    local b = C.block(x, bidx)
    local t = identity and b or core.task(key .. "-s", "nd.slice", b, list(st), list(sp), list(stp))
    local bshape = {}
    for j, d in ipairs(outdims) do bshape[j] = sel[d][sidx[d]][5] end
    if #outdims ~= x.ndim then t = core.task(key, "nd.reshape", t, C.intlist(bshape)) end
    blocks[flat] = t
  end)
  return C.new(name, outchunks, x.dtype, blocks)
end

-- ---------------------------------------------------------------- take / mask

function methods.take(x, indices, axis)
  axis = C.axis(axis or 1, x.ndim, "take", 2)
  C.known(x, "take", 2)
  if nd.is(indices) then indices = indices:totable() end
  if type(indices) ~= "table" then error("take: indices must be a list or a local int array", 2) end
  local len = x.shape[axis]
  local offs = C.offsets(x.chunks[axis])
  local runs = {}          -- {block, {local 0-based indices}}
  for i, v in ipairs(indices) do
    if math.type(v) ~= "integer" then error(("take: index %d is not an integer"):format(i), 2) end
    local g = v < 0 and v + len or v - 1
    if v == 0 or g < 0 or g >= len then
      error(("take: index %d out of range for axis %d of length %d"):format(v, axis, len), 2)
    end
    local b = 1
    while offs[b + 1] and offs[b + 1] <= g do b = b + 1 end
    local r = runs[#runs]
    if not r or r[1] ~= b then r = {b, {}}; runs[#runs + 1] = r end
    r[2][#r[2] + 1] = g - offs[b]
  end
  local chunks = {}
  for d = 1, x.ndim do chunks[d] = x.chunks[d] end
  chunks[axis] = {}
  for j, r in ipairs(runs) do chunks[axis][j] = #r[2] end
  if #runs == 0 then
    return x:getitem((function() local k = {}; k[axis] = {1, 0}; return k end)())
  end
  local name = C.tokenize_name("take", x.name, axis, core.encode(indices))
  return C.from_blocks(name, chunks, x.dtype, function(idx, key)
    local r = runs[idx[axis]]
    local bidx = {}
    for d = 1, x.ndim do bidx[d] = idx[d] end
    bidx[axis] = r[1]
    return core.task(key, "nd.take", C.block(x, bidx), list(r[2]), axis - 1)
  end)
end

-- x[mask]: a bool array of x's shape gives a 1-d array of the selected
-- values; a 1-d bool array along axis selects whole slices. The result's
-- sizes are unknown (NaN) until computed, as in Dask.
function methods.mask(x, m, axis)
  if nd.is(m) then m = C.from_array(m, {chunks = -1}) end
  if not C.is_array(m) then error("mask: expected a bool array", 2) end
  if m.dtype ~= "bool" then error(("mask: mask must have dtype bool, got %s"):format(m.dtype), 2) end
  local same = m.ndim == x.ndim
  for d = 1, x.ndim do if same and m.shape[d] ~= x.shape[d] then same = false end end
  local NaN = 0 / 0
  if same then
    -- blocks hold whole rows, so block order is the row-major order NumPy gives
    local want = {x.chunks[1]}
    for d = 2, x.ndim do want[d] = -1 end
    local need = false
    for d = 2, x.ndim do if #x.chunks[d] > 1 then need = true end end
    if need then C.known(x, "mask", 2); x = x:rechunk(want) end
    local mm = m:rechunk(x.chunks)
    local name = C.tokenize_name("mask", x.name, mm.name)
    local c, blocks = {}, {}
    for i = 1, #x.blocks do
      c[i] = NaN
      blocks[i] = core.task(name .. "(" .. i .. ")", "nd.mask", x.blocks[i], mm.blocks[i], -1)
    end
    return C.new(name, {c}, x.dtype, blocks)
  end
  axis = C.axis(axis or 1, x.ndim, "mask", 2)
  if m.ndim ~= 1 or m.shape[1] ~= x.shape[axis] then
    error(("mask: boolean mask of shape %s does not match array of shape %s (axis %d)"):format(
      C.shape_str(m.shape), C.shape_str(x.shape), axis), 2)
  end
  local mm = m:rechunk({x.chunks[axis]})
  local name = C.tokenize_name("mask", x.name, mm.name, axis)
  local chunks = {}
  for d = 1, x.ndim do chunks[d] = x.chunks[d] end
  chunks[axis] = {}
  for k = 1, #x.chunks[axis] do chunks[axis][k] = NaN end
  return C.from_blocks(name, chunks, x.dtype, function(idx, key)
    return core.task(key, "nd.mask", C.block(x, idx), mm.blocks[idx[axis]], axis - 1)
  end)
end

-- ---------------------------------------------------------------- shape

function methods.transpose(x, ...)
  local perm = {...}
  if #perm == 1 and type(perm[1]) == "table" then perm = perm[1] end
  if #perm == 0 then for d = 1, x.ndim do perm[d] = x.ndim - d + 1 end end
  if #perm ~= x.ndim then
    error(("transpose: %d axes given for a %d-d array"):format(#perm, x.ndim), 2)
  end
  local seen, p0 = {}, {}
  for i, a in ipairs(perm) do
    local d = C.axis(a, x.ndim, "transpose", 2)
    if seen[d] then error(("transpose: axis %d given twice"):format(d), 2) end
    seen[d] = true
    perm[i] = d
    p0[i] = d - 1
  end
  local chunks = {}
  for i, d in ipairs(perm) do chunks[i] = x.chunks[d] end
  local name = C.tokenize_name("transpose", x.name, table.concat(perm, ","))
  return C.from_blocks(name, chunks, x.dtype, function(idx, key)
    local src = {}
    for i, d in ipairs(perm) do src[d] = idx[i] end
    return core.task(key, "nd.transpose", C.block(x, src), list(p0))
  end)
end
methods.T = function(x) return methods.transpose(x) end

function methods.expand_dims(x, axis)
  local ax = C.axis(axis, x.ndim, "expand_dims", 2, true)
  local chunks = {}
  for d = 1, x.ndim do chunks[#chunks + 1] = x.chunks[d] end
  table.insert(chunks, ax, {1})
  local name = C.tokenize_name("expand_dims", x.name, ax)
  return C.from_blocks(name, chunks, x.dtype, function(idx, key)
    local src = {}
    for d = 1, #idx do if d ~= ax then src[#src + 1] = idx[d] end end
    return core.task(key, "nd.expand_dims", C.block(x, src), ax - 1)
  end)
end

function methods.squeeze(x, axis)
  local drop = {}
  if axis ~= nil then
    local ax = C.axis(axis, x.ndim, "squeeze", 2)
    if x.shape[ax] ~= 1 then
      error(("squeeze: axis %d has length %s, not 1"):format(ax, tostring(x.shape[ax])), 2)
    end
    drop[ax] = true
  else
    for d = 1, x.ndim do if x.shape[d] == 1 then drop[d] = true end end
  end
  local chunks = {}
  for d = 1, x.ndim do if not drop[d] then chunks[#chunks + 1] = x.chunks[d] end end
  local name = C.tokenize_name("squeeze", x.name, axis or 0)
  return C.from_blocks(name, chunks, x.dtype, function(idx, key, bshape)
    local src, j = {}, 0
    for d = 1, x.ndim do
      if drop[d] then src[d] = 1 else j = j + 1; src[d] = idx[j] end
    end
    return core.task(key, "nd.reshape", C.block(x, src), C.intlist(bshape))
  end)
end

local function gcd(a, b) while b ~= 0 do a, b = b, a % b end return a end

-- reshape: a row-major reshape works block by block when every block holds
-- whole rows of the output. Rechunk to that layout first (only the first
-- axis stays split), unless opts.rechunk == false.
function methods.reshape(x, shape, opts)
  if type(shape) == "number" then shape = {shape} end
  if type(shape) ~= "table" then error("reshape: shape must be a table of lengths", 2) end
  opts = opts or {}
  C.known(x, "reshape", 2)
  local new, neg, known = {}, nil, 1
  for i, v in ipairs(shape) do
    if v == -1 and not neg then neg = i
    elseif math.type(v) ~= "integer" or v < 0 then
      error(("reshape: bad length %s on axis %d"):format(tostring(v), i), 2)
    else known = known * v end
    new[i] = v
  end
  if neg then new[neg] = known > 0 and x.size // known or 0 end
  local total = 1
  for _, v in ipairs(new) do total = total * v end
  if total ~= x.size then
    error(("reshape: cannot reshape array of shape %s (%d elements) into %s"):format(
      C.shape_str(x.shape), x.size, C.shape_str(shape)), 2)
  end
  local same = #new == x.ndim
  for d = 1, #new do if same and new[d] ~= x.shape[d] then same = false end end
  if same then return x end
  if #new == 0 or x.ndim == 0 then
    local y = x:rechunk(-1)
    local name = C.tokenize_name("reshape", x.name, core.encode(new))
    local ch = {}
    for d = 1, #new do ch[d] = {new[d]} end
    return C.from_blocks(name, ch, x.dtype, function(_, key)
      return core.task(key, "nd.reshape", y.blocks[1], C.intlist(new))
    end)
  end
  -- P: elements per input row (axes 2..), R: per output row
  local P, R = 1, 1
  for d = 2, x.ndim do P = P * x.shape[d] end
  for d = 2, #new do R = R * new[d] end
  local y = x
  local ok = true
  for d = 2, x.ndim do if #x.chunks[d] ~= 1 then ok = false end end
  local rows = x.chunks[1]
  if ok and P > 0 then for _, r in ipairs(rows) do if (r * P) % R ~= 0 then ok = false end end end
  if not ok then
    if opts.rechunk == false then
      error(("reshape: %s -> %s needs a rechunk of chunks %s (blocks must hold whole output rows "
        .. "of %d elements); allow it or rechunk first"):format(C.shape_str(x.shape),
        C.shape_str(new), C.shape_str(methods.chunksize(x)), R), 2)
    end
    local g = P > 0 and R // gcd(R, P) or 1
    local want = math.max(rows[1] or 1, 1)
    want = math.max(g, (want + g - 1) // g * g)
    local ch = {want}
    for d = 2, x.ndim do ch[d] = -1 end
    y = x:rechunk(ch)
  end
  local outrows = {}
  for i, r in ipairs(y.chunks[1]) do outrows[i] = R > 0 and (r * P) // R or 0 end
  local chunks = {outrows}
  for d = 2, #new do chunks[d] = {new[d]} end
  local name = C.tokenize_name("reshape", y.name, core.encode(new))
  return C.from_blocks(name, chunks, x.dtype, function(idx, key, bshape)
    local src = {idx[1]}
    for d = 2, y.ndim do src[d] = 1 end
    return core.task(key, "nd.reshape", C.block(y, src), C.intlist(bshape))
  end)
end

function methods.flatten(x) return x:reshape{-1} end
methods.ravel = methods.flatten

function M.concatenate(arrays, axis)
  if type(arrays) ~= "table" or #arrays == 0 then
    error("concatenate: expected a non-empty list of arrays", 2)
  end
  local first = arrays[1]
  for i, a in ipairs(arrays) do
    if nd.is(a) then arrays[i] = C.from_array(a, {chunks = -1}) end
    if not C.is_array(arrays[i]) then error(("concatenate: item %d is not an array"):format(i), 2) end
  end
  first = arrays[1]
  local ax = C.axis(axis or 1, first.ndim, "concatenate", 2)
  local dtype = first.dtype
  for i, a in ipairs(arrays) do
    if a.ndim ~= first.ndim then
      error(("concatenate: array %d is %d-d, array 1 is %d-d"):format(i, a.ndim, first.ndim), 2)
    end
    for d = 1, first.ndim do
      if d ~= ax and a.shape[d] ~= first.shape[d] then
        error(("concatenate along axis %d: array %d has shape %s, array 1 has %s (axis %d differs)"):format(
          ax, i, C.shape_str(a.shape), C.shape_str(first.shape), d), 2)
      end
    end
    dtype = (C.meta(dtype) + C.meta(a.dtype)).dtype
    if (a.dtype == "bool" and dtype == "int64" and first.dtype == "bool") then dtype = "bool" end
  end
  local parts, chunks = {}, {}
  for d = 1, first.ndim do chunks[d] = first.chunks[d] end
  chunks[ax] = {}
  for i, a in ipairs(arrays) do
    local want = {}
    for d = 1, first.ndim do want[d] = d == ax and a.chunks[d] or first.chunks[d] end
    a = a:rechunk(want):astype(dtype)
    parts[i] = a
    for _, c in ipairs(a.chunks[ax]) do chunks[ax][#chunks[ax] + 1] = c end
  end
  local names = {}
  for i, a in ipairs(parts) do names[i] = a.name end
  local name = C.tokenize_name("concatenate", ax, table.concat(names, " "))
  -- global block index along ax -> (array, local index)
  local owner = {}
  for i, a in ipairs(parts) do
    for k = 1, a.numblocks[ax] do owner[#owner + 1] = {i, k} end
  end
  local blocks = {}
  C.each_block(C.numblocks(chunks), function(idx, flat)
    local o = owner[idx[ax]]
    local src = {}
    for d = 1, first.ndim do src[d] = idx[d] end
    src[ax] = o[2]
    blocks[flat] = C.block(parts[o[1]], src)
  end)
  return C.new(name, chunks, dtype, blocks)
end

function M.stack(arrays, axis)
  if type(arrays) ~= "table" or #arrays == 0 then error("stack: expected a non-empty list of arrays", 2) end
  local ex = {}
  for i, a in ipairs(arrays) do
    if nd.is(a) then a = C.from_array(a, {chunks = -1}) end
    if not C.is_array(a) then error(("stack: item %d is not an array"):format(i), 2) end
    if a.ndim ~= arrays[1].ndim or C.shape_str(a.shape) ~= C.shape_str(arrays[1].shape) then
      error(("stack: array %d has shape %s, array 1 has %s"):format(i, C.shape_str(a.shape),
        C.shape_str(arrays[1].shape)), 2)
    end
    ex[i] = a
  end
  local ax = C.axis(axis or 1, ex[1].ndim, "stack", 2, true)
  for i, a in ipairs(ex) do ex[i] = a:expand_dims(ax) end
  return M.concatenate(ex, ax)
end

return M
