-- wrk script for bench/web_load.sh: each request asks for a paper page drawn at random from the
-- first PAPERS synthetic papers (numbered as bench/web_papers.py numbers them), so that nearly
-- every request misses the page cache and the page is rendered, as for a crawler.
--   PAPERS=10000 wrk ... -s bench/web_paper_pages.lua http://host:port
local count = tonumber(os.getenv("PAPERS")) or 10000

function init(args)
    math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
    local i = math.random(0, count - 1)
    return wrk.format(nil, string.format("/papers/%d.%05d", 2401 + math.floor(i / 99999), i % 99999))
end
