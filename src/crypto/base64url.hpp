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

// The bytes Python's base64.urlsafe_b64decode(text) gives, nothing where it
// raises binascii.Error — the decoding cryptography.fernet.Fernet applies to
// its key, so that every key Python accepts gives the same 32 bytes here.
// Python's rule (CPython 3.11 binascii.a2b_base64, non-strict): '-' and '_'
// count as '+' and '/' (so both alphabets work, even mixed); any other byte
// outside the standard alphabet and '=' is skipped (spaces, newlines,
// non-ASCII); '=' ends the data once it completes a group of four (data
// after that is ignored) and is skipped elsewhere; left-over bits of the last
// symbol are dropped. It fails when the symbols are one more than a multiple
// of four, or two or three more without the padding that completes them.
// The text is bytes, as Airflow passes its fernet_key
// (Fernet(part.encode("utf-8"))).
std::optional<std::string> python_urlsafe_b64decode(std::string_view text);

}  // namespace amc::crypto
