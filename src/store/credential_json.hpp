// Credentials as the JSON of the C ABI (see amc_store_put_credential and
// amc_store_get_credential in amc.h).
#pragma once

#include "store/credential.hpp"
#include "store/credential_store.hpp"

#include <nlohmann/json.hpp>

namespace amc::store {

// Strict: unknown fields and wrong types are invalid_argument.
credential_update credential_update_from_json(const nlohmann::json& request);

// The requests of the standalone store (amc_store_*), from the host's text:
// amc_store_put_credential's credential (strict, as above) …
credential_update decode_credential_update(const char* json_text);
// … and amc_store_get_credential's options {"include_secrets"} (NULL or ""
// for none): whether to include the secrets.
bool decode_include_secrets(const char* options_json);

// Secrets are included only when asked and present.
nlohmann::json credential_to_json(const credential_record& record, bool include_secrets);

// amc_store_list_credentials: {"credentials": [credential_to_json without
// secrets, …]}.
nlohmann::json credential_list_json(const std::vector<credential_record>& records);

// amc_store_rotate_keys: {"total", "rotated", "failed": [{"credential_id",
// "reason"}, …]}.
nlohmann::json rotation_report_json(const rotation_report& report);

}  // namespace amc::store
