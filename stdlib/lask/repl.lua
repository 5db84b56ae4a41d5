-- lask.repl: how the `lask` prompt prints results.
--
-- Values print readably and never compute: a collection shows itself
-- through its __tostring (shape, partitions, key); a plain table shows its
-- first items, one level deep.
local M = {}

M.max_items = 20

local function scalar(v)
  if type(v) == "string" then return ("%q"):format(v):gsub("\\\n", "\\n") end
  return tostring(v)
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

-- One line for v; tables one level deep, at most max_items entries.
function M.format(v)
  if type(v) ~= "table" or has_tostring(v) then
    return type(v) == "string" and v or tostring(v)
  end
  local parts, n = {}, 0
  local len = rawlen(v)
  for i = 1, len do
    n = n + 1
    if n > M.max_items then break end
    local x = rawget(v, i)
    parts[#parts + 1] = (type(x) == "table" and not has_tostring(x)) and "{...}" or scalar(x)
  end
  local keys = {}
  for k in next, v do
    if not (math.type(k) == "integer" and k >= 1 and k <= len) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  local total = len + #keys
  for _, k in ipairs(keys) do
    n = n + 1
    if n > M.max_items then break end
    local x = rawget(v, k)
    local ks = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or ("[" .. scalar(k) .. "]")
    parts[#parts + 1] = ks .. " = " ..
      ((type(x) == "table" and not has_tostring(x)) and "{...}" or scalar(x))
  end
  if total > M.max_items then parts[#parts + 1] = ("... (%d entries)"):format(total) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function M.show(...)
  local n = select("#", ...)
  local out = {}
  for i = 1, n do out[i] = M.format((select(i, ...))) end
  io.stdout:write(table.concat(out, "\t"), "\n")
  io.stdout:flush()
end

return M
