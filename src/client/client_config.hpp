// The JSON configuration of a client (amc_client_new), parsed strictly.
#pragma once

#include "auth/lwa.hpp"
#include "auth/refresh_service.hpp"
#include "auth/token_manager.hpp"
#include "net/http_client.hpp"
#include "store/execution_journal.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace amc::client {

struct client_config {
  std::string region = "na";
  std::string amc_base_url;  // default: the region's Ads API host
  auth::lwa_endpoints lwa;   // default: the region's LwA endpoints
  auth::lwa_client lwa_client;
  net::client_options http;
  nlohmann::json store = nlohmann::json::object();  // see amc_store_new
  std::chrono::seconds advisory_window{300};
  std::chrono::seconds mandatory_window{60};
  std::chrono::milliseconds store_recheck{1'000};
  bool refresh_service = false;
  auth::refresh_service_settings refresh;
  int io_threads = 1;
  std::chrono::seconds journal_retention = store::default_journal_retention;
};

// Throws invalid_argument for unknown fields or wrong types, config for
// missing or inconsistent settings (naming the field, never a secret value).
client_config parse_client_config(const nlohmann::json& config);
// The same from the JSON text a host passes (NULL or "" for the defaults);
// JSON nested too deeply is errc::config, as amc.h promises.
client_config decode_client_config(const char* json_text);

// The Ads API host of a region ("na" → https://advertising-api.amazon.com).
std::string default_amc_base_url(std::string_view region);

}  // namespace amc::client
