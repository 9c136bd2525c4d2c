-- Get one customer by id, picked at random from the file named by BENCH_IDS.
dofile("base.lua")

local ids

function init(args)
  seed_random()
  ids = read_ids()
end

function request()
  return wrk.format("GET", "/api/v1/customers/" .. ids[math.random(#ids)])
end
