// Configuration of amc-sandbox: everything the command line, a JSON config
// file or the admin API can set. One struct so that tests and benchmarks can
// start an in-process sandbox with the same knobs as the executable.
#pragma once

#include "sandbox/faults.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace amc::sandbox {

// AMC's docs and notebook show flat objects; the OpenAPI spec wraps them
// ({"workflowExecution": …}). The sandbox serves either so clients are
// tested against both.
enum class response_shape { flat, wrapped };

std::string_view to_string(response_shape shape);
response_shape parse_response_shape(std::string_view text);  // throws std::invalid_argument

// What the token endpoint puts in `refresh_token` on a refresh_token grant.
// Amazon Ads' docs say the same token comes back (no rotation); generic LwA
// text speaks of "a new refresh token" (amc-api.md section 6), so clients
// must store whatever comes back and keep theirs when nothing does.
//   same:   the grant's refresh token, unchanged (the documented behaviour)
//   rotate: a new refresh token; the old one is then invalid_grant, as RFC
//           6749 section 6 allows (the docs give no rule; revoking is the
//           case that catches a client still using the old token)
//   omit:   no refresh_token field; the old token keeps working
enum class refresh_token_reply { same, rotate, omit };

std::string_view to_string(refresh_token_reply reply);
refresh_token_reply parse_refresh_token_reply(std::string_view text);  // throws std::invalid_argument

struct account_seed {
  std::string account_id;  // ENTITY…, the AdvertiserId header value
  std::string account_name;
  std::string marketplace_id;
};

struct instance_seed {
  std::string instance_id;
  std::string instance_name;
  std::string entity_id;  // the account (advertiser) this instance belongs to
  std::string marketplace_id;
};

// How one execution behaves. Durations are simulated seconds: the sandbox
// clock runs --time-scale times faster than the wall clock for executions.
struct scenario {
  std::string name;
  std::string match_workflow_id;  // empty: any
  std::string match_sql;          // substring of sqlQuery; empty: any
  double pending_seconds = 60;
  double running_seconds = 900;
  double publishing_seconds = 10;
  std::string outcome = "SUCCEEDED";  // SUCCEEDED, FAILED or REJECTED
  std::string reason;                 // statusReason for FAILED/REJECTED
  int parts = 1;                      // result files, 1..5
  long rows = 100;                    // data rows over all parts
};

struct sandbox_options {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: ephemeral
  int io_threads = 2;
  bool tls = false;
  std::filesystem::path state_dir;  // ca.pem, server cert/key, client_secret, sandbox.json
  std::filesystem::path port_file;

  std::string client_id = "amzn1.application-oa2-client.sandbox";
  std::string client_secret;  // empty: generated at start
  std::vector<std::string> allowed_redirect_uris;  // empty: any http(s) URI
  bool seed_grant = true;  // create one grant at start, refresh token in state_dir/refresh_token
  int access_token_ttl_seconds = 3600;
  int consent_code_ttl_seconds = 300;
  int download_url_ttl_seconds = 600;
  refresh_token_reply refresh_reply = refresh_token_reply::same;

  response_shape shape = response_shape::flat;
  double time_scale = 1.0;
  std::uint64_t seed = 1;
  int max_active_per_instance = 10;
  int adhoc_per_day = 30;
  int accounts_page_size = 100;
  // listDataSources' page size when the request gives no limit (AMC: 100).
  int data_sources_page_size = 100;
  // How the 31st ad-hoc run of a UTC day is refused: "error" (HTTP 400 and
  // AMC's Error body, no execution: the default) or "rejected" (an
  // execution created REJECTED with a statusReason). AMC documents neither.
  std::string adhoc_limit_answer = "error";
  std::vector<account_seed> accounts;    // empty: one default account
  std::vector<instance_seed> instances;  // empty: one default instance
  scenario default_scenario;
  std::vector<scenario> scenarios;
  std::vector<fault_rule> faults;

  std::size_t request_log_capacity = 1000;  // in-memory ring; 0 disables
  bool log_to_stderr = false;               // one line per request (no query, no tokens)

  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::size_t max_body_bytes = 1 << 20;
};

// Ranges of the numbers the sandbox takes from its config file, flags, the
// admin API and SQL markers. Out of range is an error naming the field and
// the range, never a silent truncation (a TTL of 1e12 once became
// -727379968). Generous, but narrow enough that no value overflows when it
// becomes a time, a duration or an int.
namespace limits {
inline constexpr std::int64_t max_io_threads = 256;
inline constexpr std::int64_t max_timeout_ms = 86'400'000;                // a day
inline constexpr std::int64_t max_token_ttl_seconds = 31'536'000;         // a year
inline constexpr std::int64_t max_consent_code_ttl_seconds = 86'400;      // a day
inline constexpr std::int64_t max_download_url_ttl_seconds = 604'800;     // S3's longest presigned URL
inline constexpr double min_time_scale = 1e-6;
inline constexpr double max_time_scale = 1e9;
inline constexpr std::int64_t max_seed = 9'223'372'036'854'775'807;       // JSON readers keep it exact
inline constexpr std::int64_t max_per_instance = 1'000'000;               // active runs, runs per day
inline constexpr std::int64_t max_accounts_page_size = 1000;
inline constexpr std::int64_t max_request_log = 1'000'000;
inline constexpr std::int64_t max_parts = 5;
inline constexpr std::int64_t max_rows = 10'000'000;                     // a part is built in memory
inline constexpr double max_duration_seconds = 315'360'000;              // ten simulated years
inline constexpr double max_clock_jump_seconds = 3'153'600'000;          // a century
}  // namespace limits

// Fills the defaults that depend on other fields (seed account/instance).
void complete_defaults(sandbox_options& options);

// The settings that PUT /_sandbox/settings may change at run time; the
// config file accepts them too. apply_settings_json reads those present in
// `settings` (other keys are the caller's business), range-checked; it
// throws std::invalid_argument naming the field.
const std::vector<std::string>& settings_names();
void apply_settings_json(sandbox_options& options, const nlohmann::json& settings);

// Applies a JSON config document (see README.md, "Config file").
void apply_config_json(sandbox_options& options, const nlohmann::json& config);

scenario parse_scenario(const nlohmann::json& value, const scenario& base);
nlohmann::json scenario_to_json(const scenario& value);

// "90", "90s", "20m", "1.5h" → seconds. Throws std::invalid_argument.
double parse_duration_seconds(std::string_view text);

// Command line → options. Returns false when --help was asked (help text in
// `help_out`). Throws std::invalid_argument with a message on bad input.
bool parse_command_line(int argc, const char* const argv[], sandbox_options& options, std::string& help_out);

std::string help_text();

}  // namespace amc::sandbox
