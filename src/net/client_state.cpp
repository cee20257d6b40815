#include "net/client_state.hpp"

#include <boost/asio/steady_timer.hpp>

namespace amc::net::detail {

client_state::client_state(asio::any_io_executor executor, client_options opts)
    : strand(make_io_strand(executor)),
      options(std::move(opts)),
      tls_context(asio::ssl::context::tls_client),
      limiter(options.rate_limit),
      budget(options.retry.retry_budget_ratio, options.retry.retry_budget_floor),
      random(std::random_device{}()),
      pool(*this) {}

amc::error client_state::cancelled_error() const {
  if (shutting_down)
    return amc::error(errc::cancelled, "the request was cancelled because the HTTP client is shutting down");
  return amc::error(errc::cancelled, "the request was cancelled by its caller");
}

asio::awaitable<void> client_state::sleep_for(steady::duration delay, const asio::cancellation_state& cancellation) {
  check_cancelled(cancellation);
  asio::steady_timer timer(strand, delay);
  interrupter on_shutdown(*this, [&timer] { timer.cancel(); });
  co_await timer.async_wait(use_tuple);
  check_cancelled(cancellation);
  co_return;
}

void client_state::shutdown_on_strand() {
  pool.shutdown();
  auto to_interrupt = std::move(interrupters);
  interrupters.clear();
  for (auto& [id, action] : to_interrupt) action();
}

}  // namespace amc::net::detail
