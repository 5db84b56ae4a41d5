-- lask.collection: the methods every collection shares. A collection's
-- metatable gets them with collection.mixin(methods), then defines the
-- protocol (__lask_tasks, __lask_finalize, __lask_rebuild; see lask.base).
local base = require "lask.base"

local M = {}

M.methods = {
  compute = base.compute_one,
  persist = function(self, opts)
    if opts ~= nil then return (base.persist(self, opts)) end
    return (base.persist(self))
  end,
  graph_size = base.graph_size,
  visualize = function(self, opts)
    if opts == nil then return require("lask.visualize").visualize(self) end
    return require("lask.visualize").visualize(self, opts)
  end,
}

-- Copy the shared methods into t (without replacing t's own).
function M.mixin(t)
  for k, v in pairs(M.methods) do
    if t[k] == nil then t[k] = v end
  end
  return t
end

return M
