// A 429 on a create request (createWorkflowExecution, createWorkflow)
// against the sandbox: AMC refused it without acting on it, so the POST is
// sent again, after Retry-After when AMC gives one and after a backoff when
// it does not, and the call succeeds (issue 12 item 3).
#include "api/executions.hpp"

#include "api/operations.hpp"
#include "sandbox/service.hpp"
#include "support/amc_client_fixture.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace amc::api {
namespace {

using boost::beast::http::verb;

class CreateThrottle : public testing::amc_client_fixture, public ::testing::WithParamInterface<int> {
 protected:
  void configure(sandbox::sandbox_options& options) override {
    amc_client_fixture::configure(options);
  }

  // The parameter: Retry-After seconds, or -1 for a 429 without it.
  void throttle_once(const std::string& operation) {
    nlohmann::json rule = {{"kind", "rate_limit"}, {"operation", operation}, {"count", 1}};
    if (GetParam() >= 0) rule["retry_after"] = GetParam();
    else rule["retry_after"] = nullptr;
    admin(verb::post, "/_sandbox/faults", rule);
  }
  // The request log's entries for one operation, oldest first.
  std::vector<nlohmann::json> logged(const std::string& operation) {
    std::vector<nlohmann::json> found;
    const auto log = admin(verb::get, "/_sandbox/requests");
    for (const auto& entry : log["requests"])
      if (entry["operation"] == operation) found.push_back(entry);
    return found;
  }
  void expect_two_posts_honouring_retry_after(const std::string& operation) {
    const auto posts = logged(operation);
    ASSERT_EQ(posts.size(), 2u) << "the throttled POST and the one sent again";
    EXPECT_EQ(posts[0]["method"], "POST");
    EXPECT_EQ(posts[0]["status"], 429);
    EXPECT_EQ(posts[1]["method"], "POST");
    EXPECT_LT(posts[1]["status"].get<int>(), 300);
    if (GetParam() > 0) {
      const auto gap = posts[1]["time_ms"].get<std::int64_t>() - posts[0]["time_ms"].get<std::int64_t>();
      // time_ms is taken when each answer is ready; the second POST's own
      // handling only adds to the gap, so it is at least Retry-After.
      EXPECT_GE(gap, GetParam() * 1000) << "Retry-After was not waited out";
    }
  }
};

TEST_P(CreateThrottle, SubmitIsSentAgainAndSucceeds) {
  throttle_once("createWorkflowExecution");
  const auto submitted =
      run(submit_execution(client_->amc(), amc::client::internals(*client_).journal(), context_, "exec_throttled_once",
                           {{"workflow", {{"sqlQuery", "SELECT 1"}}}}, client_->log()));
  EXPECT_FALSE(submitted.amc_execution_id.empty());
  expect_two_posts_honouring_retry_after("createWorkflowExecution");
}

TEST_P(CreateThrottle, CreateWorkflowIsSentAgainAndSucceeds) {
  throttle_once("createWorkflow");
  const auto created = run(create_workflow(client_->amc(), context_,
                                           {{"workflowId", "wf_throttled_once"}, {"sqlQuery", "SELECT 2"}}));
  EXPECT_EQ(created["workflowId"], "wf_throttled_once");
  expect_two_posts_honouring_retry_after("createWorkflow");
}

INSTANTIATE_TEST_SUITE_P(RetryAfter, CreateThrottle, ::testing::Values(1, -1),
                         [](const ::testing::TestParamInfo<int>& param_info) {
                           return param_info.param >= 0 ? "WithRetryAfter" : "WithoutRetryAfter";
                         });

}  // namespace
}  // namespace amc::api
