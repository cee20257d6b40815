// A wait through an execution status libamc does not know (AMC may add one
// at any time): the sandbox's `-- sandbox: status=NAME for=D` marker makes
// the execution report NAME between PENDING and RUNNING. The wait must keep
// polling, warn once naming the status, and end with the real outcome.
#include "api/executions.hpp"
#include "api/operations.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "sandbox/service.hpp"
#include "support/amc_client_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

namespace amc::api {
namespace {

class UnknownStatus : public testing::amc_client_fixture {
 protected:
  void configure(sandbox::sandbox_options& options) override {
    amc_client_fixture::configure(options);
    options.time_scale = 2000;  // 2 simulated hours of the new status take 3.6 s
    options.accounts = {{"ENTITYAAAAAAAAAAAAA1", "Brand One", "ATVPDKIKX0DER"}};
  }
};

TEST_F(UnknownStatus, WaitKeepsGoingThroughAnUnknownStatusAndWarnsOnce) {
  const auto submitted =
      run(submit_execution(client_->amc(), amc::client::internals(*client_).journal(), context_, "",
                           {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: status=SOMETHING_NEW for=2h"}}}},
                           client_->log()));
  std::vector<std::string> seen;  // every status the wait read, in order
  wait_options options;
  options.first_poll = std::chrono::milliseconds(50);
  options.max_poll = std::chrono::milliseconds(200);
  options.timeout = std::chrono::seconds(30);
  options.progress = [&seen](const nlohmann::json& execution, std::chrono::milliseconds) {
    seen.push_back(execution.value("status", ""));
  };
  const auto done =
      run(wait_for_execution(client_->amc(), context_, submitted.amc_execution_id, options, nullptr, client_->log()));
  EXPECT_EQ(done["status"], "SUCCEEDED");

  // The wait did read the new status, more than once, so "warned once" below
  // is a real test, and it went on to the normal statuses after it.
  const auto unknown_reads = std::count(seen.begin(), seen.end(), "SOMETHING_NEW");
  EXPECT_GE(unknown_reads, 2) << "the status lasts 3.6 s and polls are at most 200 ms apart";
  const auto first_unknown = std::find(seen.begin(), seen.end(), "SOMETHING_NEW");
  ASSERT_NE(first_unknown, seen.end());
  EXPECT_NE(std::find(first_unknown, seen.end(), "RUNNING"), seen.end()) << "waited on into RUNNING";
  EXPECT_EQ(seen.back(), "SUCCEEDED");

  int warnings = 0;
  for (const auto& [level, text] : captured_log()) {
    if (text.find("SOMETHING_NEW") == std::string::npos) continue;
    if (level == log_level::warning) {
      ++warnings;
      EXPECT_NE(text.find(submitted.amc_execution_id), std::string::npos) << text;
    }
    EXPECT_LT(static_cast<int>(level), static_cast<int>(log_level::error)) << "not an error: " << text;
  }
  EXPECT_EQ(warnings, 1) << "one warning naming the status, not one per poll";
}

}  // namespace
}  // namespace amc::api
