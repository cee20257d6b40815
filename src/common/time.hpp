// UTC timestamps as the JSON documents of libamc write them:
// "2026-11-28T15:26:01Z" (RFC 3339, UTC, whole seconds).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace amc {

using unix_seconds = std::int64_t;

unix_seconds now_unix_seconds();

// The times that format_utc writes as text parse_utc reads back the same:
// 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z. Anything stored as text
// (the credential store, the execution journal) stays inside this range, and
// what is read is checked against it.
inline constexpr unix_seconds latest_round_trip_utc = 253402300799;
constexpr bool is_round_trip_utc(unix_seconds when) {
  return when >= 0 && when <= latest_round_trip_utc;
}

// "YYYY-MM-DDTHH:MM:SSZ" (years outside 0000-9999 give text parse_utc
// refuses: check is_round_trip_utc before storing).
std::string format_utc(unix_seconds when);

// Accepts "YYYY-MM-DDTHH:MM:SS" followed by "Z", "+HH:MM"/"-HH:MM", or
// nothing (taken as UTC), with optional fractional seconds (dropped).
// Returns nothing when the text is not such a timestamp.
std::optional<unix_seconds> parse_utc(std::string_view text);

}  // namespace amc
