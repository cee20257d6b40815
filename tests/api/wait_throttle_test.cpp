// wait_for_execution against the sandbox when AMC throttles the status reads
// for longer than the HTTP retry policy waits: the throttle must not end the
// caller's wait (it is logged once), the next read honours Retry-After, and
// the wait's own timeout still bounds it.
#include "api/executions.hpp"

#include "api/operations.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "sandbox/service.hpp"
#include "support/amc_client_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace amc::api {
namespace {

using boost::beast::http::verb;
using namespace std::chrono_literals;

class WaitThrottle : public testing::amc_client_fixture {
 protected:
  void configure(sandbox::sandbox_options& options) override {
    amc_client_fixture::configure(options);
    options.time_scale = 2000;  // AMC's minutes become milliseconds
  }
  // The transport gives up on a 429 after one wait, so that a short burst
  // of throttles already outlasts it and reaches the wait loop.
  nlohmann::json client_changes() override {
    return {{"retry", {{"max_attempts", 1}, {"max_throttle_waits", 1}}}};
  }

  std::string submit(const std::string& sql) {
    return run(submit_execution(client_->amc(), amc::client::internals(*client_).journal(), context_, "", {{"workflow", {{"sqlQuery", sql}}}},
                                client_->log()))
        .amc_execution_id;
  }
  nlohmann::json wait(const std::string& amc_id, std::chrono::milliseconds timeout) {
    wait_options options;
    options.first_poll = 50ms;
    options.max_poll = 200ms;
    options.timeout = timeout;
    return run(wait_for_execution(client_->amc(), context_, amc_id, options, nullptr, client_->log()));
  }
  void throttle_status_reads(long count, int retry_after_seconds) {
    admin(verb::post, "/_sandbox/faults",
          {{"kind", "rate_limit"},
           {"operation", "getWorkflowExecution"},
           {"count", count},
           {"retry_after", retry_after_seconds}});
  }
  std::uint64_t throttles_sent() { return admin(verb::get, "/_sandbox/stats")["faults"]["rate_limit"]; }
  // Log lines that report the throttled wait, at any level.
  std::vector<log_line> throttle_lines() const {
    const auto lines = captured_log();
    std::vector<log_line> found;
    std::copy_if(lines.begin(), lines.end(), std::back_inserter(found),
                 [](const auto& line) { return line.text.find("throttling the status reads") != std::string::npos; });
    return found;
  }
};

TEST_F(WaitThrottle, ThrottledStatusReadsDoNotEndTheWait) {
  const auto amc_id = submit("SELECT 1");
  // 6 throttles = 3 reads the transport gives up on (2 sends each).
  throttle_status_reads(6, 0);
  const auto done = wait(amc_id, 30s);
  EXPECT_EQ(done["status"], "SUCCEEDED");
  EXPECT_EQ(throttles_sent(), 6u) << "every throttle reached the client";
  const auto lines = throttle_lines();
  ASSERT_EQ(lines.size(), 1u) << "logged once, not once per throttled read";
  EXPECT_EQ(lines[0].level, log_level::warning);
  EXPECT_NE(lines[0].text.find(amc_id), std::string::npos) << lines[0].text;
}

TEST_F(WaitThrottle, NextReadHonoursRetryAfter) {
  client_ = make_client({{"retry", {{"max_throttle_waits", 0}}}});  // each 429 reaches the wait at once
  const auto amc_id = submit("SELECT 1");
  throttle_status_reads(2, 1);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(wait(amc_id, 30s)["status"], "SUCCEEDED");
  // Two reads asked for a second each; the wait's own 50 ms and 100 ms
  // polls would have been much quicker.
  EXPECT_GE(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(throttles_sent(), 2u);
}

// The wait decides on AMC's Retry-After as a typed field of the error
// (error::retry_after()), never on the error's JSON, which only capi/ writes.
TEST_F(WaitThrottle, AThrottledReadCarriesRetryAfterTyped) {
  client_ = make_client({{"retry", {{"max_throttle_waits", 0}}}});  // the 429 comes back at once
  const auto amc_id = submit("SELECT 1");
  throttle_status_reads(1, 2);
  try {
    run(get_execution(client_->amc(), context_, amc_id));
    FAIL() << "the read was throttled";
  } catch (const error& throttled) {
    EXPECT_EQ(throttled.code_value(), errc::throttled) << throttled.message();
    EXPECT_EQ(throttled.retry_after(), std::optional<std::chrono::milliseconds>(2000ms));
    EXPECT_EQ(throttled.phase(), error_phase::none) << "an answer, not a transport failure";
    EXPECT_FALSE(throttled.detail().contains("retry_after_ms")) << throttled.detail().dump();
  }
  // A 429 without Retry-After (the sandbox's null; 0 sends "Retry-After: 0").
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "rate_limit"}, {"operation", "getWorkflowExecution"}, {"count", 1}, {"retry_after", nullptr}});
  try {
    run(get_execution(client_->amc(), context_, amc_id));
    FAIL() << "the read was throttled";
  } catch (const error& throttled) {
    EXPECT_EQ(throttled.code_value(), errc::throttled) << throttled.message();
    EXPECT_FALSE(throttled.retry_after());
  }
}

TEST_F(WaitThrottle, TheWaitsTimeoutStillBoundsAThrottle) {
  const auto amc_id = submit("SELECT 1");
  throttle_status_reads(-1, 0);  // until cleared
  std::string message;
  EXPECT_EQ(testing::error_code_of([&] { wait(amc_id, 1500ms); }, &message), errc::timeout);
  EXPECT_NE(message.find("throttling"), std::string::npos) << message;
  EXPECT_GE(throttles_sent(), 2u);
  // After an endless storm the message says that every read was throttled.
  EXPECT_NE(message.find("AMC was throttling the status reads: every one throttled"), std::string::npos) << message;
}

}  // namespace
}  // namespace amc::api
