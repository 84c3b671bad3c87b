-- wrk script: every request creates a circle with a name of its own.
-- Each wrk thread has its own Lua state, so setup() hands each a distinct id.
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

local counter = 0
local stamp = tostring(os.time())

request = function()
	counter = counter + 1
	local body = string.format('{"circle_name":"wrk-%s-%d-%d","capacity":10}', stamp, tid, counter)
	return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
