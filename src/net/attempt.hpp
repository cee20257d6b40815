// One attempt of a request, as the parts of src/net pass it around: where
// it is (its phase), what it carries (the request context), how long each
// phase may take, and how it failed, before the retry loop decides what to
// do with the failure. Internal to src/net.
#pragma once

#include "common/error.hpp"
#include "net/http_types.hpp"
#include "net/url.hpp"

#include <boost/asio/cancellation_state.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace amc::net::detail {

// Where a failure happened; decides the message and whether it may be
// retried, and travels typed in the amc::error (error::phase()). The phases
// of an attempt are pool_wait .. read_body; phase_name() names them.
using phase = error_phase;

// One failed attempt, before the retry loop decides what to do with it.
struct attempt_failure {
  errc code = errc::network;
  std::string message;
  phase where = phase::connect;
  bool nothing_sent = true;    // no byte of the request reached the socket
  bool stale_reuse = false;    // a pooled connection the server had already closed
  bool retryable = true;       // false for TLS verification, size limits, protocol errors
  // Over TLS, the socket could not take the request written at once (see
  // request_context::write_at_once): sent again at once with the
  // asynchronous write. (Last: the fields above are set by position.)
  bool write_at_once_refused = false;
};

struct attempt_result {
  std::optional<response> reply;
  std::optional<attempt_failure> failure;
  bool keep_alive = false;  // the connection may carry another request
};

// Where http_client::download() streams a 200 body.
struct download_target {
  std::filesystem::path destination;
  std::function<void(std::uint64_t, std::uint64_t)> progress;
};

// Everything an attempt needs to know about its request; built once per
// request by the retry loop.
struct request_context {
  const request& req;
  const url_parts& url;
  std::string pool_key;
  bool via_proxy = false;
  // request::deadline, or retry.max_total from the request's start when it
  // has none: no phase, wait or retry goes past it; messages name its budget.
  amc::deadline deadline{};
  // The request as it goes on the wire (head and body), rendered once by
  // build_request_message and written as one buffer by every attempt.
  std::string wire;
  std::string_view method_name() const { return boost::beast::http::to_string(req.method); }
  boost::asio::cancellation_state cancellation;
  const download_target* download = nullptr;  // set by download()
  // Sent again at once on a new connection when a pooled one turns out to
  // have been closed by the server (retry_loop's stale resend).
  bool resendable = false;
  // Over TLS, a small request is first written at once, without waiting
  // (exchange.cpp); when the socket cannot take it, the attempt fails with
  // write_at_once_refused and the retry loop sends the request again with
  // this off: then it is written asynchronously, under its write deadline.
  bool write_at_once = true;
};

// Deadline of one phase: the phase's own timeout or what is left of the
// request's overall deadline, whichever comes first.
struct phase_deadline {
  std::chrono::steady_clock::duration budget;
  bool overall;  // the overall deadline is the tighter one
};

phase_deadline deadline_for(milliseconds phase_timeout, const amc::deadline& overall);

attempt_failure timeout_failure(const request_context& rc, phase where, const phase_deadline& limit,
                                milliseconds phase_timeout, bool nothing_sent);

attempt_failure network_failure(const request_context& rc, phase where, const std::string& what, bool nothing_sent);

// The peer closed or reset the connection (what a stale pooled connection
// looks like when it is used).
bool is_connection_lost(const boost::system::error_code& ec);

}  // namespace amc::net::detail
