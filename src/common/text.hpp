// Outside text in what libamc emits: every message and JSON document the
// library produces is valid UTF-8, whatever bytes a host, a server or a
// file handed it. Outside text in a message is quoted whole, code point by
// code point, through quoted_text(); bytes that are not UTF-8 are shown as
// escapes and reported as such.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace amc {

// Where the first byte that is not part of well-formed UTF-8 is (RFC 3629:
// no overlong forms, no surrogates, nothing past U+10FFFF); nullopt when
// all of `text` is UTF-8.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

// `text` in single quotes for a message, always valid UTF-8 and on one
// line: printable ASCII as is ('\' and '\'' escaped with '\'), control
// characters as \n, \t, \r, \xNN, C1 controls as \u0085, other code points
// as themselves, followed by their code points so that look-alikes and
// invisible ones can be told apart, and bytes that are not UTF-8 as \xNN,
// followed by where the first one is:
//   quoted_text("wf_é")      -> 'wf_é' (U+00E9)
//   quoted_text("wf_\xC3")   -> 'wf_\xC3' (not valid UTF-8 at byte 3)
std::string quoted_text(std::string_view text);

// The character of `text` that starts at byte `at`: its whole UTF-8
// sequence, or the one byte when none starts there (to quote what a rule
// refused, never half a character).
std::string character_at(std::string_view text, std::size_t at);

// `text` with every byte that is not UTF-8 replaced by U+FFFD: for data
// (a CSV column name) that must go into a JSON document.
std::string to_valid_utf8(std::string_view text);

// `text` with every byte that is not UTF-8 written as \xNN: the last
// guard on a message (log line, last error) built from outside text.
std::string escape_invalid_utf8(std::string_view text);

// `text` cut to at most `max_bytes` without splitting a code point; "…"
// added when something was cut.
std::string cut_text(std::string_view text, std::size_t max_bytes);

// Throws invalid_argument "the {what} is not valid UTF-8 at byte N" when
// `text` is not UTF-8.
void require_utf8(std::string_view text, std::string_view what);

// ASCII character classes, the same in every process. The <cctype>
// functions follow the C locale a host may have set with setlocale(): in a
// single-byte locale such as de_DE.ISO-8859-1, std::isalnum is true for
// bytes above 0x7F, which must never pass as URL-safe or as id text.
// Looked up in a table: ids and URLs mix digits and letters at random,
// and a chain of comparisons mispredicts a branch on about every other
// character.
namespace detail {
enum : unsigned char { ascii_digit_bit = 1, ascii_alpha_bit = 2, ascii_hex_bit = 4, url_unreserved_bit = 8 };
inline constexpr std::array<unsigned char, 256> ascii_classes = [] {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    const bool unreserved = digit || alpha || c == '-' || c == '.' || c == '_' || c == '~';
    table[static_cast<std::size_t>(c)] = static_cast<unsigned char>((digit ? ascii_digit_bit : 0) |
                                                                    (alpha ? ascii_alpha_bit : 0) |
                                                                    (hex ? ascii_hex_bit : 0) |
                                                                    (unreserved ? url_unreserved_bit : 0));
  }
  return table;
}();
constexpr bool ascii_class(char c, unsigned char bits) {
  return (ascii_classes[static_cast<unsigned char>(c)] & bits) != 0;
}
}  // namespace detail
constexpr bool is_ascii_digit(char c) { return detail::ascii_class(c, detail::ascii_digit_bit); }
constexpr bool is_ascii_alpha(char c) { return detail::ascii_class(c, detail::ascii_alpha_bit); }
constexpr bool is_ascii_alnum(char c) { return detail::ascii_class(c, detail::ascii_digit_bit | detail::ascii_alpha_bit); }
constexpr bool is_ascii_hex_digit(char c) { return detail::ascii_class(c, detail::ascii_hex_bit); }
// The value of a hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other
// character.
constexpr int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// RFC 3986's unreserved characters: ASCII letters and digits, - . _ ~
constexpr bool is_url_unreserved(char c) { return detail::ascii_class(c, detail::url_unreserved_bit); }
// ' ', \t, \n, \v, \f, \r: what std::isspace matches in the "C" locale.
constexpr bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace amc
