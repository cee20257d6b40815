// Keep-alive connections per host (scheme://host:port, and the proxy when
// one is used): at most max_connections_per_host open at once, excess
// requests queue first come first served, idle connections are checked
// before reuse and closed after timeouts.idle. Internal to src/net; runs on
// the client's strand.
#pragma once

#include "common/deadline.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <memory>
#include <string>

namespace amc::net::detail {

struct client_state;

struct connection {
  std::unique_ptr<boost::beast::tcp_stream> plain;                                 // http://
  std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls;         // https://
  static constexpr std::size_t read_buffer_bytes = 16 * 1024;
  boost::beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since{};

  boost::beast::tcp_stream& lowest() { return tls ? boost::beast::get_lowest_layer(*tls) : *plain; }
};
using connection_ptr = std::unique_ptr<connection>;

// Closes at once, without a TLS close_notify.
void close_now(connection& conn);

class connection_pool {
 public:
  explicit connection_pool(client_state& owner);
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  // Without waiting and without a coroutine (a request on a busy
  // keep-alive pool usually finds a connection idle): an idle connection,
  // null = the caller may open a new one (its slot is already counted; give
  // it back with release()), or nothing when the pool is full (then
  // co_await wait_for_connection()). An idle connection is checked for a
  // close by the server (a non-blocking peek) before it is handed out,
  // except, when the request is `resendable` (sent again at once on a new
  // connection if this one turns out closed: retry_loop's stale resend),
  // one that was busy within recent_use: saves a system call per request
  // on a busy pool.
  std::optional<connection_ptr> try_acquire(const std::string& key, bool resendable = false);
  static constexpr std::chrono::seconds recent_use{1};

  // After try_acquire() found the pool full (and nothing was awaited
  // since): waits until release() hands over a connection (non-null) or a
  // slot (null, as above), until `deadline` (the message names its
  // budget); throws errc::timeout (phase pool_wait) then, or
  // errc::cancelled.
  boost::asio::awaitable<connection_ptr> wait_for_connection(const std::string& key, const amc::deadline& deadline,
                                                             const boost::asio::cancellation_state& cancellation);

  // Gives a connection back (reusable = a complete response on a keep-alive
  // connection), or with null/unusable frees its slot for the next waiter.
  void release(const std::string& key, connection_ptr conn, bool reusable);

  // The server dropped an idle keep-alive connection of `key`: the others
  // of that pool are most likely gone as well.
  void close_idle(const std::string& key);

  // Closes every idle connection and wakes every waiter (which then sees
  // the client shutting down).
  void shutdown();

 private:
  // A request waiting for a connection of a full pool. The pool hands it
  // either an idle connection or the right to open one, then wakes its timer.
  struct waiter {
    boost::asio::steady_timer* timer = nullptr;
    bool granted = false;
    connection_ptr handed_over;  // null with granted = open a new connection
  };

  struct host_pool {
    std::deque<connection_ptr> idle;  // most recently used at the back
    std::size_t open = 0;             // idle + in use + being opened
    std::list<waiter*> waiters;       // first come, first served
  };

  void discard(connection_ptr conn, bool graceful);
  void close_idle_of(host_pool& pool);
  void arm_idle_reaper();
  void reap_idle();

  client_state& owner_;
  std::map<std::string, host_pool> pools_;
  boost::asio::steady_timer idle_reaper_;
  bool reaper_armed_ = false;
};

}  // namespace amc::net::detail
