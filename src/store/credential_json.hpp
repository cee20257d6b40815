// Credentials as the JSON of the C ABI (see amc_store_put_credential and
// amc_store_get_credential in amc.h).
#pragma once

#include "store/credential.hpp"

#include <nlohmann/json.hpp>

namespace amc::store {

// Strict: unknown fields and wrong types are invalid_argument.
credential_update credential_update_from_json(const nlohmann::json& request);

// Secrets are included only when asked and present.
nlohmann::json credential_to_json(const credential_record& record, bool include_secrets);

}  // namespace amc::store
