// What AMC's limits cost before a run starts: the pre-flight check (every
// table the SQL reads is one of the instance's data sources, and AMC
// compiles the SQL in a dry run, which its spec says uses no quota) and the
// ad-hoc quota (AMC allows 30 ad-hoc runs per instance per UTC day), read
// from AMC's own list of executions and turned into its own error when AMC
// refuses a run for it.
#pragma once

#include "api/session.hpp"
#include "common/error.hpp"

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace amc::api {

// AMC's limit of ad-hoc runs per instance per day (workflow-management spec,
// createWorkflowExecution: "up to 30 times per day, per AMC instance ...
// across all Workflow IDs"). The day is the UTC day.
inline constexpr int adhoc_daily_limit = 30;

// Whether a CreateWorkflowExecutionRequest is an ad-hoc run that counts
// toward the limit: an inline "workflow", not a dry run.
bool is_counted_adhoc_run(const nlohmann::json& request);

// Whether an execution AMC lists counts toward today's limit: ad hoc
// ("executionCategory": "AD_HOC", or without that field a "transient_…"
// workflowId, AMC's id for an inline workflow) and not REJECTED.
bool counts_toward_adhoc_limit(const nlohmann::json& execution);

// Today's ad-hoc runs of the context's instance, from
// listWorkflowExecutions (minCreationTime = today 00:00:00 UTC,
// includeCancelled, every page):
// {"instance_id", "adhoc_executions_today", "adhoc_limit", "adhoc_remaining",
//  "day_start", "resets_at"} (times "yyyy-MM-ddTHH:mm:ssZ").
boost::asio::awaitable<nlohmann::json> adhoc_quota(session& amc, const call_context& context);

// After AMC refused an ad-hoc run (`amc_said`: its words, may be empty):
// throws errc::adhoc_quota when the instance's runs of today have reached
// the limit; returns otherwise (also when the count cannot be read: the
// caller then reports AMC's refusal as it was).
boost::asio::awaitable<void> throw_if_adhoc_quota_used(session& amc, const call_context& context,
                                                       std::string amc_said);

// The pre-flight check of an execution request (AMC's
// CreateWorkflowExecutionRequest; a saved workflow's SQL is read with
// getWorkflow): the tables it reads against listDataSources, and a dry run
// ("dryRun": true). → {"valid": true, "tables", "unknown_tables": [],
// "compile_error": null, "dry_run": {the flat execution}}. A failed check
// throws invalid_argument with the same report (valid false) as detail
// "preflight": unknown tables [{"table", "line", "closest"}] and AMC's
// compile error {"message", "line"}. Never starts a counted run.
boost::asio::awaitable<nlohmann::json> validate_workflow(session& amc, const call_context& context,
                                                         nlohmann::json request);

// The line a compile message names ("line 3", "Line 3:5"), or 0.
int line_named_in(std::string_view message);

}  // namespace amc::api
