// Strict URL-safe base64 (RFC 4648 §5) with padding, as Fernet keys and tokens
// use it. Strict: only the url-safe alphabet, length a multiple of four,
// padding only at the end, and no non-zero bits left over in the last symbol,
// so every byte string has exactly one accepted encoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace amc::crypto {

std::string base64url_encode(std::string_view bytes);

// Nothing when `text` is not canonical padded url-safe base64.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace amc::crypto
