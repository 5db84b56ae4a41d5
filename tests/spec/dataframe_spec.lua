-- lask.dataframe: local frames and lazy DataFrames, checked against values
-- computed by hand (or by plain Lua loops over the same rows).
local dd = require "lask.dataframe"
local lask = require "lask"

local function err_of(fn)
  local ok, e = pcall(fn)
  assert.is_false(ok, "expected an error")
  return tostring(e)
end

-- 40 deterministic rows, as columns and as a lazy frame of 4 partitions
local N = 40
local cols = {k = {}, x = {}, s = {}, y = {}}
for i = 1, N do
  cols.k[i] = i % 5
  cols.x[i] = (i * 37 % 100) / 100
  cols.s[i] = ({"alpha", "beta", "gamma"})[i % 3 + 1]
  cols.y[i] = i % 7 == 0 and nil or i * 1.5
end
local base = dd.frame(cols)
local df = dd.from_frame(base, {npartitions = 4})

describe("local frames", function()
  it("are built from tables and give columns, rows and values back", function()
    local f = dd.frame{x = {1, 2, 3}, s = {"a", "b", nil}}
    assert.equal(3, f:nrows())
    assert.same({"s", "x"}, f:columns())
    assert.same({1, 2, 3}, f.x:values())
    assert.same({1, 2, 3}, f["x"]:values())
    assert.same({s = {"a", "b"}, x = {1, 2, 3}}, f:totable())
    assert.same({{s = "a", x = 1}, {s = "b", x = 2}, {x = 3}}, f:rows())
    local r = dd.frame({{a = 1, b = "u"}, {a = 2, b = "v"}})
    assert.same({1, 2}, r.a:values())
    assert.equal(3, #f)
  end)

  it("print as an aligned table with head and tail when long", function()
    local f = dd.frame{n = {1, 22, 333}, s = {"a", "bb", nil}}
    assert.equal("    n s\n1   1 a\n2  22 bb\n3 333 <NA>\n[3 rows x 2 columns]", tostring(f))
    local long = {}
    for i = 1, 100 do long[i] = i end
    local t = tostring(dd.frame{v = long})
    assert.truthy(t:find("...", 1, true))
    assert.truthy(t:find("100", 1, true))
    assert.truthy(t:find("[100 rows x 1 columns]", 1, true))
  end)

  it("compute arithmetic, comparisons and masks at once", function()
    local f = dd.frame{a = {1, 2, 3, 4}, b = {0.5, 1.5, nil, 3.5}}
    assert.same({1.5, 3.5, nil, 7.5}, (f.a + f.b):values())
    assert.same({2, 4, 6, 8}, (f.a * 2):values())
    assert.same({9, 8, 7, 6}, (10 - f.a):values())
    assert.same({false, true, false, true}, (f.a % 2):eq(0):values())
    local m = f.a:gt(1) & ~f.b:isna()
    assert.same({2, 4}, f[m].a:values())
    assert.same({1, 3}, f[f.a:lt(2) | f.a:eq(3)].a:values())
    assert.same({true, true, false, false}, f.a:between(1, 2):values())
    assert.same({false, true, false, true}, f.a:isin({2, 4}):values())
    assert.same({0.5, 1.5, 0, 3.5}, f.b:fillna(0):values())
    assert.same({1, 2, 2, 2}, f.a:clip(1, 2):values())
    assert.same({"1", "2", "3", "4"}, f.a:astype("string"):values())
    assert.equal(3, f:dropna():nrows())
    assert.same({-1, -2, -3, -4}, (-f.a):values())
  end)

  it("has string and date methods", function()
    local f = dd.frame{s = {"Hello", "wörld", "a-b-c"}}
    assert.same({5, 5, 5}, f.s:str_len():values())
    assert.same({"HELLO", "WöRLD", "A-B-C"}, f.s:str_upper():values())
    assert.same({true, false, false}, f.s:str_contains("ell"):values())
    assert.same({"el", "ör", "-b"}, f.s:str_slice(2, 3):values())
    assert.same({nil, nil, "b"}, {nil, nil, f.s:str_split("-", 2)[3]})
    local t = dd.frame{t = {"2024-02-29T13:00:00", "1999-12-31"}}.t:astype("timestamp")
    assert.same({2024, 1999}, t:dt_year():values())
    assert.same({2, 12}, t:dt_month():values())
    assert.same({29, 31}, t:dt_day():values())
    assert.same({13, 0}, t:dt_hour():values())
  end)

  it("aggregate and group at once", function()
    local f = dd.frame{k = {"a", "b", "a", "b", "a"}, v = {1, 2, 3, nil, 5}}
    assert.equal(11, f.v:sum())
    assert.equal(11 / 4, f.v:mean())
    assert.equal(4, f.v:count())
    assert.equal(5, f.v:max())
    assert.equal(2, f.k:nunique())
    local g = f:groupby("k"):agg{v = {"sum", "count"}, n = {"v", "size"}}
    assert.same({"a", "b"}, g.k:values())
    assert.same({9, 2}, g.v_sum:values())
    assert.same({3, 1}, g.v_count:values())
    assert.same({3, 2}, g.n:values())
    local a = f:groupby("k"):apply(function(part) return {total = part.v:sum()} end)
    assert.same({9, 2}, a.total:values())
    local t = f:groupby("k"):transform(function(c) return c - c:mean() end)
    assert.same({-2.0, 0.0, 0.0, nil, 2.0}, t.v:values())
    local vc = dd.frame{c = {"x", "y", "x", "x"}}.c:value_counts()
    assert.same({"x", "y"}, vc.c:values())
    assert.same({3, 1}, vc:column("count"):values())  -- vc.count is the method
  end)

  it("run the query language", function()
    local f = dd.frame{x = {0.2, 0.7, 0.9}, cat = {"a", "b", "a"}, n = {1, 2, 3}}
    assert.same({3}, f:query("x > 0.5 and cat == 'a'").n:values())
    assert.same({1, 3}, f:query("n in {1, 3}").n:values())
    assert.same({2}, f:query("not (n < 2) and (n * 2 + 1) <= @lim", {lim = 5}).n:values())
    assert.same({1, 2}, f:query("cat ~= 'a' or -n > -2").n:values())
  end)
end)

describe("lazy DataFrames", function()
  it("print their structure without computing", function()
    local s = tostring(df)
    assert.truthy(s:find("lask.DataFrame<npartitions=4>", 1, true))
    assert.truthy(s:find("x%s+float64"))
    assert.equal(4, df.npartitions)
    assert.is_false(df.known_divisions)
  end)

  it("compute to a local frame through the collection protocol", function()
    local f = df:compute()
    assert.same(base.k:values(), f.k:values())
    local a, b = lask.compute(df.x:sum(), df.k:max())
    local sum = 0
    for i = 1, N do sum = sum + cols.x[i] end
    assert.near(sum, a, 1e-9)
    assert.equal(4, b)
    local p = df:persist()
    assert.same(f.x:values(), p:compute().x:values())
  end)

  it("filter, select, assign, drop and rename", function()
    local r = df[df.x:gt(0.5)]:compute()
    local want = {}
    for i = 1, N do if cols.x[i] > 0.5 then want[#want + 1] = cols.x[i] end end
    assert.same(want, r.x:values())
    local q = df:query("x > 0.5 and s == 'beta'"):assign{z = df.x * 2 + df.k, one = 1}
    local got = q:compute()
    local wz = {}
    for i = 1, N do
      if cols.x[i] > 0.5 and cols.s[i] == "beta" then wz[#wz + 1] = cols.x[i] * 2 + cols.k[i] end
    end
    assert.same(wz, got.z:values())
    assert.equal(#wz, got.one:sum())
    local d = df:drop("y"):rename({x = "xx"})
    assert.same({"k", "s", "xx"}, d.columns)
    assert.same(base.x:values(), d:compute().xx:values())
    assert.same({"k", "x"}, df[{"k", "x"}].columns)
  end)

  it("head computes only the partitions it needs; tail from the end", function()
    local calls = 0
    local counted = df:map_partitions(function(p) return p end)
    assert.same({1, 2, 3}, {df:head(3).k[1], df:head(3).k[2], df:head(3).k[3]})
    assert.equal(3, df:head(3):nrows())
    assert.same(base:tail(2).x:values(), df:tail(2).x:values())
    assert.equal(0, calls)
    assert.equal(12, counted:head(12):nrows())
  end)

  it("aggregate whole columns with a tree reduction", function()
    local s, c, mx, mn, nu = 0, 0, -math.huge, math.huge, {}
    for i = 1, N do
      local y = cols.y[i]
      if y then s = s + y; c = c + 1; mx = math.max(mx, y); mn = math.min(mn, y) end
      nu[cols.s[i]] = true
    end
    assert.near(s, df.y:sum():compute(), 1e-9)
    assert.near(s / c, df.y:mean():compute(), 1e-9)
    assert.equal(c, df.y:count():compute())
    assert.equal(mx, df.y:max():compute())
    assert.equal(mn, df.y:min():compute())
    assert.equal(3, df.s:nunique():compute())
    assert.equal(N, df:size():compute())
    local sums = df:sum():compute()
    assert.near(s, sums.y, 1e-9)
    assert.is_nil(sums.s)
    assert.equal(N, #df)
  end)

  it("describe and value_counts", function()
    local d = df:describe():compute()
    assert.same({"count", "mean", "std", "min", "25%", "50%", "75%", "max"}, d.stat:values())
    assert.equal(N + 0.0, d.k[1])
    assert.equal(0.0, d.k[4])
    assert.equal(4.0, d.k[8])
    local vc = df.s:value_counts():compute()
    local n = {}
    for i = 1, N do n[cols.s[i]] = (n[cols.s[i]] or 0) + 1 end
    for i, v in ipairs(vc.s:values()) do assert.equal(n[v], vc:column("count")[i]) end
  end)

  it("group and aggregate, with named aggregations and split_out", function()
    local want = {}
    for i = 1, N do
      local k = cols.k[i]
      want[k] = want[k] or {sum = 0, n = 0, size = 0, max = -math.huge}
      want[k].size = want[k].size + 1
      if cols.y[i] then
        want[k].sum = want[k].sum + cols.y[i]; want[k].n = want[k].n + 1
        want[k].max = math.max(want[k].max, cols.y[i])
      end
    end
    local g = df:groupby("k"):agg({y = {"mean", "count"}, top = {"y", "max"}}, {split_every = 2}):compute()
    assert.same({0, 1, 2, 3, 4}, g.k:values())
    for i, k in ipairs(g.k:values()) do
      assert.near(want[k].sum / want[k].n, g.y_mean[i], 1e-9)
      assert.equal(want[k].n, g.y_count[i])
      assert.equal(want[k].max, g.top[i])
    end
    local so = df:groupby("k"):agg({y = "sum"}, {split_out = 3})
    assert.equal(3, so.npartitions)
    local r = so:compute():sort_values("k")
    for i, k in ipairs(r.k:values()) do assert.near(want[k].sum, r.y[i], 1e-9) end
    local sz = df:groupby({"k", "s"}):size():compute()
    assert.equal(N, sz:column("size"):sum())
    local std = df:groupby("k").y:std():compute()
    local lstd = base:groupby("k").y:std()
    for i = 1, 5 do assert.near(lstd.y[i], std.y[i], 1e-9) end
  end)

  it("numbers groups of int keys alike in narrow and wide ranges", function()
    -- narrow ranges (negative keys included) take a direct map, wide ones
    -- the hash table: the same groups (sorted by key)
    for _, scale in ipairs{1, 1000003} do
      local k, v = {}, {}
      for i = 1, 500 do k[i] = ((i * 37) % 23 - 11) * scale; v[i] = i end
      local g = dd.frame{k = k, v = v}:groupby("k"):agg{v = {"sum", "size"}}
      local order, sum, size = {}, {}, {}
      for i = 1, 500 do
        if not sum[k[i]] then order[#order + 1] = k[i]; sum[k[i]] = 0; size[k[i]] = 0 end
        sum[k[i]] = sum[k[i]] + v[i]; size[k[i]] = size[k[i]] + 1
      end
      table.sort(order)
      assert.same(order, g.k:values())
      for i, key in ipairs(order) do
        assert.equal(sum[key], g.v_sum[i])
        assert.equal(size[key], g.v_size[i])
      end
    end
  end)

  it("from_tasks takes the index column", function()
    local core = require "lask.core"
    local parts = {dd.frame{a = {1, 2}, b = {5, 6}}, dd.frame{a = {3, 4}, b = {7, 8}}}
    local tasks = {core.value("ft-index-1", parts[1]), core.value("ft-index-2", parts[2])}
    local df = dd.from_tasks(tasks, parts[1]:head(0), {1, 3, 4}, "a")
    assert.equal("a", df.index)
    assert.same({7, 8}, df:loc(3, 4):compute().b:values())
    assert.is_nil(dd.from_tasks(tasks, parts[1]:head(0)).index)
    assert.truthy(err_of(function() dd.from_tasks(tasks, parts[1]:head(0), nil, "zz") end):find("index names no column"))
  end)

  it("group apply and transform (the slow path)", function()
    local a = df:groupby("k"):apply(function(p) return {n = p:nrows()} end, {meta = {k = "int64", n = "int64"}})
    local r = a:compute():sort_values("k")
    assert.same({8, 8, 8, 8, 8}, r.n:values())
    local t = df:groupby("k").x:transform(function(c) return c - c:mean() end,
      {meta = base:head(0)}):compute()
    assert.equal(N, t:nrows())
    assert.near(0, t.x:sum(), 1e-9)
  end)

  it("merge with broadcast and with a hash shuffle, every how", function()
    local right = dd.frame{k = {0, 1, 2, 9}, name = {"zero", "one", "two", "nine"}}
    local inner = df:merge(right, {on = "k"}):compute()
    local n = 0
    for i = 1, N do if cols.k[i] <= 2 then n = n + 1 end end
    assert.equal(n, inner:nrows())
    local left = df:merge(dd.from_frame(right), {on = "k", how = "left"}):compute()
    assert.equal(N, left:nrows())
    local rshuf = dd.from_frame(right, {npartitions = 2})
    for how, rows in pairs {inner = n, left = N, right = n + 1, outer = N + 1} do
      local m = df:merge(rshuf, {on = "k", how = how}):compute()
      assert.equal(rows, m:nrows(), how)
    end
    local outer = df:merge(rshuf, {on = "k", how = "outer"}):compute()
    assert.equal(1, outer:query("k == 9"):nrows())
    local both = df:merge(df, {on = "k", suffixes = {"_l", "_r"}})
    assert.truthy(both._node.colset.x_l and both._node.colset.x_r)
  end)

  it("set_index computes divisions; loc and sort_values use them", function()
    local s = df:set_index("x", {npartitions = 3})
    assert.is_true(s.known_divisions)
    local d = s.divisions
    assert.equal(s.npartitions + 1, #d)
    for i = 2, #d do assert.is_true(d[i] >= d[i - 1]) end
    local all = s:compute().x:values()
    for i = 2, #all do assert.is_true(all[i] >= all[i - 1]) end
    local l = s:loc(0.2, 0.4):compute().x:values()
    local want = 0
    for i = 1, N do if cols.x[i] >= 0.2 and cols.x[i] <= 0.4 then want = want + 1 end end
    assert.equal(want, #l)
    local desc = df:sort_values("x", {ascending = false}):compute().x:values()
    for i = 2, #desc do assert.is_true(desc[i] <= desc[i - 1]) end
    assert.equal(N, #desc)
  end)

  it("shuffle and repartition keep every row", function()
    local sh = df:shuffle("s", {npartitions = 3})
    assert.equal(3, sh.npartitions)
    local parts = sh:to_delayed()
    for _, p in ipairs(parts) do
      local f = p:compute()
      assert.is_true(f.s:nunique() <= 3)
    end
    assert.equal(N, sh:compute():nrows())
    local r = df:repartition{npartitions = 2}
    assert.equal(2, r.npartitions)
    assert.same(base.x:values(), r:compute().x:values())
    local r7 = df:repartition{npartitions = 7}
    assert.equal(7, r7.npartitions)
    assert.same(base.x:values(), r7:compute().x:values())
  end)

  it("map_partitions with a Lua function, apply per row, delayed round trip", function()
    local m = df:map_partitions(function(p, k) return p:filter(p.k:eq(k)) end, 2)
    assert.same({2, 2, 2, 2, 2, 2, 2, 2}, m:compute().k:values())
    local nat = df:map_partitions("identity", {meta = base:head(0)})   -- a native kernel
    assert.same(base.x:values(), nat:compute().x:values())
    assert.equal(dd, lask.dataframe)
    local ap = df:apply(function(row) return row.k * 10 end, {axis = "rows", name = "k10", dtype = "int64"})
    assert.equal(N, #ap:compute().k10:values())
    assert.equal(cols.k[3] * 10, ap:compute().k10[3])
    local ds = df:to_delayed()
    assert.equal(4, #ds)
    local back = dd.from_delayed(ds, {meta = base:head(0)})
    assert.same(base.x:values(), back:compute().x:values())
    local t = dd.from_table({a = {1, 2, 3}}, {npartitions = 2})
    assert.equal(6, t.a:sum():compute())
    local da = require "lask.array"
    local arr = da.from_table({{1, 2}, {3, 4}, {5, 6}}, {chunks = {2, 1}})
    local fa = dd.from_array(arr, {columns = {"a", "b"}})
    assert.equal(2, fa.npartitions)
    local got = fa:compute()
    assert.same({1.0, 3.0, 5.0}, got.a:values())
    assert.same({2.0, 4.0, 6.0}, got.b:values())
    local tk = dd.from_tasks(df:__lask_tasks(), base:head(0))
    assert.equal(N, tk:compute():nrows())
  end)

  it("report bad columns, types, queries and merges at once", function()
    local e = err_of(function() return df.nope end)
    assert.truthy(e:find("no column or method 'nope' (columns: k, s, x, y)", 1, true), e)
    e = err_of(function() return df.s:gt(1) end)
    assert.truthy(e:find("cannot compare a string column with a int64 value", 1, true), e)
    e = err_of(function() return df.s + df.x end)
    assert.truthy(e:find("cannot apply '+' to string and float64", 1, true), e)
    e = err_of(function() return df:query("x > > 1") end)
    assert.truthy(e:find("position 5", 1, true), e)
    assert.truthy(e:find("    ^", 1, true), e)
    e = err_of(function() return df:query("zz > 1") end)
    assert.truthy(e:find("no column 'zz'", 1, true), e)
    e = err_of(function() return df:merge(dd.frame{k = {"a"}}, {on = "k"}) end)
    assert.truthy(e:find("key 'k' is int64 on the left but 'k' is string on the right", 1, true), e)
    e = err_of(function() return df:groupby("zz") end)
    assert.truthy(e:find("no column 'zz'", 1, true), e)
    e = err_of(function() return df:groupby("k"):agg{x = "median"} end)
    assert.truthy(e:find("unknown aggregation 'median'", 1, true), e)
    -- (a callback without globals: busted's environment is not shippable)
    e = err_of(function() df:map_partitions(function() local t; return t.boom end, {meta = base:head(0)}):compute() end)
    assert.truthy(e:find("map_partitions", 1, true) and e:find("attempt to index a nil value", 1, true), e)
  end)
end)
