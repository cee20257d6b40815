// Retry-After read once, where the response arrives: net::response carries
// it as a typed duration (response::retry_after), so no layer above parses
// the header text again.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace amc::net {

// Longer waits are cut to this: a server asking for more than a day is
// saying "not today", and every caller's deadline is shorter anyway.
inline constexpr std::chrono::milliseconds max_retry_after = std::chrono::hours(24);

// Retry-After as RFC 9110 10.2.3 defines it: delta-seconds, or an HTTP-date
// (IMF-fixdate, with the obsolete RFC 850 and asctime forms accepted),
// clamped to [0, max_retry_after]: a date in the past means zero.
// Nothing when the value is neither (a negative or fractional number,
// garbage), so callers fall back to their own backoff.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

// Parses an HTTP-date into a UTC time point (exposed for tests); a date
// past the end of system_clock (year 2262) gives time_point::max().
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

}  // namespace amc::net
