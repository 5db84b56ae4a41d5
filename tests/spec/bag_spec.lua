-- lask.bag: real values through real tasks, and every bad input the issue
-- lists (malformed JSON, a missing pluck key, values that cannot be shipped,
-- truncated compressed files).
local db = require "lask.bag"
local json = require "lask.json"
local textio = require "lask.core.textio"

local function tmpdir()
  local f = os.tmpname()
  os.remove(f)
  textio.mkdir(f)
  return f
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function sorted(t, key)
  table.sort(t, function(a, b)
    if key then return a[key] < b[key] end
    return a < b
  end)
  return t
end

local function errmsg(f)
  local ok, err = pcall(f)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

describe("lask.bag creation", function()
  it("from_sequence splits into partitions and computes a list", function()
    local b = db.from_sequence({ 1, 2, 3, 4, 5 }, { npartitions = 2 })
    assert.are.equal(2, b.npartitions)
    assert.are.same({ 1, 2, 3, 4, 5 }, b:compute())
    assert.are.equal(3, db.from_sequence({ 1, 2, 3, 4, 5 }, { partition_size = 2 }).npartitions)
    assert.are.equal(55, b:map(function(x) return x * x end):sum():compute())
  end)

  it("range gives 1..n", function()
    local b = db.range(10, { npartitions = 3 })
    assert.are.equal(3, b.npartitions)
    assert.are.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, b:compute())
    assert.are.same({}, db.range(0):compute())
  end)

  it("__tostring does not compute", function()
    local called = false
    local b = db.range(4, { npartitions = 2 }):map(function(x)
      called = true
      return x
    end)
    assert.are.equal("lask.Bag<map, npartitions=2>", tostring(b))
    assert.is_false(called)
  end)

  it("from_delayed takes lazy values computing to lists", function()
    local parts = db.range(6, { npartitions = 3 }):to_delayed()
    assert.are.equal(3, #parts)
    local b = db.from_delayed(parts)
    assert.are.same({ 1, 2, 3, 4, 5, 6 }, b:map(function(x) return x end):compute())
    local bad = db.from_delayed({ db.range(3):sum() })
    assert.matches("partition 1 is a number, not a list", errmsg(function() bad:map(tostring):compute() end), 1, true)
  end)
end)

describe("lask.bag read_text", function()
  local dir
  setup(function() dir = tmpdir() end)

  it("splits files at line boundaries for every blocksize", function()
    local p = dir .. "/lines.txt"
    local want = {}
    for i = 1, 200 do want[i] = ("line %d %s"):format(i, ("x"):rep(i % 7)) end
    write(p, table.concat(want, "\n") .. "\n")
    for _, bs in ipairs({ 1, 7, 64, 1000, 1e6 }) do
      assert.are.same(want, db.read_text(p, { blocksize = bs }):compute())
    end
    assert.are.equal(1, db.read_text(p, { blocksize = false }).npartitions)
    assert.are.equal(3, db.read_text(p, { blocksize = "1KiB" }).npartitions)
    local lask = require "lask"
    lask.config.with({ ["bag.blocksize"] = 512 }, function()
      assert.are.equal(5, db.read_text(p).npartitions)
    end)
    assert.matches("blocksize must be a byte count", errmsg(function() db.read_text(p, { blocksize = "lots" }) end), 1, true)
  end)

  it("honours linedelimiter and keeps a last line without one", function()
    local p = dir .. "/semi.txt"
    write(p, "a;bb;;ccc")
    assert.are.same({ "a", "bb", "", "ccc" }, db.read_text(p, { linedelimiter = ";", blocksize = 2 }):compute())
    write(p, "a\r\nb\r\n")
    assert.are.same({ "a", "b" }, db.read_text(p, { linedelimiter = "\r\n", blocksize = 1 }):compute())
  end)

  it("reads globs and lists, gzip and zstd by suffix", function()
    local lines = {}
    for i = 1, 5000 do lines[i] = tostring(i) end
    textio.write_lines(dir .. "/n.txt.gz", lines)
    textio.write_lines(dir .. "/n.txt.zst", lines)
    textio.write_lines(dir .. "/n.txt", lines)
    local b = db.read_text(dir .. "/n.txt*")
    assert.are.equal(3, b.npartitions)
    assert.are.equal(3 * 5000 * 5001 // 2, b:map(tonumber):sum():compute())
    assert.are.same(lines, db.read_text({ dir .. "/n.txt.zst" }):compute())
    assert.are.same(lines, db.read_text(dir .. "/n.txt.gz", { compression = "gzip" }):compute())
    local tagged = db.read_text({ dir .. "/n.txt", dir .. "/n.txt.zst" }, { include_path = true, blocksize = 4000 })
      :filter(function(e) return e[1] == "5000" end):compute()
    assert.are.same({ { "5000", dir .. "/n.txt" }, { "5000", dir .. "/n.txt.zst" } }, tagged)
  end)

  it("fails clearly on missing, truncated and corrupt files", function()
    assert.matches("no files match", errmsg(function() db.read_text(dir .. "/none*.txt") end), 1, true)
    assert.matches("cannot open '" .. dir .. "/missing.txt'",
      errmsg(function() db.read_text(dir .. "/missing.txt") end), 1, true)
    local lines = {}
    for i = 1, 20000 do lines[i] = ("record number %d with some text"):format(i) end
    for _, ext in ipairs({ "gz", "zst" }) do
      local full = dir .. "/big." .. ext
      textio.write_lines(full, lines)
      local f = assert(io.open(full, "rb"))
      local bytes = f:read("a")
      f:close()
      local cut = dir .. "/cut." .. ext
      write(cut, bytes:sub(1, #bytes // 2))
      local e = errmsg(function() db.read_text(cut):count():compute() end)
      assert.matches("truncated", e, 1, true)
      assert.matches(cut, e, 1, true)
      local bad = dir .. "/bad." .. ext
      write(bad, "this is not compressed at all\n")
      e = errmsg(function() db.read_text(bad):count():compute() end)
      assert.matches("corrupt", e, 1, true)
      assert.matches(bad, e, 1, true)
    end
  end)

  it("names file and line of a malformed JSON record", function()
    local p = dir .. "/recs.jsonl"
    write(p, '{"a": 1}\n{"a": 2}\n{"a": 3,, "b": 1}\n{"a": 4}\n')
    for _, bs in ipairs({ 3, 1000 }) do
      local e = errmsg(function() db.read_text(p, { blocksize = bs }):map(json.decode):compute() end)
      assert.matches(p .. ":3: malformed JSON at column 9", e, 1, true)
    end
    -- inside a user's function too
    local e = errmsg(function()
      db.read_text(p):map(function(l) return json.decode(l).a end):compute()
    end)
    assert.matches(p .. ":3:", e, 1, true)
    assert.matches("malformed JSON", e, 1, true)
    -- compressed: the line counts from the start of the file
    textio.write_lines(dir .. "/recs.jsonl.gz", { '{"a": 1}', '{"a": 2}', "{oops" })
    e = errmsg(function() db.read_text(dir .. "/recs.jsonl.gz"):map(json.decode):compute() end)
    assert.matches("recs.jsonl.gz:3: malformed JSON", e, 1, true)
  end)

  it("decodes JSON lines through the fused pipeline", function()
    local p = dir .. "/good.jsonl"
    local kinds = { "buy", "sell", "view" }
    local recs, want = {}, {}
    for i = 1, 3000 do
      local r = { user = "u" .. i, kind = kinds[i % 3 + 1], value = (i % 10) / 10 }
      recs[i] = json.encode(r)
      if r.value > 0.5 then want[r.kind] = (want[r.kind] or 0) + 1 end
    end
    textio.write_lines(p, recs)
    local got = db.read_text(p, { blocksize = 10000 }):map(json.decode)
      :filter(function(r) return r.value > 0.5 end):pluck("kind"):frequencies():compute()
    local m = {}
    for _, kv in ipairs(got) do m[kv[1]] = kv[2] end
    assert.are.same(want, m)
  end)

  it("to_textfiles writes partitions that read back", function()
    local out = dir .. "/out"
    local b = db.range(25, { npartitions = 3 }):map(tostring)
    local paths = b:to_textfiles(out)
    assert.are.same({ out .. "/1.part", out .. "/2.part", out .. "/3.part" }, paths)
    assert.are.same(b:compute(), db.read_text(out .. "/*.part"):compute())
    paths = b:to_textfiles(dir .. "/z/p-*.txt.zst")
    assert.are.equal(dir .. "/z/p-3.txt.zst", paths[3])
    assert.are.equal(325, db.read_text(dir .. "/z/*.zst"):map(tonumber):sum():compute())
    paths = b:to_textfiles(dir .. "/g", { compression = "gzip" })
    assert.are.equal(dir .. "/g/1.part.gz", paths[1])
    assert.are.equal(325, db.read_text(dir .. "/g/*"):map(tonumber):sum():compute())
    local e = errmsg(function() db.range(3):map(function(x) return { x } end):to_textfiles(dir .. "/t") end)
    assert.matches("cannot write item 1", e, 1, true)
  end)
end)

describe("lask.bag element operations", function()
  local recs = {
    { kind = "a", v = 1, tags = { "x" } }, { kind = "b", v = 2, tags = {} },
    { kind = "a", v = 3, tags = { "y", "z" } }, { kind = "c", v = 4, tags = { "x" } },
  }

  it("map with extra arguments and zipped bags", function()
    local b = db.range(6, { npartitions = 2 })
    assert.are.same({ 13, 23, 33, 43, 53, 63 }, b:map(function(x, y) return x * 10 + y end, 3):compute())
    local neg = b:map(function(x) return -x end)
    assert.are.same({ 100, 100, 100, 100, 100, 100 },
      b:map(function(x, k, y) return x + y + k end, 100, neg):compute())
    assert.matches("partitions", errmsg(function() b:map(function(x) return x end, db.range(6, { npartitions = 3 })) end), 1, true)
  end)

  it("filter, remove, flatten, starmap, map_partitions", function()
    local b = db.range(10, { npartitions = 3 })
    assert.are.same({ 2, 4, 6, 8, 10 }, b:filter(function(x) return x % 2 == 0 end):compute())
    assert.are.same({ 1, 3, 5, 7, 9 }, b:remove(function(x) return x % 2 == 0 end):compute())
    assert.are.same({ 1, 2, 3, 4, 5 }, db.from_sequence({ { 1, 2 }, {}, { 3 }, { 4, 5 } }, { npartitions = 2 }):flatten():compute())
    assert.are.same({ 1002, 1012 }, db.from_sequence({ { 1, 2 }, { 3, 4 } }):starmap(function(a, b2, c) return a * b2 + c end, 1000):compute())
    assert.are.same({ 4, 4, 2 }, b:map_partitions(function(l) return { #l } end):compute())
    assert.matches("returned a number, not a list", errmsg(function() b:map_partitions(function(l) return #l end):compute() end), 1, true)
  end)

  it("pluck a key, several keys, or a default", function()
    local b = db.from_sequence(recs, { npartitions = 2 })
    assert.are.same({ "a", "b", "a", "c" }, b:pluck("kind"):compute())
    assert.are.same({ { "a", 1 }, { "b", 2 }, { "a", 3 }, { "c", 4 } }, b:pluck({ "kind", "v" }):compute())
    assert.are.same({ "x", "y", "z", "x" }, b:pluck("tags"):flatten():compute())
    local withmissing = db.from_sequence({ { kind = "a" }, { v = 2 } })
    local e = errmsg(function() withmissing:pluck("kind"):compute() end)
    assert.matches('key "kind" is missing', e, 1, true)
    assert.matches("element 1", e, 1, true)
    assert.are.same({ "a", "?" }, withmissing:pluck("kind", { default = "?" }):compute())
  end)

  it("zip, product, distinct, take", function()
    local a, b = db.range(4, { npartitions = 2 }), db.range(4, { npartitions = 2 }):map(function(x) return x * x end)
    assert.are.same({ { 1, 1 }, { 2, 4 }, { 3, 9 }, { 4, 16 } }, a:zip(b):compute())
    local p = db.range(2):product(db.from_sequence({ "x", "y", "z" }, { npartitions = 2 }))
    assert.are.equal(4, p.npartitions)
    assert.are.same({ { 1, "x" }, { 1, "y" }, { 1, "z" }, { 2, "x" }, { 2, "y" }, { 2, "z" } }, p:compute())
    assert.are.same({ 3, 1, 2 }, db.from_sequence({ 3, 1, 3, 2, 1 }, { npartitions = 2 }):distinct():compute())
    assert.are.same({ { 1 }, { 2 } }, db.from_sequence({ { 1 }, { 2 }, { 1 } }):distinct():compute())
    assert.are.same({ 1, 2, 3 }, db.range(100, { npartitions = 10 }):take(3))
    assert.are.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, db.range(100, { npartitions = 10 }):take(12))
  end)

  it("take computes only the partitions it needs", function()
    local b = db.range(100, { npartitions = 10 }):map(function(x)
      if x > 20 then error("partition beyond the first two was computed") end
      return x
    end)
    assert.are.same({ 1, 2, 3, 4, 5 }, b:take(5))
    assert.are.equal(15, #b:take(15))
  end)
end)

describe("lask.bag reductions", function()
  local b = db.range(100, { npartitions = 7 })

  it("count sum mean min max var std any all", function()
    assert.are.equal(100, b:count():compute())
    assert.are.equal(5050, b:sum():compute())
    assert.are.equal(50.5, b:mean():compute())
    assert.are.equal(1, b:min():compute())
    assert.are.equal(100, b:max():compute())
    assert.is_true(math.abs(b:var():compute() - 833.25) < 1e-9)
    assert.is_true(math.abs(b:std(1):compute() - math.sqrt(841.6666666666666)) < 1e-9)
    assert.is_true(b:map(function(x) return x == 50 end):any():compute())
    assert.is_false(b:map(function(x) return x < 100 end):all():compute())
    assert.matches("min of an empty bag", errmsg(function() db.range(0):min():compute() end), 1, true)
  end)

  it("fold and reduction with tree aggregation", function()
    local add = function(x, y) return x + y end
    assert.are.equal(5050, b:fold(add):compute())
    assert.are.equal(5050, b:fold(add, add, 0, { split_every = 2 }):compute())
    local r = b:reduction(function(l) return #l end,
      function(ps) local s = 0 for _, x in ipairs(ps) do s = s + x end return s end, { split_every = 3 })
    assert.are.equal(100, r:compute())
  end)

  it("frequencies, foldby, topk, groupby", function()
    local words = db.from_sequence({ "a", "b", "a", "c", "a", "b" }, { npartitions = 3 })
    assert.are.same({ { "a", 3 }, { "b", 2 }, { "c", 1 } }, words:frequencies({ sort = true }):compute())
    -- after a partition step, and for table values (by content)
    assert.are.same({ { "a", 3 }, { "b", 2 }, { "c", 1 } },
      words:map_partitions(function(l) return l end):frequencies({ sort = true }):compute())
    assert.are.same({ { { 1 }, 2 }, { "x", 1 } },
      db.from_sequence({ { 1 }, "x", { 1 } }, { npartitions = 2 }):frequencies({ sort = true }):compute())
    assert.are.equal(6, words:map_partitions(function(l) return l end):count():compute())
    local recs = db.from_sequence({ { k = "x", v = 1 }, { k = "y", v = 2 }, { k = "x", v = 3 } }, { npartitions = 2 })
    local fb = recs:foldby("k", function(acc, r) return acc + r.v end, 0, function(a, c) return a + c end, 0):compute()
    assert.are.same({ { "x", 4 }, { "y", 2 } }, sorted(fb, 1))
    local byfn = recs:foldby(function(r) return r.k end, function(acc, r) return acc + 1 end, 0,
      function(a, c) return a + c end, 0):compute()
    assert.are.same({ { "x", 2 }, { "y", 1 } }, sorted(byfn, 1))
    assert.are.same({ 100, 99, 98 }, b:topk(3):compute())
    assert.are.same({ { k = "x", v = 3 }, { k = "y", v = 2 } }, recs:topk(2, "v"):compute())
    -- 1 and 1.0 are one key (as in Lua tables), also inside tables
    local one = db.from_sequence({ { k = 1, v = "a" }, { k = 1.0, v = "b" }, { k = 2, v = "c" } }, { npartitions = 3 })
    assert.are.equal(2, #one:groupby("k", { npartitions = 3 }):compute())
    assert.are.equal(2, #db.from_sequence({ { 1 }, { 1.0 }, { 2 } }, { npartitions = 2 }):distinct():compute())
    local g = db.range(20, { npartitions = 4 }):groupby(function(x) return x % 3 end, { npartitions = 2 })
    local got = {}
    for _, kv in ipairs(g:compute()) do got[kv[1]] = sorted(kv[2]) end
    assert.are.same({ [0] = { 3, 6, 9, 12, 15, 18 }, [1] = { 1, 4, 7, 10, 13, 16, 19 },
      [2] = { 2, 5, 8, 11, 14, 17, 20 } }, got)
  end)
end)

describe("lask.bag errors and the collection protocol", function()
  it("names the partition and element of a failing callback", function()
    local e = errmsg(function()
      db.range(10, { npartitions = 2 }):map(function(x)
        if x == 7 then error("seven is bad") end
        return x
      end):compute()
    end)
    assert.matches("partition 2, element 2", e, 1, true)
    assert.matches("seven is bad", e, 1, true)
  end)

  it("refuses nil elements and values that cannot be shipped", function()
    local e = errmsg(function() db.range(3):map(function() end):compute() end)
    assert.matches("became nil", e, 1, true)
    e = errmsg(function() db.range(3):map(function() return coroutine.create(print) end):compute() end)
    assert.matches("coroutine", e, 1, true)
    local co = coroutine.create(print)
    e = errmsg(function() db.range(3):map(function(x) return co end) end)
    assert.matches("coroutine", e, 1, true)
    assert.matches("map", e, 1, true)
  end)

  it("gives tasks, finalizes and rebuilds", function()
    local b = db.range(6, { npartitions = 2 }):map(function(x) return x + 1 end)
    local tasks = b:__lask_tasks()
    assert.are.equal(2, #tasks)
    assert.are.same({ 2, 3, 4, 5, 6, 7 }, b:__lask_finalize({ { 2, 3, 4 }, { 5, 6, 7 } }))
    local lask = require "lask"
    local p = lask.persist(b)
    assert.are.same({ 2, 3, 4, 5, 6, 7 }, p:compute())
    assert.are.same({ 2, 3, 4, 5, 6, 7 }, (lask.compute(b)))
  end)

  it("fuses a chain of element operations into one task per partition", function()
    local core = require "lask.core"
    local b = db.range(100, { npartitions = 4 }):map(function(x) return x * 2 end)
      :filter(function(x) return x % 3 == 0 end):map(tostring)
    assert.are.equal(4, core.count(b:__lask_tasks()))
    assert.are.equal(5, core.count({ b:count().task }))
  end)

  it("turns records into a lask.dataframe", function()
    local ok = pcall(require, "lask.dataframe")
    if not ok then
      pending("lask.dataframe is not built")
      return
    end
    local recs = {}
    for i = 1, 10 do recs[i] = { kind = i % 2 == 0 and "a" or "b", value = i * 0.5, n = i } end
    local f = db.from_sequence(recs, { npartitions = 3 }):to_dataframe():compute()
    assert.are.same({ kind = { "b", "a", "b", "a", "b", "a", "b", "a", "b", "a" },
      value = { 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0 },
      n = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 } }, f:totable())
    -- empty partitions take their columns from meta
    local df = db.from_sequence(recs, { npartitions = 3 }):filter(function(r) return r.n > 8 end)
      :to_dataframe({ kind = "string", value = "float64", n = "int64" })
    assert.are.equal(2, df:compute():nrows())
    assert.are.equal(9.5, df.value:sum():compute())
  end)

  it("gives the same results under the sync scheduler", function()
    local b = db.range(50, { npartitions = 5 }):map(function(x) return x % 4 end):frequencies({ sort = true })
    assert.are.same(b:compute({ scheduler = "sync" }), b:compute({ scheduler = "threads" }))
  end)
end)

describe("lask.core.textio", function()
  local dir
  setup(function() dir = tmpdir() end)

  it("gives every line to exactly one block, long lines and odd delimiters included", function()
    local short, long = {}, {}
    for i = 1, 60 do short[i] = "line" .. i .. ("z"):rep(i % 9) end
    for i = 1, 7 do
      -- lines longer than the 1 MiB read step
      long[i] = (i % 3 == 0) and ("L" .. i .. ("y"):rep(1500000)) or ("l" .. i)
    end
    for _, d in ipairs({ "\n", "\r\n", "<|>" }) do
      for name, want in pairs({ short = short, long = long }) do
        local p = dir .. "/" .. name .. #d .. ".txt"
        write(p, table.concat(want, d))
        local size = textio.size(p)
        local sizes = name == "short" and { 1, 2, 3, 5, 97, size }
          or { 999999, 1048575, 1048576, 1048577, size }
        for _, bs in ipairs(sizes) do
          local got = {}
          for s = 0, size - 1, bs do
            for _, l in ipairs((textio.read_lines(p, s, math.min(s + bs, size), d))) do got[#got + 1] = l end
          end
          assert.are.equal(#want, #got)
          for i = 1, #want do assert.are.equal(want[i], got[i]) end
        end
        assert.are.same(want, textio.read_all(p, "none", d))
      end
    end
  end)

  it("reads concatenated gzip members and counts lines for messages", function()
    textio.write_lines(dir .. "/a.gz", { "1", "2" })
    textio.write_lines(dir .. "/b.gz", { "3" })
    local fa, fb = assert(io.open(dir .. "/a.gz", "rb")), assert(io.open(dir .. "/b.gz", "rb"))
    write(dir .. "/ab.gz", fa:read("a") .. fb:read("a"))
    fa:close()
    fb:close()
    assert.are.same({ "1", "2", "3" }, textio.read_all(dir .. "/ab.gz"))
    write(dir .. "/c.txt", "a\nbb\n\nccc\n")
    assert.are.same({ 1, 2, 2, 3, 4, 5 }, {
      textio.line_of(dir .. "/c.txt", 0), textio.line_of(dir .. "/c.txt", 2),
      textio.line_of(dir .. "/c.txt", 4), textio.line_of(dir .. "/c.txt", 5),
      textio.line_of(dir .. "/c.txt", 6), textio.line_of(dir .. "/c.txt", 10) })
  end)

  it("expands globs in order and refuses directories", function()
    for _, n in ipairs({ "b", "a", "c" }) do write(dir .. "/g-" .. n .. ".log", n) end
    assert.are.same({ dir .. "/g-a.log", dir .. "/g-b.log", dir .. "/g-c.log" }, textio.glob(dir .. "/g-*.log"))
    assert.are.same({}, textio.glob(dir .. "/nothing-*"))
    assert.matches("is a directory", errmsg(function() textio.size(dir) end), 1, true)
  end)
end)

-- Blocks are read and processed in pieces of 1 MiB: a block of several
-- pieces gives every line once, in order, and errors name the right line.
describe("lask.bag read_text in pieces", function()
  local dir = tmpdir()
  local path = dir .. "/big.jsonl"
  local lines = {}
  for i = 1, 40000 do   -- about 2.6 MB: three pieces in one 16 MiB block
    lines[i] = ('{"i": %d, "pad": "%s"}'):format(i, ("x"):rep(i % 97))
  end
  lines[25000] = ("y"):rep(1500000)   -- one line longer than a piece
  write(path, table.concat(lines, "\n") .. "\n")

  it("yields every line once, in order", function()
    local got = db.read_text(path, { blocksize = "16MiB" }):compute()
    assert.are.equal(#lines, #got)
    for i = 1, #lines do
      if got[i] ~= lines[i] then assert.are.equal(lines[i], got[i], "line " .. i) end
    end
    assert.are.equal(#lines, db.read_text(path):count():compute())
    local parts = db.read_text(path):map_partitions(function(t) return { #t } end):compute()
    assert.are.same({ #lines }, parts)
  end)

  it("names the file and line of a bad record in a later piece", function()
    local err = errmsg(function()
      db.read_text(path):map(json.decode):pluck("i"):sum():compute()
    end)
    assert.matches(path .. ":25000: malformed JSON", err, 1, true)
    -- also when the records go out whole, or to a step that needs the list
    err = errmsg(function() db.read_text(path):map(json.decode):compute() end)
    assert.matches(path .. ":25000: malformed JSON", err, 1, true)
    err = errmsg(function()
      db.read_text(path):map(json.decode):map_partitions(function(t) return { #t } end):compute()
    end)
    assert.matches(path .. ":25000: malformed JSON", err, 1, true)
    local sum = db.read_text(path):filter(function(l) return l:sub(1, 1) == "{" end)
      :map(json.decode):pluck("i"):sum():compute()
    assert.are.equal(40000 * 40001 // 2 - 25000, sum)
  end)
end)

-- read_text(...):map(json.decode) decodes in the source; records keep only
-- the fields the pipeline is proven to read. None of that may show.
describe("lask.bag JSON lines fast path", function()
  local dir = tmpdir()
  local path = dir .. "/recs.jsonl"
  local lines = {}
  for i = 1, 30000 do
    lines[i] = ('{"user": "u%d", "kind": "%s", "value": %d.5, "tags": ["t%d"], "n": %d}'):format(
      i, ({ "buy", "sell", "view" })[i % 3 + 1], i % 10, i % 4, i)
  end
  lines[777] = '{"user": "caf\233", "kind": "buy", "value": 9.5, "tags": [], "n": 777}'   -- not UTF-8
  write(path, table.concat(lines, "\n") .. "\n")
  local function expected(pred)
    local want = {}
    for i = 1, #lines do
      local r = json.decode(lines[i])
      if pred(r) then want[r.kind] = (want[r.kind] or 0) + 1 end
    end
    return want
  end
  local function as_map(freqs)
    local m = {}
    for _, kv in ipairs(freqs) do m[kv[1]] = kv[2] end
    return m
  end

  it("gives the same answers whatever the callbacks read", function()
    local b = db.read_text(path, { blocksize = 200000 }):map(json.decode)
    local want = expected(function(r) return r.value > 5 end)
    -- a callback reading constant fields only (the projected path)
    assert.are.same(want, as_map(b:filter(function(r) return r.value > 5 end):pluck("kind")
      :frequencies():compute()))
    -- one that lets the record escape (the whole-record path)
    local function big(r) return r.value > 5 end
    assert.are.same(want, as_map(b:filter(function(r) return big(r) end):pluck("kind")
      :frequencies():compute()))
    -- fields read in a later map, several keys, remove, and whole records out
    local sums = b:remove(function(r) return r.value <= 5 end)
      :map(function(r) return r.n + #r.tags end):sum():compute()
    local want_sum = 0
    for i = 1, #lines do
      local r = json.decode(lines[i])
      if r.value > 5 then want_sum = want_sum + r.n + #r.tags end
    end
    assert.are.equal(want_sum, sums)
    local pairs_ = b:pluck({ "n", "user" }):take(3)
    assert.are.same({ { 1, "u1" }, { 2, "u2" }, { 3, "u3" } }, pairs_)
    -- which of these pipelines prune, and to what
    local W = db._w
    assert.are.same({ "value", "kind" },
      W.json_keys(b:filter(function(r) return r.value > 5 end):pluck("kind").stages))
    assert.is_nil(W.json_keys(b:filter(function(r) return big(r) end):pluck("kind").stages))
    assert.are.same({ "value", "n", "tags" }, W.json_keys(b:remove(function(r) return r.value <= 5 end)
      :map(function(r) return r.n + #r.tags end).stages))
    assert.are.same({ "n", "user" }, W.json_keys(b:pluck({ "n", "user" }).stages))
    assert.is_nil(W.json_keys(b:filter(function(r) return r.n == 2 end).stages))
    local whole = b:filter(function(r) return r.n == 2 end):compute()
    assert.are.same({ json.decode(lines[2]) }, whole)
    assert.are.equal("integer", math.type(whole[1].n))
  end)

  it("prunes records decoded from compressed files and lists of strings alike", function()
    local gz = dir .. "/recs.jsonl.gz"
    assert(os.execute(("gzip -c %q > %q"):format(path, gz)))
    local want = expected(function(r) return r.n % 7 == 0 end)
    local function q(b)
      return as_map(b:map(json.decode):filter(function(r) return r.n % 7 == 0 end):pluck("kind")
        :frequencies():compute())
    end
    assert.are.same(want, q(db.read_text(gz)))
    assert.are.same(want, q(db.from_sequence(lines, { npartitions = 3 })))
    -- a record reaching the output is whole
    local r = db.read_text(gz):map(json.decode):filter(function(x) return x.n == 5 end):compute()
    assert.are.same({ json.decode(lines[5]) }, r)
  end)

  it("keeps a record simdjson refuses but lua-cjson reads, and names a bad line", function()
    local r = db.read_text(path):map(json.decode):filter(function(x) return x.n == 777 end):compute()
    assert.are.equal("caf\233", r[1].user)
    local bad = dir .. "/bad.jsonl"
    write(bad, '{"a": 1}\n{"a": 2}\n{"a": 3,}\n{"a": 4}\n')
    local err = errmsg(function()
      db.read_text(bad):map(json.decode):pluck("a"):sum():compute()
    end)
    assert.matches(bad .. ":3: malformed JSON", err, 1, true)
    err = errmsg(function()
      db.read_text(bad):map(json.decode):compute()
    end)
    assert.matches(bad .. ":3: malformed JSON", err, 1, true)
  end)
end)
