-- Shared by every scenario: the bearer token, thread numbering, and the result line.
-- On its own it sends the same request, to the URL given to wrk, again and again.

local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

-- Each thread draws different random numbers.
function seed_random()
  math.randomseed(os.time() * 1000 + thread_number)
end

-- The customer ids of the file named by BENCH_IDS, one per line.
function read_ids()
  local ids = {}
  for line in io.lines(os.getenv("BENCH_IDS")) do
    ids[#ids + 1] = line
  end
  return ids
end

-- A latency percentile that counts requests slower than wrk's timeout (which wrk leaves
-- out of its histogram) as the slowest of all; -1 when the percentile falls among them.
local function percentile(summary, latency, share)
  local timely = summary.requests - summary.errors.timeout
  local rank = share * summary.requests / math.max(timely, 1)
  if timely <= 0 or rank > 100 then
    return -1
  end
  return latency:percentile(rank)
end

-- One machine-readable line; latencies in microseconds.
function done(summary, latency, requests)
  local errors = summary.errors
  local walks = 0
  for _, thread in ipairs(threads) do
    walks = walks + (thread:get("walks") or 0)
  end
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d "
      .. "connect=%d read=%d write=%d status=%d timeout=%d walks=%d\n",
    summary.requests, summary.duration,
    percentile(summary, latency, 50), percentile(summary, latency, 99),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout, walks
  ))
end
