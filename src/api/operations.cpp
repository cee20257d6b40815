#include "api/operations.hpp"

#include "api/ids.hpp"
#include "api/shapes.hpp"
#include "common/error.hpp"
#include "common/text.hpp"
#include "common/url_encoding.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string_view>

namespace amc::api {

namespace asio = boost::asio;
using boost::beast::http::verb;

namespace {


// "/amc/reporting/{instance}/{rest}{tail}", the instance id and `tail` (an
// id) percent-encoded, built in one string.
std::string reporting_path(const call_context& context, std::string_view rest, std::string_view tail = {}) {
  static constexpr std::string_view prefix = "/amc/reporting/";
  std::string path;
  path.reserve(prefix.size() + context.instance_id.size() + 1 + rest.size() + 3 * tail.size());
  path.append(prefix);
  append_percent_encoded(path, context.instance_id);
  path.append("/").append(rest);
  append_percent_encoded(path, tail);
  return path;
}

std::string with_query(std::string path, const std::vector<std::pair<std::string, std::string>>& query) {
  if (query.empty()) return path;
  return path + "?" + form_encode(query);
}

// Follows nextToken through every page of a list operation and concatenates
// the `items_field` arrays, within `paging` (see list_paging): a server that
// keeps handing out next tokens, the same one or a new one every time, ends
// as a protocol error, never as an endless loop (issue 23 kind 1).
asio::awaitable<nlohmann::json> all_pages(session& amc, const call_context& context, std::string path,
                                          std::vector<std::pair<std::string, std::string>> query,
                                          std::string items_field, std::string operation,
                                          std::string_view log_name, list_paging paging = {}) {
  nlohmann::json items = nlohmann::json::array();
  std::set<std::string> seen_tokens;
  std::string next_token;
  const int max_pages = std::max(1, paging.max_pages);
  for (int page = 0; page < max_pages; ++page) {
    if (paging.pages_read != nullptr) *paging.pages_read = page + 1;
    auto page_query = query;
    if (!next_token.empty()) page_query.emplace_back("nextToken", next_token);
    amc_call request;
    request.path_and_query = with_query(path, page_query);
    request.operation = log_name;
    const auto reply = co_await amc.call(context, request);
    require_reply_object(reply, "body", operation);
    const auto found = reply.find(items_field);
    if (found != reply.end() && !found->is_null()) {
      if (!found->is_array())
        throw error(errc::protocol,
                    fmt::format("AMC's reply to {} has \"{}\" of type {}, where the API defines a list; retry, "
                                "and report it if it persists",
                                operation, items_field, found->type_name()),
                    {{"operation", operation}, {"field", items_field}});
      for (const auto& item : *found) {
        require_reply_object(item, fmt::format("\"{}\" item", items_field), operation);
        items.push_back(item);
      }
    }
    const auto token = reply_string(reply, "nextToken", operation);
    if (!token || token->empty()) co_return nlohmann::json{{items_field, items}};
    next_token = *token;
    if (!seen_tokens.insert(next_token).second)
      throw error(errc::protocol,
                  fmt::format("AMC repeated a nextToken in {}; stopped to avoid a loop", operation));
  }
  throw error(errc::protocol,
              fmt::format("AMC's {} did not end after {} pages (each with a new nextToken); stopped there", operation,
                          max_pages),
              {{"operation", operation}, {"pages", max_pages}});
}

std::string required_workflow_id(const nlohmann::json& workflow) {
  if (!workflow.is_object())
    throw error(errc::invalid_argument, "the workflow must be a JSON object (AMC's Workflow)");
  const auto id = workflow.find("workflowId");
  if (id == workflow.end() || !id->is_string())
    throw error(errc::invalid_argument, "the workflow needs a \"workflowId\" (text)");
  validate_workflow_id(id->get_ref<const std::string&>());
  const auto sql = workflow.find("sqlQuery");
  if (sql == workflow.end() || !sql->is_string() || sql->get_ref<const std::string&>().empty())
    throw error(errc::invalid_argument, "the workflow needs its \"sqlQuery\"");
  return id->get<std::string>();
}

// Whether AMC's copy of a value (null when AMC has none) holds what the
// local definition asks for. Objects compare only the keys the local one
// sets and arrays element by element, because AMC may fill in what the
// caller left out (privacyFilteringBehavior, a column's description, the
// CSV dialect): comparing those would make every sync an update. An empty
// local list or object asks for nothing more than AMC having none.
bool holds(const nlohmann::json* held, const nlohmann::json& wanted) {
  if (held != nullptr && held->is_null()) held = nullptr;
  if (wanted.is_object()) {
    if (held == nullptr) return wanted.empty();
    if (!held->is_object()) return false;
    for (const auto& [key, value] : wanted.items()) {
      if (value.is_null()) continue;
      const auto found = held->find(key);
      if (!holds(found == held->end() ? nullptr : &*found, value)) return false;
    }
    return true;
  }
  if (wanted.is_array()) {
    if (held == nullptr) return wanted.empty();
    if (!held->is_array() || held->size() != wanted.size()) return false;
    for (std::size_t i = 0; i < wanted.size(); ++i)
      if (!holds(&(*held)[i], wanted[i])) return false;
    return true;
  }
  return held != nullptr && *held == wanted;
}

// Whether AMC's workflow already is the local definition: the fields of
// AMC's Workflow schema that the local definition sets. Fields outside the
// schema are not compared (AMC does not keep them, so they would always
// differ).
bool amc_holds_definition(const nlohmann::json& amc_workflow, const nlohmann::json& local) {
  for (const char* field :
       {"sqlQuery", "inputParameters", "outputColumns", "outputFormat", "filteredMetricsDiscriminatorColumn",
        "distinctUserCountColumn", "filteredReasonColumn", "privacyFilteringBehavior", "inputSchema",
        "query"}) {
    const auto wanted = local.find(field);
    if (wanted == local.end() || wanted->is_null()) continue;
    const auto held = amc_workflow.find(field);
    if (!holds(held == amc_workflow.end() ? nullptr : &*held, *wanted)) return false;
  }
  return true;
}

}  // namespace

asio::awaitable<nlohmann::json> list_accounts(session& amc, const call_context& context) {
  call_context account_level{context.credential_id, "", "", ""};
  co_return co_await all_pages(amc, account_level, "/amc/accounts", {}, "amcAccounts", "AmcpLinkListAmcAccounts",
                               "list_accounts");
}

asio::awaitable<nlohmann::json> list_instances(session& amc, const call_context& context) {
  validate_advertiser_id(context.advertiser_id);
  validate_path_id(context.marketplace_id, "marketplace id");
  co_return co_await all_pages(amc, context, "/amc/instances", {}, "instances", "listInstances", "list_instances");
}

asio::awaitable<nlohmann::json> get_instance(session& amc, const call_context& context) {
  validate_instance_context(context);
  amc_call request;
  request.path_and_query = "/amc/instances/" + percent_encode(context.instance_id);
  request.operation = "get_instance";
  co_return unwrap(co_await amc.call(context, request), "instance", "getInstance");
}

asio::awaitable<nlohmann::json> create_workflow(session& amc, const call_context& context,
                                                nlohmann::json workflow) {
  validate_instance_context(context);
  const auto id = required_workflow_id(workflow);
  amc_call request;
  request.method = verb::post;
  request.path_and_query = reporting_path(context, "workflows");
  request.body = workflow;
  request.retryable = false;
  request.operation = "create_workflow";
  co_await amc.call(context, request);
  co_return co_await get_workflow(amc, context, id);
}

asio::awaitable<nlohmann::json> get_workflow(session& amc, const call_context& context,
                                             std::string workflow_id) {
  validate_instance_context(context);
  validate_workflow_id(workflow_id);
  amc_call request;
  request.path_and_query = reporting_path(context, "workflows/", workflow_id);
  request.operation = "get_workflow";
  auto workflow = unwrap(co_await amc.call(context, request), "workflow", "getWorkflow");
  reply_string(workflow, "workflowId", "getWorkflow");
  reply_string(workflow, "sqlQuery", "getWorkflow");
  co_return workflow;
}

asio::awaitable<nlohmann::json> list_workflows(session& amc, const call_context& context, int page_size) {
  validate_instance_context(context);
  if (page_size < 0 || page_size > 100)
    throw error(errc::invalid_argument, "a workflow list's page size must be 0 (AMC's default) to 100");
  std::vector<std::pair<std::string, std::string>> query;
  if (page_size > 0) query.emplace_back("limit", std::to_string(page_size));
  co_return co_await all_pages(amc, context, reporting_path(context, "workflows"), std::move(query), "workflows",
                              "listWorkflows", "list_workflows");
}

asio::awaitable<nlohmann::json> update_workflow(session& amc, const call_context& context,
                                                nlohmann::json workflow) {
  validate_instance_context(context);
  const auto id = required_workflow_id(workflow);
  amc_call request;
  request.method = verb::put;
  request.path_and_query = reporting_path(context, "workflows/", id);
  request.operation = "update_workflow";
  request.body = workflow;
  co_await amc.call(context, request);
  co_return co_await get_workflow(amc, context, id);
}

namespace {

// The ids of the schedules that run `workflow_id`, from AMC's list.
asio::awaitable<std::vector<std::string>> schedules_running(session& amc, const call_context& context,
                                                           std::string workflow_id) {
  const auto listing = co_await list_schedules(amc, context);
  std::vector<std::string> ids;
  for (const auto& schedule : listing["schedules"])
    if (schedule.value("workflowId", "") == workflow_id && schedule.contains("scheduleId") &&
        schedule["scheduleId"].is_string())
      ids.push_back(schedule["scheduleId"].get<std::string>());
  co_return ids;
}

}  // namespace

asio::awaitable<void> delete_workflow(session& amc, const call_context& context, std::string workflow_id) {
  validate_instance_context(context);
  validate_workflow_id(workflow_id);
  amc_call request;
  request.method = verb::delete_;
  request.path_and_query = reporting_path(context, "workflows/", workflow_id);
  request.operation = "delete_workflow";
  std::optional<error> refused;
  try {
    co_await amc.call(context, request);
    co_return;
  } catch (const error& problem) {
    // A 400 or 409 (typed by the session): AMC refused the delete itself.
    // Whether a schedule is the reason is read from AMC's schedules, never
    // from its words, which are not published.
    if (problem.code_value() != errc::invalid_argument && problem.code_value() != errc::conflict) throw;
    refused = problem;
  }
  std::vector<std::string> schedules;
  try {
    schedules = co_await schedules_running(amc, context, workflow_id);
  } catch (const error&) {
    // The list failed too: AMC's own refusal says more than that.
  }
  if (schedules.empty()) throw *refused;
  throw error(errc::conflict,
              fmt::format("workflow {} cannot be deleted: schedule{} {} still run{} it. Delete the schedule{} "
                          "(amc_schedule_delete, 'amcctl schedule delete ID') or update {} to another workflow "
                          "(amc_schedule_update) first, then delete the workflow. ({})",
                          workflow_id, schedules.size() == 1 ? "" : "s", fmt::join(schedules, ", "),
                          schedules.size() == 1 ? "s" : "", schedules.size() == 1 ? "" : "s",
                          schedules.size() == 1 ? "it" : "them", refused->message()),
              refused->detail())
      .with_fields_of(*refused);
}

namespace {

std::string required_schedule_id(const nlohmann::json& schedule) {
  if (!schedule.is_object())
    throw error(errc::invalid_argument, "the schedule must be a JSON object (AMC's Schedule)");
  const auto id = schedule.find("scheduleId");
  if (id == schedule.end() || !id->is_string())
    throw error(errc::invalid_argument, "the schedule needs a \"scheduleId\" (text)");
  validate_path_id(id->get_ref<const std::string&>(), "schedule id");
  return id->get<std::string>();
}

nlohmann::json checked_schedule(nlohmann::json reply) {
  auto schedule = unwrap(std::move(reply), "schedule", "getSchedule");
  required_reply_string(schedule, "scheduleId", "getSchedule");
  reply_string(schedule, "workflowId", "getSchedule");
  return schedule;
}

}  // namespace

asio::awaitable<nlohmann::json> create_schedule(session& amc, const call_context& context, nlohmann::json schedule) {
  validate_instance_context(context);
  const auto id = required_schedule_id(schedule);
  amc_call request;
  request.method = verb::post;
  request.path_and_query = reporting_path(context, "schedules");
  request.body = std::move(schedule);
  request.retryable = false;
  request.operation = "create_schedule";
  co_await amc.call(context, request);
  co_return co_await get_schedule(amc, context, id);
}

asio::awaitable<nlohmann::json> get_schedule(session& amc, const call_context& context, std::string schedule_id) {
  validate_instance_context(context);
  validate_path_id(schedule_id, "schedule id");
  amc_call request;
  request.path_and_query = reporting_path(context, "schedules/", schedule_id);
  request.operation = "get_schedule";
  co_return checked_schedule(co_await amc.call(context, request));
}

asio::awaitable<nlohmann::json> list_schedules(session& amc, const call_context& context) {
  validate_instance_context(context);
  co_return co_await all_pages(amc, context, reporting_path(context, "schedules"), {}, "schedules", "listSchedules",
                               "list_schedules");
}

asio::awaitable<nlohmann::json> update_schedule(session& amc, const call_context& context, nlohmann::json schedule) {
  validate_instance_context(context);
  const auto id = required_schedule_id(schedule);
  amc_call request;
  request.method = verb::put;
  request.path_and_query = reporting_path(context, "schedules/", id);
  request.body = std::move(schedule);
  request.operation = "update_schedule";
  co_await amc.call(context, request);
  co_return co_await get_schedule(amc, context, id);
}

asio::awaitable<void> delete_schedule(session& amc, const call_context& context, std::string schedule_id) {
  validate_instance_context(context);
  validate_path_id(schedule_id, "schedule id");
  amc_call request;
  request.method = verb::delete_;
  request.path_and_query = reporting_path(context, "schedules/", schedule_id);
  request.operation = "delete_schedule";
  co_await amc.call(context, request);
}

asio::awaitable<nlohmann::json> sync_workflow(session& amc, const call_context& context,
                                              nlohmann::json workflow) {
  validate_instance_context(context);
  const auto id = required_workflow_id(workflow);
  std::optional<nlohmann::json> existing;
  try {
    existing = co_await get_workflow(amc, context, id);
  } catch (const error& problem) {
    if (problem.code_value() != errc::not_found) throw;
  }
  // (GCC 12 miscompiles co_await inside braced initialisers: keep them out.)
  nlohmann::json result = nlohmann::json::object();
  if (!existing) {
    auto created = co_await create_workflow(amc, context, workflow);
    result["action"] = "created";
    result["workflow"] = std::move(created);
  } else if (amc_holds_definition(*existing, workflow)) {
    result["action"] = "unchanged";
    result["workflow"] = *existing;
  } else {
    auto updated = co_await update_workflow(amc, context, workflow);
    result["action"] = "updated";
    result["workflow"] = std::move(updated);
  }
  co_return result;
}

asio::awaitable<nlohmann::json> create_execution(session& amc, const call_context& context,
                                                 nlohmann::json request) {
  validate_instance_context(context);
  validate_execution_request(request);
  amc_call call;
  call.method = verb::post;
  call.path_and_query = reporting_path(context, "workflowExecutions");
  call.body = std::move(request);
  call.retryable = false;
  call.operation = "create_execution";
  auto execution = unwrap(co_await amc.call(context, call), "workflowExecution", "createWorkflowExecution");
  check_execution_reply(execution, "createWorkflowExecution", false);
  mark_terminal(execution);
  co_return execution;
}

namespace {

amc_call execution_read_call(const call_context& context, const std::string& amc_execution_id) {
  validate_instance_context(context);
  validate_path_id(amc_execution_id, "AMC execution id");
  amc_call request;
  request.path_and_query = reporting_path(context, "workflowExecutions/", amc_execution_id);
  request.operation = "get_execution";
  return request;
}

nlohmann::json checked_execution(nlohmann::json reply) {
  auto execution = unwrap(std::move(reply), "workflowExecution", "getWorkflowExecution");
  // A status read must have a status: without one a wait cannot end.
  check_execution_reply(execution, "getWorkflowExecution", true);
  mark_terminal(execution);
  return execution;
}

}  // namespace

asio::awaitable<nlohmann::json> get_execution(session& amc, const call_context& context,
                                              std::string amc_execution_id) {
  const amc_call request = execution_read_call(context, amc_execution_id);
  co_return checked_execution(co_await amc.call(context, request));
}

asio::awaitable<execution_read> get_execution_if_changed(session& amc, call_context context,
                                                         std::string amc_execution_id, std::uint64_t seen) {
  const amc_call request = execution_read_call(context, amc_execution_id);
  const net::response reply = co_await amc.call_reply(context, request);
  execution_read read;
  // std::hash of the bytes (64 bits on the 64-bit targets libamc builds
  // for) mixed with the length; 0 is kept for "none".
  const auto hash = static_cast<std::uint64_t>(std::hash<std::string_view>{}(reply.body));
  read.fingerprint = std::max<std::uint64_t>(1, hash ^ (static_cast<std::uint64_t>(reply.body.size()) * 0x9E3779B97F4A7C15ULL));
  if (seen != 0 && read.fingerprint == seen) co_return read;
  read.execution = checked_execution(session::parse_reply(reply, request));
  co_return read;
}

asio::awaitable<nlohmann::json> list_executions(session& amc, const call_context& context,
                                                nlohmann::json filters, list_paging paging) {
  validate_instance_context(context);
  if (!filters.is_object()) filters = nlohmann::json::object();
  const bool by_time = filters.contains("minCreationTime") && !filters["minCreationTime"].is_null();
  const bool by_workflow = filters.contains("workflowId") && !filters["workflowId"].is_null();
  if (!by_time && !by_workflow)
    throw error(errc::invalid_argument,
                "listing executions needs minCreationTime or workflowId (AMC requires one)");
  std::vector<std::pair<std::string, std::string>> query;
  for (const char* field : {"minCreationTime", "maxCreationTime", "workflowId", "timeZone"})
    if (filters.contains(field) && filters[field].is_string()) query.emplace_back(field, filters[field].get<std::string>());
  for (const char* field : {"includeCancelled", "sortAscending"})
    if (filters.contains(field) && filters[field].is_boolean())
      query.emplace_back(field, filters[field].get<bool>() ? "true" : "false");
  if (filters.contains("limit") && filters["limit"].is_number_integer())
    query.emplace_back("limit", std::to_string(filters["limit"].get<long long>()));
  auto listing = co_await all_pages(amc, context, reporting_path(context, "workflowExecutions"), query,
                                    "executions", "listWorkflowExecutions", "list_executions", paging);
  for (auto& execution : listing["executions"]) {
    execution = unwrap(std::move(execution), "workflowExecution", "listWorkflowExecutions");
    check_execution_reply(execution, "listWorkflowExecutions", false);
    mark_terminal(execution);
  }
  co_return listing;
}

asio::awaitable<void> cancel_execution(session& amc, const call_context& context,
                                       std::string amc_execution_id) {
  validate_instance_context(context);
  validate_path_id(amc_execution_id, "AMC execution id");
  amc_call request;
  request.method = verb::put;
  request.path_and_query = reporting_path(context, "workflowExecutions/", amc_execution_id);
  request.body = nlohmann::json{{"status", "CANCELLED"}};
  request.operation = "cancel_execution";
  try {
    co_await amc.call(context, request);
  } catch (const error& problem) {
    // AMC answers 400 when the execution has already finished.
    if (problem.code_value() == errc::invalid_argument)
      throw error(errc::conflict,
                  fmt::format("execution {} cannot be cancelled: {}", amc_execution_id, problem.message()),
                  problem.detail())
          .with_fields_of(problem);
    throw;
  }
}

asio::awaitable<nlohmann::json> download_urls(session& amc, const call_context& context,
                                              std::string amc_execution_id) {
  validate_instance_context(context);
  validate_path_id(amc_execution_id, "AMC execution id");
  amc_call request;
  request.path_and_query =
      reporting_path(context, "workflowExecutions/" + percent_encode(amc_execution_id) + "/downloadUrls");
  request.operation = "get_download_urls";
  co_return co_await amc.call(context, request);
}

asio::awaitable<nlohmann::json> list_data_sources(session& amc, const call_context& context, int page_size) {
  validate_instance_context(context);
  if (page_size < 0 || page_size > 100)
    throw error(errc::invalid_argument, "a data source list's page size must be 0 (AMC's default) to 100");
  std::vector<std::pair<std::string, std::string>> query;
  if (page_size > 0) query.emplace_back("limit", std::to_string(page_size));
  co_return co_await all_pages(amc, context, reporting_path(context, "dataSources"), std::move(query), "dataSources",
                              "listDataSources", "list_data_sources");
}

asio::awaitable<nlohmann::json> get_data_source(session& amc, const call_context& context,
                                                std::string data_source_id) {
  validate_instance_context(context);
  validate_path_id(data_source_id, "data source id");
  constexpr std::string_view operation = "getDataSource";
  const std::string path = reporting_path(context, "dataSources/", data_source_id);
  nlohmann::json data_source;
  nlohmann::json columns = nlohmann::json::array();
  std::set<std::string> seen_tokens;
  std::string next_token;
  const int max_pages = list_paging::default_max_pages;
  for (int page = 0; page < max_pages; ++page) {
    amc_call request;
    request.path_and_query = next_token.empty() ? path : with_query(path, {{"nextToken", next_token}});
    request.operation = "get_data_source";
    const auto reply = co_await amc.call(context, request);
    require_reply_object(reply, "body", operation);
    // The token sits beside the wrapped object, or in the flat one.
    auto token = reply_string(reply, "nextToken", operation);
    auto part = unwrap(reply, "dataSource", operation);
    if (!token) token = reply_string(part, "nextToken", operation);
    part.erase("nextToken");
    if (const auto found = part.find("columns"); found != part.end() && !found->is_null()) {
      if (!found->is_array())
        throw error(errc::protocol,
                    fmt::format("AMC's reply to {} has \"columns\" of type {}, where the API defines a list; retry, "
                                "and report it if it persists",
                                operation, found->type_name()),
                    {{"operation", operation}, {"field", "columns"}});
      for (auto& column : *found) {
        require_reply_object(column, "\"columns\" item", operation);
        columns.push_back(std::move(column));
      }
    }
    if (page == 0) data_source = std::move(part);
    if (!token || token->empty()) {
      required_reply_string(data_source, "dataSourceId", operation);
      data_source["columns"] = std::move(columns);
      co_return data_source;
    }
    next_token = *token;
    if (!seen_tokens.insert(next_token).second)
      throw error(errc::protocol, fmt::format("AMC repeated a nextToken in {}; stopped to avoid a loop", operation));
  }
  throw error(errc::protocol, fmt::format("AMC's {} did not end after {} pages", operation, max_pages));
}

}  // namespace amc::api
