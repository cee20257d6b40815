// The HTTP client's vocabulary: options, a request, a response and its
// header fields. Kept apart from http_client.hpp so that the pure parts of
// src/net (URL rules, retry policy, rate limiter) and their tests can use
// these types without the client and its Asio machinery.
#pragma once

#include "common/deadline.hpp"

#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

namespace amc::net {

using milliseconds = std::chrono::milliseconds;

// A deadline for each phase of one attempt.
struct phase_timeouts {
  milliseconds resolve{10'000};
  milliseconds connect{10'000};
  milliseconds handshake{10'000};  // TLS, and the proxy's CONNECT reply
  milliseconds write{30'000};
  milliseconds read_headers{60'000};
  milliseconds read_body{120'000};
  // A pooled connection idle longer than this is closed rather than reused.
  milliseconds idle{30'000};
};

struct tls_options {
  // Never turned off outside tests. When off, the client says so: a
  // WARNING at creation (src/client) and metrics() "tls": {"verify_peer": false}.
  bool verify_peer = true;
  std::string ca_file;         // PEM bundle to trust instead of the system store
  std::string ca_directory;    // hashed CA directory, likewise
};

struct retry_policy {
  int max_attempts = 5;              // attempts for network errors and 5xx
  milliseconds base_delay{500};      // full jitter: sleep U(0, min(max, base * 2^n))
  milliseconds max_delay{30'000};
  // The retries of one request: no backoff, Retry-After wait, or
  // rate-limiter wait before a retry of a 429/5xx answer, is started that
  // would end past this time from the request's start, even when the call's
  // deadline is later (retry_loop.cpp says what it leaves alone: an attempt
  // under way, a first attempt's rate-limiter wait, downloads). Without a
  // call deadline (request::deadline) it is also the request's deadline.
  milliseconds max_total{180'000};
  // 429s wait (Retry-After, else backoff) without using up max_attempts or
  // the retry budget, up to this many times within max_total. The server
  // directs these waits and the rate limiter already slows the client down,
  // so they do not multiply traffic; letting them draw on the budget would
  // let one throttled request (or a burst of 429s) use up the retries other
  // requests need for network errors and 5xx.
  int max_throttle_waits = 30;
  // The longest wait any Retry-After can impose (issue 23 kind 2): a reply
  // asking for more (a day, a date decades away) is taken as asking for
  // this, with a WARNING naming the request, what it asked and this cap.
  // Applied once, where every reply comes back (retry_loop.cpp), so the
  // retry loop's throttle waits, the reply's retry_after (what a 429 error
  // carries as retry_after_ms), the poller's pause and wait()'s next read
  // all see the capped value. AMC's limits are token buckets refilled in
  // seconds, so a minute is generous. Config: retry.max_retry_after_ms
  // (at least 1).
  milliseconds max_retry_after{60'000};
  // Retries after network errors and 5xx may add at most this fraction of
  // first attempts (plus a small floor), across the client, so a storm of
  // failures does not multiply traffic.
  double retry_budget_ratio = 0.2;
  int retry_budget_floor = 10;
};

// Token bucket per (client id, host) (see request::rate_limit_client_id),
// shared by all requests of a client. Lowered multiplicatively on 429,
// recovered additively (AIMD).
struct rate_limit_options {
  double requests_per_second = 10.0;
  double burst = 10.0;
  double minimum_requests_per_second = 0.5;
  double decrease_factor = 0.5;       // on a 429
  double recovery_per_second = 0.05;  // added to the rate each second without 429
  // At the latest this long after the last decrease the rate is back to
  // requests_per_second (a straight line from the lowered rate; the
  // additive recovery above when that is faster). Zero: additive only.
  // The HTTP client sets it to retry.max_retry_after: no 429 holds the
  // client's rate down longer than any Retry-After may hold a request
  // (issue 23 kind 2; without it, a few 429s left a 10 requests/s client
  // at 0.5 for over three minutes, and the soak's poller starved).
  milliseconds full_recovery{0};
};

struct proxy_options {
  // "http://host:port" of an HTTP proxy used with CONNECT for https URLs;
  // empty = none. NO_PROXY-style list of hosts/suffixes that bypass it.
  std::string https_proxy;
  std::string no_proxy;
  bool from_environment = true;  // fill empty fields from HTTPS_PROXY / NO_PROXY
};

struct client_options {
  phase_timeouts timeouts;
  tls_options tls;
  retry_policy retry;
  rate_limit_options rate_limit;
  proxy_options proxy;
  std::size_t max_connections_per_host = 8;  // excess requests queue
  std::size_t max_response_body_bytes = 16 * 1024 * 1024;
  std::size_t max_response_header_bytes = 64 * 1024;
  std::string user_agent = "libamc";
};

struct header_field {
  std::string name;
  std::string value;
};

// Header fields checked and rendered once, for fields that many requests
// share (an API client's id, its access token, the advertiser): a request
// points at the block (request::common_headers) instead of carrying
// copies. Immutable once built; share it through a shared_ptr.
class header_block {
 public:
  header_block() = default;
  // Throws errc::invalid_argument for a field with an empty name or a line
  // break in its name or value (the message never quotes a value: it may
  // be a secret). Content-Length and Transfer-Encoding are left out: the
  // client frames every request itself.
  explicit header_block(const std::vector<header_field>& fields);
  // Wipes the rendered fields: they may carry a secret (an access token).
  ~header_block();
  header_block(const header_block&) = default;
  header_block& operator=(const header_block&) = default;

  // "Name: value\r\n" for each field, in the given order.
  std::string_view wire() const { return wire_; }
  bool sets_host() const { return sets_host_; }
  bool sets_user_agent() const { return sets_user_agent_; }

 private:
  std::string wire_;
  bool sets_host_ = false;
  bool sets_user_agent_ = false;
};

struct request {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string url;  // http:// or https://, with port and query as needed
  // Sent after Host and User-Agent and before `headers` (the same rules;
  // checked when the block was built). Null = none.
  std::shared_ptr<const header_block> common_headers;
  // Sent in this order after Host and User-Agent (a header of either name
  // here replaces the client's own). Content-Length and Transfer-Encoding
  // are not taken from here: the client frames every request itself
  // (Content-Length when there is a body or the method is POST, PUT or
  // OPTIONS; never chunked). A name that is empty or a name or value with a
  // line break is errc::invalid_argument.
  std::vector<header_field> headers;
  std::string body;
  // The client-side rate limiter keeps one token bucket per (this id,
  // scheme://host:port of `url`): requests of one API client (e.g. its LwA
  // client id) to one host share it. The host part is always taken from the
  // URL, so callers cannot leave it out. Empty = per host only (e.g. a
  // pre-signed download URL that belongs to no client id). Not a secret:
  // it appears in metrics and messages.
  std::string rate_limit_client_id;
  // By default GET, HEAD, PUT and DELETE are retried; POST is not, except
  // after a 429 (the server did not act on it), which is waited out for
  // every method. Other failures of a POST that may have reached the
  // server are the caller's to reconcile.
  std::optional<bool> retryable;
  // The call's deadline, as the call's door made it: every phase (resolve,
  // connect, TLS, proxy CONNECT, write, read headers, read body, pool wait,
  // rate-limiter wait) ends by it, no backoff or Retry-After wait is
  // started that would end past it, and timeout messages name its budget.
  // Unbounded (the default): retry.max_total from when the request starts
  // is its deadline.
  amc::deadline deadline{};
  // What the request is for, as the client's log lines name it ("get_execution",
  // "token refresh"): retries, backoffs, throttle waits and reconnects are
  // logged with it. Static text (a literal): the request does not own it.
  // Empty: the log lines name the method instead.
  std::string_view operation;
};

struct response {
  unsigned status = 0;
  std::vector<header_field> headers;
  std::string body;
  int attempts = 0;  // how many times it was sent
  // The Retry-After header read as a wait (delta-seconds or HTTP-date,
  // clamped to [0, 24 h]; see retry_after.hpp), when the reply has one
  // that parses, then capped at retry.max_retry_after by the retry loop
  // before anyone sees it. Read this instead of the header text.
  std::optional<milliseconds> retry_after;

  // First header with this name, compared case-insensitively.
  std::optional<std::string_view> header(std::string_view name) const;

  // The Content-Encoding of the body when it is one libamc did not ask
  // for: libamc asks for none (accept_identity below), so anything but
  // "identity" means the body is not the bytes it claims (issue 23 kind 6).
  std::optional<std::string> unasked_content_encoding() const;

  // For a 3xx answer: "to host 'example.com'" from its Location, for the
  // message that says libamc did not follow it (issue 23 kind 8); "without
  // a Location" when it has none.
  std::string redirect_target() const;
};

// The request header that asks for the body as it is, never compressed:
// libamc decodes no Content-Encoding.
inline constexpr std::pair<std::string_view, std::string_view> accept_identity{"Accept-Encoding", "identity"};

}  // namespace amc::net
