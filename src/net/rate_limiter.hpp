// Client-side rate limiting: one token bucket per key (client id + host,
// see rate_limit_key()), shared by every request of an http_client, with AIMD: a 429 cuts
// the rate by decrease_factor (at most once a second, so that the requests
// already in flight when the server pushed back count as one signal), and
// each second without a 429 adds recovery_per_second back, up to the
// configured rate.
//
// The limiter only does arithmetic: acquire() reserves a token and says how
// long the caller must wait, and the caller waits on an asynchronous timer.
// Time is passed in, so tests drive it without sleeping. Thread-safe.
#pragma once

#include "net/http_types.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace amc::net {

struct url_parts;

// The bucket a request draws on: (client id, scheme://host:port of its URL),
// as "client id @ scheme://host:port", or "scheme://host:port" alone when
// the client id is empty. Computed only here, from the request's own URL,
// so that every caller keys by host as well as by client.
std::string rate_limit_key(std::string_view client_id, const url_parts& url);
// The same from the URL's origin (url_parts::origin()), when the caller has it already.
std::string rate_limit_key(std::string_view client_id, std::string_view origin);

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  explicit rate_limiter(rate_limit_options options);

  // Takes one token from `key`'s bucket. Returns zero when one was there,
  // else how long until the reserved token is due.
  clock::duration acquire(const std::string& key, clock::time_point now);

  // Returns a token acquire() reserved to a caller that will not send after
  // all (its deadline comes before the token, or it was cancelled while
  // waiting). Without this, callers that give up would keep pushing every
  // later request further out: with short deadlines, nothing would ever be
  // sent again. Never raises the bucket above its burst.
  void give_back(const std::string& key, clock::time_point now);

  // The server answered 429 for a request of `key`.
  void on_throttled(const std::string& key, clock::time_point now);

  // Requests per second now allowed for `key`.
  double current_rate(const std::string& key, clock::time_point now) const;

  // Rates below the configured one, for metrics: {key: requests/second}.
  nlohmann::json lowered_rates(clock::time_point now) const;

 private:
  struct bucket {
    double tokens = 0;
    clock::time_point last_refill{};
    bool throttled = false;  // ever lowered; otherwise the configured rate
    double rate_after_decrease = 0;
    clock::time_point last_decrease{};
  };

  double rate_of(const bucket& b, clock::time_point now) const;
  bucket& bucket_for(const std::string& key, clock::time_point now);
  void refill(bucket& b, clock::time_point now) const;

  rate_limit_options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, bucket> buckets_;
};

}  // namespace amc::net
