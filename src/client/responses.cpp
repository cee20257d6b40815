#include "client/responses.hpp"

#include "store/credential_json.hpp"

#include <string>

namespace amc::client {
namespace {

void send(progress_callback callback, void* user, const nlohmann::json& event) {
  const std::string text = event.dump();
  callback(text.c_str(), user);
}

}  // namespace

nlohmann::json submission_json(const api::submission& result) {
  return {{"execution_id", result.execution_id},
          {"amc_execution_id", result.amc_execution_id},
          {"reattached", result.reattached},
          {"execution", result.execution}};
}

nlohmann::json credential_status_json(const store::credential_record& credential) {
  return store::credential_to_json(credential, false);
}

wait_progress wait_progress_callback(progress_callback callback, void* user) {
  if (callback == nullptr) return nullptr;
  return [callback, user](const nlohmann::json& execution, std::chrono::milliseconds next_poll) {
    send(callback, user, {{"event", "status"}, {"execution", execution}, {"next_poll_ms", next_poll.count()}});
  };
}

std::function<void(const api::download_event&)> download_progress_callback(progress_callback callback, void* user) {
  if (callback == nullptr) return nullptr;
  return [callback, user](const api::download_event& event) {
    send(callback, user,
         {{"event", "download"}, {"part", event.part}, {"parts", event.parts}, {"bytes", event.bytes},
          {"total_bytes", event.total_bytes}});
  };
}

}  // namespace amc::client
