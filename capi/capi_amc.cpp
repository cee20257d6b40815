// AMC discovery, workflows and executions through the C ABI. Each entry
// point is one row of the table below: its name (also its fail point), the
// decoder of its request (client/requests.hpp: strict, validated once), the
// façade call (client/operations.hpp) and the encoder of the result into the
// JSON amc.h documents. run_operation does the rest the same way for every
// row: guard, check the handle and out-param, count the deadline from now.
// No AMC rule lives here.
#include "capi_support.hpp"

#include "client/operations.hpp"
#include "client/requests.hpp"

#include <type_traits>

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

// Encoders: the façade's result as the JSON amc.h documents.
const json& as_is(const json& result) { return result; }

json submission_json(const api::submission& result) {
  return {{"execution_id", result.execution_id},
          {"amc_execution_id", result.amc_execution_id},
          {"reattached", result.reattached},
          {"execution", result.execution}};
}

// One entry point of the shape (client, request_json, out_json): guard,
// decode, call, encode. A call that returns nothing answers "{}".
template <class Decode, class Call, class Encode>
amc_status run_operation(const char* name, amc_client* client, const char* request_json, char** out_json,
                         Decode decode, Call call, Encode encode) {
  return guarded(name, [&] {
    auto& core = amc::capi::checked(client);
    require(out_json, "out_json");
    const auto request = decode(request_json);
    if constexpr (std::is_void_v<decltype(call(core, request, deadline_of(request), nullptr))>) {
      call(core, request, deadline_of(request), nullptr);
      *out_json = to_c_string("{}");
    } else {
      *out_json = to_c_string(encode(call(core, request, deadline_of(request), nullptr)).dump());
    }
  });
}

constexpr auto no_result = nullptr;

void call_progress(amc_progress_callback progress, void* user, const json& event) {
  const std::string text = event.dump();
  progress(text.c_str(), user);
}

}  // namespace

// The table: one row per entry point (name, decode, call, encode).
#define AMC_OPERATION(name, decode, call, encode)                                                 \
  AMC_API amc_status name(amc_client* client, const char* request_json, char** out_json) {        \
    return run_operation(#name, client, request_json, out_json, decode, call, encode);            \
  }

extern "C" {

AMC_OPERATION(amc_accounts_list, api::decode_accounts_request, facade::accounts, as_is)
AMC_OPERATION(amc_instances_list, api::decode_instances_request, facade::instances, as_is)
AMC_OPERATION(amc_workflow_create, api::decode_workflow_create_request, facade::workflow_create, as_is)
AMC_OPERATION(amc_workflow_get, api::decode_workflow_get_request, facade::workflow_get, as_is)
AMC_OPERATION(amc_workflow_list, api::decode_workflow_list_request, facade::workflow_list, as_is)
AMC_OPERATION(amc_workflow_update, api::decode_workflow_update_request, facade::workflow_update, as_is)
AMC_OPERATION(amc_workflow_delete, api::decode_workflow_delete_request, facade::workflow_delete, no_result)
AMC_OPERATION(amc_workflow_sync, api::decode_workflow_sync_request, facade::workflow_sync, as_is)
AMC_OPERATION(amc_execution_submit, api::decode_execution_submit_request, facade::submit, submission_json)
AMC_OPERATION(amc_execution_get, api::decode_execution_get_request, facade::get, as_is)
AMC_OPERATION(amc_execution_list, api::decode_execution_list_request, facade::list, as_is)
AMC_OPERATION(amc_execution_cancel, api::decode_execution_cancel_request, facade::cancel, as_is)

}  // extern "C"

#undef AMC_OPERATION

// The entry points of other shapes: the same steps, written out.
extern "C" {

AMC_API amc_status amc_workflow_id_from_name(const char* name, char** out_workflow_id) {
  return guarded("amc_workflow_id_from_name", [&] {
    require(name, "name");
    require(out_workflow_id, "out_workflow_id");
    *out_workflow_id = to_c_string(facade::workflow_id_from_name(name));
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
