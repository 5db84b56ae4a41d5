-- lask.array and the local arrays of lask.core.ndarray: every result is
-- checked against a direct computation in plain Lua.
local lask = require "lask"
local da = require "lask.array"
local nd = require "lask.core.ndarray"

-- plain Lua helpers ---------------------------------------------------------
local function grid(r, c, f)
  local t = {}
  for i = 1, r do
    t[i] = {}
    for j = 1, c do t[i][j] = f(i, j) end
  end
  return t
end

local function close(a, b, tol)
  tol = tol or 1e-9
  return math.abs(a - b) <= tol * math.max(1, math.abs(a), math.abs(b))
end

local function assert_table_close(want, got, tol)
  assert.equal(type(want), type(got))
  if type(want) ~= "table" then
    assert.is_true(close(want, got, tol), ("want %s, got %s"):format(tostring(want), tostring(got)))
    return
  end
  assert.equal(#want, #got)
  for i = 1, #want do assert_table_close(want[i], got[i], tol) end
end

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(e)
end

local A = grid(7, 9, function(i, j) return (i * 3 - j * 2) * 0.5 + i / j end)

describe("local arrays (lask.core.ndarray)", function()
  it("round-trips tables and reports shape and dtype", function()
    local a = nd.from_table(A)
    assert.same({7, 9}, a.shape)
    assert.equal("float64", a.dtype)
    assert.equal(2, a.ndim)
    assert_table_close(A, a:totable())
    assert.equal("int64", nd.from_table{1, 2, 3}.dtype)
    assert.equal("bool", nd.from_table{true, false}.dtype)
  end)

  it("does arithmetic with broadcasting and NumPy promotion", function()
    local a = nd.from_table(A)
    local row = nd.from_table{1, 2, 3, 4, 5, 6, 7, 8, 9}
    local got = ((a + row) * 2 - 1):totable()
    assert_table_close(grid(7, 9, function(i, j) return (A[i][j] + j) * 2 - 1 end), got)
    local i32 = nd.from_table({1, 2, 3}, "int32")
    assert.equal("int32", (i32 * 2).dtype)                 -- a Lua integer does not widen
    assert.equal("float64", (i32 * 0.5).dtype)
    assert.equal("float64", (i32 + nd.from_table({1, 2, 3}, "float32")).dtype)
    assert.equal("float32", (nd.from_table({1, 2}, "float32") + 1.5).dtype)
    assert.same({-4, 3}, (nd.from_table{-7, 7} // 2):totable())   -- floor division
    assert.same({1, -1}, (nd.from_table{-7, 7} % nd.from_table{2, -2}):totable())
  end)

  it("reduces like plain loops", function()
    local a = nd.from_table(A)
    local s, rows = 0, {}
    for i = 1, 7 do
      rows[i] = 0
      for j = 1, 9 do s = s + A[i][j]; rows[i] = rows[i] + A[i][j] end
    end
    assert.is_true(close(s, a:sum()))
    assert_table_close(rows, a:sum{axis = 2}:totable())
    assert_table_close(rows, a:sum(-1):totable())
    local mean = s / 63
    local m2 = 0
    for i = 1, 7 do for j = 1, 9 do m2 = m2 + (A[i][j] - mean) ^ 2 end end
    assert.is_true(close(m2 / 62, a:var{ddof = 1}))
    assert.is_true(close(math.sqrt(m2 / 63), a:std()))
    assert.same({1, 9}, a:max{axis = 1, keepdims = true}.shape)
    local mx, at = -math.huge, 0
    for i = 1, 7 do for j = 1, 9 do if A[i][j] > mx then mx, at = A[i][j], (i - 1) * 9 + j end end end
    assert.equal(at, a:argmax())
    assert.equal(mx, a:max())
  end)

  it("slices with inclusive ranges, steps and negative indices", function()
    local a = nd.from_table(A)
    local v = a[{{2, 6, 2}, {-1, 1, -3}}]
    assert.same({3, 3}, v.shape)
    assert.equal(A[2][9], v:get(1, 1))
    assert.equal(A[6][3], v:get(3, 3))
    assert.equal(A[4][6], v:get(2, 2))
    assert.same({9}, a[{3}].shape)                   -- an integer drops the axis
    assert.equal(A[7][9], a:get(-1, -1))
    assert.same({7, 1}, a[{{}, {4}}].shape)          -- {4} keeps the axis
  end)

  it("copies on write when an array is shared", function()
    local a = nd.from_table{{1, 2}, {3, 4}}
    local v = a[{{1, 1}, {}}]                        -- a view of a
    v:set(1, 1, 100)
    assert.equal(100, v:get(1, 1))
    assert.equal(1, a:get(1, 1))
    a:set(2, 2, 40)
    assert.equal(40, a:get(2, 2))
  end)

  it("assigns slices with broadcasting", function()
    local a = nd.zeros({3, 4})
    a[{{1, 2}, {}}] = 5
    a[{3, {2, 4, 2}}] = nd.from_table{7, 8}
    assert.same({{5, 5, 5, 5}, {5, 5, 5, 5}, {0, 7, 0, 8}}, a:totable())
    local t = a:T()
    t[{1}] = -1                                      -- t shares a's data: copied first
    assert.same({-1, -1, -1}, t[{1}]:totable())
    assert.equal(5, a:get(1, 1))
    assert.truthy(errmsg(function() a[{{}, {}}] = nd.ones({5}) end):find("(5,) and (3, 4)", 1, true))
  end)

  it("prints like NumPy and abbreviates large arrays", function()
    assert.equal("array([[1, 2],\n       [3, 4]])", tostring(nd.from_table{{1, 2}, {3, 4}}))
    assert.equal("array([1.5, 2. ], dtype=float32)", tostring(nd.from_table({1.5, 2}, "float32")))
    local big = tostring(nd.arange(5000))
    assert.truthy(big:find("...", 1, true))
    assert.is_true(#big < 200)
  end)

  it("gives a data pointer", function()
    local a = nd.zeros({3})
    local p, addr = a:data_ptr()
    assert.equal("userdata", type(p))
    assert.is_true(addr > 0)
  end)
end)

describe("lask.array", function()
  after_each(function() lask.config.reset() end)

  local X = da.from_table(A, {chunks = {3, 4}})

  it("keeps metadata without computing", function()
    assert.same({7, 9}, X.shape)
    assert.same({{3, 3, 1}, {4, 4, 1}}, X.chunks)
    assert.same({3, 3}, X.numblocks)
    assert.equal(7 * 9 * 8, X.nbytes)
    assert.truthy(tostring(X):find("shape=(7, 9)", 1, true))
    assert.truthy(tostring(X):find("chunksize=(3, 4)", 1, true))
  end)

  it("computes elementwise expressions across chunk grids", function()
    local row = da.from_table({1, 2, 3, 4, 5, 6, 7, 8, 9}, {chunks = 5})   -- other chunks: rechunked
    local y = (X * 2 + row):sqrt():compute()
    local want = grid(7, 9, function(i, j) return math.sqrt(A[i][j] * 2 + j) end)
    -- sqrt of negatives is NaN in both
    local got = y:totable()
    for i = 1, 7 do for j = 1, 9 do
      if want[i][j] ~= want[i][j] then assert.is_true(got[i][j] ~= got[i][j])
      else assert.is_true(close(want[i][j], got[i][j])) end
    end end
    local m = X:gt(1):compute():totable()
    assert.equal(A[3][2] > 1, m[3][2])
  end)

  it("runs the issue's example (small) and matches a direct sum", function()
    local x = da.random.random({60, 60}, {chunks = {20, 20}, seed = 42})
    local xl = x:compute()
    local y = (x + x:T()):mean{axis = 1}
    local direct = 0
    for i = 1, 60 do for j = 1, 60 do direct = direct + xl:get(i, j) + xl:get(j, i) end end
    assert.is_true(close(direct / 60, y:sum():compute()))
    assert.is_true(close(direct / 60, y:sum():compute{scheduler = "sync"}))
  end)

  it("is reproducible whatever the chunks and scheduler", function()
    local a = da.random.normal(0, 1, {30, 40}, {chunks = {7, 9}, seed = 5}):compute()
    local b = da.random.normal(0, 1, {30, 40}, {chunks = 40, seed = 5}):compute{scheduler = "sync"}
    assert.same(a:totable(), b:totable())
    local c = da.random.random({30, 40}, {seed = 6}):compute()
    assert.are_not.same(a:totable(), c:totable())
    local ri = da.random.randint(3, 7, {1000}, {chunks = 100, seed = 1}):compute()
    assert.is_true(ri:min() >= 3 and ri:max() <= 6)
  end)

  it("reduces over axes with trees and exact variance", function()
    local x = da.random.random({50, 40}, {chunks = {7, 6}, seed = 3})
    local l = x:compute()
    for _, op in ipairs{"sum", "mean", "min", "max", "prod", "var", "std"} do
      assert.is_true(close(l[op](l), x[op](x):compute(), 1e-9), op)
      assert_table_close(l[op](l, {axis = 1}):totable(), x[op](x, {axis = 1, split_every = 2}):compute():totable())
    end
    assert.is_true(close(l:var{ddof = 1}, x:var{ddof = 1}:compute()))
    assert.same(l:argmax(2):totable(), x:argmax{axis = 2}:compute():totable())
    assert.equal(l:argmin(), x:argmin():compute())
    assert.same({50, 1}, x:sum{axis = 2, keepdims = true}:compute().shape)
    local b = x:gt(0.5)
    assert.equal(l:gt(0.5):any(), b:any():compute())
    assert.equal(false, b:all():compute())
    assert_table_close(l:cumsum(1):totable(), x:cumsum(1):compute():totable())
    assert_table_close(l:cumprod(2):totable(), x:cumprod(2):compute():totable())
  end)

  it("slices lazily like the local array", function()
    local l = X:compute()
    for _, key in ipairs{{{2, 6}, {}}, {{-1, 1, -2}, {3, 9, 3}}, {4}, {{}, -2}, {{7, 1, -1}, {1}}} do
      assert.same(l[key]:totable(), X[key]:compute():totable())
    end
    assert.equal(A[5][6], X[{5, 6}]:compute())
  end)

  it("rechunks, transposes, reshapes and joins", function()
    local l = X:compute()
    assert.same(l:totable(), X:rechunk{2, 5}:compute():totable())
    assert.same(l:T():totable(), X:T():compute():totable())
    local r = X:reshape{63}
    assert.same(l:reshape(63):totable(), r:compute():totable())
    assert.same(l:reshape(9, 7):totable(), X:reshape{9, 7}:compute():totable())
    assert.same(l:reshape(3, 21):totable(), X:reshape{3, -1}:compute():totable())
    assert.same({1, 7, 9}, X:expand_dims(1):compute().shape)
    assert.same({7, 9}, X:expand_dims(1):squeeze():compute().shape)
    local c = da.concatenate({X, X}, 1):compute()
    assert.same({14, 9}, c.shape)
    assert.equal(A[2][3], c:get(9, 3))
    local s = da.stack({X, X + 1}, 1):compute()
    assert.same({2, 7, 9}, s.shape)
    assert.equal(A[2][3] + 1, s:get(2, 2, 3))
  end)

  it("takes and masks (unknown sizes until computed)", function()
    local l = X:compute()
    local t = X:take({9, 1, 2, 5}, 2):compute()
    assert.same({7, 4}, t.shape)
    assert.equal(A[3][9], t:get(3, 1))
    assert.equal(A[3][5], t:get(3, 4))
    local m = X[X:gt(0)]
    assert.is_true(m.shape[1] ~= m.shape[1])          -- NaN: unknown
    local want = {}
    for i = 1, 7 do for j = 1, 9 do if A[i][j] > 0 then want[#want + 1] = A[i][j] end end end
    assert_table_close(want, m:compute():totable())
    assert.same(l[l:gt(0)]:totable(), m:compute():totable())
    assert.truthy(errmsg(function() return m:reshape{2, -1} end):find("unknown", 1, true))
    local k = m:compute_chunk_sizes()
    assert.equal(#want, k.shape[1])
  end)

  it("multiplies matrices blockwise", function()
    local a = da.random.random({23, 17}, {chunks = {5, 6}, seed = 1})
    local b = da.random.random({17, 11}, {chunks = {4, 3}, seed = 2})   -- other k chunks
    local la, lb = a:compute(), b:compute()
    local c = a:matmul(b):compute()
    for _, ij in ipairs{{1, 1}, {23, 11}, {7, 5}} do
      local s = 0
      for k = 1, 17 do s = s + la:get(ij[1], k) * lb:get(k, ij[2]) end
      assert.is_true(close(s, c:get(ij[1], ij[2])))
    end
    assert_table_close(la:matmul(lb):totable(), c:totable())
    local v = da.from_table({1, 2, 3, 4, 5, 6, 7, 8, 9}, {chunks = 4})
    assert_table_close(nd.from_table(A):matmul(nd.from_table{1, 2, 3, 4, 5, 6, 7, 8, 9}):totable(),
      X:matmul(v):compute():totable())
    local o = da.outer(da.arange(3), da.arange(4)):compute()
    assert.equal(6, o:get(3, 4))
    assert_table_close(la:T():matmul(la):totable(), da.tensordot(a, a, {{1}, {1}}):compute():totable())
  end)

  it("maps Lua callbacks and kernels over blocks", function()
    local y = X:map_blocks(function(b) return b * 2 + 1 end)
    assert_table_close(grid(7, 9, function(i, j) return A[i][j] * 2 + 1 end), y:compute():totable())
    local z = da.map_blocks(function(a, b, k) return a - b * k end, X, X, 3)
    assert_table_close(grid(7, 9, function(i, j) return -2 * A[i][j] end), z:compute():totable())
    local info = X:map_blocks(function(b, bi)
      return b * 0 + bi.location[1][1] * 100 + bi.index[2]
    end, {block_info = true})
    local got = info:compute()
    assert.equal(4 * 100 + 1, got:get(5, 2))      -- row 5 is in the block starting at row 4
    assert.equal(1 * 100 + 3, got:get(1, 9))
    local sums = X:map_blocks(function(b) return b:sum{axis = 2, keepdims = true} end, {chunks = {{3, 3, 1}, {1, 1, 1}}})
    assert.same({7, 3}, sums:compute().shape)
    local native = X:map_blocks("nd.exp")
    assert.is_true(close(math.exp(A[2][2]), native:compute():get(2, 2)))
    local bw = da.blockwise(function(a, b) return a + b:T() end, "ij", X, "ij", X:T(), "ji")
    assert_table_close(grid(7, 9, function(i, j) return 2 * A[i][j] end), bw:compute():totable())
  end)

  it("computes stencils with map_overlap", function()
    local x = da.arange(20, {chunks = 6}):astype("float64")
    local y = x:map_overlap(function(b)
      local n = b.shape[1]
      local out = b:copy()
      for i = 2, n - 1 do out:set(i, (b:get(i - 1) + b:get(i + 1)) / 2) end
      return out
    end, {depth = 1, boundary = "periodic"})
    local got = y:compute()
    for i = 1, 20 do
      local l, r = (i - 2) % 20, i % 20
      assert.equal((l + r) / 2, got:get(i))
    end
  end)

  it("pads stencils with constants, nearest and reflected edges", function()
    local x = da.arange(10, {chunks = 4}):astype("float64")
    local function left_neighbour(b)      -- out[i] = b[i - 1] on the overlapped block
      local o = b:copy()
      for i = 2, b.shape[1] do o:set(i, b:get(i - 1)) end
      return o
    end
    local want = {
      [-1] = {-1, 0, 1, 2, 3, 4, 5, 6, 7, 8},
      nearest = {0, 0, 1, 2, 3, 4, 5, 6, 7, 8},
      reflect = {0, 0, 1, 2, 3, 4, 5, 6, 7, 8},
    }
    for boundary, w in pairs(want) do
      local got = x:map_overlap(left_neighbour, {depth = 1, boundary = boundary}):compute():totable()
      assert.same(w, got, tostring(boundary))
    end
    local e = errmsg(function() return x:map_overlap(left_neighbour, {depth = 5}) end)
    assert.truthy(e:find("depth 5 on axis 1", 1, true))
  end)

  it("drops and adds axes in map_blocks", function()
    local x = da.from_table(A, {chunks = {3, 4}})
    local rows = x:map_blocks(function(b) return b:sum{axis = 2} end, {drop_axis = 2})
    local want = {}
    for i = 1, 7 do want[i] = 0; for j = 1, 9 do want[i] = want[i] + A[i][j] end end
    assert_table_close(want, rows:compute():totable())
    local up = da.arange(6, {chunks = 2}):map_blocks(function(b) return b:expand_dims(1) end, {new_axis = 1})
    assert.same({1, 6}, up:compute().shape)
  end)

  it("reads and writes .npy files", function()
    local path = os.tmpname()
    X:to_npy(path)
    local back = da.from_npy(path, {chunks = {4, 5}})
    assert.same(X.shape, back.shape)
    assert.same(X:compute():totable(), back:compute():totable())
    assert.same(X:compute():totable(), nd.load_npy(path):totable())
    os.remove(path)
    local dir = os.tmpname()
    os.remove(dir)
    da.to_npy_stack(dir, X)
    assert.same(X:compute():totable(), da.from_npy_stack(dir):compute():totable())
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("creates arrays and mixes with Delayed", function()
    assert.same({0, 1, 2, 3, 4, 5, 6}, da.arange(7, {chunks = 3}):compute():totable())
    assert_table_close({0, 0.25, 0.5, 0.75, 1}, da.linspace(0, 1, 5, {chunks = 2}):compute():totable())
    local e = da.eye(5, {chunks = 2, k = 1}):compute()
    assert.equal(1, e:get(2, 3))
    assert.equal(0, e:get(3, 3))
    assert.equal(35, da.ones({5, 7}, {chunks = 2}):sum():compute())
    assert.equal("int32", da.full({3}, 7, {dtype = "int32"}):compute().dtype)
    local d = lask.delayed(function(n) return require("lask.core.ndarray").arange(n) end)(4)
    local fa = da.from_delayed(d, {4}, {dtype = "int64"})
    local s, v = lask.compute(fa:sum(), d)
    assert.equal(6, s)
    assert.same({0, 1, 2, 3}, v:totable())
    local blocks = X:to_delayed()
    assert.same({3, 4}, blocks[1][1]:compute().shape)
    local p = (X + 1):persist()
    assert.same((X + 1):compute():totable(), p:compute():totable())
  end)

  it("sizes chunks automatically from array.chunk_size", function()
    lask.config.set{["array.chunk_size"] = "80KiB"}
    local z = da.zeros({1000, 1000})
    local cs = z:chunksize()
    assert.is_true(cs[1] * cs[2] * 8 <= 80 * 1024)
    assert.is_true(cs[1] * cs[2] * 8 > 40 * 1024)
  end)
end)

describe("lask.array bad input", function()
  local X = da.ones({4, 6}, {chunks = 2})

  it("names shapes in broadcast errors", function()
    local e = errmsg(function() return X + da.ones({5}) end)
    assert.truthy(e:find("(4, 6)", 1, true) and e:find("(5,)", 1, true))
    e = errmsg(function() return nd.ones({4, 6}) + nd.ones({5}) end)
    assert.truthy(e:find("(4, 6)", 1, true) and e:find("(5,)", 1, true))
  end)

  it("rejects wrong dtypes", function()
    assert.truthy(errmsg(function() return X:astype("complex") end):find("unknown dtype 'complex'"))
    assert.truthy(errmsg(function() return da.zeros({2}, {dtype = "int8"}) end):find("int8"))
    assert.truthy(errmsg(function() return (X & X):compute() end):find("float64"))
    assert.truthy(errmsg(function() return X[X] end):find("bool"))
  end)

  it("rejects out-of-range indices and axes", function()
    assert.truthy(errmsg(function() return X[{5}] end):find("index 5 out of range for axis 1 of length 4"))
    assert.truthy(errmsg(function() return X[{{}, {2, 9}}] end):find("axis 2"))
    assert.truthy(errmsg(function() return X[{1, 1, 1}] end):find("too many indices"))
    assert.truthy(errmsg(function() return X:sum{axis = 3} end):find("axis 3 out of range for a 2%-d array"))
    assert.truthy(errmsg(function() return X:take({7}, 1) end):find("index 7 out of range"))
    assert.truthy(errmsg(function() return nd.ones({2, 2}):get(3, 1) end):find("index 3 out of range"))
    assert.truthy(errmsg(function() return nd.ones({2, 2}):sum(0) end):find("axis 0 out of range"))
  end)

  it("rejects non-conforming matmul", function()
    local e = errmsg(function() return X:matmul(X) end)
    assert.truthy(e:find("(4, 6) and (4, 6)", 1, true))
    e = errmsg(function() return nd.ones({4, 6}):matmul(nd.ones({4, 6})) end)
    assert.truthy(e:find("(4, 6) and (4, 6)", 1, true))
  end)

  it("refuses a reshape that needs a rechunk when told not to", function()
    local e = errmsg(function() return X:reshape({24}, {rechunk = false}) end)
    assert.truthy(e:find("needs a rechunk", 1, true) and e:find("(4, 6)", 1, true))
    assert.same({24}, X:reshape({24}).shape)
    assert.truthy(errmsg(function() return X:reshape{5, 5} end):find("cannot reshape array of shape (4, 6)", 1, true))
  end)

  it("reports callbacks returning the wrong shape or type", function()
    local e = errmsg(function() return X:map_blocks(function(b) return b[{{1}, {}}] end):compute() end)
    assert.truthy(e:find("returned shape (1, 2)", 1, true) and e:find("expected (2, 2)", 1, true))
    e = errmsg(function() return X:map_blocks(function() return "x" end):compute() end)
    assert.truthy(e:find("returned a string", 1, true))
    e = errmsg(function() return X:map_blocks(function(b) return b:astype("int32") end):compute() end)
    assert.truthy(e:find("dtype int32", 1, true))
    e = errmsg(function() return X:map_blocks(function() error("boom") end):compute() end)
    assert.truthy(e:find("boom", 1, true))
  end)

  it("rejects bad chunks and shapes", function()
    assert.truthy(errmsg(function() return da.ones({4}, {chunks = {{1, 2}}}) end):find("add up to 3"))
    assert.truthy(errmsg(function() return da.ones({-1}) end):find("non%-negative"))
    assert.truthy(errmsg(function() return nd.from_table{{1, 2}, {3}} end):find("ragged"))
    assert.truthy(errmsg(function() return da.concatenate({X, da.ones({4, 5})}, 1) end):find("axis 2 differs"))
  end)
end)
