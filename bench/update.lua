-- PUT /circle/{id}: this thread's circles in turn, each with its right
-- expected version. A circle comes round again only after all the others of
-- the thread, long after its previous update was answered.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local mine, at = nil, 0
function init(args)
	mine = own_circles(load_circles())
end

function request()
	if wrk_check_call() then
		return wrk.format("GET", "/health")
	end
	at = at % #mine + 1
	return update_request(mine[at])
end
