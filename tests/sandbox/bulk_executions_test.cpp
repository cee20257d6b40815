// POST /_sandbox/executions/bulk: many executions in one admin call, each
// readable, listable and following its plan like a created one.
#include "sandbox_fixture.hpp"

#include <set>

namespace amc::sandbox::testing {
namespace {

TEST(SandboxBulkExecutions, CreatesManyExecutionsThatBehaveLikeCreatedOnes) {
  running_sandbox sandbox;
  auto reply = sandbox.admin(verb::post, "executions/bulk",
                             json{{"count", 250}, {"sql", "SELECT 1 -- sandbox: pending=1m duration=10m"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto created = reply.json()["executions"];
  ASSERT_EQ(created.size(), 250u);
  std::set<std::string> ids;
  for (const auto& execution : created) ids.insert(execution["workflowExecutionId"].get<std::string>());
  EXPECT_EQ(ids.size(), 250u) << "every id is distinct";
  const auto first = created[0]["workflowExecutionId"].get<std::string>();
  EXPECT_EQ(sandbox.get_execution(first)["status"], "PENDING");
  sandbox.advance_clock(61);
  EXPECT_EQ(sandbox.get_execution(first)["status"], "RUNNING");
  // All of them in the list since their creation time (3 pages of 100).
  std::string since = created[0]["createTime"].get<std::string>();
  since.pop_back();
  auto page = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=" + since));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.json()["executions"].size(), 100u);
  EXPECT_TRUE(page.json().contains("nextToken"));
  EXPECT_EQ(sandbox.admin(verb::get, "stats").json()["executions"], 250);
}

TEST(SandboxBulkExecutions, RefusesWhatItCannotDo) {
  running_sandbox sandbox;
  EXPECT_EQ(sandbox.admin(verb::post, "executions/bulk", json{{"count", 0}, {"sql", "SELECT 1"}}).status, 400);
  EXPECT_EQ(sandbox.admin(verb::post, "executions/bulk", json{{"count", 2}}).status, 400);
  EXPECT_EQ(sandbox.admin(verb::post, "executions/bulk", json{{"count", 2}, {"sql", "SELECT 1 -- sandbox: nonsense"}}).status,
            400);
  EXPECT_EQ(sandbox.admin(verb::post, "executions/bulk", json{{"count", 2}, {"sql", "SELECT 1"}, {"cnt", 1}}).status,
            400);
  EXPECT_EQ(
      sandbox.admin(verb::post, "executions/bulk", json{{"count", 2}, {"sql", "SELECT 1"}, {"instance_id", "nope"}}).status,
      400);
  EXPECT_EQ(sandbox.admin(verb::get, "stats").json()["executions"], 0);
}

}  // namespace
}  // namespace amc::sandbox::testing
