#include "api/shapes.hpp"

#include "common/error.hpp"

#include <fmt/format.h>

namespace amc::api {

nlohmann::json unwrap(nlohmann::json reply, std::string_view wrapper, std::string_view what) {
  if (reply.is_object()) {
    const auto inner = reply.find(wrapper);
    if (inner != reply.end() && inner->is_object()) return std::move(*inner);
    return reply;
  }
  throw error(errc::protocol, fmt::format("AMC's reply for {} is not a JSON object", what));
}

namespace {

[[noreturn]] void throw_wrong_shape(std::string_view field, std::string_view operation, std::string_view found) {
  throw error(errc::protocol,
              fmt::format("AMC's reply to {} has \"{}\" {}, where the API defines text; the reply is not "
                          "what AMC's API defines (a proxy or a changed API?): retry, and report it if it "
                          "persists",
                          operation, field, found),
              {{"operation", operation}, {"field", field}});
}

}  // namespace

std::optional<std::string> reply_string(const nlohmann::json& object, std::string_view field,
                                        std::string_view operation) {
  require_reply_object(object, "reply", operation);
  const auto found = object.find(field);
  if (found == object.end() || found->is_null()) return std::nullopt;
  if (!found->is_string()) throw_wrong_shape(field, operation, fmt::format("of type {}", found->type_name()));
  return found->get<std::string>();
}

std::string required_reply_string(const nlohmann::json& object, std::string_view field,
                                  std::string_view operation) {
  auto value = reply_string(object, field, operation);
  if (!value) throw_wrong_shape(field, operation, object.contains(field) ? "null" : "missing");
  return std::move(*value);
}

void require_reply_object(const nlohmann::json& value, std::string_view what, std::string_view operation) {
  if (!value.is_object())
    throw error(errc::protocol,
                fmt::format("AMC's reply to {} has a {} that is {}, not a JSON object; retry, and report it if "
                            "it persists",
                            operation, what, value.type_name()),
                {{"operation", operation}});
}

void check_execution_reply(const nlohmann::json& execution, std::string_view operation, bool status_required) {
  require_reply_object(execution, "workflow execution", operation);
  required_reply_string(execution, "workflowExecutionId", operation);
  if (status_required) required_reply_string(execution, "status", operation);
  else reply_string(execution, "status", operation);
  reply_string(execution, "workflowId", operation);
}

execution_phase parse_execution_status(std::string_view status) {
  if (status == "PENDING") return execution_phase::pending;
  if (status == "RUNNING") return execution_phase::running;
  if (status == "PUBLISHING") return execution_phase::publishing;
  if (status == "SUCCEEDED") return execution_phase::succeeded;
  if (status == "FAILED") return execution_phase::failed;
  if (status == "CANCELLED") return execution_phase::cancelled;
  if (status == "REJECTED") return execution_phase::rejected;
  return execution_phase::unknown;
}

bool is_terminal(execution_phase phase) {
  return phase == execution_phase::succeeded || phase == execution_phase::failed ||
         phase == execution_phase::cancelled || phase == execution_phase::rejected;
}

std::string_view execution_phase_name(execution_phase phase) {
  switch (phase) {
    case execution_phase::pending: return "pending";
    case execution_phase::running: return "running";
    case execution_phase::publishing: return "publishing";
    case execution_phase::succeeded: return "succeeded";
    case execution_phase::failed: return "failed";
    case execution_phase::cancelled: return "cancelled";
    case execution_phase::rejected: return "rejected";
    case execution_phase::unknown: break;
  }
  return "unknown";
}

void mark_terminal(nlohmann::json& execution) {
  const auto status = execution.find("status");
  const auto phase = status != execution.end() && status->is_string()
                         ? parse_execution_status(status->get_ref<const std::string&>())
                         : execution_phase::unknown;
  execution["terminal"] = is_terminal(phase);
  execution["phase"] = execution_phase_name(phase);
}

std::string failure_reason(const nlohmann::json& execution) {
  if (!execution.is_object()) return {};
  for (const char* field : {"statusReason", "message", "details", "messageSubject", "errorMessage"}) {
    const auto found = execution.find(field);
    if (found != execution.end() && found->is_string() && !found->get_ref<const std::string&>().empty())
      return found->get<std::string>();
  }
  const auto channels = execution.find("outputChannels");
  if (channels != execution.end() && channels->is_array())
    for (const auto& channel : *channels)
      if (channel.is_object() && channel.contains("statusReason") && channel["statusReason"].is_string())
        return channel["statusReason"].get<std::string>();
  return {};
}

}  // namespace amc::api
