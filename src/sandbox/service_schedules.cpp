// An instance's schedules: create, list, get, update (the whole definition)
// and delete, following the spec's createSchedule … deleteSchedule
// (tests/data/specs), and the runs they start on the sandbox clock. A
// schedule runs its workflow every day (aggregationPeriod Daily) or every
// week on aggregationStartDay (Weekly), at aggregationHourUtc, in simulated
// time: the cadence counts from the schedule's creation (or last update) and
// passes --time-scale times faster than the sandbox clock, like executions.
#include "sandbox/service_handlers.hpp"

#include "sandbox/paging.hpp"
#include "sandbox/service_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace amc::sandbox::schedule_handlers {

using nlohmann::json;
using http::status;

namespace {

constexpr double day_seconds = 86400;
constexpr double week_seconds = 7 * day_seconds;
// A clock moved far ahead starts at most this many overdue runs of one
// schedule (the latest ones); AMC does not backfill either.
constexpr int max_overdue_runs = 100;

// The spec's aggregationStartDay values, as days since Sunday.
constexpr std::array<std::string_view, 7> week_days = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

int day_index(std::string_view day) {
  const auto found = std::find(week_days.begin(), week_days.end(), day);
  return found == week_days.end() ? -1 : static_cast<int>(found - week_days.begin());
}

// 1970-01-01 was a Thursday.
int day_of_week(double unix_seconds) {
  const auto days = static_cast<long long>(std::floor(unix_seconds / day_seconds));
  return static_cast<int>(((days + 4) % 7 + 7) % 7);
}

// The sandbox time of the schedule's first run after sandbox time `after`.
// Simulated time runs `scale` times faster from `anchor`: a run is due at
// each simulated time that is aggregationHourUtc o'clock UTC (Daily), on
// aggregationStartDay too (Weekly).
double next_run_after(const json& schedule, double anchor, double after, double scale) {
  const bool weekly = schedule.value("aggregationPeriod", "Daily") == "Weekly";
  const double period = weekly ? week_seconds : day_seconds;
  double offset = 3600.0 * schedule.value("aggregationHourUtc", 0);
  if (weekly) offset += day_seconds * ((day_index(schedule.value("aggregationStartDay", "Thursday")) - 4 + 7) % 7);
  const double simulated_after = anchor + (after - anchor) * scale;
  double due = offset + period * (std::floor((simulated_after - offset) / period) + 1);
  double at = anchor + (due - anchor) / scale;
  // Rounding of the scaled times must never give `after` (or earlier) back:
  // the caller loops until the next run lies ahead.
  while (at <= after) {
    due += period;
    at = anchor + (due - anchor) / scale;
  }
  return at;
}

void plan_next_run(sandbox_state& state, schedule_record& schedule, double now) {
  schedule.anchor = now;
  schedule.next_run = schedule.definition.value("scheduleEnabled", true)
                          ? next_run_after(schedule.definition, now, now, state.options.time_scale)
                          : 0;
}

// Checks a Schedule body (createSchedule's also takes marketplaceId);
// returns the answer to refuse it with, or nullopt. The stored definition is
// `body` with AMC's defaults filled in.
std::optional<http_response> check_schedule_body(const http_request& request, json& body,
                                                 const instance_state& instance, double now) {
  const auto media = detail::schedules_media_type;
  auto bad = [&](std::string_view details) { return detail::amc_error(request, status::bad_request, details, media); };
  if (!body.is_object()) return bad("The request body must be a JSON Schedule object.");
  if (!body.contains("scheduleId") || !body.at("scheduleId").is_string()) return bad("scheduleId is required.");
  const auto& id = body.at("scheduleId").get_ref<const std::string&>();
  if (!detail::is_valid_workflow_id(id))
    return bad(fmt::format("Invalid scheduleId '{}': use only letters, digits, periods, dashes and underscores.", id));
  if (!body.contains("workflowId") || !body.at("workflowId").is_string()) return bad("workflowId is required.");
  const auto& workflow_id = body.at("workflowId").get_ref<const std::string&>();
  if (!instance.workflows.contains(workflow_id))
    return detail::amc_error(request, status::unprocessable_entity,
                             fmt::format("Workflow with ID {} not found.", workflow_id), media);
  const json* period = body.contains("aggregationPeriod") ? &body.at("aggregationPeriod") : nullptr;
  if (period == nullptr || !period->is_string() || (*period != "Daily" && *period != "Weekly"))
    return bad("aggregationPeriod is required: Daily or Weekly.");
  if (body.contains("aggregationHourUtc")) {
    const json& hour = body.at("aggregationHourUtc");
    if (!hour.is_number_integer() || hour.get<long long>() < 0 || hour.get<long long>() > 23)
      return bad("aggregationHourUtc must be a whole number of hours from 0 to 23.");
  }
  if (body.contains("aggregationStartDay") &&
      (!body.at("aggregationStartDay").is_string() ||
       day_index(body.at("aggregationStartDay").get_ref<const std::string&>()) < 0))
    return bad("aggregationStartDay must be a day of the week: Monday, Tuesday, … Sunday.");
  for (const char* flag : {"scheduleEnabled", "requireSyntheticData", "disableAggregationControls"})
    if (body.contains(flag) && !body.at(flag).is_boolean()) return bad(fmt::format("{} must be true or false.", flag));
  if (body.contains("marketplaceId") && !body.at("marketplaceId").is_string())
    return bad("marketplaceId must be a string.");
  // The request's marketplaceId is not part of the Schedule AMC keeps.
  body.erase("marketplaceId");
  if (!body.contains("aggregationHourUtc")) body["aggregationHourUtc"] = 0;
  if (!body.contains("scheduleEnabled")) body["scheduleEnabled"] = true;
  if (*period == "Weekly" && !body.contains("aggregationStartDay"))
    body["aggregationStartDay"] = week_days.at(static_cast<std::size_t>(day_of_week(now)));
  return std::nullopt;
}

http_response schedule_not_found(const http_request& request, std::string_view schedule_id) {
  return detail::amc_error(request, status::not_found, fmt::format("Schedule with ID {} not found.", schedule_id),
                           detail::schedules_media_type);
}

}  // namespace

std::vector<std::string> schedules_using(const instance_state& instance, std::string_view workflow_id) {
  std::vector<std::string> ids;
  for (const auto& [id, schedule] : instance.schedules)
    if (schedule.definition.value("workflowId", "") == workflow_id) ids.push_back(id);
  return ids;
}

void start_due_runs(sandbox_state& state, instance_state& instance, double now) {
  for (auto& [id, schedule] : instance.schedules) {
    if (schedule.next_run <= 0 || schedule.next_run > now) continue;
    const double scale = state.options.time_scale;
    // Runs due more than max_overdue_runs periods ago are skipped.
    const double period = (schedule.definition.value("aggregationPeriod", "Daily") == "Weekly" ? week_seconds
                                                                                              : day_seconds) /
                          scale;
    if (now - schedule.next_run > period * max_overdue_runs)
      schedule.next_run = next_run_after(schedule.definition, schedule.anchor, now - period * max_overdue_runs, scale);
    const execution_handlers::scheduled_run_origin origin{id, schedule.definition.value("aggregationPeriod", "Daily")};
    const std::string workflow_id = schedule.definition.value("workflowId", "");
    while (schedule.next_run > 0 && schedule.next_run <= now) {
      try {
        execution_handlers::start_run_as_scheduler(state, instance, workflow_id, schedule.next_run, origin);
      } catch (const std::invalid_argument&) {
        // Its workflow cannot start (unreadable SQL markers): AMC would
        // fail that run; the schedule goes on.
      }
      schedule.next_run = next_run_after(schedule.definition, schedule.anchor, schedule.next_run, scale);
    }
  }
}

http_response list(sandbox_state&, const http_request& request, instance_state& instance, std::string_view query) {
  const auto media = detail::schedules_media_type;
  detail::page_request page = detail::read_page(detail::parse_parameters(query), detail::page_limit);
  if (!page.error.empty()) return detail::amc_error(request, status::bad_request, page.error, media);
  std::vector<const schedule_record*> ordered;
  for (const auto& [id, record] : instance.schedules) ordered.push_back(&record);
  std::sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->sequence < b->sequence; });
  json list = json::array();
  for (std::size_t i = page.offset; i < ordered.size() && i < page.offset + page.limit; ++i)
    list.push_back(ordered[i]->definition);
  json body = {{"schedules", list}};
  if (page.offset + page.limit < ordered.size()) body["nextToken"] = detail::encode_page_token(page.offset + page.limit);
  return detail::make_json(request, status::ok, body, media);
}

http_response create(sandbox_state& state, const http_request& request, instance_state& instance) {
  const auto media = detail::schedules_media_type;
  json body = json::parse(request.body(), nullptr, false);
  const double now = state.now();
  if (auto refused = check_schedule_body(request, body, instance, now)) return *refused;
  const std::string id = body.at("scheduleId").get<std::string>();
  if (instance.schedules.contains(id))
    return detail::amc_error(request, status::bad_request, fmt::format("Schedule with ID {} already exists.", id),
                             media);
  schedule_record& record = instance.schedules[id];
  record.definition = std::move(body);
  record.sequence = ++state.sequence;
  plan_next_run(state, record, now);
  return detail::make_json(request, status::ok, json::object(), media);
}

http_response get(sandbox_state& state, const http_request& request, instance_state& instance,
                  std::string_view schedule_id) {
  const auto found = instance.schedules.find(schedule_id);
  if (found == instance.schedules.end()) return schedule_not_found(request, schedule_id);
  const json& definition = found->second.definition;
  return detail::make_json(request, status::ok,
                           state.options.shape == response_shape::wrapped ? json{{"schedule", definition}} : definition,
                           detail::schedules_media_type);
}

http_response update(sandbox_state& state, const http_request& request, instance_state& instance,
                     std::string_view schedule_id) {
  const auto media = detail::schedules_media_type;
  json body = json::parse(request.body(), nullptr, false);
  // The path names the schedule; a body without scheduleId means that one.
  if (body.is_object() && !body.contains("scheduleId")) body["scheduleId"] = schedule_id;
  const auto found = instance.schedules.find(schedule_id);
  if (found == instance.schedules.end()) return schedule_not_found(request, schedule_id);
  const double now = state.now();
  if (auto refused = check_schedule_body(request, body, instance, now)) return *refused;
  if (body.at("scheduleId").get_ref<const std::string&>() != schedule_id)
    return detail::amc_error(request, status::bad_request,
                             "The scheduleId in the body must match the scheduleId in the path.", media);
  found->second.definition = std::move(body);  // PUT replaces the whole definition
  plan_next_run(state, found->second, now);
  return detail::make_json(request, status::ok, json::object(), media);
}

http_response remove(sandbox_state&, const http_request& request, instance_state& instance,
                     std::string_view schedule_id) {
  const auto found = instance.schedules.find(schedule_id);
  if (found == instance.schedules.end()) return schedule_not_found(request, schedule_id);
  instance.schedules.erase(found);
  return detail::make_json(request, status::ok, json::object(), detail::schedules_media_type);
}

}  // namespace amc::sandbox::schedule_handlers
