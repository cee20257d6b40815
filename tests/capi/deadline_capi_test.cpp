// Deadlines and throttling through the C ABI (issue 11): a call's timeout
// reaches every HTTP request, so a wait whose every status read is throttled
// still ends at its timeout, with or without Retry-After, and says the
// figure it was given; a throttled call reports retry_after_ms (an integer)
// in amc_last_error_json().
#include "amc/amc.h"

#include "client_capi_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using amc::testing::ClientCapi;
using amc::testing::take;
using boost::beast::http::verb;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

class Deadlines : public ClientCapi, public ::testing::WithParamInterface<int> {
 protected:
  std::string submit_long_run() {
    char* out = nullptr;
    const auto submit = request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: running=100h"}}}}}});
    EXPECT_EQ(call(amc_execution_submit(client_, submit.dump().c_str(), &out)), AMC_OK) << amc_last_error();
    return json::parse(take(out))["amc_execution_id"];
  }
  // retry_after 0: no Retry-After header (the sandbox's null).
  void throttle_status_reads(int retry_after) {
    admin(verb::post, "/_sandbox/faults",
          {{"kind", "rate_limit"},
           {"operation", "getWorkflowExecution"},
           {"count", -1},
           {"retry_after", retry_after > 0 ? json(retry_after) : json(nullptr)}});
  }
};

// GetParam(): the Retry-After seconds of every 429 (0: no header).
TEST_P(Deadlines, AWaitWithEveryStatusReadThrottledEndsAtItsTimeout) {
  const auto amc_id = submit_long_run();
  throttle_status_reads(GetParam());
  const auto wait = request({{"amc_execution_id", amc_id}, {"timeout_ms", 3000}, {"first_poll_ms", 200}});
  char* out = nullptr;
  const auto started = steady_clock::now();
  EXPECT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), nullptr, nullptr, nullptr, &out)), AMC_E_TIMEOUT);
  const auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
  const std::string message = amc_last_error();
  EXPECT_NE(message.find("3000 ms"), std::string::npos) << message;
  EXPECT_NE(message.find("throttling"), std::string::npos) << message;
  // Before issue 11 this took tens of seconds: the reads knew no deadline.
  EXPECT_LT(took, milliseconds(4500)) << message;
  EXPECT_GT(requests_of("getWorkflowExecution"), 0);
  EXPECT_EQ(out, nullptr);
}

TEST_P(Deadlines, AThrottledCallReportsRetryAfterAsWholeMilliseconds) {
  const auto amc_id = submit_long_run();
  throttle_status_reads(GetParam());
  char* out = nullptr;
  const auto get = request({{"amc_execution_id", amc_id}, {"timeout_ms", 1500}});
  const amc_status status = call(amc_execution_get(client_, get.dump().c_str(), &out));
  EXPECT_TRUE(status == AMC_E_THROTTLED || status == AMC_E_TIMEOUT) << amc_status_name(status);
  const auto detail = json::parse(amc_last_error_json());
  if (GetParam() > 0) {
    // Retry-After: 2 is longer than the 1.5 s the call has: AMC's 429 is
    // the answer, with its Retry-After as an integer.
    EXPECT_EQ(status, AMC_E_THROTTLED);
    ASSERT_TRUE(detail.contains("retry_after_ms")) << detail.dump();
    EXPECT_TRUE(detail["retry_after_ms"].is_number_integer()) << detail.dump();
    EXPECT_EQ(detail["retry_after_ms"], GetParam() * 1000) << detail.dump();
    EXPECT_EQ(detail["http_status"], 429);
    EXPECT_FALSE(detail.contains("retry_after")) << "the raw header text is not part of the contract";
  } else {
    EXPECT_FALSE(detail.contains("retry_after_ms")) << "no Retry-After, no retry_after_ms: " << detail.dump();
  }
}

std::string retry_after_name(const ::testing::TestParamInfo<int>& param) {
  return param.param > 0 ? "WithRetryAfter" : "WithoutRetryAfter";
}
INSTANTIATE_TEST_SUITE_P(RetryAfter, Deadlines, ::testing::Values(2, 0), retry_after_name);

using CallDeadline = ClientCapi;

TEST_F(CallDeadline, EveryHttpRequestOfACallCarriesItsDeadline) {
  // A status read answered only after 3 s, with a call timeout of 1 s: the
  // read's own HTTP request must give up at the call's deadline, not at
  // the client's read timeout.
  char* out = nullptr;
  const auto submit = request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: running=100h"}}}}}});
  ASSERT_EQ(call(amc_execution_submit(client_, submit.dump().c_str(), &out)), AMC_OK);
  const auto amc_id = json::parse(take(out))["amc_execution_id"];
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "latency"}, {"operation", "getWorkflowExecution"}, {"count", -1}, {"latency_ms", 3000}});
  const auto started = steady_clock::now();
  EXPECT_EQ(call(amc_execution_get(client_, request({{"amc_execution_id", amc_id}, {"timeout_ms", 1000}}).dump().c_str(),
                                   &out)),
            AMC_E_TIMEOUT);
  EXPECT_LT(steady_clock::now() - started, milliseconds(1900)) << amc_last_error();
  // The failing phase (a typed field inside the core) as amc_last_error_json()
  // has always given it.
  EXPECT_EQ(json::parse(amc_last_error_json())["phase"], "read_headers") << amc_last_error_json();
  admin(verb::delete_, "/_sandbox/faults");
  ASSERT_EQ(call(amc_execution_cancel(client_, request({{"amc_execution_id", amc_id}}).dump().c_str(), &out)), AMC_OK);
  amc_free(out);
}

}  // namespace
