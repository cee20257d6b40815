#include "common/text.hpp"

#include "common/error.hpp"

#include <fmt/format.h>

#include <vector>

namespace amc {
namespace {

// The length of the well-formed UTF-8 sequence at `at` and its code point,
// or 0 when the byte there does not start one (RFC 3629, table 3-7 of the
// Unicode standard).
std::size_t sequence_at(std::string_view text, std::size_t at, char32_t& code_point) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  }
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // past U+10FFFF
  } else {
    return 0;  // a continuation byte, C0/C1 (overlong) or F5-FF
  }
  if (at + length > text.size()) return 0;
  char32_t value = lead & (0xFF >> (length + 1));
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(at + i);
    const unsigned char min = i == 1 ? low : 0x80;
    const unsigned char max = i == 1 ? high : 0xBF;
    if (next < min || next > max) return 0;
    value = (value << 6) | (next & 0x3F);
  }
  code_point = value;
  return length;
}

}  // namespace

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  char32_t code_point = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto length = sequence_at(text, at, code_point);
    if (length == 0) return at;
    at += length;
  }
  return std::nullopt;
}

std::string quoted_text(std::string_view text) {
  std::string out = "'";
  std::vector<char32_t> listed;
  bool more_listed = false;
  std::optional<std::size_t> first_invalid;
  char32_t code_point = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto length = sequence_at(text, at, code_point);
    if (length == 0) {
      if (!first_invalid) first_invalid = at;
      out += fmt::format("\\x{:02X}", static_cast<unsigned char>(text[at]));
      ++at;
      continue;
    }
    if (code_point == '\\' || code_point == '\'') {
      out += '\\';
      out += static_cast<char>(code_point);
    } else if (code_point == '\n') {
      out += "\\n";
    } else if (code_point == '\t') {
      out += "\\t";
    } else if (code_point == '\r') {
      out += "\\r";
    } else if (code_point < 0x20 || code_point == 0x7F) {
      out += fmt::format("\\x{:02X}", static_cast<unsigned>(code_point));
    } else if (code_point >= 0x80 && code_point < 0xA0) {
      out += fmt::format("\\u{:04X}", static_cast<unsigned>(code_point));
    } else {
      out.append(text.substr(at, length));
      if (code_point >= 0x80) {
        bool seen = false;
        for (const auto earlier : listed) seen = seen || earlier == code_point;
        if (!seen) {
          if (listed.size() < 8) listed.push_back(code_point);
          else more_listed = true;
        }
      }
    }
    at += length;
  }
  out += '\'';
  if (!listed.empty()) {
    out += " (";
    for (std::size_t i = 0; i < listed.size(); ++i)
      out += fmt::format("{}U+{:04X}", i == 0 ? "" : " ", static_cast<unsigned>(listed[i]));
    if (more_listed) out += " …";
    out += ')';
  }
  if (first_invalid) out += fmt::format(" (not valid UTF-8 at byte {})", *first_invalid);
  return out;
}

std::string character_at(std::string_view text, std::size_t at) {
  if (at >= text.size()) return {};
  // A byte inside a sequence belongs to the character that starts before it.
  std::size_t start = at;
  while (start > 0 && at - start < 3 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  char32_t code_point = 0;
  const auto length = sequence_at(text, start, code_point);
  if (length > 0 && start + length > at) return std::string{text.substr(start, length)};
  return std::string{text.substr(at, 1)};
}

namespace {

// `text` with each byte that is not UTF-8 replaced by what `replace` makes
// of it.
template <class Replace>
std::string replace_invalid_utf8(std::string_view text, Replace replace) {
  if (!first_invalid_utf8(text)) return std::string{text};
  std::string out;
  char32_t code_point = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto length = sequence_at(text, at, code_point);
    if (length == 0) {
      out += replace(static_cast<unsigned char>(text[at]));
      ++at;
    } else {
      out.append(text.substr(at, length));
      at += length;
    }
  }
  return out;
}

}  // namespace

std::string to_valid_utf8(std::string_view text) {
  return replace_invalid_utf8(text, [](unsigned char) { return std::string("\xEF\xBF\xBD"); });
}

std::string escape_invalid_utf8(std::string_view text) {
  return replace_invalid_utf8(text, [](unsigned char byte) { return fmt::format("\\x{:02X}", byte); });
}

std::string cut_text(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string{text};
  std::size_t end = max_bytes;
  // Back to the start of the code point that would be split.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string{text.substr(0, end)} + "…";
}

void require_utf8(std::string_view text, std::string_view what) {
  if (const auto at = first_invalid_utf8(text))
    throw error(errc::invalid_argument,
                fmt::format("the {} is not valid UTF-8 at byte {}: pass UTF-8 text", what, *at));
}

}  // namespace amc
