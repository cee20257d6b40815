// Retry-After read as a typed wait: delta-seconds, HTTP-dates, clamping,
// garbage. (That a response carries it parsed is in http_client_test.cpp.)
#include "net/retry_after.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace amc::net {
namespace {

using namespace std::chrono_literals;

TEST(RetryAfter, RetryAfterInSeconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("0", now), 0ms);
  EXPECT_EQ(parse_retry_after("3", now), 3000ms);
  EXPECT_EQ(parse_retry_after("  120 ", now), 120000ms);
  // Clamped: a huge wait is a day, never an overflow in the caller's sums.
  EXPECT_EQ(parse_retry_after("99999999999999999999999", now), max_retry_after);
  EXPECT_EQ(parse_retry_after("86400", now), max_retry_after);
  EXPECT_EQ(parse_retry_after("9223372036854775807", now), max_retry_after);
  EXPECT_EQ(parse_retry_after("86399", now), 86'399'000ms);
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("-1", now));
  EXPECT_FALSE(parse_retry_after("1.5", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
}

TEST(RetryAfter, RetryAfterAsHttpDate) {
  const auto now = std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + 8h + 49min + 30s;
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 7000ms);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), 7000ms);
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), 7000ms);
  // A date in the past: retry now.
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0ms);
  EXPECT_FALSE(parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", now));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", now));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", now));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:37 CET", now));
  // A date years ahead is clamped like a large number.
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 2094 08:49:37 GMT", now), max_retry_after);
}

// Found by the fuzz target tests/fuzz/http_response: a date past 2262 (the
// end of system_clock's nanoseconds) overflowed a signed 64-bit count (UB;
// in an optimised build, a wait of some arbitrary length). Such a date is
// the clock's end, and a Retry-After of it waits max_retry_after.
TEST(RetryAfter, ADateBeyondTheClocksRangeIsItsEndAndWaitsTheCap) {
  for (const char* date : {"Sun, 06 Nov 5994 08:49:37 GMT", "Sun Nov  6 08:49:37 5994", "Fri, 31 Dec 9999 23:59:59 GMT",
                           "Sat, 12 Apr 2262 00:00:00 GMT"}) {
    const auto when = parse_http_date(date);
    ASSERT_TRUE(when.has_value()) << date;
    EXPECT_EQ(*when, std::chrono::system_clock::time_point::max()) << date;
    EXPECT_EQ(parse_retry_after(date, std::chrono::system_clock::now()), max_retry_after) << date;
  }
  EXPECT_LT(*parse_http_date("Fri, 31 Dec 2200 23:59:59 GMT"), std::chrono::system_clock::time_point::max());
}

TEST(RetryAfter, HttpDateIsUtc) {
  auto parsed = parse_http_date("Thu, 01 Jan 1970 00:00:10 GMT");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->time_since_epoch(), std::chrono::seconds(10));
}

}  // namespace
}  // namespace amc::net
