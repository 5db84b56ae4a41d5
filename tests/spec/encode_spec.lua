-- The value encoding (lua/encode.c) through core.encode / core.decode.
local core = require "lask.core"

local function rt(v) return core.decode(core.encode(v)) end

describe("value encoding", function()
  it("keeps scalars exact: integers stay integers, floats stay floats", function()
    for _, v in ipairs{0, 1, -1, 127, 128, -129, 2^31, math.maxinteger, math.mininteger} do
      local r = rt(v)
      assert.equal(math.type(v), math.type(r))
      assert.equal(v, r)
    end
    for _, v in ipairs{0.5, -1.25, 1e308, 5e-324, 1.0, 3.0, 2^53 + 0.0, 0.1} do
      local r = rt(v)
      assert.equal("float", math.type(r))
      assert.equal(v, r)
    end
    assert.equal(nil, rt(nil))
    assert.equal(true, rt(true))
    assert.equal(false, rt(false))
  end)

  it("round-trips NaN, infinities and negative zero", function()
    local n = rt(0 / 0)
    assert.is_true(n ~= n)
    assert.equal(math.huge, rt(math.huge))
    assert.equal(-math.huge, rt(-math.huge))
    local z = rt(-0.0)
    assert.equal(0, z)
    assert.equal(-math.huge, 1 / z)
    assert.equal(math.huge, 1 / rt(0.0))
  end)

  it("keeps strings with embedded zeros and every byte value", function()
    local bytes = {}
    for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
    local s = table.concat(bytes) .. "\0\0end"
    assert.equal(s, rt(s))
    assert.equal("", rt(""))
    local big = ("x\0y"):rep(100000)
    assert.equal(big, rt(big))
  end)

  it("keeps nested tables, cycles and shared references", function()
    local shared = {v = 1}
    local t = {1, 2.5, "three", nested = {deep = {deeper = true}}, a = shared, b = shared}
    t.self = t
    t.nested.parent = t
    t[shared] = "table key"
    local r = rt(t)
    assert.equal(1, r[1]); assert.equal(2.5, r[2]); assert.equal("three", r[3])
    assert.is_true(r.nested.deep.deeper)
    assert.equal(r, r.self)
    assert.equal(r, r.nested.parent)
    assert.equal(r.a, r.b)
    assert.equal("table key", r[r.a])
    assert.are_not.equal(shared, r.a)   -- a copy, not the same table
  end)

  it("keeps holes and sparse keys of sequences", function()
    local r = rt({1, nil, 3, nil, [10] = 10, [-1] = "neg", [0] = "zero", [2^53] = "big"})
    assert.equal(1, r[1]); assert.is_nil(r[2]); assert.equal(3, r[3]); assert.is_nil(r[4])
    assert.equal(10, r[10]); assert.equal("neg", r[-1]); assert.equal("zero", r[0])
    assert.equal("big", r[2^53])
    local n = 0
    for _ in pairs(r) do n = n + 1 end
    assert.equal(6, n)
  end)

  it("keeps metatables", function()
    local mt = {__index = function(_, k) return k .. "!" end}
    local r = rt(setmetatable({}, mt))
    assert.equal("hi!", r.hi)
  end)

  it("ships functions as bytecode with their upvalues", function()
    local base, scale = 10, {k = 3}
    local function f(x) return (x + base) * scale.k end
    local g = rt(f)
    assert.equal(33, g(1))
    local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
    assert.equal(3628800, rt(fact)(10))
  end)

  it("keeps upvalues shared between closures shared", function()
    local n = 0
    local function inc() n = n + 1; return n end
    local function get() return n end
    local r = rt({inc = inc, get = get})
    r.inc(); r.inc()
    assert.equal(2, r.get())
    assert.equal(0, n)   -- the original is untouched
  end)

  it("keeps debug info, so errors name the source line", function()
    local function boom() error("kaboom") end
    local ok, err = pcall(rt(boom))
    assert.is_false(ok)
    assert.matches("encode_spec.lua:%d+: kaboom", err)
  end)

  it("maps the globals table to the receiver's globals", function()
    local g = rt({env = _G})
    assert.equal(_G, g.env)
    local function uses_global() return type(print) end
    assert.equal("function", rt(uses_global)())
  end)

  it("names standard library functions and loaded modules", function()
    local r = rt({math.floor, string.format, string, print, io.stdout, require "lask.core"})
    assert.equal(math.floor, r[1])
    assert.equal(string.format, r[2])
    assert.equal(string, r[3])
    assert.equal(print, r[4])
    assert.equal(io.stdout, r[5])
    assert.equal(core, r[6])
  end)

  it("refuses what cannot be shipped, naming the path and the function", function()
    local co = coroutine.create(function() end)
    local ok, err = pcall(core.encode, co)
    assert.is_false(ok)
    assert.matches("cannot ship a coroutine", err)

    local cfg = {handlers = {on_item = string.gmatch("a", "a")}}   -- an unnamed C closure
    local function uses() return cfg end
    ok, err = pcall(core.encode, uses)
    assert.is_false(ok)
    assert.matches("C function that is not reachable by name", err, 1, true)
    assert.matches("upvalue 'cfg'", err, 1, true)
    assert.matches("on_item", err, 1, true)
    assert.matches("encode_spec.lua:%d+", err)

    local f = io.tmpfile()
    ok, err = pcall(core.encode, {file = f})
    f:close()
    assert.is_false(ok)
    assert.matches("userdata that is not a lask chunk", err, 1, true)
  end)

  it("keeps linked structures a few hundred levels deep", function()
    local list = nil
    for i = 1, 900 do list = {v = i, next = list} end
    local r, n = rt(list), 0
    while r do n = n + 1; assert.equal(901 - n, r.v); r = r.next end
    assert.equal(900, n)
  end)

  it("refuses values nested too deeply instead of overflowing the stack", function()
    local t = {}
    local cur = t
    for _ = 1, 5000 do cur.x = {}; cur = cur.x end
    local ok, err = pcall(core.encode, t)
    assert.is_false(ok)
    assert.matches("nested too deeply", err)
  end)

  it("turns malformed bytes into errors, never a crash", function()
    local good = core.encode({1, "two", {3}, function(x) return x end, 4.5})
    for i = 0, #good - 1 do
      local ok = pcall(core.decode, good:sub(1, i))
      assert.is_false(ok)
    end
    for i = 1, #good do
      local b = good:byte(i)
      local bad = good:sub(1, i - 1) .. string.char((b + 1) % 256) .. good:sub(i + 1)
      local ok, err = pcall(core.decode, bad)
      assert.is_false(ok)
      assert.matches("malformed", err)
    end
    for _, s in ipairs{"", "garbage", ("\255"):rep(40), good .. "x"} do
      local ok, err = pcall(core.decode, s)
      assert.is_false(ok)
      assert.matches("malformed", err)
    end
  end)

  it("tokenizes deterministically and tells values apart", function()
    local t1 = core.tokenize(1, "a", {x = 1, 2})
    assert.equal(t1, core.tokenize(1, "a", {x = 1, 2}))
    assert.equal(32, #t1)
    assert.matches("^%x+$", t1)
    assert.are_not.equal(t1, core.tokenize(1, "b", {x = 1, 2}))
    assert.are_not.equal(core.tokenize(1), core.tokenize(1.0))
    assert.are_not.equal(core.tokenize("1"), core.tokenize(1))
    assert.are_not.equal(core.tokenize(1, 2), core.tokenize(2, 1))
    local a = core.value("a-1", 1)
    local b = core.value("a-1", 2)
    assert.equal(core.tokenize(a), core.tokenize(b))   -- tasks count by key
    assert.are_not.equal(core.tokenize(a), core.tokenize(core.value("a-2", 1)))
    -- unshippable values still tokenize (by identity)
    local co = coroutine.create(print)
    assert.equal(core.tokenize(co), core.tokenize(co))
  end)
  it("builds the map of named values once while package.loaded stays the same", function()
    core.encode({ math.sin })
    local names = debug.getregistry()["lask.names"]
    assert.is_table(names)
    core.encode({ 1, string.format })
    core.tokenize({ x = 1 })
    assert.equal(names, debug.getregistry()["lask.names"])   -- reused, not rebuilt
    package.loaded["lask.test.names"] = { f = function() end }
    core.encode({ 2 })
    assert.are_not.equal(names, debug.getregistry()["lask.names"])   -- a new module: rebuilt
    package.loaded["lask.test.names"] = nil
  end)
end)
