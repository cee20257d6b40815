#include "net/exchange.hpp"

#include "net/client_state.hpp"
#include "net/connect.hpp"
#include "net/retry_after.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace amc::net::detail {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

attempt_failure body_too_large(const client_state& s, const request_context& rc, phase where) {
  return {errc::protocol,
          fmt::format("{} {}: the response body exceeds max_response_body_bytes ({} bytes); raise the limit if "
                      "such responses are expected",
                      rc.method_name(), rc.url.describe(), s.options.max_response_body_bytes),
          where, false, false, false};
}

template <class Fields>
response response_head(const http::response_header<Fields>& message) {
  response reply;
  reply.status = message.result_int();
  reply.headers.reserve(static_cast<std::size_t>(std::distance(message.begin(), message.end())));
  for (const auto& field : message)
    reply.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  // Read once, here, for every layer above.
  if (auto value = reply.header("Retry-After"))
    reply.retry_after = parse_retry_after(*value, std::chrono::system_clock::now());
  return reply;
}

attempt_failure body_failure(const client_state& s, const request_context& rc, const error_code& ec,
                             const phase_deadline& limit, unsigned status) {
  if (ec == beast::error::timeout)
    return timeout_failure(rc, phase::read_body, limit, s.options.timeouts.read_body, false);
  if (ec == http::error::body_limit) return body_too_large(s, rc, phase::read_body);
  if (is_connection_lost(ec) || ec == http::error::partial_message)
    return network_failure(rc, phase::read_body,
                           fmt::format("the connection was lost before the whole response body arrived "
                                       "(status {}): {}",
                                       status, ec.message()),
                           false);
  return {errc::protocol,
          fmt::format("{} {}: the response body is malformed: {}", rc.method_name(), rc.url.describe(),
                      ec.message()),
          phase::read_body, false, false, false};
}

// A download's 200: the body goes to the destination file in chunks, so
// memory stays bounded. timeouts.read_body bounds each wait for data
// rather than the whole transfer, which may rightly take longer; the
// overall deadline still bounds everything.
template <class Stream>
asio::awaitable<attempt_result> read_body_into_file(client_state& s, request_context& rc, connection& conn,
                                                    Stream& stream,
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
    const auto limit = deadline_for(s.options.timeouts.read_body, rc.deadline);
    lowest.expires_after(limit.budget);
    auto [ec, read] = co_await http::async_read(stream, conn.buffer, parser, use_tuple);
    s.check_cancelled(rc.cancellation);
    if (ec == http::error::need_buffer) ec = {};  // the chunk is full: write it out, read on
    if (ec) co_return attempt_result{{}, body_failure(s, rc, ec, limit, 200)};
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
  s.metrics.responses++;
  co_return attempt_result{std::move(reply), {}, keep_alive};
}

// Why reading the response headers failed, for the attempt's caller.
attempt_failure header_failure(const client_state& s, const request_context& rc, const error_code& ec,
                               const phase_deadline& limit, bool nothing_received, bool reused) {
  if (ec == beast::error::timeout)
    return timeout_failure(rc, phase::read_headers, limit, s.options.timeouts.read_headers, false);
  if (ec == http::error::header_limit)
    return attempt_failure{errc::protocol,
                           fmt::format("{} {}: the response headers exceed max_response_header_bytes ({} bytes)",
                                       rc.method_name(), rc.url.describe(), s.options.max_response_header_bytes),
                           phase::read_headers, false, false, false};
  // A Content-Length over the limit is refused before any body is read.
  if (ec == http::error::body_limit) return body_too_large(s, rc, phase::read_headers);
  if (is_connection_lost(ec)) {
    auto failure = network_failure(
        rc, phase::read_headers,
        nothing_received ? std::string("the server closed the connection without answering")
                         : fmt::format("the connection was lost in the middle of the response headers: {}",
                                       ec.message()),
        false);
    failure.stale_reuse = reused && nothing_received;
    return failure;
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category())
    return attempt_failure{errc::protocol,
                           fmt::format("{} {}: the server's response is not valid HTTP/1.1 ({})", rc.method_name(),
                                       rc.url.describe(), ec.message()),
                           phase::read_headers, false, false, false};
  return network_failure(rc, phase::read_headers, fmt::format("reading the response failed: {}", ec.message()),
                         false);
}

// Writes as much of the request as the socket takes at once, without
// waiting: on a kept-alive connection that is all of it, and the
// asynchronous write (an operation, its timer and a completion, and over
// TLS three more layers of composed operations) is not needed. Returns the
// bytes written, and the error when the socket refused for a reason other
// than "would block" (a reset, a keep-alive timeout): that is the attempt's
// failure, reported as such rather than as whatever a second write meets.
struct written_at_once {
  std::size_t bytes = 0;
  error_code error;
};

// Over TLS, requests up to this size are encrypted into one record and
// written at once (a status read's GET is under 1 KiB); larger ones, an
// upload's body, take the asynchronous write with its deadline.
constexpr std::size_t tls_write_at_once_max = 8 * 1024;

template <class Stream>
written_at_once write_without_waiting(Stream& stream, std::string_view wire, bool tls_at_once) {
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    (void)tls_at_once;
    const ssize_t sent = ::send(stream.socket().native_handle(), wire.data(), wire.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return {static_cast<std::size_t>(sent), {}};
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {};
    return {0, error_code(errno, boost::system::system_category())};
  } else {
    // The TLS stream's own synchronous write on a socket in non-blocking
    // mode: OpenSSL encrypts the request into one record and the record
    // goes to the socket at once, or the write fails; it never waits. When
    // the socket cannot take all of it (its send buffer is full or small,
    // or the server is not reading), the write fails with would_block and
    // the connection, its record already out of OpenSSL's hands and
    // perhaps partly sent, is closed; the retry loop sends the request
    // again at once with the asynchronous write (write_at_once_refused).
    // The server can act on a record only once all of it has arrived, so a
    // failed write here sent nothing the server could have acted on.
    if (!tls_at_once || wire.size() > tls_write_at_once_max) return {};
    auto& socket = beast::get_lowest_layer(stream).socket();
    error_code ec;
    if (!socket.non_blocking()) socket.non_blocking(true, ec);
    if (ec) return {};
    const std::size_t written = stream.write_some(asio::buffer(wire), ec);
    if (ec) return {0, ec};
    return {written, {}};
  }
}

attempt_failure write_failure(const client_state& s, const request_context& rc, const error_code& ec,
                              const phase_deadline& limit, bool nothing_sent, bool reused) {
  if (ec == beast::error::timeout) return timeout_failure(rc, phase::write, limit, s.options.timeouts.write, nothing_sent);
  auto failure = network_failure(
      rc, phase::write,
      ec == asio::error::would_block
          ? std::string("sending the request failed: the connection's send buffer could not take it at once "
                        "(the server may not be reading); the connection is closed")
          : fmt::format("sending the request failed: {}", ec.message()),
      nothing_sent);
  failure.stale_reuse = reused && is_connection_lost(ec);
  return failure;
}

// A whole string reply, read: the attempt's result, and the connection's
// timer disarmed.
attempt_result string_reply(client_state& s, beast::tcp_stream& lowest,
                            http::response_parser<http::string_body>& parser) {
  lowest.expires_never();
  auto& message = parser.get();
  response reply = response_head(message);
  const bool keep_alive = message.keep_alive();
  reply.body = std::move(message.body());
  s.metrics.responses++;
  return attempt_result{std::move(reply), {}, keep_alive};
}

template <class Stream>
asio::awaitable<attempt_result> exchange(client_state& s, request_context& rc, connection& conn, Stream& stream,
                                         bool reused) {
  auto& lowest = conn.lowest();
  client_state::interrupter on_shutdown(s, [&lowest] { lowest.cancel(); });

  s.metrics.attempts++;
  const std::string_view wire = rc.wire;
  const auto at_once = write_without_waiting(stream, wire, rc.write_at_once);
  // The write's deadline matters only when the socket refused the request
  // or did not take all of it: one clock read less for the usual request.
  if (at_once.error) {
    const auto write_limit = deadline_for(s.options.timeouts.write, rc.deadline);
    auto failure = write_failure(s, rc, at_once.error, write_limit, true, reused);
    failure.write_at_once_refused = at_once.error == asio::error::would_block;
    co_return attempt_result{{}, std::move(failure)};
  }
  if (at_once.bytes < wire.size()) {
    const auto write_limit = deadline_for(s.options.timeouts.write, rc.deadline);
    lowest.expires_after(write_limit.budget);
    auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(wire.substr(at_once.bytes)), use_tuple);
    s.check_cancelled(rc.cancellation);
    if (write_ec)
      co_return attempt_result{{}, write_failure(s, rc, write_ec, write_limit, at_once.bytes + written == 0, reused)};
  }

  const std::size_t buffered_before = conn.buffer.size();
  auto limit = deadline_for(s.options.timeouts.read_headers, rc.deadline);
  lowest.expires_after(limit.budget);
  if (rc.download) {
    // The headers are read with an empty body type, then the parser is
    // converted to what the status asks for: a 200 is written to the file
    // chunk by chunk, anything else is read as a (size-limited) string.
    http::response_parser<http::empty_body> header_parser;
    header_parser.header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(s.options.max_response_header_bytes, UINT32_MAX)));
    header_parser.body_limit(boost::none);  // checked below once the status is known
    if (rc.req.method == http::verb::head) header_parser.skip(true);
    auto [header_ec, header_bytes] = co_await http::async_read_header(stream, conn.buffer, header_parser, use_tuple);
    s.check_cancelled(rc.cancellation);
    if (header_ec) {
      const bool nothing_received = header_bytes == 0 && buffered_before == 0 && conn.buffer.size() == 0;
      co_return attempt_result{{}, header_failure(s, rc, header_ec, limit, nothing_received, reused)};
    }
    const unsigned status = header_parser.get().result_int();
    if (status == 200) {
      attempt_result streamed = co_await read_body_into_file(s, rc, conn, stream, header_parser);
      co_return streamed;
    }
    // (A reply that has no body, HEAD's or a 204/304, is done already: its
    // Content-Length describes a body that never comes.)
    if (!header_parser.is_done() && header_parser.content_length() &&
        *header_parser.content_length() > s.options.max_response_body_bytes)
      co_return attempt_result{{}, body_too_large(s, rc, phase::read_headers)};
    http::response_parser<http::string_body> parser{std::move(header_parser)};
    parser.body_limit(s.options.max_response_body_bytes);
    limit = deadline_for(s.options.timeouts.read_body, rc.deadline);
    lowest.expires_after(limit.budget);
    auto [body_ec, body_bytes] = co_await http::async_read(stream, conn.buffer, parser, use_tuple);
    s.check_cancelled(rc.cancellation);
    if (body_ec) co_return attempt_result{{}, body_failure(s, rc, body_ec, limit, status)};
    co_return string_reply(s, lowest, parser);
  }

  // Anything else is read as a size-limited string, under the read_headers
  // deadline until the headers are in, then under read_body. The headers
  // are read by a parser that stops after them; whatever of the body came
  // with them is parsed at once from the buffer, so a reply that arrives
  // whole (the usual case) takes one read in all. Only a body still missing
  // after that is waited for, under its own deadline.
  http::response_parser<http::string_body> parser;
  parser.header_limit(
      static_cast<std::uint32_t>(std::min<std::size_t>(s.options.max_response_header_bytes, UINT32_MAX)));
  parser.body_limit(s.options.max_response_body_bytes);
  if (rc.req.method == http::verb::head) parser.skip(true);
  std::size_t received = 0;
  while (!parser.is_header_done()) {
    auto [header_ec, header_bytes] = co_await http::async_read_some(stream, conn.buffer, parser, use_tuple);
    s.check_cancelled(rc.cancellation);
    received += header_bytes;
    if (!header_ec) continue;
    // Content-Length over the limit ends up here too (body_limit, with the
    // headers just done): refused before any body is read.
    const bool nothing_received = received == 0 && buffered_before == 0 && conn.buffer.size() == 0;
    co_return attempt_result{{}, header_failure(s, rc, header_ec, limit, nothing_received, reused)};
  }
  if (!parser.is_done() && conn.buffer.size() > 0) {
    parser.eager(true);
    error_code body_ec;
    conn.buffer.consume(parser.put(conn.buffer.data(), body_ec));
    if (body_ec && body_ec != http::error::need_more) {
      limit = deadline_for(s.options.timeouts.read_body, rc.deadline);
      co_return attempt_result{{}, body_failure(s, rc, body_ec, limit, parser.get().result_int())};
    }
  }
  if (!parser.is_done()) {
    limit = deadline_for(s.options.timeouts.read_body, rc.deadline);
    lowest.expires_after(limit.budget);
    auto [body_ec, body_bytes] = co_await http::async_read(stream, conn.buffer, parser, use_tuple);
    s.check_cancelled(rc.cancellation);
    if (body_ec) co_return attempt_result{{}, body_failure(s, rc, body_ec, limit, parser.get().result_int())};
  }
  co_return string_reply(s, lowest, parser);
}

}  // namespace

void build_request_message(const client_state& s, request_context& rc) {
  const request& req = rc.req;
  // The caller's own fields, checked (errc::invalid_argument) and rendered;
  // the shared block was checked when it was built.
  const header_block own(req.headers);
  const header_block* const common = req.common_headers.get();
  const bool own_host = own.sets_host() || (common != nullptr && common->sets_host());
  const bool own_user_agent = own.sets_user_agent() || (common != nullptr && common->sets_user_agent());
  // The request line, Host, Content-Length and the separators take less
  // than 128 bytes besides the strings counted here.
  const std::size_t size = 128 + rc.url.target.size() + rc.url.host.size() + s.options.user_agent.size() +
                           (common != nullptr ? common->wire().size() : 0) + own.wire().size() + req.body.size();
  // The request line, Host and User-Agent (unless the caller gives its
  // own), the caller's headers in their order (the shared block first),
  // Content-Length when there is a body or the method is POST, PUT or
  // OPTIONS (Beast's prepare_payload() rule), the body: for every request
  // libamc makes, the bytes Beast's serializer wrote for a
  // request<string_body>. Two differences, on purpose: a caller's
  // Content-Length or Transfer-Encoding is dropped (the client frames the
  // request; a stale one would make the server wait for a body that never
  // comes), and repeated names stay in the caller's order (Beast grouped
  // them; HTTP treats both alike).
  std::string& wire = rc.wire;
  wire.clear();
  wire.reserve(size);
  auto add = [&wire](std::string_view name, std::string_view value) {
    wire.append(name).append(": ").append(value).append("\r\n");
  };
  wire.append(rc.method_name()).append(" ").append(rc.url.target).append(" HTTP/1.1\r\n");
  if (!own_host) {
    const bool default_port = rc.url.port == (rc.url.is_tls() ? 443 : 80);
    add("Host", default_port ? rc.url.host_text() : rc.url.authority());
  }
  if (!own_user_agent) add("User-Agent", s.options.user_agent);
  if (common != nullptr) wire.append(common->wire());
  wire.append(own.wire());
  const bool method_has_body =
      req.method == http::verb::post || req.method == http::verb::put || req.method == http::verb::options;
  if (!req.body.empty() || method_has_body) add("Content-Length", std::to_string(req.body.size()));
  wire.append("\r\n").append(req.body);
}

asio::awaitable<attempt_result> attempt_once(client_state& s, request_context& rc) {
  // Usually a connection is idle: no coroutine for the pool then.
  std::optional<connection_ptr> ready = s.pool.try_acquire(rc.pool_key, rc.resendable);
  connection_ptr conn;
  if (ready) conn = std::move(*ready);
  else conn = co_await s.pool.wait_for_connection(rc.pool_key, rc.deadline, rc.cancellation);
  const bool reused = conn != nullptr;
  if (!conn) {
    std::optional<attempt_failure> open_failure;
    try {
      std::variant<connection_ptr, attempt_failure> opened = co_await open_connection(s, rc);
      if (auto* failure = std::get_if<attempt_failure>(&opened)) open_failure = std::move(*failure);
      else conn = std::move(std::get<connection_ptr>(opened));
    } catch (...) {
      s.pool.release(rc.pool_key, nullptr, false);
      throw;
    }
    if (open_failure) {
      s.pool.release(rc.pool_key, nullptr, false);
      co_return attempt_result{{}, std::move(*open_failure)};
    }
  }

  std::optional<attempt_result> exchanged;
  try {
    if (conn->tls) {
      attempt_result outcome = co_await exchange(s, rc, *conn, *conn->tls, reused);
      exchanged.emplace(std::move(outcome));
    } else {
      attempt_result outcome = co_await exchange(s, rc, *conn, *conn->plain, reused);
      exchanged.emplace(std::move(outcome));
    }
  } catch (...) {
    s.pool.release(rc.pool_key, std::move(conn), false);
    throw;
  }
  attempt_result result = std::move(*exchanged);
  const bool reusable = result.reply && result.keep_alive && conn->buffer.size() == 0;
  if (result.failure && result.failure->stale_reuse) {
    // The server dropped its idle keep-alive connections; the others of
    // this pool are most likely gone as well.
    s.metrics.stale_connections++;
    s.pool.close_idle(rc.pool_key);
  }
  s.pool.release(rc.pool_key, std::move(conn), reusable);
  co_return result;
}

}  // namespace amc::net::detail
