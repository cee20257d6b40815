// Login with Amazon: the token endpoint (refresh_token and authorization_code
// grants), the consent page that auto-approves, and bearer-token checks for
// the AMC endpoints.
#include "sandbox/service_handlers.hpp"

#include "sandbox/files.hpp"
#include "sandbox/service_detail.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace amc::sandbox::lwa_handlers {

using nlohmann::json;

namespace {

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

// The form body, or a JSON object body (some clients post JSON), as
// name/value pairs.
detail::parameters token_parameters(const http_request& request) {
  const std::string_view content_type = request[http::field::content_type];
  const std::string& body = request.body();
  if (starts_with_ignoring_case(content_type, "application/json") ||
      (!body.empty() && body.front() == '{' && content_type.empty())) {
    json document = json::parse(body, nullptr, false);
    detail::parameters out;
    if (document.is_object()) {
      for (const auto& [key, value] : document.items()) {
        if (value.is_string()) out.emplace_back(key, value.get<std::string>());
      }
    }
    return out;
  }
  return detail::parse_parameters(body);
}

// Client credentials from an HTTP Basic header, the other way RFC 6749 allows.
void read_basic_credentials(const http_request& request, std::string& client_id, std::string& client_secret) {
  std::string_view header = request[http::field::authorization];
  if (!starts_with_ignoring_case(header, "Basic ")) return;
  header.remove_prefix(6);
  std::string decoded(boost::beast::detail::base64::decoded_size(header.size()), '\0');
  auto [written, read] = boost::beast::detail::base64::decode(decoded.data(), header.data(), header.size());
  (void)read;
  decoded.resize(written);
  auto colon = decoded.find(':');
  if (colon == std::string::npos) return;
  client_id = detail::form_decode(decoded.substr(0, colon));
  client_secret = detail::form_decode(decoded.substr(colon + 1));
}

}  // namespace

http_response token(sandbox_state& state, const http_request& request) {
  using http::status;
  const detail::parameters form = token_parameters(request);
  auto field = [&](std::string_view name) -> std::string {
    const std::string* value = detail::find_parameter(form, name);
    return value ? *value : std::string();
  };
  const std::string grant_type = field("grant_type");
  std::string client_id = field("client_id");
  std::string client_secret = field("client_secret");
  if (client_id.empty() && client_secret.empty()) read_basic_credentials(request, client_id, client_secret);

  if (grant_type.empty()) {
    return detail::lwa_error(request, status::bad_request, "invalid_request",
                             "The request is missing a required parameter : grant_type");
  }
  if (grant_type != "refresh_token" && grant_type != "authorization_code") {
    return detail::lwa_error(request, status::bad_request, "unsupported_grant_type",
                             "The authorization grant type is not supported by the authorization server");
  }
  if (client_id.empty()) {
    return detail::lwa_error(request, status::bad_request, "invalid_request",
                             "The request is missing a required parameter : client_id");
  }
  if (client_secret.empty()) {
    return detail::lwa_error(request, status::bad_request, "invalid_request",
                             "The request is missing a required parameter : client_secret");
  }
  // One registered client; a wrong id or secret is a client authentication
  // failure, answered 401 as RFC 6749 section 5.2 allows.
  if (client_id != state.options.client_id || client_secret != state.options.client_secret) {
    return detail::lwa_error(request, status::unauthorized, "invalid_client", "Client authentication failed");
  }

  grant_record* grant = nullptr;
  if (grant_type == "refresh_token") {
    const std::string refresh_token = field("refresh_token");
    if (refresh_token.empty()) {
      return detail::lwa_error(request, status::bad_request, "invalid_request",
                               "The request is missing a required parameter : refresh_token");
    }
    auto found = state.lwa.grant_id_by_refresh_token.find(refresh_token);
    if (found != state.lwa.grant_id_by_refresh_token.end()) grant = &state.lwa.grants_by_id.at(found->second);
    if (!grant || grant->revoked || grant->client_id != client_id) {
      return detail::lwa_error(request, status::bad_request, "invalid_grant",
                               "The request has an invalid grant parameter : refresh_token");
    }
  } else {
    const std::string code = field("code");
    if (code.empty()) {
      return detail::lwa_error(request, status::bad_request, "invalid_request",
                               "The request is missing a required parameter : code");
    }
    auto found = state.lwa.consent_codes.find(code);
    // Codes are single-use: any exchange attempt consumes the code.
    const bool usable = found != state.lwa.consent_codes.end() && found->second.expires_at > state.now() &&
                        found->second.grant_client_id == client_id &&
                        found->second.redirect_uri == field("redirect_uri");
    if (!usable) {
      if (found != state.lwa.consent_codes.end()) state.lwa.consent_codes.erase(found);
      return detail::lwa_error(request, status::bad_request, "invalid_grant",
                               "The request has an invalid parameter : code");
    }
    grant_record fresh{"grant-" + random_token(9), client_id, "Atzr|" + random_token(96), found->second.scope, false,
                       state.now()};
    state.lwa.consent_codes.erase(found);
    grant = &state.lwa.add_grant(std::move(fresh));
  }

  // Expired tokens are swept now and then so the table stays small under
  // long benchmarks.
  if (state.lwa.access_tokens.size() >= 4096) {
    const double current = state.now();
    std::erase_if(state.lwa.access_tokens, [&](const auto& entry) { return entry.second.expires_at <= current; });
  }
  const bool refresh_grant = grant_type == "refresh_token";
  if (refresh_grant && state.options.refresh_reply == refresh_token_reply::rotate) {
    // The old refresh token stops working; access tokens already issued
    // from the grant stay valid.
    state.lwa.grant_id_by_refresh_token.erase(grant->refresh_token);
    grant->refresh_token = "Atzr|" + random_token(96);
    state.lwa.grant_id_by_refresh_token[grant->refresh_token] = grant->id;
  }
  std::string access_token = "Atza|" + random_token(96);
  state.lwa.access_tokens[access_token] = {grant->id, grant->client_id,
                                           state.now() + state.options.access_token_ttl_seconds};
  json reply_body = {{"access_token", access_token},
                     {"refresh_token", grant->refresh_token},
                     {"token_type", "bearer"},
                     {"expires_in", state.options.access_token_ttl_seconds}};
  if (refresh_grant && state.options.refresh_reply == refresh_token_reply::omit) reply_body.erase("refresh_token");
  auto response = detail::make_json(request, status::ok, reply_body);
  response.set(http::field::cache_control, "no-store");
  return response;
}

http_response consent(sandbox_state& state, const http_request& request, std::string_view query) {
  using http::status;
  const detail::parameters params = detail::parse_parameters(query);
  auto field = [&](std::string_view name) -> std::string {
    const std::string* value = detail::find_parameter(params, name);
    return value ? *value : std::string();
  };
  const std::string client_id = field("client_id");
  const std::string redirect_uri = field("redirect_uri");
  // Errors about the client or the return URL are shown, never redirected
  // (RFC 6749 section 4.1.2.1).
  if (client_id != state.options.client_id) {
    return detail::lwa_error(request, status::bad_request, "invalid_client", "Unknown client_id");
  }
  const bool web_uri = redirect_uri.starts_with("http://") || redirect_uri.starts_with("https://");
  const auto& allowed_uris = state.options.allowed_redirect_uris;
  const bool allowed = allowed_uris.empty()
                           ? web_uri
                           : std::find(allowed_uris.begin(), allowed_uris.end(), redirect_uri) != allowed_uris.end();
  if (!allowed) {
    return detail::lwa_error(request, status::bad_request, "invalid_request",
                             "redirect_uri is missing or not an allowed return URL");
  }
  const std::string client_state = field("state");  // OAuth's state, handed back as it came
  const std::string scope = field("scope").empty() ? "advertising::campaign_management" : field("scope");
  const char separator = redirect_uri.find('?') == std::string::npos ? '?' : '&';
  std::string location;
  if (field("response_type") != "code") {
    location = fmt::format("{}{}error=unsupported_response_type", redirect_uri, separator);
  } else {
    std::string code = "ANsandbox" + random_token(24);
    state.lwa.consent_codes[code] = {client_id, redirect_uri, scope,
                                     state.now() + state.options.consent_code_ttl_seconds};
    location = fmt::format("{}{}code={}&scope={}", redirect_uri, separator, detail::percent_encode(code),
                           detail::percent_encode(scope));
  }
  if (!client_state.empty()) location += "&state=" + detail::percent_encode(client_state);
  auto response = detail::make_response(request, status::found, "", "text/html");
  response.set(http::field::location, location);
  response.set(http::field::cache_control, "no-store");
  return response;
}

std::optional<http_response> authenticate_bearer(const sandbox_state& state, const http_request& request,
                                                 bool wants_amc_error_body) {
  using http::status;
  auto unauthorized = [&](std::string_view details) {
    if (wants_amc_error_body) return detail::amc_error(request, status::unauthorized, details);
    // The administration accounts API has its own error shape.
    return detail::make_json(
        request, status::unauthorized,
        json{{"message", details}, {"requestId", fmt::format("sandbox-{:08x}", state.traffic.requests)}});
  };
  std::string_view header = request[http::field::authorization];
  if (header.empty()) return unauthorized("Missing Authorization header: expected 'Bearer <access token>'.");
  if (!starts_with_ignoring_case(header, "Bearer ")) return unauthorized("The Authorization header is not a Bearer token.");
  header.remove_prefix(7);
  auto found = state.lwa.access_tokens.find(header);
  if (found == state.lwa.access_tokens.end()) return unauthorized("Unauthorized. The access token is not valid.");
  if (found->second.expires_at <= state.now()) return unauthorized("Unauthorized. The access token has expired.");
  auto grant = state.lwa.grants_by_id.find(found->second.grant_id);
  if (grant == state.lwa.grants_by_id.end() || grant->second.revoked) {
    return unauthorized("Unauthorized. The grant behind this access token was revoked.");
  }
  std::string_view client_header = request["Amazon-Advertising-API-ClientId"];
  if (client_header.empty()) {
    auto response = detail::amc_error(request, status::bad_request,
                                      "Missing required header Amazon-Advertising-API-ClientId.");
    if (!wants_amc_error_body) {
      response = detail::make_json(request, status::bad_request,
                                   json{{"message", "Missing required header Amazon-Advertising-API-ClientId."},
                                        {"requestId", fmt::format("sandbox-{:08x}", state.traffic.requests)}});
    }
    return response;
  }
  if (client_header != found->second.client_id) {
    return unauthorized("Unauthorized. Amazon-Advertising-API-ClientId does not match the client of the access token.");
  }
  return std::nullopt;
}

}  // namespace amc::sandbox::lwa_handlers
