-- wrk script for bench/sandbox_wrk.sh: a keep-alive execution-status GET
-- with the four headers AMC requires. The shell script passes the values in
-- the environment so that no token is written into a file.
wrk.method = "GET"
wrk.path = os.getenv("SANDBOX_STATUS_PATH")
wrk.headers["Amazon-Advertising-API-ClientId"] = os.getenv("SANDBOX_CLIENT_ID")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SANDBOX_ACCESS_TOKEN")
wrk.headers["Amazon-Advertising-API-AdvertiserId"] = os.getenv("SANDBOX_ADVERTISER_ID")
wrk.headers["Amazon-Advertising-API-MarketplaceId"] = os.getenv("SANDBOX_MARKETPLACE_ID")

-- Any non-2xx answer means the benchmark measured the wrong thing; wrk
-- counts them (a per-response Lua callback would slow wrk down instead).
done = function(summary, latency, requests)
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
end
