// Reads TZif files (RFC 8536) and evaluates their POSIX TZ footer. See
// time_zone.hpp for why this is not std::chrono::tzdb or localtime_r.
#include "sandbox/time_zone.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace amc::sandbox {

namespace {

namespace chrono = std::chrono;

// Zone names are paths under the tz directory: letters, digits and "_+-",
// separated by "/", never "." or ".." (nothing outside the directory).
bool is_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 200 || name.front() == '/' || name.back() == '/') return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t slash = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (const unsigned char c : part) {
      if (!std::isalnum(c) && c != '_' && c != '-' && c != '+' && c != '.') return false;
    }
    start = slash + 1;
  }
  return true;
}

std::int64_t read_big_endian(const std::string& data, std::size_t at, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) value = (value << 8) | static_cast<unsigned char>(data[at + i]);
  if (width == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
  return static_cast<std::int64_t>(value);
}

// [+-]hh[:mm[:ss]] in seconds; hours may go to 167 (RFC 8536 section 3.3.1).
std::optional<long> read_clock(std::string_view& text) {
  long sign = 1;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    if (text.front() == '-') sign = -1;
    text.remove_prefix(1);
  }
  long total = 0;
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (text.empty() || text.front() != ':') break;
      text.remove_prefix(1);
    }
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return std::nullopt;
    long value = 0;
    while (!text.empty() && std::isdigit(static_cast<unsigned char>(text.front()))) {
      value = value * 10 + (text.front() - '0');
      text.remove_prefix(1);
    }
    total += value * (part == 0 ? 3600 : part == 1 ? 60 : 1);
  }
  return sign * total;
}

// "PST" or "<+0330>".
bool skip_zone_abbreviation(std::string_view& text) {
  if (!text.empty() && text.front() == '<') {
    const auto close = text.find('>');
    if (close == std::string_view::npos) return false;
    text.remove_prefix(close + 1);
    return true;
  }
  std::size_t length = 0;
  while (length < text.size() && std::isalpha(static_cast<unsigned char>(text[length]))) ++length;
  text.remove_prefix(length);
  return length > 0;
}

std::int64_t days_since_epoch(chrono::sys_days day) { return day.time_since_epoch().count(); }

std::int64_t floor_divide(std::int64_t value, std::int64_t divisor) {
  return value / divisor - ((value % divisor != 0) && ((value < 0) != (divisor < 0)) ? 1 : 0);
}

}  // namespace

std::optional<time_zone> time_zone::locate(std::string_view name) {
  if (name == "UTC" || name == "Etc/UTC") {
    time_zone utc;
    utc.name_ = std::string(name);
    return utc;
  }
  if (!is_zone_name(name)) return std::nullopt;
  const char* directory = std::getenv("TZDIR");  // read only; nothing here sets it
  const std::filesystem::path path =
      std::filesystem::path(directory != nullptr && *directory != '\0' ? directory : "/usr/share/zoneinfo") /
      std::string(name);
  std::error_code ignored;
  if (!std::filesystem::is_regular_file(path, ignored)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  // Header: "TZif", version, 15 reserved bytes, then six counts.
  constexpr std::size_t header_size = 44;
  struct counts {
    std::int64_t is_ut, is_std, leap, time, type, chars;
  };
  auto read_header = [&](std::size_t at) -> std::optional<counts> {
    if (data.size() < at + header_size || data.compare(at, 4, "TZif") != 0) return std::nullopt;
    counts c{};
    std::int64_t* fields[] = {&c.is_ut, &c.is_std, &c.leap, &c.time, &c.type, &c.chars};
    for (int i = 0; i < 6; ++i) *fields[i] = read_big_endian(data, at + 20 + 4 * i, 4);
    if (c.type < 1 || c.time < 0 || c.leap < 0 || c.chars < 0 || c.is_ut < 0 || c.is_std < 0) return std::nullopt;
    return c;
  };
  auto block_size = [](const counts& c, std::size_t time_width) {
    return static_cast<std::size_t>(c.time * static_cast<std::int64_t>(time_width) + c.time + c.type * 6 + c.chars +
                                    c.leap * static_cast<std::int64_t>(time_width + 4) + c.is_std + c.is_ut);
  };
  auto first = read_header(0);
  if (!first) return std::nullopt;
  const char version = data[4];
  std::size_t block = header_size;
  std::size_t time_width = 4;
  counts c = *first;
  if (version >= '2') {  // skip the 32-bit block: the 64-bit one follows with its own header
    const std::size_t second = header_size + block_size(*first, 4);
    auto again = read_header(second);
    if (!again) return std::nullopt;
    c = *again;
    block = second + header_size;
    time_width = 8;
  }
  if (data.size() < block + block_size(c, time_width)) return std::nullopt;

  time_zone zone;
  zone.name_ = std::string(name);
  zone.types_.clear();
  std::size_t at = block;
  for (std::int64_t i = 0; i < c.time; ++i, at += time_width) zone.transitions_.push_back(read_big_endian(data, at, time_width));
  for (std::int64_t i = 0; i < c.time; ++i, ++at) {
    const auto index = static_cast<unsigned char>(data[at]);
    if (index >= c.type) return std::nullopt;
    zone.transition_types_.push_back(index);
  }
  for (std::int64_t i = 0; i < c.type; ++i, at += 6) {
    zone.types_.push_back({static_cast<long>(read_big_endian(data, at, 4)), data[at + 4] != 0});
  }
  if (version >= '2') {
    // Footer: "\n<POSIX TZ string>\n", for times after the last transition.
    std::size_t footer = block + block_size(c, time_width);
    if (footer < data.size() && data[footer] == '\n') {
      const auto end = data.find('\n', footer + 1);
      if (end != std::string::npos && end > footer + 1) {
        zone.rule_ = parse_posix_rule(std::string_view(data).substr(footer + 1, end - footer - 1));
      }
    }
  }
  return zone;
}

std::optional<time_zone::posix_rule> time_zone::parse_posix_rule(std::string_view text) {
  posix_rule rule;
  if (!skip_zone_abbreviation(text)) return std::nullopt;
  auto std_clock = read_clock(text);
  if (!std_clock) return std::nullopt;
  rule.std_offset = -*std_clock;  // POSIX counts hours west of Greenwich
  if (text.empty()) return rule;
  if (!skip_zone_abbreviation(text)) return std::nullopt;
  rule.has_dst = true;
  rule.dst_offset = rule.std_offset + 3600;
  if (!text.empty() && text.front() != ',') {
    auto dst_clock = read_clock(text);
    if (!dst_clock) return std::nullopt;
    rule.dst_offset = -*dst_clock;
  }
  if (text.empty()) text = ",M3.2.0,M11.1.0";  // the POSIX default rule glibc uses
  auto read_date = [&](rule_date& date) {
    if (text.empty() || text.front() != ',') return false;
    text.remove_prefix(1);
    auto number = [&](int& out) {
      if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return false;
      out = 0;
      while (!text.empty() && std::isdigit(static_cast<unsigned char>(text.front()))) {
        out = out * 10 + (text.front() - '0');
        text.remove_prefix(1);
      }
      return true;
    };
    auto dot = [&] {
      if (text.empty() || text.front() != '.') return false;
      text.remove_prefix(1);
      return true;
    };
    if (!text.empty() && text.front() == 'M') {
      text.remove_prefix(1);
      date.kind = 'M';
      if (!number(date.month) || !dot() || !number(date.week) || !dot() || !number(date.weekday)) return false;
      if (date.month < 1 || date.month > 12 || date.week < 1 || date.week > 5 || date.weekday > 6) return false;
    } else if (!text.empty() && text.front() == 'J') {
      text.remove_prefix(1);
      date.kind = 'J';
      if (!number(date.day) || date.day < 1 || date.day > 365) return false;
    } else {
      date.kind = 'N';
      if (!number(date.day) || date.day > 365) return false;
    }
    if (!text.empty() && text.front() == '/') {
      text.remove_prefix(1);
      auto time = read_clock(text);
      if (!time) return false;
      date.time = *time;
    }
    return true;
  };
  if (!read_date(rule.start) || !read_date(rule.end) || !text.empty()) return std::nullopt;
  return rule;
}

long time_zone::rule_offset(std::int64_t utc) const {
  const posix_rule& rule = *rule_;
  if (!rule.has_dst) return rule.std_offset;
  const chrono::sys_days local_day{chrono::days{floor_divide(utc + rule.std_offset, 86400)}};
  const chrono::year year = chrono::year_month_day{local_day}.year();
  auto day_of = [&](const rule_date& date) -> chrono::sys_days {
    if (date.kind == 'M') {
      const auto month = chrono::month{static_cast<unsigned>(date.month)};
      const auto weekday = chrono::weekday{static_cast<unsigned>(date.weekday)};
      if (date.week == 5) return chrono::sys_days{year / month / chrono::weekday_last{weekday}};
      return chrono::sys_days{year / month / weekday[static_cast<unsigned>(date.week)]};
    }
    const chrono::sys_days january_first{year / chrono::January / 1};
    if (date.kind == 'N') return january_first + chrono::days{date.day};
    // Julian day n (1-365) never counts February 29.
    return january_first + chrono::days{date.day - 1 + (year.is_leap() && date.day >= 60 ? 1 : 0)};
  };
  const std::int64_t start = days_since_epoch(day_of(rule.start)) * 86400 + rule.start.time - rule.std_offset;
  const std::int64_t end = days_since_epoch(day_of(rule.end)) * 86400 + rule.end.time - rule.dst_offset;
  const bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);  // south: DST over new year
  return dst ? rule.dst_offset : rule.std_offset;
}

long time_zone::utc_offset(std::int64_t utc) const {
  if (transitions_.empty() || utc >= transitions_.back()) {
    if (rule_) return rule_offset(utc);
    if (transitions_.empty()) return types_.front().offset;
  }
  if (utc < transitions_.front()) return types_.front().offset;  // RFC 8536: type 0 before the first
  const auto after = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  return types_[transition_types_[static_cast<std::size_t>(after - transitions_.begin() - 1)]].offset;
}

std::int64_t time_zone::local_to_utc(std::int64_t local) const {
  // The offsets a day either side cover any transition near `local`.
  const long before = utc_offset(local - 86400);
  const long after = utc_offset(local + 86400);
  const std::int64_t with_before = local - before;
  const std::int64_t with_after = local - after;
  const bool before_fits = utc_offset(with_before) == before;
  const bool after_fits = utc_offset(with_after) == after;
  if (before_fits && after_fits) return std::min(with_before, with_after);  // an overlap: the earlier
  if (after_fits) return with_after;
  // A gap: read with the offset before it, so that a day starting in a gap
  // (midnight transitions) starts at the jump.
  return with_before;
}

}  // namespace amc::sandbox
