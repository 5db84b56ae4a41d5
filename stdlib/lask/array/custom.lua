-- lask.array.custom: map_blocks, blockwise and map_overlap - user code per
-- block, as a Lua function (run in a worker's Lua state) or a native kernel
-- name.
--
-- A Lua callback gets local arrays and must return one (a number is taken
-- as a 0-d array); its shape and dtype are checked against what the graph
-- expects, and a mismatch is an error naming the block and both shapes.
local core = require "lask.core"
local C = require "lask.array.core"

local methods, nd, list = C.methods, C.nd, core.list
local M = {}

local known_opts = {dtype = true, chunks = true, drop_axis = true, new_axis = true,
  block_info = true, name = true, depth = true, boundary = true, trim = true, check = true}

-- split a trailing options table off varargs
local function split_opts(...)
  local n = select("#", ...)
  local args = {...}
  local last = args[n]
  if n > 0 and type(last) == "table" and getmetatable(last) == nil then
    local isopts = next(last) == nil
    for k in pairs(last) do if known_opts[k] then isopts = true end end
    if isopts then return args, n - 1, last end
  end
  return args, n, {}
end

-- wrap a user function: checks the result against the expected shape/dtype
local function shipped_checker(fn, what)
  return core.ship(function(shape, dtype, bname, ...)
    local ok, r = pcall(fn, ...)
    if not ok then error(("%s: callback failed on block %s: %s"):format(what, bname, tostring(r)), 0) end
    local ndm = require "lask.core.ndarray"
    if type(r) == "number" or type(r) == "boolean" then r = ndm.full({}, r, dtype) end
    if not ndm.is(r) then
      error(("%s: callback returned a %s for block %s, expected a local array"):format(what, type(r), bname), 0)
    end
    local function str(s)
      local t = {}
      for i, v in ipairs(s) do t[i] = tostring(v) end
      return "(" .. table.concat(t, ", ") .. (#s == 1 and ",)" or ")")
    end
    if shape then
      local got, bad = r.shape, #r.shape ~= #shape
      for i = 1, #shape do if got[i] ~= shape[i] then bad = true end end
      if bad then
        error(("%s: callback returned shape %s for block %s, expected %s (declare chunks= when the "
          .. "shape changes)"):format(what, str(got), bname, str(shape)), 0)
      end
    end
    if dtype and r.dtype ~= dtype then
      error(("%s: callback returned dtype %s for block %s, expected %s (declare dtype=)"):format(
        what, r.dtype, bname, dtype), 0)
    end
    return r
  end)
end

local function axes_set(v, ndim, what)
  local s = {}
  if v == nil then return s end
  if type(v) == "number" then v = {v} end
  for _, a in ipairs(v) do s[C.axis(a, ndim, what, 4, true)] = true end
  return s
end

-- map_blocks(fn, arrays and other arguments..., opts)
function M.map_blocks(fn, ...)
  local args, n, opts = split_opts(...)
  local what = "map_blocks"
  if type(fn) ~= "function" and type(fn) ~= "string" then
    error("map_blocks: fn must be a Lua function or a native kernel name", 2)
  end
  local arrays, pos = {}, {}
  for i = 1, n do
    if nd.is(args[i]) then args[i] = C.from_array(args[i], {chunks = -1}) end
    if C.is_array(args[i]) then arrays[#arrays + 1] = args[i]; pos[#pos + 1] = i end
  end
  if #arrays == 0 then error("map_blocks: needs at least one array argument", 2) end
  local chunks, aligned, ndim = C.unify(arrays, what, 2)
  local drop = axes_set(opts.drop_axis, ndim, what)
  local dropped = {}
  for d = 1, ndim do if drop[d] then dropped[#dropped + 1] = d end end
  if #dropped > 0 then
    -- a dropped axis must be whole in every block
    for i, a in ipairs(aligned) do
      local want, need = {}, false
      for ad = 1, a.ndim do
        local d = ad + (ndim - a.ndim)
        want[ad] = drop[d] and -1 or a.chunks[ad]
        if drop[d] and #a.chunks[ad] > 1 then need = true end
      end
      if need then aligned[i] = a:rechunk(want) end
    end
    for _, d in ipairs(dropped) do chunks[d] = {C.sum(chunks[d])} end
  end
  local grid = C.numblocks(chunks)
  -- output chunks: the input's minus dropped axes, plus new axes
  local out = {}
  for d = 1, ndim do if not drop[d] then out[#out + 1] = chunks[d] end end
  local outgrid = {}
  for d = 1, ndim do if not drop[d] then outgrid[#outgrid + 1] = d end end
  local newlist = {}
  if opts.new_axis ~= nil then
    newlist = type(opts.new_axis) == "number" and {opts.new_axis} or table.move(opts.new_axis, 1, #opts.new_axis, 1, {})
    table.sort(newlist)
  end
  for _, d in ipairs(newlist) do
    if math.type(d) ~= "integer" or d < 1 or d > #out + 1 then
      error(("map_blocks: new_axis %s out of range for a %d-d output"):format(tostring(d), #out + 1), 2)
    end
    table.insert(out, d, {1})
    table.insert(outgrid, d, false)
  end
  local check_shape = true
  if opts.chunks ~= nil then
    local ch = opts.chunks
    if type(ch) ~= "table" then error("map_blocks: chunks must be a table", 2) end
    if #ch ~= #out then
      error(("map_blocks: chunks has %d axes, the output has %d"):format(#ch, #out), 2)
    end
    for d = 1, #out do
      if type(ch[d]) == "number" then
        local t = {}
        for k = 1, #out[d] do t[k] = ch[d] end
        out[d] = t
      elseif type(ch[d]) == "table" then
        if #ch[d] ~= #out[d] then
          error(("map_blocks: chunks on axis %d has %d blocks, the input grid has %d"):format(d, #ch[d], #out[d]), 2)
        end
        out[d] = ch[d]
      end
    end
  end
  for d = 1, #out do for _, v in ipairs(out[d]) do if C.isnan(v) then check_shape = false end end end
  local dtype = C.check_dtype(opts.dtype, 2) or aligned[1].dtype
  local names = {}
  for i = 1, #aligned do names[i] = aligned[i].name end
  local fid = type(fn) == "string" and fn or core.tokenize(core.encode(fn))
  local name = opts.name or C.tokenize_name("map_blocks", fid, table.concat(names, " "),
    core.encode({dtype, out, opts.block_info and true or false}), n)
  local shipped = type(fn) == "function" and shipped_checker(fn, what) or nil
  local offs = {}
  for d = 1, ndim do offs[d] = C.offsets(chunks[d]) end
  local oshape = {}
  for d = 1, #out do oshape[d] = C.sum(out[d]) end
  return C.from_blocks(name, out, dtype, function(oidx, key, bshape)
    -- output block index -> input grid index
    local idx, j = {}, 0
    for d = 1, ndim do
      if drop[d] then idx[d] = 1 end
    end
    for od = 1, #out do
      local d = outgrid[od]
      if d then idx[d] = oidx[od] end
    end
    for d = 1, ndim do idx[d] = idx[d] or 1 end
    j = 0
    local targs = {}
    for i = 1, n do targs[i] = args[i] end
    for k, a in ipairs(aligned) do
      local bi = {}
      for ad = 1, a.ndim do
        local d = ad + (ndim - a.ndim)
        bi[ad] = a.numblocks[ad] == 1 and 1 or idx[d]
      end
      targs[pos[k]] = C.block(a, bi)
    end
    if opts.block_info then
      local loc = {}
      for d = 1, ndim do loc[d] = {offs[d][idx[d]] + 1, offs[d][idx[d]] + chunks[d][idx[d]]} end
      targs[n + 1] = {index = idx, location = loc, num_blocks = grid, shape = (function()
        local s = {}
        for d = 1, ndim do s[d] = C.sum(chunks[d]) end
        return s
      end)(), chunk_shape = bshape, output_shape = oshape, dtype = dtype}
      j = 1
    end
    if shipped then
      local bname = C.shape_str(oidx):gsub("^%(", "("):gsub(",%)$", ")")
      return core.ltask(key, shipped, check_shape and list(bshape) or nil, dtype, bname,
        table.unpack(targs, 1, n + j))
    end
    return core.task(key, fn, table.unpack(targs, 1, n + j))
  end)
end

function methods.map_blocks(x, fn, ...)
  return M.map_blocks(fn, x, ...)
end

-- blockwise(fn, out_ind, x, "ij", y, "jk", ..., opts): index letters name
-- axes; letters missing from out_ind are contracted: the callback gets the
-- list of blocks along them (in order).
function M.blockwise(fn, out_ind, ...)
  local args, n, opts = split_opts(...)
  if type(out_ind) ~= "string" then error("blockwise: out_ind must be a string of index letters", 2) end
  if n % 2 ~= 0 then error("blockwise: arguments come in (array, index string) pairs", 2) end
  local letters = {}        -- letter -> chunks
  local ins = {}
  for i = 1, n, 2 do
    local a, ind = args[i], args[i + 1]
    if nd.is(a) then a = C.from_array(a, {chunks = -1}) end
    if C.is_array(a) then
      if type(ind) ~= "string" or #ind ~= a.ndim then
        error(("blockwise: array %d is %d-d but its index is %s"):format((i + 1) // 2, a.ndim, tostring(ind)), 2)
      end
      local want = {}
      for d = 1, a.ndim do
        local l = ind:sub(d, d)
        if not letters[l] then letters[l] = a.chunks[d] end
        if C.sum(letters[l]) ~= a.shape[d] then
          error(("blockwise: index '%s' has length %s in one array and %s in another"):format(
            l, tostring(C.sum(letters[l])), tostring(a.shape[d])), 2)
        end
        want[d] = letters[l]
      end
      a = a:rechunk(want)
    end
    ins[#ins + 1] = {a, ind}
  end
  local out = {}
  for d = 1, #out_ind do
    local l = out_ind:sub(d, d)
    if not letters[l] then error(("blockwise: output index '%s' appears in no input"):format(l), 2) end
    out[d] = letters[l]
  end
  if opts.chunks then out = C.normalize_chunks(opts.chunks, (function()
    local s = {}
    for d = 1, #out do s[d] = C.sum(out[d]) end
    return s
  end)(), nil, 2) end
  local dtype = C.check_dtype(opts.dtype, 2) or (C.is_array(ins[1][1]) and ins[1][1].dtype) or "float64"
  local shipped = type(fn) == "function" and shipped_checker(fn, "blockwise") or nil
  local names = {}
  for i, p in ipairs(ins) do names[i] = C.is_array(p[1]) and (p[1].name .. p[2]) or tostring(p[1]) end
  local fid = type(fn) == "string" and fn or core.tokenize(core.encode(fn))
  local name = C.tokenize_name("blockwise", fid, out_ind, table.concat(names, " "), dtype)
  return C.from_blocks(name, out, dtype, function(oidx, key, bshape)
    local at = {}
    for d = 1, #out_ind do at[out_ind:sub(d, d)] = oidx[d] end
    local targs = {}
    for i, p in ipairs(ins) do
      local a, ind = p[1], p[2]
      if not C.is_array(a) then targs[i] = a
      else
        local free, fnb = {}, {}
        for d = 1, a.ndim do
          local l = ind:sub(d, d)
          if not at[l] then free[#free + 1] = d; fnb[#fnb + 1] = a.numblocks[d] end
        end
        local function bidx(fi)
          local b = {}
          for d = 1, a.ndim do b[d] = at[ind:sub(d, d)] end
          for k, d in ipairs(free) do b[d] = fi[k] end
          return b
        end
        if #free == 0 then targs[i] = C.block(a, bidx({}))
        else
          local l = {}
          C.each_block(fnb, function(fi) l[#l + 1] = C.block(a, bidx(fi)) end)
          targs[i] = list(l)
        end
      end
    end
    if shipped then
      return core.ltask(key, shipped, not opts.chunks and list(bshape) or nil, dtype,
        C.shape_str(oidx), table.unpack(targs, 1, #ins))
    end
    return core.task(key, fn, table.unpack(targs, 1, #ins))
  end)
end

-- ---------------------------------------------------------------- overlap

local boundaries = {none = true, periodic = true, nearest = true, reflect = true}

function methods.map_overlap(x, fn, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("map_overlap: options must be a table", 2) end
  local depth = opts.depth or 1
  if type(depth) == "number" then
    local t = {}
    for d = 1, x.ndim do t[d] = depth end
    depth = t
  end
  local boundary = opts.boundary or "none"
  if type(boundary) ~= "number" and not boundaries[boundary] then
    error(("map_overlap: boundary must be a number or one of none, periodic, nearest, reflect; got %s")
      :format(tostring(boundary)), 2)
  end
  C.known(x, "map_overlap", 2)
  for d = 1, x.ndim do
    local dp = depth[d] or 0
    if math.type(dp) ~= "integer" or dp < 0 then
      error(("map_overlap: depth on axis %d must be a non-negative integer"):format(d), 2)
    end
    for b, c in ipairs(x.chunks[d]) do
      if dp > c then
        error(("map_overlap: depth %d on axis %d is larger than chunk %d (length %d); rechunk first")
          :format(dp, d, b, c), 2)
      end
    end
    depth[d] = dp
  end
  local name = C.tokenize_name("overlap", x.name, core.encode({depth, boundary}))
  local nb = x.numblocks
  -- per axis, per block: the parts {kind, block, lo, hi | indices | len}
  local plans, ext = {}, {}
  for d = 1, x.ndim do
    plans[d], ext[d] = {}, {}
    local c, dp = x.chunks[d], depth[d]
    for i = 1, nb[d] do
      local parts = {}
      local function edge(side)
        local nbr = side < 0 and i - 1 or i + 1
        if dp == 0 then return end
        if nbr >= 1 and nbr <= nb[d] then
          if side < 0 then parts[#parts + 1] = {"block", nbr, c[nbr] - dp, c[nbr]}
          else parts[#parts + 1] = {"block", nbr, 0, dp} end
        elseif boundary == "none" then return
        elseif boundary == "periodic" then
          local w = side < 0 and nb[d] or 1
          if side < 0 then parts[#parts + 1] = {"block", w, c[w] - dp, c[w]}
          else parts[#parts + 1] = {"block", w, 0, dp} end
        elseif type(boundary) == "number" then
          parts[#parts + 1] = {"const", dp}
        else
          local ix = {}
          for k = 1, dp do
            if boundary == "nearest" then ix[k] = side < 0 and 0 or c[i] - 1
            else ix[k] = side < 0 and (dp - k) or (c[i] - k) end   -- mirror, edge included
          end
          parts[#parts + 1] = {"take", i, ix}
        end
      end
      edge(-1)
      local left = #parts > 0
      parts[#parts + 1] = {"block", i, 0, c[i]}
      edge(1)
      local right = #parts > (left and 2 or 1)
      plans[d][i] = parts
      ext[d][i] = {left and dp or 0, right and dp or 0}
    end
  end
  local echunks = {}
  for d = 1, x.ndim do
    echunks[d] = {}
    for i = 1, nb[d] do echunks[d][i] = x.chunks[d][i] + ext[d][i][1] + ext[d][i][2] end
  end
  local over = C.from_blocks(name, echunks, x.dtype, function(idx, key)
    local per, grid = {}, {}
    for d = 1, x.ndim do per[d] = plans[d][idx[d]]; grid[d] = #per[d] end
    local pieces = {}
    C.each_block(grid, function(pidx)
      local pkey = C.bkey(key .. "-p", pidx)
      local const, src, st, sp, one, shape = false, {}, {}, {}, {}, {}
      local takes = {}
      for d = 1, x.ndim do
        local p = per[d][pidx[d]]
        one[d] = 1
        if p[1] == "const" then const = true; shape[d] = p[2]; src[d] = idx[d]; st[d] = 0; sp[d] = 0
        elseif p[1] == "take" then
          src[d] = p[2]; st[d] = 0; sp[d] = x.chunks[d][p[2]]; shape[d] = #p[3]
          takes[#takes + 1] = {d, p[3]}
        else src[d] = p[2]; st[d] = p[3]; sp[d] = p[4]; shape[d] = p[4] - p[3] end
      end
      local t
      if const then
        t = core.task(pkey, "nd.full", x.dtype, C.intlist(shape), boundary)
      else
        t = core.task(pkey, "nd.slice", C.block(x, src), list(st), list(sp), list(one))
        for k, tk in ipairs(takes) do
          t = core.task(pkey .. "-t" .. k, "nd.take", t, list(tk[2]), tk[1] - 1)
        end
      end
      pieces[#pieces + 1] = t
    end)
    return core.task(key, "nd.block", list(pieces), list(grid))
  end)
  local mopts = {dtype = opts.dtype, block_info = opts.block_info}
  local mapped = M.map_blocks(fn, over, mopts)
  if opts.trim == false then return mapped end
  local tname = C.tokenize_name("trim", mapped.name, core.encode(depth))
  return C.from_blocks(tname, x.chunks, mapped.dtype, function(idx, key)
    local st, sp, one = {}, {}, {}
    for d = 1, x.ndim do
      st[d] = ext[d][idx[d]][1]
      sp[d] = st[d] + x.chunks[d][idx[d]]
      one[d] = 1
    end
    return core.task(key, "nd.slice", C.block(mapped, idx), list(st), list(sp), list(one))
  end)
end

return M
