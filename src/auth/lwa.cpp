#include "auth/lwa.hpp"

#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/log.hpp"
#include "common/text.hpp"
#include "common/url_encoding.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>

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

namespace {

// Sets grant.expires_in_seconds from the reply (rules in lwa.hpp). Every
// value is compared as what it is (unsigned, signed, floating or text), so
// no value can overflow on the way.
void read_expires_in(const nlohmann::json& reply, token_grant& grant, const nlohmann::json& detail) {
  const auto expires = reply.find("expires_in");
  if (expires == reply.end()) {
    grant.expires_in_seconds = default_access_token_lifetime_seconds;
    return;
  }
  constexpr long long maximum = max_access_token_lifetime_seconds;
  enum class verdict { in_range, too_small, too_large, not_a_number };
  verdict found = verdict::not_a_number;
  long long seconds = 0;
  if (expires->is_number_unsigned()) {
    const auto value = expires->get<std::uint64_t>();
    found = value < 1 ? verdict::too_small
            : value > static_cast<std::uint64_t>(maximum) ? verdict::too_large
                                                           : verdict::in_range;
    seconds = found == verdict::in_range ? static_cast<long long>(value) : 0;
  } else if (expires->is_number_integer()) {
    const auto value = expires->get<std::int64_t>();
    found = value < 1 ? verdict::too_small : value > maximum ? verdict::too_large : verdict::in_range;
    seconds = found == verdict::in_range ? value : 0;
  } else if (expires->is_number_float()) {
    const double value = expires->get<double>();
    found = !std::isfinite(value)                      ? verdict::not_a_number
            : value < 1                                ? verdict::too_small
            : value > static_cast<double>(maximum)     ? verdict::too_large
                                                       : verdict::in_range;
    seconds = found == verdict::in_range ? std::llround(value) : 0;
  } else if (expires->is_string()) {
    // Some token endpoints send the number as text: digits only.
    const auto& text = expires->get_ref<const std::string&>();
    std::uint64_t value = 0;
    const auto [end, problem] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!text.empty() && end == text.data() + text.size() &&
        (problem == std::errc{} || problem == std::errc::result_out_of_range)) {
      found = problem == std::errc::result_out_of_range ? verdict::too_large
              : value < 1                               ? verdict::too_small
              : value > static_cast<std::uint64_t>(maximum) ? verdict::too_large
                                                            : verdict::in_range;
      seconds = found == verdict::in_range ? static_cast<long long>(value) : 0;
    }
  }
  switch (found) {
    case verdict::in_range:
      grant.expires_in_seconds = seconds;
      return;
    case verdict::too_large:
      grant.expires_in_seconds = maximum;
      grant.expires_in_clamped_from = expires->dump();
      return;
    case verdict::too_small:
      throw error(errc::protocol,
                  fmt::format("Login with Amazon answered 200 with expires_in {}: the access token "
                              "would already be expired (expected 1 to {} seconds); check the LwA "
                              "token URL",
                              expires->dump(), maximum),
                  detail);
    case verdict::not_a_number:
      break;
  }
  throw error(errc::protocol,
              fmt::format("Login with Amazon answered 200 with expires_in of type {} (expected a "
                          "number of seconds, 1 to {}); check the LwA token URL",
                          expires->type_name(), maximum),
              detail);
}

}  // namespace

bool is_invalid_grant(const error& problem) { return problem.code_value() == errc::auth_required; }

token_grant interpret_token_reply(unsigned http_status, std::string_view body,
                                  std::string_view credential_id, std::string_view client_id,
                                  std::initializer_list<std::string_view> secrets) {
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
    read_expires_in(reply, grant, detail);
    const auto refresh = reply.find("refresh_token");
    if (refresh != reply.end() && refresh->is_string() && !refresh->get_ref<const std::string&>().empty())
      grant.refresh_token = refresh->get<std::string>();
    return grant;
  }

  const std::string lwa_error =
      reply.is_object() && reply.contains("error") && reply["error"].is_string()
          ? reply["error"].get<std::string>()
          : "";
  // What LwA wrote, as it may go into a message: cut, and redacted of what
  // the request carried. lwa_error itself is only compared.
  const std::string lwa_error_text = redact_secrets(cut_text(lwa_error, 64), secrets);
  // LwA's descriptions are Amazon's text about the request, never a secret;
  // still, keep them short.
  std::string description =
      reply.is_object() && reply.contains("error_description") && reply["error_description"].is_string()
          ? reply["error_description"].get<std::string>()
          : "";
  description = redact_secrets(cut_text(description, 200), secrets);
  if (!lwa_error.empty()) detail["lwa_error"] = lwa_error_text;

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
                          http_status, lwa_error.empty() ? "" : " (" + lwa_error_text + ")",
                          description.empty() ? "" : ": ", description),
              detail);
}

}  // namespace amc::auth
