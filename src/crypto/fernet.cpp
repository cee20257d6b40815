#include "crypto/fernet.hpp"

#include "common/error.hpp"
#include "common/time.hpp"
#include "crypto/base64url.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>

namespace amc::crypto {
namespace {

constexpr std::uint8_t version_byte = 0x80;
constexpr std::size_t header_size = 1 + 8 + 16;  // version, timestamp, IV
constexpr std::size_t mac_size = 32;
constexpr std::size_t block_size = 16;

struct cipher_context_deleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using cipher_context = std::unique_ptr<EVP_CIPHER_CTX, cipher_context_deleter>;

std::array<std::uint8_t, mac_size> hmac_sha256(const std::array<std::uint8_t, 16>& key,
                                               std::string_view data) {
  std::array<std::uint8_t, mac_size> mac{};
  unsigned int mac_length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
           &mac_length) == nullptr ||
      mac_length != mac_size)
    throw error(errc::crypto, "HMAC-SHA256 failed in OpenSSL");
  return mac;
}

void check(int openssl_result, const char* what) {
  if (openssl_result != 1) throw error(errc::crypto, fmt::format("OpenSSL {} failed", what));
}

}  // namespace

std::string_view describe(token_problem problem) {
  switch (problem) {
    case token_problem::none: return "no problem";
    case token_problem::malformed: return "not a well-formed Fernet token";
    case token_problem::bad_signature: return "signature does not match (wrong key or tampered token)";
    case token_problem::expired: return "token older than its time-to-live";
    case token_problem::from_the_future: return "token timestamp too far in the future";
    case token_problem::bad_padding: return "decrypted data has invalid padding";
  }
  return "unknown problem";
}

fernet_key fernet_key::from_text(std::string_view key_text, std::size_t position) {
  // Read exactly as Python's Fernet reads its key, so that any key Airflow
  // or another Python tool accepts works here too, as the same 32 bytes.
  auto bytes = python_urlsafe_b64decode(key_text);
  if (!bytes || bytes->size() != 32) {
    if (bytes) OPENSSL_cleanse(bytes->data(), bytes->size());
    throw error(errc::config,
                fmt::format("Fernet key #{} is not a valid key: a key is 32 bytes in base64 "
                            "(44 characters ending in '=', url-safe or standard alphabet), as "
                            "made by cryptography.fernet.Fernet.generate_key()",
                            position));
  }
  fernet_key key;
  std::copy_n(bytes->begin(), 16, key.signing_key_.begin());
  std::copy_n(bytes->begin() + 16, 16, key.encryption_key_.begin());
  OPENSSL_cleanse(bytes->data(), bytes->size());
  return key;
}

fernet_key::~fernet_key() {
  OPENSSL_cleanse(signing_key_.data(), signing_key_.size());
  OPENSSL_cleanse(encryption_key_.data(), encryption_key_.size());
}

std::string fernet_key::encrypt(std::string_view plaintext) const {
  std::array<std::uint8_t, 16> iv{};
  if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1)
    throw error(errc::crypto, "the system random generator failed (OpenSSL RAND_bytes)");
  return encrypt(plaintext, static_cast<std::uint64_t>(now_unix_seconds()), iv);
}

std::string fernet_key::encrypt(std::string_view plaintext, std::uint64_t timestamp,
                                const std::array<std::uint8_t, 16>& iv) const {
  std::string token;
  token.reserve(header_size + plaintext.size() + block_size + mac_size);
  token += static_cast<char>(version_byte);
  for (int shift = 56; shift >= 0; shift -= 8)
    token += static_cast<char>((timestamp >> shift) & 0xff);
  token.append(reinterpret_cast<const char*>(iv.data()), iv.size());

  cipher_context context{EVP_CIPHER_CTX_new()};
  if (!context) throw std::bad_alloc();
  check(EVP_EncryptInit_ex(context.get(), EVP_aes_128_cbc(), nullptr, encryption_key_.data(),
                           iv.data()),
        "AES encrypt init");
  std::string ciphertext(plaintext.size() + block_size, '\0');
  int written = 0;
  int final_written = 0;
  check(EVP_EncryptUpdate(context.get(), reinterpret_cast<unsigned char*>(ciphertext.data()),
                          &written, reinterpret_cast<const unsigned char*>(plaintext.data()),
                          static_cast<int>(plaintext.size())),
        "AES encrypt");
  check(EVP_EncryptFinal_ex(context.get(),
                            reinterpret_cast<unsigned char*>(ciphertext.data()) + written,
                            &final_written),
        "AES encrypt final");
  ciphertext.resize(static_cast<std::size_t>(written + final_written));
  token += ciphertext;

  const auto mac = hmac_sha256(signing_key_, token);
  token.append(reinterpret_cast<const char*>(mac.data()), mac.size());
  return base64url_encode(token);
}

decrypt_outcome fernet_key::decrypt(std::string_view token) const {
  return decrypt(token, std::nullopt, now_unix_seconds());
}

decrypt_outcome fernet_key::decrypt(std::string_view token,
                                    std::optional<std::int64_t> ttl_seconds,
                                    std::int64_t now) const {
  const auto data = base64url_decode(token);
  if (!data || data->size() < header_size + mac_size ||
      static_cast<std::uint8_t>((*data)[0]) != version_byte)
    return {std::nullopt, token_problem::malformed};

  std::uint64_t timestamp = 0;
  for (std::size_t i = 1; i <= 8; ++i)
    timestamp = (timestamp << 8) | static_cast<std::uint8_t>((*data)[i]);
  // The same checks in the same order as Python's cryptography: age, skew,
  // then MAC. Like Python, both time checks apply only when a TTL is given,
  // so a token from a host whose clock runs fast decrypts in both or neither.
  const auto signed_timestamp = static_cast<std::int64_t>(timestamp);
  if (ttl_seconds) {
    if (signed_timestamp + *ttl_seconds < now) return {std::nullopt, token_problem::expired};
    if (now + max_clock_skew_seconds < signed_timestamp)
      return {std::nullopt, token_problem::from_the_future};
  }

  const std::string_view signed_part{data->data(), data->size() - mac_size};
  const auto expected_mac = hmac_sha256(signing_key_, signed_part);
  if (CRYPTO_memcmp(expected_mac.data(), data->data() + signed_part.size(), mac_size) != 0)
    return {std::nullopt, token_problem::bad_signature};

  const std::string_view ciphertext = signed_part.substr(header_size);
  if (ciphertext.empty() || ciphertext.size() % block_size != 0)
    return {std::nullopt, token_problem::malformed};
  const auto* iv = reinterpret_cast<const unsigned char*>(data->data() + 9);

  cipher_context context{EVP_CIPHER_CTX_new()};
  if (!context) throw std::bad_alloc();
  check(EVP_DecryptInit_ex(context.get(), EVP_aes_128_cbc(), nullptr, encryption_key_.data(), iv),
        "AES decrypt init");
  decrypted_token result;
  result.timestamp = timestamp;
  result.plaintext.assign(ciphertext.size(), '\0');
  int written = 0;
  int final_written = 0;
  check(EVP_DecryptUpdate(context.get(), reinterpret_cast<unsigned char*>(result.plaintext.data()),
                          &written, reinterpret_cast<const unsigned char*>(ciphertext.data()),
                          static_cast<int>(ciphertext.size())),
        "AES decrypt");
  if (EVP_DecryptFinal_ex(context.get(),
                          reinterpret_cast<unsigned char*>(result.plaintext.data()) + written,
                          &final_written) != 1) {
    OPENSSL_cleanse(result.plaintext.data(), result.plaintext.size());
    return {std::nullopt, token_problem::bad_padding};
  }
  result.plaintext.resize(static_cast<std::size_t>(written + final_written));
  return {std::move(result), token_problem::none};
}

multi_fernet::multi_fernet(std::vector<fernet_key> keys) : keys_(std::move(keys)) {
  if (keys_.empty()) throw error(errc::config, "MultiFernet needs at least one key");
}

multi_fernet multi_fernet::from_key_list(std::string_view comma_separated_keys) {
  std::vector<fernet_key> keys;
  std::size_t position = 0;
  std::string_view rest = comma_separated_keys;
  while (true) {
    const auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t' || item.back() == '\n' ||
                             item.back() == '\r'))
      item.remove_suffix(1);
    ++position;
    if (item.empty())
      throw error(errc::config,
                  fmt::format("Fernet key #{} of the key list is empty: give a comma-separated "
                              "list of keys, the new (primary) key first, with no empty entries",
                              position));
    keys.push_back(fernet_key::from_text(item, position));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return multi_fernet(std::move(keys));
}

std::string multi_fernet::encrypt(std::string_view plaintext) const {
  return keys_.front().encrypt(plaintext);
}

decrypt_outcome multi_fernet::decrypt(std::string_view token) const {
  return decrypt(token, std::nullopt, now_unix_seconds());
}

decrypt_outcome multi_fernet::decrypt(std::string_view token,
                                      std::optional<std::int64_t> ttl_seconds,
                                      std::int64_t now) const {
  decrypt_outcome last;
  for (const auto& key : keys_) {
    last = key.decrypt(token, ttl_seconds, now);
    if (last.token) return last;
  }
  return last;
}

decrypt_outcome multi_fernet::decrypt_at_rest(std::string_view token) const {
  // Without a TTL neither the age nor the skew rule applies (as in Python's
  // MultiFernet.rotate), so the clock value does not matter.
  return decrypt(token, std::nullopt, 0);
}

std::optional<std::string> multi_fernet::rotate(std::string_view token,
                                                token_problem* problem) const {
  const decrypt_outcome outcome = decrypt_at_rest(token);
  if (!outcome.token) {
    if (problem != nullptr) *problem = outcome.problem;
    return std::nullopt;
  }
  std::array<std::uint8_t, 16> iv{};
  if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1)
    throw error(errc::crypto, "the system random generator failed (OpenSSL RAND_bytes)");
  auto rotated = keys_.front().encrypt(outcome.token->plaintext, outcome.token->timestamp, iv);
  if (problem != nullptr) *problem = token_problem::none;
  return rotated;
}

}  // namespace amc::crypto
