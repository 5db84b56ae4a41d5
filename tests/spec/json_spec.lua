-- lask.json: decode through simdjson (lua-cjson as fallback), exact encode,
-- errors that say where.
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

  it("keeps integers integers and exact, other numbers floats", function()
    local t = json.decode('{"a": 3, "b": 3.0, "c": -7, "d": 9007199254740993, "e": 1e2,'
      .. ' "f": 9223372036854775807, "g": 18446744073709551615}')
    assert.are.equal("integer", math.type(t.a))
    assert.are.equal("float", math.type(t.b))
    assert.are.equal(-7, t.c)
    assert.are.equal("integer", math.type(t.d))
    assert.are.equal(9007199254740993, t.d)   -- above 2^53: a float would round it
    assert.are.equal("float", math.type(t.e))
    assert.are.equal(math.maxinteger, t.f)
    assert.are.equal(18446744073709551615.0, t.g)
  end)

  it("falls back to lua-cjson for what simdjson refuses but JSON readers accept", function()
    -- beyond 64 bits: a float, as Lua's own tonumber gives
    assert.are.equal(1.2345678901234568e29, json.decode("123456789012345678901234567890"))
    -- bytes that are not UTF-8 pass through unchanged
    assert.are.equal("a\255b", json.decode('"a\255b"'))
    assert.are.same({ x = "\200" }, json.decode('{"x": "\200"}'))
  end)

  it("refuses nesting deeper than 1000 levels without crashing", function()
    local deep = ("["):rep(5000) .. ("]"):rep(5000)
    local ok, err = pcall(json.decode, deep)
    assert.is_false(ok)
    assert.matches("malformed JSON", err, 1, true)
    local fine = json.decode(("["):rep(900) .. "1" .. ("]"):rep(900))
    for _ = 1, 900 do fine = fine[1] end
    assert.are.equal(1, fine)
  end)

  it("decodes small records again after a huge one (its buffers given back)", function()
    local big = "[" .. ("1,"):rep(9000000) .. "2]"   -- 18 MB
    local t = json.decode(big)
    assert.are.equal(9000001, #t)
    assert.are.equal(2, t[#t])
    assert.are.same({ a = { 1, "x" } }, json.decode('{"a": [1, "x"]}'))
    local jd = require "lask.core.json"
    local out = {}
    local np, k = jd.batch(big .. "\n[7]\n" .. big .. "\n[8]", 0, "\n", nil, out, 10)
    assert.are.equal(4, k)
    assert.are.same({ 7 }, out[2])
    assert.are.same({ 8 }, out[4])
    assert.are.equal(9000001, #out[3])
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

-- The batch decoder under lask.bag's read_text(...):map(json.decode).
describe("lask.core.json.batch", function()
  local jd = require "lask.core.json"
  local textio = require "lask.core.textio"

  it("decodes whole lines in batches, from a string or a reused text buffer", function()
    local lines = {}
    for i = 1, 1000 do lines[i] = ('{"i": %d, "s": "%s", "t": [%d]}'):format(i, ("z"):rep(i % 70), i) end
    local text = table.concat(lines, "\n")   -- no final delimiter
    local out, pos, got = {}, 0, {}
    while pos < #text do
      local np, k = jd.batch(text, pos, "\n", nil, out, 64)
      assert.is_true(k >= 1 and k <= 64 and #out == k)
      for j = 1, k do got[#got + 1] = out[j] end
      pos = np
    end
    assert.are.equal(1000, #got)
    for i = 1, 1000 do
      assert.are.same({ i = i, s = ("z"):rep(i % 70), t = { i } }, got[i])
    end
    -- the same through a text buffer filled by textio.read_lines
    local f = os.tmpname()
    local h = assert(io.open(f, "w")); h:write(text); h:close()
    local buf = textio.textbuf()
    local b2, first = textio.read_lines(f, 0, #text, "\n", buf)
    assert.are.equal(buf, b2)
    assert.are.equal(0, first)
    assert.are.equal(#text, #buf)   -- lines with their delimiters, the last has none
    local np, k = jd.batch(buf, 0, "\n", nil, out, 5000)
    assert.are.equal(1000, k)
    assert.are.equal(#buf, np)
    assert.are.same(got[1000], out[1000])
    os.remove(f)
  end)

  it("keeps only the asked fields of object records, other values whole", function()
    local text = '{"a": 1, "b": {"c": [1, 2]}, "d": "x", "a": 5}\n[1, {"a": 2}]\n7\n{"zz": null}\n'
    local out = {}
    local np, k = jd.batch(text, 0, "\n", { "a", "b", "q" }, out, 10)
    assert.are.equal(#text, np)
    assert.are.equal(4, k)
    assert.are.same({ a = 5, b = { c = { 1, 2 } } }, out[1])   -- the last "a" wins, as in decode
    assert.are.same({ 1, { a = 2 } }, out[2])
    assert.are.equal(7, out[3])
    assert.are.same({}, out[4])
  end)

  it("stops at a bad record with its index, text and the offset after it", function()
    local text = '{"a": 1}\n{"a": 2}\n{"a": \n{"a": 4}\n'
    local out = { "stale", "stale", "stale", "stale" }
    local np, k, msg, line, after = jd.batch(text, 0, "\n", nil, out, 10)
    assert.is_nil(np)
    assert.are.equal(3, k)
    assert.is_string(msg)
    assert.are.equal('{"a": ', line)
    assert.are.equal(#'{"a": 1}\n{"a": 2}\n{"a": \n', after)
    assert.are.equal(2, #out)            -- filled before the bad one, stale ones cleared
    assert.are.same({ a = 2 }, out[2])
    np, k = jd.batch(text, after, "\n", nil, out, 10)
    assert.are.equal(1, k)
    assert.are.same({ a = 4 }, out[1])
    -- multi-byte delimiters; and arguments checked
    np, k = jd.batch('1||2||3', 0, "||", nil, out, 10)
    assert.are.same({ 1, 2, 3 }, { out[1], out[2], out[3] })
    assert.has_error(function() jd.batch("1", 5, "\n", nil, out, 1) end)
    assert.has_error(function() jd.batch("1", 0, "", nil, out, 1) end)
    assert.has_error(function() jd.batch("1", 0, "\n", { 1 }, out, 1) end)
    assert.has_error(function() jd.batch("1", 0, "\n", nil, out, 0) end)
  end)
end)
