// Fuzz target: every JSON request of the C ABI, through the decoder its
// row in the capi table calls (capi/capi_amc.cpp, capi_client.cpp,
// capi_poll.cpp, capi_store.cpp): the text arrives as a host's C string
// (so it ends at the first NUL) and is decoded strictly, or refused with
// amc::error naming the field.
#include "client/requests.hpp"
#include "common/json_fields.hpp"
#include "store/credential_json.hpp"

#include "fuzz_support.hpp"

namespace {

using namespace amc;

void decode(unsigned which, const char* text) {
  switch (which) {
    case 0: (void)api::decode_accounts_request(text); break;
    case 1: (void)api::decode_instances_request(text); break;
    case 2: (void)api::decode_workflow_create_request(text); break;
    case 3: (void)api::decode_workflow_get_request(text); break;
    case 4: (void)api::decode_workflow_list_request(text); break;
    case 5: (void)api::decode_workflow_update_request(text); break;
    case 6: (void)api::decode_workflow_delete_request(text); break;
    case 7: (void)api::decode_workflow_sync_request(text); break;
    case 8: (void)api::decode_execution_submit_request(text); break;
    case 9: (void)api::decode_execution_get_request(text); break;
    case 10: (void)api::decode_execution_list_request(text); break;
    case 11: (void)api::decode_execution_cancel_request(text); break;
    case 12: (void)api::decode_execution_wait_request(text); break;
    case 13: (void)api::decode_results_download_request(text); break;
    case 14: (void)client::decode_consent_request(text); break;
    case 15: (void)client::decode_code_exchange_request(text); break;
    case 16: (void)client::decode_token_refresh_request("fuzz-credential", text); break;
    case 17: (void)client::decode_watch_request(text); break;
    case 18: (void)store::decode_credential_update(text); break;
    case 19: (void)store::decode_include_secrets(text); break;
    default: {
      // amc_auth_import: the refresh token is a secret, never quoted.
      const auto request = client::decode_credential_import_request(text);
      (void)request;
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::split(data, size, 21);
  const std::string text(input.text);
  // The secrets a request may carry: no refusal quotes them.
  std::vector<std::string> secrets;
  if (const auto body = parse_json_bounded(text.c_str()); body && body->is_object())
    for (const char* field : {"refresh_token", "access_token", "client_secret", "code"})
      if (const auto found = body->find(field);
          found != body->end() && found->is_string() && found->get_ref<const std::string&>().size() >= 8)
        secrets.push_back(found->get<std::string>());
  fuzz::refused_or_parsed([&] { decode(input.choice, text.c_str()); },
                          std::vector<std::string_view>(secrets.begin(), secrets.end()));
  return 0;
}
