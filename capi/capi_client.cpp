// The client and authentication through the C ABI. The auth entry points
// and amc_client_metrics are rows of the table (capi_table.hpp): decode
// (client/requests.hpp), call the façade (client/auth.hpp), encode
// (client/responses.hpp). Written out by hand instead, because they take no
// request to decode: amc_client_new (it makes the handle every row checks;
// its config is decoded by client/client_config.hpp), amc_client_free and
// amc_client_set_log (a callback setter).
#include "capi_table.hpp"

#include "client/auth.hpp"
#include "client/client.hpp"
#include "client/client_config.hpp"
#include "client/requests.hpp"
#include "client/responses.hpp"

#include <memory>

#include "capi_client.hpp"

namespace {

using amc::capi::as_is;
using amc::capi::checked;
using amc::capi::guarded;
using amc::capi::no_out;
using amc::capi::no_request;
using amc::capi::require;
using amc::capi::required_text;
namespace facade = amc::client;

nlohmann::json metrics_of(facade::client& core) { return core.metrics(); }

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

AMC_ENTRY(amc_client_metrics, (amc_client * client, char** out_json), checked(client), out_json, no_request,
          metrics_of, as_is)

AMC_ENTRY(amc_auth_consent_url, (amc_client * client, const char* request_json, char** out_url), checked(client),
          out_url, facade::decode_consent_request(request_json), facade::consent_url, as_is)

AMC_ENTRY(amc_auth_exchange_code, (amc_client * client, const char* request_json, char** out_status_json),
          checked(client), out_status_json, facade::decode_code_exchange_request(request_json), facade::exchange_code,
          facade::credential_status_json)

AMC_ENTRY(amc_auth_import, (amc_client * client, const char* credential_json), checked(client), no_out,
          facade::decode_credential_import_request(credential_json), facade::import_credential, as_is)

AMC_ENTRY(amc_auth_refresh,
          (amc_client * client, const char* credential_id, const char* request_json, char** out_status_json),
          checked(client), out_status_json,
          facade::decode_token_refresh_request(required_text(credential_id, "credential_id"), request_json),
          facade::refresh, facade::credential_status_json)

AMC_ENTRY(amc_auth_status, (amc_client * client, const char* credential_id, char** out_status_json),
          checked(client), out_status_json, required_text(credential_id, "credential_id"), facade::credential_status,
          facade::credential_status_json)

}  // extern "C"
