// How soon the poller saw a status change: from AMC's lastUpdatedTime of
// the changed execution to the poller's event, counted in fixed buckets
// (1 s up to 10 min, then "more"), with the buckets that hold the p50 and
// the p99. The poller's stats() reports it; its mutex guards it.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>

namespace amc::poll {

class detection_latency {
 public:
  static constexpr std::array<std::int64_t, 10> bounds_ms = {1'000,  2'000,  5'000,   10'000,  15'000,
                                                             30'000, 60'000, 120'000, 300'000, 600'000};

  // Counts a change the poller saw at `now` in `execution` (flat); nothing
  // without a lastUpdatedTime, or with one after `now`.
  void record(const nlohmann::json& execution, std::chrono::system_clock::time_point now);

  // {"count", "p50_le", "p99_le", "buckets": [{"le_ms", "count"}, …,
  //  {"le_ms": null, "count"}]}; a p…_le is the upper bound of its bucket in
  // ms, "more" past the last one, null before any count.
  nlohmann::json to_json() const;

 private:
  std::array<std::uint64_t, bounds_ms.size() + 1> buckets_{};
  std::uint64_t count_ = 0;
};

}  // namespace amc::poll
