-- lask.json: decode through lua-cjson, exact encode, errors that say where.
local json = require "lask.json"

describe("lask.json", function()
  it("decodes objects, arrays, strings, numbers, booleans and null", function()
    local t = json.decode('{"user": "u1", "kind": "buy", "value": 0.25, "ok": true,'
      .. ' "tags": ["a", "b\\n"], "none": null, "n": -3}')
    assert.are.equal("u1", t.user)
    assert.are.equal(0.25, t.value)
    assert.is_true(t.ok)
    assert.are.same({ "a", "b\n" }, t.tags)
    assert.are.equal(json.null, t.none)
    assert.are.equal(-3, t.n)
  end)

  it("names line and column of malformed input", function()
    local ok, err = pcall(json.decode, '{"a": 1,\n "b": [1,,2]}')
    assert.is_false(ok)
    assert.matches("malformed JSON at line 2, column 10", err, 1, true)
    ok, err = pcall(json.decode, '{"a": tru}')
    assert.is_false(ok)
    assert.matches("at column 7", err, 1, true)
    ok, err = pcall(json.decode, "")
    assert.is_false(ok)
    assert.matches("malformed JSON", err, 1, true)
  end)

  it("rejects non-strings", function()
    local ok, err = pcall(json.decode, 42)
    assert.is_false(ok)
    assert.matches("expected a string, got number", err, 1, true)
  end)

  it("encodes floats exactly and integers as integers", function()
    for _, x in ipairs({ 0.1, 1 / 3, 1e300, -2.5e-310, 0.1234567890123456, 2 ^ 60 }) do
      assert.are.equal(x, json.decode(json.encode(x)))
    end
    assert.are.equal("9007199254740993", json.encode(9007199254740993))
    assert.are.equal("3", json.encode(3))
  end)

  it("encodes tables as arrays or objects with sorted keys", function()
    assert.are.equal('[1,"x",true,null]', json.encode({ 1, "x", true, json.null }))
    assert.are.equal('{"a":[],"b":{},"c":"q\\"\\n\\u0001"}',
      json.encode({ c = 'q"\n\1', b = json.object(), a = {} }))
    local rec = { user = "u9", tags = { "p", "q" }, value = 0.75, n = 2 }
    assert.are.same(rec, json.decode(json.encode(rec)))
  end)

  it("refuses what JSON cannot hold, naming where", function()
    local ok, err = pcall(json.encode, { a = { 1, 0 / 0 } })
    assert.is_false(ok)
    assert.matches("value.a[2] is", err, 1, true)
    ok, err = pcall(json.encode, { f = print })
    assert.is_false(ok)
    assert.matches("value.f is a function", err, 1, true)
    local cyc = {}
    cyc.me = cyc
    ok, err = pcall(json.encode, cyc)
    assert.is_false(ok)
    assert.matches("contains itself", err, 1, true)
    ok, err = pcall(json.encode, { [{}] = 1 })
    assert.is_false(ok)
    assert.matches("table key", err, 1, true)
  end)
end)

describe("json.null across task boundaries", function()
  local db = require "lask.bag"
  local core = require "lask.core"

  it("ships records holding null through a bag, on threads and sync", function()
    for _, sched in ipairs({ "threads", "sync" }) do
      local r = db.from_sequence({ '{"a": null, "b": 1}', '{"a": 2}', '[null, 3]' },
        { npartitions = 2 }):map(json.decode):compute({ scheduler = sched })
      assert.are.equal(3, #r)
      assert.are.equal(json.null, r[1].a)
      assert.are.equal(1, r[1].b)
      assert.are.equal(2, r[2].a)
      assert.are.equal(json.null, r[3][1])
      assert.are.equal(3, r[3][2])
    end
  end)

  it("ships null as an upvalue and round-trips it through the value encoding", function()
    local null = json.null
    local r = db.from_sequence({ 1, 2 }, { npartitions = 2 })
      :map(function(x) return { x = x, none = null } end):compute()
    assert.are.equal(null, r[2].none)
    assert.are.equal(null, core.decode(core.encode({ k = null })).k)
  end)
end)
