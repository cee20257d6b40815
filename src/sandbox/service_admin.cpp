// The admin API under /_sandbox/: health, stats, the request log, reset,
// settings, faults, scenarios, grants, consent codes, bulk executions and
// the clock. One row of the route table per method and path.
#include "sandbox/service_handlers.hpp"

#include "common/time.hpp"
#include "sandbox/files.hpp"
#include "sandbox/input_limits.hpp"
#include "sandbox/service_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace amc::sandbox::admin_handlers {

using nlohmann::json;
using http::status;
using http::verb;

namespace {

// One admin request, as a handler gets it.
struct admin_call {
  sandbox_state& state;
  const http_request& request;
  const json& body;        // null unless POST, PUT or PATCH ({} when empty)
  std::string_view query;  // without the '?'
  std::string_view tail;   // what the pattern's trailing {…} matched
};

// A handler answers or throws (std::exception: 400 with its text).
using admin_handler = http_response (*)(const admin_call& call);

http_response ok(const admin_call& call, const json& body) {
  return detail::make_json(call.request, status::ok, body);
}

http_response health(const admin_call& call) {
  return ok(call, {{"status", "ok"}, {"time", detail::format_time(call.state.now())}});
}

http_response stats(const admin_call& call) {
  const sandbox_state& state = call.state;
  json by_operation = json::object();
  for (std::size_t i = 1; i < operation_count; ++i) {
    if (state.traffic.by_operation[i] > 0) {
      by_operation[std::string(operation_name(static_cast<operation>(i)))] = state.traffic.by_operation[i];
    }
  }
  if (state.traffic.dry_runs > 0) by_operation[std::string(dry_run_log_operation)] = state.traffic.dry_runs;
  json by_status = json::object();
  for (const auto& [code, count] : state.traffic.by_status) by_status[std::to_string(code)] = count;
  json faults = json::object();
  std::uint64_t faults_total = 0;
  for (std::size_t i = 0; i < fault_kind_count; ++i) {
    faults[std::string(to_string(static_cast<fault_kind>(i)))] = state.faults.fired_by_kind[i];
    faults_total += state.faults.fired_by_kind[i];
  }
  std::size_t executions = 0, workflows = 0;
  for (const auto& [id, instance] : state.instances) {
    executions += instance.executions.size();
    workflows += instance.workflows.size();
  }
  return ok(call, {{"requests", state.traffic.requests},
                   {"by_operation", by_operation},
                   {"by_status", by_status},
                   {"faults", faults},
                   {"faults_total", faults_total},
                   {"executions", executions},
                   {"workflows", workflows},
                   {"grants", state.lwa.grants_by_id.size()},
                   {"access_tokens", state.lwa.access_tokens.size()}});
}

http_response list_requests(const admin_call& call) {
  const auto& log = call.state.traffic.log;
  auto params = detail::parse_parameters(call.query);
  std::size_t limit = log.size();
  if (auto* value = detail::find_parameter(params, "limit")) {
    limit = std::min(limit, static_cast<std::size_t>(
                                checked_integer(std::string_view(*value), "limit", 0, limits::max_request_log)));
  }
  json list = json::array();
  for (std::size_t i = log.size() - limit; i < log.size(); ++i) {
    const auto& entry = log[i];
    // `time` keeps its whole-second format for existing readers; `time_ms`
    // (milliseconds since the epoch, sandbox clock) lets a test measure
    // gaps such as a client's Retry-After wait to the millisecond.
    json item = {{"time", detail::format_time(entry.time)},
                 {"time_ms", static_cast<std::int64_t>(std::floor(entry.time * 1000.0))},
                 {"method", entry.method},
                 {"path", entry.path},
                 {"status", entry.status},
                 {"operation", entry.operation},
                 {"duration_ms", entry.duration_ms}};
    if (!entry.fault.empty()) item["fault"] = entry.fault;
    // A dry run creates no execution: a reader of the log tells it apart.
    if (entry.dry_run) item["dry_run"] = true;
    list.push_back(std::move(item));
  }
  return ok(call, {{"requests", list}});
}

http_response clear_requests(const admin_call& call) {
  call.state.traffic.log.clear();
  return ok(call, json::object());
}

http_response reset(const admin_call& call) {
  call.state.reset();
  return ok(call, json::object());
}

http_response get_settings(const admin_call& call) {
  const sandbox_options& options = call.state.options;
  return ok(call, {{"response_shape", to_string(options.shape)},
                   {"time_scale", options.time_scale},
                   {"seed", options.seed},
                   {"access_token_ttl_seconds", options.access_token_ttl_seconds},
                   {"consent_code_ttl_seconds", options.consent_code_ttl_seconds},
                   {"download_url_ttl_seconds", options.download_url_ttl_seconds},
                   {"refresh_token_reply", to_string(options.refresh_reply)},
                   {"max_active_per_instance", options.max_active_per_instance},
                   {"adhoc_executions_per_day", options.adhoc_per_day},
                   {"accounts_page_size", options.accounts_page_size},
                   {"data_sources_page_size", options.data_sources_page_size},
                   {"adhoc_limit_answer", options.adhoc_limit_answer},
                   {"clock_offset_seconds", call.state.clock.offset_seconds},
                   {"client_id", options.client_id}});
}

http_response change_settings(const admin_call& call) {
  const auto& known = settings_names();
  for (const auto& [key, value] : call.body.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw std::invalid_argument("unknown setting '" + key + "'");
    }
  }
  sandbox_options updated = call.state.options;
  apply_settings_json(updated, call.body);
  // Existing executions keep the time scale they were created with.
  call.state.options = std::move(updated);
  call.state.forget_rendered_statuses();
  return ok(call, json::object());
}

http_response list_faults(const admin_call& call) {
  json list = json::array();
  for (const auto& rule : call.state.faults.rules) list.push_back(fault_rule_to_json(rule));
  return ok(call, {{"faults", list}});
}

// A rule or {"faults": [...]}; all are checked before any is added.
http_response add_faults(const admin_call& call) {
  json ids = json::array();
  const json& rules = call.body.contains("faults") ? call.body.at("faults") : json::array({call.body});
  std::vector<fault_rule> parsed;
  for (const auto& item : rules) parsed.push_back(parse_fault_rule(item));
  for (auto& rule : parsed) ids.push_back(call.state.faults.add(std::move(rule)));
  return ok(call, {{"ids", ids}, {"id", ids.back()}});
}

http_response clear_faults(const admin_call& call) {
  call.state.faults.rules.clear();
  return ok(call, json::object());
}

http_response remove_fault(const admin_call& call) {
  const auto id = static_cast<std::uint64_t>(
      checked_integer(call.tail, "fault id", 1, std::numeric_limits<std::int64_t>::max()));
  auto& rules = call.state.faults.rules;
  auto it = std::find_if(rules.begin(), rules.end(), [&](const fault_rule& rule) { return rule.id == id; });
  if (it == rules.end()) return detail::amc_error(call.request, status::not_found, "No such fault rule.");
  rules.erase(it);
  return ok(call, json::object());
}

http_response list_scenarios(const admin_call& call) {
  const sandbox_options& options = call.state.options;
  json list = json::array();
  for (const auto& item : options.scenarios) list.push_back(scenario_to_json(item));
  return ok(call, {{"default", scenario_to_json(options.default_scenario)}, {"scenarios", list}});
}

// PUT replaces the set: {"default": …, "scenarios": […]}.
http_response replace_scenarios(const admin_call& call) {
  sandbox_options& options = call.state.options;
  scenario base = call.body.contains("default") ? parse_scenario(call.body.at("default"), scenario{})
                                                : options.default_scenario;
  std::vector<scenario> list;
  if (call.body.contains("scenarios")) {
    for (const auto& item : call.body.at("scenarios")) list.push_back(parse_scenario(item, base));
  }
  options.default_scenario = base;
  options.scenarios = std::move(list);
  return ok(call, json::object());
}

// POST adds one, first in order.
http_response add_scenario(const admin_call& call) {
  sandbox_options& options = call.state.options;
  options.scenarios.insert(options.scenarios.begin(), parse_scenario(call.body, options.default_scenario));
  return ok(call, json::object());
}

http_response list_grants(const admin_call& call) {
  json list = json::array();
  for (const auto& [id, grant] : call.state.lwa.grants_by_id) {
    list.push_back({{"grant_id", id}, {"client_id", grant.client_id}, {"scope", grant.scope},
                    {"revoked", grant.revoked}, {"created", detail::format_time(grant.created)}});
  }
  return ok(call, {{"grants", list}});
}

http_response add_grant(const admin_call& call) {
  sandbox_state& state = call.state;
  const grant_record& grant =
      state.lwa.add_grant({"grant-" + random_token(9), call.body.value("client_id", state.options.client_id),
                           "Atzr|" + random_token(96), call.body.value("scope", "advertising::campaign_management"),
                           false, state.now()});
  return ok(call, {{"grant_id", grant.id}, {"refresh_token", grant.refresh_token}, {"client_id", grant.client_id}});
}

http_response revoke_grants(const admin_call& call) {
  auto& lwa = call.state.lwa;
  std::size_t revoked = 0;
  auto revoke = [&](grant_record& grant) {
    if (!grant.revoked) ++revoked;
    grant.revoked = true;
  };
  if (call.body.value("all", false)) {
    for (auto& [id, grant] : lwa.grants_by_id) revoke(grant);
  } else if (call.body.contains("grant_id")) {
    auto it = lwa.grants_by_id.find(call.body.at("grant_id").get<std::string>());
    if (it != lwa.grants_by_id.end()) revoke(it->second);
  } else if (call.body.contains("refresh_token")) {
    auto it = lwa.grant_id_by_refresh_token.find(call.body.at("refresh_token").get<std::string>());
    if (it != lwa.grant_id_by_refresh_token.end()) revoke(lwa.grants_by_id.at(it->second));
  } else {
    throw std::invalid_argument("give grant_id, refresh_token or \"all\": true");
  }
  return ok(call, {{"revoked", revoked}});
}

http_response delete_grant(const admin_call& call) {
  auto it = call.state.lwa.grants_by_id.find(std::string(call.tail));
  if (it == call.state.lwa.grants_by_id.end()) {
    return detail::amc_error(call.request, status::not_found, "No such grant.");
  }
  it->second.revoked = true;
  return ok(call, {{"revoked", 1}});
}

http_response add_consent_code(const admin_call& call) {
  sandbox_state& state = call.state;
  if (!call.body.contains("redirect_uri") || !call.body.at("redirect_uri").is_string()) {
    throw std::invalid_argument("redirect_uri is required (the token request must repeat it)");
  }
  std::string code = "ANsandbox" + random_token(24);
  state.lwa.consent_codes[code] = {call.body.value("client_id", state.options.client_id),
                                   call.body.at("redirect_uri").get<std::string>(),
                                   call.body.value("scope", "advertising::campaign_management"),
                                   state.now() + state.options.consent_code_ttl_seconds};
  return ok(call, {{"code", code}, {"expires_in", state.options.consent_code_ttl_seconds}});
}

http_response add_executions_in_bulk(const admin_call& call) {
  return ok(call, execution_handlers::create_in_bulk(call.state, call.body));
}

// {"workflow_id", "instance_id" (default: the first instance), "request"
// (more CreateWorkflowExecutionRequest fields)}: a run of a saved workflow
// as AMC's scheduler starts one -> {"instance_id", "execution"}.
http_response start_scheduled_run(const admin_call& call) {
  for (const auto& [key, value] : call.body.items())
    if (key != "workflow_id" && key != "instance_id" && key != "request")
      throw std::invalid_argument("unknown field '" + key + "'; known: workflow_id, instance_id, request");
  if (!call.body.contains("workflow_id") || !call.body.at("workflow_id").is_string())
    throw std::invalid_argument("workflow_id (a string: a saved workflow of the instance) is required");
  std::string instance_id = call.state.options.instances.front().instance_id;
  if (call.body.contains("instance_id")) {
    if (!call.body.at("instance_id").is_string()) throw std::invalid_argument("instance_id must be a string");
    instance_id = call.body.at("instance_id").get<std::string>();
  }
  auto found = call.state.instances.find(instance_id);
  if (found == call.state.instances.end()) throw std::invalid_argument("no instance '" + instance_id + "'");
  const json request = call.body.contains("request") ? call.body.at("request") : json::object();
  return ok(call, {{"instance_id", instance_id},
                   {"execution", execution_handlers::start_scheduled_run(
                                     call.state, found->second, call.body.at("workflow_id").get<std::string>(),
                                     request)}});
}

// {"time": "2026-03-10T06:00:00Z", "frozen": true}: the sandbox clock reads
// `time` now; frozen, it stays there until advanced or set again (tests of
// day and month boundaries need a clock that cannot cross one).
http_response set_clock(const admin_call& call) {
  sandbox_state& state = call.state;
  if (!call.body.contains("time") || !call.body.at("time").is_string()) {
    throw std::invalid_argument("time is required, as yyyy-MM-dd'T'HH:mm:ss'Z'");
  }
  const auto target = parse_utc(call.body.at("time").get<std::string>());
  if (!target) throw std::invalid_argument("time must have the format yyyy-MM-dd'T'HH:mm:ss'Z'");
  if (call.body.value("frozen", false)) {
    state.clock.frozen = static_cast<double>(*target);
    state.clock.offset_seconds = 0;
  } else {
    state.clock = {};
    state.clock.offset_seconds = static_cast<double>(*target) - state.now();
  }
  state.forget_rendered_statuses();
  return ok(call, {{"clock_offset_seconds", state.clock.offset_seconds},
                   {"frozen", state.clock.frozen.has_value()},
                   {"time", detail::format_time(state.now())}});
}

http_response advance_clock(const admin_call& call) {
  sandbox_state& state = call.state;
  if (!call.body.contains("seconds")) throw std::invalid_argument("seconds is required");
  state.clock.offset_seconds += checked_real(call.body.at("seconds"), "seconds", -limits::max_clock_jump_seconds,
                                             limits::max_clock_jump_seconds);
  state.forget_rendered_statuses();
  return ok(call, {{"clock_offset_seconds", state.clock.offset_seconds}, {"time", detail::format_time(state.now())}});
}

struct admin_route {
  verb method;
  // The path after /_sandbox/. A trailing "{…}" matches the rest of the
  // path, whatever it is (the handler checks it).
  std::string_view pattern;
  admin_handler handler;
};

constexpr admin_route admin_routes[] = {
    {verb::get, "health", health},
    {verb::get, "stats", stats},
    {verb::get, "requests", list_requests},
    {verb::delete_, "requests", clear_requests},
    {verb::post, "reset", reset},
    {verb::get, "settings", get_settings},
    {verb::put, "settings", change_settings},
    {verb::patch, "settings", change_settings},
    {verb::post, "settings", change_settings},
    {verb::get, "faults", list_faults},
    {verb::post, "faults", add_faults},
    {verb::delete_, "faults", clear_faults},
    {verb::delete_, "faults/{id}", remove_fault},
    {verb::get, "scenarios", list_scenarios},
    {verb::put, "scenarios", replace_scenarios},
    {verb::post, "scenarios", add_scenario},
    {verb::get, "grants", list_grants},
    {verb::post, "grants", add_grant},
    {verb::post, "grants/revoke", revoke_grants},
    {verb::delete_, "grants/{id}", delete_grant},
    {verb::post, "consent-codes", add_consent_code},
    {verb::post, "executions/bulk", add_executions_in_bulk},
    {verb::post, "executions/scheduled", start_scheduled_run},
    {verb::post, "clock/set", set_clock},
    {verb::post, "clock/advance", advance_clock},
};

// Whether `rest` matches `pattern`; `tail` gets what a trailing {…} matched.
bool matches(std::string_view pattern, std::string_view rest, std::string_view& tail) {
  if (pattern.ends_with('}')) {
    const std::string_view prefix = pattern.substr(0, pattern.rfind('{'));
    if (!rest.starts_with(prefix)) return false;
    tail = rest.substr(prefix.size());
    return true;
  }
  return rest == pattern;
}

}  // namespace

reply handle(sandbox_state& state, const http_request& request, std::string_view path, std::string_view query) {
  reply out;
  const auto method = request.method();
  const std::string_view rest = path.substr(std::min<std::size_t>(path.size(), 10));  // after "/_sandbox/"
  auto bad = [&](std::string_view details) { return detail::amc_error(request, status::bad_request, details); };
  json body;
  if (method == verb::post || method == verb::put || method == verb::patch) {
    try {
      body = request.body().empty() ? json::object() : parse_bounded_json(request.body(), "The admin request body");
    } catch (const std::invalid_argument& error) {
      out.message = bad(fmt::format("{}.", error.what()));
      return out;
    }
  }
  for (const admin_route& route : admin_routes) {
    std::string_view tail;
    if (route.method != method || !matches(route.pattern, rest, tail)) continue;
    try {
      out.message = route.handler({state, request, body, query, tail});
    } catch (const std::exception& error) {
      out.message = bad(error.what());
    }
    return out;
  }
  const std::string_view method_name(request.method_string());
  out.message =
      detail::amc_error(request, status::not_found, fmt::format("No admin operation {} {}", method_name, path));
  return out;
}

}  // namespace amc::sandbox::admin_handlers
