// Limits on what the sandbox takes from outside (admin requests, the config
// file, command-line flags, fault rules, AMC and LwA request bodies): numbers
// are range-checked instead of silently truncated to int, and JSON nesting is
// bounded before anything recursive (copy, dump, compare) walks a document.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace amc::sandbox {

// Deeper documents are refused before they are parsed: nlohmann::json
// parses without recursion, but copies and serialises recursively, so a body
// of 50,000 nested arrays would overflow the stack of an I/O thread.
inline constexpr std::size_t max_json_nesting = 512;

// How deep arrays and objects nest in `text`, read byte by byte (strings and
// their escapes skipped), without recursion and without parsing.
std::size_t json_nesting_depth(std::string_view text);

// json::parse for outside input: throws std::invalid_argument naming `what`
// when `text` is not JSON or nests deeper than max_json_nesting.
nlohmann::json parse_bounded_json(std::string_view text, std::string_view what);

// A whole number in [minimum, maximum]. A fraction, a non-number or a value
// outside the range throws std::invalid_argument naming `what` and the range
// ("'x' is out of range: 1e12 is not between 1 and 31536000").
std::int64_t checked_integer(const nlohmann::json& value, std::string_view what, std::int64_t minimum,
                             std::int64_t maximum);
// The same for decimal text (command-line flags, query parameters).
std::int64_t checked_integer(std::string_view text, std::string_view what, std::int64_t minimum,
                             std::int64_t maximum);

// A finite number in [minimum, maximum], from JSON or decimal text.
double checked_real(const nlohmann::json& value, std::string_view what, double minimum, double maximum);
double checked_real(std::string_view text, std::string_view what, double minimum, double maximum);

}  // namespace amc::sandbox
