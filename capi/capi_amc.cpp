// AMC discovery, workflows and executions through the C ABI: parse the
// request, run the operation on the client's io_context, return flat JSON.
#include "capi_support.hpp"

#include "api/executions.hpp"
#include "api/ids.hpp"
#include "api/operations.hpp"
#include "api/results.hpp"
#include "api/shapes.hpp"
#include "client/client.hpp"
#include "common/json_fields.hpp"
#include "common/text.hpp"

#include <fmt/format.h>

#include "capi_client.hpp"

struct amc_cancel_token {
  std::shared_ptr<amc::api::wait_cancellation> cancellation =
      std::make_shared<amc::api::wait_cancellation>();
};

namespace {

using amc::capi::guarded;
using amc::capi::require;
using amc::capi::to_c_string;
using nlohmann::json;
namespace asio = boost::asio;

// A parsed request: the client, the context, and the fields left for the
// operation.
struct parsed_request {
  amc::client::client* client = nullptr;
  amc::api::call_context context;
  json body;
  std::chrono::milliseconds timeout{120'000};
};

parsed_request parse(amc_client* handle, const char* request_json, std::string_view what,
                     std::initializer_list<std::string_view> fields, bool needs_instance) {
  require(handle, "client");
  handle->core->check_process();
  parsed_request parsed;
  parsed.client = handle->core.get();
  parsed.body = amc::parse_json_object(request_json, what, false);
  std::vector<std::string_view> known{"credential_id", "timeout_ms"};
  if (needs_instance) known.push_back("instance");
  known.insert(known.end(), fields.begin(), fields.end());
  for (const auto& item : parsed.body.items())
    if (std::find(known.begin(), known.end(), item.key()) == known.end())
      throw amc::error(amc::errc::invalid_argument,
                       fmt::format("unknown field {} in the {}; known fields: {}", amc::quoted_text(item.key()), what,
                                   fmt::join(known, ", ")));
  const auto credential = amc::optional_string(parsed.body, "credential_id", what);
  if (!credential)
    throw amc::error(amc::errc::invalid_argument, fmt::format("the {} needs a \"credential_id\"", what));
  parsed.context.credential_id = *credential;
  if (needs_instance) {
    const auto instance = parsed.body.find("instance");
    if (instance == parsed.body.end() || !instance->is_object())
      throw amc::error(amc::errc::invalid_argument,
                       fmt::format("the {} needs \"instance\": {{\"instance_id\", \"advertiser_id\", "
                                   "\"marketplace_id\"}}",
                                   what));
    amc::reject_unknown_fields(*instance, {"instance_id", "advertiser_id", "marketplace_id"}, "instance");
    parsed.context.instance_id = amc::optional_string(*instance, "instance_id", "instance").value_or("");
    parsed.context.advertiser_id = amc::optional_string(*instance, "advertiser_id", "instance").value_or("");
    parsed.context.marketplace_id = amc::optional_string(*instance, "marketplace_id", "instance").value_or("");
    amc::api::validate_instance_context(parsed.context);
  }
  if (const auto timeout = parsed.body.find("timeout_ms"); timeout != parsed.body.end()) {
    if (!timeout->is_number_integer() || timeout->get<long long>() <= 0)
      throw amc::error(amc::errc::invalid_argument, "timeout_ms must be a positive whole number");
    parsed.timeout = std::chrono::milliseconds(timeout->get<long long>());
  }
  return parsed;
}

template <class T>
T run(parsed_request& request, asio::awaitable<T> operation) {
  return request.client->run_blocking(std::move(operation), request.timeout);
}

json required_object(const json& body, const char* field, std::string_view what) {
  const auto found = body.find(field);
  if (found == body.end() || !found->is_object())
    throw amc::error(amc::errc::invalid_argument,
                     fmt::format("the {} needs \"{}\" (a JSON object)", what, field));
  return *found;
}

std::string required_string(const json& body, const char* field, std::string_view what) {
  const auto value = amc::optional_string(body, field, what);
  if (!value || value->empty())
    throw amc::error(amc::errc::invalid_argument, fmt::format("the {} needs \"{}\"", what, field));
  return *value;
}

// The AMC execution id named by a request: amc_execution_id, or the
// journaled execution_id.
std::string execution_named_by(parsed_request& request, std::string_view what) {
  if (const auto amc_id = amc::optional_string(request.body, "amc_execution_id", what)) return *amc_id;
  if (const auto id = amc::optional_string(request.body, "execution_id", what))
    return amc::api::journaled_amc_id(request.client->journal(), *id);
  throw amc::error(amc::errc::invalid_argument,
                   fmt::format("the {} needs \"amc_execution_id\" or \"execution_id\"", what));
}

void call_progress(amc_progress_callback progress, void* user, const json& event) {
  if (progress == nullptr) return;
  const std::string text = event.dump();
  progress(text.c_str(), user);
}

}  // namespace

extern "C" {

AMC_API amc_status amc_accounts_list(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_accounts_list", [&] {
    auto request = parse(client, request_json, "accounts request", {}, false);
    require(out_json, "out_json");
    auto listing = run(request, amc::api::list_accounts(request.client->amc(), request.context));
    *out_json = to_c_string(json{{"accounts", listing["amcAccounts"]}}.dump());
  });
}

AMC_API amc_status amc_instances_list(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_instances_list", [&] {
    auto request = parse(client, request_json, "instances request", {"advertiser_id", "marketplace_id"}, false);
    require(out_json, "out_json");
    request.context.advertiser_id = required_string(request.body, "advertiser_id", "instances request");
    request.context.marketplace_id = required_string(request.body, "marketplace_id", "instances request");
    *out_json = to_c_string(run(request, amc::api::list_instances(request.client->amc(), request.context)).dump());
  });
}

AMC_API amc_status amc_workflow_create(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_create", [&] {
    auto request = parse(client, request_json, "workflow request", {"workflow"}, true);
    require(out_json, "out_json");
    auto workflow = required_object(request.body, "workflow", "workflow request");
    *out_json = to_c_string(
        run(request, amc::api::create_workflow(request.client->amc(), request.context, workflow)).dump());
  });
}

AMC_API amc_status amc_workflow_get(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_get", [&] {
    auto request = parse(client, request_json, "workflow request", {"workflow_id"}, true);
    require(out_json, "out_json");
    const auto id = required_string(request.body, "workflow_id", "workflow request");
    *out_json = to_c_string(run(request, amc::api::get_workflow(request.client->amc(), request.context, id)).dump());
  });
}

AMC_API amc_status amc_workflow_list(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_list", [&] {
    auto request = parse(client, request_json, "workflow list request", {}, true);
    require(out_json, "out_json");
    *out_json = to_c_string(run(request, amc::api::list_workflows(request.client->amc(), request.context)).dump());
  });
}

AMC_API amc_status amc_workflow_update(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_update", [&] {
    auto request = parse(client, request_json, "workflow request", {"workflow"}, true);
    require(out_json, "out_json");
    auto workflow = required_object(request.body, "workflow", "workflow request");
    *out_json = to_c_string(
        run(request, amc::api::update_workflow(request.client->amc(), request.context, workflow)).dump());
  });
}

AMC_API amc_status amc_workflow_delete(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_delete", [&] {
    auto request = parse(client, request_json, "workflow request", {"workflow_id"}, true);
    require(out_json, "out_json");
    const auto id = required_string(request.body, "workflow_id", "workflow request");
    run(request, amc::api::delete_workflow(request.client->amc(), request.context, id));
    *out_json = to_c_string("{}");
  });
}

AMC_API amc_status amc_workflow_sync(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_workflow_sync", [&] {
    auto request = parse(client, request_json, "workflow request", {"workflow"}, true);
    require(out_json, "out_json");
    auto workflow = required_object(request.body, "workflow", "workflow request");
    *out_json = to_c_string(
        run(request, amc::api::sync_workflow(request.client->amc(), request.context, workflow)).dump());
  });
}

AMC_API amc_status amc_workflow_id_from_name(const char* name, char** out_workflow_id) {
  return guarded("amc_workflow_id_from_name", [&] {
    require(name, "name");
    require(out_workflow_id, "out_workflow_id");
    if (*name == '\0') throw amc::error(amc::errc::invalid_argument, "the workflow name is empty");
    *out_workflow_id = to_c_string(amc::api::workflow_id_from_name(name));
  });
}

AMC_API amc_status amc_execution_submit(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_execution_submit", [&] {
    auto request = parse(client, request_json, "execution request", {"execution_id", "request"}, true);
    require(out_json, "out_json");
    auto amc_request = required_object(request.body, "request", "execution request");
    const auto execution_id = amc::optional_string(request.body, "execution_id", "execution request").value_or("");
    auto& core = *request.client;
    // The submit stops searching for an unknown outcome a little before the
    // call's timeout, so that it can say when to submit again.
    amc::api::submit_options options;
    options.deadline = std::chrono::steady_clock::now() + request.timeout -
                       std::min<std::chrono::milliseconds>(request.timeout / 10, std::chrono::seconds(5));
    const auto result = run(request, amc::api::submit_execution(core.amc(), core.journal(), request.context,
                                                                execution_id, amc_request, core.log(), options));
    *out_json = to_c_string(json{{"execution_id", result.execution_id},
                                 {"amc_execution_id", result.amc_execution_id},
                                 {"reattached", result.reattached},
                                 {"execution", result.execution}}
                                .dump());
  });
}

AMC_API amc_status amc_execution_get(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_execution_get", [&] {
    auto request = parse(client, request_json, "execution request", {"amc_execution_id", "execution_id"}, true);
    require(out_json, "out_json");
    const auto id = execution_named_by(request, "execution request");
    *out_json = to_c_string(run(request, amc::api::get_execution(request.client->amc(), request.context, id)).dump());
  });
}

AMC_API amc_status amc_execution_list(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_execution_list", [&] {
    auto request = parse(client, request_json, "execution list request", {"filters"}, true);
    require(out_json, "out_json");
    auto filters = required_object(request.body, "filters", "execution list request");
    amc::reject_unknown_fields(filters,
                               {"minCreationTime", "maxCreationTime", "workflowId", "includeCancelled",
                                "sortAscending", "timeZone", "limit"},
                               "filters");
    *out_json = to_c_string(
        run(request, amc::api::list_executions(request.client->amc(), request.context, filters)).dump());
  });
}

AMC_API amc_status amc_execution_cancel(amc_client* client, const char* request_json, char** out_json) {
  return guarded("amc_execution_cancel", [&] {
    auto request = parse(client, request_json, "cancel request", {"amc_execution_id", "execution_id"}, true);
    require(out_json, "out_json");
    const auto id = execution_named_by(request, "cancel request");
    run(request, amc::api::cancel_execution(request.client->amc(), request.context, id));
    *out_json = to_c_string(run(request, amc::api::get_execution(request.client->amc(), request.context, id)).dump());
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
    auto request = parse(client, request_json, "wait request",
                         {"amc_execution_id", "execution_id", "first_poll_ms", "max_poll_ms"}, true);
    require(out_json, "out_json");
    const auto id = execution_named_by(request, "wait request");
    amc::api::wait_options options;
    options.timeout = request.body.contains("timeout_ms") ? request.timeout : std::chrono::hours(24);
    if (request.body.contains("first_poll_ms"))
      options.first_poll = std::chrono::milliseconds(request.body["first_poll_ms"].get<long long>());
    if (request.body.contains("max_poll_ms"))
      options.max_poll = std::chrono::milliseconds(request.body["max_poll_ms"].get<long long>());
    if (options.first_poll.count() <= 0 || options.max_poll < options.first_poll)
      throw amc::error(amc::errc::invalid_argument, "first_poll_ms must be positive and at most max_poll_ms");
    options.progress = [progress, user](const json& execution, std::chrono::milliseconds next_poll) {
      call_progress(progress, user, {{"event", "status"}, {"execution", execution}, {"next_poll_ms", next_poll.count()}});
    };
    // The wait's own timeout decides; the blocking guard only backs it up.
    request.timeout = options.timeout + std::chrono::minutes(2);
    auto& core = *request.client;
    const auto execution =
        run(request, amc::api::wait_for_execution(core.amc(), request.context, id, options,
                                                  cancel != nullptr ? cancel->cancellation : nullptr, core.log()));
    const std::string status = execution.value("status", "");
    if (status != "SUCCEEDED") {
      const auto reason = amc::api::failure_reason(execution);
      throw amc::error(amc::errc::execution_failed,
                       fmt::format("execution {} ended {}{}{}", id, status, reason.empty() ? "" : ": ", reason),
                       {{"execution", execution}, {"status", status}});
    }
    *out_json = to_c_string(execution.dump());
  });
}

}  // extern "C"

extern "C" {

AMC_API amc_status amc_results_download(amc_client* client, const char* request_json,
                                        amc_progress_callback progress, void* user,
                                        char** out_manifest_json) {
  return guarded("amc_results_download", [&] {
    auto request = parse(client, request_json, "download request",
                         {"amc_execution_id", "execution_id", "directory", "parallelism"}, true);
    require(out_manifest_json, "out_manifest_json");
    const auto id = execution_named_by(request, "download request");
    amc::api::download_options options;
    options.directory = required_string(request.body, "directory", "download request");
    if (const auto parallelism = request.body.find("parallelism"); parallelism != request.body.end()) {
      if (!parallelism->is_number_integer())
        throw amc::error(amc::errc::invalid_argument, "parallelism must be a whole number from 1 to 16");
      options.parallelism = parallelism->get<int>();
    }
    options.progress = [progress, user](const amc::api::download_event& event) {
      call_progress(progress, user,
                    {{"event", "download"}, {"part", event.part}, {"parts", event.parts},
                     {"bytes", event.bytes}, {"total_bytes", event.total_bytes}});
    };
    if (!request.body.contains("timeout_ms")) request.timeout = std::chrono::hours(2);
    auto& core = *request.client;
    options.journal = &core.journal();
    auto manifest = run(request, amc::api::download_results(core.amc(), core.http(), request.context, id, options));
    *out_manifest_json = to_c_string(manifest.dump());
  });
}

}  // extern "C"
