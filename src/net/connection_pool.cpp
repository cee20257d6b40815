#include "net/connection_pool.hpp"

#include "net/attempt.hpp"
#include "net/client_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <iterator>

namespace amc::net::detail {

namespace beast = boost::beast;
namespace ssl = asio::ssl;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// Graceful TLS close of an idle connection must not hold anything up for long.
constexpr std::chrono::seconds tls_close_timeout{2};

// A pooled connection the server closed (or wrote to) while it sat idle is
// not worth a request: peek without blocking. Readable bytes on an idle
// HTTP/1.1 connection are either EOF, a TLS close_notify, or garbage.
bool idle_connection_usable(connection& conn) {
  auto& socket = conn.lowest().socket();
  if (!socket.is_open()) return false;
  char byte = 0;
  const ssize_t peeked = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (peeked < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  return false;
}

asio::awaitable<void> close_tls_gracefully(connection_ptr conn) {
  beast::get_lowest_layer(*conn->tls).expires_after(tls_close_timeout);
  auto [ec] = co_await conn->tls->async_shutdown(use_tuple);
  // stream_truncated: the server closed TCP without its own close_notify.
  // Common, and harmless here: every response on this connection was
  // complete. Any other error just means the close was not graceful.
  if (ec == ssl::error::stream_truncated) ec = {};
  close_now(*conn);
  co_return;
}

}  // namespace

void close_now(connection& conn) {
  error_code ignored;
  conn.lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  conn.lowest().close();
}

connection_pool::connection_pool(client_state& owner) : owner_(owner), idle_reaper_(owner.strand) {}

void connection_pool::discard(connection_ptr conn, bool graceful) {
  if (!conn) return;
  owner_.metrics.connections_open--;
  if (graceful && conn->tls && !owner_.shutting_down) {
    asio::co_spawn(owner_.strand, close_tls_gracefully(std::move(conn)), asio::detached);
    return;
  }
  close_now(*conn);
}

void connection_pool::close_idle_of(host_pool& pool) {
  while (!pool.idle.empty()) {
    auto conn = std::move(pool.idle.front());
    pool.idle.pop_front();
    --pool.open;
    discard(std::move(conn), true);
  }
}

void connection_pool::close_idle(const std::string& key) { close_idle_of(pools_[key]); }

std::optional<connection_ptr> connection_pool::try_acquire(const std::string& key, bool resendable) {
  auto& metrics = owner_.metrics;
  host_pool& pool = pools_[key];
  const auto now = steady::now();
  while (!pool.idle.empty()) {
    auto conn = std::move(pool.idle.back());
    pool.idle.pop_back();
    const bool expired = now - conn->idle_since >= owner_.options.timeouts.idle;
    const bool peek = !resendable || now - conn->idle_since >= recent_use;
    if (expired || (peek && !idle_connection_usable(*conn))) {
      (expired ? metrics.connections_closed_idle : metrics.stale_connections)++;
      --pool.open;
      discard(std::move(conn), expired);
      continue;
    }
    metrics.connections_reused++;
    return conn;
  }
  if (pool.open < std::max<std::size_t>(owner_.options.max_connections_per_host, 1)) {
    ++pool.open;
    return connection_ptr();
  }
  return std::nullopt;
}

asio::awaitable<connection_ptr> connection_pool::wait_for_connection(const std::string& key,
                                                                    const amc::deadline& deadline,
                                                                    const asio::cancellation_state& cancellation) {
  auto& metrics = owner_.metrics;
  host_pool& pool = pools_[key];
  metrics.pool_waits++;
  asio::steady_timer timer(owner_.strand, deadline.at);
  waiter me{&timer, false, nullptr};
  pool.waiters.push_back(&me);
  auto position = std::prev(pool.waiters.end());
  client_state::interrupter on_shutdown(owner_, [&timer] { timer.cancel(); });
  co_await timer.async_wait(use_tuple);
  if (me.granted) {
    if (!owner_.cancelled_or_shutting_down(cancellation)) {
      if (me.handed_over) metrics.connections_reused++;
      co_return std::move(me.handed_over);
    }
    release(key, std::move(me.handed_over), true);
    throw owner_.cancelled_error();
  }
  pools_[key].waiters.erase(position);
  owner_.check_cancelled(cancellation);
  throw amc::error(errc::timeout,
                   fmt::format("no connection to {} became free before the request's deadline of {} ms (all {} "
                               "allowed connections stayed busy; raise max_connections_per_host or the timeout)",
                               key, deadline.budget.count(), owner_.options.max_connections_per_host))
      .at_phase(phase::pool_wait);
}

void connection_pool::release(const std::string& key, connection_ptr conn, bool reusable) {
  host_pool& pool = pools_[key];
  if (conn && reusable && !owner_.shutting_down) {
    conn->idle_since = steady::now();
    if (!pool.waiters.empty()) {
      waiter* next = pool.waiters.front();
      pool.waiters.pop_front();
      next->granted = true;
      next->handed_over = std::move(conn);
      next->timer->cancel();
      return;
    }
    pool.idle.push_back(std::move(conn));
    arm_idle_reaper();
    return;
  }
  discard(std::move(conn), false);
  if (!pool.waiters.empty()) {
    // The slot passes to the next waiter: pool.open stays as it is.
    waiter* next = pool.waiters.front();
    pool.waiters.pop_front();
    next->granted = true;
    next->timer->cancel();
    return;
  }
  --pool.open;
}

// Closes idle connections once they have been idle for timeouts.idle, so
// they do not sit open when no request comes to notice them.
void connection_pool::arm_idle_reaper() {
  if (reaper_armed_ || owner_.shutting_down) return;
  steady::time_point earliest = steady::time_point::max();
  for (auto& [key, pool] : pools_)
    for (auto& conn : pool.idle) earliest = std::min(earliest, conn->idle_since + owner_.options.timeouts.idle);
  if (earliest == steady::time_point::max()) return;
  reaper_armed_ = true;
  idle_reaper_.expires_at(earliest);
  // The owner may be gone when the timer fires (or is cancelled).
  idle_reaper_.async_wait([weak = owner_.weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (!self) return;
    self->pool.reaper_armed_ = false;
    if (ec || self->shutting_down) return;
    self->pool.reap_idle();
  });
}

void connection_pool::reap_idle() {
  const auto now = steady::now();
  for (auto& [key, pool] : pools_) {
    std::deque<connection_ptr> keep;
    for (auto& conn : pool.idle) {
      if (now - conn->idle_since >= owner_.options.timeouts.idle) {
        owner_.metrics.connections_closed_idle++;
        --pool.open;
        discard(std::move(conn), true);
      } else {
        keep.push_back(std::move(conn));
      }
    }
    pool.idle = std::move(keep);
  }
  arm_idle_reaper();
}

void connection_pool::shutdown() {
  for (auto& [key, pool] : pools_) {
    close_idle_of(pool);
    // Waiters take themselves off the list when they wake.
    for (waiter* each : pool.waiters) each->timer->cancel();
  }
  idle_reaper_.cancel();
}

}  // namespace amc::net::detail
