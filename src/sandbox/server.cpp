// Sockets, TLS and delivery of replies (including the transport-level
// faults). One coroutine per connection, on one of N single-threaded
// io_contexts, with a deadline on every phase: handshake, read, idle
// keep-alive, write, shutdown.
#include "sandbox/server.hpp"

#include "sandbox/files.hpp"
#include "sandbox/service.hpp"
#include "sandbox/tls_material.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <atomic>
#include <thread>

namespace amc::sandbox {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <class Socket>
void reset_connection(Socket& socket) {
  // SO_LINGER with a zero timeout makes close() send RST: the client sees a
  // "connection reset", not a clean end of stream.
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

}  // namespace

struct sandbox_server::impl {
  explicit impl(sandbox_options config) : options(std::move(config)) {
    // One io_context per thread, each run by exactly one thread: a
    // connection lives on one context, so its handlers never cross threads
    // and need no strand (the poll hot path stays cheap).
    const int count = std::max(1, options.io_threads);
    for (int i = 0; i < count; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      keep_running.emplace_back(asio::make_work_guard(*contexts.back()));
    }
    acceptor.emplace(*contexts.front());
  }

  sandbox_options options;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::optional<asio::ssl::context> tls_context;
  std::optional<tcp::acceptor> acceptor;  // on the first context
  std::size_t next_context = 0;
  std::unique_ptr<sandbox_service> service;
  std::vector<std::thread> threads;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::uint16_t port = 0;
  std::string base_url;
  std::string ca_pem;

  void write_state_files();
  asio::awaitable<void> accept_loop();
  struct connection_deadline;
  asio::awaitable<void> run_session(tcp::socket socket);
  asio::awaitable<void> watchdog(tcp::socket& socket, connection_deadline& deadline);
  asio::awaitable<void> serve_plain(tcp::socket& socket, connection_deadline& deadline);
  asio::awaitable<void> serve_tls(asio::ssl::stream<tcp::socket>& stream, connection_deadline& deadline);
  template <class Stream>
  asio::awaitable<bool> serve(Stream& stream, connection_deadline& deadline);
  template <class Stream>
  asio::awaitable<bool> deliver(Stream& stream, connection_deadline& deadline, reply& out);
};

void sandbox_server::impl::write_state_files() {
  if (!options.port_file.empty()) {
    write_file_atomically(options.port_file, fmt::format("{}\n", port), file_visibility::shared);
  }
  if (options.state_dir.empty()) return;
  ensure_private_directory(options.state_dir);
  const auto& dir = options.state_dir;
  write_file_atomically(dir / "client_secret", service->client_secret(), file_visibility::owner_only);
  nlohmann::json summary = {{"url", base_url},
                            {"port", port},
                            {"tls", options.tls},
                            {"pid", ::getpid()},
                            {"token_url", base_url + "/auth/o2/token"},
                            {"consent_url", base_url + "/ap/oa"},
                            {"client_id", service->client_id()},
                            {"client_secret_file", (dir / "client_secret").string()},
                            {"instance_id", service->options().instances.front().instance_id},
                            {"advertiser_id", service->options().instances.front().entity_id},
                            {"marketplace_id", service->options().instances.front().marketplace_id},
                            {"response_shape", to_string(options.shape)},
                            {"time_scale", options.time_scale}};
  if (!service->seeded_refresh_token().empty()) {
    write_file_atomically(dir / "refresh_token", service->seeded_refresh_token(), file_visibility::owner_only);
    summary["refresh_token_file"] = (dir / "refresh_token").string();
  }
  if (options.tls) summary["ca_file"] = (dir / "ca.pem").string();
  write_file_atomically(dir / "sandbox.json", summary.dump(2) + "\n", file_visibility::shared);
}

asio::awaitable<void> sandbox_server::impl::accept_loop() {
  for (;;) {
    asio::io_context& target = *contexts[next_context++ % contexts.size()];
    auto [error, socket] = co_await acceptor->async_accept(target, use_tuple);
    if (error) {
      if (error == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, run_session(std::move(socket)), asio::detached);
  }
}

// The deadline of the current phase of one connection. Phases only move
// `expiry` (no system call, no timer operation per request); one watchdog
// coroutine per connection sleeps until the expiry it last saw and closes
// the socket once the current expiry has passed.
struct sandbox_server::impl::connection_deadline {
  explicit connection_deadline(const asio::any_io_executor& executor) : timer(executor) {}
  void expires_after(std::chrono::milliseconds timeout) { expiry = std::chrono::steady_clock::now() + timeout; }

  asio::steady_timer timer;
  std::chrono::steady_clock::time_point expiry = std::chrono::steady_clock::time_point::max();
};

asio::awaitable<void> sandbox_server::impl::watchdog(tcp::socket& socket, connection_deadline& deadline) {
  for (;;) {
    deadline.timer.expires_at(deadline.expiry);
    auto [error] = co_await deadline.timer.async_wait(use_tuple);
    (void)error;
    // The session ended (the || below cancels the watchdog) or the socket
    // is already gone.
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) co_return;
    if (!socket.is_open()) co_return;
    if (std::chrono::steady_clock::now() >= deadline.expiry) {
      boost::system::error_code ignored;
      socket.close(ignored);  // every pending operation of the session fails
      co_return;
    }
  }
}

asio::awaitable<void> sandbox_server::impl::run_session(tcp::socket socket) {
  using namespace asio::experimental::awaitable_operators;
  try {
    connection_deadline deadline(socket.get_executor());
    if (!tls_context) {
      co_await (serve_plain(socket, deadline) || watchdog(socket, deadline));
      co_return;
    }
    asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls_context);
    co_await (serve_tls(stream, deadline) || watchdog(stream.next_layer(), deadline));
  } catch (const std::exception&) {
    // A session never takes the server down; the socket closes with it.
  }
}

asio::awaitable<void> sandbox_server::impl::serve_plain(tcp::socket& socket, connection_deadline& deadline) {
  if (co_await serve(socket, deadline)) {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
  }
}

asio::awaitable<void> sandbox_server::impl::serve_tls(asio::ssl::stream<tcp::socket>& stream,
                                                      connection_deadline& deadline) {
  deadline.expires_after(options.handshake_timeout);
  auto [handshake_error] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (handshake_error) co_return;
  if (co_await serve(stream, deadline)) {
    deadline.expires_after(options.write_timeout);
    // A peer that closes without close_notify gives stream_truncated,
    // which is harmless here.
    auto [shutdown_error] = co_await stream.async_shutdown(use_tuple);
    (void)shutdown_error;
  }
}

// Serves requests until the connection ends. True when the caller should
// close gracefully, false when the connection is already gone.
template <class Stream>
asio::awaitable<bool> sandbox_server::impl::serve(Stream& stream, connection_deadline& deadline) {
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    // The first request must arrive within the read deadline; later ones may
    // wait up to the keep-alive idle deadline.
    deadline.expires_after(first ? options.read_timeout : options.idle_timeout);
    first = false;
    auto [read_error, bytes] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    (void)bytes;
    if (read_error == http::error::end_of_stream) co_return true;
    if (read_error) co_return false;
    if (!parser.is_done()) {
      // curl sends "Expect: 100-continue" before bodies over 1 KiB and waits
      // a second for this interim answer before sending the body anyway.
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        deadline.expires_after(options.write_timeout);
        auto [continue_error, written] = co_await asio::async_write(stream, asio::buffer(go_on), use_tuple);
        (void)written;
        if (continue_error) co_return false;
      }
      deadline.expires_after(options.read_timeout);
      auto [body_error, body_bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
      (void)body_bytes;
      if (body_error) co_return false;
    }
    http_request request = parser.release();
    reply out;
    try {
      out = service->handle(request);
    } catch (const std::exception&) {
      out.message = http_response{http::status::internal_server_error, request.version()};
      out.message.set(http::field::content_type, "application/json");
      out.message.body() = R"({"code":"500","details":"Internal server error."})";
      out.message.keep_alive(false);
      out.message.prepare_payload();
    }
    if (!co_await deliver(stream, deadline, out)) co_return false;
    if (!out.message.keep_alive()) co_return true;
  }
}

// Writes one reply the way `out.how` says. False when the connection must
// not be used any more.
template <class Stream>
asio::awaitable<bool> sandbox_server::impl::deliver(Stream& stream, connection_deadline& deadline, reply& out) {
  auto& socket = stream.lowest_layer();
  if (out.delay.count() > 0) {
    // The injected latency is not a write: it must not trip the deadline.
    deadline.expires_after(out.delay + options.write_timeout);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(out.delay);
    co_await timer.async_wait(use_tuple);
  }
  switch (out.how) {
    case delivery::normal: {
      // One contiguous buffer (cheaper than Beast's serializer for small
      // answers, and one send per response): the service's pre-rendered
      // answer as it is, or one rendered here.
      std::string rendered;
      if (!out.wire) rendered = wire_head(out.message) + out.message.body();
      const std::string& wire = out.wire ? *out.wire : rendered;
      deadline.expires_after(options.write_timeout);
      auto [error, bytes] = co_await asio::async_write(stream, asio::buffer(wire), use_tuple);
      (void)bytes;
      co_return !error;
    }
    case delivery::reset_before_headers:
      reset_connection(socket);
      co_return false;
    case delivery::reset_after_headers: {
      std::string header = wire_head(out.message);
      deadline.expires_after(options.write_timeout);
      co_await asio::async_write(stream, asio::buffer(header), use_tuple);
      reset_connection(socket);
      co_return false;
    }
    case delivery::truncated_body: {
      std::string wire = wire_head(out.message);
      const std::string& body = out.message.body();
      wire.append(body, 0, body.size() / 2);
      deadline.expires_after(options.write_timeout);
      co_await asio::async_write(stream, asio::buffer(wire), use_tuple);
      // End the connection cleanly: the client sees EOF before the body is
      // complete.
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      co_return false;
    }
    case delivery::trickle: {
      std::string wire = wire_head(out.message) + out.message.body();
      asio::steady_timer timer(co_await asio::this_coro::executor);
      for (std::size_t offset = 0; offset < wire.size(); offset += out.trickle_bytes) {
        const std::size_t size = std::min(out.trickle_bytes, wire.size() - offset);
        deadline.expires_after(options.write_timeout + out.trickle_interval);
        auto [error, bytes] = co_await asio::async_write(stream, asio::buffer(wire.data() + offset, size), use_tuple);
        (void)bytes;
        if (error) co_return false;
        if (offset + size < wire.size()) {
          timer.expires_after(out.trickle_interval);
          co_await timer.async_wait(use_tuple);
        }
      }
      co_return true;
    }
  }
  co_return false;
}

sandbox_server::sandbox_server(sandbox_options options) : impl_(std::make_unique<impl>(std::move(options))) {
  complete_defaults(impl_->options);
}

sandbox_server::~sandbox_server() { stop(); }

void sandbox_server::start() {
  if (impl_->started.exchange(true)) throw std::logic_error("sandbox_server::start called twice");
  impl& self = *impl_;
  const auto address = asio::ip::make_address(self.options.bind_address);
  tcp::endpoint endpoint(address, self.options.port);
  self.acceptor->open(endpoint.protocol());
  self.acceptor->set_option(asio::socket_base::reuse_address(true));
  self.acceptor->bind(endpoint);
  self.acceptor->listen(asio::socket_base::max_listen_connections);
  self.port = self.acceptor->local_endpoint().port();
  self.base_url = fmt::format("{}://{}:{}", self.options.tls ? "https" : "http", self.options.bind_address, self.port);

  if (self.options.tls) {
    tls_material material = generate_tls_material();
    self.ca_pem = material.ca_certificate_pem;
    self.tls_context.emplace(asio::ssl::context::tls_server);
    self.tls_context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                                  asio::ssl::context::no_tlsv1_1);
    self.tls_context->use_certificate_chain(asio::buffer(material.server_certificate_pem));
    self.tls_context->use_private_key(asio::buffer(material.server_private_key_pem), asio::ssl::context::pem);
    if (!self.options.state_dir.empty()) {
      ensure_private_directory(self.options.state_dir);
      write_tls_material(material, self.options.state_dir);
    }
  }
  if (!self.service) self.service = std::make_unique<sandbox_service>(self.options, self.base_url);
  self.write_state_files();

  asio::co_spawn(*self.contexts.front(), self.accept_loop(), asio::detached);
  for (auto& context : self.contexts) {
    self.threads.emplace_back([&io = *context] { io.run(); });
  }
}

void sandbox_server::stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  impl& self = *impl_;
  asio::post(*self.contexts.front(), [&self] {
    boost::system::error_code ignored;
    self.acceptor->close(ignored);
  });
  for (auto& guard : self.keep_running) guard.reset();
  for (auto& context : self.contexts) context->stop();
  for (auto& thread : self.threads) {
    if (thread.joinable()) thread.join();
  }
  self.threads.clear();
}

std::unique_ptr<sandbox_service> sandbox_server::release_service() {
  if (!impl_->stopped) throw std::logic_error("sandbox_server::release_service before stop");
  return std::move(impl_->service);
}

void sandbox_server::adopt_service(std::unique_ptr<sandbox_service> service) {
  if (impl_->started) throw std::logic_error("sandbox_server::adopt_service after start");
  if (impl_->options.tls) throw std::logic_error("sandbox_server::adopt_service needs plain HTTP");
  impl_->service = std::move(service);
}

std::uint16_t sandbox_server::port() const { return impl_->port; }
const std::string& sandbox_server::base_url() const { return impl_->base_url; }
const std::string& sandbox_server::ca_certificate_pem() const { return impl_->ca_pem; }
std::filesystem::path sandbox_server::ca_file() const {
  if (!impl_->options.tls || impl_->options.state_dir.empty()) return {};
  return impl_->options.state_dir / "ca.pem";
}
sandbox_service& sandbox_server::service() {
  if (!impl_->service) throw std::logic_error("sandbox_server::service before start");
  return *impl_->service;
}
const sandbox_options& sandbox_server::options() const { return impl_->options; }

}  // namespace amc::sandbox
