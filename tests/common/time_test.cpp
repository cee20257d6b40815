#include "common/time.hpp"

#include <gtest/gtest.h>

namespace amc {
namespace {

TEST(Time, FormatsUtc) {
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(1795878361), "2026-11-28T15:06:01Z");
}

TEST(Time, ParsesWhatItFormatsAndCommonVariants) {
  for (const unix_seconds when : {0LL, 951782400LL, 1795878361LL, 4102444799LL})
    EXPECT_EQ(parse_utc(format_utc(when)), when);
  EXPECT_EQ(parse_utc("2026-11-28T15:06:01"), 1795878361);       // AMC: no zone
  EXPECT_EQ(parse_utc("2026-11-28T15:06:01.250Z"), 1795878361);  // fraction dropped
  EXPECT_EQ(parse_utc("2026-11-28T16:06:01+01:00"), 1795878361);
  EXPECT_EQ(parse_utc("1985-10-26T01:20:00-07:00"), 499162800);
}

TEST(Time, RejectsMalformedText) {
  for (const char* text : {"", "2026-11-28", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                           "2026-11-28T24:00:00Z", "2026-11-28T15:06:01Zjunk", "2026-11-28T15:06",
                           "2026-11-28T15:06:01+0100", "20261128T150601Z", "2026-11-28T15:06:01."})
    EXPECT_FALSE(parse_utc(text).has_value()) << text;
}

}  // namespace
}  // namespace amc
