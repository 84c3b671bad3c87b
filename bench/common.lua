-- Shared by every scenario script of bench/run (loaded with dofile).
--
-- The circles a scenario works on come from the file $BENCH_CIRCLES, written
-- by bench/run just before the run: a Lua chunk returning a list of
-- {circle_id, version, capacity}. Each wrk thread has a Lua state of its own;
-- setup() numbers them so that writers can split the circles between them.

local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

function load_circles()
	local path = os.getenv("BENCH_CIRCLES")
	if not path then
		error("BENCH_CIRCLES is not set")
	end
	local list = dofile(path)
	if #list == 0 then
		error("no circles in " .. path)
	end
	return list
end

-- The circles only this thread updates, so that no two requests in flight
-- ever touch one circle and every expected version is right.
function own_circles(list)
	local n = tonumber(os.getenv("BENCH_THREADS") or "2")
	local mine = {}
	for i = 1, #list do
		if (i - 1) % n == tid - 1 then
			mine[#mine + 1] = list[i]
		end
	end
	return mine
end

-- wrk calls request() once on its first thread's state before the run, to
-- check the script, and never sends what it returns. That first call must not
-- take an update's version: the circle would be one version ahead of the
-- service for the rest of the run (a 409 each time the thread came round to
-- it again).
local checked = false
function wrk_check_call()
	if tid == 1 and not checked then
		checked = true
		return true
	end
	return false
end

-- An update that always changes the capacity (3 <-> 4), so it always appends
-- one event and the circle's next version is known without asking.
local json_headers = {["Content-Type"] = "application/json"}
function update_request(c)
	local cap = c[3] == 3 and 4 or 3
	local body = string.format('{"capacity":%d,"version":%d}', cap, c[2])
	c[2] = c[2] + 1
	c[3] = cap
	return wrk.format("PUT", "/circle/" .. c[1], json_headers, body)
end

-- One line bench/run parses: requests, seconds, p50 and p99 in
-- microseconds, and every answer that was not 2xx/3xx or never came.
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("BENCH requests=%d seconds=%.3f p50=%d p99=%d non2xx=%d\n",
		summary.requests, summary.duration / 1e6,
		latency:percentile(50), latency:percentile(99),
		e.status + e.connect + e.read + e.write + e.timeout))
end
