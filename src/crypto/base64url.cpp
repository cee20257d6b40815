#include "crypto/base64url.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>

namespace amc::crypto {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::string_view standard_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_decode_table(std::string_view symbols) {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (std::size_t i = 0; i < symbols.size(); ++i)
    table[static_cast<unsigned char>(symbols[i])] = static_cast<std::int8_t>(i);
  return table;
}

constexpr auto decode_table = make_decode_table(alphabet);
constexpr auto standard_decode_table = make_decode_table(standard_alphabet);

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                                (static_cast<std::uint8_t>(bytes[i + 1]) << 8) |
                                static_cast<std::uint8_t>(bytes[i + 2]);
    out += alphabet[(group >> 18) & 63];
    out += alphabet[(group >> 12) & 63];
    out += alphabet[(group >> 6) & 63];
    out += alphabet[group & 63];
  }
  const std::size_t left = bytes.size() - i;
  if (left == 1) {
    const std::uint32_t group = static_cast<std::uint8_t>(bytes[i]) << 16;
    out += alphabet[(group >> 18) & 63];
    out += alphabet[(group >> 12) & 63];
    out += "==";
  } else if (left == 2) {
    const std::uint32_t group = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                                (static_cast<std::uint8_t>(bytes[i + 1]) << 8);
    out += alphabet[(group >> 18) & 63];
    out += alphabet[(group >> 12) & 63];
    out += alphabet[(group >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last_group = i + 4 == text.size();
    const std::size_t symbols = last_group ? 4 - padding : 4;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      std::uint32_t value = 0;
      if (j < symbols) {
        const auto decoded = decode_table[static_cast<unsigned char>(text[i + j])];
        if (decoded < 0) return std::nullopt;
        value = static_cast<std::uint32_t>(decoded);
      }
      group = (group << 6) | value;
    }
    out += static_cast<char>((group >> 16) & 0xff);
    if (symbols >= 3) out += static_cast<char>((group >> 8) & 0xff);
    if (symbols == 4) out += static_cast<char>(group & 0xff);
    // Canonical form: the bits below the last whole byte must be zero.
    if (symbols == 2 && (group & 0xffff) != 0) return std::nullopt;
    if (symbols == 3 && (group & 0xff) != 0) return std::nullopt;
  }
  return out;
}


std::optional<std::string> python_urlsafe_b64decode(std::string_view text) {
  // Python's scan picks the symbols; OpenSSL decodes them.
  std::string symbols;
  symbols.reserve(text.size() + 3);
  std::size_t pads = 0;
  bool padding_ended_the_data = false;
  for (const char c : text) {
    if (c == '=') {
      const std::size_t in_group = symbols.size() % 4;
      if (in_group >= 2 && in_group + ++pads >= 4) {
        padding_ended_the_data = true;
        break;
      }
      continue;
    }
    const char symbol = c == '-' ? '+' : c == '_' ? '/' : c;
    if (standard_decode_table[static_cast<unsigned char>(symbol)] < 0) continue;
    pads = 0;
    symbols += symbol;
  }
  const std::size_t left = symbols.size() % 4;
  if (left == 1 || (left != 0 && !padding_ended_the_data) ||
      symbols.size() + 3 > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    OPENSSL_cleanse(symbols.data(), symbols.size());
    return std::nullopt;
  }
  if (left != 0) symbols.append(4 - left, '=');

  std::string out(symbols.size() / 4 * 3, '\0');
  const std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> context(
      EVP_ENCODE_CTX_new(), &EVP_ENCODE_CTX_free);
  int written = 0;
  int final_written = 0;
  bool decoded = false;
  if (context) {
    EVP_DecodeInit(context.get());
    auto* out_bytes = reinterpret_cast<unsigned char*>(out.data());
    decoded = EVP_DecodeUpdate(context.get(), out_bytes, &written,
                               reinterpret_cast<const unsigned char*>(symbols.data()),
                               static_cast<int>(symbols.size())) >= 0 &&
              EVP_DecodeFinal(context.get(), out_bytes + written, &final_written) == 1;
  }
  // The text may be a key: leave no copy of it behind.
  OPENSSL_cleanse(symbols.data(), symbols.size());
  if (!decoded) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(written + final_written));
  return out;
}

}  // namespace amc::crypto
