-- lask.diagnostics: watching computes.
--
--   local pb = lask.diagnostics.ProgressBar()   -- {minimum=, width=, dt=, out=}
--   pb:register()  ... pb:unregister()          -- every compute meanwhile
--   pb:with(function() x:compute() end)         -- only inside fn
--
-- The bar goes to stderr and only shows for computes longer than `minimum`
-- seconds (default: config "progress.minimum", 0.5).
local core = require "lask.core"
local base = require "lask.base"
local config = require "lask.config"

local M = {}

local ProgressBar = {}
ProgressBar.__index = ProgressBar
ProgressBar.__name = "lask.ProgressBar"

local known = {minimum = true, width = true, dt = true, out = true}

function M.ProgressBar(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("ProgressBar: options must be a table", 2) end
  for k in pairs(opts) do
    if not known[k] then error(("ProgressBar: unknown option '%s'"):format(tostring(k)), 2) end
  end
  return setmetatable({
    minimum = opts.minimum, width = opts.width or 40, dt = opts.dt or 0.1,
    out = opts.out or io.stderr, shown = false,
  }, ProgressBar)
end

function ProgressBar:register() base.callbacks[self] = true; return self end
function ProgressBar:unregister() base.callbacks[self] = nil; return self end

-- Run fn(...) with the bar active; returns fn's results.
function ProgressBar:with(fn, ...)
  if type(fn) ~= "function" then error("ProgressBar:with: expected a function", 2) end
  local was = base.callbacks[self]
  base.callbacks[self] = true
  local r = table.pack(pcall(fn, ...))
  base.callbacks[self] = was
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

function ProgressBar:_draw(done, total, elapsed)
  local frac = total > 0 and done / total or 1
  local w = self.width
  local fill = math.floor(frac * w + 0.5)
  self.out:write(("\r[%s%s] | %3d%% Completed | %.1fs"):format(
    ("#"):rep(fill), (" "):rep(w - fill), math.floor(frac * 100), elapsed))
  self.out:flush()
  self.shown = true
end

function ProgressBar:_start(ntasks)
  self.t0, self.last, self.shown, self.total = core.now(), 0, false, ntasks
end

function ProgressBar:_progress(done, total)
  local now = core.now()
  local el = now - self.t0
  if el >= (self.minimum or config.get("progress.minimum")) and now - self.last >= self.dt then
    self.last = now
    self:_draw(done, total, el)
  end
end

function ProgressBar:_finish(ok, elapsed)
  if self.shown or elapsed >= (self.minimum or config.get("progress.minimum")) then
    if ok then self:_draw(self.total or 1, self.total or 1, elapsed) end
    self.out:write("\n")
    self.out:flush()
  end
  self.shown = false
end

return M
