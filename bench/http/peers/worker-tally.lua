-- wrk script (for cluster.mjs): count responses per `x-worker` response header (the pid of the
-- worker that served the request) and print them at the end as "@@worker PID COUNT" lines,
-- plus "@@latency P50 P99 MAX" in microseconds.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {} -- a global, so that done() can read it through thread:get()
end

function response(status, headers, body)
  local w = headers["x-worker"] or headers["X-Worker"] or "none"
  counts[w] = (counts[w] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for w, n in pairs(t:get("counts") or {}) do
      total[w] = (total[w] or 0) + n
    end
  end
  for w, n in pairs(total) do
    io.write(string.format("@@worker %s %d\n", w, n))
  end
  io.write(string.format("@@latency %d %d %d\n", latency:percentile(50), latency:percentile(99), latency.max))
end
