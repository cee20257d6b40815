#include "api/preflight.hpp"

#include "api/operations.hpp"
#include "api/shapes.hpp"
#include "api/sql_tables.hpp"
#include "common/text.hpp"
#include "common/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <vector>

namespace amc::api {

namespace asio = boost::asio;

namespace {

constexpr unix_seconds seconds_per_day = 24 * 3600;

// AMC's list takes yyyy-MM-ddTHH:mm:ss without a zone (UTC by default).
std::string amc_list_time(unix_seconds when) { return format_utc(when).substr(0, 19); }

std::string upper_case(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

error adhoc_quota_error(const call_context& context, const nlohmann::json& quota, const std::string& amc_said) {
  const auto resets_at = quota.value("resets_at", std::string{});
  return error(errc::adhoc_quota,
               fmt::format("AMC refused the ad-hoc run: instance {} has used its {} ad-hoc runs of today "
                           "(AMC allows {} per instance per UTC day, across all workflows){}. The count "
                           "resets at 00:00 UTC ({}). A saved workflow does not use this quota: save the SQL "
                           "(amc_workflow_sync, 'amcctl workflow sync', Client.workflow_sync) and run it by "
                           "\"workflowId\"",
                           context.instance_id, quota.value("adhoc_executions_today", 0), adhoc_daily_limit,
                           amc_said.empty() ? "" : " (AMC: " + quoted_text(amc_said) + ")", resets_at),
               {{"instance_id", context.instance_id},
                {"adhoc_executions_today", quota.value("adhoc_executions_today", 0)},
                {"adhoc_limit", adhoc_daily_limit},
                {"resets_at", resets_at}});
}

}  // namespace

bool is_counted_adhoc_run(const nlohmann::json& request) {
  if (!request.is_object()) return false;
  const auto workflow = request.find("workflow");
  if (workflow == request.end() || workflow->is_null()) return false;
  const auto dry_run = request.find("dryRun");
  return !(dry_run != request.end() && dry_run->is_boolean() && dry_run->get<bool>());
}

bool counts_toward_adhoc_limit(const nlohmann::json& execution) {
  if (!execution.is_object()) return false;
  if (execution.value("status", "") == "REJECTED") return false;
  if (const auto category = execution.find("executionCategory"); category != execution.end() && category->is_string())
    return category->get_ref<const std::string&>() == "AD_HOC";
  const auto workflow_id = execution.value("workflowId", "");
  return workflow_id.rfind("transient_", 0) == 0;
}

asio::awaitable<nlohmann::json> adhoc_quota(session& amc, const call_context& context) {
  const unix_seconds now = now_unix_seconds();
  const unix_seconds day_start = now - now % seconds_per_day;
  nlohmann::json filters = {{"minCreationTime", amc_list_time(day_start)}, {"includeCancelled", true}};
  const auto listing = co_await list_executions(amc, context, std::move(filters));
  int count = 0;
  for (const auto& execution : listing["executions"]) {
    // The list's minCreationTime is AMC's to apply; an execution it lists
    // with an earlier createTime (another zone's day) is not today's.
    if (const auto created = parse_utc(execution.value("createTime", "")); created && *created < day_start) continue;
    if (counts_toward_adhoc_limit(execution)) ++count;
  }
  co_return nlohmann::json{{"instance_id", context.instance_id},
                           {"adhoc_executions_today", count},
                           {"adhoc_limit", adhoc_daily_limit},
                           {"adhoc_remaining", std::max(0, adhoc_daily_limit - count)},
                           {"day_start", format_utc(day_start)},
                           {"resets_at", format_utc(day_start + seconds_per_day)}};
}

asio::awaitable<void> throw_if_adhoc_quota_used(session& amc, const call_context& context, std::string amc_said) {
  std::optional<nlohmann::json> quota;
  try {
    quota = co_await adhoc_quota(amc, context);
  } catch (const error&) {
    co_return;  // the refusal is reported as AMC gave it
  }
  if (quota->value("adhoc_executions_today", 0) >= adhoc_daily_limit)
    throw adhoc_quota_error(context, *quota, amc_said);
}

int line_named_in(std::string_view message) {
  for (std::size_t at = 0; at + 5 < message.size(); ++at) {
    if (std::tolower(static_cast<unsigned char>(message[at])) != 'l' ||
        upper_case(message.substr(at, 4)) != "LINE" ||
        (at > 0 && std::isalpha(static_cast<unsigned char>(message[at - 1])) != 0))
      continue;
    std::size_t digits = at + 4;
    while (digits < message.size() && (message[digits] == ' ' || message[digits] == ':')) ++digits;
    int line = 0;
    std::size_t end = digits;
    while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end])) != 0 && line < 1'000'000)
      line = line * 10 + (message[end++] - '0');
    if (end > digits) return line;
  }
  return 0;
}

asio::awaitable<nlohmann::json> validate_workflow(session& amc, const call_context& context,
                                                  nlohmann::json request) {
  validate_instance_context(context);
  validate_execution_request(request);
  std::string sql;
  if (const auto saved = request.find("workflowId"); saved != request.end() && saved->is_string()) {
    const auto workflow = co_await get_workflow(amc, context, saved->get<std::string>());
    sql = workflow.value("sqlQuery", "");
  } else {
    sql = request["workflow"].value("sqlQuery", "");
  }

  // 1. The tables, against the instance's data sources.
  const auto tables = tables_read_by(sql);
  const auto listing = co_await list_data_sources(amc, context);
  std::vector<std::string> known;
  std::set<std::string> known_upper;
  for (const auto& source : listing["dataSources"]) {
    if (!source.contains("dataSourceId") || !source["dataSourceId"].is_string()) continue;
    known.push_back(source["dataSourceId"].get<std::string>());
    known_upper.insert(upper_case(known.back()));
  }
  nlohmann::json report = {{"valid", true},
                           {"tables", nlohmann::json::array()},
                           {"unknown_tables", nlohmann::json::array()},
                           {"compile_error", nullptr}};
  std::vector<std::string> problems;
  for (const auto& table : tables) {
    report["tables"].push_back(table.name);
    if (known_upper.count(upper_case(table.name)) > 0) continue;
    const auto closest = closest_name(table.name, known);
    report["unknown_tables"].push_back(
        {{"table", table.name}, {"line", table.line}, {"closest", closest ? nlohmann::json(*closest) : nullptr}});
    problems.push_back(fmt::format("table {} (line {}) is not a data source of instance {}{}", quoted_text(table.name),
                                   table.line, context.instance_id,
                                   closest ? fmt::format("; did you mean {}?", quoted_text(*closest))
                                           : std::string("; the instance lists no data sources")));
  }

  // 2. AMC's compile: a dry run, which uses no quota and produces no output.
  request["dryRun"] = true;
  std::optional<error> refused;
  nlohmann::json dry_run;
  try {
    dry_run = co_await create_execution(amc, context, request);
  } catch (const error& problem) {
    // 400/422: AMC judged the request (its SQL); anything else is not a
    // verdict on the SQL and keeps its own code.
    if (problem.code_value() != errc::invalid_argument) throw;
    refused = problem;
  }
  std::string compile_message;
  if (refused) {
    const auto& detail = refused->detail();
    compile_message = detail.contains("amc_details") && detail["amc_details"].is_string()
                          ? detail["amc_details"].get<std::string>()
                          : refused->message();
  } else if (const auto phase = dry_run.value("phase", ""); phase == "failed" || phase == "rejected") {
    compile_message = failure_reason(dry_run);
    if (compile_message.empty()) compile_message = "the dry run ended " + dry_run.value("status", std::string("FAILED"));
  } else {
    report["dry_run"] = dry_run;
  }
  if (!compile_message.empty()) {
    const int line = line_named_in(compile_message);
    report["compile_error"] = {{"message", compile_message}, {"line", line > 0 ? nlohmann::json(line) : nullptr}};
    problems.push_back(fmt::format("AMC could not compile the SQL{}: {}",
                                   line > 0 ? fmt::format(" at line {}", line) : std::string(),
                                   quoted_text(compile_message)));
  }
  if (!problems.empty()) {
    report["valid"] = false;
    throw error(errc::invalid_argument,
                fmt::format("the pre-flight check of the SQL failed: {}. Nothing was run and no ad-hoc quota "
                            "was used; fix the SQL (amcctl tables lists the instance's tables)",
                            fmt::join(problems, "; ")),
                {{"preflight", report}});
  }
  co_return report;
}

}  // namespace amc::api
