#include "crypto/base64url.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace amc::crypto
