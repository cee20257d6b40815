// AMC discovery, workflows and executions through the C ABI. Each entry
// point is guard -> decode -> call -> encode: the typed request comes from
// client/requests.hpp (strict, validated once), the call is the client façade
// (client/operations.hpp), and the result is encoded as the JSON amc.h
// documents. No AMC rule lives here.
#include "capi_support.hpp"

#include "client/requests.hpp"
#include "client/operations.hpp"

#include "capi_client.hpp"

struct amc_cancel_token {
  std::shared_ptr<amc::client::cancellation> cancellation = std::make_shared<amc::client::cancellation>();
};

namespace {

using amc::capi::guarded;
using amc::capi::require;
using amc::capi::to_c_string;
using nlohmann::json;
namespace api = amc::api;
namespace facade = amc::client;

// The call's deadline, counted from now: the request's timeout_ms (or the
// request type's default).
template <class Request>
facade::call_deadline deadline_of(const Request& request) {
  return facade::call_deadline::after(request.timeout);
}

void call_progress(amc_progress_callback progress, void* user, const json& event) {
  const std::string text = event.dump();
  progress(text.c_str(), user);
}

}  // namespace

extern "C" {

AMC_API amc_status amc_accounts_list(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_accounts_list", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_accounts_request(request_json);
    *out_json = to_c_string(facade::accounts(core, request, deadline_of(request)).dump());
  });
}

AMC_API amc_status amc_instances_list(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_instances_list", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_instances_request(request_json);
    *out_json = to_c_string(facade::instances(core, request, deadline_of(request)).dump());
  });
}

AMC_API amc_status amc_workflow_create(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_create", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_workflow_create_request(request_json);
    *out_json = to_c_string(facade::workflow_create(core, request, deadline_of(request)).dump());
  });
}

AMC_API amc_status amc_workflow_get(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_get", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_workflow_get_request(request_json);
    *out_json = to_c_string(facade::workflow_get(core, request, deadline_of(request)).dump());
  });
}

AMC_API amc_status amc_workflow_list(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_list", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_workflow_list_request(request_json);
    *out_json = to_c_string(facade::workflow_list(core, request, deadline_of(request)).dump());
  });
}

AMC_API amc_status amc_workflow_update(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_update", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_workflow_update_request(request_json);
    *out_json = to_c_string(facade::workflow_update(core, request, deadline_of(request)).dump());
  });
}

AMC_API amc_status amc_workflow_delete(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_delete", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_workflow_delete_request(request_json);
    facade::workflow_delete(core, request, deadline_of(request));
    *out_json = to_c_string("{}");
  });
}

AMC_API amc_status amc_workflow_sync(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_sync", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_workflow_sync_request(request_json);
    *out_json = to_c_string(facade::workflow_sync(core, request, deadline_of(request)).dump());
  });
}

AMC_API amc_status amc_workflow_id_from_name(const char* name, char** out_workflow_id) {
  return guarded("amc_workflow_id_from_name", [&] {
    require(name, "name");
    require(out_workflow_id, "out_workflow_id");
    *out_workflow_id = to_c_string(facade::workflow_id_from_name(name));
  });
}

AMC_API amc_status amc_execution_submit(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_execution_submit", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_execution_submit_request(request_json);
    const auto result = facade::submit(core, request, deadline_of(request));
    *out_json = to_c_string(json{{"execution_id", result.execution_id},
                                 {"amc_execution_id", result.amc_execution_id},
                                 {"reattached", result.reattached},
                                 {"execution", result.execution}}
                                .dump());
  });
}

AMC_API amc_status amc_execution_get(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_execution_get", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_execution_get_request(request_json);
    *out_json = to_c_string(facade::get(core, request, deadline_of(request)).dump());
  });
}

AMC_API amc_status amc_execution_list(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_execution_list", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_execution_list_request(request_json);
    *out_json = to_c_string(facade::list(core, request, deadline_of(request)).dump());
  });
}

AMC_API amc_status amc_execution_cancel(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_execution_cancel", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_execution_cancel_request(request_json);
    *out_json = to_c_string(facade::cancel(core, request, deadline_of(request)).dump());
  });
}

AMC_API amc_status amc_cancel_token_new(amc_cancel_token** out_token) {
  return guarded("amc_cancel_token_new", [&] {
    require(out_token, "out_token");
    *out_token = new amc_cancel_token();
  });
}

AMC_API void amc_cancel_token_cancel(amc_cancel_token* token) {
  if (token == nullptr) return;
  try {
    token->cancellation->cancel();
  } catch (...) {
    // Nothing to report through a void function; the flag is set first.
  }
}

AMC_API void amc_cancel_token_free(amc_cancel_token* token) { delete token; }

AMC_API amc_status amc_execution_wait(amc_client* client, const char* request_json, amc_cancel_token* cancel,
                                      amc_progress_callback progress, void* user, char** out_json) {
  return guarded("amc_execution_wait", [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = api::decode_execution_wait_request(request_json);
    facade::wait_progress on_status;
    if (progress != nullptr)
      on_status = [progress, user](const json& execution, std::chrono::milliseconds next_poll) {
        call_progress(progress, user,
                      {{"event", "status"}, {"execution", execution}, {"next_poll_ms", next_poll.count()}});
      };
    const auto execution = facade::wait(core, request, deadline_of(request),
                                        cancel != nullptr ? cancel->cancellation : nullptr, std::move(on_status));
    *out_json = to_c_string(execution.dump());
  });
}

AMC_API amc_status amc_results_download(amc_client* client, const char* request_json,
                                        amc_progress_callback progress, void* user,
                                        char** out_manifest_json) {
  return guarded("amc_results_download", [&] {
    auto& core = amc::capi::checked(client);
    require(out_manifest_json, "out_manifest_json");
    const auto request = api::decode_results_download_request(request_json);
    std::function<void(const api::download_event&)> on_part;
    if (progress != nullptr)
      on_part = [progress, user](const api::download_event& event) {
        call_progress(progress, user,
                      {{"event", "download"}, {"part", event.part}, {"parts", event.parts},
                       {"bytes", event.bytes}, {"total_bytes", event.total_bytes}});
      };
    *out_manifest_json =
        to_c_string(facade::download(core, request, deadline_of(request), nullptr, std::move(on_part)).dump());
  });
}

}  // extern "C"
