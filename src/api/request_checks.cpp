// The checks of what a caller asks AMC to do, made before any request: the
// instance part of a context and an execution request (declared in
// api/operations.hpp). Kept apart from the operations' coroutines so that
// the request decoders (client/requests.cpp) and their fuzz target
// (tests/fuzz) link them without the HTTP stack.
#include "api/operations.hpp"

#include "api/ids.hpp"
#include "common/error.hpp"
#include "common/text.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <set>
#include <string>

namespace amc::api {

void validate_instance_context(const call_context& context) {
  if (context.instance_checked) return;  // checked once, when the request was decoded
  validate_path_id(context.instance_id, "instance id");
  validate_advertiser_id(context.advertiser_id);
  validate_path_id(context.marketplace_id, "marketplace id");
}

void validate_execution_request(const nlohmann::json& request) {
  if (!request.is_object())
    throw error(errc::invalid_argument, "the execution request must be a JSON object");
  const bool saved = request.contains("workflowId") && !request["workflowId"].is_null();
  const auto inline_workflow = request.find("workflow");
  const bool ad_hoc = inline_workflow != request.end() && !inline_workflow->is_null();
  if (saved == ad_hoc)
    throw error(errc::invalid_argument,
                "an execution request needs exactly one of \"workflowId\" (a saved workflow) and "
                "\"workflow\": {\"sqlQuery\": ...} (an ad-hoc run)");
  if (saved) {
    if (!request["workflowId"].is_string())
      throw error(errc::invalid_argument, "\"workflowId\" must be text");
    validate_workflow_id(request["workflowId"].get_ref<const std::string&>());
  } else {
    if (!inline_workflow->is_object() || !inline_workflow->contains("sqlQuery") ||
        !(*inline_workflow)["sqlQuery"].is_string())
      throw error(errc::invalid_argument, "an ad-hoc run needs \"workflow\": {\"sqlQuery\": \"...\"}");
    if (inline_workflow->contains("workflowId") && (*inline_workflow)["workflowId"].is_string())
      validate_workflow_id((*inline_workflow)["workflowId"].get_ref<const std::string&>());
  }
  const std::string window = request.value("timeWindowType", "MOST_RECENT_DAY");
  static const std::set<std::string> windows = {"EXPLICIT",      "MOST_RECENT_DAY", "MOST_RECENT_WEEK",
                                                "CURRENT_MONTH", "PREVIOUS_MONTH",  "ALL"};
  if (!windows.count(window))
    throw error(errc::invalid_argument,
                fmt::format("unknown timeWindowType {}: use EXPLICIT, MOST_RECENT_DAY, "
                            "MOST_RECENT_WEEK, CURRENT_MONTH, PREVIOUS_MONTH or ALL",
                            quoted_text(window)));
  const bool has_start = request.contains("timeWindowStart") && !request["timeWindowStart"].is_null();
  const bool has_end = request.contains("timeWindowEnd") && !request["timeWindowEnd"].is_null();
  if (window == "EXPLICIT" && !(has_start && has_end))
    throw error(errc::invalid_argument,
                "an EXPLICIT time window needs both timeWindowStart and timeWindowEnd "
                "(yyyy-MM-ddTHH:mm:ss)");
  if (window != "EXPLICIT" && (has_start || has_end))
    throw error(errc::invalid_argument,
                fmt::format("timeWindowStart/timeWindowEnd go only with timeWindowType EXPLICIT, "
                            "not {}",
                            window));
  if (const auto timeout = request.find("workflowExecutionTimeoutSeconds");
      timeout != request.end() && !timeout->is_null()) {
    long long seconds = 0;
    if (timeout->is_number_integer()) seconds = timeout->get<long long>();
    else if (timeout->is_string()) seconds = std::atoll(timeout->get_ref<const std::string&>().c_str());
    if (seconds < 900)
      throw error(errc::invalid_argument,
                  "workflowExecutionTimeoutSeconds must be at least 900 (AMC's minimum)");
  }
}

}  // namespace amc::api
