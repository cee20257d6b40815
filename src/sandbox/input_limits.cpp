#include "sandbox/input_limits.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace amc::sandbox {

namespace {

[[noreturn]] void out_of_range(std::string_view what, std::string_view shown, auto minimum, auto maximum) {
  throw std::invalid_argument(
      fmt::format("'{}' is out of range: {} is not between {} and {}", what, shown, minimum, maximum));
}

// 2^63 as a double: the first value that no longer fits std::int64_t.
constexpr double int64_limit = 9223372036854775808.0;

}  // namespace

std::size_t json_nesting_depth(std::string_view text) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > deepest) deepest = depth;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return deepest;
}

nlohmann::json parse_bounded_json(std::string_view text, std::string_view what) {
  if (json_nesting_depth(text) > max_json_nesting) {
    throw std::invalid_argument(
        fmt::format("{} nests arrays and objects deeper than {} levels", what, max_json_nesting));
  }
  nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
  if (value.is_discarded()) throw std::invalid_argument(fmt::format("{} is not valid JSON", what));
  return value;
}

std::int64_t checked_integer(const nlohmann::json& value, std::string_view what, std::int64_t minimum,
                             std::int64_t maximum) {
  std::int64_t result = 0;
  if (value.is_number_unsigned()) {
    const auto number = value.get<std::uint64_t>();
    if (maximum < 0 || number > static_cast<std::uint64_t>(maximum)) out_of_range(what, value.dump(), minimum, maximum);
    result = static_cast<std::int64_t>(number);
  } else if (value.is_number_integer()) {
    result = value.get<std::int64_t>();
  } else if (value.is_number_float()) {
    const double number = value.get<double>();
    if (!std::isfinite(number) || number != std::floor(number)) {
      throw std::invalid_argument(fmt::format("'{}' must be a whole number, got {}", what, value.dump()));
    }
    if (number >= int64_limit || number < -int64_limit) out_of_range(what, value.dump(), minimum, maximum);
    result = static_cast<std::int64_t>(number);
  } else {
    throw std::invalid_argument(fmt::format("'{}' must be a number", what));
  }
  if (result < minimum || result > maximum) out_of_range(what, value.dump(), minimum, maximum);
  return result;
}

std::int64_t checked_integer(std::string_view text, std::string_view what, std::int64_t minimum,
                             std::int64_t maximum) {
  std::int64_t result = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), result);
  if (error == std::errc::result_out_of_range) out_of_range(what, text, minimum, maximum);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument(fmt::format("'{}' must be a whole number, got '{}'", what, text));
  }
  if (result < minimum || result > maximum) out_of_range(what, text, minimum, maximum);
  return result;
}

double checked_real(const nlohmann::json& value, std::string_view what, double minimum, double maximum) {
  if (!value.is_number()) throw std::invalid_argument(fmt::format("'{}' must be a number", what));
  const double result = value.get<double>();
  if (!std::isfinite(result) || result < minimum || result > maximum) {
    out_of_range(what, value.dump(), minimum, maximum);
  }
  return result;
}

double checked_real(std::string_view text, std::string_view what, double minimum, double maximum) {
  double result = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), result);
  if (error == std::errc::result_out_of_range) out_of_range(what, text, minimum, maximum);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument(fmt::format("'{}' must be a number, got '{}'", what, text));
  }
  if (!std::isfinite(result) || result < minimum || result > maximum) out_of_range(what, text, minimum, maximum);
  return result;
}

}  // namespace amc::sandbox
