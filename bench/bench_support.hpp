// What the benchmark programs share: reading the sandbox's state files and
// making a throwaway Fernet key for their credential store.
#pragma once

#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace amc::bench {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// 32 random bytes in url-safe base64, as Fernet.generate_key() makes one.
inline std::string random_fernet_key() {
  unsigned char key[32];
  RAND_bytes(key, sizeof key);
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  int bits = 0, value = 0;
  for (unsigned char byte : key) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      out += digits[(value >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0) out += digits[(value << (6 - bits)) & 63];
  return out + "=";
}

}  // namespace amc::bench
