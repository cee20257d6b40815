// The typed requests (client/requests.hpp) on their own: defaults per request
// type, the instance checked once and marked so, and messages that name a
// field by its path.
#include "client/requests.hpp"

#include "api/operations.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>

namespace amc::api {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string text(json body) { return body.dump(); }

json instance_request(json extra) {
  json body = {{"credential_id", "conn"},
               {"instance",
                {{"instance_id", "amcinstance01"},
                 {"advertiser_id", "ENTITYAAAAAAAAAAAAA1"},
                 {"marketplace_id", "ATVPDKIKX0DER"}}}};
  body.update(extra);
  return body;
}

TEST(Requests, TimeoutsDefaultPerRequestType) {
  EXPECT_EQ(decode_accounts_request(R"({"credential_id": "conn"})").timeout, 120'000ms);
  const auto wait = decode_execution_wait_request(text(instance_request({{"amc_execution_id", "e1"}})).c_str());
  EXPECT_EQ(wait.timeout, std::chrono::milliseconds(24h));
  EXPECT_EQ(wait.first_poll, 5'000ms);
  EXPECT_EQ(wait.max_poll, 60'000ms);
  const auto download = decode_results_download_request(
      text(instance_request({{"amc_execution_id", "e1"}, {"directory", "/tmp/x"}})).c_str());
  EXPECT_EQ(download.timeout, std::chrono::milliseconds(2h));
  EXPECT_EQ(download.parallelism, 4);
  EXPECT_EQ(decode_workflow_list_request(text(instance_request({{"timeout_ms", 900}})).c_str()).timeout, 900ms);
}

TEST(Requests, TheInstanceIsCheckedOnceAndMarkedChecked) {
  const auto request = decode_workflow_list_request(text(instance_request(json::object())).c_str());
  EXPECT_TRUE(request.context.instance_checked);
  EXPECT_EQ(request.context.advertiser_id, "ENTITYAAAAAAAAAAAAA1");
  // A numeric profile id never gets that far.
  std::string message;
  EXPECT_EQ(testing::error_code_of(
                [] {
                  decode_workflow_list_request(
                      text(instance_request({{"instance", {{"instance_id", "amcinstance01"},
                                                           {"advertiser_id", "3387473927261"},
                                                           {"marketplace_id", "ATVPDKIKX0DER"}}}}))
                          .c_str());
                },
                &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("profile id"), std::string::npos) << message;
  // A hand-built context is still checked by the operations.
  call_context by_hand = request.context;
  by_hand.instance_checked = false;
  by_hand.advertiser_id = "3387473927261";
  EXPECT_EQ(testing::error_code_of([&] { validate_instance_context(by_hand); }), errc::invalid_argument);
}

TEST(Requests, MessagesNameTheFieldByItsPathAndWhatItMustBe) {
  std::string message;
  EXPECT_EQ(testing::error_code_of(
                [] {
                  decode_execution_submit_request(
                      text(instance_request({{"request", {{"workflowId", "wf_a"}, {"timeWindowType", 7}}}})).c_str());
                },
                &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("'request.timeWindowType'"), std::string::npos) << message;
  EXPECT_NE(message.find("must be a string, not 7"), std::string::npos) << message;
  EXPECT_EQ(testing::error_code_of(
                [] {
                  decode_execution_list_request(
                      text(instance_request({{"filters", {{"workflowId", "wf_a"}, {"limit", 0}}}})).c_str());
                },
                &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("'filters.limit'"), std::string::npos) << message;
  EXPECT_NE(message.find("from 1 to 1000"), std::string::npos) << message;
  EXPECT_EQ(testing::error_code_of([] { decode_accounts_request(R"({"credential_id": "conn", "timeout_ms": 1.5})"); },
                                   &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("'timeout_ms'"), std::string::npos) << message;
}

}  // namespace
}  // namespace amc::api
