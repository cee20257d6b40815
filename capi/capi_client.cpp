// The client and authentication through the C ABI.
#include "capi_support.hpp"

#include "client/client.hpp"
#include "client/client_config.hpp"
#include "common/json_fields.hpp"
#include "store/credential_json.hpp"

#include <fmt/format.h>

#include <memory>

#include "capi_client.hpp"

namespace {

using amc::capi::guarded;
using amc::capi::require;
using amc::capi::to_c_string;
using amc::capi::checked;

std::string_view checked_id(const char* credential_id) {
  require(credential_id, "credential_id");
  amc::store::validate_credential_id(credential_id);
  return credential_id;
}

std::chrono::milliseconds timeout_of(const nlohmann::json& request, std::string_view what) {
  const auto found = request.find("timeout_ms");
  if (found == request.end() || found->is_null()) return std::chrono::milliseconds(120'000);
  if (!found->is_number_integer() || found->get<long long>() <= 0)
    throw amc::error(amc::errc::invalid_argument,
                     fmt::format("timeout_ms of the {} must be a positive whole number", what));
  return std::chrono::milliseconds(found->get<long long>());
}

char* status_json(amc::client::client& core, std::string_view credential_id) {
  return to_c_string(
      amc::store::credential_to_json(core.store().get(credential_id, false), false).dump());
}

}  // namespace

extern "C" {

AMC_API amc_status amc_client_new(const char* config_json, amc_client** out_client) {
  return guarded("amc_client_new", [&] {
    require(out_client, "out_client");
    const auto config = amc::parse_json_object(config_json, "client config", true, amc::errc::config);
    auto handle = std::make_unique<amc_client>();
    handle->core = std::make_unique<amc::client::client>(amc::client::parse_client_config(config));
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
    constexpr std::string_view what = "consent request";
    const auto request = amc::parse_json_object(request_json, what, false);
    amc::reject_unknown_fields(request, {"redirect_uri", "state", "scope"}, what);
    const auto redirect_uri = amc::optional_string(request, "redirect_uri", what);
    if (!redirect_uri || redirect_uri->empty())
      throw amc::error(amc::errc::invalid_argument,
                       "the consent request needs a redirect_uri (one of the LwA client's "
                       "Allowed Return URLs)");
    *out_url = to_c_string(amc::auth::consent_page_url(
        core.config().lwa, core.config().lwa_client, *redirect_uri,
        amc::optional_string(request, "state", what).value_or(""),
        amc::optional_string(request, "scope", what).value_or("advertising::campaign_management")));
  });
}

AMC_API amc_status amc_auth_exchange_code(amc_client* client, const char* request_json,
                                          char** out_status_json) {
  return guarded("amc_auth_exchange_code", [&] {
    auto& core = checked(client);
    require(out_status_json, "out_status_json");
    constexpr std::string_view what = "code exchange request";
    const auto request = amc::parse_json_object(request_json, what, false);
    amc::reject_unknown_fields(request, {"credential_id", "code", "redirect_uri", "timeout_ms"}, what);
    const auto id = amc::optional_string(request, "credential_id", what).value_or("");
    amc::store::validate_credential_id(id);
    core.run_blocking(core.tokens().exchange_code(
                          id, amc::optional_string(request, "code", what).value_or(""),
                          amc::optional_string(request, "redirect_uri", what).value_or("")),
                      timeout_of(request, what));
    *out_status_json = status_json(core, id);
  });
}

AMC_API amc_status amc_auth_import(amc_client* client, const char* credential_json) {
  return guarded("amc_auth_import", [&] {
    auto& core = checked(client);
    constexpr std::string_view what = "credential";
    const auto request = amc::parse_json_object(credential_json, what, false);
    amc::reject_unknown_fields(request, {"credential_id", "refresh_token"}, what);
    amc::store::credential_update update;
    update.credential_id = amc::optional_string(request, "credential_id", what).value_or("");
    update.refresh_token = amc::optional_string(request, "refresh_token", what);
    if (!update.refresh_token)
      throw amc::error(amc::errc::invalid_argument, "the credential needs a refresh_token");
    update.client_id = core.config().lwa_client.client_id;
    update.state = amc::store::credential_state::active;
    update.last_error = "";
    core.store().put(update);
  });
}

AMC_API amc_status amc_auth_refresh(amc_client* client, const char* credential_id,
                                    const char* request_json, char** out_status_json) {
  return guarded("amc_auth_refresh", [&] {
    auto& core = checked(client);
    const auto id = std::string{checked_id(credential_id)};
    require(out_status_json, "out_status_json");
    const auto request = amc::parse_json_object(request_json, "refresh request", true);
    amc::reject_unknown_fields(request, {"timeout_ms"}, "refresh request");
    const auto current = core.store().get(id, true).access_token.value_or("");
    core.run_blocking(core.tokens().refresh(id, current), timeout_of(request, "refresh request"));
    *out_status_json = status_json(core, id);
  });
}

AMC_API amc_status amc_auth_status(amc_client* client, const char* credential_id,
                                   char** out_status_json) {
  return guarded("amc_auth_status", [&] {
    auto& core = checked(client);
    const auto id = checked_id(credential_id);
    require(out_status_json, "out_status_json");
    *out_status_json = status_json(core, id);
  });
}

}  // extern "C"
