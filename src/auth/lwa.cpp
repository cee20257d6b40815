#include "auth/lwa.hpp"

#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/text.hpp"
#include "common/url_encoding.hpp"

#include <fmt/format.h>

namespace amc::auth {

lwa_endpoints default_lwa_endpoints(std::string_view region) {
  if (region == "na") return {"https://api.amazon.com/auth/o2/token", "https://www.amazon.com/ap/oa"};
  if (region == "eu")
    return {"https://api.amazon.co.uk/auth/o2/token", "https://eu.account.amazon.com/ap/oa"};
  if (region == "fe")
    return {"https://api.amazon.co.jp/auth/o2/token", "https://apac.account.amazon.com/ap/oa"};
  throw error(errc::config,
              fmt::format("unknown region '{}': use \"na\", \"eu\" or \"fe\"", region));
}

std::string refresh_grant_body(const lwa_client& client, std::string_view refresh_token) {
  return form_encode({{"grant_type", "refresh_token"},
                      {"refresh_token", std::string{refresh_token}},
                      {"client_id", client.client_id},
                      {"client_secret", client.client_secret}});
}

std::string authorization_code_body(const lwa_client& client, std::string_view code,
                                    std::string_view redirect_uri) {
  return form_encode({{"grant_type", "authorization_code"},
                      {"code", std::string{code}},
                      {"redirect_uri", std::string{redirect_uri}},
                      {"client_id", client.client_id},
                      {"client_secret", client.client_secret}});
}

std::string consent_page_url(const lwa_endpoints& endpoints, const lwa_client& client,
                             std::string_view redirect_uri, std::string_view state,
                             std::string_view scope) {
  std::string url = endpoints.consent_url + "?" +
                    form_encode({{"client_id", client.client_id},
                                 {"scope", std::string{scope}},
                                 {"response_type", "code"},
                                 {"redirect_uri", std::string{redirect_uri}}});
  if (!state.empty()) url += "&state=" + percent_encode(state);
  return url;
}

bool is_invalid_grant(const nlohmann::json& error_detail) {
  return error_detail.is_object() && error_detail.value("lwa_error", "") == "invalid_grant";
}

token_grant interpret_token_reply(unsigned http_status, std::string_view body,
                                  std::string_view credential_id, std::string_view client_id) {
  // Bounded: a reply nested past max_json_depth is no JSON here (so a 200
  // without an access_token: protocol), never a deep recursion.
  const nlohmann::json reply = parse_json_bounded(body).value_or(nlohmann::json());
  nlohmann::json detail = {{"http_status", http_status}, {"credential_id", credential_id}};

  if (http_status == 200) {
    if (!reply.is_object() || !reply.contains("access_token") ||
        !reply["access_token"].is_string() || reply["access_token"].get_ref<const std::string&>().empty())
      throw error(errc::protocol,
                  "Login with Amazon answered 200 without an access_token; the token endpoint "
                  "may be misconfigured (check the LwA token URL)",
                  detail);
    token_grant grant;
    grant.access_token = reply["access_token"].get<std::string>();
    const auto expires = reply.find("expires_in");
    if (expires != reply.end() && expires->is_number_integer() && expires->get<long long>() > 0)
      grant.expires_in_seconds = expires->get<long long>();
    else if (expires != reply.end() && expires->is_string())
      grant.expires_in_seconds = std::atoll(expires->get_ref<const std::string&>().c_str());
    if (grant.expires_in_seconds <= 0) grant.expires_in_seconds = 3600;  // LwA's documented life
    const auto refresh = reply.find("refresh_token");
    if (refresh != reply.end() && refresh->is_string() && !refresh->get_ref<const std::string&>().empty())
      grant.refresh_token = refresh->get<std::string>();
    return grant;
  }

  const std::string lwa_error =
      reply.is_object() && reply.contains("error") && reply["error"].is_string()
          ? reply["error"].get<std::string>()
          : "";
  // LwA's descriptions are Amazon's text about the request, never a secret;
  // still, keep them short.
  std::string description =
      reply.is_object() && reply.contains("error_description") && reply["error_description"].is_string()
          ? reply["error_description"].get<std::string>()
          : "";
  description = cut_text(description, 200);
  if (!lwa_error.empty()) detail["lwa_error"] = lwa_error;

  if (lwa_error == "invalid_grant")
    throw error(errc::auth_required,
                fmt::format("Login with Amazon refused the grant of credential '{}' (invalid_grant{}{}): "
                            "the refresh token or code is invalid, expired, revoked or belongs to "
                            "another client. Re-authenticate: run 'amcctl auth login' for this "
                            "credential, or exchange a new authorization code",
                            credential_id, description.empty() ? "" : ": ", description),
                detail);
  if (lwa_error == "invalid_client" || lwa_error == "unauthorized_client")
    throw error(errc::config,
                fmt::format("Login with Amazon rejected the LwA client '{}' ({}): check the client "
                            "id and client secret in the configuration",
                            client_id, lwa_error),
                detail);
  if (http_status == 429)
    throw error(errc::throttled, "Login with Amazon is throttling token requests; retry later",
                detail);
  if (http_status >= 500)
    throw error(errc::remote,
                fmt::format("Login with Amazon failed with HTTP {}; retry later", http_status),
                detail);
  throw error(lwa_error == "invalid_request" || lwa_error == "unsupported_grant_type"
                  ? errc::protocol
                  : errc::remote,
              fmt::format("Login with Amazon refused the token request with HTTP {}{}{}{}",
                          http_status, lwa_error.empty() ? "" : " (" + lwa_error + ")",
                          description.empty() ? "" : ": ", description),
              detail);
}

}  // namespace amc::auth
