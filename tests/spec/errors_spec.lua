-- Every misuse gets an error that says what and where (issue 2, "Bad input").
local lask = require "lask"
local core = require "lask.core"

local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(e)
end

describe("errors", function()
  it("delayed on a non-function", function()
    assert.matches("lask.delayed: expected a function, got number", err_of(lask.delayed, 42), 1, true)
    assert.matches("got nil", err_of(lask.delayed))
    assert.matches("got table", err_of(lask.delayed, {}))
    local d = lask.delayed(function() return 1 end)()
    assert.matches("already lazy", err_of(lask.delayed, d))
  end)

  it("compute on something that is not a lask object", function()
    assert.matches("lask.compute: argument #1 is a number, not a lask collection",
      err_of(lask.compute, 5), 1, true)
    local d = lask.delayed(function() return 1 end)()
    assert.matches("argument #2 is a string", err_of(lask.compute, d, "x", {}))
    assert.matches("argument #1 is a table", err_of(lask.persist, setmetatable({}, {})))
    assert.matches("not a task", err_of(core.compute, {1}))
    assert.matches("pass collections as separate arguments", err_of(lask.compute, {d, d}), 1, true)
    assert.matches("lask.compute: no lask collection given", err_of(lask.compute, {}), 1, true)
    assert.matches("lask.compute: no lask collection given", err_of(lask.compute), 1, true)
    assert.matches("no lask collection given", err_of(lask.persist, {scheduler = "sync"}), 1, true)
  end)

  it("unknown option names are named", function()
    local d = lask.delayed(function() return 1 end)()
    assert.matches("compute: unknown option 'schedular'", err_of(d.compute, d, {schedular = "sync"}), 1, true)
    assert.matches("lask.compute: unknown option 'workers'", err_of(lask.compute, d, {workers = 2}), 1, true)
    assert.matches("unknown scheduler 'processes2'", err_of(d.compute, d, {scheduler = "processes2"}), 1, true)
    assert.matches("lask.delayed: unknown option 'purity'",
      err_of(lask.delayed, function() end, {purity = false}), 1, true)
    assert.matches("lask.config: unknown option 'num_worker'", err_of(lask.config.set, {num_worker = 1}), 1, true)
    assert.matches("lask.config: unknown option 'array.chunksize'",
      err_of(lask.config.set, {array = {chunksize = 1}}), 1, true)
    assert.matches("unknown option 'nope'", err_of(lask.config.with, {nope = 1}, function() end), 1, true)
    assert.matches("unknown option 'nope'", err_of(lask.config.get, "nope"), 1, true)
    assert.matches("ProgressBar: unknown option 'minimun'",
      err_of(lask.diagnostics.ProgressBar, {minimun = 1}), 1, true)
    assert.matches("visualize: unknown option 'file'", err_of(d.visualize, d, {file = "x.png"}), 1, true)
    assert.matches("unknown compute option 'sched'", err_of(core.compute, {}, {sched = 1}), 1, true)
    assert.matches("option num_workers", err_of(d.compute, d, {num_workers = -1}), 1, true)
  end)

  it("bad option values are named", function()
    assert.matches("option 'scheduler'", err_of(lask.config.set, {scheduler = "fast"}), 1, true)
    assert.matches("option nout", err_of(lask.delayed, function() end, {nout = "2"}), 1, true)
  end)

  it("an unshippable upvalue names the upvalue and the function's source line", function()
    local co = coroutine.create(function() end)
    local e = err_of(lask.delayed, function() return co end)
    assert.matches("cannot ship a coroutine at upvalue 'co' of the function defined at "
      .. ".*errors_spec.lua:%d+", e)
    local file = io.tmpfile()
    local opts = {sink = {file = file}}
    e = err_of(lask.delayed, function() return opts end)
    file:close()
    assert.matches("at upvalue 'opts'.sink.file", e, 1, true)
  end)

  it("a failing task gives its key, the message and the Lua traceback", function()
    local bad = lask.delayed(function(x) error("no good: " .. x) end, {name = "failing"})
    for _, sched in ipairs{"threads", "sync"} do
      local d = bad(7)
      local e = err_of(d.compute, d, {scheduler = sched})
      assert.matches("task '" .. d:key() .. "' failed", e, 1, true)
      assert.matches("errors_spec.lua:%d+: no good: 7", e)
      assert.matches("stack traceback:", e, 1, true)
    end
  end)

  it("a failing task stops the compute and the next compute works", function()
    local inc = lask.delayed(function(x) return x + 1 end)
    local bad = lask.delayed(function() error("stop") end)()
    local add = lask.delayed(function(a, b) return a + b end)
    assert.matches("stop", err_of(lask.compute, add(inc(1), bad)))
    assert.equal(3, inc(2):compute())
  end)

  it("a task returning something that cannot be shipped says so", function()
    local d = lask.delayed(function() return coroutine.create(print) end)()
    local e = err_of(d.compute, d)
    assert.matches("task '" .. d:key() .. "' failed", e, 1, true)
    assert.matches("coroutine", e)
  end)

  it("a Delayed cannot be compared or assigned to", function()
    local d = lask.delayed(function() return 1 end)()
    assert.matches("cannot be compared", err_of(function() return d < d end))
    assert.matches("immutable", err_of(function() d.x = 1 end))
  end)

  it("core.task with an unknown kernel fails at compute with the kernel's name", function()
    local t = core.task("k-1", "no.such.kernel", 1)
    assert.matches("no.such.kernel", err_of(core.compute, {t}), 1, true)
  end)

  it("bad keys and arguments to core functions", function()
    assert.matches("key", err_of(core.task, "", "k"))
    assert.matches("key", err_of(core.value, "a\0b", 1))
    assert.matches("function", err_of(core.ltask, "k-1", 42))
    assert.matches("task", err_of(core.key, {}))
    assert.matches("malformed", err_of(core.decode, "LSK\1"))
  end)
end)
