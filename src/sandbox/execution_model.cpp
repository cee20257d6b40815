#include "sandbox/execution_model.hpp"

#include "sandbox/input_limits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace amc::sandbox {

namespace {

constexpr std::string_view marker_prefix = "-- sandbox:";

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

// Reads a "quoted reason" (or the rest of the line when unquoted).
std::string read_reason(std::string_view& rest) {
  rest = trim(rest);
  if (rest.empty()) return {};
  if (rest.front() == '"') {
    auto close = rest.find('"', 1);
    if (close == std::string_view::npos) throw std::invalid_argument("unterminated quoted reason in a sandbox marker");
    std::string reason(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    return reason;
  }
  std::string reason(rest);
  rest = {};
  return reason;
}

struct marker_settings {
  std::optional<std::string> scenario_name;
  std::optional<std::string> outcome;
  std::string reason;
  std::optional<double> pending, running, publishing;
  std::optional<int> parts;
  std::optional<long> rows;
  std::optional<std::string> unlisted_status;
  std::optional<double> unlisted_seconds;
};

// A status AMC might add one day: upper case, digits and '_', and not one of
// the statuses the spec, the docs or WFM already name.
void check_unlisted_status(std::string_view name) {
  static constexpr std::string_view known[] = {"PENDING", "RUNNING",  "PUBLISHING", "SUCCEEDED",
                                               "FAILED",  "CANCELLED", "REJECTED"};
  const bool well_formed = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!well_formed) {
    throw std::invalid_argument(fmt::format("sandbox marker status= needs an upper-case name like SOMETHING_NEW, got '{}'", name));
  }
  for (auto status : known) {
    if (name == status) {
      throw std::invalid_argument(fmt::format(
          "sandbox marker status={} names a known status; status= is for a status clients do not know", name));
    }
  }
}

marker_settings read_markers(std::string_view sql) {
  marker_settings settings;
  std::size_t position = 0;
  while ((position = sql.find(marker_prefix, position)) != std::string_view::npos) {
    std::size_t line_end = sql.find('\n', position);
    std::string_view rest = sql.substr(position + marker_prefix.size(),
                                       line_end == std::string_view::npos ? std::string_view::npos
                                                                          : line_end - position - marker_prefix.size());
    position = line_end == std::string_view::npos ? sql.size() : line_end;
    while (!(rest = trim(rest)).empty()) {
      std::size_t word_end = rest.find_first_of(" \t");
      std::string_view word = rest.substr(0, word_end);
      rest = word_end == std::string_view::npos ? std::string_view{} : rest.substr(word_end);
      if (word == "fail" || word == "reject") {
        settings.outcome = word == "fail" ? "FAILED" : "REJECTED";
        settings.reason = read_reason(rest);
        continue;
      }
      if (word == "succeed") {
        settings.outcome = "SUCCEEDED";
        continue;
      }
      auto equals = word.find('=');
      if (equals == std::string_view::npos) {
        throw std::invalid_argument(fmt::format("unknown sandbox marker '{}'", word));
      }
      std::string_view key = word.substr(0, equals);
      std::string_view value = word.substr(equals + 1);
      if (key == "duration" || key == "running") settings.running = parse_duration_seconds(value);
      else if (key == "pending") settings.pending = parse_duration_seconds(value);
      else if (key == "publishing") settings.publishing = parse_duration_seconds(value);
      else if (key == "parts") settings.parts = static_cast<int>(checked_integer(value, "sandbox marker parts", 1, limits::max_parts));
      else if (key == "rows") settings.rows = static_cast<long>(checked_integer(value, "sandbox marker rows", 0, limits::max_rows));
      else if (key == "scenario") settings.scenario_name = std::string(value);
      else if (key == "status") {
        check_unlisted_status(value);
        settings.unlisted_status = std::string(value);
      } else if (key == "for") settings.unlisted_seconds = parse_duration_seconds(value);
      else throw std::invalid_argument(fmt::format("unknown sandbox marker '{}'", key));
    }
  }
  return settings;
}

}  // namespace

std::string_view to_string(execution_phase phase) {
  switch (phase) {
    case execution_phase::pending: return "PENDING";
    case execution_phase::running: return "RUNNING";
    case execution_phase::publishing: return "PUBLISHING";
    case execution_phase::succeeded: return "SUCCEEDED";
    case execution_phase::failed: return "FAILED";
    case execution_phase::cancelled: return "CANCELLED";
    case execution_phase::rejected: return "REJECTED";
    case execution_phase::unlisted: return "UNLISTED";  // the plan's name is what the API shows
  }
  return "PENDING";
}

bool is_terminal(execution_phase phase) {
  return phase == execution_phase::succeeded || phase == execution_phase::failed ||
         phase == execution_phase::cancelled || phase == execution_phase::rejected;
}

execution_plan plan_execution(std::string_view workflow_id, std::string_view sql, const scenario& default_scenario,
                              const std::vector<scenario>& scenarios) {
  marker_settings markers = read_markers(sql);
  const scenario* chosen = &default_scenario;
  if (markers.scenario_name) {
    chosen = nullptr;
    for (const auto& candidate : scenarios) {
      if (candidate.name == *markers.scenario_name) chosen = &candidate;
    }
    if (!chosen) throw std::invalid_argument(fmt::format("unknown sandbox scenario '{}'", *markers.scenario_name));
  } else {
    for (const auto& candidate : scenarios) {
      bool workflow_matches = candidate.match_workflow_id.empty() || candidate.match_workflow_id == workflow_id;
      bool sql_matches = candidate.match_sql.empty() || sql.find(candidate.match_sql) != std::string_view::npos;
      if (workflow_matches && sql_matches && (!candidate.match_workflow_id.empty() || !candidate.match_sql.empty())) {
        chosen = &candidate;
        break;
      }
    }
  }
  execution_plan plan;
  plan.pending_seconds = chosen->pending_seconds;
  plan.running_seconds = chosen->running_seconds;
  plan.publishing_seconds = chosen->publishing_seconds;
  plan.outcome = chosen->outcome;
  plan.reason = chosen->reason;
  plan.parts = chosen->parts;
  plan.rows = chosen->rows;
  if (markers.outcome) {
    plan.outcome = *markers.outcome;
    plan.reason = markers.reason;
  }
  if (markers.pending) plan.pending_seconds = *markers.pending;
  if (markers.running) plan.running_seconds = *markers.running;
  if (markers.publishing) plan.publishing_seconds = *markers.publishing;
  if (markers.parts) plan.parts = *markers.parts;
  if (markers.rows) plan.rows = *markers.rows;
  if (markers.unlisted_seconds && !markers.unlisted_status) {
    throw std::invalid_argument("sandbox marker for= needs status=NAME on the same execution");
  }
  if (markers.unlisted_status) {
    plan.unlisted_status = *markers.unlisted_status;
    plan.unlisted_seconds = markers.unlisted_seconds.value_or(60);
  }
  if (plan.parts < 1 || plan.parts > 5) throw std::invalid_argument("sandbox marker parts must be 1 to 5");
  if (plan.rows < 0) throw std::invalid_argument("sandbox marker rows must not be negative");
  if (plan.outcome == "FAILED" && plan.reason.empty()) plan.reason = "Query failed (sandbox scenario).";
  if (plan.outcome == "REJECTED" && plan.reason.empty()) plan.reason = "Execution rejected (sandbox scenario).";
  return plan;
}

execution_status status_at(const execution_plan& plan, const execution_timing& timing, double now) {
  static const std::string timed_out = "Workflow execution exceeded its timeout (workflowExecutionTimeoutSeconds).";
  if (plan.outcome == "REJECTED") return {execution_phase::rejected, timing.created, plan.reason};
  if (timing.dry_run) return {execution_phase::succeeded, timing.created, {}};
  if (timing.cancelled_at) return {execution_phase::cancelled, *timing.cancelled_at, {}};
  const double scale = timing.time_scale > 0 ? timing.time_scale : 1;
  const double simulated = (now - timing.created) * scale;
  auto wall = [&](double simulated_offset) { return timing.created + simulated_offset / scale; };
  if (simulated < plan.pending_seconds) return {execution_phase::pending, timing.created, {}};
  // An unlisted status, when the plan has one, sits between PENDING and
  // RUNNING and moves the rest of the life cycle later.
  const double running_start = plan.pending_seconds + (plan.unlisted_status.empty() ? 0 : plan.unlisted_seconds);
  if (simulated < running_start) return {execution_phase::unlisted, wall(plan.pending_seconds), {}};
  const double running_end = running_start + plan.running_seconds;
  // The timeout counts from the start of RUNNING; a run longer than its
  // timeout fails when the timeout is reached.
  const double timeout_at = running_start + static_cast<double>(timing.timeout_seconds);
  if (plan.running_seconds > static_cast<double>(timing.timeout_seconds)) {
    if (simulated < timeout_at) return {execution_phase::running, wall(running_start), {}};
    return {execution_phase::failed, wall(timeout_at), timed_out};
  }
  if (simulated < running_end) return {execution_phase::running, wall(running_start), {}};
  if (plan.outcome == "FAILED") return {execution_phase::failed, wall(running_end), plan.reason};
  if (simulated < running_end + plan.publishing_seconds) return {execution_phase::publishing, wall(running_end), {}};
  return {execution_phase::succeeded, wall(running_end + plan.publishing_seconds), {}};
}

}  // namespace amc::sandbox
