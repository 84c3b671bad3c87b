-- wrk script: a consumer of the change feed. Each connection pages with
-- limit=1000, passing the next_after of the previous page, and starts over
-- at the end of the feed; done() prints the events read per second.
local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

local after = "0"
events = 0

request = function()
	return wrk.format("GET", "/events?after=" .. after .. "&limit=1000")
end

response = function(status, headers, body)
	if status ~= 200 then
		return
	end
	local next_after = body:match('"next_after":(%d+)}$')
	local _, n = body:gsub('"position":', "")
	events = events + n
	if next_after == nil or next_after == after then
		after = "0"
	else
		after = next_after
	end
end

done = function(summary, latency, requests)
	local total = 0
	for _, t in ipairs(threads) do
		total = total + t:get("events")
	end
	local secs = summary.duration / 1e6
	io.write(string.format("feed: %d events in %.1f s: %.0f events/s\n", total, secs, total / secs))
end
