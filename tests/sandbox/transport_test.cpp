// Every endpoint and every fault once more, over plain HTTP and over HTTPS
// (the client verifies the generated CA and the host name), so that the
// TLS path is exercised as fully as the plain one.
#include "sandbox_fixture.hpp"

#include <thread>

namespace amc::sandbox::testing {
namespace {

class SandboxTransport : public ::testing::TestWithParam<bool> {
 protected:
  static sandbox_options options() {
    auto options = test_options();
    options.tls = GetParam();
    return options;
  }
};

std::string target_of(running_sandbox& sandbox, const json& url) {
  return url.get<std::string>().substr(sandbox.server().base_url().size());
}

TEST_P(SandboxTransport, EveryEndpoint) {
  running_sandbox sandbox(options());
  EXPECT_EQ(sandbox.server().base_url().starts_with("https://"), GetParam());

  // LwA: consent, code exchange, refresh.
  auto consent = sandbox.client().request(
      verb::get, "/ap/oa?client_id=" + sandbox.client_id() + "&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%2Fcb");
  ASSERT_EQ(consent.status, 302);
  std::string code = consent.header("Location").substr(std::string("http://localhost/cb?code=").size());
  code = code.substr(0, code.find('&'));
  auto exchanged = sandbox.token_request({{"grant_type", "authorization_code"}, {"code", code},
                                          {"redirect_uri", "http://localhost/cb"}, {"client_id", sandbox.client_id()},
                                          {"client_secret", sandbox.client_secret()}});
  ASSERT_EQ(exchanged.status, 200) << exchanged.body;
  EXPECT_FALSE(sandbox.fresh_access_token(exchanged.json()["refresh_token"]).empty());

  // Administration.
  EXPECT_EQ(sandbox.amc(verb::get, "/amc/accounts").json()["amcAccounts"][0]["accountId"], sandbox.advertiser_id());
  EXPECT_EQ(sandbox.amc(verb::get, "/amc/instances").json()["instances"].size(), 1u);
  EXPECT_EQ(sandbox.amc(verb::get, "/amc/instances/" + sandbox.instance_id()).json()["instanceId"], sandbox.instance_id());

  // Workflows.
  json workflow = {{"workflowId", "transport_wf"}, {"sqlQuery", "SELECT 1 -- sandbox: pending=0 duration=1m publishing=5s parts=2 rows=7"}};
  ASSERT_EQ(sandbox.amc(verb::post, sandbox.reporting("workflows"), workflow).status, 200);
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).json()["workflows"].size(), 1u);
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows/transport_wf")).json()["workflowId"], "transport_wf");
  EXPECT_EQ(sandbox.amc(verb::put, sandbox.reporting("workflows/transport_wf"), workflow).status, 200);

  // Executions through their whole life.
  auto created = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"), json{{"workflowId", "transport_wf"}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = created.json()["workflowExecutionId"];
  EXPECT_EQ(sandbox.get_execution(id)["status"], "RUNNING");
  sandbox.advance_clock(61);
  EXPECT_EQ(sandbox.get_execution(id)["status"], "PUBLISHING");
  sandbox.advance_clock(5);
  EXPECT_EQ(sandbox.get_execution(id)["status"], "SUCCEEDED");
  auto listed = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?workflowId=transport_wf"));
  EXPECT_EQ(listed.json()["executions"][0]["workflowExecutionId"], id);
  auto urls = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls")).json();
  ASSERT_EQ(urls["downloadUrls"].size(), 2u);
  std::size_t lines = 0;
  for (const auto& url : urls["downloadUrls"]) {
    auto file = sandbox.client().request(verb::get, target_of(sandbox, url));
    ASSERT_EQ(file.status, 200);
    lines += static_cast<std::size_t>(std::count(file.body.begin(), file.body.end(), '\n'));
  }
  EXPECT_EQ(lines, 7u + 2u);  // rows plus one header per part
  EXPECT_EQ(sandbox.client().request(verb::get, target_of(sandbox, urls["metadataDownloadUrls"][0])).status, 200);

  const std::string other = sandbox.create_adhoc("SELECT 2");
  EXPECT_EQ(sandbox.amc(verb::put, sandbox.reporting("workflowExecutions/" + other), json{{"status", "CANCELLED"}}).status,
            200);
  EXPECT_EQ(sandbox.amc(verb::delete_, sandbox.reporting("workflows/transport_wf")).status, 200);
}

TEST_P(SandboxTransport, EveryFault) {
  running_sandbox sandbox(options());
  const std::string done = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=0 duration=1s publishing=0");
  sandbox.advance_clock(2);
  auto fault = [&](json rule) {
    rule["count"] = 1;
    ASSERT_EQ(sandbox.admin(verb::post, "faults", rule).status, 200);
    sandbox.client().close();  // a fresh connection, so no request is silently retried
  };
  const std::string instances = "/amc/instances";

  fault({{"kind", "latency"}, {"latency_ms", 200}, {"operation", "listInstances"}});
  EXPECT_GE(sandbox.amc(verb::get, instances).elapsed, std::chrono::milliseconds(190));

  fault({{"kind", "error_status"}, {"status", 502}, {"operation", "listInstances"}});
  EXPECT_EQ(sandbox.amc(verb::get, instances).status, 502);

  fault({{"kind", "rate_limit"}, {"retry_after", 3}, {"operation", "listInstances"}});
  auto limited = sandbox.amc(verb::get, instances);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("Retry-After"), "3");

  fault({{"kind", "reset_before_headers"}, {"operation", "listInstances"}});
  auto reset = sandbox.amc(verb::get, instances);
  EXPECT_TRUE(reset.error);
  EXPECT_FALSE(reset.header_received);

  fault({{"kind", "reset_after_headers"}, {"operation", "listInstances"}});
  auto half = sandbox.amc(verb::get, instances);
  EXPECT_TRUE(half.error);
  EXPECT_TRUE(half.header_received);

  fault({{"kind", "truncated_body"}, {"operation", "listInstances"}});
  auto truncated = sandbox.amc(verb::get, instances);
  EXPECT_TRUE(truncated.error);
  EXPECT_TRUE(truncated.header_received);

  fault({{"kind", "malformed_json"}, {"operation", "listInstances"}});
  auto garbled = sandbox.amc(verb::get, instances);
  EXPECT_FALSE(garbled.error);
  EXPECT_TRUE(garbled.json().is_discarded());

  fault({{"kind", "trickle"}, {"trickle_bytes", 100}, {"trickle_interval_ms", 10}, {"operation", "listInstances"}});
  auto trickled = sandbox.amc(verb::get, instances);
  EXPECT_FALSE(trickled.error);
  EXPECT_FALSE(trickled.json().is_discarded());

  fault({{"kind", "expired_download_urls"}});
  auto urls = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + done + "/downloadUrls")).json();
  EXPECT_EQ(sandbox.client().request(verb::get, target_of(sandbox, urls["downloadUrls"][0])).status, 403);

  fault({{"kind", "drop_after_accept"}, {"operation", "createWorkflowExecution"}});
  auto dropped = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                             json{{"workflow", {{"sqlQuery", "SELECT 'dropped'"}}}});
  EXPECT_TRUE(dropped.error);
  auto listed = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=2000-01-01T00:00:00"));
  EXPECT_EQ(listed.json()["executions"].size(), 2u);

  json stats = sandbox.admin(verb::get, "stats").json();
  EXPECT_EQ(stats["faults_total"], fault_kind_count);
  for (const auto& [kind, count] : stats["faults"].items()) EXPECT_EQ(count, 1) << kind;
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, SandboxTransport, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) { return param_info.param ? "https" : "http"; });

}  // namespace
}  // namespace amc::sandbox::testing
