// The service's request handlers, one group per resource. Each is handed
// the service's state with the service mutex held and answers one request;
// sandbox_service::handle picks the handler (and applies faults and the
// request log around it), the admin API picks one from its route table.
#pragma once

#include "sandbox/execution_request_checks.hpp"
#include "sandbox/service.hpp"
#include "sandbox/service_state.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amc::sandbox {

// Login with Amazon (service_lwa.cpp): the token endpoint, the consent page
// and the bearer-token check every AMC call makes.
namespace lwa_handlers {
http_response token(sandbox_state& state, const http_request& request);
http_response consent(sandbox_state& state, const http_request& request, std::string_view query);
// A 401 (or 400 without the ClientId header) for a request whose bearer
// token is not good, in AMC's Error body or, with `wants_amc_error_body`
// off, in the accounts API's {"message", "requestId"}; nullopt when it is.
std::optional<http_response> authenticate_bearer(const sandbox_state& state, const http_request& request,
                                                 bool wants_amc_error_body);
}  // namespace lwa_handlers

// AMC administration (service_instances.cpp): accounts and instances, and
// who may use an instance's reporting API.
namespace instance_handlers {
http_response list_accounts(sandbox_state& state, const http_request& request, std::string_view query);
http_response list_instances(sandbox_state& state, const http_request& request, std::string_view query);
http_response get_instance(sandbox_state& state, const http_request& request, std::string_view instance_id);
// The checks of every reporting call (bearer token, the four headers, the
// instance and its advertiser and marketplace): an error response, or
// nullopt with `instance` set.
std::optional<http_response> authorize_reporting(sandbox_state& state, const http_request& request,
                                                 std::string_view instance_id, instance_state*& instance);
}  // namespace instance_handlers

// An instance's saved workflows (service_workflows.cpp).
namespace workflow_handlers {
http_response list(sandbox_state& state, const http_request& request, instance_state& instance,
                   std::string_view query);
http_response create(sandbox_state& state, const http_request& request, instance_state& instance);
http_response get(sandbox_state& state, const http_request& request, instance_state& instance,
                  std::string_view workflow_id);
http_response update(sandbox_state& state, const http_request& request, instance_state& instance,
                     std::string_view workflow_id);
http_response remove(sandbox_state& state, const http_request& request, instance_state& instance,
                     std::string_view workflow_id);
}  // namespace workflow_handlers

// An instance's workflow executions (service_executions.cpp).
namespace execution_handlers {
http_response list(sandbox_state& state, const http_request& request, instance_state& instance,
                   std::string_view query);
http_response create(sandbox_state& state, const http_request& request, instance_state& instance);
// The poll hot path. `wire`, when given, may receive the whole answer
// pre-rendered (see reply::wire); the returned message is then its status only.
http_response get(sandbox_state& state, const http_request& request, instance_state& instance,
                  std::string_view execution_id, std::string_view query, std::shared_ptr<const std::string>* wire);
// PUT {"status": "CANCELLED"}.
http_response cancel(sandbox_state& state, const http_request& request, instance_state& instance,
                     std::string_view execution_id);
// AMC's 404 for an execution id the instance does not have.
http_response not_found(const http_request& request, std::string_view execution_id);
// What started a run that AMC's scheduler started: the schedule's id and
// its aggregationPeriod ("Daily" or "Weekly"), or neither for a run started
// as the scheduler would without a schedule (an admin route, a test).
struct scheduled_run_origin {
  std::string schedule_id;
  std::string period = "Daily";
};
// THE one place where the sandbox starts a run of saved workflow
// `workflow_id` as AMC's scheduler does: created at sandbox time `at`, with
// the time window of its period (MOST_RECENT_DAY or MOST_RECENT_WEEK),
// reported by the list endpoint like an API-started run but with
// executionCategory "SCHEDULED", never counted against the ad-hoc quota.
// Kept in creation-time order among the instance's executions. Throws
// std::invalid_argument (the workflow does not exist, its SQL markers
// cannot be read, or `request` — further CreateWorkflowExecutionRequest
// fields, not workflowId — is one AMC would refuse).
execution_record& start_run_as_scheduler(sandbox_state& state, instance_state& instance, std::string_view workflow_id,
                                         double at, const scheduled_run_origin& origin = {},
                                         const nlohmann::json& request = nlohmann::json::object());
// POST /_sandbox/executions/bulk: {"instance_id", "count", "request",
// "scenario"} -> {"instance_id", "ids"}. Throws std::invalid_argument.
nlohmann::json create_in_bulk(sandbox_state& state, const nlohmann::json& body);
inline constexpr std::int64_t max_bulk_executions = 100'000;
// A run of the saved workflow `workflow_id` started as AMC's scheduler
// starts one (not by a client's request): its executionCategory is
// scheduled_execution_category, it spends no ad-hoc quota and is never
// refused for a busy instance. `request` holds further
// CreateWorkflowExecutionRequest fields (timeWindowType, parameterValues,
// …; not workflowId). The new execution, flat. Throws
// std::invalid_argument (unknown workflow, a request AMC would refuse).
// POST /_sandbox/executions/scheduled calls it: start_run_as_scheduler at
// the sandbox's present time, without a schedule.
nlohmann::json start_scheduled_run(sandbox_state& state, instance_state& instance, std::string_view workflow_id,
                                   const nlohmann::json& request = nlohmann::json::object());
// The executionCategory of such a run. amc-api.md quotes only "AD_HOC" (a
// run a client created); a run AMC started on its own is told apart by
// this other value.
inline constexpr std::string_view scheduled_execution_category = "SCHEDULED";
}  // namespace execution_handlers

// An instance's schedules (service_schedules.cpp), following the spec's
// createSchedule … deleteSchedule, and the runs they start on the sandbox
// clock.
namespace schedule_handlers {
http_response list(sandbox_state& state, const http_request& request, instance_state& instance,
                   std::string_view query);
http_response create(sandbox_state& state, const http_request& request, instance_state& instance);
http_response get(sandbox_state& state, const http_request& request, instance_state& instance,
                  std::string_view schedule_id);
http_response update(sandbox_state& state, const http_request& request, instance_state& instance,
                     std::string_view schedule_id);
http_response remove(sandbox_state& state, const http_request& request, instance_state& instance,
                     std::string_view schedule_id);
// Starts every run of the instance's enabled schedules that fell due by
// sandbox time `now` (each at its own due time, through
// execution_handlers::start_run_as_scheduler). The sandbox has no timers:
// every reporting call of the instance calls this first.
void start_due_runs(sandbox_state& state, instance_state& instance, double now);
// The ids of the instance's schedules that run `workflow_id`, in id order.
std::vector<std::string> schedules_using(const instance_state& instance, std::string_view workflow_id);
}  // namespace schedule_handlers

// Results (service_results.cpp): the signed download URLs of a finished
// execution and the files behind them.
namespace result_handlers {
// `expired_urls`: the expired_download_urls fault fired.
http_response download_urls(sandbox_state& state, const http_request& request, instance_state& instance,
                            std::string_view execution_id, bool expired_urls);
// GET /results/{instance_id}/{execution_id}/{file_name}?X-Amz-...; a CSV
// part is written with `lock` (the service mutex) released.
http_response download(sandbox_state& state, const http_request& request, std::string_view instance_id,
                       std::string_view execution_id, std::string_view file_name, std::string_view query,
                       std::unique_lock<std::mutex>& lock);
}  // namespace result_handlers

// An instance's data sources (service_data_sources.cpp): the fixture
// catalog (data_sources.hpp), listed in pages and read with its columns in
// pages of at most 500.
namespace data_source_handlers {
http_response list(sandbox_state& state, const http_request& request, instance_state& instance,
                   std::string_view query);
http_response get(sandbox_state& state, const http_request& request, instance_state& instance,
                  std::string_view data_source_id, std::string_view query);
}  // namespace data_source_handlers

// The admin API under /_sandbox/ (service_admin.cpp), routed by a table of
// method and path pattern.
namespace admin_handlers {
reply handle(sandbox_state& state, const http_request& request, std::string_view path, std::string_view query);
}  // namespace admin_handlers

}  // namespace amc::sandbox
