// The poller through libamc.so and amc.h, as a host uses it: versioned watch
// options, callbacks with user data and its destructor, unwatch from inside
// a callback, the blocking next-event drain, and the stats JSON.
#include "amc/amc.h"

#include "support/sandbox_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string take(char* text) {
  std::string copy = text != nullptr ? text : "";
  amc_free(text);
  return copy;
}

struct host_watch {
  std::mutex* mutex = nullptr;
  std::condition_variable* changed = nullptr;
  amc_poller* poller = nullptr;
  uint64_t id = 0;
  bool unwatch_in_callback = false;
  std::vector<json> events;
  int destroyed = 0;
  amc_status unwatch_status = AMC_OK;
};

void on_event(const char* event_json, void* user) {
  auto& watch = *static_cast<host_watch*>(user);
  std::lock_guard lock(*watch.mutex);
  watch.events.push_back(json::parse(event_json));
  if (watch.unwatch_in_callback) {
    watch.unwatch_in_callback = false;
    watch.unwatch_status = amc_unwatch(watch.poller, watch.id);
  }
  watch.changed->notify_all();
}

void on_destroy(void* user) {
  auto& watch = *static_cast<host_watch*>(user);
  std::lock_guard lock(*watch.mutex);
  ++watch.destroyed;
  watch.changed->notify_all();
}

class PollCapi : public amc::testing::sandbox_fixture {
 protected:
  void configure(amc::sandbox::sandbox_options& options) override {
    options.time_scale = 600;
    options.max_active_per_instance = 10'000;
    options.adhoc_per_day = 10'000;
  }
  void SetUp() override {
    sandbox_fixture::SetUp();
    ASSERT_EQ(amc_client_new(client_config().dump().c_str(), &client_), AMC_OK) << amc_last_error();
    const json credential = {{"credential_id", "conn"}, {"refresh_token", new_grant()}};
    ASSERT_EQ(amc_auth_import(client_, credential.dump().c_str()), AMC_OK) << amc_last_error();
    const auto& instance = server_->service().options().instances.front();
    instance_ = {{"instance_id", instance.instance_id},
                 {"advertiser_id", instance.entity_id},
                 {"marketplace_id", instance.marketplace_id}};
    ASSERT_EQ(amc_poller_new(client_,
                             "{\"first_interval_ms\": 20, \"max_interval_ms\": 100, \"min_interval_ms\": 0,"
                             " \"near_finish_interval_ms\": 20, \"error_backoff_max_ms\": 200, \"batched_interval_ms\": 50}",
                             &poller_),
              AMC_OK)
        << amc_last_error();
  }
  void TearDown() override {
    amc_poller_free(poller_);
    amc_client_free(client_);
    sandbox_fixture::TearDown();
  }

  // Submits an execution; returns its AMC id.
  std::string submit(const std::string& sql, const std::string& execution_id = {}) {
    json request = {{"credential_id", "conn"}, {"instance", instance_}, {"request", {{"workflow", {{"sqlQuery", sql}}}}}};
    if (!execution_id.empty()) request["execution_id"] = execution_id;
    char* out = nullptr;
    EXPECT_EQ(amc_execution_submit(client_, request.dump().c_str(), &out), AMC_OK) << amc_last_error();
    return json::parse(take(out))["amc_execution_id"];
  }
  std::string watch_request(const std::string& amc_id) {
    return json{{"credential_id", "conn"}, {"instance", instance_}, {"amc_execution_id", amc_id}}.dump();
  }
  json stats() {
    char* out = nullptr;
    EXPECT_EQ(amc_poller_stats(poller_, &out), AMC_OK);
    return json::parse(take(out));
  }

  amc_client* client_ = nullptr;
  amc_poller* poller_ = nullptr;
  json instance_;
};

TEST_F(PollCapi, CallbacksSeeEveryChangeAndOneFinalEventThenTheDestructor) {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::unique_ptr<host_watch>> watches;
  std::vector<std::string> requests;
  for (int i = 0; i < 20; ++i) requests.push_back(watch_request(submit("SELECT 1 -- sandbox: duration=30s")));
  for (const auto& request : requests) {
    auto watch = std::make_unique<host_watch>();
    watch->mutex = &mutex;
    watch->changed = &changed;
    amc_watch_options options = {sizeof options, request.c_str(), on_event, watch.get(), on_destroy};
    ASSERT_EQ(amc_watch(poller_, &options, &watch->id), AMC_OK) << amc_last_error();
    EXPECT_NE(watch->id, 0u);
    watches.push_back(std::move(watch));
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(changed.wait_for(lock, 120s, [&] {
    for (const auto& watch : watches)
      if (watch->destroyed == 0) return false;
    return true;
  }));
  for (const auto& watch : watches) {
    int finals = 0;
    for (const auto& event : watch->events) finals += event["terminal"].get<bool>() ? 1 : 0;
    EXPECT_EQ(finals, 1);
    EXPECT_EQ(watch->events.back()["status"], "SUCCEEDED");
    EXPECT_EQ(watch->destroyed, 1);
    EXPECT_EQ(amc_unwatch(poller_, watch->id), AMC_E_NOT_FOUND) << "the watch is over";
  }
  lock.unlock();
  const auto numbers = stats();
  EXPECT_EQ(numbers["watched"], 0);
  EXPECT_EQ(numbers["final_events"], 20);
  EXPECT_GT(numbers["requests_sent"].get<long>(), 0);
  EXPECT_TRUE(numbers["detection_latency_ms"].contains("buckets"));
}

TEST_F(PollCapi, UnwatchFromInsideTheCallbackEndsTheWatchOnce) {
  std::mutex mutex;
  std::condition_variable changed;
  host_watch watch;
  watch.mutex = &mutex;
  watch.changed = &changed;
  watch.poller = poller_;
  watch.unwatch_in_callback = true;
  const auto request = watch_request(submit("SELECT 1 -- sandbox: duration=10h"));
  amc_watch_options options = {sizeof options, request.c_str(), on_event, &watch, on_destroy};
  {
    // The id is known before the first callback can run.
    std::lock_guard hold(mutex);
    ASSERT_EQ(amc_watch(poller_, &options, &watch.id), AMC_OK) << amc_last_error();
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(changed.wait_for(lock, 120s, [&] { return watch.destroyed > 0; }));
  EXPECT_EQ(watch.unwatch_status, AMC_OK);
  EXPECT_EQ(watch.events.size(), 1u);
  EXPECT_EQ(watch.destroyed, 1);
}

TEST_F(PollCapi, HostsWithoutCallbacksDrainEventsWithATimeout) {
  std::map<uint64_t, int> finals;
  const auto request = [&] {
    json body = json::parse(watch_request(submit("SELECT 1 -- sandbox: duration=30s", "exec_capi0001")));
    body.erase("amc_execution_id");
    body["execution_id"] = "exec_capi0001";
    return body.dump();
  }();
  amc_watch_options options = {sizeof options, request.c_str(), nullptr, nullptr, nullptr};
  uint64_t id = 0;
  ASSERT_EQ(amc_watch(poller_, &options, &id), AMC_OK) << amc_last_error();
  json last;
  for (auto until = std::chrono::steady_clock::now() + 120s;
       finals[id] == 0 && std::chrono::steady_clock::now() < until;) {
    char* event = nullptr;
    const auto status = amc_poller_next_event(poller_, 200, &event);
    if (status == AMC_E_TIMEOUT) {
      EXPECT_EQ(event, nullptr);
      continue;
    }
    ASSERT_EQ(status, AMC_OK) << amc_last_error();
    last = json::parse(take(event));
    EXPECT_EQ(last["watch_id"].get<uint64_t>(), id);
    EXPECT_EQ(last["execution_id"], "exec_capi0001");
    if (last["terminal"].get<bool>()) ++finals[id];
    // The execution says it too (amc.h: every execution carries "terminal").
    if (last.contains("execution")) {
      EXPECT_EQ(last["execution"]["terminal"], last["terminal"]) << last;
    }
  }
  EXPECT_EQ(finals[id], 1);
  EXPECT_EQ(last["status"], "SUCCEEDED");
  char* event = nullptr;
  EXPECT_EQ(amc_poller_next_event(poller_, 0, &event), AMC_E_TIMEOUT);
  EXPECT_EQ(event, nullptr);
}

TEST_F(PollCapi, OptionsAreVersionedBySize) {
  const auto request = watch_request(submit("SELECT 1 -- sandbox: duration=10h"));
  uint64_t id = 0;
  amc_watch_options options = {sizeof options, request.c_str(), nullptr, nullptr, nullptr};
  options.size = sizeof(size_t);  // older than any version
  EXPECT_EQ(amc_watch(poller_, &options, &id), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("sizeof(amc_watch_options)"), std::string::npos);
  // A newer, larger struct is fine while its extra members are unset …
  struct newer {
    amc_watch_options v1;
    void* extra;
  } larger{};
  larger.v1 = {sizeof larger, request.c_str(), nullptr, nullptr, nullptr};
  EXPECT_EQ(amc_watch(poller_, &larger.v1, &id), AMC_OK) << amc_last_error();
  EXPECT_EQ(amc_unwatch(poller_, id), AMC_OK);
  // … and refused when it asks for something this library cannot do.
  larger.extra = &larger;
  EXPECT_EQ(amc_watch(poller_, &larger.v1, &id), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("update libamc"), std::string::npos);
}

TEST_F(PollCapi, BadCallsAreRefusedWithAMessage) {
  uint64_t id = 0;
  amc_watch_options options = {sizeof options, "{\"credential_id\": \"conn\"}", nullptr, nullptr, nullptr};
  EXPECT_EQ(amc_watch(poller_, nullptr, &id), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(amc_watch(poller_, &options, &id), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("instance"), std::string::npos);
  const auto typo = json{{"credential_id", "conn"}, {"instance", instance_}, {"amc_executon_id", "x"}}.dump();
  options.request_json = typo.c_str();
  EXPECT_EQ(amc_watch(poller_, &options, &id), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("amc_executon_id"), std::string::npos);
  const auto unknown = json{{"credential_id", "conn"}, {"instance", instance_}, {"execution_id", "exec_nope0001"}}.dump();
  options.request_json = unknown.c_str();
  EXPECT_EQ(amc_watch(poller_, &options, &id), AMC_E_NOT_FOUND);
  EXPECT_EQ(amc_unwatch(poller_, 42), AMC_E_NOT_FOUND);
  EXPECT_EQ(amc_unwatch(nullptr, 42), AMC_E_INVALID_ARGUMENT);
  char* out = nullptr;
  EXPECT_EQ(amc_poller_next_event(poller_, -1, &out), AMC_E_INVALID_ARGUMENT);
  amc_poller* other = nullptr;
  EXPECT_EQ(amc_poller_new(client_, "{\"max_interval_ms\": \"soon\"}", &other), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("max_interval_ms"), std::string::npos);
  EXPECT_EQ(amc_poller_new(nullptr, nullptr, &other), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(other, nullptr);
  amc_poller_free(nullptr);
}

}  // namespace
