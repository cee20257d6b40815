// The client and authentication through the C ABI: guard, decode
// (client/requests.hpp), call the façade (client/auth.hpp), encode.
#include "capi_support.hpp"

#include "client/auth.hpp"
#include "client/client.hpp"
#include "client/client_config.hpp"
#include "client/requests.hpp"
#include "store/standalone_store.hpp"

#include <memory>

#include "capi_client.hpp"

namespace {

using amc::capi::guarded;
using amc::capi::require;
using amc::capi::to_c_string;
using amc::capi::checked;
namespace facade = amc::client;

char* status_json(const amc::store::credential_record& credential) {
  return to_c_string(amc::store::credential_to_json(credential, false).dump());
}

}  // namespace

extern "C" {

AMC_API amc_status amc_client_new(const char* config_json, amc_client** out_client) {
  return guarded("amc_client_new", [&] {
    require(out_client, "out_client");
    auto handle = std::make_unique<amc_client>();
    handle->core = std::make_unique<amc::client::client>(facade::decode_client_config(config_json));
    *out_client = handle.release();
  });
}

AMC_API void amc_client_free(amc_client* client) { delete client; }

AMC_API amc_status amc_client_set_log(amc_client* client, amc_log_callback callback, void* user,
                                      int min_level) {
  return guarded("amc_client_set_log", [&] {
    auto& core = checked(client);
    if (callback == nullptr) {
      core.log().set_sink(nullptr);
      return;
    }
    core.log().set_sink(
        [callback, user](amc::log_level level, std::string_view message) {
          const std::string text{message};
          callback(static_cast<int>(level), text.c_str(), user);
        },
        static_cast<amc::log_level>(min_level));
  });
}

AMC_API amc_status amc_client_metrics(amc_client* client, char** out_json) {
  return guarded("amc_client_metrics", [&] {
    auto& core = checked(client);
    require(out_json, "out_json");
    *out_json = to_c_string(core.metrics().dump());
  });
}

AMC_API amc_status amc_auth_consent_url(amc_client* client, const char* request_json,
                                        char** out_url) {
  return guarded("amc_auth_consent_url", [&] {
    auto& core = checked(client);
    require(out_url, "out_url");
    const auto request = facade::decode_consent_request(request_json);
    *out_url = to_c_string(facade::consent_url(core, request));
  });
}

AMC_API amc_status amc_auth_exchange_code(amc_client* client, const char* request_json,
                                          char** out_status_json) {
  return guarded("amc_auth_exchange_code", [&] {
    auto& core = checked(client);
    require(out_status_json, "out_status_json");
    const auto request = facade::decode_code_exchange_request(request_json);
    *out_status_json =
        status_json(facade::exchange_code(core, request, facade::call_deadline::after(request.timeout)));
  });
}

AMC_API amc_status amc_auth_import(amc_client* client, const char* credential_json) {
  return guarded("amc_auth_import", [&] {
    auto& core = checked(client);
    facade::import_credential(core, facade::decode_credential_import_request(credential_json));
  });
}

AMC_API amc_status amc_auth_refresh(amc_client* client, const char* credential_id,
                                    const char* request_json, char** out_status_json) {
  return guarded("amc_auth_refresh", [&] {
    auto& core = checked(client);
    require(credential_id, "credential_id");
    const auto request = facade::decode_token_refresh_request(credential_id, request_json);
    require(out_status_json, "out_status_json");
    *out_status_json = status_json(facade::refresh(core, request, facade::call_deadline::after(request.timeout)));
  });
}

AMC_API amc_status amc_auth_status(amc_client* client, const char* credential_id,
                                   char** out_status_json) {
  return guarded("amc_auth_status", [&] {
    auto& core = checked(client);
    require(credential_id, "credential_id");
    require(out_status_json, "out_status_json");
    *out_status_json = status_json(facade::credential_status(core, credential_id));
  });
}

}  // extern "C"
