-- Get one customer by id, picked at random from the file named by BENCH_IDS.
dofile("base.lua")

local ids = {}

function init(args)
  seed_random()
  for line in io.lines(os.getenv("BENCH_IDS")) do
    ids[#ids + 1] = line
  end
end

function request()
  return wrk.format("GET", "/api/v1/customers/" .. ids[math.random(#ids)])
end
