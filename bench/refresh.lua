-- Refresh-token exchanges: each connection follows a chain of rotated refresh tokens,
-- starting from the tokens in the file named by BENCH_REFRESH_TOKENS (one a line, more
-- than there are connections), each answer's token used for the next exchange.
dofile("base.lua")

local pool = {}
local client_id = os.getenv("BENCH_CLIENT_ID")
local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function init(args)
  for line in io.lines(os.getenv("BENCH_REFRESH_TOKENS")) do
    pool[#pool + 1] = line
  end
end

function request()
  -- A token used twice revokes its family: each is taken out of the pool as it is sent.
  local token = table.remove(pool) or "exhausted"
  local body = "grant_type=refresh_token&client_id=" .. client_id .. "&refresh_token=" .. token
  return wrk.format("POST", nil, form, body)
end

function response(status, headers, body)
  local token = string.match(body, '"refresh_token":"([^"]+)"')
  if token ~= nil then
    pool[#pool + 1] = token
  end
end
