// Fernet (https://github.com/fernet/spec) and MultiFernet, compatible with
// Python's cryptography.fernet: AES-128-CBC with PKCS#7 padding, then
// HMAC-SHA256 over version | timestamp | IV | ciphertext, all url-safe base64.
//
// Keys never leave this component in readable form: error messages name a
// key by its position in the list, never by its text.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amc::crypto {

// Why a token was refused. Fernet callers must not tell an attacker more
// than "invalid token", but our own logs and tests want the reason.
enum class token_problem {
  none,
  malformed,         // not base64, too short, wrong version byte, bad length
  bad_signature,     // HMAC mismatch: wrong key or tampered token
  expired,           // older than the caller's TTL
  from_the_future,   // timestamp more than the clock skew ahead of now
  bad_padding,       // decrypted but the PKCS#7 padding is wrong
};

std::string_view describe(token_problem problem);

// With a TTL, Python's cryptography accepts tokens up to 60 s in the future.
inline constexpr std::int64_t max_clock_skew_seconds = 60;

struct decrypted_token {
  std::string plaintext;
  std::uint64_t timestamp = 0;  // seconds since the epoch, from the token
};

struct decrypt_outcome {
  std::optional<decrypted_token> token;  // set on success
  token_problem problem = token_problem::none;
};

class fernet_key {
 public:
  // From the base64 text of 32 bytes (44 characters; url-safe or standard
  // alphabet), read exactly as Python's cryptography.fernet.Fernet reads it
  // (python_urlsafe_b64decode). Throws amc::error(config) naming `position`
  // (1-based) when Python would refuse it too.
  static fernet_key from_text(std::string_view key_text, std::size_t position = 1);

  std::string encrypt(std::string_view plaintext) const;
  // Deterministic form for tests and for rotation (keeps a timestamp).
  std::string encrypt(std::string_view plaintext, std::uint64_t timestamp,
                      const std::array<std::uint8_t, 16>& iv) const;

  // ttl_seconds: tokens older than this, or more than max_clock_skew_seconds
  // ahead of `now`, are refused; nothing = neither check (as in Python's
  // cryptography, which checks the skew only together with a TTL).
  // now: the verifier's clock in Unix seconds.
  decrypt_outcome decrypt(std::string_view token, std::optional<std::int64_t> ttl_seconds,
                          std::int64_t now) const;
  decrypt_outcome decrypt(std::string_view token) const;

  ~fernet_key();
  fernet_key(const fernet_key&) = default;
  fernet_key& operator=(const fernet_key&) = default;

 private:
  fernet_key() = default;
  std::array<std::uint8_t, 16> signing_key_{};
  std::array<std::uint8_t, 16> encryption_key_{};
};

// Several keys: the first encrypts, any decrypts, in order. Given as
// Airflow's fernet_key setting: "new_key,old_key".
class multi_fernet {
 public:
  // Throws amc::error(config) when the list is empty or a key is malformed.
  static multi_fernet from_key_list(std::string_view comma_separated_keys);
  explicit multi_fernet(std::vector<fernet_key> keys);

  std::string encrypt(std::string_view plaintext) const;
  decrypt_outcome decrypt(std::string_view token, std::optional<std::int64_t> ttl_seconds,
                          std::int64_t now) const;
  decrypt_outcome decrypt(std::string_view token) const;

  // Checks only the key and the integrity, not the age or the clock skew:
  // for data at rest, which must stay readable however old it is and
  // whatever clock wrote it.
  decrypt_outcome decrypt_at_rest(std::string_view token) const;

  // Re-encrypts with the primary key, keeping the original timestamp (like
  // MultiFernet.rotate). Nothing, with the problem, when no key decrypts it.
  std::optional<std::string> rotate(std::string_view token, token_problem* problem = nullptr) const;

  std::size_t key_count() const noexcept { return keys_.size(); }

 private:
  std::vector<fernet_key> keys_;
};

}  // namespace amc::crypto
