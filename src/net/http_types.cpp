#include "net/http_types.hpp"

#include <boost/beast/core/string.hpp>

namespace amc::net {

std::optional<std::string_view> response::header(std::string_view name) const {
  for (const auto& field : headers)
    if (boost::beast::iequals(field.name, name)) return std::string_view(field.value);
  return std::nullopt;
}

}  // namespace amc::net
