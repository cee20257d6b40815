#include "net/rate_limiter.hpp"

#include "net/url.hpp"


#include <algorithm>

namespace amc::net {

namespace {

double seconds_between(rate_limiter::clock::time_point from, rate_limiter::clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

std::string rate_limit_key(std::string_view client_id, const url_parts& url) {
  return rate_limit_key(client_id, url.origin());
}

std::string rate_limit_key(std::string_view client_id, std::string_view origin) {
  if (client_id.empty()) return std::string(origin);
  std::string key;
  key.reserve(client_id.size() + 3 + origin.size());
  return key.append(client_id).append(" @ ").append(origin);
}

rate_limiter::rate_limiter(rate_limit_options options) : options_(options) {
  // Nonsense settings would divide by zero or never refill; keep them sane.
  options_.requests_per_second = std::max(options_.requests_per_second, 1e-3);
  options_.minimum_requests_per_second =
      std::clamp(options_.minimum_requests_per_second, 1e-3, options_.requests_per_second);
  options_.burst = std::max(options_.burst, 1.0);
  options_.decrease_factor = std::clamp(options_.decrease_factor, 0.0, 1.0);
  options_.recovery_per_second = std::max(options_.recovery_per_second, 0.0);
}

double rate_limiter::rate_of(const bucket& b, clock::time_point now) const {
  if (!b.throttled) return options_.requests_per_second;
  const double elapsed = std::max(0.0, seconds_between(b.last_decrease, now));
  double recovered = b.rate_after_decrease + options_.recovery_per_second * elapsed;
  if (options_.full_recovery > milliseconds::zero()) {
    const double window = std::chrono::duration<double>(options_.full_recovery).count();
    recovered = std::max(recovered, b.rate_after_decrease + (options_.requests_per_second - b.rate_after_decrease) *
                                                               std::min(1.0, elapsed / window));
  }
  return std::min(options_.requests_per_second, recovered);
}

void rate_limiter::refill(bucket& b, clock::time_point now) const {
  if (now <= b.last_refill) return;
  b.tokens = std::min(options_.burst, b.tokens + rate_of(b, now) * seconds_between(b.last_refill, now));
  b.last_refill = now;
}

rate_limiter::bucket& rate_limiter::bucket_for(const std::string& key, clock::time_point now) {
  auto [it, inserted] = buckets_.try_emplace(key);
  if (inserted) {
    it->second.tokens = options_.burst;
    it->second.last_refill = now;
  }
  return it->second;
}

rate_limiter::clock::duration rate_limiter::acquire(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  bucket& b = bucket_for(key, now);
  refill(b, now);
  b.tokens -= 1.0;
  if (b.tokens >= 0) return clock::duration::zero();
  return std::chrono::ceil<clock::duration>(std::chrono::duration<double>(-b.tokens / rate_of(b, now)));
}

void rate_limiter::give_back(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  bucket& b = bucket_for(key, now);
  refill(b, now);
  b.tokens = std::min(options_.burst, b.tokens + 1.0);
}

void rate_limiter::on_throttled(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  bucket& b = bucket_for(key, now);
  refill(b, now);
  if (b.throttled && now - b.last_decrease < std::chrono::seconds(1)) return;
  const double lowered = std::max(options_.minimum_requests_per_second, rate_of(b, now) * options_.decrease_factor);
  b.throttled = true;
  b.rate_after_decrease = lowered;
  b.last_decrease = now;
  // The server says we are too fast now: a saved-up burst would only hit it
  // again, so the next request waits for the lowered rate.
  b.tokens = std::min(b.tokens, 0.0);
}

double rate_limiter::current_rate(const std::string& key, clock::time_point now) const {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  return it == buckets_.end() ? options_.requests_per_second : rate_of(it->second, now);
}

nlohmann::json rate_limiter::lowered_rates(clock::time_point now) const {
  std::lock_guard lock(mutex_);
  nlohmann::json rates = nlohmann::json::object();
  for (const auto& [key, b] : buckets_)
    if (double rate = rate_of(b, now); rate < options_.requests_per_second) rates[key] = rate;
  return rates;
}

}  // namespace amc::net
