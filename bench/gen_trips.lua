-- bench/gen_trips.lua - the deterministic trips data set for bench/dataframe.lua.
--
--   lua5.4 bench/gen_trips.lua [rows] [dir]
-- writes dir/trips.csv (all rows) and dir/trips-01.csv .. trips-16.csv (the
-- same rows split in 16). Columns: id int, key int (1000 values), cat (one
-- of 20 words), x, y floats, ts int. Same rows on every run (own LCG).
-- (bench/*.lua all run under `make bench`: this one does nothing when the
-- files are there, unless given --force)
local force = arg[#arg] == "--force"
if force then arg[#arg] = nil end
local rows = tonumber(arg[1]) or 10000000
local dir = arg[2] or "bench/data"
local probe = io.open(dir .. "/trips-16.csv")
if probe and not force then
  probe:close()
  print("gen_trips: " .. dir .. " already holds the data (pass --force to rewrite)")
  return
end
os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
local words = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
  "hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar",
  "papa", "quebec", "romeo", "sierra", "tango"}
local state = 12345
local function rnd()  -- 0 <= r < 2^31
  state = (state * 1103515245 + 12345) & 0x7fffffff
  return state
end
local header = "id,key,cat,x,y,ts\n"
local whole = assert(io.open(dir .. "/trips.csv", "w"))
whole:write(header)
local nfiles = 16
local per = rows // nfiles
local fmt = string.format
local buf, nb = {}, 0
local part
for i = 0, rows - 1 do
  local f = i // per + 1
  if f > nfiles then f = nfiles end
  if not part or part.no ~= f then
    if part then part.fh:write(table.concat(buf, "", 1, nb)); part.fh:close() end
    if part then whole:write(table.concat(buf, "", 1, nb)) end
    nb = 0
    part = {no = f, fh = assert(io.open(fmt("%s/trips-%02d.csv", dir, f), "w"))}
    part.fh:write(header)
  end
  nb = nb + 1
  -- the high bits of the LCG: its low bits have short cycles
  buf[nb] = fmt("%d,%d,%s,%.6f,%.4f,%d\n", i + 1, (rnd() >> 12) % 1000, words[(rnd() >> 12) % 20 + 1],
    rnd() / 2147483648, rnd() / 21474836.48, 1600000000 + i)
  if nb == 10000 then
    local s = table.concat(buf, "", 1, nb)
    part.fh:write(s); whole:write(s); nb = 0
  end
end
local s = table.concat(buf, "", 1, nb)
part.fh:write(s); part.fh:close(); whole:write(s); whole:close()
print(fmt("wrote %d rows to %s/trips.csv and %d files", rows, dir, nfiles))
