// The typed requests of the AMC operations: one struct per JSON request that
// amc.h documents (amc_accounts_list … amc_results_download), each decoded
// strictly and validated once, here, before the client façade
// (client/operations.hpp) runs it. What comes out of a decode_* function is
// known good: every field has its type, every number its range, every id its
// charset, and the instance is checked (call_context::instance_checked), so
// no later layer checks it again.
//
// Decoding rules (amc.h "Conventions"): an unknown field, a field of the
// wrong JSON type, a number out of its range, or a required field left out
// throws amc::error(errc::invalid_argument) with a message that names the
// field by its path ("instance.advertiser_id", "request.timeWindowType") and
// says what was expected. JSON null counts as left out. Objects that AMC
// defines (the workflow, the execution request, the list filters) keep AMC's
// field names; the fields amc.h documents are type-checked, other AMC fields
// pass through untouched so new AMC fields need no libamc release.
#pragma once

#include "api/session.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace amc::api {

// The default time limits of the calls (timeout_ms left out).
inline constexpr std::chrono::milliseconds default_call_timeout{120'000};
inline constexpr std::chrono::milliseconds default_wait_timeout{std::chrono::hours(24)};
inline constexpr std::chrono::milliseconds default_download_timeout{std::chrono::hours(2)};
// The largest timeout_ms accepted: 30 days.
inline constexpr long long max_timeout_ms = 30LL * 24 * 3600 * 1000;

// {"credential_id", "timeout_ms"}
struct accounts_request {
  call_context context;  // credential only
  std::chrono::milliseconds timeout = default_call_timeout;
};

// {"credential_id", "advertiser_id", "marketplace_id", "timeout_ms"}
struct instances_request {
  call_context context;  // credential, advertiser and marketplace; no instance
  std::chrono::milliseconds timeout = default_call_timeout;
};

// The parts every instance-level request has: {"credential_id",
// "instance": {"instance_id", "advertiser_id", "marketplace_id"},
// "timeout_ms"}.
struct instance_request {
  call_context context;  // instance_checked is true after decoding
  std::chrono::milliseconds timeout = default_call_timeout;
};

// + "workflow": AMC's Workflow object (workflowId and sqlQuery: strings).
struct workflow_definition_request : instance_request {
  nlohmann::json workflow = nlohmann::json::object();
};
struct workflow_create_request : workflow_definition_request {};
struct workflow_update_request : workflow_definition_request {};
struct workflow_sync_request : workflow_definition_request {};

// + "workflow_id" (checked with validate_workflow_id).
struct workflow_named_request : instance_request {
  std::string workflow_id;
};
struct workflow_get_request : workflow_named_request {};
struct workflow_delete_request : workflow_named_request {};

struct workflow_list_request : instance_request {};

// Schedules. + "schedule": AMC's Schedule object (scheduleId and workflowId:
// required strings; aggregationPeriod, aggregationStartDay: strings;
// aggregationHourUtc: 0-23; scheduleEnabled, requireSyntheticData,
// disableAggregationControls: booleans; other AMC fields pass as they are).
struct schedule_definition_request : instance_request {
  nlohmann::json schedule = nlohmann::json::object();
};
struct schedule_create_request : schedule_definition_request {};
struct schedule_update_request : schedule_definition_request {};

// + "schedule_id" (checked with validate_path_id).
struct schedule_named_request : instance_request {
  std::string schedule_id;
};
struct schedule_get_request : schedule_named_request {};
struct schedule_delete_request : schedule_named_request {};

struct schedule_list_request : instance_request {};

// + "execution_id" (optional idempotency key) + "request" (AMC's
// CreateWorkflowExecutionRequest, checked by validate_execution_request).
struct execution_submit_request : instance_request {
  std::string execution_id;  // empty: a new one is made
  nlohmann::json request = nlohmann::json::object();
};

// + exactly one of "amc_execution_id" (AMC's id) and "execution_id" (our
// journaled id, looked up when the call runs).
struct execution_named_request : instance_request {
  std::string amc_execution_id;
  std::string execution_id;
};
struct execution_get_request : execution_named_request {};
struct execution_cancel_request : execution_named_request {};

// + "filters": minCreationTime or workflowId (one required),
// maxCreationTime, includeCancelled, sortAscending, timeZone, limit.
struct execution_list_request : instance_request {
  nlohmann::json filters = nlohmann::json::object();
};

// + "first_poll_ms" (doubling up to) "max_poll_ms"; timeout_ms defaults to
// 24 h.
struct execution_wait_request : execution_named_request {
  execution_wait_request() { timeout = default_wait_timeout; }
  std::chrono::milliseconds first_poll{5'000};
  std::chrono::milliseconds max_poll{60'000};
};

// + "directory" (required), "parallelism" (1-16); timeout_ms defaults to 2 h.
struct results_download_request : execution_named_request {
  results_download_request() { timeout = default_download_timeout; }
  std::filesystem::path directory;
  int parallelism = 4;
};

// Data sources (issue 24): + "filter" (optional text: keep the sources whose
// dataSourceId contains it, ignoring case).
struct data_source_list_request : instance_request {
  std::string filter;
};
// + "data_source_id" (required; checked as a URL path id).
struct data_source_get_request : instance_request {
  std::string data_source_id;
};
// The pre-flight check: + "request" (AMC's CreateWorkflowExecutionRequest,
// checked as a submit's is).
struct workflow_validate_request : instance_request {
  nlohmann::json request = nlohmann::json::object();
};
// Today's ad-hoc runs: the instance alone.
struct adhoc_quota_request : instance_request {};

// Each parses `json_text` (the shared parse helper, common/json_fields.hpp)
// and decodes it; throws invalid_argument as described above.
accounts_request decode_accounts_request(const char* json_text);
instances_request decode_instances_request(const char* json_text);
workflow_create_request decode_workflow_create_request(const char* json_text);
workflow_get_request decode_workflow_get_request(const char* json_text);
workflow_list_request decode_workflow_list_request(const char* json_text);
workflow_update_request decode_workflow_update_request(const char* json_text);
workflow_delete_request decode_workflow_delete_request(const char* json_text);
workflow_sync_request decode_workflow_sync_request(const char* json_text);
schedule_create_request decode_schedule_create_request(const char* json_text);
schedule_get_request decode_schedule_get_request(const char* json_text);
schedule_list_request decode_schedule_list_request(const char* json_text);
schedule_update_request decode_schedule_update_request(const char* json_text);
schedule_delete_request decode_schedule_delete_request(const char* json_text);
execution_submit_request decode_execution_submit_request(const char* json_text);
execution_get_request decode_execution_get_request(const char* json_text);
execution_list_request decode_execution_list_request(const char* json_text);
execution_cancel_request decode_execution_cancel_request(const char* json_text);
execution_wait_request decode_execution_wait_request(const char* json_text);
results_download_request decode_results_download_request(const char* json_text);
data_source_list_request decode_data_source_list_request(const char* json_text);
data_source_get_request decode_data_source_get_request(const char* json_text);
workflow_validate_request decode_workflow_validate_request(const char* json_text);
adhoc_quota_request decode_adhoc_quota_request(const char* json_text);

}  // namespace amc::api

// The requests of the other doors (authentication, watches): the same rules,
// decoded here, run by client/auth.hpp and client/watch.hpp.
namespace amc::client {

// {"redirect_uri" (required: one of the LwA client's Allowed Return URLs),
// "state", "scope"}: amc_auth_consent_url.
struct consent_request {
  std::string redirect_uri;
  std::string state;
  std::string scope = "advertising::campaign_management";
};

// {"credential_id", "code", "redirect_uri", "timeout_ms"}:
// amc_auth_exchange_code. The credential id is checked
// (store::validate_credential_id); code and redirect_uri are LwA's to judge.
struct code_exchange_request {
  std::string credential_id;
  std::string code;
  std::string redirect_uri;
  std::chrono::milliseconds timeout = api::default_call_timeout;
};

// {"credential_id", "refresh_token" (required)}: amc_auth_import. The
// refresh token is a secret: no message quotes it.
struct credential_import_request {
  std::string credential_id;
  std::string refresh_token;
};

// The credential id (a parameter of its own, checked) and {"timeout_ms"}
// (NULL or "" for none): amc_auth_refresh.
struct token_refresh_request {
  std::string credential_id;
  std::chrono::milliseconds timeout = api::default_call_timeout;
};

// {"credential_id", "instance", exactly one of "amc_execution_id" and
// "execution_id", "create_time" (AMC's createTime, optional)}: amc_watch.
// Or, for a watch of a workflow's runs, "workflow_id" (checked like every
// workflow id) and "since" (optional: a time like AMC's createTime) in
// place of the execution. The instance is checked like every instance-level
// request's; no timeout_ms: a watch lasts until its execution ends or it is
// unwatched.
struct watch_request {
  api::call_context context;
  std::string amc_execution_id;
  std::string execution_id;
  std::string create_time;
  std::string workflow_id;  // not empty: a watch of this workflow's runs
  std::string since;
};

consent_request decode_consent_request(const char* json_text);
code_exchange_request decode_code_exchange_request(const char* json_text);
credential_import_request decode_credential_import_request(const char* json_text);
token_refresh_request decode_token_refresh_request(std::string_view credential_id, const char* json_text);
watch_request decode_watch_request(const char* json_text);

}  // namespace amc::client
