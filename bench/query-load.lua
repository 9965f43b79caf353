-- wrk script for bench/query-load.sh: each request asks about the next of SERIES series, so no answer
-- repeats back to back; done() prints one line of figures for the script to collect.
--   QUERY=week    the percentiles of the 7 days before END_MILLIS (response and service time, 4 quantiles):
--                 the same 100 ranges over and over
--   QUERY=moving  the same, each request's 7 days ending at its own `to`: END_MILLIS less a random whole
--                 number of 10 s windows within the last MOVING_SPAN_SECONDS (default a day), plus a
--                 random part of a second, as dashboards opened at different times ask
--   QUERY=live    (or live@N) the same, `to` being "now" on the clock of the live writer (QueryLoad's /live/start
--                 answered LIVE_SIM_MILLIS at LIVE_WALL_MILLIS, running LIVE_SPEED simulated seconds a
--                 second) plus a random part of a second: a dashboard's "last 7 days" while windows arrive
--   QUERY=latest  the percentiles of the last 10 s window before END_MILLIS
--   QUERY=hello   GET /hello of the hello-world Javalin app beside the API (the floor)
local series = tonumber(os.getenv("SERIES") or "100")
local endMillis = tonumber(os.getenv("END_MILLIS"))
local query = os.getenv("QUERY") or "week"
local rangeMillis = query == "latest" and 10000 or 7 * 86400000
local spanWindows = math.floor(tonumber(os.getenv("MOVING_SPAN_SECONDS") or "86400") / 10)
local liveSim = tonumber(os.getenv("LIVE_SIM_MILLIS") or "0")
local liveWall = tonumber(os.getenv("LIVE_WALL_MILLIS") or "0")
local liveSpeed = tonumber(os.getenv("LIVE_SPEED") or "1")
local counter = 0
local threads = 0

setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end

init = function(args)
  -- each wrk thread its own sequence of `to`s, the same in every run
  math.randomseed(1 + 7919 * (id or 0))
end

request = function()
  counter = counter + 1
  if query == "hello" then
    return wrk.format("GET", "/hello")
  end
  local to = endMillis
  if query == "moving" then
    to = endMillis - 10000 * math.random(0, spanWindows - 1) - math.random(0, 999)
  elseif query:sub(1, 4) == "live" then
    -- os.time() has whole seconds; the random part spreads requests over the second
    to = liveSim + math.floor((os.time() * 1000 + math.random(0, 999) - liveWall) * liveSpeed)
  end
  local path = string.format("/api/v1/percentiles?target=series-%03d&probe=tcp&from=%d&to=%d",
      counter % series, to - rangeMillis, to)
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
