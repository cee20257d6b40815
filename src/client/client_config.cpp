#include "client/client_config.hpp"

#include "common/error.hpp"
#include "common/json_fields.hpp"

#include <fmt/format.h>

#include <limits>

#include <cstdlib>

namespace amc::client {
namespace {

const nlohmann::json& section(const nlohmann::json& config, std::string_view name) {
  static const nlohmann::json empty = nlohmann::json::object();
  const auto found = config.find(name);
  if (found == config.end() || found->is_null()) return empty;
  if (!found->is_object())
    throw error(errc::invalid_argument,
                fmt::format("\"{}\" in the client config must be a JSON object", name));
  return *found;
}

// A year: no duration in the config means more, and a bound keeps every
// deadline computed from one (now + duration) far from overflowing.
constexpr double longest_duration_seconds = 365.0 * 86400;

// Range-checked before the conversion: a number past the target type (say
// 1e300 into an int) must be refused, never converted.
template <class Number>
void read_number(const nlohmann::json& object, std::string_view field, std::string_view what,
                 Number& target, double minimum,
                 double maximum = static_cast<double>(std::numeric_limits<Number>::max())) {
  const auto found = object.find(field);
  if (found == object.end() || found->is_null()) return;
  if (!found->is_number() || !(found->get<double>() >= minimum) || !(found->get<double>() <= maximum))
    throw error(errc::invalid_argument,
                fmt::format("field '{}' of the {} must be a number from {} to {}", field, what,
                            minimum, maximum));
  target = found->get<Number>();
}

void read_ms(const nlohmann::json& object, std::string_view field, std::string_view what,
             std::chrono::milliseconds& target) {
  long long value = target.count();
  read_number(object, field, what, value, 1, longest_duration_seconds * 1000);
  target = std::chrono::milliseconds(value);
}

void read_seconds(const nlohmann::json& object, std::string_view field, std::string_view what,
                  std::chrono::seconds& target) {
  long long value = target.count();
  read_number(object, field, what, value, 0, longest_duration_seconds);
  target = std::chrono::seconds(value);
}

// A secret given directly or through the name of an environment variable.
std::string secret_setting(const nlohmann::json& lwa, std::string_view field) {
  const std::string env_field = std::string{field} + "_env";
  const auto direct = optional_string(lwa, field, "lwa config");
  const auto env_name = optional_string(lwa, env_field, "lwa config");
  if (direct && env_name)
    throw error(errc::config, fmt::format("give either lwa.{} or lwa.{}, not both", field, env_field));
  if (direct) return *direct;
  if (env_name) {
    const char* value = std::getenv(env_name->c_str());
    if (value == nullptr || *value == '\0')
      throw error(errc::config, fmt::format("lwa.{} names the environment variable {}, which is "
                                            "not set",
                                            env_field, *env_name));
    return value;
  }
  throw error(errc::config, fmt::format("the client config needs lwa.{} (or lwa.{} naming an "
                                        "environment variable that holds it)",
                                        field, env_field));
}

}  // namespace

std::string default_amc_base_url(std::string_view region) {
  if (region == "na") return "https://advertising-api.amazon.com";
  if (region == "eu") return "https://advertising-api-eu.amazon.com";
  if (region == "fe") return "https://advertising-api-fe.amazon.com";
  throw error(errc::config, fmt::format("unknown region '{}': use \"na\", \"eu\" or \"fe\"", region));
}

client_config parse_client_config(const nlohmann::json& config) {
  reject_unknown_fields(config,
                        {"region", "endpoints", "lwa", "tls", "timeouts", "retry", "rate_limit",
                         "proxy", "http", "store", "tokens", "refresh_service", "io_threads",
                         "journal_retention_days"},
                        "client config");
  client_config parsed;
  parsed.region = optional_string(config, "region", "client config").value_or("na");
  parsed.amc_base_url = default_amc_base_url(parsed.region);
  parsed.lwa = auth::default_lwa_endpoints(parsed.region);

  const auto& endpoints = section(config, "endpoints");
  reject_unknown_fields(endpoints, {"amc", "lwa_token", "lwa_consent"}, "endpoints config");
  if (auto url = optional_string(endpoints, "amc", "endpoints config")) parsed.amc_base_url = *url;
  if (auto url = optional_string(endpoints, "lwa_token", "endpoints config")) parsed.lwa.token_url = *url;
  if (auto url = optional_string(endpoints, "lwa_consent", "endpoints config"))
    parsed.lwa.consent_url = *url;
  while (!parsed.amc_base_url.empty() && parsed.amc_base_url.back() == '/') parsed.amc_base_url.pop_back();

  const auto& lwa = section(config, "lwa");
  reject_unknown_fields(lwa, {"client_id", "client_id_env", "client_secret", "client_secret_env"},
                        "lwa config");
  parsed.lwa_client.client_id = secret_setting(lwa, "client_id");
  parsed.lwa_client.client_secret = secret_setting(lwa, "client_secret");

  const auto& tls = section(config, "tls");
  reject_unknown_fields(tls, {"verify_peer", "ca_file", "ca_directory"}, "tls config");
  parsed.http.tls.verify_peer = optional_bool(tls, "verify_peer", "tls config").value_or(true);
  parsed.http.tls.ca_file = optional_string(tls, "ca_file", "tls config").value_or("");
  parsed.http.tls.ca_directory = optional_string(tls, "ca_directory", "tls config").value_or("");

  const auto& timeouts = section(config, "timeouts");
  reject_unknown_fields(timeouts,
                        {"resolve_ms", "connect_ms", "handshake_ms", "write_ms", "read_headers_ms",
                         "read_body_ms", "idle_ms"},
                        "timeouts config");
  auto& phases = parsed.http.timeouts;
  read_ms(timeouts, "resolve_ms", "timeouts config", phases.resolve);
  read_ms(timeouts, "connect_ms", "timeouts config", phases.connect);
  read_ms(timeouts, "handshake_ms", "timeouts config", phases.handshake);
  read_ms(timeouts, "write_ms", "timeouts config", phases.write);
  read_ms(timeouts, "read_headers_ms", "timeouts config", phases.read_headers);
  read_ms(timeouts, "read_body_ms", "timeouts config", phases.read_body);
  read_ms(timeouts, "idle_ms", "timeouts config", phases.idle);

  const auto& retry = section(config, "retry");
  reject_unknown_fields(retry,
                        {"max_attempts", "base_delay_ms", "max_delay_ms", "max_total_ms",
                         "max_throttle_waits", "retry_budget_ratio", "max_retry_after_ms"},
                        "retry config");
  read_number(retry, "max_attempts", "retry config", parsed.http.retry.max_attempts, 1);
  read_ms(retry, "base_delay_ms", "retry config", parsed.http.retry.base_delay);
  read_ms(retry, "max_delay_ms", "retry config", parsed.http.retry.max_delay);
  read_ms(retry, "max_total_ms", "retry config", parsed.http.retry.max_total);
  read_number(retry, "max_throttle_waits", "retry config", parsed.http.retry.max_throttle_waits, 0);
  read_number(retry, "retry_budget_ratio", "retry config", parsed.http.retry.retry_budget_ratio, 0);
  read_ms(retry, "max_retry_after_ms", "retry config", parsed.http.retry.max_retry_after);

  const auto& rate = section(config, "rate_limit");
  reject_unknown_fields(rate, {"requests_per_second", "burst"}, "rate_limit config");
  read_number(rate, "requests_per_second", "rate_limit config",
              parsed.http.rate_limit.requests_per_second, 0.01);
  read_number(rate, "burst", "rate_limit config", parsed.http.rate_limit.burst, 1);

  const auto& proxy = section(config, "proxy");
  reject_unknown_fields(proxy, {"https_proxy", "no_proxy", "from_environment"}, "proxy config");
  parsed.http.proxy.https_proxy = optional_string(proxy, "https_proxy", "proxy config").value_or("");
  parsed.http.proxy.no_proxy = optional_string(proxy, "no_proxy", "proxy config").value_or("");
  parsed.http.proxy.from_environment =
      optional_bool(proxy, "from_environment", "proxy config").value_or(true);

  const auto& http = section(config, "http");
  reject_unknown_fields(http, {"max_connections_per_host", "max_response_body_bytes"}, "http config");
  read_number(http, "max_connections_per_host", "http config", parsed.http.max_connections_per_host, 1);
  read_number(http, "max_response_body_bytes", "http config", parsed.http.max_response_body_bytes, 1024);

  parsed.store = section(config, "store");

  const auto& tokens = section(config, "tokens");
  reject_unknown_fields(tokens, {"advisory_window_s", "mandatory_window_s", "store_recheck_ms"}, "tokens config");
  read_seconds(tokens, "advisory_window_s", "tokens config", parsed.advisory_window);
  long long store_recheck_ms = parsed.store_recheck.count();
  read_number(tokens, "store_recheck_ms", "tokens config", store_recheck_ms, 0, 60'000);
  parsed.store_recheck = std::chrono::milliseconds(store_recheck_ms);
  read_seconds(tokens, "mandatory_window_s", "tokens config", parsed.mandatory_window);
  if (parsed.mandatory_window > parsed.advisory_window)
    throw error(errc::config, "tokens.mandatory_window_s must not exceed tokens.advisory_window_s");

  const auto& refresh = section(config, "refresh_service");
  reject_unknown_fields(refresh, {"enabled", "lead_time_s", "interval_s"}, "refresh_service config");
  parsed.refresh_service = optional_bool(refresh, "enabled", "refresh_service config").value_or(false);
  read_seconds(refresh, "lead_time_s", "refresh_service config", parsed.refresh.lead_time);
  read_seconds(refresh, "interval_s", "refresh_service config", parsed.refresh.interval);

  read_number(config, "io_threads", "client config", parsed.io_threads, 1);
  if (parsed.io_threads > 16) throw error(errc::config, "io_threads must be between 1 and 16");
  int retention_days = static_cast<int>(
      std::chrono::duration_cast<std::chrono::hours>(parsed.journal_retention).count() / 24);
  read_number(config, "journal_retention_days", "client config", retention_days, 1);
  if (retention_days > 3650)
    throw error(errc::config, "journal_retention_days must be between 1 and 3650");
  parsed.journal_retention = std::chrono::hours(24 * retention_days);
  return parsed;
}

client_config decode_client_config(const char* json_text) {
  return parse_client_config(parse_json_object(json_text, "client config", true, errc::config));
}

}  // namespace amc::client
