// URL pieces the HTTP client needs (scheme, host, port, request target) and
// the HTTPS_PROXY / NO_PROXY rules. Pure functions, so they are unit-tested
// without sockets.
#pragma once

#include "net/http_types.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace amc::net {

struct url_parts {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string target;  // path and query, at least "/"

  bool is_tls() const { return scheme == "https"; }
  // The host as it is written in a URL or a Host header: "[::1]" for an
  // IPv6 literal, the name or IPv4 address as it is otherwise.
  std::string host_text() const;
  // "host:port" as the Host header and CONNECT want it (brackets for IPv6).
  std::string authority() const;
  // "scheme://host:port": the pool's and the rate limiter's key for a host.
  std::string origin() const;
  // "https://host:port/path" without the query, for messages and logs:
  // queries may carry identifiers callers did not mean to log.
  std::string describe() const;
};

// Parses an absolute http:// or https:// URL. User information
// ("user:pass@") is rejected rather than sent. Throws amc::error
// (invalid_argument) saying what is wrong.
url_parts parse_url(std::string_view url);

// True when `host` is an IPv4 or IPv6 literal (no SNI is sent for those:
// RFC 6066 allows only DNS names in server_name).
bool is_ip_literal(std::string_view host);

struct proxy_endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string describe() const;  // "http://host:port"
};

// Parses "http://host[:port]" (port 80 by default; "host:port" without a
// scheme is accepted as curl does). Empty text = no proxy. Throws
// amc::error (config) for https:// proxies, user information or bad ports.
std::optional<proxy_endpoint> parse_proxy(std::string_view text);

// NO_PROXY rules as curl and Python's requests read them: a comma or space
// separated list; "*" matches every host; an entry matches the host itself
// and its subdomains (a leading "." or "*." is ignored); "host:port" only
// that port. Case-insensitive; IP literals match exactly (no CIDR).
bool proxy_bypassed(std::string_view no_proxy, std::string_view host, std::uint16_t port);

// Fills empty https_proxy / no_proxy from HTTPS_PROXY/https_proxy and
// NO_PROXY/no_proxy when from_environment is set. `getenv` is injectable
// for tests.
proxy_options proxy_from_environment(proxy_options options,
                                     const std::function<const char*(const char*)>& getenv);

}  // namespace amc::net
