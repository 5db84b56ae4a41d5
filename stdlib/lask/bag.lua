--- lask.bag: parallel lists of Lua values (Dask's Bag, for Lua).
--
-- A Bag is a lazy list split into partitions; each partition is a Lua list
-- computed by one task. Element operations (map, filter, pluck, ...) are not
-- tasks of their own: a Bag keeps them as a pending pipeline, and when its
-- tasks are needed it emits ONE Lua task per partition that reads its
-- source, runs the whole pipeline element by element (a loop generated and
-- compiled once per worker state) and, for reductions, the per-partition
-- step too. So a record is decoded into a worker's Lua state once and
-- flows through every step without being re-encoded.
--
-- Worker-side code lives in the table M._w: the bridge ships fields of
-- loaded modules by name, so workers run their own copy of this module.
local core = require "lask.core"
local textio = require "lask.core.textio"
local json = require "lask.json"

local M = {}
local W = {}          -- what runs inside tasks (shipped by name)
M._w = W

local fmt, concat, unpack = string.format, table.concat, table.unpack

-- ===================================================== inside the tasks

-- What a partition's source turns into: a list of input lists (more than
-- one for zipped bags) and, for files, where element i came from.
local SOURCES = {}

function SOURCES.list(p, v)
  if type(v) ~= "table" then
    error(fmt("partition %d is a %s, not a list (a from_delayed value must "
      .. "compute to a Lua list)", p, type(v)), 0)
  end
  return { v }
end

function SOURCES.lists(_, vs) return vs end

function SOURCES.partials(_, vs) return { vs } end

-- include_path: elements become {line, path}
local function with_path(lines, path)
  for i = 1, #lines do lines[i] = { lines[i], path } end
  return lines
end

-- A block is read in pieces of PIECE bytes (the lines starting in each),
-- and a fused loop runs over one piece at a time: a task then holds one
-- piece of lines, not the whole block, so the collector has a small live
-- set to trace and young records die while still in cache (bench/bag.lua:
-- ~15% less CPU than whole 16 MiB blocks). origin.next gives the next
-- piece, or nil after the last.
local PIECE = 1024 * 1024

function SOURCES.read(_, path, start, stop, delim, include_path)
  local at = math.min(start + PIECE, stop)
  local lines, first = textio.read_lines(path, start, at, delim)
  if include_path then with_path(lines, path) end
  local origin = { path = path, first = first, delim = delim }
  if at < stop then
    origin.next = function()
      if at >= stop then return nil end
      local s = at
      at = math.min(s + PIECE, stop)
      local more = textio.read_lines(path, s, at, delim)
      if include_path then with_path(more, path) end
      return more
    end
  end
  return { lines }, origin
end

-- read_text(...):map(json.decode) as one source: lask.core.json decodes
-- each piece's lines straight from its bytes (no string per line) into
-- batches of BATCH records; with keys, records keep only those fields (the
-- ones the pipeline is proven to read, W.json_keys). The first batch is a
-- table of its own, later ones reuse one table: the fused loop reads a
-- batch before asking for the next, and drain copies it.
local BATCH = 256

function SOURCES.read_json(_, path, start, stop, delim, keys)
  local jd = package.loaded["lask.core.json"] or require("lask.core.json")
  local batch = jd.batch
  -- one buffer per worker state, reused by every task it runs (pages
  -- stay mapped); a task has one source, so two readers never share it
  local buf = W.textbuf or textio.textbuf()
  W.textbuf = buf
  local at = math.min(start + PIECE, stop)
  local text, first = textio.read_lines(path, start, at, delim, buf)
  local pos, done = 0, 0   -- byte offset in text; records of the block so far
  local function fill(out)
    while true do
      if pos >= #text then
        if at >= stop then return nil end
        local s = at
        at = math.min(s + PIECE, stop)
        text = textio.read_lines(path, s, at, delim, buf)
        pos = 0
      else
        local np, k, msg, line, after = batch(text, pos, delim, keys, out, BATCH)
        if np then
          pos = np
          if k > 0 then
            done = done + k
            return out
          end
        else
          -- the k-th record of this batch: simdjson said no, ask lua-cjson
          local where = fmt("%s:%d", path, textio.line_of(path, first, delim) + done + k - 1)
          local v, err = json._fallback(line, where)
          if err then error({ lask_msg = err, located = true }, 0) end
          out[k] = v
          pos = after
          done = done + k
          return out
        end
      end
    end
  end
  local lines = fill({}) or {}
  local reuse = {}
  local origin = { path = path, first = first, delim = delim }
  origin.next = function() return fill(reuse) end
  return { lines }, origin
end

-- The fields of a record the steps after stages[from], a map(json.decode)
-- (the first stage by default), can read, or nil when they may see the
-- whole record: filter/remove callbacks proven to
-- read only constant fields of their argument (core.fn_fields analyses the
-- bytecode) keep the record going; a map of that kind or a pluck consume
-- it; anything else (or the end of the pipeline) needs every field.
function W.json_keys(stages, from)
  local fields = core.fn_fields
  if not fields then return nil end
  from = from or 1
  local keys, seen = {}, {}
  local function add(list)
    for _, k in ipairs(list) do
      if not seen[k] then
        seen[k] = true
        keys[#keys + 1] = k
      end
    end
  end
  for i = from + 1, #stages do
    local st = stages[i]
    local op = st.op
    if op == "filter" or op == "remove" or op == "map" then
      local f = fields(st.fn)
      if not f then return nil end
      add(f)
      if op == "map" then return keys end
    elseif op == "pluck" then
      for _, k in ipairs(st.keys) do
        if type(k) ~= "string" then return nil end
      end
      add(st.keys)
      return keys
    else
      return nil
    end
  end
  return nil
end

-- The whole of a piecewise source, for steps that need the full list. A
-- later piece's error (a bad record, already naming its file and line) is
-- raised as a message.
local function drain(lists, origin)
  if not (origin and origin.next) then return lists end
  local t, n = lists[1], #lists[1]
  local ok, err = pcall(function()
    for more in origin.next do
      for i = 1, #more do t[n + i] = more[i] end
      n = n + #more
    end
  end)
  if not ok then
    if type(err) == "table" and err.lask_msg then err = "lask.bag: " .. err.lask_msg end
    error(err, 0)
  end
  origin.next = nil
  return lists
end

function SOURCES.readall(_, path, compression, delim, include_path)
  local lines = textio.read_all(path, compression, delim)
  if include_path then with_path(lines, path) end
  return { lines }, { path = path, first = 0, delim = delim, whole = true }
end

function SOURCES.range(_, lo, hi)
  local t, n = textio.newlist(hi - lo + 1), 0
  for i = lo, hi do
    n = n + 1
    t[n] = i
  end
  return { t }
end

function SOURCES.product(_, a, b)
  local t, n = {}, 0
  for i = 1, #a do
    local x = a[i]
    for j = 1, #b do
      n = n + 1
      t[n] = { x, b[j] }
    end
  end
  return { t }
end

-- bucket j of every split of a shuffle, concatenated
function SOURCES.gather(_, splits, j)
  local t, n = {}, 0
  for s = 1, #splits do
    local b = splits[s][j]
    for i = 1, #b do
      n = n + 1
      t[n] = b[i]
    end
  end
  return { t }
end

local ELEMENT = { map = true, json = true, filter = true, remove = true, pluck = true,
  starmap = true, flatten = true, zip = true, zipmap = true }

local function join(t, extra)
  local r = { unpack(t) }
  for i = 1, #extra do r[#r + 1] = extra[i] end
  return r
end

-- Lua source and upvalues of the loop that runs ops[1..] over the inputs.
-- A sink folds the elements inside the loop (count, sum, frequencies)
-- instead of building the list a reduction would only walk once.
local SINKS = {
  count = { init = "local acc = 0", step = "acc = acc + 1", ret = "return acc" },
  sum = { init = "local acc = 0", step = "acc = acc + x", ret = "return acc" },
  freq = {
    init = "local acc, order, orig, no = {}, {}, {}, 0",
    step = "local c = acc[x] if c then acc[x] = c + 1 elseif type(x) == 'table' then "
      .. "no = FREQT(acc, order, orig, no, x) else acc[x] = 1 no = no + 1 order[no] = x end",
    ret = "return FREQF(acc, order, orig)",
  },
}

function W.freq_table(acc, order, orig, no, x)
  local k = W.canon(x)
  local c = acc[k]
  if c then
    acc[k] = c + 1
    return no
  end
  acc[k] = 1
  orig[k] = x
  order[no + 1] = k
  return no + 1
end

function W.freq_finish(acc, order, orig)
  local out = {}
  for i = 1, #order do
    local k = order[i]
    local v = orig[k]
    if v == nil then v = k end
    out[i] = { v, acc[k] }
  end
  return out
end

local function gen_chain(ops, sink)
  local ups = {}
  local function up(v)
    ups[#ups + 1] = v
    return "U" .. #ups
  end
  local body, ends = {}, 0
  local function emit(s) body[#body + 1] = s end
  local nsrc, start = 1, 1
  local first = ops[1] or {}
  if first.op == "zip" then
    nsrc, start = first.n, 2
    local t = {}
    for k = 1, nsrc do t[k] = "S" .. k .. "[i]" end
    emit("local x = {" .. concat(t, ", ") .. "}")
  elseif first.op == "zipmap" then
    nsrc, start = first.n, 2
    local t = {}
    for k, a in ipairs(first.args) do
      t[k] = a.bag and ("S" .. a.bag .. "[i]") or up(a.value)
    end
    emit("local x = " .. up(first.fn) .. "(" .. concat(t, ", ") .. ")")
  else
    emit("local x = S1[i]")
  end
  for k = start, #ops do
    local o = ops[k]
    if o.op == "map" then
      local t = { "x" }
      for a = 1, #o.args do t[#t + 1] = up(o.args[a]) end
      emit("x = " .. up(o.fn) .. "(" .. concat(t, ", ") .. ")")
    elseif o.op == "json" then
      local jd = package.loaded["lask.core.json"] or require("lask.core.json")
      local keys = W.json_keys(ops, k)
      emit(fmt("do local s = x x = %s(s, %s) if x == nil then x = %s(s) end end",
        up(jd.decode), keys and up(keys) or "nil", up(W.json_fallback)))
    elseif o.op == "filter" then
      emit("if " .. up(o.fn) .. "(x) then")
      ends = ends + 1
    elseif o.op == "remove" then
      emit("if not " .. up(o.fn) .. "(x) then")
      ends = ends + 1
    elseif o.op == "pluck" then
      local miss = up(W.missing(o))
      local vs = {}
      emit("do local t = x")
      for q, key in ipairs(o.keys) do
        local kk = up(key)
        emit(fmt("local v%d = t[%s] if v%d == nil then v%d = %s(t, %s) end", q, kk, q, q, miss, kk))
        vs[q] = "v" .. q
      end
      emit(o.multi and ("x = {" .. concat(vs, ", ") .. "}") or "x = v1")
      emit("end")
    elseif o.op == "starmap" then
      if #o.args == 0 then
        emit("x = " .. up(o.fn) .. "(" .. up(unpack) .. "(x))")
      else
        emit(fmt("x = %s(%s(%s(x, %s)))", up(o.fn), up(unpack), up(join), up(o.args)))
      end
    elseif o.op == "flatten" then
      emit(fmt("local t%d = x for j%d = 1, #t%d do local x = t%d[j%d]", k, k, k, k, k))
      ends = ends + 1
    else
      error("lask.bag: internal: unknown element op " .. tostring(o.op))
    end
  end
  emit("if x == nil then " .. up(W.nil_element) .. "() end")
  local sk = sink and SINKS[sink]
  if sk then
    local step = sk.step:gsub("FREQT", function() return up(W.freq_table) end)
    emit(step)
  else
    emit("n = n + 1 out[n] = x")
  end
  for _ = 1, ends do emit("end") end
  local ret = sk and sk.ret:gsub("FREQF", function() return up(W.freq_finish) end) or "return out"

  local names, srcs, lens = {}, {}, {}
  for k = 1, nsrc do srcs[k] = "S" .. k end
  for k = 2, nsrc do
    lens[#lens + 1] = fmt("if #S%d ~= len then %s(%d, #S%d, len) end", k, up(W.length_mismatch), k, k)
  end
  for i = 1, #ups do names[i] = "U" .. i end
  local src = concat({
    #names > 0 and ("local " .. concat(names, ", ") .. " = ...") or "",
    "local at, cur, base = 0, nil, 0",
    "return function(out, NEXT, " .. concat(srcs, ", ") .. ")",
    "local n, len = 0, #S1",
    sk and sk.init or "",
    concat(lens, "\n"),
    "cur, base = S1, 0",
    "while true do",
    "for i = 1, len do at = base + i",
    concat(body, "\n"),
    "end",
    "if not NEXT then break end",
    "base = base + len",
    "S1 = NEXT()",
    "if not S1 then break end",
    "cur, len = S1, #S1",
    "end",
    ret .. " end, function() return at, cur, base end",
  }, "\n")
  return src, ups, nsrc
end

function W.compile(ops, sink)
  local src, ups, nsrc = gen_chain(ops, sink)
  local chunk, err = load(src, "=lask.bag pipeline", "t")
  if not chunk then error("lask.bag: internal: pipeline did not compile: " .. err .. "\n" .. src) end
  local run, getat = chunk(unpack(ups, 1, #ups))
  local onetoone = not sink
  for _, o in ipairs(ops) do
    if o.op == "filter" or o.op == "remove" or o.op == "flatten" then onetoone = false end
  end
  return { run = run, at = getat, nsrc = nsrc, json = #ops > 0 and ops[1].op == "json",
    onetoone = onetoone }
end

-- A record simdjson rejected: lua-cjson's value, or an error the handler
-- of run_chain turns into file, line and column.
function W.json_fallback(s)
  local v, err = json._fallback(s)
  if err then error(err, 0) end
  return v
end

function W.missing(o)
  local has_default, default = o.has_default, o.default
  return function(t, key)
    if has_default then return default end
    if type(t) ~= "table" then
      error({ lask_msg = fmt("pluck: the element is a %s, not a table (looking for key %s)",
        type(t), W.show(key)) })
    end
    error({ lask_msg = fmt("pluck: key %s is missing from the record (pass {default = ...} "
      .. "to allow it)", W.show(key)) })
  end
end

function W.nil_element()
  error({ lask_msg = "an element became nil (a map or starmap callback returned nothing); "
    .. "Lua lists cannot hold nil: return false or a sentinel value instead" })
end

function W.length_mismatch(k, n, len)
  error({ lask_msg = fmt("bag %d has %d elements in this partition but bag 1 has %d (zipped "
    .. "bags must have partitions of equal length)", k, n, len) })
end

function W.show(v)
  if type(v) == "string" then return fmt("%q", v) end
  return tostring(v)
end

-- Message of an error raised in a pipeline: ours as they are, a user's
-- with the traceback of its callback (up to where the pipeline began).
local function describe(e)
  if type(e) == "table" and e.lask_msg then return e.lask_msg end
  local tb = debug.traceback("", 3)
  local cut = tb:find("\n%s*%[C%]: in function 'xpcall'")
  if cut then tb = tb:sub(1, cut - 1) end
  return tostring(e) .. tb
end
W.describe = describe

-- Run one compiled chain; an error names the file and line of the input
-- element (or its partition and index) and says why a JSON record is bad.
local function run_chain(chain, lists, origin, p)
  local handler = function(e)
    if type(e) == "table" and e.located then return "lask.bag: " .. e.lask_msg end
    local at, cur, base = chain.at()
    local where
    if origin then
      local line = origin.whole and at
        or textio.line_of(origin.path, origin.first, origin.delim) + at - 1
      where = fmt("%s:%d", origin.path, line)
    else
      where = fmt("partition %d, element %d", p, at)
    end
    local rec = cur and cur[at - base]
    if chain.json and type(rec) == "string" then
      local ok, jerr = pcall(json._cjson().decode, rec)
      if not ok then return "lask.bag: " .. json.explain(rec, jerr, where) end
    end
    return "lask.bag: " .. where .. ": " .. describe(e)
  end
  local nxt = chain.nsrc == 1 and origin and origin.next or nil
  local out = chain.onetoone and textio.newlist(#lists[1]) or {}
  local ok, res = xpcall(chain.run, handler, out, nxt, unpack(lists, 1, chain.nsrc))
  if not ok then error(res, 0) end
  return res
end

-- run(plan, p, kind, ...): the body of every per-partition task.
function W.run(plan, p, kind, ...)
  local stages = plan.stages
  local cache = plan.compiled
  if not cache then
    cache = {}
    plan.compiled = cache
  end
  local i, n = 1, #stages
  local source, args = SOURCES[kind], table.pack(...)
  -- read_text(...):map(json.decode): decode in the source (args: path,
  -- start, stop, delim, include_path)
  if kind == "read" and n > 0 and stages[1].op == "json" and not args[5] then
    if cache.keys == nil then cache.keys = W.json_keys(stages) or false end
    source, args = SOURCES.read_json, table.pack(args[1], args[2], args[3], args[4],
      cache.keys or nil)
    i = 2
  end
  local ok, lists, origin = pcall(source, p, unpack(args, 1, args.n))
  if not ok then
    if type(lists) == "table" then lists = lists.lask_msg end
    error("lask.bag: " .. tostring(lists), 0)
  end
  while i <= n do
    local st = stages[i]
    if ELEMENT[st.op] or st.sink then
      -- element ops i..k-1, then maybe a reduction folded into the loop
      local k = i
      while k <= n and ELEMENT[stages[k].op] do k = k + 1 end
      local sink = k <= n and stages[k].sink or nil
      local chain = cache[i]
      if not chain then
        chain = W.compile({ unpack(stages, i, k - 1) }, sink)
        cache[i] = chain
      end
      local res = run_chain(chain, lists, origin, p)
      if sink then return res end
      lists = { res }
      origin = nil
      i = k
    else
      local f = st.fn
      lists = drain(lists, origin)
      local ok, res = xpcall(function()
        local a = st.args or {}
        if st.internal then return f(lists[1], p, unpack(a, 1, a.n or #a)) end
        return f(lists[1], unpack(a, 1, a.n or #a))
      end, function(e)
        return fmt("lask.bag: %s on partition %d: %s", st.name or st.op, p,
          st.internal and tostring(e) or describe(e))
      end)
      if not ok then error(res, 0) end
      if st.op == "final" then return res end
      if type(res) ~= "table" then
        error(fmt("lask.bag: %s on partition %d returned a %s, not a list",
          st.name or st.op, p, type(res)), 0)
      end
      lists = { res }
      origin = nil
      i = i + 1
    end
  end
  return drain(lists, origin)[1]
end

-- ============================================================ the Bag

local Bag = {}
Bag.__index = Bag
Bag.__name = "lask.Bag"
M.Bag = Bag

local Item = {}
Item.__index = Item
Item.__name = "lask.Item"
M.Item = Item

local function is_bag(x) return getmetatable(x) == Bag end
local function is_item(x) return getmetatable(x) == Item end
M.is_bag = is_bag

-- sources[p] = {kind, args...}; task objects among args are dependencies.
local function new_bag(name, token, sources, stages)
  return setmetatable({
    name = name, token = token, sources = sources, stages = stages or {},
    npartitions = #sources,
  }, Bag)
end

local function check_fn(f, method, what)
  if type(f) ~= "function" then
    error(fmt("lask.bag: %s: %s must be a function, got %s", method, what or "the callback",
      type(f)), 3)
  end
  -- ship now so an upvalue that cannot travel is named at once
  local ok, err = pcall(core.ship, f)
  if not ok then error(fmt("lask.bag: %s: %s", method, tostring(err)), 3) end
end

local function check_args(method, args)
  for i = 1, args.n or #args do
    local a = args[i]
    if is_bag(a) or is_item(a) then
      error(fmt("lask.bag: %s: argument %d is a lazy %s; pass bags to map, compute items first",
        method, i + 1, is_bag(a) and "Bag" or "Item"), 3)
    end
  end
end

-- A bag with stage appended to self's pipeline.
function Bag:_then(name, stage, ...)
  local stages = { unpack(self.stages) }
  stages[#stages + 1] = stage
  return new_bag(name, core.tokenize(self.token, name, stage.op, ...), self.sources, stages)
end

local function key_of(name, token, p) return fmt("%s-%s-%d", name, token, p) end

local function runner(plan)
  local w = W
  return core.ship(function(...) return w.run(plan, ...) end)
end

-- The tasks holding the partitions (built once per Bag).
function Bag:_tasks()
  if self._t then return self._t end
  local tasks = {}
  if #self.stages == 0 and self._plain then
    for p, s in ipairs(self.sources) do tasks[p] = s[2] end
  else
    local fn = runner({ stages = self.stages })
    for p, s in ipairs(self.sources) do
      tasks[p] = core.ltask(key_of(self.name, self.token, p), fn, p, unpack(s))
    end
  end
  self._t = tasks
  return tasks
end

-- A plain bag whose partitions are the given tasks.
local function from_tasks(name, token, tasks)
  local sources = {}
  for p, t in ipairs(tasks) do sources[p] = { "list", t } end
  local b = new_bag(name, token, sources)
  b._plain = true
  return b
end

-- lask.base (compute options, progress callbacks) when the stdlib has it.
local has_base, base = pcall(require, "lask.base")
if not has_base then base = nil end

-- Compute tasks with the caller's options resolved against lask.config.
local function run_tasks(tasks, opts, what)
  if base then return base.run(tasks, base.options(opts, 3, what)) end
  return core.compute(tasks, opts or {})
end

function Bag:__tostring()
  return fmt("lask.Bag<%s, npartitions=%d>", self.name, self.npartitions)
end

-- ------------------------------------------------ collection protocol

function Bag:__lask_tasks() return self:_tasks() end

function Bag:__lask_finalize(results)
  local out, n = {}, 0
  for p = 1, #results do
    local part = results[p]
    for i = 1, #part do
      n = n + 1
      out[n] = part[i]
    end
  end
  return out
end

function Bag:__lask_rebuild(tasks)
  return from_tasks(self.name, core.tokenize("rebuild", self.token, tasks), tasks)
end

--- compute(opts) -> one Lua list of every element, partitions in order.
function Bag:compute(opts)
  return self:__lask_finalize(run_tasks(self:_tasks(), opts, "compute"))
end

--- to_delayed() -> a list of delayed values (lask.delayed), one per
-- partition, each computing to that partition's list.
function Bag:to_delayed()
  local ok, delayed = pcall(require, "lask.delayed")
  local items = {}
  for p, t in ipairs(self:_tasks()) do
    items[p] = ok and delayed.new(t) or setmetatable({ task = t, name = self.name }, Item)
  end
  return items
end

-- ------------------------------------------------------------- Items

function Item:__tostring() return fmt("lask.Item<%s>", self.name) end
function Item:__lask_tasks() return { self.task } end
function Item:__lask_finalize(results) return results[1] end
function Item:__lask_rebuild(tasks) return setmetatable({ task = tasks[1], name = self.name }, Item) end
function Item:compute(opts) return run_tasks({ self.task }, opts, "compute")[1] end
function Item:key() return core.key(self.task) end

-- ============================================================ creation

local function check_opts(opts, method)
  if opts ~= nil and type(opts) ~= "table" then
    error(fmt("lask.bag.%s: options must be a table, got %s", method, type(opts)), 3)
  end
  return opts or {}
end

local function positive_int(v, what, method)
  if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) or v < 1 then
    error(fmt("lask.bag.%s: %s must be a positive integer, got %s", method, what, tostring(v)), 3)
  end
  return math.tointeger(v)
end

--- from_sequence(list, {npartitions = | partition_size =})
function M.from_sequence(seq, opts)
  if type(seq) ~= "table" then
    error(fmt("lask.bag.from_sequence: expected a list, got %s", type(seq)), 2)
  end
  opts = check_opts(opts, "from_sequence")
  local n = #seq
  local size
  if opts.partition_size then
    size = positive_int(opts.partition_size, "partition_size", "from_sequence")
  else
    local np = opts.npartitions and positive_int(opts.npartitions, "npartitions", "from_sequence")
      or math.min(math.max(n, 1), 100)
    size = math.max(1, -(-n // np))
  end
  local token = core.tokenize("from_sequence", seq, size)
  local tasks = {}
  for lo = 1, math.max(n, 1), size do
    local part = { unpack(seq, lo, math.min(lo + size - 1, n)) }
    tasks[#tasks + 1] = core.value(key_of("from_sequence", token, #tasks + 1), part)
  end
  return from_tasks("from_sequence", token, tasks)
end

--- range(n, {npartitions =}): the integers 1..n.
function M.range(n, opts)
  if math.type(n) ~= "integer" or n < 0 then
    error(fmt("lask.bag.range: n must be a non-negative integer, got %s", tostring(n)), 2)
  end
  opts = check_opts(opts, "range")
  local np = opts.npartitions and positive_int(opts.npartitions, "npartitions", "range")
    or math.max(1, math.min(n, 100))
  local size = math.max(1, -(-n // np))
  local sources = {}
  for lo = 1, math.max(n, 1), size do
    sources[#sources + 1] = { "range", lo, math.min(lo + size - 1, n) }
  end
  return new_bag("range", core.tokenize("range", n, size), sources)
end

local UNITS = { b = 1, kb = 1e3, mb = 1e6, gb = 1e9, kib = 1024, mib = 1024 ^ 2, gib = 1024 ^ 3,
  k = 1024, m = 1024 ^ 2, g = 1024 ^ 3 }

local function parse_bytes(v, method)
  if type(v) == "number" then return math.floor(v) end
  if type(v) == "string" then
    local num, unit = v:lower():gsub("%s", ""):match("^([%d%.e%+]+)(%a*)$")
    if num and tonumber(num) and UNITS[unit ~= "" and unit or "b"] then
      return math.floor(tonumber(num) * UNITS[unit ~= "" and unit or "b"])
    end
  end
  error(fmt("lask.bag.%s: blocksize must be a byte count such as 64e6 or \"64MiB\", got %s",
    method, tostring(v)), 3)
end

M.default_blocksize = 16 * 1024 * 1024

-- lask.config options: "bag.blocksize" (read_text) and "bag.split_every"
-- (reduction trees), when the stdlib's config module is there.
local has_config, config = pcall(require, "lask.config")
if not has_config then config = nil end
if config and config.register then
  config.register("bag.blocksize", M.default_blocksize, function(v)
    if v ~= false and (type(v) ~= "number" or v < 0) and type(v) ~= "string" then
      return "expected a byte count (number or \"64MiB\") or false, got " .. tostring(v)
    end
  end)
  config.register("bag.split_every", 8, function(v)
    if math.type(v) ~= "integer" or v < 2 then return "expected an integer >= 2, got " .. tostring(v) end
  end)
end
local function option(name, default)
  if config then
    local ok, v = pcall(config.get, name)
    if ok and v ~= nil then return v end
  end
  return default
end

local function expand_paths(paths, method)
  local list = type(paths) == "table" and paths or { paths }
  local out = {}
  for _, p in ipairs(list) do
    if type(p) ~= "string" then
      error(fmt("lask.bag.%s: paths must be strings, got %s", method, type(p)), 3)
    end
    if p:find("[%*%?%[{]") then
      local found = textio.glob(p)
      if #found == 0 then error(fmt("lask.bag.%s: no files match '%s'", method, p), 3) end
      for _, f in ipairs(found) do out[#out + 1] = f end
    else
      out[#out + 1] = p
    end
  end
  if #out == 0 then error(fmt("lask.bag.%s: no paths given", method), 3) end
  return out
end

local function compression_of(path, c)
  if c == nil or c == "infer" then
    if path:match("%.gz$") then return "gzip" end
    if path:match("%.zstd?$") then return "zstd" end
    return "none"
  end
  if c ~= "gzip" and c ~= "zstd" and c ~= "none" then
    error(fmt("lask.bag: unknown compression '%s' (expected \"gzip\", \"zstd\", \"none\" or \"infer\")",
      tostring(c)), 4)
  end
  return c
end

--- read_text(path | glob | list, {blocksize =, linedelimiter =, compression =,
--   include_path =})
-- One partition per block of an uncompressed file (blocksize bytes,
-- default 16 MiB; false for one per file), one per compressed file. Lines
-- come without their delimiter; with include_path each element is
-- {line, path}.
function M.read_text(paths, opts)
  opts = check_opts(opts, "read_text")
  local files = expand_paths(paths, "read_text")
  local delim = opts.linedelimiter or "\n"
  if type(delim) ~= "string" or delim == "" then
    error("lask.bag.read_text: linedelimiter must be a non-empty string", 2)
  end
  local bs = opts.blocksize
  if bs == nil then bs = option("bag.blocksize", M.default_blocksize) end
  if bs ~= false then
    bs = parse_bytes(bs, "read_text")
    if bs == 0 then bs = false elseif bs < 0 then
      error("lask.bag.read_text: blocksize must not be negative", 2)
    end
  end
  local incl = opts.include_path and true or false
  local sources, sig = {}, {}
  for _, path in ipairs(files) do
    local ok, size = pcall(textio.size, path)
    if not ok then error("lask.bag.read_text: " .. size, 2) end
    local comp = compression_of(path, opts.compression)
    sig[#sig + 1] = path
    sig[#sig + 1] = size
    if comp ~= "none" then
      sources[#sources + 1] = { "readall", path, comp, delim, incl }
    elseif not bs or size == 0 then
      sources[#sources + 1] = { "read", path, 0, size, delim, incl }
    else
      for s = 0, size - 1, bs do
        sources[#sources + 1] = { "read", path, s, math.min(s + bs, size), delim, incl }
      end
    end
  end
  return new_bag("read_text", core.tokenize("read_text", sig, delim, bs, opts.compression, incl),
    sources)
end

--- from_delayed(values): one partition per value, each a lazy object (an
-- Item, a delayed value, any collection with one output task) or a task,
-- computing to a Lua list.
function M.from_delayed(values)
  if type(values) ~= "table" then
    error("lask.bag.from_delayed: expected a list of lazy values", 2)
  end
  if getmetatable(values) ~= nil and values.__lask_tasks then values = { values } end
  local tasks = {}
  for i, v in ipairs(values) do
    local t
    if type(v) == "table" or type(v) == "userdata" then
      local ok, ts = pcall(function() return v:__lask_tasks() end)
      if ok and type(ts) == "table" and #ts == 1 then t = ts[1] end
      if not ok then
        local okk = pcall(core.key, v)
        if okk then t = v end
      end
    end
    if not t then
      error(fmt("lask.bag.from_delayed: value %d is not a lazy value with one output", i), 2)
    end
    tasks[i] = t
  end
  return from_tasks("from_delayed", core.tokenize("from_delayed", tasks), tasks)
end

-- ================================================== element operations

--- map(f, ...): f(x, ...) for each element. Bags among the extra
-- arguments are zipped element-wise (same partitioning required); other
-- arguments are passed as they are.
function Bag:map(f, ...)
  check_fn(f, "map")
  local extra = table.pack(...)
  local bags = { self }
  local specs = { { bag = 1 } }
  local consts = {}
  for i = 1, extra.n do
    local a = extra[i]
    if is_bag(a) then
      if a.npartitions ~= self.npartitions then
        error(fmt("lask.bag: map: bag argument %d has %d partitions, this bag %d; "
          .. "zipped bags need the same partitioning", i + 1, a.npartitions, self.npartitions), 2)
      end
      bags[#bags + 1] = a
      specs[#specs + 1] = { bag = #bags }
    elseif is_item(a) then
      error(fmt("lask.bag: map: argument %d is an Item; compute it first", i + 1), 2)
    else
      specs[#specs + 1] = { value = a }
      consts[#consts + 1] = a
    end
  end
  if #bags == 1 then
    if f == json.decode and extra.n == 0 then
      return self:_then("map", { op = "json" }, "json.decode")
    end
    return self:_then("map", { op = "map", fn = f, args = consts }, f, consts)
  end
  return M._zipped(bags, { op = "zipmap", fn = f, args = specs, n = #bags }, "map", f, specs)
end

-- A bag over the partitions of several bags, first op consuming them.
function M._zipped(bags, stage, name, ...)
  local tasks, keys = {}, {}
  for k, b in ipairs(bags) do
    tasks[k] = b:_tasks()
    keys[k] = b.token
  end
  local sources = {}
  for p = 1, bags[1].npartitions do
    local items = {}
    for k = 1, #bags do items[k] = tasks[k][p] end
    sources[p] = { "lists", core.list(items) }
  end
  return new_bag(name, core.tokenize(name, keys, stage.op, ...), sources, { stage })
end

--- filter(pred): keep elements for which pred(x) is true.
function Bag:filter(pred)
  check_fn(pred, "filter", "the predicate")
  return self:_then("filter", { op = "filter", fn = pred }, pred)
end

--- remove(pred): drop elements for which pred(x) is true.
function Bag:remove(pred)
  check_fn(pred, "remove", "the predicate")
  return self:_then("remove", { op = "remove", fn = pred }, pred)
end

--- pluck(key | {keys}, {default =}): x[key] (or a list of several fields)
-- of each element; a missing field is an error naming it unless a default
-- is given.
function Bag:pluck(key, opts)
  opts = check_opts(opts, "pluck")
  local multi = type(key) == "table"
  local keys = multi and { unpack(key) } or { key }
  if #keys == 0 or (not multi and key == nil) then
    error("lask.bag: pluck: expected a key or a list of keys", 2)
  end
  local st = { op = "pluck", keys = keys, multi = multi, has_default = opts.default ~= nil,
    default = opts.default }
  return self:_then("pluck", st, keys, multi, opts.default)
end

--- starmap(f, ...): f(x[1], x[2], ..., extra...) for each list element.
function Bag:starmap(f, ...)
  check_fn(f, "starmap")
  local args = table.pack(...)
  check_args("starmap", args)
  args.n = nil
  return self:_then("starmap", { op = "starmap", fn = f, args = args }, f, args)
end

--- flatten(): concatenate the elements, each a list.
function Bag:flatten()
  return self:_then("flatten", { op = "flatten" })
end

--- map_partitions(f, ...): f(list, ...) for each partition, returning a list.
function Bag:map_partitions(f, ...)
  check_fn(f, "map_partitions")
  local args = table.pack(...)
  check_args("map_partitions", args)
  args.n = nil
  return self:_then("map_partitions", { op = "part", name = "map_partitions", fn = f, args = args },
    f, args)
end

--- zip(other, ...): tuples {x, y, ...} of elements at the same position.
function Bag:zip(...)
  local bags = { self, ... }
  for k = 2, #bags do
    if not is_bag(bags[k]) or bags[k].npartitions ~= self.npartitions then
      error(fmt("lask.bag: zip: argument %d must be a bag with %d partitions", k - 1,
        self.npartitions), 2)
    end
  end
  return M._zipped(bags, { op = "zip", n = #bags }, "zip")
end

--- product(other): every pair {x, y}; npartitions multiply.
function Bag:product(other)
  if not is_bag(other) then error("lask.bag: product: expected a bag", 2) end
  local a, b = self:_tasks(), other:_tasks()
  local sources = {}
  for i = 1, #a do
    for j = 1, #b do sources[#sources + 1] = { "product", a[i], b[j] } end
  end
  return new_bag("product", core.tokenize("product", self.token, other.token), sources)
end

-- ========================================================== reductions

-- Canonical key of a value for grouping: tables by content. Numbers
-- inside tables are written so that 1 and 1.0 (equal in Lua, and the same
-- table key) give the same text.
local function canon_scalar(v)
  if type(v) == "number" then
    local i = math.tointeger(v)
    if i then return "n" .. i end
    return fmt("n%.17g", v)
  end
  return type(v):sub(1, 1) .. fmt("%q", tostring(v))
end

local function canon(v)
  if type(v) ~= "table" then return v end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(x, y)
    local tx, ty = type(x), type(y)
    if tx ~= ty then return tx < ty end
    if tx == "number" or tx == "string" then return x < y end
    return tostring(x) < tostring(y)
  end)
  local parts = {}
  for i, k in ipairs(keys) do
    local val = v[k]
    local ck = type(k) == "table" and canon(k) or canon_scalar(k)
    local cv = type(val) == "table" and canon(val) or canon_scalar(val)
    parts[i] = ck .. "=" .. cv
  end
  return "\0table{" .. concat(parts, ",") .. "}"
end
W.canon = canon

-- Tree reduction: perpart(list, p) -> partial; combine(partials) ->
-- partial; finish(partial) -> result. Returns the final task.
function Bag:_tree(name, perpart, combine, finish, opts, sink)
  opts = opts or {}
  local split = opts.split_every or option("bag.split_every", 8)
  if math.type(split) ~= "integer" or split < 2 then
    error(fmt("lask.bag: %s: split_every must be an integer >= 2", name), 3)
  end
  local parts = self:_then(name .. "-part",
    { op = "final", name = name, internal = true, fn = perpart, sink = sink }, perpart):_tasks()
  local token = core.tokenize(name, self.token, perpart, combine, finish, split)
  local comb = runner({ stages = { { op = "final", name = name, internal = true,
    fn = function(partials) return combine(partials) end } } })
  local level, depth = parts, 0
  while #level > split do
    depth = depth + 1
    local nxt = {}
    for lo = 1, #level, split do
      local grp = { unpack(level, lo, math.min(lo + split - 1, #level)) }
      nxt[#nxt + 1] = core.ltask(fmt("%s-combine-%s-%d-%d", name, token, depth, #nxt + 1), comb,
        #nxt + 1, "partials", core.list(grp))
    end
    level = nxt
  end
  local fin = runner({ stages = { { op = "final", name = name, internal = true,
    fn = function(partials) return finish(combine(partials)) end } } })
  return core.ltask(fmt("%s-agg-%s", name, token), fin, 1, "partials", core.list(level))
end

local function item(name, task) return setmetatable({ task = task, name = name }, Item) end

local function bag1(name, task) return from_tasks(name, core.tokenize(name, core.key(task)), { task }) end

local function ident(x) return x end

--- reduction(perpartition, aggregate, {split_every =}) -> Item:
-- aggregate(list of perpartition results), applied level by level.
function Bag:reduction(perpartition, aggregate, opts)
  check_fn(perpartition, "reduction", "perpartition")
  check_fn(aggregate, "reduction", "aggregate")
  return item("reduction", self:_tree("reduction", function(list) return perpartition(list) end,
    aggregate, ident, opts))
end

local function sum_list(t)
  local s = 0
  for i = 1, #t do s = s + t[i] end
  return s
end

function Bag:count(opts)
  return item("count", self:_tree("count", function(l) return #l end, sum_list, ident, opts, "count"))
end

function Bag:sum(opts)
  return item("sum", self:_tree("sum", sum_list, sum_list, ident, opts, "sum"))
end

local function minmax(name, better)
  return function(self, opts)
    local function per(l)
      if #l == 0 then return {} end
      local m = l[1]
      for i = 2, #l do if better(l[i], m) then m = l[i] end end
      return { m }
    end
    local function comb(ps)
      local m
      for i = 1, #ps do
        local v = ps[i][1]
        if v ~= nil and (m == nil or better(v, m)) then m = v end
      end
      return m == nil and {} or { m }
    end
    local function fin(p)
      if p[1] == nil then error(name .. " of an empty bag", 0) end
      return p[1]
    end
    return item(name, self:_tree(name, per, comb, fin, opts))
  end
end
Bag.min = minmax("min", function(a, b) return a < b end)
Bag.max = minmax("max", function(a, b) return a > b end)

-- {n, mean, m2} per partition, merged with Chan et al.'s pairwise update
-- so var/std stay accurate on large bags.
local function moments(l)
  local n, mean, m2 = 0, 0.0, 0.0
  for i = 1, #l do
    local x = l[i]
    n = n + 1
    local d = x - mean
    mean = mean + d / n
    m2 = m2 + d * (x - mean)
  end
  return { n, mean, m2 }
end
local function merge_moments(ps)
  local n, mean, m2 = 0, 0.0, 0.0
  for i = 1, #ps do
    local nb, mb, m2b = ps[i][1], ps[i][2], ps[i][3]
    if nb > 0 then
      local nn = n + nb
      local d = mb - mean
      mean = mean + d * nb / nn
      m2 = m2 + m2b + d * d * n * nb / nn
      n = nn
    end
  end
  return { n, mean, m2 }
end

function Bag:mean(opts)
  return item("mean", self:_tree("mean", moments, merge_moments,
    function(p) return p[1] > 0 and p[2] or 0 / 0 end, opts))
end

function Bag:var(ddof, opts)
  if type(ddof) == "table" then ddof, opts = nil, ddof end
  ddof = ddof or 0
  return item("var", self:_tree("var", moments, merge_moments,
    function(p) return p[1] - ddof > 0 and p[3] / (p[1] - ddof) or 0 / 0 end, opts))
end

function Bag:std(ddof, opts)
  if type(ddof) == "table" then ddof, opts = nil, ddof end
  ddof = ddof or 0
  return item("std", self:_tree("std", moments, merge_moments,
    function(p) return p[1] - ddof > 0 and math.sqrt(p[3] / (p[1] - ddof)) or 0 / 0 end, opts))
end

function Bag:any(opts)
  local function per(l)
    for i = 1, #l do if l[i] then return true end end
    return false
  end
  return item("any", self:_tree("any", per, per, ident, opts))
end

function Bag:all(opts)
  local function per(l)
    for i = 1, #l do if not l[i] then return false end end
    return true
  end
  return item("all", self:_tree("all", per, per, ident, opts))
end

--- fold(binop, combine, initial, {split_every =}) -> Item. binop(acc, x)
-- folds each partition (from initial, or from its first element), combine
-- (default binop) folds the partition results.
function Bag:fold(binop, combine, initial, opts)
  check_fn(binop, "fold", "binop")
  if combine ~= nil then check_fn(combine, "fold", "combine") end
  combine = combine or binop
  local has_init = initial ~= nil
  local function reduce(f, l)
    local acc, s = initial, 1
    if not has_init then
      if #l == 0 then return {} end
      acc, s = l[1], 2
    end
    for i = s, #l do acc = f(acc, l[i]) end
    return { acc }
  end
  local function comb(ps)
    local vals = {}
    for i = 1, #ps do if ps[i][1] ~= nil then vals[#vals + 1] = ps[i][1] end end
    return reduce(combine, vals)
  end
  local function fin(p)
    if p[1] == nil then error("fold of an empty bag without an initial value", 0) end
    return p[1]
  end
  return item("fold", self:_tree("fold", function(l) return reduce(binop, l) end, comb, fin, opts))
end

local function key_fn(key, method)
  if type(key) == "function" then
    check_fn(key, method, "the key")
    return key
  end
  if key == nil then error(fmt("lask.bag: %s: expected a key function or a field name", method), 3) end
  local missing = W.missing({ keys = { key } })
  return function(x)
    local v = x[key]
    if v == nil then return missing(x, key) end
    return v
  end
end

--- foldby(key, binop, initial, combine, combine_initial) -> Bag of
-- {key, value} pairs (one partition). key is a function or a field name.
function Bag:foldby(key, binop, initial, combine, combine_initial, opts)
  local kf = key_fn(key, "foldby")
  check_fn(binop, "foldby", "binop")
  if combine ~= nil then check_fn(combine, "foldby", "combine") end
  combine = combine or binop
  local function fold_pairs(pairs_in, f, init, keyf)
    local acc, order, orig = {}, {}, {}
    for i = 1, #pairs_in do
      local k, v
      if keyf then k, v = keyf(pairs_in[i]), pairs_in[i] else k, v = pairs_in[i][1], pairs_in[i][2] end
      local c = canon(k)
      local cur = acc[c]
      if cur == nil then
        order[#order + 1] = c
        orig[c] = k
        if init == nil then acc[c] = v else acc[c] = f(init, v) end
      else
        acc[c] = f(cur, v)
      end
    end
    local out = {}
    for i, c in ipairs(order) do out[i] = { orig[c], acc[c] } end
    return out
  end
  local function per(l) return fold_pairs(l, binop, initial, kf) end
  local function comb(ps)
    local all = {}
    for i = 1, #ps do for j = 1, #ps[i] do all[#all + 1] = ps[i][j] end end
    return fold_pairs(all, combine, combine_initial)
  end
  return bag1("foldby", self:_tree("foldby", per, comb, ident, opts))
end

--- frequencies({sort = true}) -> Bag of {value, count} pairs; sorted by
-- count, largest first (ties by value) when sort is set.
function Bag:frequencies(opts)
  opts = check_opts(opts, "frequencies")
  local sort = opts.sort
  local function count_into(acc, orig, order, v, c)
    local k = canon(v)
    local cur = acc[k]
    if cur == nil then
      order[#order + 1] = k
      orig[k] = v
      acc[k] = c
    else
      acc[k] = cur + c
    end
  end
  local function per(l)
    local acc, orig, order = {}, {}, {}
    for i = 1, #l do
      local v = l[i]
      local cur = acc[v]
      if cur then acc[v] = cur + 1
      elseif type(v) ~= "table" then
        acc[v] = 1
        order[#order + 1] = v
        orig[v] = v
      else
        count_into(acc, orig, order, v, 1)
      end
    end
    local out = {}
    for i, k in ipairs(order) do out[i] = { orig[k], acc[k] } end
    return out
  end
  local function comb(ps)
    local acc, orig, order = {}, {}, {}
    for i = 1, #ps do
      local p = ps[i]
      for j = 1, #p do count_into(acc, orig, order, p[j][1], p[j][2]) end
    end
    local out = {}
    for i, k in ipairs(order) do out[i] = { orig[k], acc[k] } end
    return out
  end
  local function fin(p)
    if sort then
      table.sort(p, function(a, b)
        if a[2] ~= b[2] then return a[2] > b[2] end
        return tostring(canon(a[1])) < tostring(canon(b[1]))
      end)
    end
    return p
  end
  return bag1("frequencies", self:_tree("frequencies", per, comb, fin, opts, "freq"))
end

--- topk(k, key) -> Bag of the k largest elements, largest first; key is
-- a function or a field name.
function Bag:topk(k, key, opts)
  if math.type(k) ~= "integer" or k < 0 then
    error("lask.bag: topk: k must be a non-negative integer", 2)
  end
  local kf = key ~= nil and key_fn(key, "topk") or ident
  local function top(l)
    local dec = {}
    for i = 1, #l do dec[i] = { kf(l[i]), i, l[i] } end
    table.sort(dec, function(a, b)
      if a[1] ~= b[1] then return a[1] > b[1] end
      return a[2] < b[2]
    end)
    local out = {}
    for i = 1, math.min(k, #dec) do out[i] = dec[i][3] end
    return out
  end
  local function comb(ps)
    local all = {}
    for i = 1, #ps do for j = 1, #ps[i] do all[#all + 1] = ps[i][j] end end
    return top(all)
  end
  return bag1("topk", self:_tree("topk", top, comb, ident, opts))
end

--- distinct(key) -> Bag (one partition) of the distinct elements, in order
-- of first appearance; tables compare by content.
function Bag:distinct(key, opts)
  local kf = key ~= nil and key_fn(key, "distinct") or ident
  local function uniq(l)
    local seen, out = {}, {}
    for i = 1, #l do
      local c = canon(kf(l[i]))
      if not seen[c] then
        seen[c] = true
        out[#out + 1] = l[i]
      end
    end
    return out
  end
  local function comb(ps)
    local all = {}
    for i = 1, #ps do for j = 1, #ps[i] do all[#all + 1] = ps[i][j] end end
    return uniq(all)
  end
  return bag1("distinct", self:_tree("distinct", uniq, comb, ident, opts))
end

-- 32-bit FNV-1a of a canonical key: the same bucket in every Lua state.
local function bucket_of(v, n)
  local s = v
  if type(s) == "number" then
    local i = math.tointeger(s)   -- 3 and 3.0 are one key, so one bucket
    if i then return i % n + 1 end
  end
  s = tostring(canon(s))
  local h = 2166136261
  for i = 1, #s do
    h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff
  end
  return h % n + 1
end
W.bucket_of = bucket_of

--- groupby(key, {npartitions =}) -> Bag of {key, {elements...}}.
-- A full shuffle: every partition is split by key and every output
-- partition reads a piece of every input. Prefer foldby or frequencies
-- when the groups are only reduced.
function Bag:groupby(key, opts)
  opts = check_opts(opts, "groupby")
  local kf = key_fn(key, "groupby")
  local nout = opts.npartitions and positive_int(opts.npartitions, "npartitions", "groupby")
    or self.npartitions
  local function split(l)
    local b = {}
    for j = 1, nout do b[j] = {} end
    for i = 1, #l do
      local t = b[bucket_of(kf(l[i]), nout)]
      t[#t + 1] = l[i]
    end
    return b
  end
  local splits = self:_then("groupby-split",
    { op = "final", name = "groupby", internal = true, fn = split }, split, nout):_tasks()
  local token = core.tokenize("groupby", self.token, kf, nout)
  local sources = {}
  for j = 1, nout do sources[j] = { "gather", core.list(splits), j } end
  local function group(l)
    local acc, order, orig = {}, {}, {}
    for i = 1, #l do
      local k = kf(l[i])
      local c = canon(k)
      local g = acc[c]
      if not g then
        g = {}
        acc[c] = g
        order[#order + 1] = c
        orig[c] = k
      end
      g[#g + 1] = l[i]
    end
    local out = {}
    for i, c in ipairs(order) do out[i] = { orig[c], acc[c] } end
    return out
  end
  return new_bag("groupby", token, sources,
    { { op = "part", name = "groupby", fn = group, args = {} } })
end

-- ================================================================ take

--- take(n, {npartitions = -1, compute = true}) -> the first n elements as a
-- list, computing partitions one at a time and only as many as needed
-- (npartitions caps how many are looked at; -1: all).
function Bag:take(n, opts)
  if math.type(n) ~= "integer" or n < 0 then
    error("lask.bag: take: n must be a non-negative integer", 2)
  end
  opts = check_opts(opts, "take")
  local limit = opts.npartitions or -1
  if limit < 0 then limit = self.npartitions end
  local function head(l) return { unpack(l, 1, math.min(n, #l)) } end
  local b = self:_then("take", { op = "part", name = "take", fn = head, args = {} }, n)
  if opts.compute == false then
    return from_tasks("take", b.token, { b:_tasks()[1] })
  end
  local tasks = b:_tasks()
  local out = {}
  local copts = { scheduler = opts.scheduler, num_workers = opts.num_workers }
  for p = 1, math.min(limit, #tasks) do
    if #out >= n then break end
    local part = run_tasks({ tasks[p] }, copts, "take")[1]
    for i = 1, #part do
      if #out >= n then break end
      out[#out + 1] = part[i]
    end
  end
  return out
end

-- ============================================================== output

local function mkdirs(dir)
  local ok, err = pcall(textio.mkdir, dir)
  if not ok then error("lask.bag.to_textfiles: " .. err, 3) end
end

--- to_textfiles(dir | "path/*.txt", {compression =}) -> list of paths.
-- Writes partition p to dir/<p>.part (or the pattern with * replaced by p,
-- zero-padded so that the files sort in partition order); elements must be
-- strings or numbers. Runs at once.
function Bag:to_textfiles(path, opts)
  if type(path) ~= "string" then error("lask.bag: to_textfiles: expected a path", 2) end
  opts = check_opts(opts, "to_textfiles")
  local n = self.npartitions
  local width = #tostring(n)
  local comp = opts.compression
  local ext = comp == "gzip" and ".gz" or (comp == "zstd" and ".zst" or "")
  local paths = {}
  if path:find("%*") then
    local dir = path:match("^(.*)/[^/]*$")
    if dir and dir ~= "" then mkdirs(dir) end
    for p = 1, n do paths[p] = path:gsub("%*", fmt("%0" .. width .. "d", p)) end
  else
    mkdirs(path)
    for p = 1, n do paths[p] = fmt("%s/%0" .. width .. "d.part%s", path, p, ext) end
  end
  local delim = opts.linedelimiter or "\n"
  local function write(list, p, all, c, d)
    local tio = require "lask.core.textio"
    tio.write_lines(all[p], list, c or "infer", d)
    return all[p]
  end
  local b = self:_then("to_textfiles", { op = "final", name = "to_textfiles", internal = true,
    fn = write, args = { paths, comp, delim } }, paths, comp, delim)
  return run_tasks(b:_tasks(), { scheduler = opts.scheduler, num_workers = opts.num_workers },
    "to_textfiles")
end

--- to_dataframe(meta, {columns =}) -> a lask.dataframe whose partitions
-- are these partitions' records (tables with the same fields) as typed
-- columns. meta is what lask.dataframe takes ({col = type}, {names=,
-- types=} or an empty frame); without it the first partition is computed
-- to find the columns and types, as Dask does.
function Bag:to_dataframe(meta, opts)
  local ok, dd = pcall(require, "lask.dataframe")
  if not ok or type(dd) ~= "table" or not dd.from_tasks then
    error("lask.bag: to_dataframe needs lask.dataframe, which is not available", 2)
  end
  opts = check_opts(opts, "to_dataframe")
  local columns, names, types = opts.columns, nil, nil
  if type(meta) == "table" then
    names, types = {}, {}
    if meta.names then
      names, types = meta.names, meta.types
    elseif #meta > 0 then
      for i, p in ipairs(meta) do names[i], types[i] = p[1], p[2] end
    else
      for k in pairs(meta) do names[#names + 1] = k end
      table.sort(names)
      for i, k in ipairs(names) do types[i] = meta[k] end
    end
    columns = columns or names
  end
  local function to_frame(list, p, cols, nm, ty)
    local F = require "lask.core.frame"
    if #list == 0 then
      if nm then return F.empty(nm, ty) end
      error(("partition %d is empty and no meta was given"):format(p), 0)
    end
    return F.frame(list, cols and { columns = cols } or nil)
  end
  local args = { n = 3, columns, names, types }
  local b = self:_then("to_dataframe", { op = "final", name = "to_dataframe", internal = true,
    fn = to_frame, args = args }, columns, names, types)
  local tasks = b:_tasks()
  if meta == nil then
    meta = run_tasks({ tasks[1] }, nil, "to_dataframe")[1]
  end
  return dd.from_tasks(tasks, meta, nil, nil, 2)
end

-- persist, graph_size, visualize: shared with every collection.
local has_coll, collection = pcall(require, "lask.collection")
if has_coll then
  collection.mixin(Bag)
  collection.mixin(Item)
end

return M
