// Login with Amazon (LwA): where its endpoints are, what its token requests
// look like, and what its replies mean. Pure functions; the token manager
// sends the requests.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <initializer_list>
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

// LwA's access tokens live an hour; a reply without expires_in means that.
inline constexpr long long default_access_token_lifetime_seconds = 3600;
// The longest lifetime believed: one day. A larger expires_in (a
// misconfigured or hostile endpoint once sent 1000000000000, stored as the
// year -31821) is cut to this with a warning; AMC answering 401 earlier
// still gets its one refresh.
inline constexpr long long max_access_token_lifetime_seconds = 86400;

struct token_grant {
  std::string access_token;
  long long expires_in_seconds = 0;  // 1 to max_access_token_lifetime_seconds
  // What LwA said, when it was more than the maximum (for the warning).
  std::optional<std::string> expires_in_clamped_from;
  std::optional<std::string> refresh_token;  // only when LwA sends one
};

// What an LwA reply means. Success gives a token_grant. Failures throw
// amc::error: invalid_grant → auth_required (the credential must be
// re-authorised: the message says how), invalid_client → config (naming the
// client id, never the secret), other 4xx → protocol/config, 429 →
// throttled, 5xx → remote, a 200 without a usable token → protocol.
// expires_in: missing → default_access_token_lifetime_seconds; an integer
// (or a string of digits) of seconds above max_access_token_lifetime_seconds
// → that maximum (expires_in_clamped_from says so); below 1 or of another
// type → protocol.
// `credential_id` is for messages. `secrets`: what the request carried (the
// refresh token or code, the client secret); LwA's text may quote them, so
// every text taken from the reply is redacted of them (redact_secrets).
token_grant interpret_token_reply(unsigned http_status, std::string_view body,
                                  std::string_view credential_id, std::string_view client_id,
                                  std::initializer_list<std::string_view> secrets = {});

// True when an error thrown by interpret_token_reply means the stored
// refresh token is dead (the credential needs re-authentication): LwA's
// invalid_grant, the one answer it maps to errc::auth_required. Decided on
// the error's code, never on its text or JSON.
bool is_invalid_grant(const error& problem);

}  // namespace amc::auth
