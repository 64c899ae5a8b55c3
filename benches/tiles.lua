-- wrk script of the vector tile bench (benches/tiles.sh): cycles through the request paths
-- of a file (one a line, written by `tile_bench addresses`), each wrk thread starting at
-- another offset, with the same Accept-Encoding to every server; `done` prints one line
--   wrk_result requests_per_s=… p50_ms=… p99_ms=… requests=… non_2xx=… socket_errors=… bytes_per_response=…
-- for the script (non_2xx counts statuses of 400 and above, as wrk does; 204, Martin's
-- answer for an empty tile, is a success).
--
--   wrk -t1 -c64 -d20s -s tiles.lua http://127.0.0.1:PORT -- PATHS_FILE [ENCODING]
--
-- ENCODING is the Accept-Encoding sent (default gzip; `identity` for none). When the
-- environment variable TILES_AUTHORIZATION is set and not empty, every request carries it as
-- the Authorization header (gridgov: `Bearer TOKEN`; unset for Martin and fixed_body).

local requests = {}
local i = 0
local threads = 0

function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end

function init(args)
  local file = args[1]
  if file == nil then
    error("tiles.lua: pass the paths file after --")
  end
  wrk.headers["Accept-Encoding"] = args[2] or "gzip"
  local authorization = os.getenv("TILES_AUTHORIZATION")
  if authorization ~= nil and authorization ~= "" then
    wrk.headers["Authorization"] = authorization
  end
  for line in io.lines(file) do
    if line ~= "" then
      requests[#requests + 1] = wrk.format("GET", line)
    end
  end
  if #requests == 0 then
    error("tiles.lua: no paths in " .. file)
  end
  i = (offset or 0) % #requests
end

function request()
  i = i % #requests + 1
  return requests[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  local n = math.max(summary.requests, 1)
  io.write(string.format(
    "wrk_result requests_per_s=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d non_2xx=%d socket_errors=%d bytes_per_response=%.0f\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout,
    summary.bytes / n))
end
