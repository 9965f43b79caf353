-- wrk script for bench/query-load.sh: each request asks about the next of SERIES series, so no answer
-- repeats back to back; done() prints one line of figures for the script to collect.
--   QUERY=week    the percentiles of the 7 days before END_MILLIS (response and service time, 4 quantiles)
--   QUERY=latest  the percentiles of the last 10 s window before END_MILLIS
--   QUERY=hello   GET /hello of the hello-world Javalin app beside the API (the floor)
local series = tonumber(os.getenv("SERIES") or "100")
local endMillis = tonumber(os.getenv("END_MILLIS"))
local query = os.getenv("QUERY") or "week"
local rangeMillis = query == "week" and 7 * 86400000 or 10000
local counter = 0

request = function()
  counter = counter + 1
  if query == "hello" then
    return wrk.format("GET", "/hello")
  end
  local path = string.format("/api/v1/percentiles?target=series-%03d&probe=tcp&from=%d&to=%d",
      counter % series, endMillis - rangeMillis, endMillis)
  return wrk.format("GET", path)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout
  io.write(string.format("RESULT query=%s requests=%d seconds=%.1f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f"
      .. " p999_ms=%.2f max_ms=%.2f errors=%d\n", query, summary.requests, summary.duration / 1e6,
      summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000, errors))
end
