// The HTTP layer's log lines as a client's host sees them (issue 21 point
// 4), against the sandbox's injected faults: each line names the AMC or
// Login with Amazon operation that retried or waited, at INFO, and no line
// holds a token, the client secret or a refresh token (the fixture checks
// every captured line for those at TearDown).
#include "api/operations.hpp"

#include "api/executions.hpp"
#include "auth/token_manager.hpp"
#include "common/log.hpp"
#include "support/amc_client_fixture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace amc::api {
namespace {

using boost::beast::http::verb;

class HttpLog : public testing::amc_client_fixture {
 protected:
  nlohmann::json client_changes() override { return {{"retry", {{"max_attempts", 4}}}}; }

  std::vector<log_line> lines_starting(const std::string& operation) const {
    std::vector<log_line> found;
    for (auto& line : captured_log())
      if (line.text.rfind(operation + ": ", 0) == 0) found.push_back(line);
    return found;
  }
  static std::string dump(const std::vector<log_line>& lines) {
    std::string text;
    for (const auto& line : lines) text += line.text + "\n";
    return text;
  }
  void fault(const nlohmann::json& rule) { admin(verb::post, "/_sandbox/faults", rule); }
};

TEST_F(HttpLog, AStatusReadRetriedAfter503sIsLoggedAsGetExecution) {
  const auto created = run(create_execution(client_->amc(), context_, {{"workflow", {{"sqlQuery", "SELECT 1"}}}}));
  const std::string amc_id = created["workflowExecutionId"];
  fault({{"kind", "error_status"}, {"status", 503}, {"operation", "getWorkflowExecution"}, {"count", 2}});
  EXPECT_FALSE(run(get_execution(client_->amc(), context_, amc_id)).empty());
  const auto lines = lines_starting("get_execution");
  ASSERT_EQ(lines.size(), 2u) << dump(captured_log());
  for (const auto& line : lines) {
    EXPECT_EQ(line.level, log_level::info) << line.text;
    EXPECT_NE(line.text.find("GET " + server_->base_url() + "/amc/reporting/amcinstance01/workflowExecutions/" + amc_id +
                             " answered HTTP 503"),
              std::string::npos)
        << line.text;
  }
  EXPECT_NE(lines[1].text.find("retry 2 of 3 in "), std::string::npos) << lines[1].text;
}

TEST_F(HttpLog, AThrottledListIsLoggedWithItsRetryAfterWait) {
  fault({{"kind", "rate_limit"}, {"operation", "listWorkflowExecutions"}, {"count", 1}, {"retry_after", 1}});
  run(list_executions(client_->amc(), context_, {{"workflowId", "wf_none"}}));
  const auto lines = lines_starting("list_executions");
  ASSERT_EQ(lines.size(), 1u) << dump(captured_log());
  EXPECT_EQ(lines[0].level, log_level::info);
  EXPECT_NE(lines[0].text.find("answered HTTP 429 (throttled); waiting 1000 ms (as Retry-After asks)"),
            std::string::npos)
      << lines[0].text;
}

TEST_F(HttpLog, ATokenRefreshRetriedAgainstLoginWithAmazonIsLoggedWithoutASecret) {
  fault({{"kind", "error_status"}, {"status", 500}, {"operation", "lwaToken"}, {"count", 2}});
  const std::string token = run(amc::client::internals(*client_).tokens().refresh("conn", ""));
  EXPECT_FALSE(token.empty());
  const auto lines = lines_starting("token refresh");
  ASSERT_EQ(lines.size(), 2u) << dump(captured_log());
  EXPECT_NE(lines[0].text.find("POST " + server_->base_url() + "/auth/o2/token answered HTTP 500; retry 1 of 3"),
            std::string::npos)
      << lines[0].text;
  EXPECT_NE(lines[1].text.find("retry 2 of 3"), std::string::npos) << lines[1].text;
  for (const auto& line : lines) {
    EXPECT_EQ(line.level, log_level::info) << line.text;
    EXPECT_EQ(line.text.find(token), std::string::npos) << "the new access token in: " << line.text;
    for (const char* secret : {"refresh_token", "client_secret", "Bearer", "Authorization"})
      EXPECT_EQ(line.text.find(secret), std::string::npos) << secret << " in " << line.text;
  }
}

}  // namespace
}  // namespace amc::api
