// An instance's workflow executions: create (quota and concurrency
// checked), list, get (the poll hot path, rendered once per phase), cancel,
// and the admin API's bulk create, following shared/specs and
// shared/amc-api.md. Status comes from execution_model on every read.
#include "sandbox/service_handlers.hpp"

#include "sandbox/data_sources.hpp"
#include "sandbox/input_limits.hpp"
#include "sandbox/paging.hpp"
#include "sandbox/service_detail.hpp"

#include "common/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cctype>
#include <stdexcept>
#include <variant>
#include <vector>

namespace amc::sandbox::execution_handlers {

using nlohmann::json;
using http::status;

namespace {

bool parameter_is_true(const detail::parameters& params, std::string_view name) {
  const std::string* value = detail::find_parameter(params, name);
  return value && (*value == "true" || *value == "True" || *value == "TRUE" || *value == "1");
}

json execution_json(const execution_record& record, const execution_status& current, bool include_workflow) {
  json out = record.request.echoed;
  out["workflowExecutionId"] = record.id;
  out["workflowId"] = record.request.workflow_id;
  out["status"] = current.phase == execution_phase::unlisted ? std::string_view(record.plan.unlisted_status)
                                                              : to_string(current.phase);
  out["createTime"] = detail::format_time(record.timing.created);
  out["lastUpdatedTime"] = detail::format_time(current.since);
  out["expireTime"] = detail::format_time(record.timing.created + static_cast<double>(record.timing.timeout_seconds));
  out["workflowExecutionTimeoutSeconds"] = record.timing.timeout_seconds;
  if (record.request.ad_hoc) out["executionCategory"] = "AD_HOC";
  // AMC's docs show only AD_HOC; SCHEDULED for its scheduler's runs is our
  // assumption (src/sandbox/README.md, "Schedules").
  if (!record.schedule_period.empty()) out["executionCategory"] = std::string(scheduled_execution_category);
  if (!current.reason.empty()) out["statusReason"] = current.reason;
  std::string_view channel_status = "PENDING";
  switch (current.phase) {
    case execution_phase::succeeded: channel_status = record.timing.dry_run ? "UNAVAILABLE" : "AVAILABLE"; break;
    case execution_phase::failed: channel_status = "FAILED"; break;
    case execution_phase::cancelled:
    case execution_phase::rejected: channel_status = "UNAVAILABLE"; break;
    default: break;
  }
  json channel = {{"channel", {{"type", "DOWNLOAD"}}}, {"status", channel_status}};
  if (current.phase == execution_phase::failed) channel["statusReason"] = current.reason;
  out["outputChannels"] = json::array({channel});
  if (current.phase == execution_phase::succeeded && !record.timing.dry_run) {
    // AMC's bucket layout: schedule=adhoc, daily or weekly (amc-api.md 4.5).
    std::string folder = record.schedule_period.empty() ? std::string("adhoc") : record.schedule_period;
    std::transform(folder.begin(), folder.end(), folder.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out["outputS3URI"] = fmt::format("s3://amc-{}/workflow={}/schedule={}/{}-{}.csv", record.instance_id,
                                     record.request.workflow_id, folder,
                                     detail::format_time(record.timing.created).substr(0, 10), record.id);
  }
  if (include_workflow) out["sqlQuery"] = record.request.sql;
  return out;
}

// Stores a new execution (id, seed, timing at `current`) of a checked
// request and its plan. Quota and concurrency are the caller's business.
execution_record& add_execution(sandbox_state& state, instance_state& instance, checked_execution_request accepted,
                                execution_plan plan, double current) {
  auto record = std::make_unique<execution_record>();
  record->instance_id = instance.seed.instance_id;
  record->request = std::move(accepted);
  record->plan = std::move(plan);
  record->id = state.next_uuid();
  if (record->request.workflow_id.empty()) record->request.workflow_id = "transient_" + state.next_uuid();
  record->data_seed = state.random();
  record->sequence = ++state.sequence;
  record->timing = {current, state.options.time_scale, record->request.timeout_seconds, record->request.dry_run,
                    std::nullopt};
  instance.executions_by_id[record->id] = record.get();
  instance.executions.push_back(std::move(record));
  return *instance.executions.back();
}

}  // namespace

execution_record& start_run_as_scheduler(sandbox_state& state, instance_state& instance, std::string_view workflow_id,
                                         double at, const scheduled_run_origin& origin, const json& request) {
  // The request AMC's scheduler makes for the workflow: its period's window,
  // unless the caller's further fields say otherwise.
  if (!request.is_object()) throw std::invalid_argument("request must be a CreateWorkflowExecutionRequest object");
  if (request.contains("workflowId") || request.contains("workflow"))
    throw std::invalid_argument("request must not name the workflow: a scheduled run runs the saved workflow");
  json body = request;
  body["workflowId"] = std::string(workflow_id);
  if (!body.contains("timeWindowType"))
    body["timeWindowType"] = origin.period == "Weekly" ? "MOST_RECENT_WEEK" : "MOST_RECENT_DAY";
  auto checked = check_execution_request(body, at, [&](std::string_view id) -> const json* {
    auto found = instance.workflows.find(id);
    return found == instance.workflows.end() ? nullptr : &found->second.definition;
  });
  if (auto* refused = std::get_if<execution_request_error>(&checked)) throw std::invalid_argument(refused->details);
  auto& accepted = std::get<checked_execution_request>(checked);
  execution_plan plan =
      plan_execution(accepted.workflow_id, accepted.sql, state.options.default_scenario, state.options.scenarios);
  execution_record& record = add_execution(state, instance, std::move(accepted), std::move(plan), at);
  record.schedule_id = origin.schedule_id;
  record.schedule_period = origin.period.empty() ? std::string("Daily") : origin.period;
  // A run that fell due while nobody asked is started late: keep the list
  // in creation-time order (the list endpoint reads it that way).
  auto& all = instance.executions;
  const auto place = std::upper_bound(all.begin(), all.end() - 1, at,
                                      [](double time, const auto& other) { return time < other->timing.created; });
  std::rotate(place, all.end() - 1, all.end());
  return record;
}

http_response not_found(const http_request& request, std::string_view execution_id) {
  return detail::amc_error(request, status::not_found,
                           fmt::format("Workflow execution with ID {} not found.", execution_id),
                           detail::executions_media_type);
}

json create_in_bulk(sandbox_state& state, const json& body) {
  static const std::vector<std::string> known = {"instance_id", "count", "request", "scenario"};
  for (const auto& [key, value] : body.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw std::invalid_argument("unknown bulk execution field '" + key + "'");
    }
  }
  std::string instance_id = state.options.instances.front().instance_id;
  if (body.contains("instance_id")) {
    if (!body.at("instance_id").is_string()) throw std::invalid_argument("instance_id must be a string");
    instance_id = body.at("instance_id").get<std::string>();
  }
  auto found = state.instances.find(instance_id);
  if (found == state.instances.end()) throw std::invalid_argument("no instance '" + instance_id + "'");
  instance_state& instance = found->second;
  const auto count = checked_integer(body.value("count", json(1)), "count", 1, max_bulk_executions);
  const json request = body.contains("request") ? body.at("request")
                                                : json{{"workflow", {{"sqlQuery", "SELECT 1 -- sandbox bulk"}}}};
  // The same checks and plan as POST workflowExecutions, once for all.
  const double current = state.now();
  auto checked = check_execution_request(request, current, [&](std::string_view id) -> const json* {
    auto workflow = instance.workflows.find(id);
    return workflow == instance.workflows.end() ? nullptr : &workflow->second.definition;
  });
  if (auto* refused = std::get_if<execution_request_error>(&checked)) {
    throw std::invalid_argument("request: " + refused->details);
  }
  const auto& accepted = std::get<checked_execution_request>(checked);
  const scenario base = body.contains("scenario") ? parse_scenario(body.at("scenario"), state.options.default_scenario)
                                                  : state.options.default_scenario;
  const std::vector<scenario> no_scenarios;
  const execution_plan plan = plan_execution(accepted.workflow_id, accepted.sql, base,
                                             body.contains("scenario") ? no_scenarios : state.options.scenarios);
  json ids = json::array();
  for (std::int64_t i = 0; i < count; ++i) ids.push_back(add_execution(state, instance, accepted, plan, current).id);
  return {{"instance_id", instance_id}, {"ids", std::move(ids)}};
}

json start_scheduled_run(sandbox_state& state, instance_state& instance, std::string_view workflow_id,
                         const json& request) {
  const double current = state.now();
  const execution_record& record = start_run_as_scheduler(state, instance, workflow_id, current, {}, request);
  return execution_json(record, status_at(record.plan, record.timing, current), false);
}

http_response create(sandbox_state& state, const http_request& request, instance_state& instance) {
  const auto media = detail::executions_media_type;
  auto bad = [&](std::string_view details) { return detail::amc_error(request, status::bad_request, details, media); };
  const double current = state.now();
  const json body = json::parse(request.body(), nullptr, false);
  auto checked = check_execution_request(body, current, [&](std::string_view id) -> const json* {
    auto found = instance.workflows.find(id);
    return found == instance.workflows.end() ? nullptr : &found->second.definition;
  });
  if (auto* refused = std::get_if<execution_request_error>(&checked)) {
    return detail::amc_error(request, static_cast<http::status>(refused->status), refused->details, media);
  }
  auto& accepted = std::get<checked_execution_request>(checked);
  // A dry run compiles the SQL (AMC's spec: "processed but not submitted to
  // compute"); what does not compile is refused at once with the line, as a
  // 400 Error (our assumption: AMC does not document how it answers).
  if (accepted.dry_run) {
    if (auto problem = dry_run_compile_error(accepted.sql)) return bad(*problem);
  }
  execution_plan plan;
  try {
    plan = plan_execution(accepted.workflow_id, accepted.sql, state.options.default_scenario, state.options.scenarios);
  } catch (const std::invalid_argument& error) {
    return bad(error.what());
  }

  // Quota and concurrency, counted at the moment of the request. The ad-hoc
  // day is the UTC day (it resets at 00:00 UTC).
  if (!accepted.dry_run && plan.outcome != "REJECTED") {
    int active = 0, adhoc_today = 0;
    const double day_start = std::floor(current / 86400) * 86400;
    for (const auto& other : instance.executions) {
      const execution_status other_status = status_at(other->plan, other->timing, current);
      if (other->timing.dry_run || other_status.phase == execution_phase::rejected) continue;
      if (!is_terminal(other_status.phase)) ++active;
      if (other->request.ad_hoc && other->timing.created >= day_start) ++adhoc_today;
    }
    if (accepted.ad_hoc && adhoc_today >= state.options.adhoc_per_day) {
      const std::string reason = fmt::format(
          "Ad hoc workflow executions are limited to {} per day per instance; instance {} has reached the limit.",
          state.options.adhoc_per_day, instance.seed.instance_id);
      // AMC does not document its answer: by default a 400 Error and no
      // execution; "adhoc_limit_answer": "rejected" creates one REJECTED.
      if (state.options.adhoc_limit_answer != "rejected") return bad(reason);
      plan.outcome = "REJECTED";
      plan.reason = reason;
    } else if (active >= state.options.max_active_per_instance) {
      plan.outcome = "REJECTED";
      plan.reason = fmt::format(
          "Too many workflow executions are active on instance {} (limit {}); try again when some have finished.",
          instance.seed.instance_id, state.options.max_active_per_instance);
    }
  }

  const execution_record& record = add_execution(state, instance, std::move(accepted), std::move(plan), current);
  const execution_status initial = status_at(record.plan, record.timing, current);
  json execution = execution_json(record, initial, false);
  return detail::make_json(request, status::ok,
                           state.options.shape == response_shape::wrapped ? json{{"workflowExecution", execution}}
                                                                     : execution,
                           media);
}

http_response get(sandbox_state& state, const http_request& request, instance_state& instance,
                  std::string_view execution_id, std::string_view query, std::shared_ptr<const std::string>* wire) {
  const auto media = detail::executions_media_type;
  const execution_record* found = instance.find_execution(execution_id);
  if (!found) return execution_handlers::not_found(request, execution_id);
  const execution_record& record = *found;
  const execution_status current = status_at(record.plan, record.timing, state.now());
  const bool include_workflow = !query.empty() && parameter_is_true(detail::parse_parameters(query), "includeWorkflow");
  if (include_workflow) {
    json execution = execution_json(record, current, true);
    return detail::make_json(request, status::ok,
                             state.options.shape == response_shape::wrapped ? json{{"workflowExecution", execution}}
                                                                       : execution,
                             media);
  }
  // The poll hot path: one rendering per phase and shape.
  const int phase = static_cast<int>(current.phase);
  if (record.cached_phase != phase) {
    record.cached_phase = phase;
    record.cached_status = {};
  }
  const std::size_t shape_index = state.options.shape == response_shape::wrapped ? 1 : 0;
  auto& cached = record.cached_status[shape_index];
  if (!cached.wire) {
    json execution = execution_json(record, current, false);
    std::string body = (shape_index == 1 ? json{{"workflowExecution", execution}} : execution).dump();
    const http_response rendered = detail::make_response(11, true, status::ok, body, media);
    auto text = std::make_shared<std::string>(wire_head(rendered));
    cached.body_offset = text->size();
    *text += body;
    cached.wire = std::move(text);
  }
  if (wire != nullptr && request.version() == 11 && request.keep_alive()) {
    *wire = cached.wire;
    return http_response{status::ok, 11};
  }
  return detail::make_response(request, status::ok, cached.wire->substr(cached.body_offset), media);
}

http_response list(sandbox_state& state, const http_request& request, instance_state& instance,
                   std::string_view query) {
  const auto media = detail::executions_media_type;
  const auto params = detail::parse_parameters(query);
  const std::string* min_creation = detail::find_parameter(params, "minCreationTime");
  const std::string* max_creation = detail::find_parameter(params, "maxCreationTime");
  const std::string* workflow_id = detail::find_parameter(params, "workflowId");
  if (min_creation && min_creation->empty()) min_creation = nullptr;
  if (workflow_id && workflow_id->empty()) workflow_id = nullptr;
  if (!min_creation && !workflow_id) {
    return detail::amc_error(request, status::unprocessable_entity,
                             "Either minCreationTime or workflowId must be given.", media);
  }
  std::optional<unix_seconds> min_time, max_time;
  if (min_creation) {
    min_time = parse_utc(*min_creation);
    if (!min_time) return detail::amc_error(request, status::bad_request, "minCreationTime must have the format yyyy-MM-dd'T'HH:mm:ss.", media);
  }
  if (max_creation && !max_creation->empty()) {
    max_time = parse_utc(*max_creation);
    if (!max_time) return detail::amc_error(request, status::bad_request, "maxCreationTime must have the format yyyy-MM-dd'T'HH:mm:ss.", media);
  }
  if (workflow_id && !detail::is_valid_workflow_id(*workflow_id)) {
    return detail::amc_error(request, status::bad_request, fmt::format("Invalid workflowId '{}'.", *workflow_id), media);
  }
  detail::page_request page = detail::read_page(params, detail::page_limit);
  if (!page.error.empty()) return detail::amc_error(request, status::bad_request, page.error, media);
  const bool include_cancelled = parameter_is_true(params, "includeCancelled");
  const bool ascending = parameter_is_true(params, "sortAscending");
  const bool include_workflow = parameter_is_true(params, "includeWorkflow");
  const double current = state.now();

  struct listed {
    const execution_record* record;
    execution_status status;
  };
  std::vector<listed> matches;
  for (const auto& record : instance.executions) {
    // A dry run is "marked as complete" without being run: AMC's list does
    // not show it (our reading of the spec), so it never looks like a run.
    if (record->timing.dry_run) continue;
    const double created = record->timing.created;
    if (min_time && created < static_cast<double>(*min_time)) continue;
    if (max_time && created > static_cast<double>(*max_time)) continue;
    if (workflow_id && record->request.workflow_id != *workflow_id) continue;
    execution_status record_status = status_at(record->plan, record->timing, current);
    if (!include_cancelled && record_status.phase == execution_phase::cancelled) continue;
    matches.push_back({record.get(), record_status});
  }
  // Newest first unless sortAscending; creation order breaks ties.
  if (!ascending) std::reverse(matches.begin(), matches.end());
  json list = json::array();
  for (std::size_t i = page.offset; i < matches.size() && i < page.offset + page.limit; ++i) {
    list.push_back(execution_json(*matches[i].record, matches[i].status, include_workflow));
  }
  json body = {{"executions", list}};
  if (page.offset + page.limit < matches.size()) body["nextToken"] = detail::encode_page_token(page.offset + page.limit);
  return detail::make_json(request, status::ok, body, media);
}

http_response cancel(sandbox_state& state, const http_request& request, instance_state& instance,
                     std::string_view execution_id) {
  const auto media = detail::executions_media_type;
  json body = json::parse(request.body(), nullptr, false);
  execution_record* found = instance.find_execution(execution_id);
  if (!found) return execution_handlers::not_found(request, execution_id);
  if (!body.is_object() || body.value("status", "") != "CANCELLED") {
    return detail::amc_error(request, status::bad_request,
                             "Only {\"status\": \"CANCELLED\"} is supported on a workflow execution.", media);
  }
  execution_record& record = *found;
  const double current = state.now();
  const execution_status current_status = status_at(record.plan, record.timing, current);
  if (is_terminal(current_status.phase)) {
    return detail::amc_error(request, status::bad_request,
                             fmt::format("Workflow execution {} cannot be cancelled: its status is {}.", execution_id,
                                         current_status.phase == execution_phase::unlisted
                                             ? std::string_view(record.plan.unlisted_status)
                                             : to_string(current_status.phase)),
                             media);
  }
  record.timing.cancelled_at = current;
  record.cached_phase = -1;
  return detail::make_json(request, status::ok, json::object(), media);
}

}  // namespace amc::sandbox::execution_handlers
