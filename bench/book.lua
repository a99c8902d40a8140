-- POST one booking per request, each for a different free slot.
-- Arguments (after --): a file of "startTime endTime" lines, the booking path, wrk's thread count.
-- Each wrk thread takes every n-th line, so no two requests ask for the same slot.
-- wrk runs with bench/ as its working directory.
dofile("report.lua")

local threads = 0
local slots, next_slot, path = {}, 0, nil
local headers = {["Content-Type"] = "application/json"}

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

function init(args)
  path = args[2]
  local line_number = 0
  for line in io.lines(args[1]) do
    if line_number % tonumber(args[3]) == thread_index then
      slots[#slots + 1] = line
    end
    line_number = line_number + 1
  end
end

function request()
  next_slot = next_slot + 1
  local line = slots[(next_slot - 1) % #slots + 1]
  local start_time, end_time = line:match("(%S+) (%S+)")
  local body = string.format(
    '{"startTime": "%s", "endTime": "%s", "inviteeName": "Bench Guest", ' ..
    '"inviteeEmail": "guest%d.%d@example.com", "inviteeTimezone": "America/New_York"}',
    start_time, end_time, thread_index, next_slot)
  return wrk.format("POST", path, headers, body)
end
