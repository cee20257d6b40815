// Opening a credential store from the JSON configuration hosts pass in
// (amc_store_new, and the "store" section of a client config).
#pragma once

#include "store/credential_store.hpp"

#include <nlohmann/json.hpp>

#include <memory>

namespace amc::store {

// The fields a store config may have, for messages and for configs that
// embed one.
inline constexpr const char* default_fernet_keys_env = "AMC_FERNET_KEYS";

// Parses `config` ({"kind","path","fernet_keys","fernet_keys_env"}), builds
// the keys (errc::config when none is configured or one is malformed: never a
// generated key), opens the backend and checks that it holds a libamc store
// this libamc can read. Opening never writes. With `host` (a host_backend),
// the document lives there and "kind" may only be "host".
std::unique_ptr<credential_store> open_store(const nlohmann::json& config,
                                             std::unique_ptr<store_backend> host = nullptr);
// The same from the JSON text a host passes (amc_store_new; NULL or "" for
// the defaults); JSON nested too deeply is errc::config.
std::unique_ptr<credential_store> open_store_from_text(const char* config_json);

}  // namespace amc::store
