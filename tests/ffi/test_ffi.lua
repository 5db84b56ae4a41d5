-- test_ffi.lua - the public C API from LuaJIT: runtime/lask.h goes through
-- ffi.cdef unchanged (after tools/cdef.sh), liblask.so runs graphs of the
-- builtin native kernels.
--
--   luajit tests/ffi/test_ffi.lua BUILD_DIR
local ffi = require "ffi"
local build = arg[1] or "build"

local passed, failed = 0, 0
local function test(name, fn)
  local ok, err = pcall(fn)
  if ok then passed = passed + 1
  else failed = failed + 1; io.stderr:write("FAIL ", name, ": ", tostring(err), "\n") end
end
local function eq(a, b, what)
  if a ~= b then error((what or "value") .. ": got " .. tostring(a) .. ", expected " .. tostring(b), 2) end
end
local function contains(s, sub)
  if not s:find(sub, 1, true) then error("'" .. s .. "' does not contain '" .. sub .. "'", 2) end
end

local function read_cdef()
  local f = io.open(build .. "/lask.h.cdef")
  if f then local s = f:read("a"); f:close(); return s end
  local p = assert(io.popen("sh tools/cdef.sh runtime/lask.h"))
  local s = p:read("a"); p:close()
  return s
end

local C
test("header loads through ffi.cdef", function()
  ffi.cdef(read_cdef())
  C = ffi.load(build .. "/liblask.so")
end)
if not C then
  print(passed .. " passed, " .. failed .. " failed")
  os.exit(1)
end

-- Graph building helpers. Key strings are kept alive in `keep` while the
-- C side reads them.
local keep = {}
local function args(list)
  local a = ffi.new("lask_arg[?]", math.max(#list, 1))
  for i, x in ipairs(list) do
    local d = a[i - 1]
    if type(x) == "string" then
      keep[#keep + 1] = x
      d.kind, d.key = C.LASK_ARG_KEY, x
    elseif type(x) == "table" and x.list then
      d.kind, d.n = C.LASK_ARG_LIST, x.list
    elseif math.type and math.type(x) == "float" or (type(x) == "number" and x % 1 ~= 0) then
      d.kind, d.value.type, d.value.u.f = C.LASK_ARG_VALUE, C.LASK_FLOAT, x
    else
      d.kind, d.value.type, d.value.u.i = C.LASK_ARG_VALUE, C.LASK_INT, x
    end
  end
  return a, #list
end
local function add(g, key, kernel, list)
  local a, n = args(list or {})
  return C.lask_graph_add(g, key, kernel, a, n)
end
local function compute(rt, g, keys, sched, nw)
  local k = ffi.new("const char *[?]", #keys)
  for i, s in ipairs(keys) do k[i - 1] = s end
  local opts = ffi.new("lask_compute_opts")
  opts.scheduler = sched == "sync" and C.LASK_SCHED_SYNC or C.LASK_SCHED_THREADS
  opts.num_workers = nw or 0
  local res = ffi.new("lask_value[?]", #keys)
  local st = C.lask_compute(rt, g, k, #keys, opts, res)
  return st, res
end

local rt = C.lask_runtime_new(2)
test("runtime", function()
  assert(rt ~= nil)
  eq(C.lask_runtime_nthreads(rt), 2, "nthreads")
  eq(ffi.string(C.lask_status_string(C.LASK_ECYCLE)), "dependency cycle")
end)

test("chains and a tree of native kernels, threads and sync", function()
  local g = C.lask_graph_new()
  local ends, want = {}, 0
  for c = 1, 50 do
    local prev
    for i = 1, 20 do
      local key = ("noop-%d-%d"):format(c, i)
      eq(add(g, key, "noop", { prev or c }), C.LASK_OK, "add " .. key)
      prev = key
    end
    ends[#ends + 1] = prev
    want = want + c
  end
  local level = 0
  while #ends > 1 do
    local nxt = {}
    for i = 1, #ends, 2 do
      local key = ("add-%d-%d"):format(level, i)
      add(g, key, "add", { ends[i], ends[i + 1] or 0 })
      nxt[#nxt + 1] = key
    end
    ends, level = nxt, level + 1
  end
  eq(tonumber(C.lask_graph_size(g)), 50 * 20 + 25 + 13 + 7 + 4 + 2 + 1, "graph size")
  for _, s in ipairs { { "threads", 0 }, { "threads", 1 }, { "sync", 0 } } do
    local st, res = compute(rt, g, { ends[1], "noop-7-20" }, s[1], s[2])
    eq(st, C.LASK_OK, s[1] .. " status")
    eq(res[0].type, C.LASK_INT)
    eq(tonumber(res[0].u.i), want, s[1] .. " sum")
    eq(tonumber(res[1].u.i), 7, s[1] .. " chain end")
  end
  C.lask_graph_free(g)
end)

test("lists and floats", function()
  local g = C.lask_graph_new()
  add(g, "x", "add", { 1, 2 })
  add(g, "s", "sum", { { list = 3 }, "x", 0.5, { list = 2 }, 10, "x" })
  add(g, "n", "len", { { list = 4 }, 1, 2, "x", "s" })
  local st, res = compute(rt, g, { "s", "n" }, "threads")
  eq(st, C.LASK_OK)
  eq(res[0].type, C.LASK_FLOAT)
  eq(res[0].u.f, 3 + 0.5 + 10 + 3)
  eq(tonumber(res[1].u.i), 4)
  C.lask_graph_free(g)
end)

test("chunks pass through by reference", function()
  local g = C.lask_graph_new()
  local c = C.lask_bytes_new("hello\0world", 11)
  local v = ffi.new("lask_value")
  v.type, v.u.c = C.LASK_CHUNK, c
  eq(C.lask_graph_add_value(g, "h", v), C.LASK_OK)
  add(g, "i", "identity", { "h" })
  local st, res = compute(rt, g, { "i" }, "threads")
  eq(st, C.LASK_OK)
  eq(res[0].type, C.LASK_CHUNK)
  local n = ffi.new("int64_t[1]")
  local p = C.lask_bytes_data(res[0].u.c, n)
  eq(ffi.string(p, n[0]), "hello\0world")
  C.lask_value_clear(res[0])
  C.lask_graph_free(g)
  C.lask_chunk_unref(c)
end)

test("missing key", function()
  local g = C.lask_graph_new()
  add(g, "needy", "noop", { "nowhere" })
  for _, s in ipairs { "threads", "sync" } do
    local st, res = compute(rt, g, { "needy" }, s)
    eq(st, C.LASK_ENOKEY, s)
    eq(res[0].type, C.LASK_NIL)
    local msg = ffi.string(C.lask_runtime_error(rt))
    contains(msg, "nowhere"); contains(msg, "needy")
  end
  C.lask_graph_free(g)
end)

test("cycle", function()
  local g = C.lask_graph_new()
  add(g, "a", "noop", { "b" })
  add(g, "b", "noop", { "a" })
  local st = compute(rt, g, { "a" }, "threads")
  eq(st, C.LASK_ECYCLE)
  contains(ffi.string(C.lask_runtime_error(rt)), "cycle")
  C.lask_graph_free(g)
end)

test("duplicate key and unknown kernel", function()
  local g = C.lask_graph_new()
  eq(add(g, "k", "add", { 1 }), C.LASK_OK)
  eq(add(g, "k", "add", { 2 }), C.LASK_EDUPKEY)
  contains(ffi.string(C.lask_graph_error(g)), "'k'")
  add(g, "z", "no-such-kernel", {})
  eq((compute(rt, g, { "z" }, "sync")), C.LASK_ENOKERNEL)
  contains(ffi.string(C.lask_runtime_error(rt)), "no-such-kernel")
  C.lask_graph_free(g)
end)

test("a failing task names its key", function()
  local g = C.lask_graph_new()
  add(g, "bad", "sum", { 1, { list = 1 }, 2 })
  add(g, "ok", "add", { 1, 2 })
  add(g, "top", "add", { "ok", "bad" })
  -- sum over a chunk fails: make one
  local c = C.lask_bytes_new("x", 1)
  local v = ffi.new("lask_value"); v.type, v.u.c = C.LASK_CHUNK, c
  C.lask_graph_add_value(g, "chunk", v)
  C.lask_chunk_unref(c)
  add(g, "worse", "sum", { "chunk" })
  eq((compute(rt, g, { "top" }, "threads")), C.LASK_OK)
  local st = compute(rt, g, { "worse" }, "threads")
  eq(st, C.LASK_ETASK)
  contains(ffi.string(C.lask_runtime_error(rt)), "task 'worse' failed: sum: item 1 is not a number")
  C.lask_graph_free(g)
end)

C.lask_runtime_free(rt)
print(passed .. " passed, " .. failed .. " failed")
os.exit(failed == 0 and 0 or 1)
