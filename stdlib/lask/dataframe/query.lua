-- lask.dataframe.query: the small expression language of df:query(expr)
-- and df:eval(expr).
--
--   x > 0.5 and cat == 'alpha'       comparisons: == != ~= < <= > >=
--   not (y < 0) or key in {1, 2, 3}  and / or / not, in {...}, not in {...}
--   (x + y) * 2 >= 3 % 2             + - * / // % ^, unary -
--   name == @target                  @name: a value from the env table
--   `odd name` > 1                   backquotes around any column name
--
-- parse(expr) gives a tree; eval(tree, part, env) runs it on a local frame
-- (columns come back as one-column frames; & | ~ combine masks).
local M = {}

local function fail(src, pos, msg)
  error(("query: %s at position %d\n  %s\n  %s^"):format(msg, pos, src, (" "):rep(pos - 1)), 0)
end

local function lex(src)
  local toks, i, n = {}, 1, #src
  while i <= n do
    local c = src:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif c:match("[%a_]") then
      local w = src:match("^[%w_%.]+", i)
      toks[#toks + 1] = {t = "name", v = w, pos = i}
      i = i + #w
    elseif c:match("%d") or (c == "." and src:sub(i + 1, i + 1):match("%d")) then
      local w = src:match("^%d*%.?%d*[eE][%+%-]?%d+", i) or src:match("^%d*%.?%d*", i)
      local v = math.tointeger(tonumber(w)) or tonumber(w)
      if v == nil then fail(src, i, "malformed number '" .. w .. "'") end
      toks[#toks + 1] = {t = "num", v = v, pos = i}
      i = i + #w
    elseif c == "'" or c == '"' then
      local j, buf = i + 1, {}
      while true do
        local d = src:sub(j, j)
        if d == "" then fail(src, i, "unterminated string") end
        if d == "\\" then buf[#buf + 1] = src:sub(j + 1, j + 1); j = j + 2
        elseif d == c then break
        else buf[#buf + 1] = d; j = j + 1 end
      end
      toks[#toks + 1] = {t = "str", v = table.concat(buf), pos = i}
      i = j + 1
    elseif c == "`" then
      local j = src:find("`", i + 1, true)
      if not j then fail(src, i, "unterminated `name`") end
      toks[#toks + 1] = {t = "col", v = src:sub(i + 1, j - 1), pos = i}
      i = j + 1
    elseif c == "@" then
      local w = src:match("^[%a_][%w_]*", i + 1)
      if not w then fail(src, i, "'@' must be followed by a name") end
      toks[#toks + 1] = {t = "var", v = w, pos = i}
      i = i + 1 + #w
    else
      local op = src:match("^[=~!<>]=", i) or src:match("^//", i) or src:match("^[%+%-%*/%%%^<>%(%){},&|]", i)
      if not op then fail(src, i, "unexpected character '" .. c .. "'") end
      toks[#toks + 1] = {t = "op", v = op, pos = i}
      i = i + #op
    end
  end
  toks[#toks + 1] = {t = "eof", v = "end of the expression", pos = n + 1}
  return toks
end

local binprec = {
  ["or"] = 1, ["|"] = 1, ["and"] = 2, ["&"] = 2,
  ["=="] = 4, ["!="] = 4, ["~="] = 4, ["<"] = 4, ["<="] = 4, [">"] = 4, [">="] = 4, ["in"] = 4,
  ["+"] = 5, ["-"] = 5, ["*"] = 6, ["/"] = 6, ["//"] = 6, ["%"] = 6, ["^"] = 8,
}

function M.parse(src)
  if type(src) ~= "string" then error("query: expected an expression string, got " .. type(src), 0) end
  local toks, k = lex(src), 1
  local function peek() return toks[k] end
  local function take() k = k + 1; return toks[k - 1] end
  local function expect(v)
    local t = take()
    if t.v ~= v then fail(src, t.pos, ("expected '%s' but found '%s'"):format(v, tostring(t.v))) end
    return t
  end
  local expr
  local function primary()
    local t = take()
    if t.t == "num" or t.t == "str" then return {k = "lit", v = t.v, pos = t.pos} end
    if t.t == "var" then return {k = "var", v = t.v, pos = t.pos} end
    if t.t == "col" then return {k = "col", v = t.v, pos = t.pos} end
    if t.t == "name" then
      if t.v == "true" then return {k = "lit", v = true, pos = t.pos} end
      if t.v == "false" then return {k = "lit", v = false, pos = t.pos} end
      if t.v == "nil" then return {k = "lit", v = nil, pos = t.pos} end
      if t.v == "and" or t.v == "or" or t.v == "in" then fail(src, t.pos, "unexpected '" .. t.v .. "'") end
      return {k = "col", v = t.v, pos = t.pos}
    end
    if t.v == "(" then
      local e = expr(0)
      expect(")")
      return e
    end
    if t.v == "{" then
      local items = {}
      if peek().v ~= "}" then
        repeat
          local e = expr(0)
          if e.k ~= "lit" and e.k ~= "var" then fail(src, e.pos, "a set holds literal values") end
          items[#items + 1] = e
        until peek().v ~= "," or not take()
      end
      expect("}")
      return {k = "set", items = items, pos = t.pos}
    end
    fail(src, t.pos, "unexpected '" .. tostring(t.v) .. "'")
  end
  local function unary()
    local t = peek()
    if t.v == "not" or t.v == "~" then take(); return {k = "not", a = expr(3), pos = t.pos} end
    if t.v == "-" then take(); return {k = "neg", a = expr(7), pos = t.pos} end
    return primary()
  end
  function expr(minp)
    local left = unary()
    while true do
      local t = peek()
      local op = t.v
      local negin = false
      if op == "not" and toks[k + 1] and toks[k + 1].v == "in" then negin = true; op = "in" end
      local p = (t.t == "op" or t.t == "name") and binprec[op]
      if not p or p <= minp then break end
      take()
      if negin then take() end
      local right = expr(op == "^" and p - 1 or p)
      if op == "in" and right.k ~= "set" then fail(src, right.pos, "'in' needs a set like {1, 2}") end
      left = {k = "bin", op = op, a = left, b = right, pos = t.pos, neg = negin}
    end
    return left
  end
  local tree = expr(0)
  local t = peek()
  if t.t ~= "eof" then fail(src, t.pos, "unexpected '" .. tostring(t.v) .. "'") end
  tree.src = src
  return tree
end

-- Column names a tree reads.
function M.columns(tree, out)
  out = out or {}
  if tree.k == "col" then out[tree.v] = true end
  for _, f in ipairs {"a", "b"} do if tree[f] then M.columns(tree[f], out) end end
  return out
end

local cmp = {["=="] = "eq", ["!="] = "ne", ["~="] = "ne", ["<"] = "lt", ["<="] = "le", [">"] = "gt", [">="] = "ge"}
local flip = {lt = "gt", le = "ge", gt = "lt", ge = "le", eq = "eq", ne = "ne"}
local arith = {
  ["+"] = function(a, b) return a + b end, ["-"] = function(a, b) return a - b end,
  ["*"] = function(a, b) return a * b end, ["/"] = function(a, b) return a / b end,
  ["//"] = function(a, b) return a // b end, ["%"] = function(a, b) return a % b end,
  ["^"] = function(a, b) return a ^ b end,
}

local function isframe(v) return type(v) == "userdata" end

-- Evaluate on a local frame: columns are frames, literals Lua values.
function M.eval(tree, part, env)
  local src = tree.src
  local function ev(n)
    local k = n.k
    if k == "lit" then return n.v end
    if k == "var" then
      if env == nil or env[n.v] == nil then
        error(("query: @%s is not given (pass it in the env table) at position %d"):format(n.v, n.pos), 0)
      end
      return env[n.v]
    end
    if k == "col" then
      local ok, c = pcall(part.column, part, n.v)
      if not ok then error(("query: %s (at position %d of '%s')"):format(tostring(c):gsub("^[^:]*:%d+: ", ""), n.pos, src or ""), 0) end
      return c
    end
    if k == "set" then
      local vals = {}
      for i, it in ipairs(n.items) do vals[i] = ev(it) end
      return vals
    end
    local function wrap(f, ...)
      local ok, r = pcall(f, ...)
      if not ok then
        error(("query: %s (at position %d of '%s')"):format(tostring(r):gsub("^[^:]*:%d+: ", ""), n.pos, src or ""), 0)
      end
      return r
    end
    if k == "not" then
      local a = ev(n.a)
      if isframe(a) then return wrap(function() return ~a end) end
      return not a
    end
    if k == "neg" then local a = ev(n.a); return wrap(function() return -a end) end
    local a, b = ev(n.a), ev(n.b)
    local op = n.op
    if op == "and" or op == "&" or op == "or" or op == "|" then
      local both = op == "and" or op == "&"
      if not isframe(a) and not isframe(b) then if both then return a and b end return a or b end
      if not isframe(a) then a, b = b, a end
      return wrap(function() if both then return a & b end return a | b end)
    end
    if op == "in" then
      if not isframe(a) then
        local hit = false
        for _, v in ipairs(b) do hit = hit or v == a end
        return hit ~= n.neg
      end
      return wrap(function() local m = a:isin(b); if n.neg then return ~m end return m end)
    end
    if cmp[op] then
      local m = cmp[op]
      if isframe(a) then return wrap(a[m], a, b) end
      if isframe(b) then return wrap(b[flip[m]], b, a) end
      return wrap(function()
        if m == "eq" then return a == b elseif m == "ne" then return a ~= b
        elseif m == "lt" then return a < b elseif m == "le" then return a <= b
        elseif m == "gt" then return a > b else return a >= b end
      end)
    end
    return wrap(arith[op], a, b)
  end
  return ev(tree)
end

-- Rows of part where expr holds.
local cache = setmetatable({}, {__mode = "v"})
function M.filter(part, src, env)
  local tree = cache[src]
  if not tree then tree = M.parse(src); cache[src] = tree end
  local m = M.eval(tree, part, env)
  if type(m) == "boolean" then
    if m then return part end
    return part:head(0)
  end
  if not isframe(m) or m:dtype() ~= "bool" then
    error(("query: '%s' is not a condition (it gives %s values)"):format(src,
      isframe(m) and m:dtype() or type(m)), 0)
  end
  return part:filter(m)
end

function M.evaluate(part, src, env)
  local tree = cache[src]
  if not tree then tree = M.parse(src); cache[src] = tree end
  return M.eval(tree, part, env)
end

return M
