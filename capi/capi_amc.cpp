// AMC discovery, workflows, schedules and executions through the C ABI: one row of the
// table (capi_table.hpp) per entry point: its name and parameters (the name
// is also its fail point), the handle, the out-param, the decoder of its
// request (client/requests.hpp: strict, validated once), the façade call
// (client/operations.hpp) and the encoder of the result into the JSON amc.h
// documents (client/responses.hpp, or AMC's own object as it is). No AMC
// rule lives here.
#include "capi_table.hpp"

#include "client/operations.hpp"
#include "client/requests.hpp"
#include "client/responses.hpp"

#include "capi_client.hpp"

struct amc_cancel_token {
  std::shared_ptr<amc::client::cancellation> cancellation = std::make_shared<amc::client::cancellation>();
};

namespace {

using amc::capi::as_is;
using amc::capi::checked;
using amc::capi::guarded;
using amc::capi::no_handle;
using amc::capi::require;
using amc::capi::required_text;
namespace api = amc::api;
namespace facade = amc::client;

// The calls of the two entry points that take more than a request (a
// cancel token, a progress callback): the façade call with those.
auto wait_with(amc_cancel_token* cancel, amc_progress_callback progress, void* user) {
  return [=](facade::client& core, const api::execution_wait_request& request, facade::call_deadline deadline) {
    return facade::wait(core, request, deadline, cancel != nullptr ? cancel->cancellation : nullptr,
                        facade::wait_progress_callback(progress, user));
  };
}

auto download_with(amc_progress_callback progress, void* user) {
  return [=](facade::client& core, const api::results_download_request& request, facade::call_deadline deadline) {
    return facade::download(core, request, deadline, nullptr, facade::download_progress_callback(progress, user));
  };
}

}  // namespace

// The table. Written out by hand instead: the cancel token's three entry
// points below (no request to decode, nothing to call in the core).
extern "C" {

#define AMC_OPERATION(name, decode, call, encode)                                                          \
  AMC_ENTRY(name, (amc_client * client, const char* request_json, char** out_json), checked(client), out_json, \
            decode(request_json), call, encode)

AMC_OPERATION(amc_accounts_list, api::decode_accounts_request, facade::accounts, as_is)
AMC_OPERATION(amc_instances_list, api::decode_instances_request, facade::instances, as_is)
AMC_OPERATION(amc_workflow_create, api::decode_workflow_create_request, facade::workflow_create, as_is)
AMC_OPERATION(amc_workflow_get, api::decode_workflow_get_request, facade::workflow_get, as_is)
AMC_OPERATION(amc_workflow_list, api::decode_workflow_list_request, facade::workflow_list, as_is)
AMC_OPERATION(amc_workflow_update, api::decode_workflow_update_request, facade::workflow_update, as_is)
AMC_OPERATION(amc_workflow_delete, api::decode_workflow_delete_request, facade::workflow_delete, as_is)
AMC_OPERATION(amc_workflow_sync, api::decode_workflow_sync_request, facade::workflow_sync, as_is)
AMC_OPERATION(amc_schedule_create, api::decode_schedule_create_request, facade::schedule_create, as_is)
AMC_OPERATION(amc_schedule_get, api::decode_schedule_get_request, facade::schedule_get, as_is)
AMC_OPERATION(amc_schedule_list, api::decode_schedule_list_request, facade::schedule_list, as_is)
AMC_OPERATION(amc_schedule_update, api::decode_schedule_update_request, facade::schedule_update, as_is)
AMC_OPERATION(amc_schedule_delete, api::decode_schedule_delete_request, facade::schedule_delete, as_is)
AMC_OPERATION(amc_execution_submit, api::decode_execution_submit_request, facade::submit, facade::submission_json)
AMC_OPERATION(amc_execution_get, api::decode_execution_get_request, facade::get, as_is)
AMC_OPERATION(amc_execution_list, api::decode_execution_list_request, facade::list, as_is)
AMC_OPERATION(amc_execution_cancel, api::decode_execution_cancel_request, facade::cancel, as_is)
AMC_OPERATION(amc_data_source_list, api::decode_data_source_list_request, facade::data_source_list, as_is)
AMC_OPERATION(amc_data_source_get, api::decode_data_source_get_request, facade::data_source_get, as_is)
AMC_OPERATION(amc_workflow_validate, api::decode_workflow_validate_request, facade::workflow_validate, as_is)
AMC_OPERATION(amc_adhoc_quota, api::decode_adhoc_quota_request, facade::adhoc_quota, as_is)

#undef AMC_OPERATION

AMC_ENTRY(amc_workflow_id_from_name, (const char* name, char** out_workflow_id), no_handle, out_workflow_id,
          required_text(name, "name"), facade::workflow_id_from_name, as_is)

AMC_ENTRY(amc_execution_wait,
          (amc_client * client, const char* request_json, amc_cancel_token* cancel, amc_progress_callback progress,
           void* user, char** out_json),
          checked(client), out_json, api::decode_execution_wait_request(request_json),
          wait_with(cancel, progress, user), as_is)

AMC_ENTRY(amc_results_download,
          (amc_client * client, const char* request_json, amc_progress_callback progress, void* user,
           char** out_manifest_json),
          checked(client), out_manifest_json, api::decode_results_download_request(request_json),
          download_with(progress, user), as_is)

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

}  // extern "C"
