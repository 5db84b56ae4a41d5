-- parquet_spec.lua - read_parquet / to_parquet end to end: fixtures a real
-- writer made, pruning, hive partitions, round trips, bad input.
local core = require "lask.core"
local pq = require "lask.parquet"
local pqc = require "lask.core.parquet"

local function find_fixtures()
  local cands = {}
  if os.getenv("LASK_SHARED") then cands[#cands + 1] = os.getenv("LASK_SHARED") end
  cands[#cands + 1] = "../shared"
  cands[#cands + 1] = "../../shared"
  cands[#cands + 1] = "/work/shared"
  for _, c in ipairs(cands) do
    local d = c .. "/data/parquet"
    if pqc.stat(d .. "/expected.csv") == "file" then return d end
  end
end
local FIX = find_fixtures()

local function tmpdir(tag)
  local d = os.tmpname()
  os.remove(d)
  d = d .. "-" .. tag
  pqc.mkdirs(d)
  return d
end

local function rmtree(d) os.execute("rm -rf '" .. d .. "'") end

local function tab(df) return pqc.to_table(df:compute{scheduler = "sync"}) end

-- the same groupby with the read fused into it (parquet.read_groupby)
-- and without (a pass-through step in between keeps the generic tasks)
local function kernels(df)
  local seen = {}
  core.walk(df:__lask_tasks(), function(_, kernel) seen[kernel] = (seen[kernel] or 0) + 1 end)
  return seen
end
local function same_frames(a, b, what)
  local ta, tb = pqc.to_table(a), pqc.to_table(b)
  assert.are.same(tb.names, ta.names, what)
  assert.are.same(tb.types, ta.types, what)
  assert.are.equal(tb.nrows, ta.nrows, what)
  for _, c in ipairs(tb.names) do
    for r = 1, tb.nrows do assert.are.equal(tb.columns[c][r], ta.columns[c][r], what .. " column " .. c) end
  end
end
local function fused_vs_plain(path, ropts, keys, spec, sched)
  local df = pq.read_parquet(path, ropts)
  local fused = df:groupby(keys):agg(spec)
  assert.is_truthy(kernels(fused)["parquet.read_groupby"], "the groupby reads through parquet.read_groupby")
  local plain = df:map_partitions(function(p) return p end):groupby(keys):agg(spec)
  assert.is_nil(kernels(plain)["parquet.read_groupby"])
  local o = {scheduler = sched or "sync"}
  return fused:compute(o), plain:compute(o)
end

-- expected.csv as rows of strings, keyed by id
local function expected()
  local rows = {}
  local f = assert(io.open(FIX .. "/expected.csv"))
  f:read("l")
  for line in f:lines() do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
    rows[tonumber(cells[1])] = cells
  end
  f:close()
  return rows
end

describe("read_parquet", function()
  if not FIX then
    pending("shared Parquet fixtures not found (../shared/data/parquet)")
    return
  end
  local exp = expected()

  it("reads every fixture variant with the same rows", function()
    for _, name in ipairs{"snappy", "zstd", "gzip", "uncompressed", "rowgroups", "v2pages"} do
      local t = tab(pq.read_parquet(FIX .. "/" .. name .. ".parquet"))
      assert.are.equal(5037, t.nrows)
      assert.are.same({"id", "k32", "x", "f32", "flag", "cat", "label", "ts", "d", "s16"}, t.names)
      assert.are.same({"int64", "int64", "float64", "float64", "bool", "string", "string",
        "timestamp", "timestamp", "int64"}, t.types)
      local c = t.columns
      for r = 1, t.nrows, 97 do
        local e = exp[c.id[r]]
        assert.are.equal(tonumber(e[2]), c.k32[r])
        assert.are.equal(e[6] ~= "" and e[6] or nil, c.cat[r])
        assert.are.equal(e[7], c.label[r])
        assert.are.equal(e[5] == "true", c.flag[r])
        if e[3] == "" then assert.is_nil(c.x[r]) else assert.are.equal(tonumber(e[3]), c.x[r]) end
        assert.are.equal(tonumber(e[10]), c.s16[r])
      end
    end
  end)

  it("makes one partition per row group, or per file", function()
    local path = FIX .. "/rowgroups.parquet"
    local footer = pq.read_footer(path)
    assert.is_true(#footer.row_groups > 1)
    assert.are.equal(#footer.row_groups, pq.read_parquet(path).npartitions)
    assert.are.equal(1, pq.read_parquet(path, {split_row_groups = false}).npartitions)
    assert.are.equal(5037, tab(pq.read_parquet(path, {split_row_groups = false})).nrows)
  end)

  it("projects columns in the order asked", function()
    local t = tab(pq.read_parquet(FIX .. "/snappy.parquet", {columns = {"label", "id"}}))
    assert.are.same({"label", "id"}, t.names)
    assert.are.equal("row-0", t.columns.label[1])
  end)

  it("prunes row groups by statistics and filters rows exactly", function()
    local path = FIX .. "/rowgroups.parquet"
    local footer = pq.read_footer(path)
    local last = footer.row_groups[#footer.row_groups].stats.id.min
    local df = pq.read_parquet(path, {filters = {{"id", ">=", last}, {"x", ">", 500}}})
    assert.are.equal(1, df.npartitions)
    local t = tab(df)
    local n = 0
    for id = last, 5036 do
      local x = tonumber(exp[id][3])
      if x and x > 500 then n = n + 1 end
    end
    assert.are.equal(n, t.nrows)
    for r = 1, t.nrows do assert.is_true(t.columns.x[r] > 500 and t.columns.id[r] >= last) end
  end)

  it("takes OR lists of AND lists and 'in'", function()
    local t = tab(pq.read_parquet(FIX .. "/snappy.parquet", {columns = {"id", "cat"},
      filters = {{{"id", "<", 10}}, {{"cat", "in", {"gamma"}}, {"id", ">", 5030}}}}))
    local want = 0
    for id = 0, 5036 do
      if id < 10 or (exp[id][6] == "gamma" and id > 5030) then want = want + 1 end
    end
    assert.are.equal(want, t.nrows)
  end)

  it("filters page by page exactly as a filter over the whole table", function()
    -- every fixture variant (dictionary, v2 pages, codecs), numeric columns
    -- with nulls (x), ints compared with floats, ts, bools, 'in', OR groups,
    -- filter columns in the output or not, and a string filter (read whole)
    local function passes(v, op, w)
      if v == nil then return false end
      if op == "in" then
        for _, u in ipairs(w) do if v == u then return true end end
        return false
      end
      if type(v) == "boolean" then v, w = v and 1 or 0, w and 1 or 0 end
      if op == "=" then return v == w elseif op == "~=" then return v ~= w
      elseif op == "<" then return v < w elseif op == "<=" then return v <= w
      elseif op == ">" then return v > w else return v >= w end
    end
    local cases = {
      {{"x", ">", 500}},
      {{"x", "~=", 772.194}, {"id", "<", 300}},
      {{"id", "in", {1, 5, 4000, 99999}}},
      {{"id", ">", 100.5}, {"s16", "<=", -100}},
      {{{"x", "<=", 10.5}}, {{"id", ">=", 5000}, {"flag", "=", true}}},
      {{"flag", "=", false}, {"k32", ">=", 20}},
      {{"f32", "<", 3}},
      {{"cat", "=", "gamma"}, {"x", ">", 100}},
    }
    for _, file in ipairs{"snappy", "gzip", "zstd", "uncompressed", "v2pages", "rowgroups"} do
      local path = FIX .. "/" .. file .. ".parquet"
      local all = tab(pq.read_parquet(path))
      for ci, filt in ipairs(cases) do
        local groups = type(filt[1][1]) == "table" and filt or {filt}
        for _, cols in ipairs{{"id", "label"}, {"id", "x", "flag"}} do
          local got = tab(pq.read_parquet(path, {columns = cols, filters = filt}))
          local want = {}
          for r = 1, all.nrows do
            local any = false
            for _, g in ipairs(groups) do
              local ok = true
              for _, p in ipairs(g) do ok = ok and passes(all.columns[p[1]][r], p[2], p[3]) end
              any = any or ok
            end
            if any then want[#want + 1] = r end
          end
          assert.are.equal(#want, got.nrows, file .. " case " .. ci)
          for i, r in ipairs(want) do
            for _, c in ipairs(cols) do
              assert.are.equal(all.columns[c][r], got.columns[c][i], file .. " case " .. ci .. " column " .. c)
            end
          end
        end
      end
    end
  end)

  it("reads and aggregates each row group in one task, with the same result", function()
    local spec = {x = {"sum", "mean", "count", "min", "max", "std", "first", "last"},
      id = {"nunique", "size", "var"}, label = {"min", "max", "count"}, f32 = "mean"}
    local filters = {
      false,
      {{"x", ">", 500}},
      {{{"x", "<=", 10.5}}, {{"id", ">=", 5000}, {"flag", "=", true}}},
      {{"cat", "=", "gamma"}, {"x", ">", 100}},
    }
    for _, file in ipairs{"snappy", "gzip", "zstd", "uncompressed", "v2pages", "rowgroups"} do
      for fi, filt in ipairs(filters) do
        for _, keys in ipairs{"k32", "cat", {"flag", "k32"}} do
          local ropts = {columns = {"id", "k32", "x", "f32", "flag", "cat", "label"}, filters = filt or nil}
          local a, b = fused_vs_plain(FIX .. "/" .. file .. ".parquet", ropts, keys, spec,
            fi % 2 == 0 and "threads" or "sync")
          same_frames(a, b, ("%s filter %d keys %s"):format(file, fi, type(keys) == "table" and table.concat(keys, ",") or keys))
        end
      end
    end
    -- hive columns as keys, several row groups per task, everything pruned
    local a, b = fused_vs_plain(FIX .. "/hive", {filters = {{"x", ">", 100}}}, "k32", {x = {"mean", "count"}})
    same_frames(a, b, "hive")
    assert.is_true(a:nrows() > 1)
    a, b = fused_vs_plain(FIX .. "/rowgroups.parquet", {split_row_groups = false, filters = {{"id", "<", 3000}}},
      "cat", {x = "sum"})
    same_frames(a, b, "split_row_groups = false")
    local df = pq.read_parquet(FIX .. "/rowgroups.parquet", {filters = {{"id", ">", 1e9}}})
    local r = df:groupby("k32"):agg{x = "sum"}:compute()
    assert.are.equal(0, r:nrows())
  end)

  it("names the file and row group when a fused groupby fails", function()
    local df = pq.read_parquet(FIX .. "/snappy.parquet", {columns = {"label", "k32"}})
    local ok, err = pcall(function() return df:groupby("k32"):agg{label = "sum"}:compute() end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("sum", 1, true))
  end)

  it("reads hive directories as typed columns and prunes them without opening files", function()
    local df = pq.read_parquet(FIX .. "/hive", {filters = {{"k32", "in", {3, 4}}}})
    assert.are.equal("int64", df.dtypes.k32)
    assert.are.equal(2, df.npartitions)
    local t = tab(df)
    local want = 0
    for id = 0, 5036 do if id % 37 == 3 or id % 37 == 4 then want = want + 1 end end
    assert.are.equal(want, t.nrows)
    for r = 1, t.nrows do assert.are.equal(t.columns.id[r] % 37, t.columns.k32[r]) end
  end)

  it("sets the index with divisions from sorted statistics", function()
    local df = pq.read_parquet(FIX .. "/rowgroups.parquet", {index = "id"})
    assert.are.equal(df.npartitions + 1, #df.divisions)
    assert.are.equal(0, df.divisions[1])
    assert.are.equal(5036, df.divisions[#df.divisions])
    assert.are.equal("id", tab(df).index)
  end)

  it("names what is wrong", function()
    local ok, err = pcall(pq.read_parquet, FIX .. "/snappy.parquet", {filters = {{"nope", "=", 1}}})
    assert.is_false(ok)
    assert.matches("filter on a missing column 'nope'", err)
    ok, err = pcall(pq.read_parquet, FIX .. "/snappy.parquet", {filters = {{"x", "=", "a"}}})
    assert.is_false(ok)
    assert.matches("column 'x' %(float64%) with a string", err)
    ok, err = pcall(pq.read_parquet, FIX .. "/snappy.parquet", {columns = {"zz"}})
    assert.is_false(ok)
    assert.matches("no column 'zz'", err)
    ok, err = pcall(pq.read_parquet, FIX .. "/expected.csv")
    assert.is_false(ok)
    assert.matches("expected.csv: not a Parquet file", err)
    ok, err = pcall(pq.read_parquet, "/nonexistent/dir")
    assert.is_false(ok)
    assert.matches("no such file", err)
  end)

  it("rejects datasets whose schemas differ", function()
    local d = tmpdir("schema")
    local a = pq.read_parquet(FIX .. "/snappy.parquet", {columns = {"id", "x"}})
    local b = pq.read_parquet(FIX .. "/snappy.parquet", {columns = {"id", "label"}})
    pq.to_parquet(a, d .. "/a", {scheduler = "sync"})
    pq.to_parquet(b, d .. "/b", {scheduler = "sync"})
    local ok, err = pcall(pq.read_parquet, {d .. "/a", d .. "/b"})
    assert.is_false(ok)
    assert.matches("schemas differ", err)
    rmtree(d)
  end)

  it("turns a corrupted file into an error naming file, row group and column", function()
    local src = assert(io.open(FIX .. "/snappy.parquet", "rb")):read("a")
    local footer = pq.read_footer(FIX .. "/snappy.parquet")
    local d = tmpdir("bad")
    -- scribble over the first column's pages, keeping the footer intact
    local bad = d .. "/bad.parquet"
    local data = src:sub(1, 4) .. string.rep("\255", 2000) .. src:sub(2005)
    local f = assert(io.open(bad, "wb"))
    f:write(data)
    f:close()
    assert.are.equal(footer.num_rows, pq.read_footer(bad).num_rows)
    local ok, err = pcall(function() return tab(pq.read_parquet(bad)) end)
    assert.is_false(ok)
    assert.matches("bad.parquet: row group 1, column 'id'", err)
    rmtree(d)
  end)
end)

describe("to_parquet", function()
  it("round-trips every type, nulls and empty frames", function()
    local d = tmpdir("rt")
    local src = FIX and pq.read_parquet(FIX .. "/snappy.parquet") or nil
    if src then
      for _, comp in ipairs{"snappy", "zstd", "gzip", "none", "lz4"} do
        local out = d .. "/" .. comp
        pq.to_parquet(src, out, {compression = comp, row_group_size = 1000, scheduler = "sync"})
        local back = pq.read_parquet(out)
        assert.are.equal(6, back.npartitions)   -- 5037 rows in row groups of 1000
        assert.are.same(tab(src), tab(back))
      end
    end
    -- an empty frame, through the C module directly (long strings: test_parquet.c)
    local frame = pqc.empty_frame({"a", "s"}, {"int64", "string"})
    pqc.write(frame, d .. "/empty.parquet", {})
    local e = pqc.to_table(pqc.read_rowgroup(d .. "/empty.parquet", 1))
    assert.are.equal(0, e.nrows)
    assert.are.same({"a", "s"}, e.names)
    assert.are.same({"int64", "string"}, e.types)
    local empty_df = pq.read_parquet(d .. "/empty.parquet")
    assert.are.equal(0, tab(empty_df).nrows)
    if src then
      local small = pq.read_parquet(FIX .. "/snappy.parquet", {columns = {"id", "label"},
        filters = {{"id", "<", 3}}})
      pq.to_parquet(small, d .. "/small", {scheduler = "sync"})
      local back = tab(pq.read_parquet(d .. "/small"))
      assert.are.same({"row-0", "row-1x", "row-2xx"}, back.columns.label)
    end
    rmtree(d)
  end)

  it("writes hive directories and reads them back typed", function()
    if not FIX then return pending("no fixtures") end
    local d = tmpdir("hive")
    local src = pq.read_parquet(FIX .. "/snappy.parquet", {columns = {"id", "cat", "flag", "x"}})
    pq.to_parquet(src, d, {partition_on = {"flag", "cat"}, overwrite = true, scheduler = "sync"})
    assert.are.equal("dir", pqc.stat(d .. "/flag=true/cat=alpha"))
    assert.are.equal("dir", pqc.stat(d .. "/flag=false/cat=__HIVE_DEFAULT_PARTITION__"))
    local back = pq.read_parquet(d, {filters = {{"flag", "=", true}}})
    assert.are.equal("bool", back.dtypes.flag)
    local t = tab(back)
    local want = 0
    for _, v in ipairs(tab(src).columns.flag) do if v then want = want + 1 end end
    assert.are.equal(want, t.nrows)
    for r = 1, t.nrows do assert.is_true(t.columns.flag[r]) end
    rmtree(d)
  end)

  it("refuses to mix datasets unless asked, and appends", function()
    if not FIX then return pending("no fixtures") end
    local d = tmpdir("app")
    local src = pq.read_parquet(FIX .. "/snappy.parquet", {columns = {"id"}})
    pq.to_parquet(src, d, {scheduler = "sync"})
    local ok, err = pcall(pq.to_parquet, src, d, {scheduler = "sync"})
    assert.is_false(ok)
    assert.matches("already holds a Parquet dataset", err)
    pq.to_parquet(src, d, {append = true, scheduler = "sync"})
    assert.are.equal("file", pqc.stat(d .. "/part.1.parquet"))
    assert.are.equal(2 * 5037, tab(pq.read_parquet(d)).nrows)
    pq.to_parquet(src, d, {overwrite = true, scheduler = "sync"})
    assert.is_nil(pqc.stat(d .. "/part.1.parquet"))
    assert.are.equal(5037, tab(pq.read_parquet(d)).nrows)
    ok, err = pcall(pq.to_parquet, src, d, {compression = "lzo"})
    assert.is_false(ok)
    assert.matches("unknown compression 'lzo'", err)
    rmtree(d)
  end)

  it("keeps the index through a round trip", function()
    if not FIX then return pending("no fixtures") end
    local d = tmpdir("index")
    local src = pq.read_parquet(FIX .. "/rowgroups.parquet", {columns = {"id", "x"}, index = "id"})
    pq.to_parquet(src, d, {scheduler = "sync"})
    assert.are.equal("id", pq.read_footer(d .. "/part.0.parquet").index)
    local back = pq.read_parquet(d)
    assert.are.equal("id", back.index)
    assert.are.equal(back.npartitions + 1, #back.divisions)
    assert.is_nil(pq.read_parquet(d, {index = false}).index)
    rmtree(d)
  end)

  it("reuses buffers across big row groups of a fused groupby, with nulls and dictionaries", function()
    -- row groups whose columns pass 1 MB (pooled buffers with slack), of
    -- different sizes, read on two threads, against the unfused reading
    local d = tmpdir("pool")
    local n = 400000
    local key, y, z, lab = {}, {}, {}, {}
    for i = 1, n do
      key[i] = (i * 7919) % 101
      y[i] = (i % 13 == 0) and nil or (i * 0.37) % 1000
      z[i] = i
      lab[i] = "v" .. (i % 5)
    end
    local F = require "lask.core.frame"
    local dd = require "lask.dataframe"
    local fr = F.frame({key = key, y = y, z = z, lab = lab}, {columns = {"key", "y", "z", "lab"}})
    pq.to_parquet(dd.from_frame(fr), d, {row_group_size = 150000, scheduler = "sync"})
    assert.are.equal(3, #pq.read_footer(d .. "/part.0.parquet").row_groups)
    for _, filt in ipairs{false, {{"z", ">", 12345}}, {{"y", "<", 300}}} do
      for _ = 1, 3 do
        local a, b = fused_vs_plain(d, {filters = filt or nil}, "key",
          {y = {"mean", "count", "max"}, z = "sum", lab = "nunique"}, "threads")
        same_frames(a, b, "pool")
        assert.are.equal(101, a:nrows())
      end
    end
    rmtree(d)
  end)

  it("runs as kernels in a graph", function()
    if not FIX then return pending("no fixtures") end
    local d = tmpdir("graph")
    local rd = core.task("rd", "parquet.read_rowgroup", FIX .. "/snappy.parquet", 1, core.list{"id", "x"})
    local wr = core.task("wr", "parquet.write", rd, d .. "/one.parquet", "zstd", 100)
    core.compute({wr})
    local footer = pq.read_footer(d .. "/one.parquet")
    assert.are.equal(51, #footer.row_groups)
    assert.are.equal(0, footer.row_groups[1].stats.id.min)
    assert.are.equal(99, footer.row_groups[1].stats.id.max)
    assert.are.equal("lask", footer.created_by)
    rmtree(d)
  end)
end)
