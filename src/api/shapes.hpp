// AMC answers in two shapes: flat objects (what Amazon's docs and notebook
// show) and the OpenAPI spec's wrapped ones ({"workflowExecution": {...}}).
// Everything above this file sees one flat object.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace amc::api {

// `reply[wrapper]` when the reply wraps an object under that key, else the
// reply itself (moved out, never copied). Throws protocol when the result is
// not an object.
nlohmann::json unwrap(nlohmann::json reply, std::string_view wrapper, std::string_view what);

// Fields of AMC's replies, read with their type checked. `operation` is the
// spec's operationId ("getWorkflowExecution"), named in the message with
// the field. A reply of the wrong shape is protocol (AMC, or something in
// between, answered what the API does not define), never a library bug.
// nullopt when the field is missing or null.
std::optional<std::string> reply_string(const nlohmann::json& object, std::string_view field,
                                        std::string_view operation);
// The same for a field libamc needs: missing or null is protocol too.
std::string required_reply_string(const nlohmann::json& object, std::string_view field,
                                  std::string_view operation);
// A reply (or an item of a list) that must be a JSON object.
void require_reply_object(const nlohmann::json& value, std::string_view what, std::string_view operation);

// An execution as AMC's get, list and create replies hold it: an object
// whose workflowExecutionId and status (when present) are text, with the
// id required. Throws protocol naming the operation and the field.
void check_execution_reply(const nlohmann::json& execution, std::string_view operation, bool status_required);

enum class execution_phase { pending, running, publishing, succeeded, failed, cancelled, rejected, unknown };

execution_phase parse_execution_status(std::string_view status);

// The phase as hosts read it in an execution's "phase": "pending",
// "running", "publishing", "succeeded", "failed", "cancelled", "rejected",
// or "unknown" (no status, or one this libamc does not know yet).
std::string_view execution_phase_name(execution_phase phase);

// SUCCEEDED, FAILED, CANCELLED, REJECTED. Unknown statuses are not terminal:
// a new status AMC adds must not end a wait early.
bool is_terminal(execution_phase phase);

// Adds "terminal": true|false (is_terminal of its status; none or an unknown
// one: false) and "phase" (execution_phase_name) to an execution read from
// AMC. Every execution a host gets carries both, so no host keeps a list of
// statuses of its own.
void mark_terminal(nlohmann::json& execution);

// AMC's reason for a FAILED/REJECTED execution, from whichever field carries
// it (statusReason, message, details, messageSubject, or an output
// channel's statusReason); empty when none does.
std::string failure_reason(const nlohmann::json& execution);

}  // namespace amc::api
