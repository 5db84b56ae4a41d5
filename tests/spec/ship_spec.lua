-- Shipping Lua functions to worker states (core.ship / core.ltask).
local core = require "lask.core"

local n = 0
local function key(name) n = n + 1; return ("%s-ship-%d"):format(name, n) end

local function run(f, scheduler, ...)
  return core.compute({core.ltask(key("t"), f, ...)}, {scheduler = scheduler})[1]
end

for _, sched in ipairs{"threads", "sync"} do
  describe("shipped functions on " .. sched, function()
    it("see their upvalues: numbers, strings, tables, functions", function()
      local k, s, t = 3, "ab", {1, 2, {3}}
      local function helper(x) return x * k end
      local f = function(x) return helper(x) .. s .. #t .. t[3][1] end
      assert.equal("12ab33", run(f, sched, 4))
    end)

    it("use standard library functions and modules by name", function()
      local floor, fmt = math.floor, string.format
      local f = function(x) return fmt("%d|%s", floor(x), string.rep("z", 2)) end
      assert.equal("3|zz", run(f, sched, 3.7))
    end)

    it("reach lask modules required by the caller", function()
      local config = require "lask.config"
      local f = function() return config.get("scheduler") ~= nil end
      assert.is_true(run(f, sched))
    end)

    it("get task arguments and return values following the value mapping", function()
      local f = function(i, fl, s, b, t, nl)
        return {math.type(i), math.type(fl), s, b, t.x, nl == nil}
      end
      local r = run(f, sched, 7, 7.0, "s\0z", false, {x = "y"}, nil)
      assert.same({"integer", "float", "s\0z", false, "y", true}, r)
    end)

    it("receive core.list arguments as sequences, with nested lists and tasks", function()
      local v = core.value(key("v"), 5)
      local f = function(l) return l[1] + l[2] + l[3][1] + #l end
      assert.equal(5 + 1 + 10 + 3, run(f, sched, core.list{v, 1, core.list{10}}))
    end)

    it("may return functions and tables, which come back as values", function()
      local r = run(function(x) return function(y) return x + y end end, sched, 40)
      assert.equal(42, r(2))
    end)

    it("only return their first value", function()
      assert.equal(1, run(function() return 1, 2, 3 end, sched))
    end)
  end)
end

describe("shipping", function()
  it("copies upvalues when shipped: later changes are not seen", function()
    local t = {v = 1}
    local shipped = core.ship(function() return t.v end)
    t.v = 2
    local r = core.compute({core.ltask(key("copy"), shipped)}, {scheduler = "threads"})[1]
    assert.equal(1, r)
  end)

  it("fails at once naming the upvalue that cannot be shipped", function()
    local co = coroutine.create(print)
    local ok, err = pcall(core.ship, function() return co end)
    assert.is_false(ok)
    assert.matches("cannot ship a coroutine at upvalue 'co' of the function defined at .*ship_spec.lua:%d+", err)
    ok, err = pcall(core.ltask, "x-1", function() return co end)
    assert.is_false(ok)
    assert.matches("upvalue 'co'", err)
  end)

  it("names the function holding a nested bad upvalue", function()
    local gm = string.gmatch("a", "a")
    local function inner() return gm end
    local ok, err = pcall(core.ship, function() return inner() end)
    assert.is_false(ok)
    assert.matches("at upvalue 'gm' of the function defined at .*ship_spec.lua:%d+", err)
  end)

  it("refuses task objects as upvalues", function()
    local t = core.value("v-up", 1)
    local ok, err = pcall(core.ship, function() return t end)
    assert.is_false(ok)
    assert.matches("task object", err)
  end)

  it("loads a function once per worker state, however many tasks use it", function()
    local f = core.ship(function(i)
      local st = require("lask.core").stats()
      return {i = i, decoded = st.decoded, worker = st.worker}
    end)
    local ts = {}
    for i = 1, 200 do ts[i] = core.ltask(key("once"), f, i) end
    local rs = core.compute(ts, {scheduler = "threads"})
    -- the decode counter of each worker state does not move between its tasks
    local per = {}
    for i, r in ipairs(rs) do
      assert.equal(i, r.i)
      assert.is_true(r.worker >= 0)
      per[r.worker] = per[r.worker] or {}
      per[r.worker][r.decoded] = true
    end
    for w, counts in pairs(per) do
      local distinct = 0
      for _ in pairs(counts) do distinct = distinct + 1 end
      assert.equal(1, distinct, "worker " .. w .. " decoded the function more than once")
    end
  end)

  it("runs the caller's own closure under sync (effects as in plain Lua)", function()
    local count = 0
    local f = core.ship(function() count = count + 1; return count end)
    core.compute({core.ltask(key("s"), f), core.ltask(key("s"), f)}, {scheduler = "sync"})
    assert.equal(2, count)
  end)

  it("under sync, tells apart closures that only share their code and values", function()
    local function counter()
      local n = 0
      return core.ship(function() n = n + 1; return n end)
    end
    local a, b = counter(), counter()
    core.compute({core.ltask(key("a"), a), core.ltask(key("a"), a), core.ltask(key("b"), b)},
      {scheduler = "sync"})
    local ra = core.compute({core.ltask(key("a"), a)}, {scheduler = "sync"})[1]
    local rb = core.compute({core.ltask(key("b"), b)}, {scheduler = "sync"})[1]
    assert.equal(3, ra)
    assert.equal(2, rb)
  end)

  it("gives worker states the standard libraries and lask", function()
    local f = function()
      return type(string.format) .. type(io.write) .. type(require("lask").delayed)
    end
    assert.equal("functionfunctionfunction", run(f, "threads"))
  end)

  it("ships delayed functions, so a task can build and compute its own graph", function()
    local lask = require "lask"
    local inc = lask.delayed(function(x) return x + 1 end)
    local outer = lask.delayed(function(n)
      local parts = {}
      for i = 1, n do parts[i] = inc(i) end
      return {lask.compute(table.unpack(parts))}
    end)
    assert.same({2, 3, 4}, outer(3):compute())
    assert.same({2, 3, 4}, outer(3):compute{scheduler = "sync"})
  end)

  it("cannot put a shipped function into an encoded string", function()
    local s = core.ship(function() end)
    local ok, err = pcall(core.encode, {s})
    assert.is_false(ok)
    assert.matches("within one process", err)
  end)
end)
