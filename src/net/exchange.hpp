// One exchange on one connection: write the request, read the response
// headers, then the body (kept in memory, size-limited) or, for a
// download's 200, streamed to a file. attempt_once() wraps it with getting
// a connection (from the pool or newly opened) and giving it back.
// Internal to src/net; runs on the client's strand.
#pragma once

#include "net/attempt.hpp"

#include <boost/asio/awaitable.hpp>

namespace amc::net::detail {

struct client_state;

// Fills rc.message from rc.req: method, target, Host, User-Agent, the
// caller's headers (checked for line breaks) and the body. Throws
// amc::error (invalid_argument) for a header that cannot be sent.
void build_request_message(const client_state& state, request_context& rc);

// One attempt: a connection, one exchange, the connection given back. A
// response or a failure for the retry loop; throws errc::timeout when the
// pool wait runs out of the deadline, errc::cancelled, and
// errc::invalid_argument when a download's file cannot be written.
boost::asio::awaitable<attempt_result> attempt_once(client_state& state, request_context& rc);

}  // namespace amc::net::detail
