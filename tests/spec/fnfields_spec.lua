-- core.fn_fields (lua/fnfields.c): which constant fields of its first
-- argument a function reads, when that is all it does with it.
local core = require "lask.core"
local ff = core.fn_fields

-- Functions for the opcode check, one per line so luac's listing can be
-- matched by line. Together they produce every opcode but LOADKX.
local CORPUS = [[
local F, u = {}, 0
F[1] = function(r) local a, b, c, d, e = r, 1, 1.0, "s", false; local f, g; return a, b, c, d, e, f, g end
F[2] = function(a, b) return a > b end
F[3] = function() u = u + 1; g = u; return glob end
F[4] = function(t, k, v) t[k] = v; t[1] = v; t.x = v; return t[k], t[2], t.y end
F[5] = function(t) local x = {1, 2, t, n = 1}; return t:m(x) end
F[6] = function(a) return a + 1, a + 1.5, a - 1.5, a * 2, a % 3, a ^ 2, a / 2, a // 2 end
F[7] = function(a) return a & 1, a | 1, a ~ 1, a >> 1, 1 << a, a << 1 end
F[8] = function(a, b) return a + b, a - b, a * b, a % b, a ^ b, a / b, a // b end
F[9] = function(a, b) return a & b, a | b, a ~ b, a << b, a >> b end
F[10] = function(a, b) return -a, ~a, not a, #a, a .. b end
F[11] = function(a) do local x <close> = a end for i = 1, 3 do local y = i; F[0] = function() return y end end end
F[12] = function(a, b) if a == b then return 1 elseif a < b then return 2 elseif a <= b then return 3 end end
F[13] = function(a) if a == "s" then return 1 elseif a == 1 then return 2 elseif a < 1 then return 3 end end
F[14] = function(a) if a <= 1 then return 1 elseif a > 1 then return 2 elseif a >= 2 then return 3 end end
F[15] = function(a, b) if a then return b end local x = a or b; return x end
F[16] = function(a) print(a); return tostring(a) end
F[17] = function(t) for k, v in pairs(t) do print(k, v) end end
F[18] = function(...) local a, b = ...; return select("#", ...), a, b end
F[19] = function() return end
return F
]]

-- luac5.4 -l of the corpus: opcode names per function, by line defined.
local function luac_listing(path)
  local p = assert(io.popen("luac5.4 -l -p " .. path .. " 2>&1"))
  local out = p:read("a")
  p:close()
  local by_line, cur = {}, nil
  for line in out:gmatch("[^\n]+") do
    local ld = line:match("^function <[^:]*:(%d+),%d+>")
    if ld then
      ld = tonumber(ld)
      cur = {}
      if not by_line[ld] then by_line[ld] = cur end   -- the outer one first
    elseif cur then
      local name = line:match("^\t%d+\t%[[-%d]+%]\t(%u[%u%d]*)")
      if name then cur[#cur + 1] = name end
    end
  end
  return by_line
end

local function same(a, b) return a and b and #a == #b and table.concat(a, "\0") == table.concat(b, "\0") end

describe("core.fn_fields", function()
  it("decodes the opcodes luac5.4 lists, for every opcode but LOADKX", function()
    local path = os.tmpname()
    local fh = assert(io.open(path, "w")); fh:write(CORPUS); fh:close()
    local by_line = luac_listing(path)
    os.remove(path)
    local F = assert(load(CORPUS, "=corpus", "t", setmetatable({}, {__index = _G})))()
    local seen, nfun = {}, 0
    for i = 1, 19 do
      local f = assert(F[i], "corpus function " .. i)
      local line = debug.getinfo(f, "S").linedefined
      local want = assert(by_line[line], "luac listed no function at line " .. line)
      local got = ff(f, "ops")
      assert.is_true(same(got, want), ("function %d: got %s, luac says %s"):format(i,
        table.concat(got or {}, " "), table.concat(want, " ")))
      for _, n in ipairs(got) do seen[n] = true end
      nfun = nfun + 1
    end
    assert.equal(19, nfun)
    local names = {"MOVE", "LOADI", "LOADF", "LOADK", "LOADFALSE", "LFALSESKIP",
      "LOADTRUE", "LOADNIL", "GETUPVAL", "SETUPVAL", "GETTABUP", "GETTABLE", "GETI",
      "GETFIELD", "SETTABUP", "SETTABLE", "SETI", "SETFIELD", "NEWTABLE", "SELF",
      "ADDI", "ADDK", "SUBK", "MULK", "MODK", "POWK", "DIVK", "IDIVK", "BANDK", "BORK",
      "BXORK", "SHRI", "SHLI", "ADD", "SUB", "MUL", "MOD", "POW", "DIV", "IDIV", "BAND",
      "BOR", "BXOR", "SHL", "SHR", "MMBIN", "MMBINI", "MMBINK", "UNM", "BNOT", "NOT",
      "LEN", "CONCAT", "CLOSE", "TBC", "JMP", "EQ", "LT", "LE", "EQK", "EQI", "LTI",
      "LEI", "GTI", "GEI", "TEST", "TESTSET", "CALL", "TAILCALL", "RETURN", "RETURN0",
      "RETURN1", "FORLOOP", "FORPREP", "TFORPREP", "TFORCALL", "TFORLOOP", "SETLIST",
      "CLOSURE", "VARARG", "VARARGPREP", "EXTRAARG"}
    local missing = {}
    for _, n in ipairs(names) do if not seen[n] then missing[#missing + 1] = n end end
    assert.equal("", table.concat(missing, " "))
  end)

  it("lists the constant fields read from the first argument", function()
    assert.same({"value"}, ff(function(r) return r.value > 0.5 end))
    assert.same({"value", "kind"}, ff(function(r) return r.value > 0.5 and r.kind ~= "x" end))
    assert.same({"x"}, ff(function(r, a) return r.x + a end))
    assert.same({"tags"}, ff(function(r) local t = r.tags return #t > 1 and t[1] == "a" end))
    assert.same({"b", "a"}, ff(function(r) return r.b + r.a * r.b end))
    assert.same({"x"}, ff(function(r) if r then return r.x end end))
    assert.same({"v"}, ff(function(r) local v = r.v if v then return 1 end end))
    assert.same({"x", "y", "z"}, ff(function(r, a)
      local s = 0
      for i = 1, #a do if r.x > a[i] then s = s + r.y else s = s - i end end
      for _, v in ipairs(a) do s = s .. v end
      return s, r.z, r.x
    end))
    assert.same({}, ff(function(r) return 1 end))
    assert.same({}, ff(function(r) end))
  end)

  it("keeps odd and long field names byte for byte", function()
    local long = ("abcdefghij"):rep(6)            -- 60 bytes: a long string
    assert.same({"a b", "x\0y", "é", "kind"},
      ff(function(r) return r["a b"], r["x\0y"], r["é"], r["kind"] end))
    local f = load("return function(r) return r." .. long .. ", r['" .. long .. "!'] end")()
    assert.same({long, long .. "!"}, f and ff(f))
    -- 5.4 reads a long key as LOADK + GETTABLE: that pair is what we accept
    assert.same({"LOADK", "GETTABLE"}, {table.unpack(ff(f, "ops"), 1, 2)})
  end)

  it("accepts a key loaded just before GETTABLE when there are > 255 constants", function()
    local src = {"return function(r) local x = {"}
    for i = 1, 300 do src[#src + 1] = ("'c%d',"):format(i) end
    src[#src + 1] = "} return x, r.key end"
    local f = assert(load(table.concat(src)))()
    local ops = table.concat(ff(f, "ops"), " ")
    assert.truthy(ops:find("LOADK GETTABLE", 1, true))   -- no GETFIELD for "key"
    assert.falsy(ops:find("GETFIELD", 1, true))
    assert.same({"key"}, ff(f))
  end)

  it("answers nil for any other use of the first argument", function()
    local g, t, k, other = print, {}, "x", {}
    local cases = {
      function(r) return r end,
      function(r) return g(r) end,
      function(r) t[#t + 1] = r end,
      function(r) return r[k] end,
      function(r) return r:m() end,
      function(r) return function() return r.x end end,
      function(r) local function h() return r end return h end,
      function(r) r.x = 1 return r.x end,
      function(r) r = r.inner return r.x end,
      function(r) return r == other end,
      function(r) return r == nil end,
      function(r) for k2, v in pairs(r) do end end,
      function(r) return #r end,
      function(r) return r[1] end,
      function(r) return r.x, r[2] end,
      function(r) return r and r.x end,          -- may return r itself
      function(r) local s = r; return s.x end,
      function(r) return r .. "" end,
      function(r) return -r end,
      function(r) return r + 1 end,
      function(r) return r.x.y, t[r] end,
      function(r) local x <close> = r end,
      -- the key register is loaded just before, but control may also come
      -- from a jump (if, numeric for exit, and/or) carrying another key
      function(r, c) local key = "x"; if c then key = "y" end return r[key] end,
      function(r, c) local key = "x"; for _ = 1, c do key = "y" end return r[key] end,
      function(r, c) local key = c and "x" or "y" return r[key] end,
      function(r) local key = 1.5 return r[key] end,
      function(...) return (...).x end,
      function(r, ...) return r.x end,
      function() end,
      print, string.format,
    }
    for i, f in ipairs(cases) do
      local got = ff(f)
      assert.is_nil(got, ("case %d gave {%s}"):format(i, table.concat(got or {}, ",")))
    end
    for _, v in ipairs{1, "s", {}, true} do assert.is_nil(ff(v)) end
  end)

  it("never fails on the stdlib's functions nor on mutated bytecode", function()
    local n, seen = 0, {}
    local function check(f)
      local r = ff(f)
      assert.is_true(r == nil or type(r) == "table")
      for i, v in ipairs(r or {}) do assert.equal("string", type(v), i) end
      n = n + 1
    end
    local function walk(v, depth)
      if seen[v] or depth > 3 then return end
      seen[v] = true
      if type(v) == "function" then check(v)
      elseif type(v) == "table" then for _, x in pairs(v) do walk(x, depth + 1) end end
    end
    walk(package.loaded, 0)
    assert.is_true(n > 100, "only " .. n .. " functions")
    -- Flip bits in the instructions of a dumped function and load it back
    -- (never run it): the analysis must cope with any opcode or operand.
    local base = string.dump(function(r, a)
      local s = 0
      for i = 1, #a do if r.x > a[i] then s = s + r.y else s = s - i end end
      return s, r.z
    end, true)
    -- stripped 5.4 chunk: a 32-byte header and upvalue count, the source
    -- (absent: one byte), two line numbers, numparams, is_vararg, maxstack,
    -- then the instruction count and the code (counts are ldump.c varints)
    local pos = 34
    local function varint()
      local x, b = 0, 0
      repeat b = base:byte(pos); pos = pos + 1; x = (x << 7) | (b & 0x7f) until b & 0x80 ~= 0
      return x
    end
    assert.equal(0x80, base:byte(33))
    varint(); varint(); pos = pos + 3
    local count = varint()
    assert.is_true(count > 10 and pos + count * 4 < #base)
    math.randomseed(42)
    local loaded = 0
    for _ = 1, 3000 do
      local b = {base:byte(1, -1)}
      for _ = 1, math.random(1, 4) do
        local at = pos + math.random(0, count * 4 - 1)
        b[at] = math.random(0, 255)
      end
      local s = {}
      for i = 1, #b, 4000 do s[#s + 1] = string.char(table.unpack(b, i, math.min(i + 3999, #b))) end
      local f = load(table.concat(s), "=mutant", "b")
      if f then loaded = loaded + 1; check(f) end
    end
    assert.is_true(loaded > 2000)
  end)
end)
