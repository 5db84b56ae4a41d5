--- lask.json: JSON decode/encode for records (JSON lines and friends).
--
-- Decoding is simdjson (Debian's libsimdjson, through lask.core.json, our
-- C++ binding in lua/json_simd.cc): it validates a record with SIMD
-- instructions and we build the Lua value with every table sized up front,
-- several times faster than lua-cjson for JSON lines. lua-cjson (Debian's
-- lua-cjson, the Lua ecosystem's standard) stays as the second opinion: a
-- record simdjson rejects is retried with cjson, which also accepts invalid
-- UTF-8 and numbers beyond the double range, and whose "at character N"
-- becomes the line and column of the bad byte when the record is bad.
-- Encoding is done here in Lua because lua-cjson 2.1 prints numbers with
-- at most 14 significant digits, which would silently change floats and
-- large integers; this encoder writes the shortest form that reads back to
-- the same number.
--
-- The functions hold no C functions as upvalues: they find their decoders
-- through package.loaded in whatever Lua state runs them, so they can be
-- shipped to lask worker states like any other Lua function.
local M = {}

local CJSON = "lask.json.cjson"   -- package.loaded slot of our cjson instance

-- Our own cjson instance, so settings never leak into a user's `cjson`.
local function cjson_instance()
  local c = package.loaded[CJSON]
  if c then return c end
  local ok, cjson = pcall(require, "cjson")
  if not ok then
    error("lask.json: lua-cjson is not installed (Debian package lua-cjson): " .. tostring(cjson), 3)
  end
  c = cjson.new()
  c.decode_max_depth(1000)
  package.loaded[CJSON] = c
  return c
end

-- json.null is looked up on use, so M itself holds only Lua values.
setmetatable(M, { __index = function(_, k)
  if k == "null" then return cjson_instance().null end
end })

--- Our lua-cjson instance (for lask's own fast paths).
M._cjson = cjson_instance

-- Line and column (1-based) of byte offset pos in s.
local function line_col(s, pos)
  local line, last = 1, 0
  for i in s:sub(1, pos - 1):gmatch("()\n") do
    line, last = line + 1, i
  end
  return line, pos - last
end

local function snippet(s)
  s = s:gsub("[%c]", " ")
  if #s > 60 then s = s:sub(1, 57) .. "..." end
  return s
end

--- Describe why s is not JSON, naming line and column ("where" prefixes it).
local function explain(s, err, where)
  err = tostring(err)
  local pos = tonumber(err:match("at character (%d+)"))
  local at = ""
  if pos then
    local l, c = line_col(s, pos)
    at = l > 1 and (" at line %d, column %d"):format(l, c) or (" at column %d"):format(c)
  end
  return ("%smalformed JSON%s: %s (record: %s)"):format(
    where and (where .. ": ") or "", at, (err:gsub(" at character %d+", "")), snippet(s))
end
M.explain = explain

-- The record simdjson rejected, through lua-cjson: its value, or an error
-- naming where (the file and line, when given) and why.
local function fallback(s, where)
  local c = package.loaded[CJSON] or cjson_instance()
  local ok, v = pcall(c.decode, s)
  if ok then return v end
  return nil, explain(s, v, where)
end
M._fallback = fallback

--- decode(s) -> Lua value. Objects become tables with string keys, arrays
-- sequences, null json.null; integers that fit 64 bits Lua integers, other
-- numbers floats.
function M.decode(s)
  if type(s) ~= "string" then
    error(("lask.json.decode: expected a string, got %s"):format(type(s)), 2)
  end
  local v = (package.loaded["lask.core.json"] or require("lask.core.json")).decode(s)
  if v ~= nil then return v end
  local err
  v, err = fallback(s)
  if err then error("lask.json.decode: " .. err, 2) end
  return v
end

-- ------------------------------------------------------------- encoding

local fmt, concat, mtype = string.format, table.concat, math.type

--- Mark t to encode as an object ({}) or an array ([]) even when empty.
function M.object(t) return setmetatable(t or {}, { __jsontype = "object" }) end
function M.array(t) return setmetatable(t or {}, { __jsontype = "array" }) end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}
local function esc(ch) return escapes[ch] or fmt("\\u%04x", ch:byte()) end

-- Where the encoder is, for messages: "value", then one key per level.
local function where(stack, depth)
  local parts = { "value" }
  for i = 1, depth do
    local k = stack[i]
    parts[#parts + 1] = type(k) == "number" and ("[" .. k .. "]") or ("." .. tostring(k))
  end
  return concat(parts)
end

local function number(x, stack, depth)
  if mtype(x) == "integer" then return fmt("%d", x) end
  if x ~= x or x == math.huge or x == -math.huge then
    error(("lask.json.encode: %s is %s, which JSON cannot hold"):format(
      where(stack, depth), tostring(x)), 0)
  end
  for p = 15, 17 do   -- shortest form that reads back exactly
    local s = fmt("%." .. p .. "g", x)
    if tonumber(s) == x then return s end
  end
end

local encode_value

local function encode_table(t, out, n, stack, depth)
  if stack.seen[t] then
    error(("lask.json.encode: %s contains itself (a cycle)"):format(where(stack, depth)), 0)
  end
  stack.seen[t] = true
  local mt = getmetatable(t)
  local kind = mt and mt.__jsontype
  local len = #t
  local keys, nkeys = {}, 0
  for k in pairs(t) do
    nkeys = nkeys + 1
    keys[nkeys] = k
  end
  if kind == nil then kind = (nkeys == len) and "array" or "object" end
  if kind == "array" then
    if nkeys ~= len then
      error(("lask.json.encode: %s has keys that are not 1..%d, so it is no array"):format(
        where(stack, depth), len), 0)
    end
    n = n + 1; out[n] = "["
    for i = 1, len do
      if i > 1 then n = n + 1; out[n] = "," end
      stack[depth + 1] = i
      n = encode_value(t[i], out, n, stack, depth + 1)
    end
    n = n + 1; out[n] = "]"
    stack.seen[t] = nil
    return n
  end
  -- keys as JSON strings, sorted: the same table always gives the same text
  local orig = {}
  for i = 1, nkeys do
    local k = keys[i]
    local tk = type(k)
    if tk == "number" then
      keys[i] = number(k, stack, depth)
    elseif tk ~= "string" then
      error(("lask.json.encode: %s has a %s key; JSON keys are strings"):format(
        where(stack, depth), tk), 0)
    end
    orig[keys[i]] = k
  end
  table.sort(keys)
  n = n + 1; out[n] = "{"
  for i = 1, nkeys do
    local k = keys[i]
    if i > 1 then n = n + 1; out[n] = "," end
    n = n + 1; out[n] = '"' .. k:gsub('[%c"\\]', esc) .. '":'
    stack[depth + 1] = k
    n = encode_value(t[orig[k]], out, n, stack, depth + 1)
  end
  n = n + 1; out[n] = "}"
  stack.seen[t] = nil
  return n
end

encode_value = function(v, out, n, stack, depth)
  local tv = type(v)
  n = n + 1
  if tv == "string" then
    out[n] = '"' .. v:gsub('[%c"\\]', esc) .. '"'
  elseif tv == "number" then
    out[n] = number(v, stack, depth)
  elseif tv == "boolean" then
    out[n] = v and "true" or "false"
  elseif v == nil or (tv == "userdata" and v == cjson_instance().null) then
    out[n] = "null"
  elseif tv == "table" then
    return encode_table(v, out, n - 1, stack, depth)
  else
    error(("lask.json.encode: %s is a %s, which JSON cannot hold"):format(
      where(stack, depth), tv), 0)
  end
  return n
end

--- encode(v) -> JSON text. Integers print as integers, floats in the
-- shortest form that reads back exactly; tables whose keys are 1..n are
-- arrays (an empty table is an array unless json.object marks it), others
-- objects with sorted keys.
function M.encode(v)
  local out = {}
  local n = encode_value(v, out, 0, { seen = {} }, 0)
  if n == 1 then return out[1] end
  return concat(out, "", 1, n)
end

return M
