-- GET /circle?limit=100: the first page of live circles.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

function request()
	return wrk.format("GET", "/circle?limit=100")
end
