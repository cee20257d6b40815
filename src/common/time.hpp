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

// "YYYY-MM-DDTHH:MM:SSZ".
std::string format_utc(unix_seconds when);

// Accepts "YYYY-MM-DDTHH:MM:SS" followed by "Z", "+HH:MM"/"-HH:MM", or
// nothing (taken as UTC), with optional fractional seconds (dropped).
// Returns nothing when the text is not such a timestamp.
std::optional<unix_seconds> parse_utc(std::string_view text);

}  // namespace amc
