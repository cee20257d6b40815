// What one http_client owns and every part of a request uses: the strand
// all its I/O runs on, the options, the TLS context, the rate limiter and
// retry budget, the counters behind metrics(), the connection pool, and the
// registry of waits that shutdown() interrupts. Internal to src/net.
//
// Threading: everything marked "strand only" is touched only on `strand`,
// so the owner may run the io_context on several threads without locks.
#pragma once

#include "common/error.hpp"
#include "common/log.hpp"
#include "net/connection_pool.hpp"
#include "net/http_types.hpp"
#include "net/io_strand.hpp"
#include "net/rate_limiter.hpp"
#include "net/retry_policy.hpp"
#include "net/url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>

namespace amc::net::detail {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The counters behind http_client::metrics(); read from any thread.
struct client_counters {
  std::atomic<std::uint64_t> requests{0}, attempts{0}, responses{0};
  std::atomic<std::uint64_t> retries_network{0}, retries_timeout{0}, retries_throttled{0}, retries_server_error{0};
  std::atomic<std::uint64_t> retry_budget_exhausted{0}, throttle_waits{0}, retry_after_capped{0};
  std::atomic<std::uint64_t> rate_limiter_waits{0}, rate_limiter_wait_ms{0};
  std::atomic<std::uint64_t> connections_opened{0}, connections_reused{0}, connections_closed_idle{0};
  std::atomic<std::uint64_t> stale_connections{0}, pool_waits{0}, tls_writes_deferred{0};
  std::atomic<std::uint64_t> failures_network{0}, failures_tls{0}, failures_timeout{0}, failures_protocol{0},
      failures_cancelled{0}, failures_other{0};
  std::atomic<std::int64_t> connections_open{0};
};

struct client_state : std::enable_shared_from_this<client_state> {
  client_state(asio::any_io_executor executor, client_options opts);

  io_strand strand;
  client_options options;
  asio::ssl::context tls_context;
  std::optional<proxy_endpoint> proxy;
  rate_limiter limiter;
  retry_budget budget;
  client_counters metrics;
  std::atomic<bool> shutting_down{false};
  // The owner's logger (null: none); the retry loop's lines go there.
  const logger* log = nullptr;

  // --- strand only ---
  std::mt19937_64 random;
  connection_pool pool;
  // RAII registration of something shutdown() must interrupt: sleeping
  // timers, resolvers, pool waits, connections in use. Each request
  // registers and removes its own. The registrations form an intrusive
  // list (strand only): registering allocates nothing, which matters
  // because every request registers at least once.
  class interrupter {
   public:
    interrupter(client_state& s, std::function<void()> action) : state_(s), action_(std::move(action)) {
      next_ = s.interrupters_;
      if (next_ != nullptr) next_->previous_ = this;
      s.interrupters_ = this;
    }
    ~interrupter() {
      if (!linked_) return;
      if (previous_ != nullptr) previous_->next_ = next_;
      else state_.interrupters_ = next_;
      if (next_ != nullptr) next_->previous_ = previous_;
    }
    interrupter(const interrupter&) = delete;
    interrupter& operator=(const interrupter&) = delete;

   private:
    friend struct client_state;
    client_state& state_;
    std::function<void()> action_;
    interrupter* previous_ = nullptr;
    interrupter* next_ = nullptr;
    bool linked_ = true;
  };

  double unit_random() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }

  bool cancelled_or_shutting_down(const asio::cancellation_state& cs) const {
    return shutting_down || cs.cancelled() != asio::cancellation_type::none;
  }
  amc::error cancelled_error() const;
  // The request's cancellation state is read once, when it starts, and
  // checked after every wait: GCC 12 miscompiles some co_await expressions
  // used inside conditions, and this keeps every check a plain function call.
  void check_cancelled(const asio::cancellation_state& cancellation) const {
    if (cancelled_or_shutting_down(cancellation)) throw cancelled_error();
  }

  // Waits on a timer that shutdown() and the caller's cancellation interrupt.
  asio::awaitable<void> sleep_for(steady::duration delay, const asio::cancellation_state& cancellation);

  // Closes pooled connections and interrupts every registered wait.
  void shutdown_on_strand();

 private:
  interrupter* interrupters_ = nullptr;  // strand only; the newest first
};

}  // namespace amc::net::detail
