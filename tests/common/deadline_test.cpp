// amc::deadline, the one deadline of a call, and its one time-left function;
// and the typed fields of amc::error that callers decide on.
#include "common/deadline.hpp"

#include "common/error.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace amc {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

TEST(Deadline, TimeLeftCountsDownToZeroAndNeverBelow) {
  const auto start = steady::now();
  const auto call = deadline::after(8000ms, start);
  EXPECT_TRUE(call.bounded());
  EXPECT_EQ(call.budget, 8000ms);
  EXPECT_EQ(call.time_left(start), 8000ms);
  EXPECT_EQ(call.time_left(start + 3s), 5000ms);
  EXPECT_EQ(call.time_left(start + 8s), steady::duration::zero());
  EXPECT_EQ(call.time_left(start + 1h), steady::duration::zero());
  EXPECT_FALSE(call.passed(start + 7999ms));
  EXPECT_TRUE(call.passed(start + 8s));
  // Whole milliseconds, rounded up: a wait of a fraction is still a wait.
  EXPECT_EQ(call.time_left_ms(start + 8s - 1us), 1ms);
}

TEST(Deadline, WithoutOneTimeIsUnbounded) {
  const deadline none;
  EXPECT_FALSE(none.bounded());
  EXPECT_EQ(none.time_left(), steady::duration::max());
  EXPECT_EQ(none.time_left_ms(steady::now()), std::chrono::milliseconds::max());
  EXPECT_FALSE(none.passed(steady::now()));
  EXPECT_EQ(none.budget, 0ms);
}

TEST(Deadline, APointOnTheClockHasWhatIsLeftAsItsBudget) {
  const deadline soon = steady::now() + 300ms;
  EXPECT_GT(soon.budget, 250ms);
  EXPECT_LE(soon.budget, 300ms);
  const deadline gone = steady::now() - 1s;
  EXPECT_EQ(gone.budget, 0ms);
  EXPECT_TRUE(gone.passed(steady::now()));
}

TEST(Error, CarriesRetryAfterAndPhaseTyped) {
  const error plain(errc::remote, "AMC failed");
  EXPECT_FALSE(plain.retry_after());
  EXPECT_EQ(plain.phase(), error_phase::none);
  EXPECT_EQ(phase_name(plain.phase()), "");

  const auto throttled = error(errc::throttled, "slow down", {{"http_status", 429}}).with_retry_after(2500ms);
  EXPECT_EQ(throttled.retry_after(), std::optional<std::chrono::milliseconds>(2500ms));
  EXPECT_EQ(throttled.detail(), nlohmann::json({{"http_status", 429}})) << "the JSON is capi/'s to write";

  const auto limited = error(errc::timeout, "the rate limiter would wait too long").at_phase(error_phase::rate_limit);
  EXPECT_EQ(limited.phase(), error_phase::rate_limit);
  EXPECT_EQ(phase_name(limited.phase()), "rate_limit");

  // Said again in other words, the typed fields stay.
  const auto restated = error(errc::conflict, "in other words").with_fields_of(throttled);
  EXPECT_EQ(restated.retry_after(), throttled.retry_after());
  EXPECT_EQ(restated.phase(), error_phase::none);
  EXPECT_EQ(error(errc::timeout, "again").with_fields_of(limited).phase(), error_phase::rate_limit);
}

TEST(Error, EveryPhaseHasTheNameTheJsonHasAlwaysUsed) {
  EXPECT_EQ(phase_name(error_phase::before_send), "before_send");
  EXPECT_EQ(phase_name(error_phase::pool_wait), "pool_wait");
  EXPECT_EQ(phase_name(error_phase::resolve), "resolve");
  EXPECT_EQ(phase_name(error_phase::connect), "connect");
  EXPECT_EQ(phase_name(error_phase::proxy), "proxy");
  EXPECT_EQ(phase_name(error_phase::handshake), "handshake");
  EXPECT_EQ(phase_name(error_phase::write), "write");
  EXPECT_EQ(phase_name(error_phase::read_headers), "read_headers");
  EXPECT_EQ(phase_name(error_phase::read_body), "read_body");
}

}  // namespace
}  // namespace amc
