-- GET BENCH_PATH (default /protected) with the tokens of the file named by BENCH_TOKENS (one per line), round-robin
-- per thread. At /auth the request carries what nginx's auth_request sends: the original URI, host and scheme.
-- At /introspect: POST with the token in the form body and the client's `Authorization: Basic` (BENCH_BASIC).
-- Prints one machine-readable line at the end: WRK_JSON {...}.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end
local path = os.getenv("BENCH_PATH") or "/protected"
local requests = {}
local n = 0
local i = 0

-- Built in init, not at load: wrk sets the Host header only then (a request without Host is a 400).
init = function(_)
  for k, t in ipairs(tokens) do
    local headers = { ["Authorization"] = "Bearer " .. t }
    if path == "/introspect" then
      headers = { ["Authorization"] = os.getenv("BENCH_BASIC"), ["Content-Type"] = "application/x-www-form-urlencoded" }
      requests[k] = wrk.format("POST", path, headers, "token=" .. t)
    elseif path:sub(1, 5) == "/auth" then
      headers["X-Original-URI"] = "/api/orders?id=7"
      headers["X-Forwarded-Uri"] = "/api/orders?id=7"
      headers["X-Forwarded-Host"] = "app.example.test"
      headers["X-Forwarded-Proto"] = "https"
    end
    if requests[k] == nil then requests[k] = wrk.format("GET", path, headers) end
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
