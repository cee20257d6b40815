#include "store/store_config.hpp"

#include "common/error.hpp"
#include "common/json_fields.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace amc::store {

std::unique_ptr<credential_store> open_store(const nlohmann::json& config,
                                             std::unique_ptr<store_backend> host) {
  constexpr std::string_view what = "store config";
  reject_unknown_fields(config, {"kind", "path", "fernet_keys", "fernet_keys_env"}, what);
  const std::string kind = optional_string(config, "kind", what).value_or(host ? "host" : "file");
  if (host && kind != "host")
    throw error(errc::config, fmt::format("store kind '{}' was given together with host store "
                                          "callbacks: leave \"kind\" out or set it to \"host\"",
                                          kind));
  if (!host && kind != "file" && kind != "memory")
    throw error(errc::config,
                fmt::format("unknown store kind '{}': use \"file\" or \"memory\"{}", kind,
                            kind == "host" ? " (kind \"host\" needs amc_client_new_with_store)" : ""));
  const auto path = optional_string(config, "path", what);
  if (kind != "file" && path)
    throw error(errc::config, fmt::format("a {} store has no path: remove \"path\" or use kind \"file\"", kind));

  const std::string keys_env =
      optional_string(config, "fernet_keys_env", what).value_or(default_fernet_keys_env);
  std::optional<std::string> key_list = optional_string(config, "fernet_keys", what);
  if (!key_list) {
    const char* from_environment = std::getenv(keys_env.c_str());
    if (from_environment != nullptr && *from_environment != '\0') key_list = from_environment;
  }
  if (!key_list)
    throw error(errc::config,
                fmt::format("no Fernet key configured: set the environment variable {} (or the "
                            "store's \"fernet_keys\") to a comma-separated list of keys, the "
                            "primary key first. Make a key with: python3 -c \"from "
                            "cryptography.fernet import Fernet; "
                            "print(Fernet.generate_key().decode())\". libamc never generates a "
                            "key or stores secrets unencrypted",
                            keys_env));
  auto keys = crypto::multi_fernet::from_key_list(*key_list);

  std::unique_ptr<store_backend> backend = std::move(host);
  if (kind == "memory")
    backend = std::make_unique<memory_backend>();
  else if (kind == "file")
    backend = std::make_unique<file_backend>(path ? std::filesystem::path(*path)
                                                  : default_store_path());
  auto store = std::make_unique<credential_store>(std::move(backend), std::move(keys));
  store->check_readable();
  return store;
}

std::unique_ptr<credential_store> open_store_from_text(const char* config_json) {
  return open_store(parse_json_object(config_json, "store config", /*allow_empty=*/true, errc::config));
}

}  // namespace amc::store
