// When host callbacks may run (amc.h, issue 11): amc_client_set_log and
// amc_client_free return only when no log callback is running or can still
// run; a wait or a download never calls its progress callback after it has
// returned. Each test makes the callback slow, races it against the call
// that must stop it, and checks with atomics that it was not running when
// that call returned and never ran afterwards. Built for TSan too.
#include "amc/amc.h"

#include "client_capi_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace {

using amc::testing::ClientCapi;
using amc::testing::take;
using nlohmann::json;
using namespace std::chrono_literals;

// What a slow callback records.
struct slow_callback {
  std::atomic<bool> running{false};
  std::atomic<int> calls{0};
  std::chrono::milliseconds pause{150};

  void enter() {
    running = true;
    ++calls;
    std::this_thread::sleep_for(pause);
    running = false;
  }
  void wait_until_running() const {
    for (int i = 0; i < 2000 && !running; ++i) std::this_thread::sleep_for(1ms);
  }
};

void slow_log(int, const char*, void* user) { static_cast<slow_callback*>(user)->enter(); }
void slow_progress(const char*, void* user) { static_cast<slow_callback*>(user)->enter(); }

class CallbackLifetime : public ClientCapi {
 protected:
  // Refreshes the token over and over (each refresh logs a debug line)
  // until told to stop.
  void keep_logging() {
    logger_ = std::thread([this] {
      while (!stop_) {
        char* out = nullptr;
        if (amc_auth_refresh(client_, "conn", nullptr, &out) == AMC_OK) amc_free(out);
      }
    });
  }
  void stop_logging() {
    stop_ = true;
    if (logger_.joinable()) logger_.join();
  }
  void TearDown() override {
    stop_logging();
    ClientCapi::TearDown();
  }
  std::string submitted(const std::string& sql) {
    char* out = nullptr;
    const auto submit = request({{"request", {{"workflow", {{"sqlQuery", sql}}}}}});
    EXPECT_EQ(call(amc_execution_submit(client_, submit.dump().c_str(), &out)), AMC_OK) << amc_last_error();
    return json::parse(take(out))["amc_execution_id"];
  }

  std::atomic<bool> stop_{false};
  std::thread logger_;
};

TEST_F(CallbackLifetime, SettingTheLogToNullWaitsForARunningCallbackAndEndsIt) {
  slow_callback log;
  ASSERT_EQ(amc_client_set_log(client_, slow_log, &log, AMC_LOG_DEBUG), AMC_OK);
  keep_logging();
  log.wait_until_running();
  ASSERT_TRUE(log.running) << "the log callback never ran";
  ASSERT_EQ(amc_client_set_log(client_, nullptr, nullptr, AMC_LOG_DEBUG), AMC_OK);
  EXPECT_FALSE(log.running) << "amc_client_set_log(NULL) returned while the callback was running";
  const int calls = log.calls;
  std::this_thread::sleep_for(400ms);  // the refreshes (and their log lines) go on
  stop_logging();
  EXPECT_EQ(log.calls, calls) << "the removed callback ran after amc_client_set_log(NULL) returned";
  EXPECT_FALSE(log.running);
}

TEST_F(CallbackLifetime, ANewLogCallbackReplacesTheOldOneOnlyOnceTheOldIsDone) {
  slow_callback first;
  slow_callback second;
  second.pause = 1ms;
  ASSERT_EQ(amc_client_set_log(client_, slow_log, &first, AMC_LOG_DEBUG), AMC_OK);
  keep_logging();
  first.wait_until_running();
  ASSERT_TRUE(first.running);
  ASSERT_EQ(amc_client_set_log(client_, slow_log, &second, AMC_LOG_DEBUG), AMC_OK);
  EXPECT_FALSE(first.running) << "the old callback was still running when its replacement was set";
  const int calls = first.calls;
  for (int i = 0; i < 2000 && second.calls == 0; ++i) std::this_thread::sleep_for(1ms);
  stop_logging();
  EXPECT_EQ(first.calls, calls) << "the old callback ran after it was replaced";
  EXPECT_GT(second.calls, 0) << "the new callback never ran";
  ASSERT_EQ(amc_client_set_log(client_, nullptr, nullptr, AMC_LOG_DEBUG), AMC_OK);
}

TEST_F(CallbackLifetime, AWaitNeverCallsProgressAfterACancelEndedIt) {
  const auto amc_id = submitted("SELECT 1\n-- sandbox: running=100h");
  slow_callback progress;
  amc_cancel_token* token = nullptr;
  ASSERT_EQ(amc_cancel_token_new(&token), AMC_OK);
  std::thread canceller([&] {
    progress.wait_until_running();
    amc_cancel_token_cancel(token);  // while the callback is running
  });
  char* out = nullptr;
  const auto wait = request({{"amc_execution_id", amc_id}, {"first_poll_ms", 10}, {"max_poll_ms", 10}});
  EXPECT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), token, slow_progress, &progress, &out)),
            AMC_E_CANCELLED);
  EXPECT_FALSE(progress.running) << "amc_execution_wait returned while its progress callback was running";
  const int calls = progress.calls;
  canceller.join();
  amc_cancel_token_free(token);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(progress.calls, calls) << "progress was called after amc_execution_wait returned";
  EXPECT_GT(calls, 0);
}

TEST_F(CallbackLifetime, AWaitNeverCallsProgressAfterItsTimeoutEndedIt) {
  const auto amc_id = submitted("SELECT 1\n-- sandbox: running=100h");
  slow_callback progress;
  progress.pause = 400ms;  // longer than the whole wait
  char* out = nullptr;
  const auto wait =
      request({{"amc_execution_id", amc_id}, {"first_poll_ms", 10}, {"max_poll_ms", 10}, {"timeout_ms", 300}});
  EXPECT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), nullptr, slow_progress, &progress, &out)),
            AMC_E_TIMEOUT);
  EXPECT_FALSE(progress.running) << "amc_execution_wait returned while its progress callback was running";
  const int calls = progress.calls;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(progress.calls, calls) << "progress was called after amc_execution_wait returned";
}

TEST_F(CallbackLifetime, ADownloadNeverCallsProgressAfterItsTimeoutEndedIt) {
  const auto amc_id = submitted("SELECT 1\n-- sandbox: duration=1s parts=4 rows=2000");
  char* out = nullptr;
  const auto wait = request({{"amc_execution_id", amc_id}, {"first_poll_ms", 20}, {"max_poll_ms", 50}});
  ASSERT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), nullptr, nullptr, nullptr, &out)), AMC_OK);
  amc_free(out);
  slow_callback progress;
  progress.pause = 100ms;
  const auto download = request({{"amc_execution_id", amc_id},
                                 {"directory", (directory_.path() / "results").string()},
                                 {"parallelism", 4},
                                 {"timeout_ms", 250}});
  out = nullptr;
  const amc_status status =
      call(amc_results_download(client_, download.dump().c_str(), slow_progress, &progress, &out));
  EXPECT_FALSE(progress.running) << "amc_results_download returned while its progress callback was running";
  const int calls = progress.calls;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(progress.calls, calls) << "progress was called after amc_results_download returned ("
                                   << amc_status_name(status) << ")";
  amc_free(out);
}

}  // namespace
