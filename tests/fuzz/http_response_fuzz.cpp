// Fuzz target: HTTP/1.1 responses as libamc's transport reads them
// (src/net/exchange.cpp): Beast's response parser with the client's header
// and body limits, the two ways exchange() reads (a whole reply as a
// string; a download's headers first, then a 200's body in 64 KiB pieces),
// bytes arriving in pieces of any size and the connection closing at the
// end; then what every layer above reads from a response: headers by name,
// Retry-After (delta-seconds and HTTP-dates), Content-Encoding, a 3xx's
// Location. Status line, header syntax, chunked framing and sizes are all
// in the fuzzed bytes. A parse error is the transport's refusal, not a
// finding; a crash, a leak or UB is.
#include "net/http_types.hpp"
#include "net/retry_after.hpp"

#include "fuzz_support.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>

namespace {

namespace http = boost::beast::http;
using boost::system::error_code;

// The client's defaults (net::client_options), made smaller so that the
// fuzzer reaches the limits.
constexpr std::size_t max_header_bytes = 4 * 1024;
constexpr std::size_t max_body_bytes = 16 * 1024;

// exchange.cpp's response_head: the fields every layer above reads.
template <class Fields>
amc::net::response response_head(const http::response_header<Fields>& message) {
  amc::net::response reply;
  reply.status = message.result_int();
  for (const auto& field : message) reply.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  if (auto value = reply.header("Retry-After"))
    reply.retry_after = amc::net::parse_retry_after(*value, std::chrono::system_clock::time_point{std::chrono::seconds(1'700'000'000)});
  return reply;
}

void read_as_layers_do(const amc::net::response& reply) {
  if (reply.retry_after && (*reply.retry_after < std::chrono::milliseconds::zero() ||
                            *reply.retry_after > amc::net::max_retry_after))
    amc::fuzz::finding("a Retry-After outside [0, max_retry_after]", "");
  (void)reply.unasked_content_encoding();
  const auto target = reply.redirect_target();
  if (amc::first_invalid_utf8(target)) amc::fuzz::finding("a redirect target that is not UTF-8", target);
  (void)reply.header("Content-Type");
  (void)reply.header("Content-Length");
}

// The bytes of the wire as reads hand them over: `piece` bytes at a time
// into one buffer, as the connection's flat_buffer holds them.
struct wire_reader {
  wire_reader(std::string_view bytes, std::size_t piece_size) : wire(bytes), piece(piece_size) {}
  std::string_view wire;
  std::size_t piece;
  std::size_t offset = 0;
  boost::beast::flat_buffer buffer;

  // Appends the next piece; false at the end of the stream.
  bool read_more() {
    if (offset == wire.size()) return false;
    const auto n = std::min(piece, wire.size() - offset);
    auto space = buffer.prepare(n);
    std::copy_n(wire.data() + offset, n, static_cast<char*>(space.data()));
    buffer.commit(n);
    offset += n;
    return true;
  }
};

// Runs `parser` over the wire until it is done (or only its header is, with
// `headers_only`), as http::async_read / async_read_header do. False on a
// parse error, which the transport turns into a refusal. `on_body_full`
// is called when a buffer_body's buffer is full (need_buffer).
template <class Parser, class OnBodyFull>
bool feed(Parser& parser, wire_reader& in, bool headers_only, OnBodyFull&& on_body_full) {
  while (!(headers_only ? parser.is_header_done() : parser.is_done())) {
    error_code ec;
    if (in.buffer.size() > 0) {
      const auto used = parser.put(in.buffer.data(), ec);
      in.buffer.consume(used);
      if (ec == http::error::need_buffer) {
        on_body_full();
        continue;
      }
      if (ec && ec != http::error::need_more) return false;
      if (!ec && used > 0 && in.buffer.size() > 0) continue;
    }
    if (!in.read_more()) {
      // The connection closed: http::async_read says end_of_stream when
      // nothing of a message came, else lets the parser decide.
      if (!parser.got_some()) return false;
      parser.put_eof(ec);
      return !ec;
    }
  }
  return true;
}

void whole_reply(std::string_view wire, std::size_t piece, bool head) {
  http::response_parser<http::string_body> parser;
  parser.header_limit(max_header_bytes);
  parser.body_limit(max_body_bytes);
  if (head) parser.skip(true);
  wire_reader in(wire, piece);
  if (!feed(parser, in, false, [] {})) return;
  auto reply = response_head(parser.get());
  reply.body = parser.get().body();
  if (reply.body.size() > max_body_bytes) amc::fuzz::finding("a body past the limit", "");
  read_as_layers_do(reply);
}

// exchange.cpp's download: the headers with an empty body type, then a
// 200's body into a buffer a piece at a time (read_body_into_file), any
// other status as a size-limited string.
void download(std::string_view wire, std::size_t piece) {
  wire_reader in(wire, piece);
  http::response_parser<http::empty_body> header_parser;
  header_parser.header_limit(max_header_bytes);
  header_parser.body_limit(boost::none);
  if (!feed(header_parser, in, true, [] {})) return;
  read_as_layers_do(response_head(header_parser.get()));
  if (header_parser.get().result_int() != 200) {
    if (!header_parser.is_done() && header_parser.content_length() &&
        *header_parser.content_length() > max_body_bytes)
      return;  // refused before reading: too large
    http::response_parser<http::string_body> parser{std::move(header_parser)};
    parser.body_limit(max_body_bytes);
    (void)feed(parser, in, false, [] {});
    return;
  }
  http::response_parser<http::buffer_body> parser{std::move(header_parser)};
  parser.body_limit(boost::none);
  std::array<char, 512> chunk{};
  std::size_t written = 0;
  const auto reset_chunk = [&] {
    written += chunk.size() - parser.get().body().size;
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
  };
  parser.get().body().data = chunk.data();
  parser.get().body().size = chunk.size();
  if (!feed(parser, in, false, reset_chunk)) return;
  written += chunk.size() - parser.get().body().size;
  if (written > wire.size()) amc::fuzz::finding("more body bytes than came on the wire", "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = amc::fuzz::split(data, size, 24);
  const std::size_t piece = 1 + input.choice % 8 * 37;  // 1, 38, 75, ... bytes a read
  switch (input.choice / 8) {
    case 0: whole_reply(input.text, piece, false); break;
    case 1: whole_reply(input.text, piece, true); break;
    default: download(input.text, piece); break;
  }
  // Retry-After and HTTP-dates on their own, whatever the bytes.
  const auto line_end = input.text.find('\n');
  const auto value = input.text.substr(0, std::min<std::size_t>(line_end, 256));
  if (const auto wait = amc::net::parse_retry_after(value, std::chrono::system_clock::now()))
    if (*wait < std::chrono::milliseconds::zero() || *wait > amc::net::max_retry_after)
      amc::fuzz::finding("a Retry-After outside [0, max_retry_after]", "");
  (void)amc::net::parse_http_date(value);
  return 0;
}
