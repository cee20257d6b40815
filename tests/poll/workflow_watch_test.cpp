// Watches of a workflow id (runs that AMC starts on its own): what counts as
// a new execution and what is remembered (workflow_watches, without a
// clock), then the poller against the sandbox: runs that the sandbox starts
// as AMC's scheduler would are reported once each as new and then by status
// change; runs from before the watch (or before `since`) are not; `since`
// resumes; and an instance-wide list the batcher makes for the watches of
// single executions serves the workflow watch too (its own list reads stay
// rare). Executions run on a fast sandbox clock.
#include "poll/workflow_watches.hpp"

#include "api/operations.hpp"
#include "client/requests.hpp"
#include "client/watch.hpp"
#include "common/error.hpp"
#include "common/time.hpp"
#include "poll/poller.hpp"
#include "sandbox/server.hpp"
#include "sandbox/service.hpp"
#include "support/amc_client_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace amc::poll {
namespace {

using boost::beast::http::verb;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto generous = 120s;  // a bound for a hung test, not a speed claim

read_phase phase_of(std::string_view status) {
  if (status == "SUCCEEDED" || status == "FAILED" || status == "CANCELLED" || status == "REJECTED")
    return read_phase::terminal;
  if (status == "RUNNING") return read_phase::running;
  if (status == "PUBLISHING") return read_phase::publishing;
  return read_phase::waiting;
}

json run_of(const std::string& workflow, const std::string& id, const std::string& status, std::int64_t created) {
  return {{"workflowId", workflow}, {"workflowExecutionId", id}, {"status", status}, {"createTime", format_utc(created)}};
}

std::vector<std::string> kinds_of(const workflow_changes& changes) {
  std::vector<std::string> kinds;
  for (const auto& event : changes.events)
    kinds.push_back(event["event"].get<std::string>() + ":" + event["amc_execution_id"].get<std::string>() + ":" +
                    event["status"].get<std::string>());
  return kinds;
}

TEST(WorkflowWatches, ReportsNewRunsOnceThenTheirChangesAndSkipsOthers) {
  workflow_watches watches;
  const std::int64_t start = 2'000'000'000;
  watches.add(3, 1, "wf_daily", start);
  EXPECT_TRUE(watches.has(3, 1));
  EXPECT_FALSE(watches.has(3, 2));
  EXPECT_EQ(watches.list_since(3), start);
  const json first = json::array({run_of("wf_daily", "old", "RUNNING", start - 5),  // before the watch
                                  run_of("wf_daily", "a", "PENDING", start + 1),
                                  run_of("wf_other", "b", "PENDING", start + 2),  // another workflow
                                  run_of("wf_daily", "c", "SUCCEEDED", start + 3)});
  auto changes = watches.apply(3, first, start + 10, phase_of);
  EXPECT_EQ(kinds_of(changes), (std::vector<std::string>{"new_execution:a:PENDING", "new_execution:c:SUCCEEDED"}));
  EXPECT_EQ(changes.events[0]["previous_status"], nullptr);
  EXPECT_EQ(changes.events[0]["workflow_id"], "wf_daily");
  EXPECT_FALSE(changes.events[0]["terminal"].get<bool>());
  EXPECT_FALSE(changes.events[0]["execution_terminal"].get<bool>());
  EXPECT_TRUE(changes.events[1]["execution_terminal"].get<bool>());
  EXPECT_EQ(watches.new_executions(), 2u);
  // "a" is followed: the next list starts at its createTime at the latest.
  EXPECT_EQ(watches.list_since(3), start);

  // The same listing again changes nothing; a status change is one event.
  EXPECT_TRUE(watches.apply(3, first, start + 11, phase_of).events.empty());
  const json second = json::array({run_of("wf_daily", "old", "SUCCEEDED", start - 5),
                                   run_of("wf_daily", "a", "PUBLISHING", start + 1),
                                   run_of("wf_daily", "c", "SUCCEEDED", start + 3)});
  changes = watches.apply(3, second, start + 12, phase_of);
  EXPECT_EQ(kinds_of(changes), (std::vector<std::string>{"status:a:PUBLISHING"}));
  EXPECT_EQ(changes.events[0]["previous_status"], "PENDING");
  EXPECT_TRUE(changes.publishing);
}

TEST(WorkflowWatches, TheFloorFollowsTheClockAndFinishedRunsBelowItAreNotNewAgain) {
  workflow_watches watches;
  const std::int64_t start = 2'000'000'000;
  watches.add(0, 1, "wf", start);
  const json listing = json::array({run_of("wf", "done", "SUCCEEDED", start + 1),
                                    run_of("wf", "long", "RUNNING", start + 2)});
  EXPECT_EQ(watches.apply(0, listing, start + 3, phase_of).events.size(), 2u);
  // Two hours on: the floor is an hour behind the clock, "done" is let go
  // of, "long" (still running) keeps the next list starting at its creation.
  const std::int64_t later = start + 2 * 3600;
  EXPECT_TRUE(watches.apply(0, json::array(), later, phase_of).events.empty());
  EXPECT_EQ(watches.list_since(0), start + 2);
  // An instance-wide list that still shows them: "done" is below the floor
  // (not new again), "long" is known and reported when it ends.
  const json again = json::array({run_of("wf", "done", "SUCCEEDED", start + 1),
                                  run_of("wf", "long", "SUCCEEDED", start + 2)});
  auto changes = watches.apply(0, again, later + 1, phase_of);
  EXPECT_EQ(kinds_of(changes), (std::vector<std::string>{"status:long:SUCCEEDED"}));
  EXPECT_EQ(watches.list_since(0), later + 1 - new_execution_lookback_seconds);
}

// What one watch saw, through its callback.
struct seen_events {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<json> events;
  int destroyed = 0;

  static void on_event(const char* text, void* user) {
    auto& seen = *static_cast<seen_events*>(user);
    std::lock_guard lock(seen.mutex);
    seen.events.push_back(json::parse(text));
    seen.changed.notify_all();
  }
  static void on_destroy(void* user) {
    auto& seen = *static_cast<seen_events*>(user);
    std::lock_guard lock(seen.mutex);
    ++seen.destroyed;
    seen.changed.notify_all();
  }

  // Waits until `done` holds for the events so far.
  bool wait_until(const std::function<bool(const std::vector<json>&)>& done) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, generous, [&] { return done(events); });
  }
  std::vector<json> copy() {
    std::lock_guard lock(mutex);
    return events;
  }
};

// How many runs have had their last event (execution_terminal).
std::size_t finished_runs(const std::vector<json>& events) {
  std::size_t count = 0;
  for (const auto& event : events) count += event.value("execution_terminal", false) ? 1 : 0;
  return count;
}

class WorkflowWatch : public testing::amc_client_fixture {
 protected:
  void configure(sandbox::sandbox_options& options) override {
    amc_client_fixture::configure(options);
    options.time_scale = 600;  // AMC's minutes become tenths of a second
    options.max_active_per_instance = 10'000;
    options.adhoc_per_day = 10'000;
  }
  void TearDown() override {
    poller_.reset();  // before its client
    amc_client_fixture::TearDown();
  }

  static poll_settings fast() {
    poll_settings settings;
    settings.first_interval = 20ms;
    settings.max_interval = 100ms;
    settings.near_finish_interval = 20ms;
    settings.min_interval = 0ms;
    settings.error_backoff_max = 200ms;
    settings.batched_interval = 50ms;
    return settings;
  }
  void start(poll_settings settings = fast()) {
    poller_ = std::make_unique<poller>(client::poll_source(*client_), settings);
  }

  void save_workflow(const std::string& workflow_id, const std::string& sql) {
    run(api::create_workflow(client_->amc(), context_, {{"workflowId", workflow_id}, {"sqlQuery", sql}}));
  }
  // A run of the saved workflow started as AMC's scheduler starts one.
  json scheduled_run(const std::string& workflow_id) {
    return admin(verb::post, "/_sandbox/executions/scheduled", {{"workflow_id", workflow_id}})["execution"];
  }
  json adhoc_run(const std::string& sql) {
    return run(api::create_execution(client_->amc(), context_, {{"workflow", {{"sqlQuery", sql}}}}));
  }

  workflow_watch_request watch_of(const std::string& workflow_id, seen_events& into, const std::string& since = {}) {
    workflow_watch_request request;
    request.context = context_;
    request.workflow_id = workflow_id;
    request.since = since;
    request.callback = &seen_events::on_event;
    request.user = &into;
    request.destroy_user = &seen_events::on_destroy;
    return request;
  }

  // What a watch saw; kept until the poller (and every destroy_user it
  // runs) is gone.
  seen_events& recorder() { return recorders_.emplace_back(); }

  std::unique_ptr<poller> poller_;
  std::deque<seen_events> recorders_;
};

TEST_F(WorkflowWatch, ReportsEachNewRunOnceThenItsStatusChangesButNotRunsFromBefore) {
  save_workflow("wf_sched", "SELECT 1 -- sandbox: pending=60s duration=120s publishing=60s");
  save_workflow("wf_other", "SELECT 2 -- sandbox: pending=60s duration=120s");
  const auto before = scheduled_run("wf_sched");  // exists before the watch
  EXPECT_EQ(before["executionCategory"], "SCHEDULED");
  // The watch's own clock is in whole seconds: the runs below come after it.
  std::this_thread::sleep_for(1100ms);
  start();
  auto& seen = recorder();
  const auto watch_id = poller_->watch_workflow(watch_of("wf_sched", seen));
  const auto first = scheduled_run("wf_sched");
  const auto second = scheduled_run("wf_sched");
  scheduled_run("wf_other");
  adhoc_run("SELECT 3 -- sandbox: duration=60s");
  ASSERT_TRUE(seen.wait_until([](const auto& events) { return finished_runs(events) >= 2; }));

  std::map<std::string, std::vector<std::string>> statuses;  // by run, in order
  for (const auto& event : seen.copy()) {
    EXPECT_EQ(event["watch_id"], watch_id);
    EXPECT_EQ(event["workflow_id"], "wf_sched");
    EXPECT_FALSE(event["terminal"].get<bool>()) << event.dump();
    const auto id = event["amc_execution_id"].get<std::string>();
    EXPECT_EQ(event["execution"]["workflowExecutionId"], id);
    EXPECT_EQ(event["execution"]["executionCategory"], "SCHEDULED");
    auto& history = statuses[id];
    EXPECT_EQ(event["event"], history.empty() ? "new_execution" : "status") << event.dump();
    EXPECT_EQ(event["previous_status"], history.empty() ? json(nullptr) : json(history.back()));
    history.push_back(event["status"].get<std::string>());
  }
  // Only the two runs made after the watch started, each to its end.
  EXPECT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses.count(before["workflowExecutionId"].get<std::string>()), 0u);
  for (const auto& run : {first, second}) {
    const auto& history = statuses[run["workflowExecutionId"].get<std::string>()];
    ASSERT_FALSE(history.empty());
    EXPECT_EQ(history.back(), "SUCCEEDED");
    EXPECT_EQ(std::set<std::string>(history.begin(), history.end()).size(), history.size()) << "a status twice";
  }
  // The watch goes on after its runs ended, until unwatched.
  EXPECT_EQ(poller_->stats()["watched"], 1);
  EXPECT_EQ(poller_->stats()["new_executions"], 2);
  poller_->unwatch(watch_id);
  {
    std::lock_guard lock(seen.mutex);
    EXPECT_EQ(seen.destroyed, 1);
  }
  EXPECT_THROW(poller_->unwatch(watch_id), error);
}

TEST_F(WorkflowWatch, SinceResumesFromAGivenTimeWithFinishedRunsReportedWithTheirFinalStatus) {
  save_workflow("wf_resume", "SELECT 1 -- sandbox: pending=6s duration=6s");
  const auto earlier = scheduled_run("wf_resume");
  const auto created = earlier["createTime"].get<std::string>();
  // Let it finish before any watch starts.
  start();
  auto& probe = recorder();
  {
    watch_request request;
    request.context = context_;
    request.amc_execution_id = earlier["workflowExecutionId"].get<std::string>();
    request.callback = &seen_events::on_event;
    request.user = &probe;
    poller_->watch(std::move(request));
    ASSERT_TRUE(probe.wait_until([](const auto& events) {
      return !events.empty() && events.back().value("terminal", false);
    }));
  }
  auto& resumed = recorder();
  auto& later = recorder();
  poller_->watch_workflow(watch_of("wf_resume", resumed, created));
  const auto after = format_utc(*parse_utc(created) + 1);
  poller_->watch_workflow(watch_of("wf_resume", later, after));
  ASSERT_TRUE(resumed.wait_until([](const auto& events) { return finished_runs(events) >= 1; }));
  const auto events = resumed.copy();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["event"], "new_execution");
  EXPECT_EQ(events[0]["amc_execution_id"], earlier["workflowExecutionId"]);
  EXPECT_EQ(events[0]["status"], "SUCCEEDED");
  EXPECT_TRUE(events[0]["execution_terminal"].get<bool>());
  // The watch from one second later has nothing to report, also after a
  // few more reads.
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(later.copy().empty());

  workflow_watch_request bad = watch_of("wf resume", later);
  EXPECT_THROW(poller_->watch_workflow(bad), error);
  bad = watch_of("wf_resume", later, "yesterday");
  EXPECT_THROW(poller_->watch_workflow(bad), error);
}

TEST_F(WorkflowWatch, AnInstanceListForOtherWatchesServesTheWorkflowWatch) {
  save_workflow("wf_batched", "SELECT 1 -- sandbox: pending=60s duration=120s");
  // Watches of three long runs of the same instance, refreshed by lists.
  auto settings = fast();
  settings.first_interval = 200ms;
  settings.max_interval = 200ms;
  settings.batched_interval = 30ms;
  start(settings);
  for (int i = 0; i < 3; ++i) {
    const auto execution = adhoc_run("SELECT 2 -- sandbox: duration=10h");
    watch_request request;
    request.context = context_;
    request.amc_execution_id = execution["workflowExecutionId"].get<std::string>();
    request.create_time = execution["createTime"].get<std::string>();
    request.callback = &seen_events::on_event;
    request.user = &recorder();
    poller_->watch(std::move(request));
  }
  auto& seen = recorder();
  poller_->watch_workflow(watch_of("wf_batched", seen));
  std::this_thread::sleep_for(1s);
  const auto scheduled = scheduled_run("wf_batched");
  ASSERT_TRUE(seen.wait_until([](const auto& events) { return finished_runs(events) >= 1; }));
  EXPECT_EQ(seen.copy().front()["amc_execution_id"], scheduled["workflowExecutionId"]);
  const auto stats = poller_->stats();
  // About 1.5 s of reads: dozens of instance-wide lists, each refreshing
  // the workflow watch; its own list reads stay a few (each costs a request).
  EXPECT_GE(stats["batched_reads"].get<int>(), 10) << stats.dump();
  EXPECT_LE(stats["workflow_list_requests"].get<int>(), 3) << stats.dump();
}

TEST_F(WorkflowWatch, AloneItListsItsWorkflowAndTheDoorChecksTheRequest) {
  save_workflow("wf_alone", "SELECT 1 -- sandbox: pending=60s duration=60s");
  start();
  auto& seen = recorder();
  poller_->watch_workflow(watch_of("wf_alone", seen));
  const auto scheduled = scheduled_run("wf_alone");
  ASSERT_TRUE(seen.wait_until([](const auto& events) { return finished_runs(events) >= 1; }));
  const auto stats = poller_->stats();
  EXPECT_GE(stats["workflow_list_requests"].get<int>(), 1);
  EXPECT_EQ(stats["workflow_list_requests"], stats["list_requests"]);
  EXPECT_EQ(stats["batched_reads"], 0);

  // The door: workflow_id with an execution, since without workflow_id.
  const std::string instance = R"("instance": {"instance_id": "amcinstance01", "advertiser_id": "ENTITYAAAAAAAAAAAAA1",
                                               "marketplace_id": "ATVPDKIKX0DER"})";
  const auto decoded = client::decode_watch_request(
      (R"({"credential_id": "conn", "workflow_id": "wf_alone", "since": "2026-11-28T15:26:01Z", )" + instance + "}")
          .c_str());
  EXPECT_EQ(decoded.workflow_id, "wf_alone");
  EXPECT_EQ(decoded.since, "2026-11-28T15:26:01Z");
  for (const std::string fields : {R"("workflow_id": "wf", "amc_execution_id": "x")",
                                   R"("workflow_id": "wf", "create_time": "2026-11-28T15:26:01Z")",
                                   R"("amc_execution_id": "x", "since": "2026-11-28T15:26:01Z")",
                                   R"("workflow_id": "w f")", R"("workflow_id": "wf", "since": "noon")"}) {
    try {
      client::decode_watch_request((R"({"credential_id": "conn", )" + fields + ", " + instance + "}").c_str());
      ADD_FAILURE() << fields << " was accepted";
    } catch (const error& problem) {
      EXPECT_EQ(problem.code_value(), errc::invalid_argument) << fields;
    }
  }
}

}  // namespace
}  // namespace amc::poll
