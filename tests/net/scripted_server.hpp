// A scripted HTTP/1.1 server (plain or TLS) and a CONNECT proxy on
// 127.0.0.1, for the HTTP client's integration tests. Each runs its own
// io_context on its own thread. Every request the server reads is answered
// by the next step of its script (status, headers, body, delays, or a
// misbehaviour) and recorded with the time it arrived, so tests assert on
// what the server saw rather than on wall-clock time in the client.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace amc::net::testing {

using namespace std::chrono_literals;

struct script_step {
  enum class action {
    respond,
    close_before_headers,  // read the request, then close without a word
    reset,                 // read the request, then abort the connection (RST)
    close_after_headers,   // send the headers (with Content-Length), then close
    truncated_body,        // send the headers and half the body, then close
    close_after_response,  // answer with keep-alive, then close silently
    reset_after_parts,     // send raw_parts (as below), then abort the connection (RST)
    endless_body,          // headers (chunked), then 16 KiB chunks until the client goes away,
                           // delay_before_body before each
  };

  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body = "ok";
  action what = action::respond;
  std::chrono::milliseconds delay_before_headers{0};
  std::chrono::milliseconds delay_before_body{0};
  bool connection_close = false;  // "Connection: close" and close after the response
  bool chunked = false;           // Transfer-Encoding: chunked instead of Content-Length
  // When not empty: the response is these bytes as they are, instead of
  // one made from the fields above, written part by part with
  // delay_before_body before every part but the first.
  std::vector<std::string> raw_parts;

  static script_step ok(std::string body = "ok") {
    script_step step;
    step.body = std::move(body);
    return step;
  }
  static script_step status_only(unsigned status, std::vector<std::pair<std::string, std::string>> headers = {}) {
    script_step step;
    step.status = status;
    step.headers = std::move(headers);
    step.body = "status " + std::to_string(status);
    return step;
  }
  static script_step misbehave(action what) {
    script_step step;
    step.what = what;
    step.body = std::string(1000, 'b');
    return step;
  }
};

struct received_request {
  std::size_t connection = 0;  // 0-based index of the connection it came on
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::steady_clock::time_point received_at;

  std::optional<std::string> header(const std::string& name) const;
};

struct server_options {
  // Set for HTTPS: the server's certificate chain and key.
  std::optional<std::pair<std::string, std::string>> tls_certificate_and_key;
  // Accept connections but never read from them or answer (for the
  // handshake and write deadlines).
  bool silent = false;
  // With TLS: speak only TLS 1.0 and 1.1, with RSA key exchange at OpenSSL
  // security level 0, as an outdated server would (needs an RSA leaf).
  bool legacy_tls_only = false;
  // When set: SO_RCVBUF of the accepted connections (a small receive
  // window), in bytes.
  int receive_buffer_bytes = 0;
};

class scripted_server {
 public:
  explicit scripted_server(std::vector<script_step> script, server_options options = {});
  ~scripted_server();
  scripted_server(const scripted_server&) = delete;
  scripted_server& operator=(const scripted_server&) = delete;

  std::uint16_t port() const;
  std::vector<received_request> requests() const;
  std::size_t connections_accepted() const;
  std::size_t connections_closed() const;
  // Most connections open at the same time.
  std::size_t peak_open_connections() const;
  // With TLS: the SNI host name of every ClientHello, in order ("" for a
  // ClientHello without one).
  std::vector<std::string> server_names() const;
  // Blocks (up to `limit`) until `count` requests arrived / connections closed.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds limit = 10s) const;
  bool wait_for_closed_connections(std::size_t count, std::chrono::milliseconds limit = 10s) const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// An HTTP proxy that only does CONNECT: it records each CONNECT target and
// tunnels bytes both ways, or refuses with `refuse_status` when set.
class connect_proxy {
 public:
  explicit connect_proxy(unsigned refuse_status = 0);
  ~connect_proxy();
  connect_proxy(const connect_proxy&) = delete;
  connect_proxy& operator=(const connect_proxy&) = delete;

  std::uint16_t port() const;
  std::vector<std::string> connect_targets() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// A loopback port nothing listens on (a server's, closed again): a
// connection to it is refused.
std::uint16_t closed_port();

}  // namespace amc::net::testing
