#include "net/connect.hpp"

#include "net/client_state.hpp"
#include "net/system_trust.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace amc::net::detail {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

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

// OpenSSL's SSL_set_tlsext_host_name is a macro with a C-style cast inside.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
bool set_server_name_indication(SSL* ssl_handle, const std::string& host) {
  return SSL_set_tlsext_host_name(ssl_handle, host.c_str()) == 1;
}
#pragma GCC diagnostic pop

// Resolves with a deadline. getaddrinfo() has none of its own, and Asio
// runs it on a private thread where cancel() cannot stop a lookup already
// started (a DNS server that never answers holds it for as long as the
// system resolver's own timeouts allow). So the request does not wait for
// the lookup itself: it waits on a timer that the lookup's completion
// cancels, and on its deadline (or shutdown, or the caller's cancellation)
// leaves a late lookup to finish on its own; its result is dropped. The
// shared holder keeps the resolver alive for that late completion. All of
// it runs on the strand.
asio::awaitable<std::pair<error_code, tcp::resolver::results_type>> resolve(client_state& s,
                                                                            const std::string& host,
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
  auto holder = std::make_shared<resolving>(s.strand);
  holder->answered_or_deadline.expires_after(limit);
  holder->resolver.async_resolve(host, std::to_string(port),
                                 [holder](error_code ec, tcp::resolver::results_type results) {
                                   holder->answered = true;
                                   holder->ec = ec;
                                   holder->results = std::move(results);
                                   holder->answered_or_deadline.cancel();
                                 });
  client_state::interrupter on_shutdown(s, [holder] { holder->answered_or_deadline.cancel(); });
  auto [wait_ec] = co_await holder->answered_or_deadline.async_wait(use_tuple);
  if (holder->answered) co_return std::pair{holder->ec, std::move(holder->results)};
  // A lookup that has not started yet never will.
  holder->resolver.cancel();
  // Woken early without an answer: shutdown or the caller's cancellation,
  // which the caller checks first.
  timed_out = !wait_ec;
  co_return std::pair{wait_ec ? wait_ec : error_code(asio::error::timed_out), tcp::resolver::results_type{}};
}


// HTTP CONNECT through the proxy; the proxy's reply has the handshake deadline.
asio::awaitable<std::optional<attempt_failure>> tunnel_through_proxy(client_state& s, request_context& rc,
                                                                    beast::tcp_stream& stream) {
  const std::string target = rc.url.authority();
  http::request<http::empty_body> connect_request{http::verb::connect, target, 11};
  connect_request.set(http::field::host, target);
  connect_request.set(http::field::user_agent, s.options.user_agent);
  connect_request.set(http::field::proxy_connection, "Keep-Alive");
  client_state::interrupter on_shutdown(s, [&stream] { stream.cancel(); });
  auto limit = deadline_for(s.options.timeouts.handshake, rc.deadline);
  stream.expires_after(limit.budget);
  auto [write_ec, written] = co_await http::async_write(stream, connect_request, use_tuple);
  s.check_cancelled(rc.cancellation);
  if (write_ec == beast::error::timeout)
    co_return timeout_failure(rc, phase::proxy, limit, s.options.timeouts.handshake, true);
  if (write_ec)
    co_return network_failure(rc, phase::proxy,
                              fmt::format("sending CONNECT to proxy {} failed: {}", s.proxy->describe(),
                                          write_ec.message()),
                              true);
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(s.options.max_response_header_bytes));
  parser.skip(true);  // a 2xx reply to CONNECT has no body: the tunnel follows
  auto [read_ec, read] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  s.check_cancelled(rc.cancellation);
  if (read_ec == beast::error::timeout)
    co_return timeout_failure(rc, phase::proxy, limit, s.options.timeouts.handshake, true);
  if (read_ec)
    co_return network_failure(rc, phase::proxy,
                              fmt::format("proxy {} did not answer CONNECT {}: {}", s.proxy->describe(), target,
                                          read_ec.message()),
                              true);
  const unsigned status = parser.get().result_int();
  if (status / 100 != 2) {
    auto failure = network_failure(
        rc, phase::proxy,
        fmt::format("proxy {} refused CONNECT {} with status {}{}", s.proxy->describe(), target, status,
                    status == 407 ? " (the proxy wants authentication, which libamc does not send; exempt the host "
                                    "with NO_PROXY or use another proxy)"
                                  : ""),
        true);
    failure.retryable = status == 502 || status == 503 || status == 504;
    co_return failure;
  }
  if (buffer.size() != 0)
    co_return attempt_failure{errc::protocol,
                              fmt::format("proxy {} sent data after its CONNECT reply", s.proxy->describe()),
                              phase::proxy, true, false, false};
  co_return std::nullopt;
}

}  // namespace

void configure_tls_context(client_state& s) {
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
    const trust_locations system = find_system_trust(system_trust_inputs());
    if (!system.found)
      throw amc::error(errc::config,
                       fmt::format("found no trusted CA certificates of this system (looked at {}); install the "
                                   "ca-certificates package, or set SSL_CERT_FILE or tls.ca_file to a PEM bundle",
                                   fmt::join(system.tried, ", ")));
    if (system.file.empty() && system.directory.empty())
      s.tls_context.set_default_verify_paths(ec);
    if (!ec && !system.file.empty())
      s.tls_context.load_verify_file(system.file, ec);
    if (!ec && !system.directory.empty())
      s.tls_context.add_verify_path(system.directory, ec);
    if (ec)
      throw amc::error(errc::config,
                       fmt::format("cannot load the system's trusted CAs: {} (set tls.ca_file)", ec.message()));
  }
  s.tls_context.set_verify_mode(s.options.tls.verify_peer ? ssl::verify_peer : ssl::verify_none);
}

// Opens a connection: resolve, connect, CONNECT through the proxy, TLS.
asio::awaitable<std::variant<connection_ptr, attempt_failure>> open_connection(client_state& s,
                                                                               request_context& rc) {
  const auto& url = rc.url;
  const std::string connect_host = rc.via_proxy ? s.proxy->host : url.host;
  const std::uint16_t connect_port = rc.via_proxy ? s.proxy->port : url.port;
  const std::string endpoint_text =
      rc.via_proxy ? fmt::format("proxy {}", s.proxy->describe()) : url.authority();

  auto limit = deadline_for(s.options.timeouts.resolve, rc.deadline);
  bool resolve_timed_out = false;
  auto [resolve_ec, endpoints] = co_await resolve(s, connect_host, connect_port, limit.budget, resolve_timed_out);
  s.check_cancelled(rc.cancellation);
  if (resolve_timed_out) co_return timeout_failure(rc, phase::resolve, limit, s.options.timeouts.resolve, true);
  if (resolve_ec)
    co_return network_failure(
        rc, phase::resolve,
        fmt::format("could not resolve {}: {} (check the host name and DNS)", connect_host, resolve_ec.message()),
        true);

  auto conn = std::make_unique<connection>();
  // Room for a whole typical response, so each is read with one recv
  // (Beast reads at most the free capacity, and at least 512 bytes).
  conn->buffer.reserve(connection::read_buffer_bytes);
  beast::tcp_stream stream(s.strand);
  limit = deadline_for(s.options.timeouts.connect, rc.deadline);
  stream.expires_after(limit.budget);
  {
    client_state::interrupter on_shutdown(s, [&stream] { stream.cancel(); });
    auto [ec, endpoint] = co_await stream.async_connect(endpoints, use_tuple);
    s.check_cancelled(rc.cancellation);
    if (ec == beast::error::timeout)
      co_return timeout_failure(rc, phase::connect, limit, s.options.timeouts.connect, true);
    if (ec)
      co_return network_failure(rc, phase::connect,
                                fmt::format("could not connect to {}: {} (is the server reachable?)",
                                            endpoint_text, ec.message()),
                                true);
  }
  s.metrics.connections_opened++;
  // Requests and responses are small and latency-bound: no Nagle delay.
  error_code no_delay_ec;
  stream.socket().set_option(tcp::no_delay(true), no_delay_ec);

  if (rc.via_proxy) {
    std::optional<attempt_failure> tunnel_failure = co_await tunnel_through_proxy(s, rc, stream);
    if (tunnel_failure) co_return std::move(*tunnel_failure);
  }

  if (!url.is_tls()) {
    conn->plain = std::make_unique<beast::tcp_stream>(std::move(stream));
    s.metrics.connections_open++;
    co_return std::move(conn);
  }

  conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(stream), s.tls_context);
  SSL* ssl_handle = conn->tls->native_handle();
  // SNI carries DNS names only (RFC 6066); IP literals are still verified
  // against the certificate's IP addresses below.
  if (!is_ip_literal(url.host) && !set_server_name_indication(ssl_handle, url.host))
    co_return attempt_failure{errc::tls, fmt::format("could not set TLS SNI for {}", url.host), phase::handshake,
                              true, false, false};
  if (s.options.tls.verify_peer) {
    // Let OpenSSL check the name during chain verification, so that a
    // mismatch is reported as such (X509_V_ERR_HOSTNAME_MISMATCH) rather
    // than as a bare "verify failed"; host_name_verification is the same
    // check done again by Asio, kept as a second line of defence.
    X509_VERIFY_PARAM* params = SSL_get0_param(ssl_handle);
    if (is_ip_literal(url.host)) X509_VERIFY_PARAM_set1_ip_asc(params, url.host.c_str());
    else SSL_set1_host(ssl_handle, url.host.c_str());
    conn->tls->set_verify_callback(ssl::host_name_verification(url.host));
  }
  limit = deadline_for(s.options.timeouts.handshake, rc.deadline);
  beast::get_lowest_layer(*conn->tls).expires_after(limit.budget);
  client_state::interrupter on_shutdown(s, [raw = conn.get()] { raw->lowest().cancel(); });
  auto [ec] = co_await conn->tls->async_handshake(ssl::stream_base::client, use_tuple);
  s.check_cancelled(rc.cancellation);
  if (ec) {
    if (ec == beast::error::timeout)
      co_return timeout_failure(rc, phase::handshake, limit, s.options.timeouts.handshake, true);
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
  s.metrics.connections_open++;
  co_return std::move(conn);
}

}  // namespace amc::net::detail
