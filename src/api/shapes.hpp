// AMC answers in two shapes: flat objects (what Amazon's docs and notebook
// show) and the OpenAPI spec's wrapped ones ({"workflowExecution": {...}}).
// Everything above this file sees one flat object.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace amc::api {

// `reply[wrapper]` when the reply wraps an object under that key, else the
// reply itself. Throws protocol when the result is not an object.
nlohmann::json unwrap(const nlohmann::json& reply, std::string_view wrapper, std::string_view what);

enum class execution_phase { pending, running, publishing, succeeded, failed, cancelled, rejected, unknown };

execution_phase parse_execution_status(std::string_view status);

// SUCCEEDED, FAILED, CANCELLED, REJECTED. Unknown statuses are not terminal:
// a new status AMC adds must not end a wait early.
bool is_terminal(execution_phase phase);

// AMC's reason for a FAILED/REJECTED execution, from whichever field carries
// it (statusReason, message, details, messageSubject, or an output
// channel's statusReason); empty when none does.
std::string failure_reason(const nlohmann::json& execution);

}  // namespace amc::api
