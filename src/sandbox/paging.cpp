// Page tokens of the list calls.
#include "sandbox/paging.hpp"

#include <fmt/format.h>

#include <charconv>
#include <iterator>

namespace amc::sandbox::detail {

// Page tokens are opaque to clients; inside they are an offset, written in
// hex so that they need no escaping in a query string.
std::string encode_page_token(std::size_t offset) {
  std::string plain = fmt::format("offset:{}", offset);
  std::string out;
  for (unsigned char c : plain) fmt::format_to(std::back_inserter(out), "{:02x}", c);
  return out;
}

std::optional<std::size_t> decode_page_token(std::string_view token) {
  if (token.size() % 2 != 0) return std::nullopt;
  std::string plain;
  for (std::size_t i = 0; i < token.size(); i += 2) {
    unsigned value = 0;
    auto [end, error] = std::from_chars(token.data() + i, token.data() + i + 2, value, 16);
    if (error != std::errc() || end != token.data() + i + 2) return std::nullopt;
    plain += static_cast<char>(value);
  }
  if (!plain.starts_with("offset:")) return std::nullopt;
  std::size_t offset = 0;
  auto [end, error] = std::from_chars(plain.data() + 7, plain.data() + plain.size(), offset);
  if (error != std::errc() || end != plain.data() + plain.size()) return std::nullopt;
  return offset;
}

page_request read_page(const parameters& params, std::size_t maximum) {
  page_request page;
  page.limit = maximum;
  if (const std::string* limit = find_parameter(params, "limit")) {
    long value = 0;
    auto [end, error] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
    if (error != std::errc() || end != limit->data() + limit->size() || value < 1 ||
        value > static_cast<long>(maximum)) {
      page.error = fmt::format("limit must be a whole number from 1 to {}.", maximum);
      return page;
    }
    page.limit = static_cast<std::size_t>(value);
  }
  if (const std::string* token = find_parameter(params, "nextToken"); token && !token->empty()) {
    auto offset = decode_page_token(*token);
    if (!offset) {
      page.error = "nextToken is not valid.";
      return page;
    }
    page.offset = *offset;
  }
  return page;
}

}  // namespace amc::sandbox::detail
