#include "api/ids.hpp"

#include "api/shapes.hpp"
#include "common/error.hpp"

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <set>

namespace amc::api {
namespace {

const auto code_of = [](const std::function<void()>& action, std::string* message = nullptr) {
  return amc::testing::error_code_of(action, message);
};

// Ids go into URL paths: nothing that would change the path's meaning
// passes, on the fast path (plain ids) or the slow one.
TEST(PathIds, OnlySafePathSegmentsPass) {
  for (const char* good : {"0f2b9c1e-8d4a-4b6e-9a61-3c2d1e0f9a8b", "amcinstance01", "ATVPDKIKX0DER", "a.b", "a..b",
                           "x~y", "caf\xC3\xA9", "..a"})
    EXPECT_NO_THROW(validate_path_id(good, "id")) << good;
  for (const char* bad : {"", ".", "..", "...", "a/b", "a?b", "a#b", "a%2Fb", "a b", "a\tb", "a\x01", "\xFF"}) {
    std::string message;
    EXPECT_EQ(code_of([&] { validate_path_id(bad, "AMC execution id"); }, &message), errc::invalid_argument) << bad;
    EXPECT_NE(message.find("AMC execution id"), std::string::npos) << message;
  }
}

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
  // Cut right after a whole group, with or without its separator.
  for (const char* cut : {"wf_e27c2385_b1ed_4bcf_a1b2", "wf_e27c2385_b1ed_4bcf_a1b2_", "wf_e27c2385_b1ed",
                          "wf_e27c2385_b1ed_"})
    EXPECT_EQ(code_of([&] { validate_workflow_id(cut); }), errc::invalid_argument) << cut;
  // Cut inside the second and third groups, and inside the last.
  for (const char* cut : {"wf_e27c2385_b1ed_4b", "wf_e27c2385_b1", "wf_e27c2385_b1ed_4bcf_a1b2_456789ab",
                          "report.e27c2385-b1ed-4b", "E27C2385_B1ED_4BCF"})
    EXPECT_EQ(code_of([&] { validate_workflow_id(cut); }), errc::invalid_argument) << cut;
}

TEST(WorkflowIds, DatesAndNumbersAreNotMistakenForCutUuids) {
  // No letter in the first group: a date and a time, not a UUID.
  for (const char* fine : {"sales_20240131_2024_0131", "sales_20240131_2024", "run_20240131_1200_ad",
                           // Too little of a second group to tell: a version after a derived id.
                           "wf_daily_3f0c1a2b_2", "wf_e27c2385_b",
                           // Whole UUIDs, and UUIDs with more after them.
                           "e27c2385-b1ed-4bcf-a123-456789abcdef", "wf_e27c2385_b1ed_4bcf_a123_456789abcdef",
                           "wf_e27c2385_b1ed_4bcf_v2", "e27c2385-b1ed-4bcf-a123-456789abcdef_v2",
                           // Not starting at a separator.
                           "wfe27c2385_b1ed_4b", "x_0123456789abcdef_1234"})
    EXPECT_EQ(code_of([&] { validate_workflow_id(fine); }), errc::ok) << fine;
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

TEST(WorkflowIds, ANameThatLooksHashedCannotTakeAnotherNamesId) {
  const auto foo = workflow_id_from_name("Foo");
  ASSERT_EQ(foo.size(), std::string("wf_foo_").size() + 8) << foo;
  const auto forged_name = foo.substr(3);  // "foo_" + the first 8 hex of SHA-256("Foo")
  EXPECT_NE(workflow_id_from_name(forged_name), foo);
  EXPECT_EQ(code_of([&] { validate_workflow_id(workflow_id_from_name(forged_name)); }), errc::ok);
  // Names that are already valid, folded ids are kept unless they end like a
  // hash suffix.
  EXPECT_EQ(workflow_id_from_name("sales_2024_q1"), "wf_sales_2024_q1");
  EXPECT_EQ(workflow_id_from_name("sales_a20240131"), "wf_sales_a20240131");
  EXPECT_NE(workflow_id_from_name("sales_20240131"), "wf_sales_20240131");
}

TEST(WorkflowIds, DerivedIdsAreAlwaysValidAndDistinct) {
  std::vector<std::string> names = {"Foo", "foo", "foo_", "FOO", "e27c2385_b1ed", "e27c2385-b1ed",
                                    "e27c2385_b1ed_4bcf_a1b2", "e27c2385-b1ed-4bcf-a1b2",
                                    "e27c2385_b1ed_4bcf_a1b2_x", "e27c2385-b1ed-4bcf-a123-456789abcdef",
                                    "sales_20240131_2024_0131", "", "_", "wf", std::string(128, 'a'),
                                    std::string(125, 'a'), std::string(126, 'a')};
  names.push_back(workflow_id_from_name("Foo").substr(3));
  names.push_back(workflow_id_from_name("e27c2385-b1ed-4bcf-a1b2").substr(3));
  // A UUID in a long name, cut by the shortening at every possible place.
  for (std::size_t pad = 70; pad < 130; ++pad) {
    names.push_back(std::string(pad, 'x') + "_e27c2385_b1ed_4bcf_a1b2_456789abcdef");
    names.push_back(std::string(pad, 'x') + " e27c2385 b1ed 4bcf a1b2");
  }
  // A hash right after four whole UUID groups would read as a cut fifth.
  EXPECT_EQ(workflow_id_from_name("e27c2385-b1ed-4bcf-a1b2").rfind("wf_e27c2385_b1ed_4bcf_a1b2_x_", 0), 0u);
  std::set<std::string> ids;
  for (const auto& name : names) {
    const auto id = workflow_id_from_name(name);
    EXPECT_EQ(code_of([&] { validate_workflow_id(id); }), errc::ok) << "name '" << name << "' gave " << id;
    EXPECT_TRUE(ids.insert(id).second) << "name '" << name << "' gave an id already taken: " << id;
    EXPECT_EQ(id, workflow_id_from_name(name));
  }
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

TEST(Shapes, EveryExecutionIsMarkedWithItsTerminalityAndPhase) {
  auto marked = [](nlohmann::json execution) {
    mark_terminal(execution);
    return std::pair{execution["terminal"].get<bool>(), execution["phase"].get<std::string>()};
  };
  EXPECT_EQ(marked({{"status", "RUNNING"}}), std::pair(false, std::string{"running"}));
  EXPECT_EQ(marked({{"status", "PUBLISHING"}}), std::pair(false, std::string{"publishing"}));
  EXPECT_EQ(marked({{"status", "REJECTED"}}), std::pair(true, std::string{"rejected"}));
  EXPECT_EQ(marked({{"status", "QUEUED_SOMEWHERE_NEW"}}), std::pair(false, std::string{"unknown"}));
  EXPECT_EQ(marked({{"status", 7}}), std::pair(false, std::string{"unknown"}));
  EXPECT_EQ(marked(nlohmann::json::object()), std::pair(false, std::string{"unknown"}));
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
