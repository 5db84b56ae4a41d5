-- lask.array.reduce: reductions as trees of partial results, and
-- cumulative sums/products.
--
-- Every block is reduced to a partial (keepdims, so partials stay aligned),
-- the partials of one output block are merged split_every at a time until
-- one is left, and a last step turns it into the result. Mean/var/std
-- carry (count, mean, M2) partials merged by Chan's formula, so the
-- variance stays exact whatever the tree; argmin/argmax carry (value,
-- global index) pairs.
local core = require "lask.core"
local C = require "lask.array.core"

local methods, nd, list = C.methods, C.nd, core.list

local function parse(x, opts, what, level)
  level = level + 1
  local axes, keepdims, ddof, split_every = nil, false, 0, 8
  if type(opts) == "number" then opts = {axis = opts} end
  if opts ~= nil and type(opts) ~= "table" then
    error(("%s: options must be a table or an axis number, got %s"):format(what, type(opts)), level)
  end
  opts = opts or {}
  if opts.axis ~= nil then
    local ax = type(opts.axis) == "table" and opts.axis or {opts.axis}
    axes = {}
    for _, a in ipairs(ax) do
      local d = C.axis(a, x.ndim, what, level)
      if axes[d] then error(("%s: axis %d given twice"):format(what, d), level) end
      axes[d] = true
    end
  end
  keepdims = opts.keepdims and true or false
  ddof = opts.ddof or 0
  split_every = opts.split_every or split_every
  if math.type(split_every) ~= "integer" or split_every < 2 then
    error(what .. ": split_every must be an integer >= 2", level)
  end
  local red = {}
  for d = 1, x.ndim do red[d] = axes == nil or axes[d] or false end
  return red, keepdims, ddof, split_every
end

-- merge a list of tasks into one by a tree of combine(keyprefix, group)
local function tree(tasks, split_every, name, combine)
  local level = 0
  while #tasks > 1 do
    level = level + 1
    local nxt = {}
    for i = 1, #tasks, split_every do
      local g = table.move(tasks, i, math.min(i + split_every - 1, #tasks), 1, {})
      nxt[#nxt + 1] = #g == 1 and g[1] or combine(("%s-L%d-%d"):format(name, level, #nxt + 1), g)
    end
    tasks = nxt
  end
  return tasks[1]
end

-- the generic reduction driver: partial(key, block, idx) -> task,
-- combine(key, tasks) -> task, finish(key, task, outshape) -> task
local function reduction(x, red, keepdims, split_every, name, dtype, partial, combine, finish)
  local outchunks, keptdims = {}, {}
  for d = 1, x.ndim do
    if red[d] then
      if keepdims then outchunks[#outchunks + 1] = {1} end
    else
      outchunks[#outchunks + 1] = x.chunks[d]
      keptdims[#keptdims + 1] = d
    end
  end
  -- group the input blocks by their output block
  local groups, order = {}, {}
  C.each_block(x.numblocks, function(idx, flat)
    local okey = {}
    for _, d in ipairs(keptdims) do okey[#okey + 1] = idx[d] end
    local k = table.concat(okey, ",")
    if not groups[k] then groups[k] = {}; order[#order + 1] = k end
    local g = groups[k]
    g[#g + 1] = partial(C.bkey(name .. "-p", idx), x.blocks[flat], idx)
  end)
  local function build(oidx, key, bshape)
    local kept = {}
    local j = 0
    for d = 1, x.ndim do
      if not red[d] then j = j + 1; kept[#kept + 1] = oidx[keepdims and d or j] end
    end
    local g = groups[table.concat(kept, ",")]
    local t = tree(g, split_every, key, combine)
    return finish(key, t, bshape)
  end
  return C.from_blocks(name, outchunks, dtype, function(oidx, key, bshape)
    return build(oidx, key, bshape)
  end)
end

local function redlist(red)
  local t = {}
  for d, r in ipairs(red) do if r then t[#t + 1] = d - 1 end end
  return list(t)
end

local function reshape_to(key, t, bshape)
  return core.task(key, "nd.reshape", t, C.intlist(bshape))
end

local simple = {sum = true, prod = true, min = true, max = true, any = true, all = true}

local function make(op)
  return function(x, opts)
    local red, keepdims, ddof, split_every = parse(x, opts, op, 2)
    local axl = redlist(red)
    local rednum = 0
    for _, r in ipairs(red) do if r then rednum = rednum + 1 end end
    local flags = {}
    for d, r in ipairs(red) do flags[d] = r and "1" or "0" end
    local name = C.tokenize_name(op, x.name, table.concat(flags), keepdims, ddof, split_every)
    -- sum/mean of a binary elementwise result: one fused task per block
    local fuse
    if (op == "sum" or op == "mean") and x._ew then
      fuse = x._ew
      for _, a in ipairs(fuse.args) do
        if C.is_array(a) and C.shape_str(a.shape) ~= C.shape_str(x.shape) then fuse = nil; break end
      end
    end
    local function sum_partial(key, b, idx)
      if not fuse then return core.task(key, "nd.sum", b, axl, true) end
      local ops = {}
      for i, a in ipairs(fuse.args) do ops[i] = C.is_array(a) and C.block(a, idx) or a end
      return core.task(key, "nd.sum_binary", fuse.op, ops[1], ops[2], axl, true)
    end
    if op == "mean" and not fuse then
      for _, c in ipairs(x.chunks) do for _, v in ipairs(c) do if C.isnan(v) then fuse = false end end end
    end
    if op == "mean" and fuse ~= false then
      -- sum partials, divided by the count at the end
      local count = 1
      for d, r in ipairs(red) do if r then count = count * x.shape[d] end end
      local dtype = x.dtype == "float32" and "float32" or "float64"
      return reduction(x, red, keepdims, split_every, name, dtype, sum_partial,
        function(key, g) return core.task(key, "nd.combine", "sum", list(g)) end,
        function(key, t, bshape)
          local q = core.task(key .. "-q", "nd.div", t, count + 0.0)
          if dtype == "float32" then q = core.task(key .. "-c", "nd.astype", q, "float32") end
          return reshape_to(key, q, bshape)
        end)
    end
    if op == "sum" and fuse then
      local dtype = nd.zeros({1}, x.dtype):sum{axis = 1, keepdims = true}.dtype
      return reduction(x, red, keepdims, split_every, name, dtype, sum_partial,
        function(key, g) return core.task(key, "nd.combine", "sum", list(g)) end,
        function(key, t, bshape)
          if keepdims then return t end
          return reshape_to(key, t, bshape)
        end)
    end
    if simple[op] then
      local dtype = nd.zeros({1}, x.dtype)[op](nd.zeros({1}, x.dtype), {axis = 1, keepdims = true}).dtype
      if (op == "min" or op == "max") then
        for d, r in ipairs(red) do
          if r and x.shape[d] == 0 then
            error(("%s of an empty array (axis %d has length 0) has no identity"):format(op, d), 2)
          end
        end
      end
      return reduction(x, red, keepdims, split_every, name, dtype,
        function(key, b) return core.task(key, "nd." .. op, b, axl, true) end,
        function(key, g) return core.task(key, "nd.combine", op, list(g)) end,
        function(key, t, bshape)
          if keepdims then return t end
          return reshape_to(key, t, bshape)
        end)
    elseif op == "mean" or op == "var" or op == "std" then
      local dtype = x.dtype == "float32" and "float32" or "float64"
      local what = op == "mean" and 0 or op == "var" and 1 or 2
      return reduction(x, red, keepdims, split_every, name, dtype,
        function(key, b) return core.task(key, "nd.moments", b, axl, true) end,
        function(key, g) return core.task(key, "nd.combine", "moments", list(g)) end,
        function(key, t, bshape)
          local f = core.task(key .. "-f", "nd.moments_finish", t, what, ddof, dtype)
          return reshape_to(key, f, bshape)
        end)
    else -- argmin / argmax
      if rednum ~= 1 and rednum ~= x.ndim then
        error(("%s: takes one axis or all of them"):format(op), 2)
      end
      C.known(x, op, 2)
      for d, r in ipairs(red) do
        if r and x.shape[d] == 0 then error(("%s of an empty array (axis %d has length 0)"):format(op, d), 2) end
      end
      local axis = -1
      if rednum == 1 and x.ndim > 1 or (opts ~= nil and rednum == 1 and x.ndim == 1 and false) then
        for d, r in ipairs(red) do if r then axis = d - 1 end end
      end
      local offs = {}
      for d = 1, x.ndim do offs[d] = C.offsets(x.chunks[d]) end
      return reduction(x, red, keepdims, split_every, name, "int64",
        function(key, b, idx)
          local st = {}
          for d = 1, x.ndim do st[d] = offs[d][idx[d]] end
          return core.task(key, "nd.arg_partial", op, b, axis, list(st), C.intlist(x.shape))
        end,
        function(key, g) return core.task(key, "nd.combine", op, list(g)) end,
        function(key, t, bshape)
          local f = core.task(key .. "-f", "nd.arg_finish", t)
          return reshape_to(key, core.task(key .. "-1", "nd.add", f, 1), bshape)   -- 1-based
        end)
    end
  end
end

for _, op in ipairs{"sum", "prod", "min", "max", "any", "all", "mean", "var", "std", "argmin", "argmax"} do
  methods[op] = make(op)
end

-- cumsum/cumprod along axis: each block on its own, then the running totals
-- of the blocks before it added (multiplied) in.
local function cumulative(op)
  local comb = op == "sum" and "nd.add" or "nd.mul"
  return function(x, axis)
    local what = "cum" .. op
    if axis == nil then
      if x.ndim ~= 1 then x = x:reshape{-1} end
      axis = 1
    end
    local ax = C.axis(axis, x.ndim, what, 2)
    local dtype = nd.ones({1}, x.dtype)["cum" .. op](nd.ones({1}, x.dtype), 1).dtype
    local name = C.tokenize_name(what, x.name, ax)
    local carry = {}
    local axl = list{ax - 1}
    -- totals of every block, keyed by flat index
    local out = C.from_blocks(name, x.chunks, dtype, function(idx, key, _, flat)
      local b = x.blocks[flat]
      local cum = core.task(key .. "-c", "nd.cumulative", op, b, ax - 1)
      if idx[ax] == 1 then
        return cum
      end
      local prev = {}
      for d = 1, x.ndim do prev[d] = idx[d] end
      prev[ax] = idx[ax] - 1
      local pk = table.concat(prev, ",")
      local pb = C.block(x, prev)
      local ptotal = core.task(C.bkey(name .. "-t", prev), "nd." .. op, pb, axl, true)
      local c = carry[pk] and core.task(C.bkey(name .. "-r", prev), comb, carry[pk], ptotal) or ptotal
      carry[table.concat(idx, ",")] = c
      return core.task(key, comb, cum, c)
    end)
    return out
  end
end
methods.cumsum = cumulative("sum")
methods.cumprod = cumulative("prod")

return {}
