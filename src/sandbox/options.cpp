#include "sandbox/options.hpp"

#include "sandbox/input_limits.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace amc::sandbox {

namespace {

using nlohmann::json;

double json_duration(const json& value, std::string_view what) {
  if (value.is_number()) return checked_real(value, what, 0, limits::max_duration_seconds);
  if (value.is_string()) return parse_duration_seconds(value.get<std::string>());
  throw std::invalid_argument(fmt::format("{} must be a number of seconds or a text like \"20m\"", what));
}

std::string json_text(const json& object, const char* field, std::string fallback = {}) {
  if (!object.contains(field)) return fallback;
  if (!object.at(field).is_string()) throw std::invalid_argument(fmt::format("config field '{}' must be a string", field));
  return object.at(field).get<std::string>();
}

// A whole number field in [minimum, maximum], or `fallback` when absent.
template <class Number>
Number json_integer(const json& object, const char* field, Number fallback, std::int64_t minimum,
                    std::int64_t maximum) {
  if (!object.contains(field)) return fallback;
  return static_cast<Number>(checked_integer(object.at(field), field, minimum, maximum));
}

// A flag's whole-number value in [minimum, maximum].
template <class Number>
Number flag_integer(std::string_view text, std::string_view flag, std::int64_t minimum, std::int64_t maximum) {
  return static_cast<Number>(checked_integer(text, flag, minimum, maximum));
}

}  // namespace

std::string_view to_string(response_shape shape) { return shape == response_shape::flat ? "flat" : "wrapped"; }

response_shape parse_response_shape(std::string_view text) {
  if (text == "flat") return response_shape::flat;
  if (text == "wrapped") return response_shape::wrapped;
  throw std::invalid_argument(fmt::format("response shape must be 'flat' or 'wrapped', got '{}'", text));
}

std::string_view to_string(refresh_token_reply reply) {
  switch (reply) {
    case refresh_token_reply::same: return "same";
    case refresh_token_reply::rotate: return "rotate";
    case refresh_token_reply::omit: return "omit";
  }
  return "same";
}

refresh_token_reply parse_refresh_token_reply(std::string_view text) {
  if (text == "same") return refresh_token_reply::same;
  if (text == "rotate") return refresh_token_reply::rotate;
  if (text == "omit") return refresh_token_reply::omit;
  throw std::invalid_argument(fmt::format("refresh token reply must be 'same', 'rotate' or 'omit', got '{}'", text));
}

double parse_duration_seconds(std::string_view text) {
  if (text.empty()) throw std::invalid_argument("empty duration");
  double unit = 1;
  switch (text.back()) {
    case 's': text.remove_suffix(1); break;
    case 'm': unit = 60; text.remove_suffix(1); break;
    case 'h': unit = 3600; text.remove_suffix(1); break;
    case 'd': unit = 86400; text.remove_suffix(1); break;
    default: break;
  }
  const double value = checked_real(text, "duration", 0, limits::max_duration_seconds / unit);
  return value * unit;
}

void complete_defaults(sandbox_options& options) {
  if (options.accounts.empty()) {
    options.accounts.push_back({"ENTITY1SANDBOX0001", "Sandbox Advertiser", "ATVPDKIKX0DER"});
  }
  if (options.instances.empty()) {
    const auto& account = options.accounts.front();
    options.instances.push_back({"amcsandbox01", "sandbox-instance", account.account_id, account.marketplace_id});
  }
  for (auto& instance : options.instances) {
    if (instance.marketplace_id.empty()) {
      for (const auto& account : options.accounts) {
        if (account.account_id == instance.entity_id) instance.marketplace_id = account.marketplace_id;
      }
    }
  }
  if (options.io_threads < 1) options.io_threads = 1;
  if (options.time_scale <= 0) throw std::invalid_argument("time scale must be positive");
  if (options.accounts_page_size < 1) options.accounts_page_size = 1;
}

scenario parse_scenario(const json& value, const scenario& base) {
  if (!value.is_object()) throw std::invalid_argument("a scenario must be a JSON object");
  static const std::vector<std::string> known = {"name",    "workflow_id", "sql_contains", "pending", "running",
                                                 "publishing", "outcome",  "reason",       "parts",   "rows"};
  for (const auto& [key, item] : value.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw std::invalid_argument(fmt::format("unknown scenario field '{}'", key));
    }
  }
  scenario out = base;
  out.name = json_text(value, "name", base.name);
  out.match_workflow_id = json_text(value, "workflow_id", base.match_workflow_id);
  out.match_sql = json_text(value, "sql_contains", base.match_sql);
  if (value.contains("pending")) out.pending_seconds = json_duration(value.at("pending"), "pending");
  if (value.contains("running")) out.running_seconds = json_duration(value.at("running"), "running");
  if (value.contains("publishing")) out.publishing_seconds = json_duration(value.at("publishing"), "publishing");
  out.outcome = json_text(value, "outcome", base.outcome);
  if (out.outcome != "SUCCEEDED" && out.outcome != "FAILED" && out.outcome != "REJECTED") {
    throw std::invalid_argument("scenario 'outcome' must be SUCCEEDED, FAILED or REJECTED");
  }
  out.reason = json_text(value, "reason", base.reason);
  out.parts = json_integer<int>(value, "parts", base.parts, 1, limits::max_parts);
  out.rows = json_integer<long>(value, "rows", base.rows, 0, limits::max_rows);
  return out;
}

json scenario_to_json(const scenario& value) {
  json out = {{"pending", value.pending_seconds}, {"running", value.running_seconds},
              {"publishing", value.publishing_seconds}, {"outcome", value.outcome},
              {"parts", value.parts}, {"rows", value.rows}};
  if (!value.name.empty()) out["name"] = value.name;
  if (!value.match_workflow_id.empty()) out["workflow_id"] = value.match_workflow_id;
  if (!value.match_sql.empty()) out["sql_contains"] = value.match_sql;
  if (!value.reason.empty()) out["reason"] = value.reason;
  return out;
}

const std::vector<std::string>& settings_names() {
  static const std::vector<std::string> names = {
      "response_shape",           "time_scale",          "access_token_ttl_seconds", "consent_code_ttl_seconds",
      "download_url_ttl_seconds", "refresh_token_reply", "max_active_per_instance",  "adhoc_executions_per_day",
      "accounts_page_size",       "data_sources_page_size", "adhoc_limit_answer"};
  return names;
}

void apply_settings_json(sandbox_options& options, const json& settings) {
  if (settings.contains("response_shape")) options.shape = parse_response_shape(json_text(settings, "response_shape"));
  if (settings.contains("time_scale")) {
    options.time_scale =
        checked_real(settings.at("time_scale"), "time_scale", limits::min_time_scale, limits::max_time_scale);
  }
  options.access_token_ttl_seconds = json_integer<int>(settings, "access_token_ttl_seconds",
                                                       options.access_token_ttl_seconds, 1, limits::max_token_ttl_seconds);
  options.consent_code_ttl_seconds = json_integer<int>(settings, "consent_code_ttl_seconds", options.consent_code_ttl_seconds,
                                                       1, limits::max_consent_code_ttl_seconds);
  options.download_url_ttl_seconds = json_integer<int>(settings, "download_url_ttl_seconds", options.download_url_ttl_seconds,
                                                       1, limits::max_download_url_ttl_seconds);
  if (settings.contains("refresh_token_reply")) {
    options.refresh_reply = parse_refresh_token_reply(json_text(settings, "refresh_token_reply"));
  }
  options.max_active_per_instance = json_integer<int>(settings, "max_active_per_instance", options.max_active_per_instance,
                                                      0, limits::max_per_instance);
  options.adhoc_per_day =
      json_integer<int>(settings, "adhoc_executions_per_day", options.adhoc_per_day, 0, limits::max_per_instance);
  options.accounts_page_size = json_integer<int>(settings, "accounts_page_size", options.accounts_page_size, 1,
                                                 limits::max_accounts_page_size);
  options.data_sources_page_size =
      json_integer<int>(settings, "data_sources_page_size", options.data_sources_page_size, 1, 100);
  if (settings.contains("adhoc_limit_answer")) {
    const auto answer = json_text(settings, "adhoc_limit_answer");
    if (answer != "error" && answer != "rejected")
      throw std::invalid_argument("adhoc_limit_answer must be \"error\" or \"rejected\"");
    options.adhoc_limit_answer = answer;
  }
}

void apply_config_json(sandbox_options& options, const json& config) {
  if (!config.is_object()) throw std::invalid_argument("the config file must hold a JSON object");
  static const std::vector<std::string> known = {
      "port", "tls", "io_threads", "state_dir", "client_id", "client_secret", "allowed_redirect_uris", "seed_grant",
      "access_token_ttl_seconds", "consent_code_ttl_seconds", "download_url_ttl_seconds", "refresh_token_reply", "response_shape",
      "time_scale", "seed", "max_active_per_instance", "adhoc_executions_per_day", "accounts_page_size", "accounts",
      "data_sources_page_size", "adhoc_limit_answer", "instances", "default_scenario", "scenarios", "faults", "request_log_size", "log_requests"};
  for (const auto& [key, item] : config.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw std::invalid_argument(fmt::format("unknown config field '{}'", key));
    }
  }
  options.port = json_integer<std::uint16_t>(config, "port", options.port, 0, 65535);
  if (config.contains("tls")) options.tls = config.at("tls").get<bool>();
  options.io_threads = json_integer<int>(config, "io_threads", options.io_threads, 1, limits::max_io_threads);
  if (config.contains("state_dir")) options.state_dir = json_text(config, "state_dir");
  options.client_id = json_text(config, "client_id", options.client_id);
  options.client_secret = json_text(config, "client_secret", options.client_secret);
  if (config.contains("allowed_redirect_uris")) {
    options.allowed_redirect_uris = config.at("allowed_redirect_uris").get<std::vector<std::string>>();
  }
  if (config.contains("seed_grant")) options.seed_grant = config.at("seed_grant").get<bool>();
  apply_settings_json(options, config);
  options.seed = json_integer<std::uint64_t>(config, "seed", options.seed, 0, limits::max_seed);
  options.request_log_capacity =
      json_integer<std::size_t>(config, "request_log_size", options.request_log_capacity, 0, limits::max_request_log);
  if (config.contains("log_requests")) options.log_to_stderr = config.at("log_requests").get<bool>();
  if (config.contains("accounts")) {
    options.accounts.clear();
    for (const auto& item : config.at("accounts")) {
      options.accounts.push_back({json_text(item, "accountId"), json_text(item, "accountName", "Sandbox Advertiser"),
                                  json_text(item, "marketplaceId", "ATVPDKIKX0DER")});
      if (options.accounts.back().account_id.empty()) throw std::invalid_argument("every account needs an accountId");
    }
  }
  if (config.contains("instances")) {
    options.instances.clear();
    for (const auto& item : config.at("instances")) {
      options.instances.push_back({json_text(item, "instanceId"), json_text(item, "instanceName", "sandbox-instance"),
                                   json_text(item, "entityId"), json_text(item, "marketplaceId")});
      if (options.instances.back().instance_id.empty() || options.instances.back().entity_id.empty()) {
        throw std::invalid_argument("every instance needs an instanceId and an entityId");
      }
    }
  }
  if (config.contains("default_scenario")) {
    options.default_scenario = parse_scenario(config.at("default_scenario"), options.default_scenario);
  }
  if (config.contains("scenarios")) {
    options.scenarios.clear();
    for (const auto& item : config.at("scenarios")) options.scenarios.push_back(parse_scenario(item, options.default_scenario));
  }
  if (config.contains("faults")) {
    options.faults.clear();
    for (const auto& item : config.at("faults")) options.faults.push_back(parse_fault_rule(item));
  }
}

std::string help_text() {
  return R"(amc-sandbox: a local Amazon Marketing Cloud + Login-with-Amazon server
for offline development, tests and benchmarks. Binds 127.0.0.1 only.

Usage: amc-sandbox [options]

Network
  --port N                   port to bind (default 0: an ephemeral port)
  --port-file FILE           write the bound port (decimal, newline) to FILE
  --threads N                I/O threads (default 2)
  --tls                      serve HTTPS with a certificate chain generated at
                             start: STATE_DIR/ca.pem (test CA), server.pem and
                             server.key (0600), valid for localhost and 127.0.0.1
  --read-timeout-ms N        deadline for reading one request (default 30000)
  --write-timeout-ms N       deadline for writing one response (default 30000)
  --idle-timeout-ms N        keep-alive idle deadline (default 60000)

State and credentials
  --state-dir DIR            where the sandbox writes its files (created 0700;
                             default /tmp/amc-sandbox-<pid>): sandbox.json (URL,
                             port, client id, ids to use), client_secret (0600),
                             refresh_token (0600, the seeded grant), ca.pem
  --config FILE              JSON config file (accounts, instances, scenarios,
                             faults, ...; see src/sandbox/README.md). Command
                             line flags override it.
  --client-id ID             LwA client id (default
                             amzn1.application-oa2-client.sandbox)
  --client-secret-file FILE  read the LwA client secret from FILE instead of
                             generating one
  --no-seed-grant            do not create the initial grant/refresh token
  --token-ttl SECONDS        access token lifetime, expires_in (default 3600)
  --download-url-ttl SECONDS lifetime of signed result URLs (default 600)
  --refresh-token-reply same|rotate|omit
                             refresh_token in the reply to a refresh_token
                             grant: the same token (default, as Amazon Ads'
                             docs say), a new one (the old one is then
                             invalid_grant), or none (the old one still works)

AMC behaviour
  --shape flat|wrapped       response shape: flat objects as Amazon's docs show
                             (default) or the spec's {"workflowExecution": ...}
  --time-scale X             simulated seconds per wall second for executions
                             (default 1; 600 makes a 20 minute run take 2 s)
  --seed N                   seed for ids, durations and result data (default 1)
  --max-active N             active (PENDING/RUNNING/PUBLISHING) executions per
                             instance before new ones are REJECTED (default 10)
  --adhoc-per-day N          ad-hoc executions per instance per UTC day before
                             new ones are refused (default 30)
  --pending DURATION         default simulated PENDING time (default 60s)
  --running DURATION         default simulated RUNNING time (default 15m)
  --publishing DURATION      default simulated PUBLISHING time (default 10s)
  --fault JSON               add a fault rule, e.g.
                             '{"kind":"rate_limit","count":3,"retry_after":2}'
                             (repeatable; fields below)

Fault rules (--fault, "faults" in the config, POST /_sandbox/faults)
  kind                       latency, error_status, rate_limit,
                             reset_before_headers, reset_after_headers,
                             truncated_body, malformed_json, trickle,
                             expired_download_urls, drop_after_accept,
                             patch_reply, replace_reply, endless_pages
  method                     match the HTTP method (GET, POST, ...)
  operation                  match an operation: AmcpLinkListAmcAccounts,
                             listInstances, getInstance, listWorkflows,
                             createWorkflow, getWorkflow, updateWorkflow,
                             deleteWorkflow, listWorkflowExecutions,
                             createWorkflowExecution, getWorkflowExecution,
                             UpdateWorkflowExecution,
                             getWorkflowExecutionDownloadUrls, lwaToken,
                             lwaConsent, downloadResult, listDataSources,
                             getDataSource, listSchedules, createSchedule,
                             getSchedule, updateSchedule, deleteSchedule
  path                       match the path, a glob (* matches anything)
                             (no method, operation or path: every request)
  skip N                     let N matching requests through first (default 0)
  count N                    then fire N times (default -1: until cleared)
  status N                   error_status: the HTTP status (default 500);
                             rate_limit: default 429; patch_reply and
                             replace_reply: the handler's status unless given
  retry_after S              rate_limit: the Retry-After seconds (default 1; null: no header)
  latency_ms N               latency: the delay (default 1000)
  trickle_bytes N            trickle: bytes per write (default 1)
  trickle_interval_ms N      trickle: pause between writes (default 20)
  json_patch [...]           patch_reply: RFC 6902 operations applied to the
                             handler's JSON reply (500 if they do not apply)
  body JSON                  replace_reply: the new body, any JSON value
  body_text "..."            replace_reply: the new body, sent as it is
  body_base64 "..."          replace_reply: the new body as base64 bytes
                             (for bodies that are not valid UTF-8)
  nesting_depth N            replace_reply: [[[...]]] N deep (1 to 1000000)

Diagnostics
  --request-log-size N       requests kept for GET /_sandbox/requests (default
                             1000, 0 disables)
  --log-requests             print one line per request to stderr (method,
                             path without query, status, time; never tokens)
  --help                     this text

SQL markers (comments in sqlQuery; several may share a line):
  -- sandbox: fail "reason"          FAILED at the end of RUNNING with statusReason
  -- sandbox: reject "reason"        REJECTED at once
  -- sandbox: succeed                SUCCEEDED, over a failing scenario
  -- sandbox: duration=20m           RUNNING time (running= is the same)
  -- sandbox: pending=1m publishing=10s   the other phase times
  -- sandbox: parts=3 rows=1000      result files (1-5) and data rows
  -- sandbox: scenario=NAME          use a scenario from the config file
  -- sandbox: quoted_newlines         some text values in the results hold a
                                     (quoted) line break
  -- sandbox: status=SOMETHING_NEW for=10m
                                     an unknown status after PENDING for that
                                     long (default 60s), then the usual cycle

Relative time windows use timeWindowTimeZone (tz database name, default UTC)
for day and month boundaries; ALL starts 25 months back. EXPLICIT start and
end times without Z or offset are wall-clock times in that zone too.

Admin API (never on AMC paths): /_sandbox/health, /_sandbox/stats,
/_sandbox/requests, /_sandbox/reset, /_sandbox/settings, /_sandbox/faults,
/_sandbox/scenarios, /_sandbox/grants, /_sandbox/consent-codes,
/_sandbox/clock/advance, /_sandbox/clock/set, /_sandbox/executions/bulk.
See src/sandbox/README.md.
)";
}

bool parse_command_line(int argc, const char* const argv[], sandbox_options& options, std::string& help_out) {
  std::vector<std::pair<std::string, std::string>> flags;
  static const std::vector<std::string> switches = {"--tls", "--no-seed-grant", "--log-requests", "--help", "-h"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (std::find(switches.begin(), switches.end(), arg) != switches.end()) {
      flags.emplace_back(arg, "");
      continue;
    }
    if (arg.rfind("--", 0) != 0) throw std::invalid_argument(fmt::format("unexpected argument '{}'", arg));
    auto equals = arg.find('=');
    if (equals != std::string::npos) {
      flags.emplace_back(arg.substr(0, equals), arg.substr(equals + 1));
    } else {
      if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", arg));
      flags.emplace_back(arg, argv[++i]);
    }
  }
  // The config file goes first so that every flag overrides it.
  for (const auto& [flag, value] : flags) {
    if (flag == "--help" || flag == "-h") {
      help_out = help_text();
      return false;
    }
    if (flag == "--config") {
      std::ifstream in(value, std::ios::binary);
      if (!in) throw std::invalid_argument(fmt::format("cannot read config file '{}'", value));
      const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      apply_config_json(options, parse_bounded_json(text, fmt::format("config file '{}'", value)));
    }
  }
  for (const auto& [flag, value] : flags) {
    if (flag == "--config") continue;
    if (flag == "--port") options.port = flag_integer<std::uint16_t>(value, flag, 0, 65535);
    else if (flag == "--port-file") options.port_file = value;
    else if (flag == "--threads") options.io_threads = flag_integer<int>(value, flag, 1, limits::max_io_threads);
    else if (flag == "--tls") options.tls = true;
    else if (flag == "--read-timeout-ms") options.read_timeout = std::chrono::milliseconds(flag_integer<long>(value, flag, 1, limits::max_timeout_ms));
    else if (flag == "--write-timeout-ms") options.write_timeout = std::chrono::milliseconds(flag_integer<long>(value, flag, 1, limits::max_timeout_ms));
    else if (flag == "--idle-timeout-ms") options.idle_timeout = std::chrono::milliseconds(flag_integer<long>(value, flag, 1, limits::max_timeout_ms));
    else if (flag == "--state-dir") options.state_dir = value;
    else if (flag == "--client-id") options.client_id = value;
    else if (flag == "--client-secret-file") {
      std::ifstream in(value);
      if (!in) throw std::invalid_argument(fmt::format("cannot read client secret file '{}'", value));
      std::getline(in, options.client_secret);
      if (options.client_secret.empty()) throw std::invalid_argument("the client secret file is empty");
    } else if (flag == "--no-seed-grant") options.seed_grant = false;
    else if (flag == "--token-ttl") options.access_token_ttl_seconds = flag_integer<int>(value, flag, 1, limits::max_token_ttl_seconds);
    else if (flag == "--download-url-ttl") options.download_url_ttl_seconds = flag_integer<int>(value, flag, 1, limits::max_download_url_ttl_seconds);
    else if (flag == "--refresh-token-reply") options.refresh_reply = parse_refresh_token_reply(value);
    else if (flag == "--shape") options.shape = parse_response_shape(value);
    else if (flag == "--time-scale") options.time_scale = checked_real(std::string_view(value), flag, limits::min_time_scale, limits::max_time_scale);
    else if (flag == "--seed") options.seed = flag_integer<std::uint64_t>(value, flag, 0, limits::max_seed);
    else if (flag == "--max-active") options.max_active_per_instance = flag_integer<int>(value, flag, 0, limits::max_per_instance);
    else if (flag == "--adhoc-per-day") options.adhoc_per_day = flag_integer<int>(value, flag, 0, limits::max_per_instance);
    else if (flag == "--pending") options.default_scenario.pending_seconds = parse_duration_seconds(value);
    else if (flag == "--running") options.default_scenario.running_seconds = parse_duration_seconds(value);
    else if (flag == "--publishing") options.default_scenario.publishing_seconds = parse_duration_seconds(value);
    else if (flag == "--fault") {
      options.faults.push_back(parse_fault_rule(parse_bounded_json(value, "--fault")));
    } else if (flag == "--request-log-size") options.request_log_capacity = flag_integer<std::size_t>(value, flag, 0, limits::max_request_log);
    else if (flag == "--log-requests") options.log_to_stderr = true;
    else throw std::invalid_argument(fmt::format("unknown option '{}' (see --help)", flag));
  }
  return true;
}

}  // namespace amc::sandbox
