#include "net/retry_policy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace amc::net {

bool is_retryable_request(const request& req) {
  if (req.retryable) return *req.retryable;
  using boost::beast::http::verb;
  switch (req.method) {
    case verb::get:
    case verb::head:
    case verb::put:
    case verb::delete_:
      return true;
    default:
      return false;
  }
}

retry_cause classify_status(unsigned status) {
  switch (status) {
    case 429:
      return retry_cause::throttled;
    case 500:
    case 502:
    case 503:
    case 504:
      return retry_cause::server_error;
    default:
      return retry_cause::none;
  }
}

milliseconds full_jitter_backoff(const retry_policy& policy, int retry_number, double unit_random) {
  const double base = static_cast<double>(std::max<milliseconds::rep>(policy.base_delay.count(), 0));
  const double cap = static_cast<double>(std::max<milliseconds::rep>(policy.max_delay.count(), 0));
  // 2^n overflows nothing in double; the cap keeps the result in range.
  const double ceiling = std::min(cap, base * std::ldexp(1.0, std::clamp(retry_number, 0, 1000)));
  const double draw = std::clamp(unit_random, 0.0, 1.0);
  return milliseconds(static_cast<milliseconds::rep>(ceiling * draw));
}

retry_budget::retry_budget(double ratio, int floor)
    : ratio_(std::max(ratio, 0.0)),
      // Capacity at least one retry, so that ratio deposits can add up to a
      // retry even with a zero floor.
      capacity_(static_cast<double>(std::max(floor, 1))),
      balance_(static_cast<double>(std::max(floor, 0))) {}

void retry_budget::record_first_attempt() {
  std::lock_guard lock(mutex_);
  balance_ = std::min(capacity_, balance_ + ratio_);
}

bool retry_budget::try_withdraw() {
  std::lock_guard lock(mutex_);
  if (balance_ < 1.0) return false;
  balance_ -= 1.0;
  return true;
}

double retry_budget::balance() const {
  std::lock_guard lock(mutex_);
  return balance_;
}

}  // namespace amc::net
