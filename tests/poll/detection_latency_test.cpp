// The detection-latency histogram: which bucket a change falls in, what is
// not counted, and the buckets that hold the p50 and the p99.
#include "poll/detection_latency.hpp"

#include "common/time.hpp"

#include <gtest/gtest.h>

namespace amc::poll {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const auto changed_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'796'000'000));

json updated_at(std::chrono::system_clock::time_point when) {
  return {{"status", "RUNNING"},
          {"lastUpdatedTime",
           format_utc(std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count())}};
}

TEST(DetectionLatency, StartsEmpty) {
  const auto empty = detection_latency().to_json();
  EXPECT_EQ(empty["count"], 0);
  EXPECT_TRUE(empty["p50_le"].is_null());
  EXPECT_TRUE(empty["p99_le"].is_null());
  ASSERT_EQ(empty["buckets"].size(), detection_latency::bounds_ms.size() + 1);
  EXPECT_TRUE(empty["buckets"].back()["le_ms"].is_null());
}

TEST(DetectionLatency, CountsEachChangeInItsBucketAndFindsThePercentiles) {
  detection_latency latency;
  for (int i = 0; i < 98; ++i) latency.record(updated_at(changed_at), changed_at + 1500ms);  // ≤ 2 s
  latency.record(updated_at(changed_at), changed_at + 4s);                                  // ≤ 5 s
  latency.record(updated_at(changed_at), changed_at + 1h);                                  // more
  // Not counted: no time, an unreadable one, one in the future.
  latency.record({{"status", "RUNNING"}}, changed_at);
  latency.record({{"lastUpdatedTime", "yesterday"}}, changed_at);
  latency.record(updated_at(changed_at + 10s), changed_at);
  const auto stats = latency.to_json();
  EXPECT_EQ(stats["count"], 100);
  EXPECT_EQ(stats["p50_le"], 2'000);
  EXPECT_EQ(stats["p99_le"], 5'000);
  EXPECT_EQ(stats["buckets"][1], (json{{"le_ms", 2'000}, {"count", 98}}));
  EXPECT_EQ(stats["buckets"][2], (json{{"le_ms", 5'000}, {"count", 1}}));
  EXPECT_EQ(stats["buckets"].back(), (json{{"le_ms", nullptr}, {"count", 1}}));
  latency.record(updated_at(changed_at), changed_at + 2h);
  latency.record(updated_at(changed_at), changed_at + 3h);
  EXPECT_EQ(latency.to_json()["p99_le"], "more");
}

}  // namespace
}  // namespace amc::poll
