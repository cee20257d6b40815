// The poller's schedule arithmetic: intervals, jitter, tightening near the
// finish, failure backoff, the batching rule and the strict knobs.
#include "poll/schedule.hpp"

#include "common/error.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>

namespace amc::poll {
namespace {

using namespace std::chrono_literals;

poll_settings no_jitter() {
  poll_settings settings;
  settings.jitter = 0;
  return settings;
}

TEST(PollSchedule, IntervalGrowsUpToTheMaximumAndRestartsOnAChange) {
  const auto settings = no_jitter();
  milliseconds interval = settings.first_interval;
  for (int i = 0; i < 50; ++i) {
    const auto next = next_interval(settings, interval, false);
    EXPECT_GE(next, interval);
    EXPECT_LE(next, settings.max_interval);
    interval = next;
  }
  EXPECT_EQ(interval, settings.max_interval);
  EXPECT_EQ(next_interval(settings, interval, true), settings.first_interval);
  EXPECT_EQ(next_interval(settings, 5'000ms, false), 7'500ms);
}

TEST(PollSchedule, JitterStaysWithinItsFraction) {
  poll_settings settings;
  settings.jitter = 0.2;
  EXPECT_EQ(delay_before_next_read(settings, 10'000ms, {}, 0.0), 8'000ms);
  EXPECT_EQ(delay_before_next_read(settings, 10'000ms, {}, 0.5), 10'000ms);
  EXPECT_LE(delay_before_next_read(settings, 10'000ms, {}, 0.999999), 12'000ms);
}

TEST(PollSchedule, PublishingAndARunNearItsUsualLengthTightenTheInterval) {
  const auto settings = no_jitter();
  finish_hint publishing;
  publishing.publishing = true;
  EXPECT_EQ(delay_before_next_read(settings, 120'000ms, publishing, 0.5), settings.near_finish_interval);
  finish_hint in_a_minute;
  in_a_minute.seconds_to_expected_finish = 60;
  EXPECT_EQ(delay_before_next_read(settings, 120'000ms, in_a_minute, 0.5), 60'000ms);
  finish_hint overdue;
  overdue.seconds_to_expected_finish = -30;
  EXPECT_EQ(delay_before_next_read(settings, 120'000ms, overdue, 0.5), settings.near_finish_interval);
  finish_hint far_off;
  far_off.seconds_to_expected_finish = 3600;
  EXPECT_EQ(delay_before_next_read(settings, 120'000ms, far_off, 0.5), 120'000ms);
}

TEST(PollSchedule, NoDelayIsBelowTheMinimumInterval) {
  auto settings = no_jitter();
  settings.min_interval = 2'000ms;
  settings.near_finish_interval = 500ms;
  finish_hint publishing;
  publishing.publishing = true;
  EXPECT_EQ(delay_before_next_read(settings, 120'000ms, publishing, 0.5), 2'000ms);
}

TEST(PollSchedule, FailedReadsBackOffDoublingUpToTheMaximum) {
  const auto settings = no_jitter();
  EXPECT_EQ(delay_after_failure(settings, 1, 0.5), settings.first_interval);
  EXPECT_EQ(delay_after_failure(settings, 2, 0.5), 2 * settings.first_interval);
  EXPECT_EQ(delay_after_failure(settings, 3, 0.5), 4 * settings.first_interval);
  EXPECT_EQ(delay_after_failure(settings, 40, 0.5), settings.error_backoff_max);
}

TEST(PollSchedule, AListIsUsedOnlyWhenItTakesFewerRequestsThanSingleReads) {
  poll_settings settings;
  EXPECT_EQ(list_requests(settings, 0), 1);
  EXPECT_EQ(list_requests(settings, 100), 1);
  EXPECT_EQ(list_requests(settings, 101), 2);
  EXPECT_TRUE(list_is_cheaper(settings, 2, 2));      // 1 page for 2 reads
  EXPECT_FALSE(list_is_cheaper(settings, 1, 1));     // one read is one GET
  EXPECT_FALSE(list_is_cheaper(settings, 500, 5));   // 5 pages for 5 reads
  EXPECT_TRUE(list_is_cheaper(settings, 500, 6));
  settings.batching = false;
  EXPECT_FALSE(list_is_cheaper(settings, 2, 100));
}

TEST(PollSchedule, KnobsAreReadStrictly) {
  const auto settings = parse_poll_settings(
      {{"first_interval_ms", 100}, {"max_interval_ms", 1000}, {"min_interval_ms", 0}, {"batching", false},
       {"max_in_flight", 8}, {"list_page_size", 50}, {"requests_per_second", 20}, {"batched_interval_ms", 250},
       {"read_timeout_ms", 1500}});
  EXPECT_EQ(settings.first_interval, 100ms);
  EXPECT_EQ(settings.max_interval, 1000ms);
  EXPECT_FALSE(settings.batching);
  EXPECT_EQ(settings.max_in_flight, 8);
  EXPECT_EQ(settings.list_page_size, 50);
  EXPECT_EQ(settings.batched_interval, 250ms);
  EXPECT_EQ(settings.read_timeout, 1500ms);
  EXPECT_EQ(parse_poll_settings(nullptr).first_interval, poll_settings{}.first_interval);
  std::string message;
  EXPECT_EQ(testing::error_code_of([] { parse_poll_settings({{"first_intervl_ms", 1}}); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("first_intervl_ms"), std::string::npos) << message;
  EXPECT_EQ(testing::error_code_of([] { parse_poll_settings({{"list_page_size", 101}}); }), errc::invalid_argument);
  EXPECT_EQ(testing::error_code_of([] { parse_poll_settings({{"growth", "fast"}}); }), errc::invalid_argument);
  // A read needs some time: 0 ms, a negative or a non-number is refused, naming the knob.
  for (const auto& bad : {nlohmann::json(0), nlohmann::json(-5), nlohmann::json("60s"), nlohmann::json(1e12)}) {
    EXPECT_EQ(testing::error_code_of([&] { parse_poll_settings({{"read_timeout_ms", bad}}); }, &message),
              errc::invalid_argument)
        << bad.dump();
    EXPECT_NE(message.find("read_timeout_ms"), std::string::npos) << message;
  }
  EXPECT_EQ(testing::error_code_of([] { parse_poll_settings({{"first_interval_ms", 10}, {"max_interval_ms", 5}}); }),
            errc::invalid_argument);
  EXPECT_EQ(testing::error_code_of([] { parse_poll_settings(nlohmann::json::array()); }), errc::invalid_argument);
  // The bounds of a list read (issue 23 kind 1).
  const auto lists = parse_poll_settings({{"list_max_pages", 3}, {"list_timeout_ms", 2500}, {"list_fallback_ms", 0}});
  EXPECT_EQ(lists.list_max_pages, 3);
  EXPECT_EQ(lists.list_timeout, 2500ms);
  EXPECT_EQ(lists.list_fallback, 0ms);
  EXPECT_EQ(poll_settings{}.list_max_pages, 10);
  EXPECT_EQ(poll_settings{}.list_timeout, 15'000ms);
  EXPECT_EQ(poll_settings{}.list_fallback, 600'000ms);
  for (const auto& bad : {nlohmann::json{{"list_max_pages", 0}}, nlohmann::json{{"list_max_pages", 1001}},
                          nlohmann::json{{"list_timeout_ms", 0}}, nlohmann::json{{"list_fallback_ms", -1}}})
    EXPECT_EQ(testing::error_code_of([&] { parse_poll_settings(bad); }), errc::invalid_argument) << bad.dump();
}

}  // namespace
}  // namespace amc::poll
