// Schedules through the C ABI against the sandbox (issue 24 point 1): the
// five operations of Amazon's spec (createSchedule … deleteSchedule), the
// list followed across AMC's pages, a workflow delete that a schedule still
// runs, and a schedule starting runs of its workflow on the sandbox clock.
// Run twice more under tests/tools/spec_proxy.py (capi.schedules.spec_*),
// which checks every answer against the spec in both response shapes.
#include "amc/amc.h"

#include "client_capi_fixture.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

namespace {

using amc::testing::ClientCapi;
using amc::testing::take;
using boost::beast::http::verb;
using nlohmann::json;

class ScheduleCapi : public ClientCapi {
 protected:
  // JSON out of an entry point that must succeed.
  json ok(amc_status (*entry)(amc_client*, const char*, char**), const json& body) {
    char* out = nullptr;
    const amc_status status = call(entry(client_, request(body).dump().c_str(), &out));
    EXPECT_EQ(status, AMC_OK) << amc_last_error();
    return status == AMC_OK ? json::parse(take(out)) : json();
  }
  // The status of an entry point that must fail; its message in `message`.
  amc_status refused(amc_status (*entry)(amc_client*, const char*, char**), const json& body, std::string& message) {
    char* out = nullptr;
    const amc_status status = call(entry(client_, request(body).dump().c_str(), &out));
    message = amc_last_error();
    EXPECT_EQ(out, nullptr);
    amc_free(out);
    return status;
  }
  void make_workflow(const std::string& id, const std::string& sql = "SELECT 1 -- sandbox: pending=0 duration=1m") {
    ok(amc_workflow_create, {{"workflow", {{"workflowId", id}, {"sqlQuery", sql}}}});
  }
  json executions_of(const std::string& workflow_id) {
    return ok(amc_execution_list, {{"filters", {{"workflowId", workflow_id}}}})["executions"];
  }
};

TEST_F(ScheduleCapi, CreateGetListUpdateDeleteFollowTheSpec) {
  make_workflow("wf_sched");
  const json schedule = {{"scheduleId", "sched_daily"},
                         {"workflowId", "wf_sched"},
                         {"aggregationPeriod", "Daily"},
                         {"aggregationHourUtc", 6},
                         {"scheduleEnabled", true}};
  const json created = ok(amc_schedule_create, {{"schedule", schedule}});
  // AMC's Schedule, flat whichever shape the sandbox answers in.
  EXPECT_EQ(created["scheduleId"], "sched_daily");
  EXPECT_EQ(created["workflowId"], "wf_sched");
  EXPECT_EQ(created["aggregationPeriod"], "Daily");
  EXPECT_EQ(created["aggregationHourUtc"], 6);
  EXPECT_FALSE(created.contains("schedule"));
  EXPECT_EQ(ok(amc_schedule_get, {{"schedule_id", "sched_daily"}}), created);

  std::string message;
  EXPECT_EQ(refused(amc_schedule_create, {{"schedule", schedule}}, message), AMC_E_CONFLICT) << message;
  EXPECT_NE(message.find("sched_daily"), std::string::npos) << message;

  json changed = schedule;
  changed["aggregationPeriod"] = "Weekly";
  changed["aggregationStartDay"] = "Tuesday";
  changed["aggregationHourUtc"] = 22;
  const json updated = ok(amc_schedule_update, {{"schedule", changed}});
  EXPECT_EQ(updated["aggregationPeriod"], "Weekly");
  EXPECT_EQ(updated["aggregationStartDay"], "Tuesday");
  EXPECT_EQ(updated["aggregationHourUtc"], 22);
  EXPECT_EQ(ok(amc_schedule_get, {{"schedule_id", "sched_daily"}})["aggregationHourUtc"], 22);

  EXPECT_EQ(ok(amc_schedule_delete, {{"schedule_id", "sched_daily"}}), json::object());
  EXPECT_EQ(refused(amc_schedule_get, {{"schedule_id", "sched_daily"}}, message), AMC_E_NOT_FOUND) << message;
  EXPECT_EQ(refused(amc_schedule_delete, {{"schedule_id", "sched_daily"}}, message), AMC_E_NOT_FOUND) << message;
  changed["scheduleId"] = "sched_missing";
  EXPECT_EQ(refused(amc_schedule_update, {{"schedule", changed}}, message), AMC_E_NOT_FOUND) << message;
  // A workflow AMC does not have: its 422.
  EXPECT_EQ(refused(amc_schedule_create,
                    {{"schedule", {{"scheduleId", "s2"}, {"workflowId", "wf_none"}, {"aggregationPeriod", "Daily"}}}},
                    message),
            AMC_E_INVALID_ARGUMENT)
      << message;
  EXPECT_NE(message.find("wf_none"), std::string::npos) << message;
  EXPECT_EQ(ok(amc_schedule_list, json::object())["schedules"], json::array());
}

TEST_F(ScheduleCapi, TheListFollowsNextTokenAcrossPages) {
  make_workflow("wf_many");
  // AMC pages schedules at 100 (the spec's maxItems): 101 need two pages.
  for (int i = 0; i < 101; ++i)
    ok(amc_schedule_create, {{"schedule",
                              {{"scheduleId", fmt::format("s{}", i)},
                               {"workflowId", "wf_many"},
                               {"aggregationPeriod", "Daily"},
                               {"scheduleEnabled", false}}}});
  const long long pages_before = requests_of("listSchedules");
  const json listed = ok(amc_schedule_list, json::object());
  ASSERT_EQ(listed["schedules"].size(), 101u);
  EXPECT_EQ(listed["schedules"][0]["scheduleId"], "s0");
  EXPECT_EQ(listed["schedules"][100]["scheduleId"], "s100");
  EXPECT_EQ(requests_of("listSchedules") - pages_before, 2);
}

TEST_F(ScheduleCapi, AWorkflowDeleteThatAScheduleStillRunsNamesTheSchedule) {
  make_workflow("wf_used");
  ok(amc_schedule_create,
     {{"schedule", {{"scheduleId", "nightly_used"}, {"workflowId", "wf_used"}, {"aggregationPeriod", "Daily"}}}});
  std::string message;
  EXPECT_EQ(refused(amc_workflow_delete, {{"workflow_id", "wf_used"}}, message), AMC_E_CONFLICT) << message;
  EXPECT_NE(message.find("nightly_used"), std::string::npos) << message;
  EXPECT_NE(message.find("wf_used"), std::string::npos) << message;
  EXPECT_NE(message.find("amc_schedule_delete"), std::string::npos) << message;
  EXPECT_NE(message.find("first"), std::string::npos) << message;
  // Nothing was deleted; with the schedule gone the workflow goes too.
  EXPECT_EQ(ok(amc_workflow_get, {{"workflow_id", "wf_used"}})["workflowId"], "wf_used");
  ok(amc_schedule_delete, {{"schedule_id", "nightly_used"}});
  ok(amc_workflow_delete, {{"workflow_id", "wf_used"}});
  EXPECT_EQ(refused(amc_workflow_get, {{"workflow_id", "wf_used"}}, message), AMC_E_NOT_FOUND) << message;
}

TEST_F(ScheduleCapi, AScheduleStartsRunsOfItsWorkflowOnTheSandboxClock) {
  // time_scale 2000 (the fixture's): a simulated day is 43.2 s of sandbox
  // time. The clock stands still at midnight, so the runs' times are exact:
  // hour 3 falls 5.4 s after the schedule is made, then every 43.2 s.
  admin(verb::post, "/_sandbox/clock/set", {{"time", "2026-03-10T00:00:00Z"}, {"frozen", true}});
  make_workflow("wf_timed");
  make_workflow("wf_idle");
  ok(amc_schedule_create, {{"schedule",
                            {{"scheduleId", "timed_daily"},
                             {"workflowId", "wf_timed"},
                             {"aggregationPeriod", "Daily"},
                             {"aggregationHourUtc", 3}}}});
  ok(amc_schedule_create, {{"schedule",
                            {{"scheduleId", "idle_daily"},
                             {"workflowId", "wf_idle"},
                             {"aggregationPeriod", "Daily"},
                             {"scheduleEnabled", false}}}});
  EXPECT_EQ(executions_of("wf_timed").size(), 0u);

  admin(verb::post, "/_sandbox/clock/advance", {{"seconds", 5}});
  EXPECT_EQ(executions_of("wf_timed").size(), 0u) << "a run before its hour";
  // To 50 s: the runs at 5.4 s and 48.6 s, started by AMC, not by us.
  admin(verb::post, "/_sandbox/clock/advance", {{"seconds", 45}});
  const json runs = executions_of("wf_timed");
  ASSERT_EQ(runs.size(), 2u) << runs.dump();
  for (const auto& run : runs) {
    EXPECT_EQ(run["executionCategory"], "SCHEDULED") << run.dump();
    EXPECT_EQ(run["workflowId"], "wf_timed");
    // A Daily schedule's run reads the most recent day (MOST_RECENT_DAY).
    EXPECT_TRUE(run.contains("timeWindowStart") && run.contains("timeWindowEnd")) << run.dump();
  }
  // Newest first, at their due times on the sandbox clock.
  EXPECT_EQ(runs[0]["createTime"], "2026-03-10T00:00:48Z");
  EXPECT_EQ(runs[1]["createTime"], "2026-03-10T00:00:05Z");
  EXPECT_EQ(executions_of("wf_idle").size(), 0u) << "a disabled schedule ran";

  // A scheduled run is an execution like any other: it can be waited for.
  char* out = nullptr;
  const json wait = request(
      {{"amc_execution_id", runs[0]["workflowExecutionId"]}, {"first_poll_ms", 50}, {"max_poll_ms", 100}});
  ASSERT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), nullptr, nullptr, nullptr, &out)), AMC_OK)
      << amc_last_error();
  EXPECT_EQ(json::parse(take(out))["status"], "SUCCEEDED");

  // Disabled by an update: no more runs.
  ok(amc_schedule_update, {{"schedule",
                            {{"scheduleId", "timed_daily"},
                             {"workflowId", "wf_timed"},
                             {"aggregationPeriod", "Daily"},
                             {"scheduleEnabled", false}}}});
  admin(verb::post, "/_sandbox/clock/advance", {{"seconds", 3 * 43.2}});
  EXPECT_EQ(executions_of("wf_timed").size(), 2u);
}

}  // namespace
