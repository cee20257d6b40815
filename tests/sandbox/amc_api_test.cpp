// AMC administration and workflow endpoints, header validation and both
// response shapes, over real sockets.
#include "sandbox_fixture.hpp"

namespace amc::sandbox::testing {
namespace {

TEST(SandboxAdministration, AccountsArePagedWithNextToken) {
  auto options = test_options();
  options.accounts = {{"ENTITY1AAA", "One", "ATVPDKIKX0DER"},
                      {"ENTITY2BBB", "Two", "A1PA6795UKMFR9"},
                      {"ENTITY3CCC", "Three", "A1F83G8C2ARO7P"}};
  options.accounts_page_size = 2;
  running_sandbox sandbox(options);
  // Accounts need only the client id and the bearer token.
  test_http_client::header_list headers = {{"Amazon-Advertising-API-ClientId", sandbox.client_id()},
                                           {"Authorization", "Bearer " + sandbox.access_token()}};
  auto first = sandbox.client().request(verb::get, "/amc/accounts", {}, headers);
  ASSERT_EQ(first.status, 200) << first.body;
  json page = first.json();
  ASSERT_EQ(page["amcAccounts"].size(), 2u);
  EXPECT_EQ(page["amcAccounts"][0]["accountId"], "ENTITY1AAA");
  EXPECT_EQ(page["amcAccounts"][0]["marketplaceId"], "ATVPDKIKX0DER");
  ASSERT_TRUE(page.contains("nextToken"));
  auto second = sandbox.client().request(verb::get, "/amc/accounts?nextToken=" + page["nextToken"].get<std::string>(),
                                         {}, headers);
  json rest = second.json();
  ASSERT_EQ(rest["amcAccounts"].size(), 1u);
  EXPECT_EQ(rest["amcAccounts"][0]["accountId"], "ENTITY3CCC");
  EXPECT_FALSE(rest.contains("nextToken"));
  auto bad_token = sandbox.client().request(verb::get, "/amc/accounts?nextToken=bogus", {}, headers);
  EXPECT_EQ(bad_token.status, 400);
  EXPECT_TRUE(bad_token.json().contains("message"));
}

TEST(SandboxAdministration, InstancesListAndGetInBothShapes) {
  running_sandbox sandbox;
  auto list = sandbox.amc(verb::get, "/amc/instances");
  ASSERT_EQ(list.status, 200) << list.body;
  json instance = list.json()["instances"][0];
  EXPECT_EQ(instance["instanceId"], sandbox.instance_id());
  EXPECT_EQ(instance["entities"][0], sandbox.advertiser_id());
  EXPECT_EQ(instance["apiEndpoint"], sandbox.server().base_url());
  EXPECT_EQ(instance["creationStatus"], "COMPLETED");

  auto flat = sandbox.amc(verb::get, "/amc/instances/" + sandbox.instance_id());
  ASSERT_EQ(flat.status, 200);
  EXPECT_EQ(flat.json()["instanceId"], sandbox.instance_id());
  ASSERT_EQ(sandbox.admin(verb::put, "settings", json{{"response_shape", "wrapped"}}).status, 200);
  auto wrapped = sandbox.amc(verb::get, "/amc/instances/" + sandbox.instance_id());
  EXPECT_EQ(wrapped.json()["instance"]["instanceId"], sandbox.instance_id());

  EXPECT_EQ(sandbox.amc(verb::get, "/amc/instances/amcnothere").status, 404);
  EXPECT_EQ(sandbox.amc(verb::get, "/amc/instances?limit=0").status, 400);
}

TEST(SandboxReporting, RequiresTheFourHeaders) {
  running_sandbox sandbox;
  const std::string target = sandbox.reporting("workflows");
  for (std::size_t skip = 0; skip < 4; ++skip) {
    auto headers = sandbox.amc_headers();
    const std::string missing = headers[skip].first;
    headers.erase(headers.begin() + static_cast<long>(skip));
    auto result = sandbox.client().request(verb::get, target, {}, headers);
    const int expected = missing == "Authorization" ? 401 : 400;
    EXPECT_EQ(result.status, expected) << missing << ": " << result.body;
    EXPECT_EQ(result.json()["code"], std::to_string(expected));
    if (expected == 400) {
      EXPECT_NE(result.json()["details"].get<std::string>().find(missing), std::string::npos);
    }
  }
  auto bogus_token = sandbox.client().request(verb::get, target, {}, sandbox.amc_headers("Atza|forged"));
  EXPECT_EQ(bogus_token.status, 401);
}

TEST(SandboxReporting, WrongAdvertiserOrInstanceIsForbidden) {
  running_sandbox sandbox;
  auto headers = sandbox.amc_headers();
  headers[2].second = "3141592653589793";  // an Ads profile id, a common mistake
  auto profile = sandbox.client().request(verb::get, sandbox.reporting("workflows"), {}, headers);
  ASSERT_EQ(profile.status, 403) << profile.body;
  EXPECT_EQ(profile.json()["code"], "403");
  EXPECT_NE(profile.json()["details"].get<std::string>().find("GET /amc/accounts"), std::string::npos);

  headers[2].second = "ENTITYSOMEONEELSE";
  EXPECT_EQ(sandbox.client().request(verb::get, sandbox.reporting("workflows"), {}, headers).status, 403);
  auto unknown = sandbox.amc(verb::get, "/amc/reporting/amcunknown/workflows");
  EXPECT_EQ(unknown.status, 403);
  auto marketplace = sandbox.amc_headers();
  marketplace[3].second = "A1PA6795UKMFR9";
  EXPECT_EQ(sandbox.client().request(verb::get, sandbox.reporting("workflows"), {}, marketplace).status, 403);
}

TEST(SandboxReporting, WorkflowCrud) {
  running_sandbox sandbox;
  json workflow = {{"workflowId", "Streaming_T.V_Performance-Report2023"},
                   {"sqlQuery", "SELECT campaign, COUNT(*) AS n FROM dsp_impressions GROUP BY 1"},
                   {"outputColumns", json::array({{{"name", "campaign"}, {"dataType", "STRING"}},
                                                  {{"name", "n"}, {"dataType", "LONG"}}})}};
  auto created = sandbox.amc(verb::post, sandbox.reporting("workflows"), workflow);
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.json(), json::object());

  auto duplicate = sandbox.amc(verb::post, sandbox.reporting("workflows"), workflow);
  EXPECT_EQ(duplicate.status, 400);
  EXPECT_EQ(duplicate.json()["details"], "Workflow with ID Streaming_T.V_Performance-Report2023 already exists.");

  auto bad_id = sandbox.amc(verb::post, sandbox.reporting("workflows"),
                            json{{"workflowId", "has space"}, {"sqlQuery", "SELECT 1"}});
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_EQ(bad_id.json()["code"], "400");
  EXPECT_EQ(sandbox.amc(verb::post, sandbox.reporting("workflows"), json{{"workflowId", "no_sql"}}).status, 400);
  EXPECT_EQ(sandbox.amc(verb::post, sandbox.reporting("workflows"), std::string("{not json")).status, 400);

  auto flat = sandbox.amc(verb::get, sandbox.reporting("workflows/Streaming_T.V_Performance-Report2023"));
  ASSERT_EQ(flat.status, 200);
  EXPECT_EQ(flat.json(), workflow);
  sandbox.admin(verb::put, "settings", json{{"response_shape", "wrapped"}});
  auto wrapped = sandbox.amc(verb::get, sandbox.reporting("workflows/Streaming_T.V_Performance-Report2023"));
  EXPECT_EQ(wrapped.json()["workflow"], workflow);
  sandbox.admin(verb::put, "settings", json{{"response_shape", "flat"}});

  json updated = workflow;
  updated["sqlQuery"] = "SELECT 2";
  EXPECT_EQ(sandbox.amc(verb::put, sandbox.reporting("workflows/other"), updated).status, 400);  // id mismatch
  json missing = {{"workflowId", "missing"}, {"sqlQuery", "SELECT 1"}};
  EXPECT_EQ(sandbox.amc(verb::put, sandbox.reporting("workflows/missing"), missing).status, 404);
  ASSERT_EQ(sandbox.amc(verb::put, sandbox.reporting("workflows/Streaming_T.V_Performance-Report2023"), updated).status,
            200);
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows/Streaming_T.V_Performance-Report2023"))
                .json()["sqlQuery"],
            "SELECT 2");

  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows/bad%20id")).status, 400);
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows/unknown")).status, 404);
  EXPECT_EQ(sandbox.amc(verb::delete_, sandbox.reporting("workflows/Streaming_T.V_Performance-Report2023")).status, 200);
  EXPECT_EQ(sandbox.amc(verb::delete_, sandbox.reporting("workflows/Streaming_T.V_Performance-Report2023")).status, 404);
}

TEST(SandboxReporting, WorkflowListIsPaged) {
  running_sandbox sandbox;
  for (int i = 0; i < 3; ++i) {
    json workflow = {{"workflowId", "wf_" + std::to_string(i)}, {"sqlQuery", "SELECT 1"}};
    ASSERT_EQ(sandbox.amc(verb::post, sandbox.reporting("workflows"), workflow).status, 200);
  }
  auto first = sandbox.amc(verb::get, sandbox.reporting("workflows?limit=2")).json();
  ASSERT_EQ(first["workflows"].size(), 2u);
  EXPECT_EQ(first["workflows"][0]["workflowId"], "wf_0");
  auto second = sandbox.amc(verb::get, sandbox.reporting("workflows?limit=2&nextToken=" +
                                                         first["nextToken"].get<std::string>())).json();
  ASSERT_EQ(second["workflows"].size(), 1u);
  EXPECT_EQ(second["workflows"][0]["workflowId"], "wf_2");
  EXPECT_FALSE(second.contains("nextToken"));
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows?limit=101")).status, 400);
}

TEST(SandboxReporting, UnknownRoutesAndMethods) {
  running_sandbox sandbox;
  EXPECT_EQ(sandbox.amc(verb::get, "/amc/nothing").status, 404);
  EXPECT_EQ(sandbox.amc(verb::patch, sandbox.reporting("workflows")).status, 405);
  // Admin paths exist only under /_sandbox/ at the root.
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("_sandbox/stats")).status, 404);
}

}  // namespace
}  // namespace amc::sandbox::testing
