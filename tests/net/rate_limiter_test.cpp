#include "net/rate_limiter.hpp"

#include "net/url.hpp"

#include <gtest/gtest.h>

namespace amc::net {
namespace {

using namespace std::chrono_literals;
using clock_type = rate_limiter::clock;

rate_limit_options options(double rate, double burst) {
  rate_limit_options o;
  o.requests_per_second = rate;
  o.burst = burst;
  o.minimum_requests_per_second = 0.5;
  o.decrease_factor = 0.5;
  o.recovery_per_second = 0.1;
  return o;
}

TEST(RateLimiter, BurstThenOneTokenPerInterval) {
  rate_limiter limiter(options(10, 3));
  const auto start = clock_type::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.acquire("k", start), clock_type::duration::zero());
  // The 4th and 5th are reserved 100 ms and 200 ms out.
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(limiter.acquire("k", start)), 100ms);
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(limiter.acquire("k", start)), 200ms);
  // A second later the debt is paid and the bucket holds 8 tokens (capped at 3).
  const auto later = start + 1s;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.acquire("k", later), clock_type::duration::zero());
  EXPECT_GT(limiter.acquire("k", later), clock_type::duration::zero());
}

// A caller that will not send (its deadline comes first, or it was
// cancelled) gives its reserved token back: callers that keep giving up do
// not push everyone else further out, and the bucket never grows past its
// burst.
TEST(RateLimiter, TokensGivenBackAreNotCountedAgainstLaterRequests) {
  rate_limiter limiter(options(10, 3));
  const auto start = clock_type::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.acquire("k", start), clock_type::duration::zero());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(limiter.acquire("k", start)), 100ms);
    limiter.give_back("k", start);  // gave up: its wait was past its deadline
  }
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(limiter.acquire("k", start)), 100ms);
  // Giving back more than was taken leaves the bucket at its burst.
  for (int i = 0; i < 10; ++i) limiter.give_back("k", start + 10s);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.acquire("k", start + 10s), clock_type::duration::zero());
  EXPECT_GT(limiter.acquire("k", start + 10s), clock_type::duration::zero());
}

TEST(RateLimiter, KeysHaveTheirOwnBuckets) {
  rate_limiter limiter(options(1, 1));
  const auto now = clock_type::time_point{} + 1h;
  EXPECT_EQ(limiter.acquire("client-a|host", now), clock_type::duration::zero());
  EXPECT_EQ(limiter.acquire("client-b|host", now), clock_type::duration::zero());
  EXPECT_GT(limiter.acquire("client-a|host", now), clock_type::duration::zero());
}

TEST(RateLimiter, ThrottleHalvesTheRateOncePerSecondDownToTheMinimum) {
  rate_limiter limiter(options(8, 8));
  auto now = clock_type::time_point{} + 1h;
  limiter.on_throttled("k", now);
  EXPECT_DOUBLE_EQ(limiter.current_rate("k", now), 4.0);
  // Requests that were already in flight get their 429s too: one signal.
  limiter.on_throttled("k", now + 10ms);
  limiter.on_throttled("k", now + 500ms);
  EXPECT_NEAR(limiter.current_rate("k", now + 500ms), 4.05, 1e-9);
  now += 1500ms;
  limiter.on_throttled("k", now);
  EXPECT_NEAR(limiter.current_rate("k", now), (4.0 + 0.15) / 2, 1e-9);
  for (int i = 0; i < 20; ++i) {
    now += 2s;
    limiter.on_throttled("k", now);
  }
  EXPECT_DOUBLE_EQ(limiter.current_rate("k", now), 0.5);
}

TEST(RateLimiter, RecoversAdditivelyUpToTheConfiguredRate) {
  rate_limiter limiter(options(8, 8));
  const auto start = clock_type::time_point{} + 1h;
  limiter.on_throttled("k", start);
  EXPECT_NEAR(limiter.current_rate("k", start + 10s), 4.0 + 1.0, 1e-9);
  EXPECT_NEAR(limiter.current_rate("k", start + 30s), 4.0 + 3.0, 1e-9);
  EXPECT_DOUBLE_EQ(limiter.current_rate("k", start + 100s), 8.0);
  EXPECT_TRUE(limiter.lowered_rates(start + 100s).empty());
  EXPECT_EQ(limiter.lowered_rates(start + 10s).size(), 1u);
}

// Issue 23 kind 2: what 429s do to the rate ends within full_recovery (the
// HTTP client sets it to retry.max_retry_after): a few 429s used to leave
// the floor of 0.5 requests/s for minutes, recovering 0.1 a second.
TEST(RateLimiter, AThrottledRateIsFullyBackWithinFullRecovery) {
  auto limits = options(100, 10);
  limits.full_recovery = 60s;
  rate_limiter limiter(limits);
  const auto start = clock_type::time_point{} + 1h;
  limiter.on_throttled("k", start);
  EXPECT_DOUBLE_EQ(limiter.current_rate("k", start), 50.0);
  // A straight line back, far faster than 0.1 a second …
  EXPECT_NEAR(limiter.current_rate("k", start + 30s), 75.0, 1e-9);
  // … and all of it after full_recovery.
  EXPECT_DOUBLE_EQ(limiter.current_rate("k", start + 60s), 100.0);
  // Without it: only the additive 0.1 a second.
  rate_limiter additive(options(100, 10));
  additive.on_throttled("k", start);
  EXPECT_NEAR(additive.current_rate("k", start + 60s), 56.0, 1e-9);
}

TEST(RateLimiter, ThrottleDrainsTheSavedBurst) {
  rate_limiter limiter(options(4, 4));
  const auto now = clock_type::time_point{} + 1h;
  limiter.on_throttled("k", now);
  // Rate 2/s, no tokens left: the next request waits half a second.
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(limiter.acquire("k", now)), 500ms);
}

TEST(RateLimiter, ManyWaitersAreSpacedByTheRate) {
  rate_limiter limiter(options(5, 1));
  const auto now = clock_type::time_point{} + 1h;
  clock_type::duration previous = clock_type::duration::zero();
  EXPECT_EQ(limiter.acquire("k", now), previous);
  for (int i = 1; i <= 10; ++i) {
    auto wait = limiter.acquire("k", now);
    EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(wait - previous), 200ms);
    previous = wait;
  }
}

TEST(RateLimiter, KeyIsClientIdAndHost) {
  const auto amc = parse_url("https://advertising-api.amazon.com/amc/reporting/x/workflows?nextToken=t");
  const auto amc_other_path = parse_url("https://advertising-api.amazon.com:443/amc/accounts");
  const auto lwa = parse_url("https://api.amazon.com/auth/o2/token");
  EXPECT_EQ(rate_limit_key("amzn1.application-oa2-client.abc", amc),
            "amzn1.application-oa2-client.abc @ https://advertising-api.amazon.com:443");
  // Path, query and an explicit default port do not make another bucket.
  EXPECT_EQ(rate_limit_key("id", amc), rate_limit_key("id", amc_other_path));
  // Another host or another client id does.
  EXPECT_NE(rate_limit_key("id", amc), rate_limit_key("id", lwa));
  EXPECT_NE(rate_limit_key("id", amc), rate_limit_key("other", amc));
  // Without a client id: the host alone.
  EXPECT_EQ(rate_limit_key("", lwa), "https://api.amazon.com:443");
}

}  // namespace
}  // namespace amc::net
