-- wrk script for bench/poll_bench.sh: keep-alive execution-status GETs with
-- the four headers AMC requires, round-robin over the first SANDBOX_COUNT
-- ids of SANDBOX_IDS_FILE (as the pollers read them). Values come from the
-- environment so that no token is written into a file.
local prefix = os.getenv("SANDBOX_STATUS_PREFIX")
local paths = {}
local count = tonumber(os.getenv("SANDBOX_COUNT"))
for line in io.lines(os.getenv("SANDBOX_IDS_FILE")) do
  if #paths >= count then break end
  paths[#paths + 1] = prefix .. line
end
local position = 0

wrk.method = "GET"
wrk.headers["Amazon-Advertising-API-ClientId"] = os.getenv("SANDBOX_CLIENT_ID")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SANDBOX_ACCESS_TOKEN")
wrk.headers["Amazon-Advertising-API-AdvertiserId"] = os.getenv("SANDBOX_ADVERTISER_ID")
wrk.headers["Amazon-Advertising-API-MarketplaceId"] = os.getenv("SANDBOX_MARKETPLACE_ID")

request = function()
  position = position % #paths + 1
  return wrk.format(nil, paths[position])
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
end
