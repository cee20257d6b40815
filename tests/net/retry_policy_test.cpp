#include "net/retry_policy.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace amc::net {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;

request make_request(verb method, std::optional<bool> retryable = std::nullopt) {
  request req;
  req.method = method;
  req.retryable = retryable;
  return req;
}

TEST(RetryPolicy, IdempotentMethodsAreRetryableAndPostIsNot) {
  EXPECT_TRUE(is_retryable_request(make_request(verb::get)));
  EXPECT_TRUE(is_retryable_request(make_request(verb::head)));
  EXPECT_TRUE(is_retryable_request(make_request(verb::put)));
  EXPECT_TRUE(is_retryable_request(make_request(verb::delete_)));
  EXPECT_FALSE(is_retryable_request(make_request(verb::post)));
  EXPECT_FALSE(is_retryable_request(make_request(verb::patch)));
}

TEST(RetryPolicy, RequestFlagOverridesTheMethod) {
  EXPECT_TRUE(is_retryable_request(make_request(verb::post, true)));
  EXPECT_FALSE(is_retryable_request(make_request(verb::get, false)));
}

TEST(RetryPolicy, ClassifiesStatuses) {
  EXPECT_EQ(classify_status(429), retry_cause::throttled);
  for (unsigned status : {500u, 502u, 503u, 504u}) EXPECT_EQ(classify_status(status), retry_cause::server_error);
  for (unsigned status : {200u, 201u, 204u, 301u, 400u, 401u, 403u, 404u, 409u, 501u, 505u})
    EXPECT_EQ(classify_status(status), retry_cause::none) << status;
}

TEST(RetryPolicy, FullJitterStaysWithinTheExponentialCeiling) {
  retry_policy policy;
  policy.base_delay = 100ms;
  policy.max_delay = 1000ms;
  EXPECT_EQ(full_jitter_backoff(policy, 0, 0.0), 0ms);
  EXPECT_EQ(full_jitter_backoff(policy, 0, 0.999999), 99ms);
  EXPECT_EQ(full_jitter_backoff(policy, 1, 0.5), 100ms);
  EXPECT_EQ(full_jitter_backoff(policy, 2, 0.5), 200ms);
  EXPECT_EQ(full_jitter_backoff(policy, 3, 0.5), 400ms);
  // Capped by max_delay, also for retry numbers whose 2^n would overflow.
  EXPECT_EQ(full_jitter_backoff(policy, 4, 0.5), 500ms);
  EXPECT_EQ(full_jitter_backoff(policy, 200, 1.0), 1000ms);
  EXPECT_EQ(full_jitter_backoff(policy, 100000, 0.25), 250ms);
}

TEST(RetryBudget, FloorAllowsABurstThenRatioOfFirstAttempts) {
  retry_budget budget(0.5, 2);
  EXPECT_TRUE(budget.try_withdraw());
  EXPECT_TRUE(budget.try_withdraw());
  EXPECT_FALSE(budget.try_withdraw());
  budget.record_first_attempt();
  EXPECT_FALSE(budget.try_withdraw());  // half a retry is not a retry
  budget.record_first_attempt();
  EXPECT_TRUE(budget.try_withdraw());
  EXPECT_FALSE(budget.try_withdraw());
}

TEST(RetryBudget, SavingsNeverExceedTheFloor) {
  retry_budget budget(0.2, 3);
  for (int i = 0; i < 1000; ++i) budget.record_first_attempt();
  int allowed = 0;
  while (budget.try_withdraw()) ++allowed;
  EXPECT_EQ(allowed, 3);
}

TEST(RetryBudget, StormOfFailuresIsBoundedByRatio) {
  // 100 requests that all fail and each want 4 retries: at most
  // floor + ratio × 100 retries go out.
  retry_budget budget(0.1, 5);
  int retries = 0;
  for (int i = 0; i < 100; ++i) {
    budget.record_first_attempt();
    for (int retry = 0; retry < 4; ++retry)
      if (budget.try_withdraw()) ++retries;
  }
  EXPECT_LE(retries, 5 + 10);
  EXPECT_GE(retries, 5 + 9);
}

TEST(RetryBudget, ZeroFloorStillLetsRatioAccumulate) {
  retry_budget budget(0.5, 0);
  EXPECT_FALSE(budget.try_withdraw());
  budget.record_first_attempt();
  budget.record_first_attempt();
  EXPECT_TRUE(budget.try_withdraw());
}

}  // namespace
}  // namespace amc::net
