#include "common/time.hpp"

#include "common/text.hpp"

#include <fmt/format.h>


namespace amc {

unix_seconds now_unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_utc(unix_seconds when) {
  using namespace std::chrono;
  const sys_seconds point{seconds{when}};
  const sys_days day = floor<days>(point);
  const year_month_day date{day};
  const hh_mm_ss time{point - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

namespace {

// Reads exactly `width` digits at `pos`; advances pos.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (!is_ascii_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char wanted) {
  if (pos >= text.size() || text[pos] != wanted) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<unix_seconds> parse_utc(std::string_view text) {
  using namespace std::chrono;
  std::size_t pos = 0;
  const auto year_value = read_digits(text, pos, 4);
  if (!year_value || !expect(text, pos, '-')) return std::nullopt;
  const auto month_value = read_digits(text, pos, 2);
  if (!month_value || !expect(text, pos, '-')) return std::nullopt;
  const auto day_value = read_digits(text, pos, 2);
  if (!day_value || !(expect(text, pos, 'T') || expect(text, pos, 't') || expect(text, pos, ' ')))
    return std::nullopt;
  const auto hour = read_digits(text, pos, 2);
  if (!hour || !expect(text, pos, ':')) return std::nullopt;
  const auto minute = read_digits(text, pos, 2);
  if (!minute || !expect(text, pos, ':')) return std::nullopt;
  const auto second = read_digits(text, pos, 2);
  if (!second) return std::nullopt;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && is_ascii_digit(text[pos])) ++pos;
    if (pos == start) return std::nullopt;
  }
  int offset_seconds = 0;
  if (pos < text.size()) {
    const char zone = text[pos];
    if ((zone == 'Z' || zone == 'z') && pos + 1 == text.size()) {
      pos = text.size();
    } else if ((zone == '+' || zone == '-') && text.size() - pos == 6) {
      ++pos;
      const auto offset_hours = read_digits(text, pos, 2);
      if (!offset_hours || !expect(text, pos, ':')) return std::nullopt;
      const auto offset_minutes = read_digits(text, pos, 2);
      if (!offset_minutes || *offset_hours > 23 || *offset_minutes > 59) return std::nullopt;
      offset_seconds = (*offset_hours * 3600 + *offset_minutes * 60) * (zone == '+' ? 1 : -1);
    } else {
      return std::nullopt;
    }
  }
  const year_month_day date{year{*year_value}, month{static_cast<unsigned>(*month_value)},
                            day{static_cast<unsigned>(*day_value)}};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  const auto days_since_epoch = sys_days{date}.time_since_epoch().count();
  return static_cast<unix_seconds>(days_since_epoch) * 86400 + *hour * 3600 + *minute * 60 +
         *second - offset_seconds;
}

}  // namespace amc
