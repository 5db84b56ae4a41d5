-- lask.array.linalg: matmul/dot, tensordot for the 2-d cases, outer.
--
-- C = A @ B is one task per output block (i, j): OpenBLAS multiplies every
-- pair A(i, k) B(k, j) into one accumulator (nd.matmul_sum), so no partial
-- products are stored. B's row chunks are aligned to A's column chunks.
local core = require "lask.core"
local C = require "lask.array.core"

local methods, nd, list = C.methods, C.nd, core.list
local M = {}

local function as_array(v, what)
  if nd.is(v) then return C.from_array(v, {chunks = -1}) end
  if not C.is_array(v) then error(("%s: expected an array, got %s"):format(what, type(v)), 3) end
  return v
end

function methods.matmul(a, b)
  b = as_array(b, "matmul")
  a = as_array(a, "matmul")
  local va, vb = a.ndim == 1, b.ndim == 1
  if a.ndim == 0 or b.ndim == 0 then error("matmul: operands must be 1-d or 2-d, not scalars", 2) end
  if va then a = a:expand_dims(1) end
  if vb then b = b:expand_dims(2) end
  if a.ndim ~= 2 or b.ndim ~= 2 then
    error(("matmul: operands must be 1-d or 2-d, got shapes %s and %s"):format(
      C.shape_str(a.shape), C.shape_str(b.shape)), 2)
  end
  if a.shape[2] ~= b.shape[1] then
    error(("matmul: shapes %s and %s are not aligned (%s columns vs %s rows)"):format(
      C.shape_str(a.shape), C.shape_str(b.shape), tostring(a.shape[2]), tostring(b.shape[1])), 2)
  end
  C.known(a, "matmul", 2)
  C.known(b, "matmul", 2)
  b = b:rechunk({a.chunks[2], b.chunks[2]})
  local dtype = C.meta(a.dtype):reshape(1, 1):matmul(C.meta(b.dtype):reshape(1, 1)).dtype
  local name = C.tokenize_name("matmul", a.name, b.name)
  local K = a.numblocks[2]
  local c = C.from_blocks(name, {a.chunks[1], b.chunks[2]}, dtype, function(idx, key)
    local as, bs = {}, {}
    for k = 1, K do
      as[k] = C.block(a, {idx[1], k})
      bs[k] = C.block(b, {k, idx[2]})
    end
    return core.task(key, "nd.matmul_sum", list(as), list(bs))
  end)
  if va and vb then return c:reshape({}) end
  if va then return c:squeeze(1) end
  if vb then return c:squeeze(2) end
  return c
end
methods.dot = methods.matmul
C.Array.__lask_matmul = methods.matmul

-- tensordot(a, b, axes): axes = 1 (the usual product), 0 (outer product of
-- 1-d arrays), or {{i}, {j}} naming one contracted axis of each 2-d array.
function M.tensordot(a, b, axes)
  a, b = as_array(a, "tensordot"), as_array(b, "tensordot")
  axes = axes or 1
  if axes == 0 then return M.outer(a, b) end
  if axes == 1 then return a:matmul(b) end
  if type(axes) ~= "table" or type(axes[1]) ~= "table" or type(axes[2]) ~= "table"
    or #axes[1] ~= 1 or #axes[2] ~= 1 or a.ndim ~= 2 or b.ndim ~= 2 then
    error("tensordot: supports axes = 0, 1 or {{i}, {j}} with 2-d arrays", 2)
  end
  local i = C.axis(axes[1][1], 2, "tensordot", 2)
  local j = C.axis(axes[2][1], 2, "tensordot", 2)
  if i == 1 then a = a:T() end
  if j == 2 then b = b:T() end
  return a:matmul(b)
end

function M.outer(a, b)
  a, b = as_array(a, "outer"):flatten(), as_array(b, "outer"):flatten()
  return a:expand_dims(2) * b:expand_dims(1)
end
methods.outer = M.outer

return M
