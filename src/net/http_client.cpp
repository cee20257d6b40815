// The HTTP client: one coroutine per request, all of it (pool, connections,
// timers, limiter bookkeeping) running on the client's strand, so the owner
// may run the io_context on several threads without locks around the pool.
// Callers' coroutines may run anywhere: send() hops onto the strand with
// co_spawn, which also forwards the caller's cancellation onto the strand.
#include "net/http_client.hpp"

#include "common/error.hpp"
#include "net/rate_limiter.hpp"
#include "net/retry_policy.hpp"
#include "net/url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <cstdlib>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <random>
#include <variant>
#include <vector>

namespace amc::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using boost::system::error_code;

std::optional<std::string_view> response::header(std::string_view name) const {
  for (const auto& field : headers)
    if (beast::iequals(field.name, name)) return std::string_view(field.value);
  return std::nullopt;
}

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Graceful TLS close of an idle connection must not hold anything up for long.
constexpr std::chrono::seconds tls_close_timeout{2};

struct connection {
  std::unique_ptr<beast::tcp_stream> plain;  // http://
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;  // https://
  beast::flat_buffer buffer;
  steady::time_point idle_since{};

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};
using connection_ptr = std::unique_ptr<connection>;

// A request waiting for a connection of a full pool. The pool hands it
// either an idle connection or the right to open one, then wakes its timer.
struct pool_waiter {
  asio::steady_timer* timer = nullptr;
  bool granted = false;
  connection_ptr handed_over;  // null with granted = open a new connection
};

struct host_pool {
  std::deque<connection_ptr> idle;  // most recently used at the back
  std::size_t open = 0;             // idle + in use + being opened
  std::list<pool_waiter*> waiters;  // first come, first served
};

// Where a failure happened; decides the message and whether it may be retried.
enum class phase { pool_wait, resolve, connect, proxy, handshake, write, read_headers, read_body };

const char* phase_name(phase p) {
  switch (p) {
    case phase::pool_wait: return "pool_wait";
    case phase::resolve: return "resolve";
    case phase::connect: return "connect";
    case phase::proxy: return "proxy";
    case phase::handshake: return "handshake";
    case phase::write: return "write";
    case phase::read_headers: return "read_headers";
    case phase::read_body: return "read_body";
  }
  return "unknown";
}

// One failed attempt, before the retry loop decides what to do with it.
struct attempt_failure {
  errc code = errc::network;
  std::string message;
  phase where = phase::connect;
  bool nothing_sent = true;    // no byte of the request reached the socket
  bool stale_reuse = false;    // a pooled connection the server had already closed
  bool retryable = true;       // false for TLS verification, size limits, protocol errors
};

struct attempt_result {
  std::optional<response> reply;
  std::optional<attempt_failure> failure;
  bool keep_alive = false;  // the connection may carry another request
};

std::string tls_verify_problem(long result, const std::string& host) {
  switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "certificate has expired (the server's certificate is not valid now; the server must renew it)";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate is not yet valid (check this machine's clock, or the server's certificate dates)";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return fmt::format("host name mismatch (the server's certificate is not issued for {}; check the URL)", host);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "unknown CA (the server's certificate is not signed by a trusted certificate authority; configure "
             "tls.ca_file or tls.ca_directory if it uses a private CA)";
    default:
      return fmt::format("certificate verification failed: {}", X509_verify_cert_error_string(result));
  }
}

bool is_connection_lost(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated || ec == http::error::end_of_stream;
}

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

// OpenSSL's SSL_set_tlsext_host_name is a macro with a C-style cast inside.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
bool set_server_name_indication(SSL* ssl_handle, const std::string& host) {
  return SSL_set_tlsext_host_name(ssl_handle, host.c_str()) == 1;
}
#pragma GCC diagnostic pop

void close_now(connection& conn) {
  error_code ignored;
  conn.lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  conn.lowest().close();
}

}  // namespace

struct http_client::state : std::enable_shared_from_this<http_client::state> {
  state(asio::any_io_executor executor, client_options opts)
      : strand(asio::make_strand(executor)),
        options(std::move(opts)),
        tls_context(ssl::context::tls_client),
        limiter(options.rate_limit),
        budget(options.retry.retry_budget_ratio, options.retry.retry_budget_floor),
        random(std::random_device{}()),
        idle_reaper(strand) {}

  asio::strand<asio::any_io_executor> strand;
  client_options options;
  ssl::context tls_context;
  std::optional<proxy_endpoint> proxy;
  rate_limiter limiter;
  retry_budget budget;

  // --- touched only on the strand ---
  std::mt19937_64 random;
  std::map<std::string, host_pool> pools;
  asio::steady_timer idle_reaper;
  bool reaper_armed = false;
  // What shutdown() must interrupt: sleeping timers, resolvers, pool waits,
  // connections in use. Each request registers and removes its own.
  std::map<std::uint64_t, std::function<void()>> interrupters;
  std::uint64_t next_interrupter = 0;

  std::atomic<bool> shutting_down{false};

  struct counters {
    std::atomic<std::uint64_t> requests{0}, attempts{0}, responses{0};
    std::atomic<std::uint64_t> retries_network{0}, retries_timeout{0}, retries_throttled{0}, retries_server_error{0};
    std::atomic<std::uint64_t> retry_budget_exhausted{0}, throttle_waits{0};
    std::atomic<std::uint64_t> rate_limiter_waits{0}, rate_limiter_wait_ms{0};
    std::atomic<std::uint64_t> connections_opened{0}, connections_reused{0}, connections_closed_idle{0};
    std::atomic<std::uint64_t> stale_connections{0}, pool_waits{0};
    std::atomic<std::uint64_t> failures_network{0}, failures_tls{0}, failures_timeout{0}, failures_protocol{0},
        failures_cancelled{0}, failures_other{0};
    std::atomic<std::int64_t> connections_open{0};
  } metrics;

  // RAII registration of something shutdown() must interrupt.
  class interrupter {
   public:
    interrupter(state& s, std::function<void()> action) : state_(s), id_(s.next_interrupter++) {
      s.interrupters.emplace(id_, std::move(action));
    }
    ~interrupter() { state_.interrupters.erase(id_); }
    interrupter(const interrupter&) = delete;
    interrupter& operator=(const interrupter&) = delete;

   private:
    state& state_;
    std::uint64_t id_;
  };

  double unit_random() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }

  // ---------------------------------------------------------------- pool

  void discard(connection_ptr conn, bool graceful) {
    if (!conn) return;
    metrics.connections_open--;
    if (graceful && conn->tls && !shutting_down) {
      asio::co_spawn(strand, close_tls_gracefully(std::move(conn)), asio::detached);
      return;
    }
    close_now(*conn);
  }

  static asio::awaitable<void> close_tls_gracefully(connection_ptr conn) {
    beast::get_lowest_layer(*conn->tls).expires_after(tls_close_timeout);
    auto [ec] = co_await conn->tls->async_shutdown(use_tuple);
    // stream_truncated: the server closed TCP without its own close_notify.
    // Common, and harmless here: every response on this connection was
    // complete. Any other error just means the close was not graceful.
    if (ec == ssl::error::stream_truncated) ec = {};
    close_now(*conn);
    co_return;
  }

  void close_idle_of(host_pool& pool) {
    while (!pool.idle.empty()) {
      auto conn = std::move(pool.idle.front());
      pool.idle.pop_front();
      --pool.open;
      discard(std::move(conn), true);
    }
  }

  // Returns an idle connection, or null = the caller may open a new one.
  asio::awaitable<connection_ptr> acquire(const std::string& key, steady::time_point deadline,
                                         const asio::cancellation_state& cancellation) {
    host_pool& pool = pools[key];
    const auto now = steady::now();
    while (!pool.idle.empty()) {
      auto conn = std::move(pool.idle.back());
      pool.idle.pop_back();
      const bool expired = now - conn->idle_since >= options.timeouts.idle;
      if (expired || !idle_connection_usable(*conn)) {
        (expired ? metrics.connections_closed_idle : metrics.stale_connections)++;
        --pool.open;
        discard(std::move(conn), expired);
        continue;
      }
      metrics.connections_reused++;
      co_return conn;
    }
    if (pool.open < std::max<std::size_t>(options.max_connections_per_host, 1)) {
      ++pool.open;
      co_return nullptr;
    }

    metrics.pool_waits++;
    asio::steady_timer timer(strand, deadline);
    pool_waiter waiter{&timer, false, nullptr};
    pool.waiters.push_back(&waiter);
    auto position = std::prev(pool.waiters.end());
    interrupter on_shutdown(*this, [&timer] { timer.cancel(); });
    co_await timer.async_wait(use_tuple);
    if (waiter.granted) {
      if (!cancelled_or_shutting_down(cancellation)) {
        if (waiter.handed_over) metrics.connections_reused++;
        co_return std::move(waiter.handed_over);
      }
      release(key, std::move(waiter.handed_over), true);
      throw cancelled_error();
    }
    pools[key].waiters.erase(position);
    check_cancelled(cancellation);
    throw amc::error(errc::timeout,
                     fmt::format("no connection to {} became free before the request's deadline (all {} allowed "
                                 "connections stayed busy; raise max_connections_per_host or the timeout)",
                                 key, options.max_connections_per_host),
                     {{"phase", phase_name(phase::pool_wait)}});
  }

  // Gives a connection back (reusable = a complete response on a keep-alive
  // connection), or with null/unusable frees its slot for the next waiter.
  void release(const std::string& key, connection_ptr conn, bool reusable) {
    host_pool& pool = pools[key];
    if (conn && reusable && !shutting_down) {
      conn->idle_since = steady::now();
      if (!pool.waiters.empty()) {
        pool_waiter* next = pool.waiters.front();
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
      pool_waiter* next = pool.waiters.front();
      pool.waiters.pop_front();
      next->granted = true;
      next->timer->cancel();
      return;
    }
    --pool.open;
  }

  // Closes idle connections once they have been idle for timeouts.idle, so
  // they do not sit open when no request comes to notice them.
  void arm_idle_reaper() {
    if (reaper_armed || shutting_down) return;
    steady::time_point earliest = steady::time_point::max();
    for (auto& [key, pool] : pools)
      for (auto& conn : pool.idle) earliest = std::min(earliest, conn->idle_since + options.timeouts.idle);
    if (earliest == steady::time_point::max()) return;
    reaper_armed = true;
    idle_reaper.expires_at(earliest);
    idle_reaper.async_wait([weak = weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (!self) return;
      self->reaper_armed = false;
      if (ec || self->shutting_down) return;
      const auto now = steady::now();
      for (auto& [key, pool] : self->pools) {
        std::deque<connection_ptr> keep;
        for (auto& conn : pool.idle) {
          if (now - conn->idle_since >= self->options.timeouts.idle) {
            self->metrics.connections_closed_idle++;
            --pool.open;
            self->discard(std::move(conn), true);
          } else {
            keep.push_back(std::move(conn));
          }
        }
        pool.idle = std::move(keep);
      }
      self->arm_idle_reaper();
    });
  }

  void shutdown_on_strand() {
    for (auto& [key, pool] : pools) {
      close_idle_of(pool);
      // Waiters take themselves off the list when they wake.
      for (pool_waiter* waiter : pool.waiters) waiter->timer->cancel();
    }
    auto to_interrupt = std::move(interrupters);
    interrupters.clear();
    for (auto& [id, action] : to_interrupt) action();
    idle_reaper.cancel();
  }

  // ---------------------------------------------------------- cancellation

  bool cancelled_or_shutting_down(const asio::cancellation_state& cs) const {
    return shutting_down || cs.cancelled() != asio::cancellation_type::none;
  }

  amc::error cancelled_error() const {
    if (shutting_down)
      return amc::error(errc::cancelled, "the request was cancelled because the HTTP client is shutting down");
    return amc::error(errc::cancelled, "the request was cancelled by its caller");
  }

  // The request's cancellation state is read once, in run(), and checked
  // after every wait: GCC 12 miscompiles some co_await expressions used
  // inside conditions, and this keeps every check a plain function call.
  void check_cancelled(const asio::cancellation_state& cancellation) const {
    if (cancelled_or_shutting_down(cancellation)) throw cancelled_error();
  }

  // Waits on a timer that shutdown() and the caller's cancellation interrupt.
  asio::awaitable<void> sleep_for(steady::duration delay, const asio::cancellation_state& cancellation) {
    check_cancelled(cancellation);
    asio::steady_timer timer(strand, delay);
    interrupter on_shutdown(*this, [&timer] { timer.cancel(); });
    co_await timer.async_wait(use_tuple);
    check_cancelled(cancellation);
    co_return;
  }

  // ------------------------------------------------------------ attempts

  struct download_target {
    std::filesystem::path destination;
    std::function<void(std::uint64_t, std::uint64_t)> progress;
  };

  struct request_context {
    const request& req;
    const url_parts& url;
    std::string pool_key;
    bool via_proxy = false;
    steady::time_point deadline;
    http::request<http::string_body> message;
    asio::cancellation_state cancellation;
    const download_target* download = nullptr;  // set by download()
  };

  // Deadline of one phase: the phase's own timeout or what is left of the
  // request's overall deadline, whichever comes first.
  struct phase_deadline {
    steady::duration budget;
    bool overall;  // the overall deadline is the tighter one
  };

  static phase_deadline deadline_for(milliseconds phase_timeout, steady::time_point overall) {
    const auto left = std::max(overall - steady::now(), steady::duration::zero());
    if (left < phase_timeout) return {left, true};
    return {phase_timeout, false};
  }

  attempt_failure timeout_failure(const request_context& rc, phase where, const phase_deadline& limit,
                                  milliseconds phase_timeout, bool nothing_sent) const {
    attempt_failure failure;
    failure.code = errc::timeout;
    failure.where = where;
    failure.nothing_sent = nothing_sent;
    if (limit.overall) {
      failure.message = fmt::format("{} {} ran out of its overall deadline during {}", rc.message.method_string(),
                                    rc.url.describe(), phase_name(where));
      failure.retryable = false;
    } else {
      failure.message = fmt::format("{} {} timed out after {} ms in phase {} (timeouts.{}); the server or network "
                                    "is too slow or unreachable",
                                    rc.message.method_string(), rc.url.describe(), phase_timeout.count(),
                                    phase_name(where), where == phase::proxy ? "handshake" : phase_name(where));
    }
    return failure;
  }

  attempt_failure network_failure(const request_context& rc, phase where, const std::string& what,
                                  bool nothing_sent) const {
    attempt_failure failure;
    failure.code = errc::network;
    failure.where = where;
    failure.nothing_sent = nothing_sent;
    failure.message = fmt::format("{} {} failed: {}", rc.message.method_string(), rc.url.describe(), what);
    return failure;
  }

  // Resolves with a deadline. getaddrinfo() has none of its own, and Asio
  // runs it on a private thread where cancel() cannot stop a lookup already
  // started (a DNS server that never answers holds it for as long as the
  // system resolver's own timeouts allow). So the request does not wait for
  // the lookup itself: it waits on a timer that the lookup's completion
  // cancels, and on its deadline (or shutdown, or the caller's cancellation)
  // leaves a late lookup to finish on its own; its result is dropped. The
  // shared holder keeps the resolver alive for that late completion. All of
  // it runs on the strand.
  asio::awaitable<std::pair<error_code, tcp::resolver::results_type>> resolve(const std::string& host,
                                                                              std::uint16_t port,
                                                                              steady::duration limit,
                                                                              bool& timed_out) {
    struct resolving {
      explicit resolving(asio::any_io_executor ex) : resolver(ex), answered_or_deadline(ex) {}
      tcp::resolver resolver;
      asio::steady_timer answered_or_deadline;
      bool answered = false;
      error_code ec;
      tcp::resolver::results_type results;
    };
    auto holder = std::make_shared<resolving>(strand);
    holder->answered_or_deadline.expires_after(limit);
    holder->resolver.async_resolve(host, std::to_string(port),
                                   [holder](error_code ec, tcp::resolver::results_type results) {
                                     holder->answered = true;
                                     holder->ec = ec;
                                     holder->results = std::move(results);
                                     holder->answered_or_deadline.cancel();
                                   });
    interrupter on_shutdown(*this, [holder] { holder->answered_or_deadline.cancel(); });
    auto [wait_ec] = co_await holder->answered_or_deadline.async_wait(use_tuple);
    if (holder->answered) co_return std::pair{holder->ec, std::move(holder->results)};
    // A lookup that has not started yet never will.
    holder->resolver.cancel();
    // Woken early without an answer: shutdown or the caller's cancellation,
    // which the caller checks first.
    timed_out = !wait_ec;
    co_return std::pair{wait_ec ? wait_ec : error_code(asio::error::timed_out), tcp::resolver::results_type{}};
  }

  // Opens a connection: resolve, connect, CONNECT through the proxy, TLS.
  asio::awaitable<std::variant<connection_ptr, attempt_failure>> open_connection(request_context& rc) {
    const auto& url = rc.url;
    const std::string connect_host = rc.via_proxy ? proxy->host : url.host;
    const std::uint16_t connect_port = rc.via_proxy ? proxy->port : url.port;
    const std::string endpoint_text =
        rc.via_proxy ? fmt::format("proxy {}", proxy->describe()) : url.authority();

    auto limit = deadline_for(options.timeouts.resolve, rc.deadline);
    bool resolve_timed_out = false;
    auto [resolve_ec, endpoints] = co_await resolve(connect_host, connect_port, limit.budget, resolve_timed_out);
    check_cancelled(rc.cancellation);
    if (resolve_timed_out) co_return timeout_failure(rc, phase::resolve, limit, options.timeouts.resolve, true);
    if (resolve_ec)
      co_return network_failure(
          rc, phase::resolve,
          fmt::format("could not resolve {}: {} (check the host name and DNS)", connect_host, resolve_ec.message()),
          true);

    auto conn = std::make_unique<connection>();
    beast::tcp_stream stream(strand);
    limit = deadline_for(options.timeouts.connect, rc.deadline);
    stream.expires_after(limit.budget);
    {
      interrupter on_shutdown(*this, [&stream] { stream.cancel(); });
      auto [ec, endpoint] = co_await stream.async_connect(endpoints, use_tuple);
      check_cancelled(rc.cancellation);
      if (ec == beast::error::timeout)
        co_return timeout_failure(rc, phase::connect, limit, options.timeouts.connect, true);
      if (ec)
        co_return network_failure(rc, phase::connect,
                                  fmt::format("could not connect to {}: {} (is the server reachable?)",
                                              endpoint_text, ec.message()),
                                  true);
    }
    metrics.connections_opened++;
    // Requests and responses are small and latency-bound: no Nagle delay.
    error_code no_delay_ec;
    stream.socket().set_option(tcp::no_delay(true), no_delay_ec);

    if (rc.via_proxy) {
      std::optional<attempt_failure> tunnel_failure = co_await tunnel_through_proxy(rc, stream);
      if (tunnel_failure) co_return std::move(*tunnel_failure);
    }

    if (!url.is_tls()) {
      conn->plain = std::make_unique<beast::tcp_stream>(std::move(stream));
      metrics.connections_open++;
      co_return std::move(conn);
    }

    conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(stream), tls_context);
    SSL* ssl_handle = conn->tls->native_handle();
    // SNI carries DNS names only (RFC 6066); IP literals are still verified
    // against the certificate's IP addresses below.
    if (!is_ip_literal(url.host) && !set_server_name_indication(ssl_handle, url.host))
      co_return attempt_failure{errc::tls, fmt::format("could not set TLS SNI for {}", url.host), phase::handshake,
                                true, false, false};
    if (options.tls.verify_peer) {
      // Let OpenSSL check the name during chain verification, so that a
      // mismatch is reported as such (X509_V_ERR_HOSTNAME_MISMATCH) rather
      // than as a bare "verify failed"; host_name_verification is the same
      // check done again by Asio, kept as a second line of defence.
      X509_VERIFY_PARAM* params = SSL_get0_param(ssl_handle);
      if (is_ip_literal(url.host)) X509_VERIFY_PARAM_set1_ip_asc(params, url.host.c_str());
      else SSL_set1_host(ssl_handle, url.host.c_str());
      conn->tls->set_verify_callback(ssl::host_name_verification(url.host));
    }
    limit = deadline_for(options.timeouts.handshake, rc.deadline);
    beast::get_lowest_layer(*conn->tls).expires_after(limit.budget);
    interrupter on_shutdown(*this, [raw = conn.get()] { raw->lowest().cancel(); });
    auto [ec] = co_await conn->tls->async_handshake(ssl::stream_base::client, use_tuple);
    check_cancelled(rc.cancellation);
    if (ec) {
      if (ec == beast::error::timeout)
        co_return timeout_failure(rc, phase::handshake, limit, options.timeouts.handshake, true);
      const long verify_result = SSL_get_verify_result(ssl_handle);
      if (verify_result != X509_V_OK)
        co_return attempt_failure{
            errc::tls,
            fmt::format("TLS handshake with {} failed: {}", url.authority(), tls_verify_problem(verify_result, url.host)),
            phase::handshake, true, false, false};
      if (ec.category() == asio::error::get_ssl_category() || ec == ssl::error::stream_truncated)
        co_return attempt_failure{errc::tls,
                                  fmt::format("TLS handshake with {} failed: {} (the server may not speak TLS on "
                                              "this port, or no protocol version/cipher is shared; TLS 1.2 or newer "
                                              "is required)",
                                              url.authority(), ec.message()),
                                  phase::handshake, true, false, false};
      co_return network_failure(rc, phase::handshake,
                                fmt::format("the connection to {} was lost during the TLS handshake: {}",
                                            url.authority(), ec.message()),
                                true);
    }
    metrics.connections_open++;
    co_return std::move(conn);
  }

  // HTTP CONNECT through the proxy; the proxy's reply has the handshake deadline.
  asio::awaitable<std::optional<attempt_failure>> tunnel_through_proxy(request_context& rc,
                                                                      beast::tcp_stream& stream) {
    const std::string target = rc.url.authority();
    http::request<http::empty_body> connect_request{http::verb::connect, target, 11};
    connect_request.set(http::field::host, target);
    connect_request.set(http::field::user_agent, options.user_agent);
    connect_request.set(http::field::proxy_connection, "Keep-Alive");
    interrupter on_shutdown(*this, [&stream] { stream.cancel(); });
    auto limit = deadline_for(options.timeouts.handshake, rc.deadline);
    stream.expires_after(limit.budget);
    auto [write_ec, written] = co_await http::async_write(stream, connect_request, use_tuple);
    check_cancelled(rc.cancellation);
    if (write_ec == beast::error::timeout)
      co_return timeout_failure(rc, phase::proxy, limit, options.timeouts.handshake, true);
    if (write_ec)
      co_return network_failure(rc, phase::proxy,
                                fmt::format("sending CONNECT to proxy {} failed: {}", proxy->describe(),
                                            write_ec.message()),
                                true);
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_response_header_bytes));
    parser.skip(true);  // a 2xx reply to CONNECT has no body: the tunnel follows
    auto [read_ec, read] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    check_cancelled(rc.cancellation);
    if (read_ec == beast::error::timeout)
      co_return timeout_failure(rc, phase::proxy, limit, options.timeouts.handshake, true);
    if (read_ec)
      co_return network_failure(rc, phase::proxy,
                                fmt::format("proxy {} did not answer CONNECT {}: {}", proxy->describe(), target,
                                            read_ec.message()),
                                true);
    const unsigned status = parser.get().result_int();
    if (status / 100 != 2) {
      auto failure = network_failure(
          rc, phase::proxy,
          fmt::format("proxy {} refused CONNECT {} with status {}{}", proxy->describe(), target, status,
                      status == 407 ? " (the proxy wants authentication, which libamc does not send; exempt the host "
                                      "with NO_PROXY or use another proxy)"
                                    : ""),
          true);
      failure.retryable = status == 502 || status == 503 || status == 504;
      co_return failure;
    }
    if (buffer.size() != 0)
      co_return attempt_failure{errc::protocol,
                                fmt::format("proxy {} sent data after its CONNECT reply", proxy->describe()),
                                phase::proxy, true, false, false};
    co_return std::nullopt;
  }

  attempt_failure body_too_large(const request_context& rc, phase where) const {
    return {errc::protocol,
            fmt::format("{} {}: the response body exceeds max_response_body_bytes ({} bytes); raise the limit if "
                        "such responses are expected",
                        rc.message.method_string(), rc.url.describe(), options.max_response_body_bytes),
            where, false, false, false};
  }

  template <class Stream>
  asio::awaitable<attempt_result> exchange(request_context& rc, connection& conn, Stream& stream, bool reused) {
    auto& lowest = conn.lowest();
    interrupter on_shutdown(*this, [&lowest] { lowest.cancel(); });

    auto limit = deadline_for(options.timeouts.write, rc.deadline);
    lowest.expires_after(limit.budget);
    metrics.attempts++;
    auto [write_ec, written] = co_await http::async_write(stream, rc.message, use_tuple);
    check_cancelled(rc.cancellation);
    if (write_ec) {
      const bool nothing_sent = written == 0;
      if (write_ec == beast::error::timeout)
        co_return attempt_result{{}, timeout_failure(rc, phase::write, limit, options.timeouts.write, nothing_sent)};
      auto failure = network_failure(rc, phase::write,
                                     fmt::format("sending the request failed: {}", write_ec.message()), nothing_sent);
      failure.stale_reuse = reused && is_connection_lost(write_ec);
      co_return attempt_result{{}, failure};
    }

    // The headers are read with an empty body type, then the parser is
    // converted to the body the caller wants: a string (size-limited), or,
    // for a download's 200, a file written chunk by chunk.
    http::response_parser<http::empty_body> header_parser;
    header_parser.header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(options.max_response_header_bytes, UINT32_MAX)));
    if (rc.download) header_parser.body_limit(boost::none);  // checked below once the status is known
    else header_parser.body_limit(options.max_response_body_bytes);
    if (rc.message.method() == http::verb::head) header_parser.skip(true);

    limit = deadline_for(options.timeouts.read_headers, rc.deadline);
    lowest.expires_after(limit.budget);
    const std::size_t buffered_before = conn.buffer.size();
    auto [header_ec, header_bytes] = co_await http::async_read_header(stream, conn.buffer, header_parser, use_tuple);
    check_cancelled(rc.cancellation);
    if (header_ec) {
      if (header_ec == beast::error::timeout)
        co_return attempt_result{
            {}, timeout_failure(rc, phase::read_headers, limit, options.timeouts.read_headers, false)};
      if (header_ec == http::error::header_limit)
        co_return attempt_result{
            {},
            attempt_failure{errc::protocol,
                            fmt::format("{} {}: the response headers exceed max_response_header_bytes ({} bytes)",
                                        rc.message.method_string(), rc.url.describe(),
                                        options.max_response_header_bytes),
                            phase::read_headers, false, false, false}};
      // A Content-Length over the limit is refused before any body is read.
      if (header_ec == http::error::body_limit) co_return attempt_result{{}, body_too_large(rc, phase::read_headers)};
      const bool nothing_received = header_bytes == 0 && buffered_before == 0 && conn.buffer.size() == 0;
      if (is_connection_lost(header_ec)) {
        auto failure = network_failure(
            rc, phase::read_headers,
            nothing_received ? std::string("the server closed the connection without answering")
                             : fmt::format("the connection was lost in the middle of the response headers: {}",
                                           header_ec.message()),
            false);
        failure.stale_reuse = reused && nothing_received;
        co_return attempt_result{{}, failure};
      }
      if (header_ec.category() == http::make_error_code(http::error::bad_version).category())
        co_return attempt_result{
            {},
            attempt_failure{errc::protocol,
                            fmt::format("{} {}: the server's response is not valid HTTP/1.1 ({})",
                                        rc.message.method_string(), rc.url.describe(), header_ec.message()),
                            phase::read_headers, false, false, false}};
      co_return attempt_result{
          {}, network_failure(rc, phase::read_headers,
                              fmt::format("reading the response failed: {}", header_ec.message()), false)};
    }

    const unsigned status = header_parser.get().result_int();
    if (rc.download && status == 200) {
      attempt_result streamed = co_await read_body_into_file(rc, conn, stream, header_parser);
      co_return streamed;
    }
    if (rc.download && header_parser.content_length() &&
        *header_parser.content_length() > options.max_response_body_bytes)
      co_return attempt_result{{}, body_too_large(rc, phase::read_headers)};

    http::response_parser<http::string_body> parser{std::move(header_parser)};
    parser.body_limit(options.max_response_body_bytes);
    limit = deadline_for(options.timeouts.read_body, rc.deadline);
    lowest.expires_after(limit.budget);
    auto [body_ec, body_bytes] = co_await http::async_read(stream, conn.buffer, parser, use_tuple);
    check_cancelled(rc.cancellation);
    if (body_ec) co_return attempt_result{{}, body_failure(rc, body_ec, limit, status)};

    lowest.expires_never();
    auto& message = parser.get();
    response reply = response_head(message);
    const bool keep_alive = message.keep_alive();
    reply.body = std::move(message.body());
    metrics.responses++;
    co_return attempt_result{std::move(reply), {}, keep_alive};
  }

  template <class Fields>
  static response response_head(const http::response_header<Fields>& message) {
    response reply;
    reply.status = message.result_int();
    for (const auto& field : message)
      reply.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    return reply;
  }

  attempt_failure body_failure(const request_context& rc, const error_code& ec, const phase_deadline& limit,
                               unsigned status) const {
    if (ec == beast::error::timeout)
      return timeout_failure(rc, phase::read_body, limit, options.timeouts.read_body, false);
    if (ec == http::error::body_limit) return body_too_large(rc, phase::read_body);
    if (is_connection_lost(ec) || ec == http::error::partial_message)
      return network_failure(rc, phase::read_body,
                             fmt::format("the connection was lost before the whole response body arrived "
                                         "(status {}): {}",
                                         status, ec.message()),
                             false);
    return {errc::protocol,
            fmt::format("{} {}: the response body is malformed: {}", rc.message.method_string(), rc.url.describe(),
                        ec.message()),
            phase::read_body, false, false, false};
  }

  // A download's 200: the body goes to the destination file in chunks, so
  // memory stays bounded. timeouts.read_body bounds each wait for data
  // rather than the whole transfer, which may rightly take longer; the
  // overall deadline still bounds everything.
  template <class Stream>
  asio::awaitable<attempt_result> read_body_into_file(request_context& rc, connection& conn, Stream& stream,
                                                      http::response_parser<http::empty_body>& header_parser) {
    const download_target& target = *rc.download;
    http::response_parser<http::buffer_body> parser{std::move(header_parser)};
    parser.body_limit(boost::none);
    const std::uint64_t total = parser.content_length().value_or(0);
    std::ofstream out(target.destination, std::ios::binary | std::ios::trunc);
    if (!out)
      throw amc::error(errc::invalid_argument,
                       fmt::format("cannot write the download to {}: {}", target.destination.string(),
                                   std::strerror(errno)));
    std::vector<char> chunk(64 * 1024);
    std::uint64_t received = 0;
    auto& lowest = conn.lowest();
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      const auto limit = deadline_for(options.timeouts.read_body, rc.deadline);
      lowest.expires_after(limit.budget);
      auto [ec, read] = co_await http::async_read(stream, conn.buffer, parser, use_tuple);
      check_cancelled(rc.cancellation);
      if (ec == http::error::need_buffer) ec = {};  // the chunk is full: write it out, read on
      if (ec) co_return attempt_result{{}, body_failure(rc, ec, limit, 200)};
      const std::size_t filled = chunk.size() - parser.get().body().size;
      if (filled == 0) continue;
      out.write(chunk.data(), static_cast<std::streamsize>(filled));
      if (!out)
        throw amc::error(errc::invalid_argument,
                         fmt::format("writing the download to {} failed: {} (is the disk full?)",
                                     target.destination.string(), std::strerror(errno)));
      received += filled;
      if (target.progress) target.progress(received, total);
    }
    out.close();
    if (!out)
      throw amc::error(errc::invalid_argument,
                       fmt::format("writing the download to {} failed when closing it", target.destination.string()));
    lowest.expires_never();
    response reply = response_head(parser.get());
    const bool keep_alive = parser.get().keep_alive();
    metrics.responses++;
    co_return attempt_result{std::move(reply), {}, keep_alive};
  }

  asio::awaitable<attempt_result> attempt_once(request_context& rc) {
    connection_ptr conn = co_await acquire(rc.pool_key, rc.deadline, rc.cancellation);
    const bool reused = conn != nullptr;
    if (!conn) {
      std::optional<attempt_failure> open_failure;
      try {
        std::variant<connection_ptr, attempt_failure> opened = co_await open_connection(rc);
        if (auto* failure = std::get_if<attempt_failure>(&opened)) open_failure = std::move(*failure);
        else conn = std::move(std::get<connection_ptr>(opened));
      } catch (...) {
        release(rc.pool_key, nullptr, false);
        throw;
      }
      if (open_failure) {
        release(rc.pool_key, nullptr, false);
        co_return attempt_result{{}, std::move(*open_failure)};
      }
    }

    std::optional<attempt_result> exchanged;
    try {
      if (conn->tls) {
        attempt_result outcome = co_await exchange(rc, *conn, *conn->tls, reused);
        exchanged.emplace(std::move(outcome));
      } else {
        attempt_result outcome = co_await exchange(rc, *conn, *conn->plain, reused);
        exchanged.emplace(std::move(outcome));
      }
    } catch (...) {
      release(rc.pool_key, std::move(conn), false);
      throw;
    }
    attempt_result result = std::move(*exchanged);
    const bool reusable = result.reply && result.keep_alive && conn->buffer.size() == 0;
    if (result.failure && result.failure->stale_reuse) {
      // The server dropped its idle keep-alive connections; the others of
      // this pool are most likely gone as well.
      metrics.stale_connections++;
      close_idle_of(pools[rc.pool_key]);
    }
    release(rc.pool_key, std::move(conn), reusable);
    co_return result;
  }

  // --------------------------------------------------------- the request

  // `req` lives in send()'s frame, which waits for this coroutine.
  asio::awaitable<response> run(const request& req, const download_target* download) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_await asio::this_coro::throw_if_cancelled(false);
    const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
    metrics.requests++;
    std::optional<response> reply;
    std::exception_ptr failure;
    try {
      response result = co_await run_with_retries(req, cancellation, download);
      reply.emplace(std::move(result));
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      count_failure(failure);
      std::rethrow_exception(failure);
    }
    co_return std::move(*reply);
  }

  void count_failure(const std::exception_ptr& failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const amc::error& e) {
      count_failure(e.code_value());
    } catch (...) {
      metrics.failures_other++;
    }
  }

  void count_failure(errc code) {
    switch (code) {
      case errc::network: metrics.failures_network++; break;
      case errc::tls: metrics.failures_tls++; break;
      case errc::timeout: metrics.failures_timeout++; break;
      case errc::protocol: metrics.failures_protocol++; break;
      case errc::cancelled: metrics.failures_cancelled++; break;
      default: metrics.failures_other++; break;
    }
  }

  asio::awaitable<response> run_with_retries(const request& req, const asio::cancellation_state& cancellation,
                                             const download_target* download) {
    check_cancelled(cancellation);
    const url_parts url = parse_url(req.url);
    const milliseconds overall = req.timeout > milliseconds::zero() ? req.timeout : options.retry.max_total;
    request_context rc{req, url, {}, false, steady::now() + overall, {}, cancellation, download};
    rc.via_proxy = url.is_tls() && proxy && !proxy_bypassed(options.proxy.no_proxy, url.host, url.port);
    rc.pool_key = fmt::format("{}://{}", url.scheme, url.authority());
    if (rc.via_proxy) rc.pool_key += " via " + proxy->describe();
    const std::string limiter_key = rate_limit_key(req.rate_limit_client_id, url);
    build_message(rc);

    const bool retryable = is_retryable_request(req);
    const auto& policy = options.retry;
    int counted_attempts = 0;  // network errors and 5xx, against max_attempts
    int throttle_waits = 0;
    int sends = 0;  // the request reached the socket: response::attempts
    int tries = 0;  // for messages: every attempt, also those that never connected
    int stale_resends = 0;
    std::optional<attempt_failure> last_failure;
    std::optional<response> last_response;

    auto give_up = [&](const char* why) -> amc::error {
      if (last_failure) {
        std::string message = last_failure->message;
        if (tries > 1 || *why) message += fmt::format(" (after {} attempts{})", tries, why);
        return amc::error(last_failure->code, message,
                          {{"phase", phase_name(last_failure->where)},
                           {"attempts", sends},
                           {"url", url.describe()},
                           {"method", std::string(rc.message.method_string())}});
      }
      return amc::error(errc::internal, "the retry loop ended without a response or an error");
    };

    budget.record_first_attempt();
    while (true) {
      if (auto wait = limiter.acquire(limiter_key, steady::now()); wait > steady::duration::zero()) {
        metrics.rate_limiter_waits++;
        metrics.rate_limiter_wait_ms += static_cast<std::uint64_t>(std::chrono::ceil<milliseconds>(wait).count());
        if (steady::now() + wait >= rc.deadline) {
          if (last_response) co_return finish(std::move(*last_response), sends);
          throw amc::error(errc::timeout,
                           fmt::format("{} {}: the client-side rate limit for \"{}\" would delay the request past "
                                       "its deadline",
                                       rc.message.method_string(), url.describe(), limiter_key),
                           {{"phase", "rate_limit"}, {"attempts", sends}});
        }
        co_await sleep_for(wait, rc.cancellation);
      }

      attempt_result result = co_await attempt_once(rc);
      if (result.reply || !result.failure->nothing_sent) ++sends;
      if (!(result.failure && result.failure->stale_reuse)) ++tries;

      steady::duration delay{};
      if (result.failure) {
        attempt_failure& failure = *result.failure;
        last_failure = failure;
        if (failure.stale_reuse && (failure.nothing_sent || retryable) && stale_resends <= static_cast<int>(
                                                                               options.max_connections_per_host)) {
          // Not a failure of the server, only of a connection it had
          // already closed: resend at once on a new connection.
          ++stale_resends;
          continue;
        }
        // A failure before anything was sent is safe to retry for every
        // method; after that only retryable requests go again.
        if (!failure.retryable || !(retryable || failure.nothing_sent)) throw give_up("");
        // Out of retries after an earlier 429/5xx: that answer tells the
        // caller more (status, Retry-After) than the last network error.
        if (++counted_attempts >= policy.max_attempts) {
          if (last_response) co_return finish(std::move(*last_response), sends);
          throw give_up("");
        }
        if (!budget.try_withdraw()) {
          metrics.retry_budget_exhausted++;
          if (last_response) co_return finish(std::move(*last_response), sends);
          throw give_up("; the client's retry budget is used up, so it was not retried again");
        }
        (failure.code == errc::timeout ? metrics.retries_timeout : metrics.retries_network)++;
        delay = full_jitter_backoff(policy, counted_attempts - 1, unit_random());
      } else {
        response& reply = *result.reply;
        const retry_cause cause = classify_status(reply.status);
        if (cause == retry_cause::throttled) limiter.on_throttled(limiter_key, steady::now());
        if (cause == retry_cause::none || !retryable) co_return finish(std::move(reply), sends);
        std::optional<milliseconds> retry_after;
        if (auto value = reply.header("Retry-After"))
          retry_after = parse_retry_after(*value, std::chrono::system_clock::now());
        if (cause == retry_cause::throttled) {
          if (++throttle_waits > policy.max_throttle_waits) co_return finish(std::move(reply), sends);
          delay = retry_after ? *retry_after : full_jitter_backoff(policy, throttle_waits - 1, unit_random());
        } else {
          if (++counted_attempts >= policy.max_attempts) co_return finish(std::move(reply), sends);
          delay = full_jitter_backoff(policy, counted_attempts - 1, unit_random());
          if (retry_after) delay = std::max<steady::duration>(delay, *retry_after);
        }
        if (steady::now() + delay >= rc.deadline) co_return finish(std::move(reply), sends);
        // Only 5xx retries draw on the budget. A throttle wait is the
        // server's own instruction, already paced by Retry-After and the
        // lowered rate limit, and bounded by max_throttle_waits and the
        // deadline; charging it to the budget would let one long throttle
        // (or a burst of 429s) use up the retries every other request of the
        // client needs for network errors and 5xx.
        if (cause == retry_cause::server_error && !budget.try_withdraw()) {
          metrics.retry_budget_exhausted++;
          co_return finish(std::move(reply), sends);
        }
        if (cause == retry_cause::throttled) {
          metrics.retries_throttled++;
          metrics.throttle_waits++;
        } else {
          metrics.retries_server_error++;
        }
        last_response = std::move(reply);
        last_failure.reset();
      }
      if (result.failure && steady::now() + delay >= rc.deadline) {
        if (last_response) co_return finish(std::move(*last_response), sends);
        throw give_up("; no time left for another");
      }
      co_await sleep_for(delay, rc.cancellation);
    }
  }

  static response finish(response reply, int sends) {
    reply.attempts = sends;
    return reply;
  }

  void build_message(request_context& rc) {
    const request& req = rc.req;
    auto& message = rc.message;
    message.method(req.method);
    message.target(rc.url.target);
    message.version(11);
    const bool default_port = rc.url.port == (rc.url.is_tls() ? 443 : 80);
    message.set(http::field::host, default_port ? (rc.url.host.find(':') != std::string::npos
                                                       ? "[" + rc.url.host + "]"
                                                       : rc.url.host)
                                                : rc.url.authority());
    message.set(http::field::user_agent, options.user_agent);
    for (const auto& field : req.headers) {
      auto has_line_break = [](const std::string& text) { return text.find_first_of("\r\n") != std::string::npos; };
      if (field.name.empty() || has_line_break(field.name) || has_line_break(field.value))
        // The value is not quoted: it may be a secret.
        throw amc::error(errc::invalid_argument,
                         fmt::format("request header \"{}\" has an empty name or a line break in its name or value",
                                     has_line_break(field.name) ? std::string("(unprintable)") : field.name));
      if (beast::iequals(field.name, "Host") || beast::iequals(field.name, "User-Agent")) message.erase(field.name);
    }
    for (const auto& field : req.headers) message.insert(field.name, field.value);
    message.body() = req.body;
    message.prepare_payload();
  }
};

http_client::http_client(asio::any_io_executor executor, client_options options)
    : state_(std::make_shared<state>(std::move(executor), std::move(options))) {
  auto& s = *state_;
  s.options.proxy = proxy_from_environment(s.options.proxy, [](const char* name) { return std::getenv(name); });
  s.proxy = parse_proxy(s.options.proxy.https_proxy);

  SSL_CTX* context = s.tls_context.native_handle();
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  s.tls_context.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  error_code ec;
  if (!s.options.tls.ca_file.empty()) {
    s.tls_context.load_verify_file(s.options.tls.ca_file, ec);
    if (ec)
      throw amc::error(errc::config, fmt::format("cannot load the CA file {}: {} (give a PEM bundle of trusted CAs)",
                                                 s.options.tls.ca_file, ec.message()));
  }
  if (!s.options.tls.ca_directory.empty()) {
    s.tls_context.add_verify_path(s.options.tls.ca_directory, ec);
    if (ec)
      throw amc::error(errc::config, fmt::format("cannot use the CA directory {}: {}", s.options.tls.ca_directory,
                                                 ec.message()));
  }
  if (s.options.tls.ca_file.empty() && s.options.tls.ca_directory.empty()) {
    s.tls_context.set_default_verify_paths(ec);
    if (ec)
      throw amc::error(errc::config,
                       fmt::format("cannot load the system's trusted CAs: {} (set tls.ca_file)", ec.message()));
  }
  s.tls_context.set_verify_mode(s.options.tls.verify_peer ? ssl::verify_peer : ssl::verify_none);
}

http_client::~http_client() { shutdown(); }

asio::awaitable<response> http_client::send(request req) {
  // The request runs on the client's strand; co_spawn forwards the caller's
  // cancellation there. `self` keeps the state alive and `req` stays in this
  // frame until the request is done. (Named locals rather than temporaries
  // in the co_await expression: GCC 12 destroys such temporaries twice,
  // PR c++/100611.)
  std::shared_ptr<state> self = state_;
  asio::awaitable<response> work = self->run(req, nullptr);
  response reply = co_await asio::co_spawn(self->strand, std::move(work), asio::use_awaitable);
  co_return reply;
}

asio::awaitable<response> http_client::download(request req, std::filesystem::path destination,
                                                std::function<void(std::uint64_t, std::uint64_t)> progress) {
  std::shared_ptr<state> self = state_;
  const state::download_target target{std::move(destination), std::move(progress)};
  asio::awaitable<response> work = self->run(req, &target);
  response reply = co_await asio::co_spawn(self->strand, std::move(work), asio::use_awaitable);
  co_return reply;
}

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
      {"rate_limiter", {{"waits", value(m.rate_limiter_waits)}, {"wait_ms", value(m.rate_limiter_wait_ms)},
                        {"lowered_rates", state_->limiter.lowered_rates(steady::now())}}},
      {"connections",
       {{"opened", value(m.connections_opened)},
        {"reused", value(m.connections_reused)},
        {"closed_idle", value(m.connections_closed_idle)},
        {"stale", value(m.stale_connections)},
        {"open", value(m.connections_open)},
        {"pool_waits", value(m.pool_waits)}}},
      {"failures",
       {{"network", value(m.failures_network)},
        {"tls", value(m.failures_tls)},
        {"timeout", value(m.failures_timeout)},
        {"protocol", value(m.failures_protocol)},
        {"cancelled", value(m.failures_cancelled)},
        {"other", value(m.failures_other)}}},
  };
}

}  // namespace amc::net
