-- lask.delayed, compute, persist, config, visualize, diagnostics.
local lask = require "lask"

local inc = lask.delayed(function(x) return x + 1 end)
local add = lask.delayed(function(a, b) return a + b end)
local sum = lask.delayed(function(...)
  local s = 0
  for _, v in ipairs{...} do s = s + v end
  return s
end)

describe("lask.delayed", function()
  after_each(function() lask.config.reset() end)

  it("runs the issue's example on threads and sync", function()
    local parts = {}
    for i = 1, 1000 do parts[i] = inc(i) end
    local total = sum(table.unpack(parts))
    assert.equal(501500, total:compute())
    local a, b = lask.compute(inc(1), add(inc(2), 10))
    assert.equal(2, a)
    assert.equal(13, b)
    assert.equal(501500, total:compute{scheduler = "sync"})
    assert.equal(1001, total:graph_size())
  end)

  it("gives the same call the same key when pure, so shared work runs once", function()
    assert.equal(inc(1):key(), inc(1):key())
    assert.are_not.equal(inc(1):key(), inc(2):key())
    assert.are_not.equal(inc(1):key(), inc(1.0):key())
    local calls = 0
    local counted = lask.delayed(function(x) calls = calls + 1; return x * 2 end)
    local shared = counted(21)
    local r1, r2 = lask.compute(add(shared, 0), add(shared, 1), {scheduler = "sync"})
    assert.equal(42, r1)
    assert.equal(43, r2)
    assert.equal(1, calls)
    assert.equal(3, lask.graph_size(add(shared, shared)) + 1)   -- counted + add
  end)

  it("gives impure calls fresh keys", function()
    local rnd = lask.delayed(function() return math.random() end, {pure = false})
    assert.are_not.equal(rnd():key(), rnd():key())
  end)

  it("uses the name option in keys", function()
    local f = lask.delayed(function(x) return x end, {name = "ident"})
    assert.matches("^ident%-%x+$", f(1):key())
  end)

  it("indexes, calls methods and applies operators lazily", function()
    local rec = lask.delayed(function() return {a = {b = "hello"}, list = {10, 20, 30}} end)()
    assert.equal("hello", rec.a.b:compute())
    assert.equal(20, rec.list[2]:compute())
    assert.equal("HELLO", rec.a.b:upper():compute())
    assert.equal("he", rec.a.b:sub(1, 2):compute())
    assert.equal(3, (#rec.list):compute())
    local x = inc(1)   -- 2
    assert.equal(17, (x * 10 - 3):compute())
    assert.equal(-2, (-x):compute())
    assert.equal("2x", (x .. "x"):compute())
    assert.equal(1.0, (x / 2):compute())
    assert.equal(2, (5 // x):compute())
    assert.equal(8, (x ^ 3):compute())
    assert.equal(1, (5 % x):compute())
    assert.equal(6, (x | 4):compute())
    assert.equal(3, (x ~ 1):compute())
    assert.equal(-3, (~x):compute())
    assert.equal(12, (3 << x):compute())
  end)

  it("calls a Delayed holding a function", function()
    local mk = lask.delayed(function(n) return function(y) return n * y end end)
    assert.equal(12, mk(3)(4):compute())
  end)

  it("unpacks nout results", function()
    local divmod = lask.delayed(function(a, b) return a // b, a % b end, {nout = 2})
    local q, r = divmod(17, 5)
    assert.equal(3, q:compute())
    assert.equal(2, r:compute())
  end)

  it("accepts Delayeds inside table arguments", function()
    local f = lask.delayed(function(t) return t[1] + t[2] end)
    assert.equal(7, f({inc(1), 5}):compute())
    local g = lask.delayed(function(t) return t.x + t.n.m + t[1] end)
    assert.equal(3 + 4 + 2, g({inc(1), x = inc(2), n = {m = inc(3)}}):compute())
    local h = lask.delayed(function(t) return #t end)
    assert.equal(3, h({1, 2, 3}):compute())
  end)

  it("computes several collections in one graph", function()
    local a, b, c = lask.compute(inc(1), inc(2), add(inc(1), inc(2)))
    assert.same({2, 3, 5}, {a, b, c})
  end)

  it("persists results", function()
    local total = sum(inc(1), inc(2), inc(3))
    local p = lask.persist(total)
    assert.equal(1, p:graph_size())
    assert.equal(9, p:compute())
    assert.equal(total:key(), p:key())
    assert.equal(10, add(p, 1):compute())
    local q = total:persist()
    assert.equal(9, q:compute())
  end)

  it("follows lask.config for the scheduler, also scoped", function()
    local in_worker = lask.delayed(function() return require("lask.core").in_worker() end, {pure = false})
    assert.is_true(in_worker():compute())
    lask.config.with({scheduler = "sync"}, function()
      assert.equal("sync", lask.config.get("scheduler"))
      assert.is_false(in_worker():compute())
    end)
    assert.equal("threads", lask.config.get("scheduler"))
    local restore = lask.config.set{scheduler = "sync"}
    assert.is_false(in_worker():compute())
    restore()
    assert.is_true(in_worker():compute())
    lask.config.set{array = {chunk_size = 1000}}
    assert.equal(1000, lask.config.get("array.chunk_size"))
  end)

  it("restores config after an error inside config.with", function()
    local ok = pcall(lask.config.with, {num_workers = 1}, function() error("x") end)
    assert.is_false(ok)
    assert.equal(0, lask.config.get("num_workers"))
  end)

  it("visualizes the graph as DOT, and PNG/SVG through dot", function()
    local d = add(inc(1), inc(2))
    local dot = d:visualize()
    assert.matches("^digraph", dot)
    local nodes, edges = 0, 0
    for _ in dot:gmatch("t%d+ %[label") do nodes = nodes + 1 end
    for _ in dot:gmatch("t%d+ %-> t%d+") do edges = edges + 1 end
    assert.equal(3, nodes)
    assert.equal(2, edges)
    local name = os.tmpname()
    d:visualize{filename = name .. ".dot"}
    local f = assert(io.open(name .. ".dot"))
    assert.equal(dot, f:read("a"))
    f:close()
    os.remove(name .. ".dot")
    local has_dot = os.execute("command -v dot >/dev/null 2>&1")
    if has_dot then
      d:visualize{filename = name .. ".svg"}
      f = assert(io.open(name .. ".svg"))
      assert.matches("<svg", f:read("a"))
      f:close()
      os.remove(name .. ".svg")
      d:visualize{filename = name .. ".png"}
      f = assert(io.open(name .. ".png", "rb"))
      assert.equal("\137PNG", f:read(4))
      f:close()
      os.remove(name .. ".png")
    end
    os.remove(name)
  end)

  it("shows a progress bar for computes above the threshold", function()
    local name = os.tmpname()
    local out = assert(io.open(name, "w"))
    local pb = lask.diagnostics.ProgressBar{minimum = 0, out = out, dt = 0}
    local r = pb:with(function() return add(inc(1), 1):compute() end)
    assert.equal(3, r)
    inc(5):compute()   -- not registered any more: no output
    out:close()
    local f = assert(io.open(name))
    local text = f:read("a")
    f:close()
    os.remove(name)
    assert.matches("100%% Completed", text)
    local lines = 0
    for _ in text:gmatch("\n") do lines = lines + 1 end
    assert.equal(1, lines)
    -- below the threshold nothing is drawn
    name = os.tmpname()
    out = assert(io.open(name, "w"))
    pb = lask.diagnostics.ProgressBar{minimum = 1000, out = out}:register()
    inc(6):compute()
    pb:unregister()
    out:close()
    f = assert(io.open(name))
    assert.equal("", f:read("a"))
    f:close()
    os.remove(name)
  end)
end)
