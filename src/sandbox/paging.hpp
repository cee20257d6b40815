// Paging of the list calls: `limit` and an opaque `nextToken`, which
// inside is an offset into the list.
#pragma once

#include "sandbox/service_detail.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace amc::sandbox::detail {

inline constexpr std::size_t page_limit = 100;

std::string encode_page_token(std::size_t offset);
std::optional<std::size_t> decode_page_token(std::string_view token);

// limit and nextToken of a list call; an error text when they are bad.
struct page_request {
  std::size_t offset = 0;
  std::size_t limit = page_limit;
  std::string error;
};
page_request read_page(const parameters& params, std::size_t maximum);

}  // namespace amc::sandbox::detail
