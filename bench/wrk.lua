-- wrk script of `make bench`: replays a spec file written by bench/loadgen.py.
--
-- Run as `wrk -t N -c N` (one connection per thread): thread i replays block i of the spec
-- with its own headers (a member's cookies and CSRF token) and its own cycle of requests,
-- starting at an offset so that a member's like/unlike cycle goes on where its last run
-- stopped. No measured request is ever cut off: once its time is up, a thread finishes the
-- request it has in flight, writes its results and from then on sends only a harmless filler
-- (a GET without cookies) until loadgen.py ends wrk. A filler, not silence, because wrk
-- reconnects after every `Connection: close` response, and an idle connection would hold one
-- of gunicorn's sync workers until wrk exits, starving the threads still measuring.
--
-- Spec (file named by BENCH_WRK_SPEC, tab-separated): "D seconds", "F filler-path",
-- "P results-prefix", then per thread "T", "O offset", "H name value" and
-- "R tag method path body" lines. Each thread writes "<results-prefix><n>.json".

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
]])
local timespec = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

local spec = { duration = 1, filler = "/", prefix = "", blocks = {} }
for line in io.lines(os.getenv("BENCH_WRK_SPEC")) do
  local f = split(line)
  local block = spec.blocks[#spec.blocks]
  if f[1] == "D" then
    spec.duration = tonumber(f[2])
  elseif f[1] == "F" then
    spec.filler = f[2]
  elseif f[1] == "P" then
    spec.prefix = f[2]
  elseif f[1] == "T" then
    spec.blocks[#spec.blocks + 1] = { offset = 0, headers = {}, requests = {} }
  elseif f[1] == "O" then
    block.offset = tonumber(f[2])
  elseif f[1] == "H" then
    block.headers[f[2]] = f[3]
  elseif f[1] == "R" then
    block.requests[#block.requests + 1] = { tag = f[2], method = f[3], path = f[4], body = f[5] }
  end
end

-- Main state: number the threads.
local count = 0
function setup(thread)
  count = count + 1
  thread:set("number", count)
end

-- Thread state.
local cycle, filler, index, dry_run
local started, deadline, sent_at, outstanding, finished = nil, nil, nil, false, false
local sent, responses, lost, latencies, ok, bad, statuses = 0, 0, 0, {}, {}, {}, {}

function init(args)
  local block = spec.blocks[((number - 1) % #spec.blocks) + 1]
  cycle = {}
  for i, r in ipairs(block.requests) do
    local body = r.body ~= "" and r.body or nil
    cycle[i] = { tag = r.tag, raw = wrk.format(r.method, r.path, block.headers, body) }
  end
  filler = wrk.format("GET", spec.filler, {})
  index = block.offset
  -- wrk calls request() once on the first thread before starting it, to check the script.
  dry_run = number == 1
end

function request()
  if finished then
    return filler
  end
  if dry_run then
    dry_run = false
    return cycle[(index % #cycle) + 1].raw
  end
  if not started then
    started = now()
    deadline = started + spec.duration
  end
  if outstanding then
    lost = lost + 1 -- sent, but the connection failed before an answer
  end
  local r = cycle[(index % #cycle) + 1]
  index = index + 1
  sent = sent + 1
  outstanding = r.tag
  sent_at = now()
  return r.raw
end

local function counts_json(t)
  local parts = {}
  for k, v in pairs(t) do
    parts[#parts + 1] = string.format("%q:%d", k, v)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function write_results(elapsed)
  local out = assert(io.open(spec.prefix .. number .. ".json", "w"))
  out:write(string.format(
    '{"responses":%d,"sent":%d,"lost":%d,"elapsed":%.6f,"ok":%s,"bad":%s,"statuses":%s,' ..
    '"latencies":[%s]}\n',
    responses, sent, lost, elapsed,
    counts_json(ok), counts_json(bad), counts_json(statuses), table.concat(latencies, ",")))
  out:close()
end

function response(status, headers, body)
  if finished or not outstanding then
    return
  end
  local at = now()
  responses = responses + 1
  latencies[#latencies + 1] = string.format("%.6f", at - sent_at)
  statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
  local counts = (status >= 200 and status < 300) and ok or bad
  counts[outstanding] = (counts[outstanding] or 0) + 1
  outstanding = false
  if at >= deadline then
    finished = true
    write_results(at - started)
    io.stderr:write("bench-thread-finished\n")
    io.stderr:flush()
  end
end
