// A watch on a workflow id through libamc.so and amc.h, as a host uses it:
// amc_watch with "workflow_id" (no callback: the events drained with
// amc_poller_next_event) reports the run the sandbox starts as AMC's
// scheduler would, once as new, then its status changes to SUCCEEDED, never
// "terminal"; it runs until amc_unwatch; `since` resumes; the request
// errors amc.h documents; the stats keys.
#include "amc/amc.h"

#include "client_capi_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using amc::testing::take;
using boost::beast::http::verb;
using nlohmann::json;
using namespace std::chrono_literals;

class WorkflowWatchCapi : public amc::testing::ClientCapi {
 protected:
  void configure(amc::sandbox::sandbox_options& options) override { options.time_scale = 600; }
  void SetUp() override {
    ClientCapi::SetUp();
    ASSERT_EQ(amc_poller_new(client_, "{\"first_interval_ms\": 20, \"max_interval_ms\": 100, \"min_interval_ms\": 0}",
                             &poller_),
              AMC_OK)
        << amc_last_error();
    const json workflow = {{"workflowId", "wf_capi_sched"}, {"sqlQuery", "SELECT 1 -- sandbox: pending=60s duration=60s"}};
    char* out = nullptr;
    ASSERT_EQ(call(amc_workflow_create(client_, request({{"workflow", workflow}}).dump().c_str(), &out)), AMC_OK)
        << amc_last_error();
    amc_free(out);
  }
  void TearDown() override {
    amc_poller_free(poller_);
    ClientCapi::TearDown();
  }

  json scheduled_run() {
    return admin(verb::post, "/_sandbox/executions/scheduled", {{"workflow_id", "wf_capi_sched"}})["execution"];
  }
  amc_status watch(const json& fields, uint64_t& id) {
    json body = {{"credential_id", "conn"}, {"instance", instance_}};
    body.update(fields);
    const std::string text = body.dump();
    amc_watch_options options = {sizeof options, text.c_str(), nullptr, nullptr, nullptr};
    return amc_watch(poller_, &options, &id);
  }
  // The events of watch `id` until its run's last one (execution_terminal).
  std::vector<json> drain_one_run(uint64_t id) {
    std::vector<json> events;
    for (auto until = std::chrono::steady_clock::now() + 120s; std::chrono::steady_clock::now() < until;) {
      char* text = nullptr;
      const auto status = amc_poller_next_event(poller_, 200, &text);
      if (status == AMC_E_TIMEOUT) continue;
      EXPECT_EQ(status, AMC_OK) << amc_last_error();
      if (status != AMC_OK) break;
      auto event = json::parse(take(text));
      if (event["watch_id"].get<uint64_t>() != id) continue;
      events.push_back(event);
      if (event.value("execution_terminal", false)) break;
    }
    return events;
  }

  amc_poller* poller_ = nullptr;
};

TEST_F(WorkflowWatchCapi, ReportsARunAmcStartsThenItsChangesUntilUnwatched) {
  const auto before = scheduled_run();
  std::this_thread::sleep_for(1100ms);  // createTime has whole seconds
  uint64_t id = 0;
  ASSERT_EQ(watch({{"workflow_id", "wf_capi_sched"}}, id), AMC_OK) << amc_last_error();
  const auto run = scheduled_run();
  const auto events = drain_one_run(id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front()["event"], "new_execution");
  EXPECT_EQ(events.front()["previous_status"], nullptr);
  for (const auto& event : events) {
    EXPECT_EQ(event["workflow_id"], "wf_capi_sched");
    EXPECT_EQ(event["amc_execution_id"], run["workflowExecutionId"]);
    EXPECT_NE(event["amc_execution_id"], before["workflowExecutionId"]);
    EXPECT_FALSE(event["terminal"].get<bool>());
    EXPECT_EQ(event["execution"]["executionCategory"], "SCHEDULED");
  }
  EXPECT_EQ(events.back()["status"], "SUCCEEDED");
  char* text = nullptr;
  ASSERT_EQ(amc_poller_stats(poller_, &text), AMC_OK);
  const auto stats = json::parse(take(text));
  EXPECT_EQ(stats["watched"], 1) << "the watch goes on after its run ended";
  EXPECT_EQ(stats["new_executions"], 1);
  EXPECT_GE(stats["workflow_list_requests"].get<long>(), 1);
  EXPECT_EQ(amc_unwatch(poller_, id), AMC_OK);
  EXPECT_EQ(amc_unwatch(poller_, id), AMC_E_NOT_FOUND);

  // Resuming from the earlier run's createTime reports both runs, ended.
  uint64_t resumed = 0;
  ASSERT_EQ(watch({{"workflow_id", "wf_capi_sched"}, {"since", before["createTime"]}}, resumed), AMC_OK)
      << amc_last_error();
  std::vector<std::string> ids;
  for (int run_count = 0; run_count < 2; ++run_count) {
    const auto seen = drain_one_run(resumed);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0]["event"], "new_execution");
    EXPECT_EQ(seen[0]["status"], "SUCCEEDED");
    ids.push_back(seen[0]["amc_execution_id"]);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{before["workflowExecutionId"], run["workflowExecutionId"]}));
}

TEST_F(WorkflowWatchCapi, BadWorkflowRequestsAreInvalidArgumentsNamingTheField) {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"workflow_id", "wf one"}}, "workflow"},
      {{{"workflow_id", "wf"}, {"since", "last tuesday"}}, "since"},
      {{{"workflow_id", "wf"}, {"amc_execution_id", "x"}}, "amc_execution_id"},
      {{{"workflow_id", "wf"}, {"create_time", "2026-11-28T15:26:01Z"}}, "create_time"},
      {{{"amc_execution_id", "x"}, {"since", "2026-11-28T15:26:01Z"}}, "since"},
      {{{"workflow_id", 7}}, "workflow_id"},
  };
  for (const auto& [fields, named] : cases) {
    uint64_t id = 0;
    EXPECT_EQ(watch(fields, id), AMC_E_INVALID_ARGUMENT) << fields.dump();
    EXPECT_NE(std::string(amc_last_error()).find(named), std::string::npos) << amc_last_error();
    EXPECT_EQ(id, 0u);
  }
}

}  // namespace
