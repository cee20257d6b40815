// Opening a connection for one attempt: resolve (with a deadline that
// getaddrinfo() lacks), TCP connect, the proxy's CONNECT tunnel for https
// URLs, and the TLS handshake with SNI and certificate and host-name
// verification. Also the TLS context every connection of a client shares.
// Internal to src/net; runs on the client's strand.
#pragma once

#include "net/attempt.hpp"
#include "net/connection_pool.hpp"

#include <boost/asio/awaitable.hpp>

#include <variant>

namespace amc::net::detail {

struct client_state;

// Sets up state.tls_context from state.options.tls: TLS 1.2 or newer, the
// trusted CAs (ca_file, ca_directory, else the system's), peer
// verification. Throws amc::error (config) when a CA source cannot be read.
void configure_tls_context(client_state& state);

// Resolve, connect, CONNECT through the proxy, TLS: a ready connection, or
// why there is none (a failure of this attempt, for the retry loop).
// Throws only errc::cancelled.
boost::asio::awaitable<std::variant<connection_ptr, attempt_failure>> open_connection(client_state& state,
                                                                                      request_context& rc);

}  // namespace amc::net::detail
