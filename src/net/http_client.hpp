// HTTP/1.1 over TCP or TLS for the rest of libamc: a keep-alive connection
// pool per host, a deadline on every phase, bounded retries with full-jitter
// backoff that honour Retry-After, a retry budget, a client-side rate limiter
// per key, and HTTPS proxies through CONNECT.
//
// Nothing here knows AMC or LwA: callers give a method, a URL, headers and a
// body, and get a status, headers and a body back. HTTP statuses are data,
// not errors: a 403 comes back as a response. Only failures to get a response
// at all (network, TLS, deadline, malformed or oversized reply) throw
// amc::error (errc::network, tls, timeout, protocol, cancelled).
#pragma once

#include "common/log.hpp"
#include "net/http_types.hpp"
#include "net/io_strand.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

namespace amc::net {

namespace detail {
struct client_state;
}

class http_client {
 public:
  // Runs its I/O on `executor` (the owner runs the io_context's threads).
  // `log` (may be null: no lines), which must outlive the client, gets a
  // line for each retry and its backoff (INFO), each throttle wait (429,
  // INFO), a request given back or failed after retrying (INFO), and each
  // client-side rate-limit wait and resend on a new connection after the
  // server closed a pooled one (DEBUG). Each line starts with the request's
  // operation (request::operation) and names the URL without its query; it
  // never holds a header, a body or a query string.
  http_client(boost::asio::any_io_executor executor, client_options options, const logger* log = nullptr);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Sends `req`, retrying as the policy allows. Returns the final response
  // (including 4xx, and the last 429/5xx when retries are exhausted or the
  // next wait would end past the request's deadline, with `attempts` and
  // `retry_after` set); throws amc::error when no response could be had:
  // errc::timeout when a phase, or the wait before a retry after a network
  // failure, reaches the deadline (the message names the phase and the
  // deadline's budget in ms; the phase is error::phase()).
  // Cancelled through the awaiting coroutine's cancellation slot (any
  // cancellation type); emit it from the awaiting coroutine's executor, as
  // Asio requires of every cancellation slot. May be awaited from any
  // executor: the work runs on the client's strand.
  boost::asio::awaitable<response> send(request req);

  // The strand every request runs on. A coroutine started on it sends
  // without hopping there and back (run_on runs the work inline): the
  // poller starts its reads here.
  io_strand strand() const;

  // Like send(), but a 200 body is streamed into `destination` (created or
  // truncated; memory stays bounded whatever the size) and not kept in
  // the response; `progress(bytes_so_far, total_or_0)` is called as it
  // arrives. Non-200 bodies are returned as usual (small, size-limited).
  // A retried attempt starts the file again. `progress` runs on the
  // client's strand: it must return quickly and must not block.
  // timeouts.read_body bounds each wait for data, not the whole transfer
  // (the request's overall deadline does that).
  boost::asio::awaitable<response> download(
      request req, std::filesystem::path destination,
      std::function<void(std::uint64_t bytes, std::uint64_t total)> progress);

  // Counters as JSON (integers unless noted):
  //   requests, attempts (times a request was written), responses,
  //   retries {network, timeout, "429", "5xx"}, retry_budget_exhausted,
  //   throttle_waits, retry_after_capped (replies whose Retry-After asked
  //   for more than retry.max_retry_after), rate_limiter {waits, wait_ms, lowered_rates: {key:
  //   requests per second (number)}}, connections {opened, reused,
  //   closed_idle, stale, open, pool_waits, tls_writes_deferred (requests
  //   a TLS socket could not take at once, sent again on another
  //   connection with the asynchronous write)}, failures {network, tls,
  //   timeout, protocol, cancelled, other}, tls {verify_peer (bool)}.
  // Never contains URLs, query strings, secrets or bodies; the keys of
  // lowered_rates are rate-limit keys ("client id @ scheme://host:port", or
  // "scheme://host:port" without a client id; see rate_limit_key()).
  nlohmann::json metrics() const;

  // Closes pooled connections and fails in-flight and queued requests
  // (and later calls) with errc::cancelled; used when the owner shuts
  // down. The destructor calls it. Destroy the client before its
  // io_context.
  void shutdown();

 private:
  std::shared_ptr<detail::client_state> state_;
};

}  // namespace amc::net
