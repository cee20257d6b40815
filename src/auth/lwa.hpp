// Login with Amazon (LwA): where its endpoints are, what its token requests
// look like, and what its replies mean. Pure functions; the token manager
// sends the requests.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace amc::auth {

struct lwa_endpoints {
  std::string token_url;    // POST, form-encoded
  std::string consent_url;  // the browser page that asks the user
};

// "na", "eu", "fe" (Amazon's three Ads regions). Throws errc::config for
// anything else, listing the valid ones.
lwa_endpoints default_lwa_endpoints(std::string_view region);

struct lwa_client {
  std::string client_id;
  std::string client_secret;
};

// The form bodies of the two grants libamc uses.
std::string refresh_grant_body(const lwa_client& client, std::string_view refresh_token);
std::string authorization_code_body(const lwa_client& client, std::string_view code,
                                    std::string_view redirect_uri);

// The consent page URL that sends the user back to redirect_uri with ?code=.
std::string consent_page_url(const lwa_endpoints& endpoints, const lwa_client& client,
                             std::string_view redirect_uri, std::string_view state,
                             std::string_view scope);

struct token_grant {
  std::string access_token;
  long long expires_in_seconds = 0;
  std::optional<std::string> refresh_token;  // only when LwA sends one
};

// What an LwA reply means. Success gives a token_grant. Failures throw
// amc::error: invalid_grant → auth_required (the credential must be
// re-authorised: the message says how), invalid_client → config (naming the
// client id, never the secret), other 4xx → protocol/config, 429 →
// throttled, 5xx → remote, a 200 without a usable token → protocol.
// `credential_id` is for messages.
token_grant interpret_token_reply(unsigned http_status, std::string_view body,
                                  std::string_view credential_id, std::string_view client_id);

// True when an error thrown by interpret_token_reply means the stored
// refresh token is dead (the credential needs re-authentication).
bool is_invalid_grant(const nlohmann::json& error_detail);

}  // namespace amc::auth
