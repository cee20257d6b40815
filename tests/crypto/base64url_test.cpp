#include "crypto/base64url.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace amc::crypto {
namespace {

TEST(Base64Url, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    const auto encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.size() % 4, 0u);
    EXPECT_EQ(encoded.find_first_of("+/"), std::string::npos);
    const auto decoded = base64url_decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, bytes);
    bytes += static_cast<char>((i * 37) & 0xff);
  }
}

TEST(Base64Url, KnownValues) {
  EXPECT_EQ(base64url_encode("f"), "Zg==");
  EXPECT_EQ(base64url_encode("fo"), "Zm8=");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8=");
  EXPECT_EQ(base64url_decode("-_8=").value(), "\xfb\xff");
}

TEST(Base64Url, RejectsAnythingNotCanonical) {
  EXPECT_FALSE(base64url_decode("Zg"));       // missing padding
  EXPECT_FALSE(base64url_decode("Zg=").has_value());
  EXPECT_FALSE(base64url_decode("+/8="));     // standard alphabet
  EXPECT_FALSE(base64url_decode("Zm9v\n"));   // trailing newline
  EXPECT_FALSE(base64url_decode("Zm=v"));     // padding in the middle
  EXPECT_FALSE(base64url_decode("Zh=="));     // non-zero leftover bits
  EXPECT_FALSE(base64url_decode("Zm9="));     // non-zero leftover bits
  EXPECT_FALSE(base64url_decode("===="));
  EXPECT_FALSE(base64url_decode("Zg==Zg=="));  // data after padding
  EXPECT_TRUE(base64url_decode("").has_value());
}

// Each expected value is what Python 3.11's base64.urlsafe_b64decode gives
// for the same bytes (nothing = it raises binascii.Error); Fernet keys are
// read with it, so libamc must agree case by case.
TEST(PythonUrlsafeB64decode, AgreesWithPythonCaseByCase) {
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"QUJD", "ABC"},
      {"QUJD=", "ABC"},
      {"QU=JD", "ABC"},           // '=' before a group can end is skipped
      {"QUI=", "AB"},
      {"QUI", std::nullopt},      // incorrect padding
      {"QUI==", "AB"},
      {"QUI=x", "AB"},            // data after the padding is ignored
      {"Q=UI=", "AB"},
      {"QU==", "A"},
      {"QU=", std::nullopt},
      {"QU=x=", "AL"},
      {"QUJ=D", "AB"},
      {"Q", std::nullopt},        // one symbol more than a multiple of four
      {"QUJDQ", std::nullopt},
      {"QUJDQ===", std::nullopt},
      {"=QUJD", "ABC"},
      {"QUJ\x80" "D", "ABC"},     // non-ASCII bytes are skipped
      {"QU J D", "ABC"},
      {"QUJ!D", "ABC"},
      {"QR==", "A"},              // left-over bits are dropped
      {"QUJ===", "AB"},
      {"-_8=", "\xfb\xff"},        // url-safe alphabet
      {"+/8=", "\xfb\xff"},        // standard alphabet
      {"-/8=", "\xfb\xff"},        // both at once
      {"", ""},
  };
  for (const auto& [text, expected] : cases) {
    const auto decoded = python_urlsafe_b64decode(text);
    EXPECT_EQ(decoded, expected) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace amc::crypto
