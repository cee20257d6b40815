// One authenticated AMC call: the four headers AMC wants, the token from the
// token manager, and the rules for 401 and 403 (refresh once, retry once;
// a 403 never touches the stored refresh token), then AMC's reply mapped to
// a typed error that says what to do.
#pragma once

#include "api/replies.hpp"
#include "auth/token_manager.hpp"
#include "common/call_context.hpp"
#include "common/deadline.hpp"
#include "common/log.hpp"
#include "net/http_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amc::api {

// Who is asking, for what, and until when (common/call_context.hpp: shared
// with the poller's interface, poll::status_source).
using call_context = amc::call_context;
struct amc_call {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string path_and_query;             // "/amc/accounts?nextToken=…"
  std::optional<nlohmann::json> body;     // sent as JSON
  bool retryable = true;                  // false for creates (POST)
  // libamc's name of the operation ("get_execution"): the HTTP client's log
  // lines about this call's retries and waits start with it. A literal.
  std::string_view operation;
};

class session {
 public:
  session(net::http_client& http, auth::token_manager& tokens, std::string base_url,
          std::string client_id, const logger& log);

  // The reply body as JSON ({} for an empty body) on 2xx; otherwise throws
  // amc::error mapped from the status with AMC's own message.
  boost::asio::awaitable<nlohmann::json> call(const call_context& context, amc_call request);

  // The same call, the 2xx reply returned unparsed (for a caller that may
  // not need to parse it: get_execution_if_changed). Other statuses throw
  // as call() does. `context` and `request` must outlive the awaited call.
  boost::asio::awaitable<net::response> call_reply(const call_context& context, const amc_call& request);

  // The 2xx reply's body as JSON ({} when empty); protocol when it is not
  // JSON (cut short, or not from AMC), naming the request.
  static nlohmann::json parse_reply(const net::response& reply, const amc_call& request);

  const std::string& base_url() const { return base_url_; }

 private:
  // AMC's headers for this context and access token, built once and then
  // shared by its calls (a poller sends thousands a second for one
  // context); rebuilt when the token changes.
  std::shared_ptr<const net::header_block> amc_headers(const call_context& context, const std::string& token);

  struct header_entry {
    std::string credential_id, advertiser_id, marketplace_id, token;
    std::shared_ptr<const net::header_block> block;
  };

  net::http_client& http_;
  auth::token_manager& tokens_;
  std::string base_url_;
  std::string client_id_;
  const logger& log_;
  std::mutex headers_mutex_;
  // The contexts used last (the least recently used goes first), at most
  // max_header_entries; an entry holds an access token, so the list stays
  // short, a refreshed token replaces its entry, and a dropped token is
  // wiped.
  std::vector<header_entry> header_entries_;
  static constexpr std::size_t max_header_entries = 16;
};

// Throws errc::timeout naming `what` when the call's deadline has passed:
// a request is never started after it.
void refuse_past_deadline(const call_context& context, std::string_view what);
// The same, with the text made only when it is needed (`describe()` returns
// what would have been `what`): for calls on a hot path.
template <class Describe>
void refuse_past_deadline_lazy(const call_context& context, const Describe& describe) {
  if (context.deadline.bounded() && context.deadline.passed(std::chrono::steady_clock::now()))
    refuse_past_deadline(context, describe());  // throws
}

// amc_error_text (AMC's error text from a reply body): api/replies.hpp.

}  // namespace amc::api
