// The CreateWorkflowExecutionRequest checks on their own, without a server:
// which workflow runs, the window in its zone, and the status of a refusal.
#include "sandbox/execution_request_checks.hpp"

#include "common/time.hpp"

#include <gtest/gtest.h>

namespace amc::sandbox {
namespace {

using nlohmann::json;

const json* no_saved_workflow(std::string_view) { return nullptr; }

TEST(SandboxExecutionRequestChecks, RefusalsCarryTheirStatus) {
  const double now = static_cast<double>(*parse_utc("2026-11-29T10:00:00Z"));
  auto refused = [&](const json& body) {
    auto result = check_execution_request(body, now, no_saved_workflow);
    return std::get<execution_request_error>(result);
  };
  EXPECT_EQ(refused(json::value_t::discarded).status, 400);
  EXPECT_EQ(refused(json{{"workflowId", "missing"}}).status, 422);
  EXPECT_EQ(refused(json{{"workflowId", "missing"}}).details, "Workflow with ID missing does not exist.");
  EXPECT_EQ(refused(json{{"workflow", {{"sqlQuery", "SELECT CUSTOM_PARAMETER('x')"}}}}).status, 422);
  EXPECT_EQ(refused(json{{"workflow", {{"sqlQuery", "SELECT 1"}}}, {"workflowExecutionTimeoutSeconds", 899}}).details,
            "workflowExecutionTimeoutSeconds must be at least 900.");
}

TEST(SandboxExecutionRequestChecks, SavedWorkflowAndWindowInItsZone) {
  const double now = static_cast<double>(*parse_utc("2026-11-29T10:00:00Z"));
  const json saved = {{"workflowId", "wf"}, {"sqlQuery", "SELECT 2"}, {"outputFormat", {{"separatorCharacter", ";"}}}};
  auto result = check_execution_request(
      json{{"workflowId", "wf"}, {"timeWindowType", "MOST_RECENT_WEEK"}, {"timeWindowTimeZone", "America/New_York"}},
      now, [&](std::string_view id) { return id == "wf" ? &saved : nullptr; });
  ASSERT_TRUE(std::holds_alternative<checked_execution_request>(result));
  const auto& accepted = std::get<checked_execution_request>(result);
  EXPECT_FALSE(accepted.ad_hoc);
  EXPECT_EQ(accepted.sql, "SELECT 2");
  EXPECT_EQ(accepted.separator, ";");
  EXPECT_EQ(accepted.timeout_seconds, 86400);
  // Local midnights in New York (UTC-5 in November): Nov 22 and Nov 29.
  EXPECT_EQ(accepted.echoed["timeWindowStart"], "2026-11-22T05:00:00Z");
  EXPECT_EQ(accepted.echoed["timeWindowEnd"], "2026-11-29T05:00:00Z");
}

}  // namespace
}  // namespace amc::sandbox
