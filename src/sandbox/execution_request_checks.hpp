// The checks of a CreateWorkflowExecutionRequest (shared/specs,
// amc-api.md 4.1): which workflow runs, its time window in its time zone,
// parameter values, timeout and flags. Kept apart from the sandbox's state
// (only a saved workflow is looked up, through a callback) so that each rule
// AMC applies to the request can be read in one place.
#pragma once

#include "sandbox/result_rows.hpp"
#include "sandbox/time_zone.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace amc::sandbox {

// workflowExecutionTimeoutSeconds: AMC's range; the maximum is also the
// default (amc-api.md).
inline constexpr long minimum_timeout_seconds = 900;
inline constexpr long maximum_timeout_seconds = 86400;

// A request that passed every check: what the new execution is made of.
struct checked_execution_request {
  bool ad_hoc = false;
  std::string workflow_id;  // empty for an ad-hoc run that named none
  std::string sql;
  nlohmann::json output_columns = nlohmann::json::array();
  csv_dialect dialect;  // the workflow's outputFormat
  time_zone zone;       // timeWindowTimeZone
  std::int64_t window_start = 0;  // the time window in UTC unix seconds, [start, end)
  std::int64_t window_end = 0;
  long timeout_seconds = 0;
  bool dry_run = false;
  nlohmann::json echoed = nlohmann::json::object();  // request fields AMC echoes back
};

// Why a request was refused: the HTTP status (400, or 422 for a missing
// saved workflow or parameter value) and the Error body's details.
struct execution_request_error {
  int status = 400;
  std::string details;
};

// Checks `body` (the parsed request; discarded when it was not JSON) at the
// sandbox time `now`, in unix seconds. `saved_workflow(id)` is the saved
// definition of that workflow, or nullptr.
std::variant<checked_execution_request, execution_request_error> check_execution_request(
    const nlohmann::json& body, double now, const std::function<const nlohmann::json*(std::string_view)>& saved_workflow);

}  // namespace amc::sandbox
