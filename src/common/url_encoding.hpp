// Percent-encoding for query strings and application/x-www-form-urlencoded
// bodies (RFC 3986 unreserved characters are kept, everything else is %XX),
// and its decoding.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace amc {

std::string percent_encode(std::string_view text);
// Appends percent_encode(text) to `out` (no temporary string: for paths
// built per request, like the poller's status reads).
void append_percent_encoded(std::string& out, std::string_view text);

// "a=1&b=x%20y" from name/value pairs, in order.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

// One name or value of a query string or form body decoded: %XX (two hex
// digits) becomes that byte and '+' a space; a '%' not followed by two hex
// digits is kept as it is.
std::string form_decode(std::string_view text);

}  // namespace amc
