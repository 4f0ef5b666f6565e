-- wrk script for bench/load.sh: every request posts 10 new Contacts (external ids unique per
-- thread and request), as an application posting its changes would.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  counter = 0
  prefix = "W" .. tid .. "-"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("HUB_TOKEN")
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, 10 do
    local n = counter * 10 + i
    parts[i] = string.format(
      '{"External_Id__c":"%s%d","LastName":"Load %d","Email":"load.%s%d@example.com"}',
      prefix, n, n, prefix, n)
  end
  return wrk.format("POST", "/v1/objects/Contact/records", nil, "[" .. table.concat(parts, ",") .. "]")
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("requests %d in %.1f s: %.0f requests/s, %.0f records/s; non-2xx %d, socket errors %d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    10 * (summary.requests - non2xx) / (summary.duration / 1e6), non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("latency p%s: %.1f ms\n", p, latency:percentile(p) / 1000))
  end
end
