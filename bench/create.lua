-- POST /circle: every request creates a circle with a name of its own
-- (the run's nonce, the thread, a counter).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local counter = 0
local nonce = os.getenv("BENCH_NONCE") or tostring(os.time())
local headers = {["Content-Type"] = "application/json"}

function request()
	counter = counter + 1
	local body = string.format('{"circle_name":"bench-%s-%d-%d","capacity":10}', nonce, tid, counter)
	return wrk.format("POST", "/circle", headers, body)
end
