#include "amc/ids.hpp"

#include "amc/shapes.hpp"
#include "common/error.hpp"

#include "support/test_support.hpp"

#include <gtest/gtest.h>

namespace amc::api {
namespace {

const auto code_of = [](const std::function<void()>& action, std::string* message = nullptr) {
  return amc::testing::error_code_of(action, message);
};

TEST(WorkflowIds, AmcCharsetIsEnforced) {
  for (const char* good : {"wf_4c384646", "Streaming_T.V_Performance-Report2023", "a",
                           "e27c2385-b1ed-4bcf-a123-456789abcdef"})
    EXPECT_EQ(code_of([&] { validate_workflow_id(good); }), errc::ok) << good;
  std::string message;
  EXPECT_EQ(code_of([] { validate_workflow_id("has space"); }, &message), errc::invalid_argument);
  EXPECT_NE(message.find("' '"), std::string::npos);
  EXPECT_EQ(code_of([] { validate_workflow_id("slash/no"); }), errc::invalid_argument);
  EXPECT_EQ(code_of([] { validate_workflow_id(""); }), errc::invalid_argument);
  EXPECT_EQ(code_of([] { validate_workflow_id(std::string(129, 'a')); }), errc::invalid_argument);
}

TEST(WorkflowIds, TruncatedUuidsAreReported) {
  std::string message;
  EXPECT_EQ(code_of([] { validate_workflow_id("wf_e27c2385_b1ed_4bcf_a"); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("cut short"), std::string::npos);
  EXPECT_EQ(code_of([] { validate_workflow_id("wf_e27c2385_b1ed_4bcf"); }), errc::invalid_argument);
  EXPECT_EQ(code_of([] { validate_workflow_id("e27c2385-b1ed-4bcf-a123-4567"); }), errc::invalid_argument);
}

TEST(WorkflowIds, DerivedFromNamesDeterministicallyWithoutCollisions) {
  EXPECT_EQ(workflow_id_from_name("daily_sales"), "wf_daily_sales");
  const auto spaced = workflow_id_from_name("Daily Sales (EU)");
  EXPECT_EQ(spaced.rfind("wf_daily_sales_eu_", 0), 0u) << spaced;
  EXPECT_EQ(spaced, workflow_id_from_name("Daily Sales (EU)"));
  EXPECT_NE(workflow_id_from_name("Daily Sales (EU)"), workflow_id_from_name("Daily Sales [EU]"));
  EXPECT_NE(workflow_id_from_name("daily sales"), workflow_id_from_name("Daily Sales"));
  const auto long_one = workflow_id_from_name(std::string(300, 'x'));
  const auto long_two = workflow_id_from_name(std::string(299, 'x') + "y");
  EXPECT_LE(long_one.size(), 128u);
  EXPECT_NE(long_one, long_two) << "shortened names keep a hash of the whole name";
  for (const auto& id : {spaced, long_one, long_two, workflow_id_from_name("!!!")})
    EXPECT_EQ(code_of([&] { validate_workflow_id(id); }), errc::ok) << id;
}

TEST(AdvertiserIds, ProfileIdsAreRefusedWithDirections) {
  EXPECT_EQ(code_of([] { validate_advertiser_id("ENTITY2ABCDEF12345"); }), errc::ok);
  std::string message;
  EXPECT_EQ(code_of([] { validate_advertiser_id("3387473927261"); }, &message), errc::invalid_argument);
  EXPECT_NE(message.find("profile id"), std::string::npos);
  EXPECT_NE(message.find("/amc/accounts"), std::string::npos);
  EXPECT_EQ(code_of([] { validate_advertiser_id(""); }), errc::invalid_argument);
  EXPECT_TRUE(looks_like_entity_id("ENTITY1AA1AA11AAA1"));
  EXPECT_FALSE(looks_like_entity_id("1234"));
}

TEST(Shapes, FlatAndWrappedGiveTheSameObject) {
  const auto flat = nlohmann::json::parse(R"({"workflowExecutionId":"x","status":"RUNNING"})");
  const nlohmann::json wrapped = {{"workflowExecution", flat}};
  EXPECT_EQ(unwrap(flat, "workflowExecution", "get"), flat);
  EXPECT_EQ(unwrap(wrapped, "workflowExecution", "get"), flat);
  EXPECT_EQ(code_of([] { unwrap(nlohmann::json::array(), "workflow", "get"); }), errc::protocol);
}

TEST(Shapes, StatusesAndTerminality) {
  for (const char* status : {"PENDING", "RUNNING", "PUBLISHING"})
    EXPECT_FALSE(is_terminal(parse_execution_status(status))) << status;
  for (const char* status : {"SUCCEEDED", "FAILED", "CANCELLED", "REJECTED"})
    EXPECT_TRUE(is_terminal(parse_execution_status(status))) << status;
  EXPECT_EQ(parse_execution_status("QUEUED_SOMEWHERE_NEW"), execution_phase::unknown);
  EXPECT_FALSE(is_terminal(execution_phase::unknown));
}

TEST(Shapes, FailureReasonFromWhicheverFieldHasIt) {
  EXPECT_EQ(failure_reason(nlohmann::json::parse(R"({"statusReason":"bad SQL"})")), "bad SQL");
  EXPECT_EQ(failure_reason(nlohmann::json::parse(R"({"message":"quota"})")), "quota");
  EXPECT_EQ(failure_reason(nlohmann::json::parse(
                R"({"outputChannels":[{"channel":{"type":"DOWNLOAD"},"statusReason":"no rows"}]})")),
            "no rows");
  EXPECT_EQ(failure_reason(nlohmann::json::object()), "");
}

}  // namespace
}  // namespace amc::api
