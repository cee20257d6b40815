#include "net/retry_after.hpp"

#include "common/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <vector>

namespace amc::net {

using milliseconds = std::chrono::milliseconds;

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool parse_number(std::string_view text, int& value) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

int month_index(std::string_view name) {
  static constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < months.size(); ++i)
    if (months[i] == name) return static_cast<int>(i) + 1;
  return 0;
}

// "HH:MM:SS"
bool parse_clock(std::string_view text, int& hour, int& minute, int& second) {
  if (text.size() != 8 || text[2] != ':' || text[5] != ':') return false;
  return parse_number(text.substr(0, 2), hour) && parse_number(text.substr(3, 2), minute) &&
         parse_number(text.substr(6, 2), second) && hour < 24 && minute < 60 && second <= 60;
}

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t position = 0;
  while (position < text.size()) {
    if (text[position] == ' ') {
      ++position;
      continue;
    }
    auto end = text.find(' ', position);
    if (end == std::string_view::npos) end = text.size();
    parts.push_back(text.substr(position, end - position));
    position = end;
  }
  return parts;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  text = trim(text);
  int day = 0, month = 0, year = 0, hour = 0, minute = 0, second = 0;
  auto parts = split_spaces(text);
  auto comma = text.find(',');
  if (comma != std::string_view::npos && parts.size() == 6 && parts[5] == "GMT") {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    month = month_index(parts[2]);
    if (!parse_number(parts[1], day) || !parse_number(parts[3], year) ||
        !parse_clock(parts[4], hour, minute, second))
      return std::nullopt;
  } else if (comma != std::string_view::npos && parts.size() == 4 && parts[3] == "GMT") {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    auto date = parts[1];
    if (date.size() != 9 || date[2] != '-' || date[6] != '-') return std::nullopt;
    month = month_index(date.substr(3, 3));
    if (!parse_number(date.substr(0, 2), day) || !parse_number(date.substr(7, 2), year) ||
        !parse_clock(parts[2], hour, minute, second))
      return std::nullopt;
    // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
    year += year < 70 ? 2000 : 1900;
  } else if (comma == std::string_view::npos && parts.size() == 5) {
    // asctime: "Sun Nov  6 08:49:37 1994"
    month = month_index(parts[1]);
    if (!parse_number(parts[2], day) || !parse_clock(parts[3], hour, minute, second) ||
        !parse_number(parts[4], year))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (month == 0 || day < 1 || day > 31 || year < 1970) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  const auto at = std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                  std::chrono::seconds(second);
  // system_clock counts nanoseconds in 64 bits, so it ends in 2262: a later
  // date (a server's "Sun, 06 Nov 5994") overflowed it, undefined behaviour
  // found by the fuzz target tests/fuzz/http_response. It is as far as the
  // clock goes (and Retry-After caps it at max_retry_after anyway). Compared
  // in seconds, where nothing overflows.
  const auto last = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::time_point::max());
  if (at >= last) return std::chrono::system_clock::time_point::max();
  return std::chrono::system_clock::time_point(at);
}

std::optional<milliseconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return is_ascii_digit(c); })) {
    std::uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    // A number too large for 64 bits is "a very long time".
    if (ec == std::errc::result_out_of_range) return max_retry_after;
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    const auto ceiling = std::chrono::duration_cast<std::chrono::seconds>(max_retry_after);
    if (seconds >= static_cast<std::uint64_t>(ceiling.count())) return max_retry_after;
    return milliseconds(static_cast<milliseconds::rep>(seconds) * 1000);
  }
  auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  if (*when <= now) return milliseconds(0);
  if (*when - now >= max_retry_after) return max_retry_after;
  return std::chrono::ceil<milliseconds>(*when - now);
}

}  // namespace amc::net
