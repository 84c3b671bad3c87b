-- 90 % GET /circle/{id} of a random circle, 10 % PUT as in update.lua.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local paths, mine, at = {}, nil, 0
function init(args)
	math.randomseed(os.time() * 10 + tid)
	local list = load_circles()
	for i, c in ipairs(list) do
		paths[i] = "/circle/" .. c[1]
	end
	mine = own_circles(list)
end

function request()
	if wrk_check_call() then
		return wrk.format("GET", "/health")
	end
	if math.random(10) == 1 then
		at = at % #mine + 1
		return update_request(mine[at])
	end
	return wrk.format("GET", paths[math.random(#paths)])
end
