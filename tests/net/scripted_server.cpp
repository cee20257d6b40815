#include "scripted_server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace amc::net::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::optional<std::string> received_request::header(const std::string& name) const {
  for (const auto& [field, value] : headers)
    if (beast::iequals(field, name)) return value;
  return std::nullopt;
}

namespace {

// The io_context and thread every test server and proxy runs on.
struct server_thread {
  asio::io_context context{1};
  tcp::acceptor acceptor{context};
  std::thread thread;

  void start() {
    acceptor.open(tcp::v4());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor.listen();
  }
  void run() {
    thread = std::thread([this] { context.run(); });
  }
  void stop() {
    asio::post(context, [this] {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      context.stop();
    });
    if (thread.joinable()) thread.join();
  }
};

asio::awaitable<void> sleep(std::chrono::milliseconds delay) {
  if (delay <= std::chrono::milliseconds::zero()) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(use_tuple);
  co_return;
}

}  // namespace

struct scripted_server::impl {
  server_thread io;
  std::optional<ssl::context> tls;
  server_options options;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<script_step> script;
  std::size_t next_step = 0;
  std::vector<received_request> log;
  std::size_t accepted = 0, closed = 0, open = 0, peak_open = 0;
  std::vector<std::shared_ptr<tcp::socket>> silent_sockets;
  std::vector<std::string> server_names;

  // OpenSSL calls this for every ClientHello, with or without SNI.
  static int record_server_name(SSL* ssl_handle, int* /*alert*/, void* self) {
    const char* name = SSL_get_servername(ssl_handle, TLSEXT_NAMETYPE_host_name);
    auto* server = static_cast<impl*>(self);
    std::lock_guard lock(server->mutex);
    server->server_names.emplace_back(name != nullptr ? name : "");
    return SSL_TLSEXT_ERR_OK;
  }

  script_step take_step() {
    std::lock_guard lock(mutex);
    if (next_step < script.size()) return script[next_step++];
    return script_step::ok();
  }

  void record(received_request request) {
    std::lock_guard lock(mutex);
    log.push_back(std::move(request));
    changed.notify_all();
  }

  void connection_ended() {
    std::lock_guard lock(mutex);
    ++closed;
    --open;
    changed.notify_all();
  }

  asio::awaitable<void> accept_loop() {
    while (true) {
      auto [ec, socket] = co_await io.acceptor.async_accept(use_tuple);
      if (ec) co_return;
      std::size_t index;
      {
        std::lock_guard lock(mutex);
        index = accepted++;
        peak_open = std::max(peak_open, ++open);
        changed.notify_all();
      }
      if (options.silent) {
        silent_sockets.push_back(std::make_shared<tcp::socket>(std::move(socket)));
        continue;
      }
      asio::co_spawn(io.context, session(std::move(socket), index), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket, std::size_t index) {
    // No shared_from_this here: the io_context lives inside impl and the
    // destructor joins the thread first, so `this` outlives every session.
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // headers and body go out as separate writes
    beast::tcp_stream stream(std::move(socket));
    if (tls) {
      beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
      auto [ec] = co_await secure.async_handshake(ssl::stream_base::server, use_tuple);
      if (!ec) co_await serve(secure, index);
      beast::get_lowest_layer(secure).close();
    } else {
      co_await serve(stream, index);
      stream.close();
    }
    connection_ended();
    co_return;
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, std::size_t index) {
    beast::flat_buffer buffer;
    auto& socket = beast::get_lowest_layer(stream).socket();
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(256 * 1024 * 1024);
      auto [ec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (ec) co_return;
      auto& message = parser.get();
      received_request request;
      request.connection = index;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      for (const auto& field : message)
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      request.body = message.body();
      request.received_at = std::chrono::steady_clock::now();
      record(std::move(request));

      script_step step = take_step();
      co_await sleep(step.delay_before_headers);
      using action = script_step::action;
      if (step.what == action::close_before_headers) co_return;
      if (step.what == action::reset) {
        boost::system::error_code ignored;
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
        co_return;
      }
      if (!step.raw_parts.empty()) {
        for (std::size_t part = 0; part < step.raw_parts.size(); ++part) {
          if (part > 0) co_await sleep(step.delay_before_body);
          auto [raw_ec, raw_bytes] = co_await asio::async_write(stream, asio::buffer(step.raw_parts[part]), use_tuple);
          if (raw_ec) co_return;
        }
        if (step.what == action::reset_after_parts) {
          boost::system::error_code ignored;
          socket.set_option(asio::socket_base::linger(true, 0), ignored);
          socket.close(ignored);
          co_return;
        }
        continue;
      }
      if (step.what == action::endless_body) {
        std::string head = "HTTP/1.1 " + std::to_string(step.status) + " OK\r\nTransfer-Encoding: chunked\r\n";
        for (const auto& [name, value] : step.headers) head += name + ": " + value + "\r\n";
        head += "\r\n";
        auto [head_ec, head_bytes] = co_await asio::async_write(stream, asio::buffer(head), use_tuple);
        const std::string chunk = "4000\r\n" + std::string(0x4000, 'x') + "\r\n";
        while (!head_ec) {
          co_await sleep(step.delay_before_body);
          auto [chunk_ec, chunk_bytes] = co_await asio::async_write(stream, asio::buffer(chunk), use_tuple);
          if (chunk_ec) break;
        }
        co_return;
      }

      http::response<http::string_body> response{static_cast<http::status>(step.status), 11};
      response.set(http::field::server, "scripted");
      for (const auto& [name, value] : step.headers) response.insert(name, value);
      response.body() = step.body;
      if (step.chunked) response.chunked(true);
      else response.prepare_payload();
      response.keep_alive(!step.connection_close);
      http::response_serializer<http::string_body> serializer(response);
      auto [header_ec, header_bytes] = co_await http::async_write_header(stream, serializer, use_tuple);
      if (header_ec || step.what == action::close_after_headers) co_return;
      co_await sleep(step.delay_before_body);
      if (step.what == action::truncated_body) {
        co_await asio::async_write(stream, asio::buffer(step.body.data(), step.body.size() / 2), use_tuple);
        co_return;
      }
      auto [body_ec, body_bytes] = co_await http::async_write(stream, serializer, use_tuple);
      if (body_ec || step.connection_close || step.what == action::close_after_response) co_return;
    }
  }
};

scripted_server::scripted_server(std::vector<script_step> script, server_options options)
    : impl_(std::make_shared<impl>()) {
  impl_->script = std::move(script);
  impl_->options = options;
  if (options.tls_certificate_and_key) {
    impl_->tls.emplace(ssl::context::tls_server);
    impl_->tls->use_certificate_chain(asio::buffer(options.tls_certificate_and_key->first));
    impl_->tls->use_private_key(asio::buffer(options.tls_certificate_and_key->second), ssl::context::pem);
    SSL_CTX* context = impl_->tls->native_handle();
    // OpenSSL's SNI setters are macros with C-style casts inside.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    SSL_CTX_set_tlsext_servername_callback(context, &impl::record_server_name);
    SSL_CTX_set_tlsext_servername_arg(context, impl_.get());
#pragma GCC diagnostic pop
    if (options.legacy_tls_only) {
      SSL_CTX_set_min_proto_version(context, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(context, TLS1_1_VERSION);
      // Level 0 lets this server use what OpenSSL 3 otherwise refuses;
      // plain RSA key exchange needs no SHA-1 signature, so a client
      // without a protocol floor of its own would get through.
      SSL_CTX_set_security_level(context, 0);
      if (SSL_CTX_set_cipher_list(context, "AES128-SHA:AES256-SHA:@SECLEVEL=0") != 1)
        throw std::runtime_error("this OpenSSL has no TLS 1.1 RSA cipher for the legacy test server");
    }
  }
  impl_->io.start();
  if (options.receive_buffer_bytes > 0)  // inherited by the connections accepted from now on
    impl_->io.acceptor.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer_bytes));
  asio::co_spawn(impl_->io.context, impl_->accept_loop(), asio::detached);
  impl_->io.run();
}

scripted_server::~scripted_server() { impl_->io.stop(); }

std::uint16_t scripted_server::port() const { return impl_->io.acceptor.local_endpoint().port(); }

std::vector<received_request> scripted_server::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

std::size_t scripted_server::connections_accepted() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted;
}

std::size_t scripted_server::connections_closed() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->closed;
}

std::size_t scripted_server::peak_open_connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->peak_open;
}

std::vector<std::string> scripted_server::server_names() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->server_names;
}

bool scripted_server::wait_for_requests(std::size_t count, std::chrono::milliseconds limit) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, limit, [&] { return impl_->log.size() >= count; });
}

bool scripted_server::wait_for_closed_connections(std::size_t count, std::chrono::milliseconds limit) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, limit, [&] { return impl_->closed >= count; });
}

struct connect_proxy::impl {
  server_thread io;
  unsigned refuse_status = 0;
  mutable std::mutex mutex;
  std::vector<std::string> targets;

  asio::awaitable<void> accept_loop() {
    while (true) {
      auto [ec, socket] = co_await io.acceptor.async_accept(use_tuple);
      if (ec) co_return;
      asio::co_spawn(io.context, tunnel(std::move(socket)), asio::detached);
    }
  }

  // The sockets are shared with the other direction's pump; the callers
  // keep them alive for the whole tunnel.
  static asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    std::array<char, 16 * 1024> chunk;
    while (true) {
      auto [read_ec, read] = co_await from->async_read_some(asio::buffer(chunk), use_tuple);
      if (read_ec) break;
      auto [write_ec, written] = co_await asio::async_write(*to, asio::buffer(chunk.data(), read), use_tuple);
      if (write_ec) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }

  asio::awaitable<void> tunnel(tcp::socket client) {
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    auto [ec, read] = co_await http::async_read_header(client, buffer, parser, use_tuple);
    if (ec) co_return;
    const std::string target(parser.get().target());
    {
      std::lock_guard lock(mutex);
      targets.push_back(target);
    }
    auto refuse = [&](unsigned status) -> asio::awaitable<void> {
      http::response<http::empty_body> response{static_cast<http::status>(status), 11};
      response.keep_alive(false);
      co_await http::async_write(client, response, use_tuple);
      co_return;
    };
    if (parser.get().method() != http::verb::connect || refuse_status != 0) {
      co_await refuse(refuse_status != 0 ? refuse_status : 405);
      co_return;
    }
    auto colon = target.rfind(':');
    tcp::resolver resolver(io.context);
    // Named strings, not temporaries inside co_await (GCC 12, PR c++/100611).
    const std::string host = target.substr(0, colon), service = target.substr(colon + 1);
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(host, service, use_tuple);
    tcp::socket upstream(io.context);
    if (!resolve_ec) {
      auto [connect_ec, endpoint] = co_await asio::async_connect(upstream, endpoints, use_tuple);
      resolve_ec = connect_ec;
    }
    if (resolve_ec) {
      co_await refuse(502);
      co_return;
    }
    static constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
    co_await asio::async_write(client, asio::buffer(established), use_tuple);
    auto client_side = std::make_shared<tcp::socket>(std::move(client));
    auto upstream_side = std::make_shared<tcp::socket>(std::move(upstream));
    asio::co_spawn(io.context, pump(upstream_side, client_side), asio::detached);
    asio::co_spawn(io.context, pump(client_side, upstream_side), asio::detached);
    co_return;
  }
};

connect_proxy::connect_proxy(unsigned refuse_status) : impl_(std::make_shared<impl>()) {
  impl_->refuse_status = refuse_status;
  impl_->io.start();
  asio::co_spawn(impl_->io.context, impl_->accept_loop(), asio::detached);
  impl_->io.run();
}

connect_proxy::~connect_proxy() { impl_->io.stop(); }

std::uint16_t connect_proxy::port() const { return impl_->io.acceptor.local_endpoint().port(); }

std::vector<std::string> connect_proxy::connect_targets() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->targets;
}

std::uint16_t closed_port() {
  const scripted_server closed_again({});
  return closed_again.port();
}

}  // namespace amc::net::testing
