// A small synchronous HTTP/1.1 client for the sandbox tests (Beast, plain
// or TLS with CA and host name verification). Test-only: it keeps one
// keep-alive connection, reconnects when the server closed it, and reports
// transport errors instead of throwing so fault tests can look at them.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace amc::sandbox::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

struct http_result {
  boost::system::error_code error;  // transport/parse error, if any
  bool header_received = false;
  int status = 0;
  std::string body;
  http::fields headers;
  std::chrono::milliseconds elapsed{0};
  std::uint16_t local_port = 0;  // which connection carried the request

  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : std::string(it->value());
  }
};

class test_http_client {
 public:
  // Plain HTTP.
  explicit test_http_client(std::uint16_t port) : port_(port) {}
  // HTTPS, trusting only `ca_pem` and checking the certificate for `host`.
  test_http_client(std::uint16_t port, std::string ca_pem, std::string host)
      : port_(port), ca_pem_(std::move(ca_pem)), host_(std::move(host)) {}

  using header_list = std::vector<std::pair<std::string, std::string>>;

  http_result request(http::verb method, const std::string& target, const std::string& body = {},
                      const header_list& headers = {}, const std::string& content_type = "application/json") {
    http_result result;
    const auto started = std::chrono::steady_clock::now();
    http::request<http::string_body> message{method, target, 11};
    message.set(http::field::host, host_);
    message.keep_alive(true);
    for (const auto& [name, value] : headers) message.set(name, value);
    if (!body.empty() || method == http::verb::post || method == http::verb::put) {
      message.set(http::field::content_type, content_type);
      message.body() = body;
      message.prepare_payload();
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      result = http_result{};
      if (!connected_) connect(result.error);
      if (result.error) break;
      result.local_port = local_port_;
      if (ca_pem_) {
        exchange(*tls_stream_, message, result);
      } else {
        exchange(*plain_stream_, message, result);
      }
      // A stale keep-alive connection (closed by the server while idle)
      // fails before any byte of the answer: retry once on a fresh one.
      // POST is never re-sent: a fault test must see exactly what happened.
      const bool stale = attempt == 0 && reused_ && !result.header_received && method != http::verb::post &&
                         (result.error == http::error::end_of_stream || result.error == asio::error::connection_reset ||
                          result.error == asio::error::broken_pipe);
      if (result.error) close();
      if (!stale) break;
    }
    result.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    return result;
  }

  void close() {
    boost::system::error_code ignored;
    if (plain_stream_) plain_stream_->socket().close(ignored);
    if (tls_stream_) beast::get_lowest_layer(*tls_stream_).socket().close(ignored);
    plain_stream_.reset();
    tls_stream_.reset();
    buffer_.consume(buffer_.size());
    connected_ = false;
    reused_ = false;
  }

  // The handshake alone, for certificate checks.
  boost::system::error_code handshake_only() {
    boost::system::error_code error;
    close();
    connect(error);
    close();
    return error;
  }

 private:
  void connect(boost::system::error_code& error) {
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_);
    if (!ca_pem_) {
      plain_stream_ = std::make_unique<beast::tcp_stream>(io_);
      plain_stream_->expires_after(std::chrono::seconds(10));
      plain_stream_->connect(endpoint, error);
      if (!error) local_port_ = plain_stream_->socket().local_endpoint().port();
    } else {
      ssl_context_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
      ssl_context_->add_certificate_authority(asio::buffer(*ca_pem_), error);
      if (error) return;
      ssl_context_->set_verify_mode(asio::ssl::verify_peer);
      tls_stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, *ssl_context_);
      auto& lowest = beast::get_lowest_layer(*tls_stream_);
      lowest.expires_after(std::chrono::seconds(10));
      lowest.connect(endpoint, error);
      if (error) return;
      local_port_ = lowest.socket().local_endpoint().port();
      // SNI; SSL_set_tlsext_host_name is this call behind a C-style cast.
      if (!SSL_ctrl(tls_stream_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                    const_cast<char*>(host_.c_str()))) {
        error = asio::error::invalid_argument;
        return;
      }
      tls_stream_->set_verify_callback(asio::ssl::host_name_verification(host_));
      tls_stream_->handshake(asio::ssl::stream_base::client, error);
    }
    connected_ = !error;
    reused_ = false;
  }

  template <class Stream>
  void exchange(Stream& stream, http::request<http::string_body>& message, http_result& result) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(20));
    http::write(stream, message, result.error);
    if (result.error) return;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read_header(stream, buffer_, parser, result.error);
    if (result.error) return;
    result.header_received = true;
    result.status = static_cast<int>(parser.get().result_int());
    result.headers = parser.get().base();
    http::read(stream, buffer_, parser, result.error);
    result.body = parser.get().body();
    if (result.error) return;
    if (!parser.get().keep_alive()) {
      close();
    } else {
      reused_ = true;
    }
  }

  asio::io_context io_;
  std::uint16_t port_;
  std::optional<std::string> ca_pem_;
  std::string host_ = "127.0.0.1";
  std::unique_ptr<asio::ssl::context> ssl_context_;
  std::unique_ptr<beast::tcp_stream> plain_stream_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
  bool reused_ = false;
  std::uint16_t local_port_ = 0;
};

}  // namespace amc::sandbox::testing
