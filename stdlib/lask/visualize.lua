-- lask.visualize: the task graph as Graphviz DOT, rendered by `dot`.
--
--   obj:visualize{filename = "graph.png"}   -- also .svg, .pdf, .dot
--   lask.visualize(a, b, {filename = ...})  -- several outputs in one graph
-- Returns the DOT text. Rendering needs the `dot` program (graphviz).
local core = require "lask.core"
local base = require "lask.base"

local M = {}

local function q(s)
  return '"' .. tostring(s):gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"'
end

-- Short label of a key: "inc-3f2a..." -> "inc"; "(x, 1)"-style keys stay.
local function label(key)
  return (key:gsub("%-%x%x%x%x%x%x%x%x+$", ""))
end

function M.dot(tasks)
  local lines = {"digraph lask {", "  rankdir=BT;", "  node [fontname=\"Helvetica\"];"}
  local ids, n = {}, 0
  core.walk(tasks, function(key, kernel, deps)
    n = n + 1
    ids[key] = n
    local shape = kernel and "ellipse" or "box"
    lines[#lines + 1] = ("  t%d [label=%s, shape=%s, tooltip=%s];"):format(
      n, q(label(key)), shape, q(key .. (kernel and ("\n" .. kernel) or "")))
    for _, d in ipairs(deps) do
      lines[#lines + 1] = ("  t%d -> t%d;"):format(ids[d], n)
    end
  end)
  lines[#lines + 1] = "}"
  return table.concat(lines, "\n") .. "\n"
end

local known = {filename = true, format = true}

local function have_dot()
  local p = io.popen("command -v dot 2>/dev/null")
  local s = p and p:read("a") or ""
  if p then p:close() end
  return s:match("%S") ~= nil
end

function M.visualize(...)
  local n = select("#", ...)
  local objs = {...}
  local opts = {}
  if n > 0 and type(objs[n]) == "table" and getmetatable(objs[n]) == nil then
    opts = objs[n]; n = n - 1
  end
  for k in pairs(opts) do
    if not known[k] then error(("visualize: unknown option '%s'"):format(tostring(k)), 2) end
  end
  local tasks = {}
  for i = 1, n do
    if not base.is_collection(objs[i]) then
      error(("visualize: argument #%d is a %s, not a lask collection"):format(i, type(objs[i])), 2)
    end
    for _, t in ipairs(objs[i]:__lask_tasks()) do tasks[#tasks + 1] = t end
  end
  local dot = M.dot(tasks)
  local filename = opts.filename
  if filename == nil then return dot end
  local fmt = opts.format or filename:match("%.(%w+)$") or "png"
  if fmt == "dot" or fmt == "gv" then
    local f, err = io.open(filename, "w")
    if not f then error("visualize: " .. err, 2) end
    f:write(dot)
    f:close()
    return dot
  end
  if not (fmt == "png" or fmt == "svg" or fmt == "pdf") then
    error(("visualize: unknown format '%s' (png, svg, pdf or dot)"):format(fmt), 2)
  end
  if not have_dot() then
    error("visualize: the Graphviz program 'dot' is not installed (apt-get install graphviz), "
      .. "or write DOT with filename = 'graph.dot'", 2)
  end
  local cmd = ("dot -T%s -o '%s'"):format(fmt, filename:gsub("'", "'\\''"))
  local p = io.popen(cmd, "w")
  p:write(dot)
  local ok, _, code = p:close()
  if not ok then error(("visualize: dot failed (exit %s) writing %s"):format(tostring(code), filename), 2) end
  return dot
end

return M
