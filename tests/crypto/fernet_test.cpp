#include "crypto/fernet.hpp"

#include "common/error.hpp"
#include "common/time.hpp"
#include "crypto/base64url.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>

namespace amc::crypto {
namespace {

using amc::testing::generate_fernet_key;

std::uint64_t timestamp_of(const std::string& token) {
  const auto bytes = base64url_decode(token).value();
  std::uint64_t timestamp = 0;
  for (int i = 1; i <= 8; ++i) timestamp = (timestamp << 8) | static_cast<std::uint8_t>(bytes[i]);
  return timestamp;
}

TEST(Fernet, RoundTripsAndStampsTheCurrentTime) {
  const auto key = fernet_key::from_text(generate_fernet_key());
  const auto before = static_cast<std::uint64_t>(now_unix_seconds());
  const auto token = key.encrypt("Atzr|refresh");
  EXPECT_GE(timestamp_of(token), before);
  const auto outcome = key.decrypt(token);
  ASSERT_TRUE(outcome.token);
  EXPECT_EQ(outcome.token->plaintext, "Atzr|refresh");
}

TEST(Fernet, EmptyAndBlockSizedPlaintexts) {
  const auto key = fernet_key::from_text(generate_fernet_key());
  for (const std::string& text : {std::string{}, std::string(16, 'a'), std::string(2048, 'z')}) {
    const auto outcome = key.decrypt(key.encrypt(text));
    ASSERT_TRUE(outcome.token);
    EXPECT_EQ(outcome.token->plaintext, text);
  }
}

TEST(Fernet, EveryTokenUsesAFreshIv) {
  const auto key = fernet_key::from_text(generate_fernet_key());
  EXPECT_NE(key.encrypt("same"), key.encrypt("same"));
}

TEST(Fernet, WrongKeyIsABadSignature) {
  const auto key = fernet_key::from_text(generate_fernet_key());
  const auto other = fernet_key::from_text(generate_fernet_key());
  EXPECT_EQ(other.decrypt(key.encrypt("secret")).problem, token_problem::bad_signature);
}

TEST(Fernet, TamperedTokenIsRefused) {
  const auto key = fernet_key::from_text(generate_fernet_key());
  auto bytes = base64url_decode(key.encrypt("secret")).value();
  bytes[30] = static_cast<char>(bytes[30] ^ 1);
  EXPECT_EQ(key.decrypt(base64url_encode(bytes)).problem, token_problem::bad_signature);
}

TEST(Fernet, TtlAndClockSkewRules) {
  const auto key = fernet_key::from_text(generate_fernet_key());
  const std::array<std::uint8_t, 16> iv{};
  const auto token = key.encrypt("x", 1000, iv);
  EXPECT_TRUE(key.decrypt(token, 60, 1060).token);                                   // at the TTL
  EXPECT_EQ(key.decrypt(token, 60, 1061).problem, token_problem::expired);           // past it
  EXPECT_TRUE(key.decrypt(token, std::nullopt, 100000).token);                        // no TTL
  EXPECT_TRUE(key.decrypt(token, 60, 940).token);                                     // 60 s skew
  EXPECT_EQ(key.decrypt(token, 60, 939).problem, token_problem::from_the_future);    // beyond
  // Without a TTL Python's cryptography checks neither age nor skew; nor do we.
  EXPECT_TRUE(key.decrypt(token, std::nullopt, 939).token);
}

TEST(Fernet, MalformedKeysAreConfigErrorsThatNeverQuoteTheKey) {
  const std::string almost_a_key = generate_fernet_key().substr(0, 40) + "AA==";
  // Each of these Python's Fernet refuses too (31 bytes; 33 bytes; no padding).
  const std::string too_long = generate_fernet_key().substr(0, 43) + "AAAA";
  const std::string unpadded = generate_fernet_key().substr(0, 43);
  for (const std::string& text : {std::string{"short"}, almost_a_key, too_long, unpadded}) {
    try {
      fernet_key::from_text(text, 2);
      FAIL() << "accepted a malformed key";
    } catch (const error& problem) {
      EXPECT_EQ(problem.code_value(), errc::config);
      EXPECT_NE(problem.message().find("#2"), std::string::npos);
      EXPECT_EQ(problem.message().find(text), std::string::npos);
    }
  }
}

TEST(MultiFernet, EncryptsWithTheFirstKeyAndDecryptsWithAny) {
  const auto new_key = generate_fernet_key();
  const auto old_key = generate_fernet_key();
  const auto old_only = multi_fernet::from_key_list(old_key);
  const auto both = multi_fernet::from_key_list(new_key + "," + old_key);
  const auto new_only = multi_fernet::from_key_list(new_key);

  const auto old_token = old_only.encrypt("old secret");
  EXPECT_EQ(both.decrypt(old_token).token->plaintext, "old secret");
  const auto new_token = both.encrypt("new secret");
  EXPECT_EQ(new_only.decrypt(new_token).token->plaintext, "new secret");
  EXPECT_FALSE(old_only.decrypt(new_token).token);
}

TEST(MultiFernet, RotateKeepsTheOriginalTimestampAndMovesToThePrimaryKey) {
  const auto new_key = generate_fernet_key();
  const auto old_key = generate_fernet_key();
  const std::array<std::uint8_t, 16> iv{};
  const auto old_token = fernet_key::from_text(old_key).encrypt("secret", 1234567, iv);
  const auto both = multi_fernet::from_key_list(new_key + "," + old_key);
  const auto rotated = both.rotate(old_token);
  ASSERT_TRUE(rotated);
  EXPECT_EQ(timestamp_of(*rotated), 1234567u);
  const auto outcome = multi_fernet::from_key_list(new_key).decrypt_at_rest(*rotated);
  ASSERT_TRUE(outcome.token);
  EXPECT_EQ(outcome.token->plaintext, "secret");
}

TEST(MultiFernet, RotateRefusesTokensNoKeyDecrypts) {
  const auto stranger = multi_fernet::from_key_list(generate_fernet_key());
  const auto keys = multi_fernet::from_key_list(generate_fernet_key());
  token_problem problem{};
  EXPECT_FALSE(keys.rotate(stranger.encrypt("x"), &problem));
  EXPECT_EQ(problem, token_problem::bad_signature);
}

TEST(MultiFernet, AtRestIgnoresAgeAndClockSkewButNotTheKey) {
  const auto key_text = generate_fernet_key();
  const std::array<std::uint8_t, 16> iv{};
  const auto far_future = fernet_key::from_text(key_text).encrypt(
      "x", static_cast<std::uint64_t>(now_unix_seconds() + 86400), iv);
  const auto keys = multi_fernet::from_key_list(key_text);
  EXPECT_EQ(keys.decrypt(far_future, 3600, now_unix_seconds()).problem, token_problem::from_the_future);
  EXPECT_TRUE(keys.decrypt(far_future).token);  // no TTL: no time checks
  EXPECT_TRUE(keys.decrypt_at_rest(far_future).token);
}

TEST(MultiFernet, KeyListParsingLikeAirflow) {
  const auto a = generate_fernet_key();
  const auto b = generate_fernet_key();
  EXPECT_EQ(multi_fernet::from_key_list(a + "," + b).key_count(), 2u);
  EXPECT_EQ(multi_fernet::from_key_list(" " + a + " , " + b + "\n").key_count(), 2u);
  for (const std::string& bad : {std::string{}, a + ",", "," + a, a + ",,"}) {
    try {
      multi_fernet::from_key_list(bad);
      FAIL() << "accepted an empty key entry";
    } catch (const error& problem) {
      EXPECT_EQ(problem.code_value(), errc::config);
      EXPECT_NE(problem.message().find("empty"), std::string::npos) << problem.message();
      EXPECT_EQ(problem.message().find(a), std::string::npos);
    }
  }
}

// Fixed, non-secret test keys: the 32 bytes fb ff be ... fb ef, whose
// standard base64 holds '+' and '/'. Python's Fernet accepts this key in
// either alphabet, and with the spellings below, as the same key bytes
// (tests/crypto/test_fernet_interop.py checks the same against Python).
TEST(Fernet, KeysInEitherBase64AlphabetAreTheSameKey) {
  const std::string standard = "+/+++/+++/+++/+++/+++/+++/+++/+++/+++/++++8=";
  const std::string url_safe = "-_---_---_---_---_---_---_---_---_---_----8=";
  const std::array<std::uint8_t, 16> iv{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const auto reference = fernet_key::from_text(url_safe).encrypt("same key?", 1000, iv);
  const std::vector<std::string> spellings = {
      standard, "-/+++/+++/+++/+++/+++/+++/+++/+++/+++/++++8=",  // mixed alphabets
      standard.substr(0, 20) + "\n" + standard.substr(20),       // a line break inside
      " " + standard, standard + "=", standard + "x"};           // Python skips these
  for (std::size_t i = 0; i < spellings.size(); ++i)
    EXPECT_EQ(fernet_key::from_text(spellings[i]).encrypt("same key?", 1000, iv), reference)
        << "spelling #" << i;
  EXPECT_EQ(multi_fernet::from_key_list(standard + "," + url_safe).key_count(), 2u);
  const auto other_alphabet = multi_fernet::from_key_list(standard);
  EXPECT_EQ(other_alphabet.decrypt(reference).token->plaintext, "same key?");
}

}  // namespace
}  // namespace amc::crypto
