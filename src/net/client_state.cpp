#include "net/client_state.hpp"

#include <boost/asio/steady_timer.hpp>

#include <utility>
#include <vector>

namespace amc::net::detail {

client_state::client_state(asio::any_io_executor executor, client_options opts)
    : strand(make_io_strand(executor)),
      options(std::move(opts)),
      tls_context(asio::ssl::context::tls_client),
      limiter([this] {
        auto limits = options.rate_limit;
        // What a 429 does to the rate ends within the Retry-After cap.
        limits.full_recovery = options.retry.max_retry_after;
        return limits;
      }()),
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
  // Unlinked first and their actions copied, so that an action may end the
  // registration of another (or its own) without touching the list.
  std::vector<std::function<void()>> actions;
  for (interrupter* at = std::exchange(interrupters_, nullptr); at != nullptr;) {
    interrupter* const next = at->next_;
    at->linked_ = false;
    at->previous_ = at->next_ = nullptr;
    actions.push_back(at->action_);
    at = next;
  }
  // Oldest first, as registered.
  for (auto action = actions.rbegin(); action != actions.rend(); ++action) (*action)();
}

}  // namespace amc::net::detail
