#include "net/http_types.hpp"

#include "common/error.hpp"
#include "common/text.hpp"
#include "net/url.hpp"

#include <boost/beast/core/string.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

namespace amc::net {

namespace {
// Two memchr passes: find_first_of("\r\n") calls memchr once per character.
bool has_line_break(std::string_view text) {
  return text.find('\r') != std::string_view::npos || text.find('\n') != std::string_view::npos;
}
}  // namespace

header_block::header_block(const std::vector<header_field>& fields) {
  using boost::beast::iequals;
  std::size_t size = 0;
  for (const auto& field : fields) {
    if (field.name.empty() || has_line_break(field.name) || has_line_break(field.value))
      // The value is not quoted: it may be a secret.
      throw amc::error(errc::invalid_argument,
                       fmt::format("request header \"{}\" has an empty name or a line break in its name or value",
                                   has_line_break(field.name) ? std::string("(unprintable)") : field.name));
    sets_host_ = sets_host_ || iequals(field.name, "Host");
    sets_user_agent_ = sets_user_agent_ || iequals(field.name, "User-Agent");
    size += field.name.size() + field.value.size() + 4;
  }
  wire_.reserve(size);
  for (const auto& field : fields)
    if (!iequals(field.name, "Content-Length") && !iequals(field.name, "Transfer-Encoding"))
      wire_.append(field.name).append(": ").append(field.value).append("\r\n");
}

header_block::~header_block() { OPENSSL_cleanse(wire_.data(), wire_.size()); }

std::optional<std::string_view> response::header(std::string_view name) const {
  for (const auto& field : headers)
    if (boost::beast::iequals(field.name, name)) return std::string_view(field.value);
  return std::nullopt;
}

std::optional<std::string> response::unasked_content_encoding() const {
  const auto encoding = header("Content-Encoding");
  if (!encoding) return std::nullopt;
  std::string_view value = *encoding;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || boost::beast::iequals(value, "identity")) return std::nullopt;
  return quoted_text(cut_text(value, 64));
}

std::string response::redirect_target() const {
  const auto location = header("Location");
  if (!location || location->empty()) return "without a Location";
  try {
    const auto parts = parse_url(std::string(*location));
    return fmt::format("to host {}", quoted_text(cut_text(parts.host, 255)));
  } catch (const std::exception&) {
    // A relative Location stays on the same host.
    return fmt::format("to {} (on the same host)", quoted_text(cut_text(*location, 120)));
  }
}

}  // namespace amc::net
