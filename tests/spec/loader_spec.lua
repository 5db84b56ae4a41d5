-- The kind modules (lask.core.ndarray, .frame, .parquet, .textio) load in any
-- order: before `require "lask"` / `"lask.core"`, in the lask executable.
local function lask_bin()
  local a = arg and arg[-1]
  if a and a:match("lask$") then return a end
  return (os.getenv("BUILD") or "build") .. "/lask"
end
local BIN = lask_bin()

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function run(code)
  local p = io.popen(BIN .. " -e " .. sh_quote(code) .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("a")
  p:close()
  return out
end

describe("kind modules required first", function()
  for _, m in ipairs({ "ndarray", "frame", "parquet", "textio" }) do
    it("lask.core." .. m .. " before lask.core", function()
      local out = run(("local m = require 'lask.core.%s' "
        .. "assert(m == require 'lask.core.%s') "
        .. "assert(package.loaded['lask.core']) print('ok', type(m))"):format(m, m))
      assert.matches("ok\ttable\nexit=0", out, 1, true)
    end)
  end

  it("works in a pipeline once the rest loads", function()
    local out = run("local t = require 'lask.core.textio' "
      .. "local db = require 'lask.bag' print(#t.newlist(3), db.range(10):sum():compute())")
    assert.matches("0\t55\nexit=0", out, 1, true)
  end)
end)
