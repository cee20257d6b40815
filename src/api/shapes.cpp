#include "api/shapes.hpp"

#include "common/error.hpp"

#include <fmt/format.h>

namespace amc::api {

nlohmann::json unwrap(const nlohmann::json& reply, std::string_view wrapper, std::string_view what) {
  if (reply.is_object()) {
    const auto inner = reply.find(wrapper);
    if (inner != reply.end() && inner->is_object()) return *inner;
    return reply;
  }
  throw error(errc::protocol, fmt::format("AMC's reply for {} is not a JSON object", what));
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
