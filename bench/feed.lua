-- GET /events?after=P&limit=1000, paging the change feed with next_after;
-- at the end of the feed it starts again from 0. Requests in flight at once
-- may ask for the same page: the load is pages of up to 1000 events.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local after = 0
function request()
	return wrk.format("GET", "/events?after=" .. after .. "&limit=1000")
end

function response(status, headers, body)
	if status ~= 200 then
		return
	end
	local n = tonumber(body:match('"next_after"%s*:%s*(%d+)'))
	if n == nil then
		return
	end
	if body:find('"events"%s*:%s*%[%s*%]') then
		after = 0
	elseif n > after then
		after = n
	end
end
