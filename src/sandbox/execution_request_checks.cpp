#include "sandbox/execution_request_checks.hpp"

#include "common/time.hpp"
#include "sandbox/service_detail.hpp"
#include "sandbox/time_zone.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <vector>

namespace amc::sandbox {

using nlohmann::json;

namespace {

// The relative window types, with day and month boundaries taken in the
// execution's time zone (amc-api.md 4.1) and returned as UTC instants. Every
// window ends at the start of today (local), the last whole day the sandbox
// pretends to have data for. ALL has no documented start (the spec says "all
// available data"); the sandbox starts it at the first day of the month 25
// months back, the retention Amazon quotes for AMC data.
std::pair<double, double> relative_window(std::string_view type, double now, const time_zone& zone) {
  namespace chrono = std::chrono;
  const auto utc_now = static_cast<std::int64_t>(std::floor(now));
  const std::int64_t local_now = utc_now + zone.utc_offset(utc_now);
  const chrono::sys_days today{chrono::days{local_now / 86400 - (local_now % 86400 < 0 ? 1 : 0)}};
  const chrono::year_month this_month = chrono::year_month_day{today}.year() / chrono::year_month_day{today}.month();
  auto midnight = [&](chrono::sys_days day) {
    return static_cast<double>(zone.local_to_utc(static_cast<std::int64_t>(day.time_since_epoch().count()) * 86400));
  };
  auto first_day = [](chrono::year_month month) { return chrono::sys_days{month / 1}; };
  if (type == "MOST_RECENT_WEEK") return {midnight(today - chrono::days{7}), midnight(today)};
  if (type == "CURRENT_MONTH") return {midnight(first_day(this_month)), midnight(today)};
  if (type == "PREVIOUS_MONTH") {
    return {midnight(first_day(this_month - chrono::months{1})), midnight(first_day(this_month))};
  }
  if (type == "ALL") return {midnight(first_day(this_month - chrono::months{25})), midnight(today)};
  return {midnight(today - chrono::days{1}), midnight(today)};  // MOST_RECENT_DAY
}

// An EXPLICIT window bound: a wall-clock time in the execution's time zone
// (amc-api.md 4.1: the zone applies to explicit windows too; the documented
// format has no zone), unless the text carries its own `Z` or offset, which
// then wins (NB sends a trailing `Z`). A local time in a DST gap is read with
// the offset before the gap, as for the relative windows.
std::optional<std::int64_t> explicit_window_time(std::string_view text, const time_zone& zone) {
  const auto parsed = parse_utc(text);  // a zone-less text comes back as if it were UTC
  if (!parsed) return std::nullopt;
  const bool has_z = !text.empty() && (text.back() == 'Z' || text.back() == 'z');
  // "+HH:MM"/"-HH:MM" after the 19 characters of yyyy-MM-ddTHH:mm:ss.
  const bool has_offset = text.size() >= 25 && (text[text.size() - 6] == '+' || text[text.size() - 6] == '-') &&
                          text[text.size() - 3] == ':';
  if (has_z || has_offset) return *parsed;
  return zone.local_to_utc(*parsed);
}

// Names used in CUSTOM_PARAMETER('name') inside the SQL.
std::vector<std::string> custom_parameters(std::string_view sql) {
  std::vector<std::string> names;
  constexpr std::string_view marker = "CUSTOM_PARAMETER(";
  std::size_t position = 0;
  while ((position = sql.find(marker, position)) != std::string_view::npos) {
    position += marker.size();
    while (position < sql.size() && sql[position] == ' ') ++position;
    if (position >= sql.size() || (sql[position] != '\'' && sql[position] != '"')) continue;
    const char quote = sql[position++];
    auto close = sql.find(quote, position);
    if (close == std::string_view::npos) break;
    names.emplace_back(sql.substr(position, close - position));
    position = close + 1;
  }
  return names;
}

std::optional<long> integer_field(const json& value) {
  // Past LONG_MAX an unsigned number would wrap negative; it is just "too big".
  if (value.is_number_unsigned()) {
    return static_cast<long>(std::min<std::uint64_t>(value.get<std::uint64_t>(), std::numeric_limits<long>::max()));
  }
  if (value.is_number_integer()) return value.get<long>();
  if (value.is_string()) {  // Amazon's notebook sends the timeout as a string
    const auto& text = value.get_ref<const std::string&>();
    long parsed = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (error == std::errc() && end == text.data() + text.size()) return parsed;
  }
  return std::nullopt;
}

}  // namespace

std::variant<checked_execution_request, execution_request_error> check_execution_request(
    const json& body, double now, const std::function<const json*(std::string_view)>& saved_workflow) {
  auto bad = [](std::string details) { return execution_request_error{400, std::move(details)}; };
  auto unprocessable = [](std::string details) { return execution_request_error{422, std::move(details)}; };
  checked_execution_request out;
  if (!body.is_object()) return bad("The request body must be a JSON CreateWorkflowExecutionRequest object.");

  const bool has_workflow_id = body.contains("workflowId") && !body.at("workflowId").is_null();
  const json* inline_workflow = body.contains("workflow") && body.at("workflow").is_object() ? &body.at("workflow") : nullptr;
  const bool has_sql = inline_workflow && inline_workflow->contains("sqlQuery");
  if (body.contains("workflow") && !inline_workflow && !body.at("workflow").is_null()) {
    return bad("workflow must be a Workflow object.");
  }
  if (has_workflow_id && has_sql) return bad("workflowId cannot be combined with workflow.sqlQuery: give one or the other.");
  if (!has_workflow_id && !has_sql) return bad("Either workflowId or workflow.sqlQuery is required.");

  json input_parameters = json::array();
  if (has_workflow_id) {
    if (!body.at("workflowId").is_string()) return bad("workflowId must be a string.");
    const auto& id = body.at("workflowId").get_ref<const std::string&>();
    if (!detail::is_valid_workflow_id(id)) {
      return bad(fmt::format("Invalid workflowId '{}': use only letters, digits, periods, dashes and underscores.", id));
    }
    const json* found = saved_workflow(id);
    if (!found) return unprocessable(fmt::format("Workflow with ID {} does not exist.", id));
    const json& definition = *found;
    out.workflow_id = id;
    out.sql = definition.value("sqlQuery", "");
    if (definition.contains("outputColumns")) out.output_columns = definition.at("outputColumns");
    if (definition.contains("inputParameters")) input_parameters = definition.at("inputParameters");
    if (definition.contains("outputFormat")) {
      try {
        out.dialect = parse_output_format(definition.at("outputFormat"));
      } catch (const std::invalid_argument& error) {
        return bad(error.what());
      }
    }
  } else {
    if (!inline_workflow->at("sqlQuery").is_string() || inline_workflow->at("sqlQuery").get_ref<const std::string&>().empty()) {
      return bad("workflow.sqlQuery must be a non-empty string.");
    }
    out.ad_hoc = true;
    out.sql = inline_workflow->at("sqlQuery").get<std::string>();
    if (inline_workflow->contains("workflowId")) {
      const json& id = inline_workflow->at("workflowId");
      if (!id.is_string() || !detail::is_valid_workflow_id(id.get_ref<const std::string&>())) {
        return bad("Invalid workflow.workflowId: use only letters, digits, periods, dashes and underscores.");
      }
      out.workflow_id = id.get<std::string>();
    }
    if (inline_workflow->contains("outputColumns")) out.output_columns = inline_workflow->at("outputColumns");
    if (inline_workflow->contains("inputParameters")) input_parameters = inline_workflow->at("inputParameters");
    if (inline_workflow->contains("outputFormat")) {
      try {
        out.dialect = parse_output_format(inline_workflow->at("outputFormat"));
      } catch (const std::invalid_argument& error) {
        return bad(error.what());
      }
    }
  }

  // Time window.
  // The zone sets day and month boundaries of the relative windows; an
  // unknown name is refused rather than silently read as UTC.
  std::string zone_name = "UTC";
  if (body.contains("timeWindowTimeZone") && !body.at("timeWindowTimeZone").is_null()) {
    if (!body.at("timeWindowTimeZone").is_string() || body.at("timeWindowTimeZone").get_ref<const std::string&>().empty()) {
      return bad("timeWindowTimeZone must be a tz database name such as America/New_York.");
    }
    zone_name = body.at("timeWindowTimeZone").get<std::string>();
  }
  const std::optional<time_zone> zone = time_zone::locate(zone_name);
  if (!zone) {
    return bad(fmt::format("timeWindowTimeZone '{}' is not a tz database time zone: use a name such as "
                           "America/New_York or UTC.", zone_name));
  }
  out.echoed["timeWindowTimeZoneOriginal"] = zone_name;
  out.zone = *zone;
  const bool has_start = body.contains("timeWindowStart") && !body.at("timeWindowStart").is_null();
  const bool has_end = body.contains("timeWindowEnd") && !body.at("timeWindowEnd").is_null();
  std::string window_type = "MOST_RECENT_DAY";
  if (body.contains("timeWindowType") && !body.at("timeWindowType").is_null()) {
    if (!body.at("timeWindowType").is_string()) return bad("timeWindowType must be a string.");
    window_type = body.at("timeWindowType").get<std::string>();
    static const std::vector<std::string> known = {"EXPLICIT",      "MOST_RECENT_DAY", "MOST_RECENT_WEEK",
                                                   "CURRENT_MONTH", "PREVIOUS_MONTH",  "ALL"};
    if (std::find(known.begin(), known.end(), window_type) == known.end()) {
      return bad(fmt::format("timeWindowType '{}' is not one of EXPLICIT, MOST_RECENT_DAY, MOST_RECENT_WEEK, "
                             "CURRENT_MONTH, PREVIOUS_MONTH, ALL.", window_type));
    }
  } else if (has_start || has_end) {
    window_type = "EXPLICIT";
  }
  if (has_start != has_end) return bad("timeWindowStart and timeWindowEnd must be given together.");
  if (window_type == "EXPLICIT") {
    if (!has_start) return bad("timeWindowType EXPLICIT needs timeWindowStart and timeWindowEnd.");
    if (!body.at("timeWindowStart").is_string() || !body.at("timeWindowEnd").is_string()) {
      return bad("timeWindowStart and timeWindowEnd must be strings yyyy-MM-dd'T'HH:mm:ss.");
    }
    const auto& start_text = body.at("timeWindowStart").get_ref<const std::string&>();
    const auto& end_text = body.at("timeWindowEnd").get_ref<const std::string&>();
    auto start = explicit_window_time(start_text, *zone);
    auto end = explicit_window_time(end_text, *zone);
    if (!start || !end) return bad("timeWindowStart and timeWindowEnd must have the format yyyy-MM-dd'T'HH:mm:ss.");
    if (*start >= *end) return bad("timeWindowStart must be before timeWindowEnd.");
    out.window_start = *start;
    out.window_end = *end;
    out.echoed["timeWindowStart"] = format_utc(*start);
    out.echoed["timeWindowEnd"] = format_utc(*end);
    out.echoed["timeWindowStartOriginal"] = start_text;
    out.echoed["timeWindowEndOriginal"] = end_text;
  } else {
    if (has_start) return bad("timeWindowStart and timeWindowEnd are only allowed with timeWindowType EXPLICIT.");
    auto [start, end] = relative_window(window_type, now, *zone);
    out.window_start = static_cast<std::int64_t>(start);
    out.window_end = static_cast<std::int64_t>(end);
    out.echoed["timeWindowStart"] = detail::format_time(start);
    out.echoed["timeWindowEnd"] = detail::format_time(end);
  }

  // Parameters: the spec says strings; the docs also send numbers.
  json parameter_values = json::object();
  if (body.contains("parameterValues") && !body.at("parameterValues").is_null()) {
    if (!body.at("parameterValues").is_object()) return bad("parameterValues must be an object of name to value.");
    for (const auto& [name, value] : body.at("parameterValues").items()) {
      if (value.is_string()) parameter_values[name] = value;
      else if (value.is_number() || value.is_boolean()) parameter_values[name] = value.dump();
      else return bad(fmt::format("parameterValues.{} must be a string.", name));
    }
  }
  for (const auto& name : custom_parameters(out.sql)) {
    bool has_default = false;
    for (const auto& parameter : input_parameters) {
      if (parameter.is_object() && parameter.value("name", "") == name && parameter.contains("defaultValue")) has_default = true;
    }
    if (!parameter_values.contains(name) && !has_default) {
      return unprocessable(fmt::format("No value for CUSTOM_PARAMETER('{}'): add it to parameterValues.", name));
    }
  }
  out.echoed["parameterValues"] = parameter_values;

  out.timeout_seconds = maximum_timeout_seconds;
  if (body.contains("workflowExecutionTimeoutSeconds") && !body.at("workflowExecutionTimeoutSeconds").is_null()) {
    auto value = integer_field(body.at("workflowExecutionTimeoutSeconds"));
    if (!value) return bad("workflowExecutionTimeoutSeconds must be a whole number of seconds.");
    if (*value < minimum_timeout_seconds) {
      return bad(fmt::format("workflowExecutionTimeoutSeconds must be at least {}.", minimum_timeout_seconds));
    }
    if (*value > maximum_timeout_seconds) {
      return bad(fmt::format("workflowExecutionTimeoutSeconds must be at most {}.", maximum_timeout_seconds));
    }
    out.timeout_seconds = *value;
  }
  if (body.contains("dryRun") && !body.at("dryRun").is_null()) {
    if (!body.at("dryRun").is_boolean()) return bad("dryRun must be a boolean.");
    out.dry_run = body.at("dryRun").get<bool>();
  }
  for (const char* flag : {"skipPublish", "requireSyntheticData", "disableAggregationControls"}) {
    if (body.contains(flag) && body.at(flag).is_boolean()) out.echoed[flag] = body.at(flag);
  }
  if (body.contains("ignoreDataGaps")) {  // legacy; the notebook sends "True"
    const json& value = body.at("ignoreDataGaps");
    out.echoed["ignoreDataGaps"] = value.is_boolean() ? value.get<bool>()
                                                          : (value.is_string() && (value == "True" || value == "true"));
  }
  if (body.contains("advertisers") && body.at("advertisers").is_array()) out.echoed["advertisers"] = body.at("advertisers");

  return out;
}

}  // namespace amc::sandbox
