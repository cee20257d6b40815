#include "net/url.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace amc::net {

namespace {

std::string lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](char c) { return ascii_lower(c); });
  return result;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

struct host_and_port {
  std::string host;
  std::optional<std::uint16_t> port;
  bool valid = false;
};

// "host", "host:port", "[v6]", "[v6]:port".
host_and_port split_authority(std::string_view authority) {
  host_and_port result;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return result;
    result.host = std::string(authority.substr(1, close - 1));
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return result;
      port_text = rest.substr(1);
      if (port_text.empty()) return result;
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      result.host = std::string(authority.substr(0, colon));
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return result;
    } else {
      result.host = std::string(authority);
    }
  }
  if (!port_text.empty()) {
    result.port = parse_port(port_text);
    if (!result.port) return result;
  }
  result.host = lower(result.host);
  result.valid = !result.host.empty();
  return result;
}

}  // namespace

std::string url_parts::host_text() const {
  if (host.find(':') == std::string::npos) return host;
  std::string text;
  text.reserve(host.size() + 2);
  return text.append("[").append(host).append("]");
}

std::string url_parts::authority() const {
  // Built by appending: it is made for every request (pool and limiter keys).
  char digits[8];
  const auto end = std::to_chars(digits, digits + sizeof digits, port).ptr;
  std::string text = host_text();
  text += ':';
  text.append(digits, end);
  return text;
}

std::string url_parts::origin() const {
  std::string text;
  text.reserve(scheme.size() + host.size() + 11);
  return text.append(scheme).append("://").append(authority());
}

std::string url_parts::describe() const {
  auto query = target.find('?');
  return origin().append(query == std::string::npos ? std::string_view(target)
                                                   : std::string_view(target).substr(0, query));
}

bool is_ip_literal(std::string_view host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(host), ec);
  return !ec;
}

url_parts parse_url(std::string_view url) {
  auto invalid = [&](std::string_view why) {
    // The URL itself is left out: it may carry a query the caller did not
    // mean to log.
    return amc::error(errc::invalid_argument, fmt::format("invalid request URL: {}", why));
  };
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) throw invalid("it must start with http:// or https://");
  url_parts parts;
  parts.scheme = lower(url.substr(0, scheme_end));
  if (parts.scheme != "http" && parts.scheme != "https")
    throw invalid(fmt::format("scheme {} is not supported (use http:// or https://)",
                              quoted_text(cut_text(parts.scheme, 32))));
  auto rest = url.substr(scheme_end + 3);
  auto path_start = rest.find_first_of("/?#");
  auto authority = rest.substr(0, path_start);
  if (authority.find('@') != std::string_view::npos)
    throw invalid("user information (user:password@) is not supported in URLs; send credentials in headers");
  auto split = split_authority(authority);
  if (!split.valid) throw invalid("the host or port is missing or malformed");
  parts.host = split.host;
  parts.port = split.port.value_or(parts.is_tls() ? 443 : 80);
  std::string_view target = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  if (auto fragment = target.find('#'); fragment != std::string_view::npos) target = target.substr(0, fragment);
  // Built by appending: GCC 12 at -O3 misreads "/" + std::string as an
  // overflowing memcpy (-Wstringop-overflow, PR 105329).
  if (target.empty() || target.front() != '/') parts.target = '/';
  parts.target.append(target);
  for (char c : parts.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw invalid("the path or query contains spaces or control characters (percent-encode them)");
  return parts;
}

std::string proxy_endpoint::describe() const {
  if (host.find(':') != std::string::npos) return fmt::format("http://[{}]:{}", host, port);
  return fmt::format("http://{}:{}", host, port);
}

std::optional<proxy_endpoint> parse_proxy(std::string_view text) {
  while (!text.empty() && is_ascii_space(text.back())) text.remove_suffix(1);
  while (!text.empty() && is_ascii_space(text.front())) text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  auto invalid = [](std::string_view why) {
    return amc::error(errc::config, fmt::format("invalid HTTPS proxy setting: {}", why));
  };
  std::string_view rest = text;
  if (auto scheme_end = text.find("://"); scheme_end != std::string_view::npos) {
    auto scheme = lower(text.substr(0, scheme_end));
    if (scheme != "http")
      throw invalid(fmt::format("scheme {} is not supported; give an http:// proxy (CONNECT is used for https)",
                                quoted_text(cut_text(scheme, 32))));
    rest = text.substr(scheme_end + 3);
  }
  rest = rest.substr(0, rest.find('/'));
  if (rest.find('@') != std::string_view::npos)
    throw invalid("proxy user names and passwords are not supported (use a proxy that does not need them)");
  auto split = split_authority(rest);
  if (!split.valid) throw invalid("the proxy host or port is missing or malformed (expected http://host:port)");
  return proxy_endpoint{split.host, split.port.value_or(80)};
}

bool proxy_bypassed(std::string_view no_proxy, std::string_view host_in, std::uint16_t port) {
  std::string host = lower(host_in);
  std::size_t position = 0;
  while (position < no_proxy.size()) {
    auto end = no_proxy.find_first_of(", \t", position);
    if (end == std::string_view::npos) end = no_proxy.size();
    std::string_view entry = no_proxy.substr(position, end - position);
    position = end + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;
    if (entry.starts_with("*.")) entry.remove_prefix(2);
    else if (entry.starts_with(".")) entry.remove_prefix(1);
    std::optional<std::uint16_t> entry_port;
    auto split = split_authority(entry);
    std::string entry_host;
    if (split.valid && split.port && !is_ip_literal(entry)) {
      entry_host = split.host;
      entry_port = split.port;
    } else {
      entry_host = lower(entry);
      if (entry_host.size() > 2 && entry_host.front() == '[' && entry_host.back() == ']')
        entry_host = entry_host.substr(1, entry_host.size() - 2);
    }
    if (entry_host.empty()) continue;
    if (entry_port && *entry_port != port) continue;
    if (host == entry_host) return true;
    if (!is_ip_literal(host) && host.size() > entry_host.size() && host.ends_with(entry_host) &&
        host[host.size() - entry_host.size() - 1] == '.')
      return true;
  }
  return false;
}

proxy_options proxy_from_environment(proxy_options options,
                                     const std::function<const char*(const char*)>& getenv) {
  if (!options.from_environment) return options;
  auto first_set = [&](const char* upper_name, const char* lower_name) -> std::string {
    for (const char* name : {upper_name, lower_name})
      if (const char* value = getenv(name); value && *value) return value;
    return {};
  };
  if (options.https_proxy.empty()) options.https_proxy = first_set("HTTPS_PROXY", "https_proxy");
  if (options.no_proxy.empty()) options.no_proxy = first_set("NO_PROXY", "no_proxy");
  return options;
}

}  // namespace amc::net
