// IANA time zones for timeWindowTimeZone: UTC offsets read from the system
// tz database (TZif files under $TZDIR or /usr/share/zoneinfo).
//
// Why a small TZif reader: GCC 12's libstdc++ has the C++20 calendar types
// but not std::chrono::tzdb/locate_zone (GCC 14 has them), and switching
// TZ around localtime_r changes process-wide state under the sandbox's I/O
// threads and the tests' client threads. A TZif file is a sorted list of
// transitions plus a POSIX TZ rule for the years after the last one, which
// is little code to read and is exactly what glibc itself reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amc::sandbox {

class time_zone {
 public:
  // UTC, without touching the disk.
  time_zone() = default;

  // The zone named `name` (e.g. "America/Los_Angeles", "UTC"); nothing when
  // the name is not a zone of the system's tz database.
  static std::optional<time_zone> locate(std::string_view name);

  // Seconds to add to a UTC time to get local time at `utc`.
  long utc_offset(std::int64_t utc) const;

  // The UTC time of a local wall-clock time (seconds since 1970-01-01T00:00
  // local). In a gap (clocks jump forward) it is the moment of the jump;
  // in an overlap, the earlier of the two.
  std::int64_t local_to_utc(std::int64_t local) const;

  const std::string& name() const { return name_; }

 private:
  struct local_type {
    long offset = 0;
    bool dst = false;
  };
  // The POSIX TZ rule of the footer, e.g. "PST8PDT,M3.2.0,M11.1.0".
  struct rule_date {
    char kind = 'M';  // 'M' month.week.day, 'J' Julian 1-365, 'N' zero-based day 0-365
    int month = 0, week = 0, weekday = 0, day = 0;
    long time = 7200;  // seconds after local midnight
  };
  struct posix_rule {
    long std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    long dst_offset = 0;
    rule_date start, end;
  };

  static std::optional<posix_rule> parse_posix_rule(std::string_view text);
  long rule_offset(std::int64_t utc) const;

  std::string name_ = "UTC";
  std::vector<std::int64_t> transitions_;
  std::vector<unsigned char> transition_types_;
  std::vector<local_type> types_ = {{0, false}};
  std::optional<posix_rule> rule_;
};

}  // namespace amc::sandbox
