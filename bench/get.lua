-- GET /circle/{id} of a random circle among $BENCH_CIRCLES.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local paths = {}
function init(args)
	math.randomseed(os.time() * 10 + tid)
	for i, c in ipairs(load_circles()) do
		paths[i] = "/circle/" .. c[1]
	end
end

function request()
	return wrk.format("GET", paths[math.random(#paths)])
end
