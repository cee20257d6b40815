#include "poll/schedule.hpp"

#include "common/error.hpp"
#include "common/json_fields.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace amc::poll {

namespace {

constexpr std::string_view what = "poller config";

double read_number(const nlohmann::json& config, std::string_view field, double fallback, double minimum,
                   double maximum) {
  const auto found = config.find(field);
  if (found == config.end() || found->is_null()) return fallback;
  if (!found->is_number() || found->get<double>() < minimum || found->get<double>() > maximum)
    throw error(errc::invalid_argument,
                fmt::format("field '{}' of the {} must be a number from {} to {}", field, what, minimum, maximum));
  return found->get<double>();
}

milliseconds read_ms(const nlohmann::json& config, std::string_view field, milliseconds fallback, double minimum) {
  constexpr double a_day_ms = 86'400'000.0;
  return milliseconds(static_cast<long long>(
      read_number(config, field, static_cast<double>(fallback.count()), minimum, a_day_ms)));
}

milliseconds jittered(const poll_settings& settings, milliseconds interval, double unit_random) {
  const double factor = 1.0 + settings.jitter * (2.0 * unit_random - 1.0);
  return milliseconds(static_cast<long long>(static_cast<double>(interval.count()) * factor));
}

}  // namespace

poll_settings parse_poll_settings(const nlohmann::json& config) {
  poll_settings settings;
  if (config.is_null()) return settings;
  if (!config.is_object()) throw error(errc::invalid_argument, "the poller config must be a JSON object");
  reject_unknown_fields(config,
                        {"first_interval_ms", "max_interval_ms", "growth", "jitter", "near_finish_interval_ms",
                         "min_interval_ms", "error_backoff_max_ms", "max_in_flight", "requests_per_second",
                         "batching", "list_page_size", "batched_interval_ms", "read_timeout_ms",
                         "list_max_pages", "list_timeout_ms", "list_fallback_ms"},
                        what);
  settings.first_interval = read_ms(config, "first_interval_ms", settings.first_interval, 0);
  settings.max_interval = read_ms(config, "max_interval_ms", settings.max_interval, 0);
  settings.growth = read_number(config, "growth", settings.growth, 1.0, 10.0);
  settings.jitter = read_number(config, "jitter", settings.jitter, 0.0, 0.9);
  settings.near_finish_interval = read_ms(config, "near_finish_interval_ms", settings.near_finish_interval, 0);
  settings.min_interval = read_ms(config, "min_interval_ms", settings.min_interval, 0);
  settings.error_backoff_max = read_ms(config, "error_backoff_max_ms", settings.error_backoff_max, 0);
  settings.max_in_flight = static_cast<int>(read_number(config, "max_in_flight", settings.max_in_flight, 1, 4096));
  settings.requests_per_second = read_number(config, "requests_per_second", settings.requests_per_second, 0, 1e7);
  if (const auto batching = optional_bool(config, "batching", what)) settings.batching = *batching;
  settings.list_page_size = static_cast<int>(read_number(config, "list_page_size", settings.list_page_size, 1, 100));
  settings.batched_interval = read_ms(config, "batched_interval_ms", settings.batched_interval, 0);
  settings.read_timeout = read_ms(config, "read_timeout_ms", settings.read_timeout, 1);
  settings.list_max_pages = static_cast<int>(read_number(config, "list_max_pages", settings.list_max_pages, 1, 1000));
  settings.list_timeout = read_ms(config, "list_timeout_ms", settings.list_timeout, 1);
  settings.list_fallback = read_ms(config, "list_fallback_ms", settings.list_fallback, 0);
  if (settings.max_interval < settings.first_interval)
    throw error(errc::invalid_argument,
                fmt::format("max_interval_ms ({}) of the poller config must not be below first_interval_ms ({})",
                            settings.max_interval.count(), settings.first_interval.count()));
  if (settings.min_interval > settings.first_interval)
    throw error(errc::invalid_argument,
                fmt::format("min_interval_ms ({}) of the poller config must not be above first_interval_ms ({})",
                            settings.min_interval.count(), settings.first_interval.count()));
  return settings;
}

milliseconds next_interval(const poll_settings& settings, milliseconds current, bool status_changed) {
  if (status_changed) return settings.first_interval;
  const double grown = std::ceil(static_cast<double>(current.count()) * settings.growth);
  return std::clamp(milliseconds(static_cast<long long>(grown)), settings.first_interval, settings.max_interval);
}

milliseconds delay_before_next_read(const poll_settings& settings, milliseconds interval, const finish_hint& hint,
                                    double unit_random) {
  milliseconds delay = interval;
  if (hint.publishing) delay = std::min(delay, settings.near_finish_interval);
  if (hint.seconds_to_expected_finish) {
    // Read again around the expected finish, and often once it is due.
    const auto to_finish = milliseconds(static_cast<long long>(*hint.seconds_to_expected_finish * 1000.0));
    delay = std::min(delay, std::max(to_finish, settings.near_finish_interval));
  }
  return std::max(jittered(settings, delay, unit_random), settings.min_interval);
}

milliseconds delay_after_failure(const poll_settings& settings, int failures, double unit_random) {
  const int doublings = std::clamp(failures - 1, 0, 30);
  const double base = std::max<double>(static_cast<double>(settings.first_interval.count()), 100.0);
  const double backoff = std::min(base * std::pow(2.0, doublings), static_cast<double>(settings.error_backoff_max.count()));
  return std::max(jittered(settings, milliseconds(static_cast<long long>(backoff)), unit_random), settings.min_interval);
}

long list_requests(const poll_settings& settings, std::size_t executions_listed) {
  const auto page = static_cast<std::size_t>(settings.list_page_size);
  return static_cast<long>(std::max<std::size_t>(1, (executions_listed + page - 1) / page));
}

bool list_is_cheaper(const poll_settings& settings, std::size_t executions_listed, std::size_t single_reads) {
  return settings.batching && single_reads >= 2 &&
         static_cast<std::size_t>(list_requests(settings, executions_listed)) < single_reads;
}

}  // namespace amc::poll
