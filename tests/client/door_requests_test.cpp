// The requests of the other doors (client/requests.hpp): authentication and
// watches follow the same decoding rules as the AMC operations, from the
// same code: one default timeout, one instance check, one execution-name
// rule, messages that name the field.
#include "client/requests.hpp"

#include "support/test_support.hpp"

#include <gtest/gtest.h>

namespace amc::client {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json instance() {
  return {{"instance_id", "amcinstance01"}, {"advertiser_id", "ENTITYAAAAAAAAAAAAA1"}, {"marketplace_id", "ATVPDKIKX0DER"}};
}

std::string watch_text(json extra) {
  json body = {{"credential_id", "conn"}, {"instance", instance()}};
  body.update(extra);
  return body.dump();
}

TEST(DoorRequests, AuthCallsDefaultToTheOneCallTimeout) {
  const auto exchange = decode_code_exchange_request(R"({"credential_id": "conn", "code": "c", "redirect_uri": "u"})");
  EXPECT_EQ(exchange.timeout, api::default_call_timeout);
  EXPECT_EQ(exchange.credential_id, "conn");
  EXPECT_EQ(decode_token_refresh_request("conn", nullptr).timeout, api::default_call_timeout);
  EXPECT_EQ(decode_token_refresh_request("conn", R"({"timeout_ms": 900})").timeout, 900ms);
  std::string message;
  EXPECT_EQ(testing::error_code_of([] { decode_token_refresh_request("conn", R"({"timeout_ms": 0})"); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("'timeout_ms'"), std::string::npos) << message;
  EXPECT_EQ(testing::error_code_of([] { decode_token_refresh_request("", nullptr); }), errc::invalid_argument);
}

TEST(DoorRequests, ConsentAndImportKeepTheirRules) {
  const auto consent = decode_consent_request(R"({"redirect_uri": "https://example.com/cb"})");
  EXPECT_EQ(consent.scope, "advertising::campaign_management");
  EXPECT_EQ(consent.state, "");
  std::string message;
  EXPECT_EQ(testing::error_code_of([] { decode_consent_request(R"({"state": "s"})"); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("redirect_uri"), std::string::npos) << message;
  EXPECT_EQ(testing::error_code_of([] { decode_consent_request(R"({"redirect_uri": "u", "scop": "x"})"); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("'scop'"), std::string::npos) << message;

  const auto import = decode_credential_import_request(R"({"credential_id": "conn", "refresh_token": "Atzr|x"})");
  EXPECT_EQ(import.refresh_token, "Atzr|x");
  EXPECT_EQ(testing::error_code_of([] { decode_credential_import_request(R"({"credential_id": "conn"})"); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("refresh_token"), std::string::npos) << message;
  EXPECT_EQ(testing::error_code_of(
                [] { decode_credential_import_request(R"({"credential_id": "conn", "refresh_token": ["Atzr|secret"]})"); },
                &message),
            errc::invalid_argument);
  EXPECT_EQ(message.find("Atzr|secret"), std::string::npos) << "a refresh token is never quoted: " << message;
}

TEST(DoorRequests, AWatchUsesTheInstanceAndExecutionRulesOfEveryRequest) {
  const auto watch = decode_watch_request(watch_text({{"amc_execution_id", "e1"}, {"create_time", "2026-01-01T00:00:00Z"}}).c_str());
  EXPECT_TRUE(watch.context.instance_checked);
  EXPECT_EQ(watch.context.credential_id, "conn");
  EXPECT_EQ(watch.amc_execution_id, "e1");
  EXPECT_EQ(watch.create_time, "2026-01-01T00:00:00Z");
  EXPECT_EQ(decode_watch_request(watch_text({{"execution_id", "exec_1"}}).c_str()).execution_id, "exec_1");

  std::string message;
  // A numeric Ads profile id: the same message as any instance-level request.
  auto profile = instance();
  profile["advertiser_id"] = "3387473927261";
  EXPECT_EQ(testing::error_code_of(
                [&] { decode_watch_request(watch_text({{"instance", profile}, {"amc_execution_id", "e1"}}).c_str()); },
                &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("profile id"), std::string::npos) << message;
  // Exactly one execution name.
  EXPECT_EQ(testing::error_code_of([] { decode_watch_request(watch_text(json::object()).c_str()); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("'execution_id'"), std::string::npos) << message;
  EXPECT_EQ(testing::error_code_of(
                [] { decode_watch_request(watch_text({{"amc_execution_id", "e1"}, {"execution_id", "x"}}).c_str()); }),
            errc::invalid_argument);
  // An AMC id that could not go into a URL path is refused before any watch.
  EXPECT_EQ(testing::error_code_of([] { decode_watch_request(watch_text({{"amc_execution_id", "a/b"}}).c_str()); }),
            errc::invalid_argument);
  // A watch has no deadline: timeout_ms is an unknown field.
  EXPECT_EQ(testing::error_code_of(
                [] { decode_watch_request(watch_text({{"amc_execution_id", "e1"}, {"timeout_ms", 5}}).c_str()); },
                &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("'timeout_ms'"), std::string::npos) << message;
  EXPECT_EQ(testing::error_code_of([] { decode_watch_request(R"({"instance": {}, "amc_execution_id": "e1"})"); }),
            errc::invalid_argument);
}

}  // namespace
}  // namespace amc::client
