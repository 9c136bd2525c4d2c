-- Walk the changes feed: each answer's next_cursor is followed while it says has_more;
-- at the end the walk starts again from the oldest change. Each response leaves one cursor
-- and each request takes one, so every connection follows a walk of its own.
dofile("base.lua")

local first_page = wrk.path
local cursors = {}
local head, tail = 1, 0
walks = 0

function request()
  local path = first_page
  if head <= tail then
    path = first_page .. "&cursor=" .. cursors[head]
    cursors[head] = nil
    head = head + 1
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= 200 then
    return
  end
  if body:find('"has_more":true', 1, true) then
    tail = tail + 1
    cursors[tail] = body:match('"next_cursor":"([^"]+)"')
  else
    walks = walks + 1
  end
end
