// The credential store through the C ABI: guard, decode (the store's own
// decoders: it builds without the client), call, encode.
#include "capi_support.hpp"

#include <fmt/format.h>
#include "store/standalone_store.hpp"

#include <memory>

struct amc_store {
  std::unique_ptr<amc::store::credential_store> store;
};

namespace {

amc::store::credential_store& checked(amc_store* handle) {
  amc::capi::require(handle, "store");
  return *handle->store;
}

std::string_view checked_id(const char* credential_id) {
  amc::capi::require(credential_id, "credential_id");
  return credential_id;
}

}  // namespace

extern "C" {

AMC_API amc_status amc_store_new(const char* config_json, amc_store** out_store) {
  return amc::capi::guarded("amc_store_new", [&] {
    amc::capi::require(out_store, "out_store");
    auto handle = std::make_unique<amc_store>();
    handle->store = amc::store::open_store_from_text(config_json);
    *out_store = handle.release();
  });
}

AMC_API void amc_store_free(amc_store* store) { delete store; }

AMC_API amc_status amc_store_put_credential(amc_store* store, const char* credential_json) {
  return amc::capi::guarded("amc_store_put_credential", [&] {
    auto& credentials = checked(store);
    credentials.put(amc::store::decode_credential_update(credential_json));
  });
}

AMC_API amc_status amc_store_get_credential(amc_store* store, const char* credential_id,
                                            const char* options_json, char** out_json) {
  return amc::capi::guarded("amc_store_get_credential", [&] {
    auto& credentials = checked(store);
    const auto id = checked_id(credential_id);
    amc::capi::require(out_json, "out_json");
    const bool include_secrets = amc::store::decode_include_secrets(options_json);
    const auto record = credentials.get(id, include_secrets);
    *out_json = amc::capi::to_c_string(
        amc::store::credential_to_json(record, include_secrets).dump());
  });
}

AMC_API amc_status amc_store_list_credentials(amc_store* store, char** out_json) {
  return amc::capi::guarded("amc_store_list_credentials", [&] {
    auto& credentials = checked(store);
    amc::capi::require(out_json, "out_json");
    nlohmann::json listing = {{"credentials", nlohmann::json::array()}};
    for (const auto& record : credentials.list())
      listing["credentials"].push_back(amc::store::credential_to_json(record, false));
    *out_json = amc::capi::to_c_string(listing.dump());
  });
}

AMC_API amc_status amc_store_delete_credential(amc_store* store, const char* credential_id) {
  return amc::capi::guarded("amc_store_delete_credential", [&] {
    auto& credentials = checked(store);
    const auto id = checked_id(credential_id);
    if (!credentials.remove(id))
      throw amc::error(amc::errc::not_found,
                       fmt::format("no credential '{}' in the store '{}'; nothing was deleted", id,
                                   credentials.location()),
                       {{"credential_id", id}});
  });
}

AMC_API amc_status amc_store_rotate_keys(amc_store* store, char** out_report_json) {
  return amc::capi::guarded("amc_store_rotate_keys", [&] {
    auto& credentials = checked(store);
    amc::capi::require(out_report_json, "out_report_json");
    const auto report = credentials.rotate_keys();
    nlohmann::json failed = nlohmann::json::array();
    for (const auto& failure : report.failed)
      failed.push_back({{"credential_id", failure.credential_id}, {"reason", failure.reason}});
    *out_report_json = amc::capi::to_c_string(
        nlohmann::json{{"total", report.total}, {"rotated", report.rotated}, {"failed", failed}}
            .dump());
  });
}

}  // extern "C"
