#include "client/host_store.hpp"

#include "client/client_config.hpp"

#include <utility>

namespace amc::client {

std::unique_ptr<client> open_with_host_store(const char* config_json, host_store_functions host) {
  // The backend first: from here on it owns the host's release, also when the
  // config is refused below.
  auto backend = std::make_unique<store::host_backend>(std::move(host));
  return std::make_unique<client>(decode_client_config(config_json), std::move(backend));
}

}  // namespace amc::client
