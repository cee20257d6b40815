// The decisions of the retry loop, kept apart from the sockets so each one is
// unit-tested: which requests may be retried, which statuses call for a
// retry, how long to back off (full jitter), and the client-wide retry
// budget. What Retry-After asks for is in retry_after.hpp.
#pragma once

#include "net/http_types.hpp"
// Retry-After parsing lived here; callers that include this header for it
// keep working.
#include "net/retry_after.hpp"

#include <chrono>
#include <mutex>

namespace amc::net {

// GET, HEAD, PUT and DELETE unless the request says otherwise; POST (and
// PATCH, CONNECT, ...) only when the caller marks the request retryable.
bool is_retryable_request(const request& req);

enum class retry_cause {
  none,          // a final answer: return it
  throttled,     // 429
  server_error,  // 500, 502, 503, 504
};

retry_cause classify_status(unsigned status);

// Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"):
// U(0, min(max_delay, base_delay * 2^retry_number)). `unit_random` is a
// uniform draw from [0, 1), passed in so tests choose it. retry_number
// counts from 0 for the first retry.
milliseconds full_jitter_backoff(const retry_policy& policy, int retry_number, double unit_random);

// A token bucket of retries against first attempts, shared by all requests
// of a client: every first attempt deposits `ratio` of a retry, every retry
// withdraws one, and the balance never exceeds `floor`. Over any stretch,
// retries ≤ floor + ratio × first attempts, so a storm of failures cannot
// multiply traffic. Only retries after network errors and 5xx draw on it:
// 429 waits are bounded by max_throttle_waits, the deadline and the rate
// limiter instead. Thread-safe.
class retry_budget {
 public:
  retry_budget(double ratio, int floor);

  void record_first_attempt();
  // True (and one retry withdrawn) when a retry may be sent now.
  bool try_withdraw();
  double balance() const;

 private:
  mutable std::mutex mutex_;
  double ratio_;
  double capacity_;
  double balance_;
};

}  // namespace amc::net
