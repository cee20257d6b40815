// The HTTP client's public face: it owns the client's state (client_state.hpp)
// and starts each request's coroutine on the client's strand. The work is
// in the rooms next door:
//   http_types.hpp       options, request, response (the vocabulary)
//   connection_pool.*    keep-alive connections per host, the pool wait
//   connect.*            resolve, TCP connect, proxy CONNECT, TLS
//   exchange.*           one attempt: write the request, read the response
//                        (or stream a download to a file)
//   retry_loop.*         attempts, backoff, Retry-After, budget, deadline
//   retry_policy.*, rate_limiter.*, url.*   the pure decisions they use
// Callers' coroutines may run anywhere: send() hops onto the strand with
// run_on (io_strand.hpp), which also forwards the caller's cancellation.
#include "net/http_client.hpp"

#include "net/client_state.hpp"
#include "net/connect.hpp"
#include "net/retry_loop.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <cstdlib>
#include <utility>

namespace amc::net {

namespace asio = boost::asio;

http_client::http_client(asio::any_io_executor executor, client_options options, const logger* log)
    : state_(std::make_shared<detail::client_state>(std::move(executor), std::move(options))) {
  auto& s = *state_;
  s.log = log;
  s.options.proxy = proxy_from_environment(s.options.proxy, [](const char* name) { return std::getenv(name); });
  s.proxy = parse_proxy(s.options.proxy.https_proxy);
  detail::configure_tls_context(s);
}

http_client::~http_client() { shutdown(); }

asio::awaitable<response> http_client::send(request req) {
  // The request runs on the client's strand; run_on forwards the caller's
  // cancellation there. `self` keeps the state alive and `req` stays in this
  // frame until the request is done. (Named locals rather than temporaries
  // in the co_await expression: GCC 12 destroys such temporaries twice,
  // PR c++/100611.)
  std::shared_ptr<detail::client_state> self = state_;
  asio::awaitable<response> work = detail::run_request(*self, req, nullptr);
  // Already on the strand (the poller's reads start there): run_on would
  // run the work inline anyway; awaiting it here saves run_on's frame.
  const auto caller_executor = co_await asio::this_coro::executor;
  if (is_on_strand(caller_executor, self->strand)) {
    response reply = co_await std::move(work);
    co_return reply;
  }
  response reply = co_await run_on(self->strand, std::move(work));
  co_return reply;
}

asio::awaitable<response> http_client::download(request req, std::filesystem::path destination,
                                                std::function<void(std::uint64_t, std::uint64_t)> progress) {
  std::shared_ptr<detail::client_state> self = state_;
  const detail::download_target target{std::move(destination), std::move(progress)};
  asio::awaitable<response> work = detail::run_request(*self, req, &target);
  response reply = co_await run_on(self->strand, std::move(work));
  co_return reply;
}

io_strand http_client::strand() const { return state_->strand; }

void http_client::shutdown() {
  if (state_->shutting_down.exchange(true)) return;
  asio::post(state_->strand, [self = state_] { self->shutdown_on_strand(); });
}

nlohmann::json http_client::metrics() const {
  const auto& m = state_->metrics;
  auto value = [](const auto& counter) { return counter.load(std::memory_order_relaxed); };
  return {
      {"requests", value(m.requests)},
      {"attempts", value(m.attempts)},
      {"responses", value(m.responses)},
      {"retries",
       {{"network", value(m.retries_network)},
        {"timeout", value(m.retries_timeout)},
        {"429", value(m.retries_throttled)},
        {"5xx", value(m.retries_server_error)}}},
      {"retry_budget_exhausted", value(m.retry_budget_exhausted)},
      {"throttle_waits", value(m.throttle_waits)},
      {"retry_after_capped", value(m.retry_after_capped)},
      {"rate_limiter", {{"waits", value(m.rate_limiter_waits)}, {"wait_ms", value(m.rate_limiter_wait_ms)},
                        {"lowered_rates", state_->limiter.lowered_rates(std::chrono::steady_clock::now())}}},
      {"connections",
       {{"opened", value(m.connections_opened)},
        {"reused", value(m.connections_reused)},
        {"closed_idle", value(m.connections_closed_idle)},
        {"stale", value(m.stale_connections)},
        {"open", value(m.connections_open)},
        {"pool_waits", value(m.pool_waits)},
        {"tls_writes_deferred", value(m.tls_writes_deferred)}}},
      {"failures",
       {{"network", value(m.failures_network)},
        {"tls", value(m.failures_tls)},
        {"timeout", value(m.failures_timeout)},
        {"protocol", value(m.failures_protocol)},
        {"cancelled", value(m.failures_cancelled)},
        {"other", value(m.failures_other)}}},
      // false only when the owner switched verification off (tests).
      {"tls", {{"verify_peer", state_->options.tls.verify_peer}}},
  };
}

}  // namespace amc::net
