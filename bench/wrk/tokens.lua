-- GET /protected with the tokens of the file named by BENCH_TOKENS (one per line), round-robin per thread.
-- Prints one machine-readable line at the end: WRK_JSON {...}.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end
local requests = {}
local n = 0
local i = 0

-- Built in init, not at load: wrk sets the Host header only then (a request without Host is a 400).
init = function(_)
  for k, t in ipairs(tokens) do
    requests[k] = wrk.format("GET", "/protected", { ["Authorization"] = "Bearer " .. t })
  end
  n = #requests
end

request = function()
  i = i + 1
  if i > n then i = 1 end
  return requests[i]
end

done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
