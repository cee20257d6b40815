#include "api/session.hpp"

#include "api/ids.hpp"
#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/log.hpp"
#include "common/text.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>

namespace amc::api {

namespace asio = boost::asio;

session::session(net::http_client& http, auth::token_manager& tokens, std::string base_url,
                 std::string client_id, const logger& log)
    : http_(http),
      tokens_(tokens),
      base_url_(std::move(base_url)),
      client_id_(std::move(client_id)),
      log_(log) {}

void refuse_past_deadline(const call_context& context, std::string_view what) {
  if (context.deadline.time_left() == std::chrono::steady_clock::duration::zero())
    throw error(errc::timeout, fmt::format("the call's timeout of {} ms ran out before {} could be sent",
                                           context.deadline.budget.count(), what));
}

namespace {

// `token`: the access token the request carried; AMC's text may quote it
// (issue 23 kind 7), so every text taken from the reply is redacted of it.
[[noreturn]] void throw_for_status(const net::response& reply, const call_context& context,
                                   const amc_call& request, std::string_view token) {
  const std::string amc_text = redact_secrets(amc_error_text(reply.body), {token});
  nlohmann::json detail = {{"http_status", reply.status}, {"credential_id", context.credential_id}};
  const auto reply_json = parse_json_bounded(reply.body).value_or(nlohmann::json());
  // AMC's own words, for callers that report them as they are (the
  // pre-flight check's compile error); never decided on.
  if (!amc_text.empty()) detail["amc_details"] = amc_text;
  if (reply_json.is_object() && reply_json.contains("code"))
    detail["amc_code"] = redact_secrets(cut_text(reply_json["code"].is_string() ? reply_json["code"].get<std::string>()
                                                                               : reply_json["code"].dump(),
                                                 200),
                                        {token});
  // Retry-After travels typed (error::retry_after(), as src/net read it
  // once: response::retry_after); capi/ writes it as retry_after_ms.
  const auto fail = [&](errc code, const std::string& message) {
    return error(code, message, detail).with_retry_after(reply.retry_after);
  };
  const std::string said = amc_text.empty() ? "" : ": " + amc_text;
  const std::string where = fmt::format("{} {}", boost::beast::http::to_string(request.method),
                                        request.path_and_query.substr(0, request.path_and_query.find('?')));
  // AMC says "no results to download yet" only in its text (HTTP 400 as we
  // read it; the code is not documented): a conflict with the execution's
  // state, typed here once so that no caller reads the message.
  if (reply.status >= 400 && reply.status < 500 && reply.status != 401 && reply.status != 403 &&
      reply.status != 429 && amc_text.find("unavailable for download") != std::string::npos)
    throw fail(errc::conflict, fmt::format("AMC has no results to download at {} (yet){}", where, said));
  // A redirect is the server's answer, never followed: the request carried
  // a bearer token, which must not go to whatever host a Location names.
  if (reply.status >= 300 && reply.status < 400)
    throw fail(errc::protocol,
               fmt::format("AMC answered {} with a redirect (HTTP {}) {}, which libamc does not follow with "
                           "an access token; check endpoints.amc in the client config",
                           where, reply.status, reply.redirect_target()));
  switch (reply.status) {
    case 401:
      throw fail(errc::auth_required,
                 fmt::format("AMC refused the access token of credential '{}' even after a refresh "
                             "(HTTP 401 on {}){}; re-authenticate the credential",
                             context.credential_id, where, said));
    case 403:
      if (!context.advertiser_id.empty() && !looks_like_entity_id(context.advertiser_id))
        throw fail(errc::forbidden,
                   fmt::format("AMC denied access (HTTP 403 on {}){}. The advertiser id '{}' does "
                               "not look like an AMC entity id (ENTITY…): use the accountId from "
                               "GET /amc/accounts ('amcctl accounts'). The credential was kept",
                               where, said, context.advertiser_id));
      throw fail(errc::forbidden,
                 fmt::format("AMC denied access (HTTP 403 on {}){} even after a token refresh: "
                             "credential '{}' has no access to {}{}. Check that the Amazon user "
                             "who authorised it can open this instance in the AMC console; the "
                             "credential and its refresh token were kept",
                             where, said, context.credential_id,
                             context.instance_id.empty() ? "this account" : "instance " + context.instance_id,
                             context.advertiser_id.empty() ? "" : " with advertiser " + context.advertiser_id));
    case 404:
      throw fail(errc::not_found, fmt::format("AMC found nothing at {}{}", where, said));
    case 409:
      throw fail(errc::conflict, fmt::format("AMC reported a conflict on {}{}", where, said));
    case 429:
      throw fail(errc::throttled,
                 fmt::format("AMC is throttling requests (HTTP 429 on {}) beyond the retry "
                             "policy; retry later",
                             where));
    default: break;
  }
  if (reply.status >= 500)
    throw fail(errc::remote,
               fmt::format("AMC failed with HTTP {} on {}{} after {} attempt(s); retry later",
                           reply.status, where, said, reply.attempts));
  // 400, 422 and the rest: AMC says what was wrong with the request.
  if (amc_text.find("already exists") != std::string::npos)
    throw fail(errc::conflict, fmt::format("AMC refused {}{}", where, said));
  throw fail(errc::invalid_argument,
             fmt::format("AMC refused {} with HTTP {}{}", where, reply.status, said));
}

}  // namespace

asio::awaitable<nlohmann::json> session::call(const call_context& context, amc_call request) {
  const net::response reply = co_await call_reply(context, request);
  co_return parse_reply(reply, request);
}

nlohmann::json session::parse_reply(const net::response& reply, const amc_call& request) {
  if (reply.body.empty()) return nlohmann::json::object();
  json_problem problem;
  auto parsed = parse_json_bounded(reply.body, &problem);
  if (!parsed)
    throw error(errc::protocol,
                fmt::format("AMC answered HTTP {} to {} {} with a body that {} ({} bytes); the reply was cut "
                            "short or is not from AMC",
                            reply.status, boost::beast::http::to_string(request.method),
                            request.path_and_query.substr(0, request.path_and_query.find('?')), describe(problem),
                            reply.body.size()),
                {{"http_status", reply.status}});
  return std::move(*parsed);
}

std::shared_ptr<const net::header_block> session::amc_headers(const call_context& context, const std::string& token) {
  const std::lock_guard lock(headers_mutex_);
  const auto drop = [this](std::vector<header_entry>::iterator entry) {
    OPENSSL_cleanse(entry->token.data(), entry->token.size());
    header_entries_.erase(entry);  // the block wipes its own copy when its last request is done
  };
  for (auto entry = header_entries_.begin(); entry != header_entries_.end(); ++entry) {
    if (entry->credential_id != context.credential_id || entry->advertiser_id != context.advertiser_id ||
        entry->marketplace_id != context.marketplace_id)
      continue;
    if (entry->token != token) {
      // A refreshed token: the old one goes with its block.
      drop(entry);
      break;
    }
    // The most recently used last: the least recently used goes first.
    std::rotate(entry, entry + 1, header_entries_.end());
    return header_entries_.back().block;
  }
  std::vector<net::header_field> fields;
  fields.reserve(5);
  fields.push_back({"Amazon-Advertising-API-ClientId", client_id_});
  fields.push_back({"Authorization", "Bearer " + token});
  fields.push_back({"Accept", "application/json"});
  fields.push_back({std::string(net::accept_identity.first), std::string(net::accept_identity.second)});
  if (!context.advertiser_id.empty()) fields.push_back({"Amazon-Advertising-API-AdvertiserId", context.advertiser_id});
  if (!context.marketplace_id.empty()) fields.push_back({"Amazon-Advertising-API-MarketplaceId", context.marketplace_id});
  auto block = std::make_shared<const net::header_block>(fields);
  if (header_entries_.size() >= max_header_entries) drop(header_entries_.begin());
  header_entries_.push_back({context.credential_id, context.advertiser_id, context.marketplace_id, token, block});
  return block;
}

asio::awaitable<net::response> session::call_reply(const call_context& context, const amc_call& request) {
  // Usually in memory: no coroutine of the token manager's then.
  std::string token = tokens_.cached_access_token(context.credential_id).value_or(std::string());
  if (token.empty()) token = co_await tokens_.access_token(context.credential_id, context.deadline);
  net::response reply;
  for (int attempt = 0;; ++attempt) {
    net::request http_request;
    http_request.method = request.method;
    http_request.url = base_url_ + request.path_and_query;
    http_request.common_headers = amc_headers(context, token);
    if (request.body) {
      http_request.headers.push_back({"Content-Type", "application/json"});
      http_request.body = request.body->dump();
    }
    http_request.rate_limit_client_id = client_id_;  // the limiter adds the host
    http_request.retryable = request.retryable;
    http_request.operation = request.operation;
    // The call's deadline bounds every phase, retry and Retry-After wait of
    // the request (net::request::deadline); no request starts after it.
    http_request.deadline = context.deadline;
    refuse_past_deadline_lazy(context, [&] {
      return fmt::format("{} {}", boost::beast::http::to_string(request.method),
                         request.path_and_query.substr(0, request.path_and_query.find('?')));
    });
    reply = co_await http_.send(std::move(http_request));
    // 401: the token may have expired or been revoked between our check and
    // AMC's. 403: AMC also answers 403 for expired credentials. Either way,
    // one refresh and one retry — never more, and never a change to the
    // stored refresh token.
    if ((reply.status == 401 || reply.status == 403) && attempt == 0) {
      log_.log(log_level::info,
               fmt::format("AMC answered {} for credential '{}'; refreshing the token and retrying once",
                           reply.status, context.credential_id));
      token = co_await tokens_.refresh(context.credential_id, token, context.deadline);
      continue;
    }
    break;
  }
  if (const auto encoding = reply.unasked_content_encoding())
    throw error(errc::protocol,
                fmt::format("AMC answered {} {} with Content-Encoding {}, which libamc did not ask for (it "
                            "sends Accept-Encoding: identity) and does not decode",
                            boost::beast::http::to_string(request.method),
                            request.path_and_query.substr(0, request.path_and_query.find('?')), *encoding),
                {{"http_status", reply.status}});
  if (reply.status >= 200 && reply.status < 300) co_return reply;
  throw_for_status(reply, context, request, token);
}

}  // namespace amc::api
