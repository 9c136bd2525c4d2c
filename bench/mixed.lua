-- A day's traffic in miniature, for the memory soak: mostly reads by id, then pages,
-- searches in several scripts, creates and updates. Every request should answer 2xx.
dofile("base.lua")

-- Harmless on the reads; wrk.format drops wrk.headers (the token) if given headers of its own.
wrk.headers["Content-Type"] = "application/json"

local ids
local terms = { "acm", "müller", "gmbh", "sa", "παπα", "шев", "山田", "lefèvre", "nord" }
local created = 0

local function escape(text)
  return (text:gsub("[^%w%-._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function init(args)
  seed_random()
  ids = read_ids()
end

function request()
  local pick = math.random(100)
  local id = ids[math.random(#ids)]
  if pick <= 55 then
    return wrk.format("GET", "/api/v1/customers/" .. id)
  elseif pick <= 70 then
    return wrk.format("GET", "/api/v1/customers?limit=" .. math.random(100))
  elseif pick <= 85 then
    local term = terms[math.random(#terms)]
    return wrk.format("GET", "/api/v1/customers?q=" .. escape(term))
  elseif pick <= 93 then
    created = created + 1
    local fields = string.format(
      '{"name":"Soak %d-%d","email":"soak%d@example.com","country_code":"DE"}',
      thread_number, created, created
    )
    return wrk.format("POST", "/api/v1/customers", nil, fields)
  else
    local fields = string.format('{"notes":"seen %d"}', math.random(1000000))
    return wrk.format("PATCH", "/api/v1/customers/" .. id, nil, fields)
  end
end
