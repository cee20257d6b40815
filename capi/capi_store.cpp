// The credential store through the C ABI: one row of the table
// (capi_table.hpp) per entry point: decode and encode with the store's own
// functions (store/credential_json.hpp: it builds without the client), call
// the store. Written out by hand instead: amc_store_new (it makes the handle
// every row checks; its config is decoded by store::open_store_from_text)
// and amc_store_free.
#include "capi_table.hpp"

#include <fmt/format.h>
#include "store/standalone_store.hpp"

#include <memory>

struct amc_store {
  std::unique_ptr<amc::store::credential_store> store;
};

namespace {

using amc::capi::as_is;
using amc::capi::no_out;
using amc::capi::no_request;
using amc::capi::required_text;
namespace store = amc::store;

store::credential_store& checked(amc_store* handle) {
  amc::capi::require(handle, "store");
  return *handle->store;
}

// amc_store_get_credential's arguments.
struct read_request {
  std::string_view credential_id;
  bool include_secrets = false;
};

read_request decode_read_request(const char* credential_id, const char* options_json) {
  return {required_text(credential_id, "credential_id"), store::decode_include_secrets(options_json)};
}

void put_credential(store::credential_store& credentials, const store::credential_update& credential) {
  credentials.put(credential);
}

nlohmann::json read_credential(store::credential_store& credentials, const read_request& request) {
  return store::credential_to_json(credentials.get(request.credential_id, request.include_secrets),
                                   request.include_secrets);
}

nlohmann::json list_credentials(store::credential_store& credentials) {
  return store::credential_list_json(credentials.list());
}

void delete_credential(store::credential_store& credentials, std::string_view id) {
  if (!credentials.remove(id))
    throw amc::error(amc::errc::not_found,
                     fmt::format("no credential '{}' in the store '{}'; nothing was deleted", id,
                                 credentials.location()),
                     {{"credential_id", id}});
}

nlohmann::json rotate_keys(store::credential_store& credentials) {
  return store::rotation_report_json(credentials.rotate_keys());
}

}  // namespace

extern "C" {

AMC_API amc_status amc_store_new(const char* config_json, amc_store** out_store) {
  return amc::capi::guarded("amc_store_new", [&] {
    amc::capi::require(out_store, "out_store");
    auto handle = std::make_unique<amc_store>();
    handle->store = store::open_store_from_text(config_json);
    *out_store = handle.release();
  });
}

AMC_API void amc_store_free(amc_store* store) { delete store; }

AMC_ENTRY(amc_store_put_credential, (amc_store * store, const char* credential_json), checked(store), no_out,
          amc::store::decode_credential_update(credential_json), put_credential, as_is)

AMC_ENTRY(amc_store_get_credential,
          (amc_store * store, const char* credential_id, const char* options_json, char** out_json), checked(store),
          out_json, decode_read_request(credential_id, options_json), read_credential, as_is)

AMC_ENTRY(amc_store_list_credentials, (amc_store * store, char** out_json), checked(store), out_json, no_request,
          list_credentials, as_is)

AMC_ENTRY(amc_store_delete_credential, (amc_store * store, const char* credential_id), checked(store), no_out,
          required_text(credential_id, "credential_id"), delete_credential, as_is)

AMC_ENTRY(amc_store_rotate_keys, (amc_store * store, char** out_report_json), checked(store), out_report_json,
          no_request, rotate_keys, as_is)

}  // extern "C"
