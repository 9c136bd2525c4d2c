-- Walk a list: every answer's next_cursor is followed, until a page says there is no next
-- one (a null cursor, or "has_more":false on the changes feed, whose cursor is never null);
-- then that walk starts again from the first page. Each response leaves one cursor and each
-- request takes one, so every connection follows a walk of its own.
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

-- The page's meta comes last in the body: its tail is searched first, so that the load
-- generator does not spend on scanning a hundred changes the CPU it is measuring.
local META_BYTES = 512
local CURSOR = '"next_cursor":"([^"]+)"'

function response(status, headers, body)
  local meta_at = math.max(1, #body - META_BYTES)
  local cursor = status == 200 and (body:match(CURSOR, meta_at) or body:match(CURSOR))
  if cursor and body:find('"has_more":false', meta_at, true) then
    cursor = nil
  end
  if cursor then
    tail = tail + 1
    cursors[tail] = cursor
  elseif status == 200 then
    walks = walks + 1
  end
end
