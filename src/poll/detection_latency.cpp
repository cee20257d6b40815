#include "poll/detection_latency.hpp"

#include "common/time.hpp"

#include <optional>
#include <string>

namespace amc::poll {

using nlohmann::json;

void detection_latency::record(const json& execution, std::chrono::system_clock::time_point now) {
  const auto updated = execution.find("lastUpdatedTime");
  if (updated == execution.end() || !updated->is_string()) return;
  const auto when = parse_utc(updated->get_ref<const std::string&>());
  if (!when) return;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::int64_t latency = now_ms.count() - *when * 1000;
  if (latency < 0) return;
  std::size_t bucket = 0;
  while (bucket < bounds_ms.size() && latency > bounds_ms[bucket]) ++bucket;
  ++buckets_[bucket];
  ++count_;
}

json detection_latency::to_json() const {
  json buckets = json::array();
  std::uint64_t seen = 0;
  std::optional<std::int64_t> p50, p99;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    const json bound = i < bounds_ms.size() ? json(bounds_ms[i]) : json(nullptr);
    buckets.push_back({{"le_ms", bound}, {"count", buckets_[i]}});
    seen += buckets_[i];
    const std::int64_t upper = i < bounds_ms.size() ? bounds_ms[i] : -1;
    if (!p50 && count_ > 0 && seen * 2 >= count_) p50 = upper;
    if (!p99 && count_ > 0 && seen * 100 >= count_ * 99) p99 = upper;
  }
  const auto bound = [](const std::optional<std::int64_t>& value) {
    return !value ? json(nullptr) : *value < 0 ? json("more") : json(*value);
  };
  return {{"count", count_}, {"p50_le", bound(p50)}, {"p99_le", bound(p99)}, {"buckets", buckets}};
}

}  // namespace amc::poll
