#include "auth/lwa.hpp"

#include "common/error.hpp"

#include "support/test_support.hpp"

#include <gtest/gtest.h>

namespace amc::auth {
namespace {

using amc::testing::error_code_of;
const auto code_of = [](const std::function<void()>& action, std::string* message = nullptr,
                        nlohmann::json* detail = nullptr) { return error_code_of(action, message, detail); };

// The error `action` throws (errc::ok when it throws none).
error error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const error& problem) {
    return problem;
  }
  return error(errc::ok, "");
}

TEST(Lwa, RegionEndpointsFromAmazonsDocs) {
  EXPECT_EQ(default_lwa_endpoints("na").token_url, "https://api.amazon.com/auth/o2/token");
  EXPECT_EQ(default_lwa_endpoints("eu").token_url, "https://api.amazon.co.uk/auth/o2/token");
  EXPECT_EQ(default_lwa_endpoints("fe").token_url, "https://api.amazon.co.jp/auth/o2/token");
  EXPECT_EQ(default_lwa_endpoints("na").consent_url, "https://www.amazon.com/ap/oa");
  EXPECT_EQ(code_of([] { default_lwa_endpoints("us"); }), errc::config);
}

TEST(Lwa, GrantBodiesAreFormEncoded) {
  const lwa_client client{"amzn1.app", "se cret&="};
  EXPECT_EQ(refresh_grant_body(client, "Atzr|a/b"),
            "grant_type=refresh_token&refresh_token=Atzr%7Ca%2Fb&client_id=amzn1.app&"
            "client_secret=se%20cret%26%3D");
  EXPECT_EQ(authorization_code_body(client, "c", "https://x/cb"),
            "grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Fx%2Fcb&client_id="
            "amzn1.app&client_secret=se%20cret%26%3D");
}

TEST(Lwa, ConsentUrlCarriesNoSecret) {
  const lwa_client client{"amzn1.app", "the-secret"};
  const auto url = consent_page_url(default_lwa_endpoints("na"), client, "https://x/cb", "st8",
                                    "advertising::campaign_management");
  EXPECT_EQ(url,
            "https://www.amazon.com/ap/oa?client_id=amzn1.app&scope=advertising%3A%3Acampaign_"
            "management&response_type=code&redirect_uri=https%3A%2F%2Fx%2Fcb&state=st8");
}

TEST(Lwa, SuccessfulReplies) {
  auto grant = interpret_token_reply(
      200, R"({"access_token":"Atza|a","token_type":"bearer","expires_in":3600,"refresh_token":"Atzr|r"})",
      "c", "amzn1.app");
  EXPECT_TRUE(grant.access_token == "Atza|a");
  EXPECT_EQ(grant.expires_in_seconds, 3600);
  EXPECT_TRUE(grant.refresh_token == "Atzr|r");
  grant = interpret_token_reply(200, R"({"access_token":"Atza|a","expires_in":60})", "c", "x");
  EXPECT_FALSE(grant.refresh_token.has_value()) << "a missing refresh_token stays missing";
}

// Issue 12 item 1: expires_in 1000000000000 was stored as the year -31821
// and locked out the whole store. Every expires_in is range-checked.
TEST(Lwa, ExpiresInIsRangeChecked) {
  const auto expires_in = [](const std::string& value) {
    return interpret_token_reply(200, R"({"access_token":"Atza|a","expires_in":)" + value + "}", "c", "x");
  };
  EXPECT_EQ(expires_in("30").expires_in_seconds, 30);
  EXPECT_EQ(expires_in("\"3600\"").expires_in_seconds, 3600);
  EXPECT_EQ(expires_in("86400").expires_in_seconds, 86400);
  EXPECT_FALSE(expires_in("86400").expires_in_clamped_from.has_value());
  for (const std::string too_large : {"86401", "1000000000000", "18446744073709551615",
                                      "1e300", "\"99999999999999999999999\""}) {
    const auto grant = expires_in(too_large);
    EXPECT_EQ(grant.expires_in_seconds, max_access_token_lifetime_seconds) << too_large;
    EXPECT_TRUE(grant.expires_in_clamped_from.has_value()) << too_large;
  }
  for (const std::string refused : {"0", "-5", "-9223372036854775808", "0.2", "null", "true",
                                    "\"\"", "\"1h\"", "\"-1\"", "[]", "{}"}) {
    std::string message;
    EXPECT_EQ(code_of([&] { expires_in(refused); }, &message), errc::protocol) << refused;
    EXPECT_NE(message.find("expires_in"), std::string::npos) << message;
  }
  const auto missing = interpret_token_reply(200, R"({"access_token":"Atza|a"})", "c", "x");
  EXPECT_EQ(missing.expires_in_seconds, default_access_token_lifetime_seconds);
}

TEST(Lwa, EveryFailureHasItsStatus) {
  std::string message;
  nlohmann::json detail;
  EXPECT_EQ(code_of([&] {
              interpret_token_reply(400, R"({"error":"invalid_grant","error_description":"revoked"})",
                                    "conn_7", "amzn1.app");
            },
                    &message, &detail),
            errc::auth_required);
  EXPECT_NE(message.find("'conn_7'"), std::string::npos);
  EXPECT_NE(message.find("Re-authenticate"), std::string::npos);
  EXPECT_TRUE(is_invalid_grant(error_of([] {
    interpret_token_reply(400, R"({"error":"invalid_grant","error_description":"revoked"})", "conn_7", "amzn1.app");
  })));
  EXPECT_EQ(detail["lwa_error"], "invalid_grant") << "LwA's own word stays in the JSON";

  EXPECT_EQ(code_of([&] {
              interpret_token_reply(401, R"({"error":"invalid_client"})", "c", "amzn1.app");
            },
                    &message, &detail),
            errc::config);
  EXPECT_NE(message.find("amzn1.app"), std::string::npos);
  EXPECT_FALSE(is_invalid_grant(
      error_of([] { interpret_token_reply(401, R"({"error":"invalid_client"})", "c", "amzn1.app"); })));

  EXPECT_EQ(code_of([] { interpret_token_reply(400, R"({"error":"invalid_request"})", "c", "x"); }),
            errc::protocol);
  EXPECT_EQ(code_of([] { interpret_token_reply(400, R"({"error":"unsupported_grant_type"})", "c", "x"); }),
            errc::protocol);
  EXPECT_EQ(code_of([] { interpret_token_reply(429, "{}", "c", "x"); }), errc::throttled);
  EXPECT_EQ(code_of([] { interpret_token_reply(503, "<html>", "c", "x"); }), errc::remote);
  EXPECT_EQ(code_of([] { interpret_token_reply(200, "{\"token_type\":\"bearer\"}", "c", "x"); }),
            errc::protocol);
  EXPECT_EQ(code_of([] { interpret_token_reply(200, "not json", "c", "x"); }), errc::protocol);
}

}  // namespace
}  // namespace amc::auth
