// Every endpoint and every fault once more, over plain HTTP and over HTTPS
// (the client verifies the generated CA and the host name), so that the
// TLS path is exercised as fully as the plain one.
#include "sandbox_fixture.hpp"

#include "common/time.hpp"

#include <sstream>
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

// The spec's Error body, {"code": "<HTTP status>", "details": "…"}, with the
// status it names, and `fragment` somewhere in the details.
void expect_amc_error(const http_result& result, int status, const std::string& fragment) {
  EXPECT_EQ(result.status, status) << result.body;
  const json body = result.json();
  ASSERT_TRUE(body.is_object()) << result.body;
  EXPECT_EQ(body.value("code", ""), std::to_string(status)) << result.body;
  EXPECT_NE(body.value("details", "").find(fragment), std::string::npos) << result.body;
}

// The sandbox answers a successful create/update/delete of a workflow and a
// cancel with an empty object (the spec's Create/Update/DeleteWorkflowResponse
// and UpdateWorkflowExecutionResponse have no properties).
void expect_empty_object(const http_result& result) {
  EXPECT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(result.json(), json::object()) << result.body;
}

test_http_client::header_list with_header(test_http_client::header_list headers, const std::string& name,
                                          const std::string& value) {
  std::erase_if(headers, [&](const auto& header) { return header.first == name; });
  if (!value.empty()) headers.emplace_back(name, value);
  return headers;
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
  auto instance = sandbox.amc(verb::get, "/amc/instances/" + sandbox.instance_id());
  EXPECT_EQ(instance.json()["instanceId"], sandbox.instance_id());
  EXPECT_EQ(instance.header("Content-Type"), "application/vnd.amcinstances.v1+json");

  // Workflows.
  json workflow = {{"workflowId", "transport_wf"}, {"sqlQuery", "SELECT 1 -- sandbox: pending=0 duration=1m publishing=5s parts=2 rows=7"}};
  auto created_workflow = sandbox.amc(verb::post, sandbox.reporting("workflows"), workflow);
  ASSERT_EQ(created_workflow.status, 200) << created_workflow.body;
  expect_empty_object(created_workflow);
  EXPECT_EQ(created_workflow.header("Content-Type"), "application/vnd.amcworkflows.v1+json");
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).json()["workflows"][0]["workflowId"], "transport_wf");
  auto got_workflow = sandbox.amc(verb::get, sandbox.reporting("workflows/transport_wf")).json();
  EXPECT_EQ(got_workflow["workflowId"], "transport_wf");
  EXPECT_EQ(got_workflow["sqlQuery"], workflow["sqlQuery"]);
  expect_empty_object(sandbox.amc(verb::put, sandbox.reporting("workflows/transport_wf"), workflow));

  // Executions through their whole life.
  auto created = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"), json{{"workflowId", "transport_wf"}});
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.header("Content-Type"), "application/vnd.amcworkflowexecutions.v1+json");
  EXPECT_EQ(created.json()["workflowId"], "transport_wf");
  EXPECT_EQ(created.json()["status"], "RUNNING");  // pending=0
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
  std::size_t rows = 0;
  for (const auto& url : urls["downloadUrls"]) {
    auto file = sandbox.client().request(verb::get, target_of(sandbox, url));
    ASSERT_EQ(file.status, 200);
    EXPECT_EQ(file.header("Content-Type"), "text/csv");
    // The header row first (no outputColumns: the sandbox's default columns),
    // then data rows with one field per column.
    std::istringstream text(file.body);
    std::string line;
    ASSERT_TRUE(std::getline(text, line)) << file.body;
    EXPECT_EQ(line, "campaign_id,event_date,impressions,clicks,spend");
    while (std::getline(text, line)) {
      EXPECT_EQ(std::count(line.begin(), line.end(), ','), 4) << line;
      ++rows;
    }
  }
  EXPECT_EQ(rows, 7u);
  auto metadata = sandbox.client().request(verb::get, target_of(sandbox, urls["metadataDownloadUrls"][0]));
  ASSERT_EQ(metadata.status, 200);
  EXPECT_EQ(metadata.json()["workflowExecutionId"], id);
  EXPECT_EQ(metadata.json()["rowCount"], 7);
  EXPECT_EQ(metadata.json()["columns"][0]["name"], "campaign_id");

  const std::string other = sandbox.create_adhoc("SELECT 2");
  auto cancelled = sandbox.amc(verb::put, sandbox.reporting("workflowExecutions/" + other), json{{"status", "CANCELLED"}});
  expect_empty_object(cancelled);
  EXPECT_EQ(cancelled.header("Content-Type"), "application/vnd.amcworkflowexecutions.v1+json");
  EXPECT_EQ(sandbox.get_execution(other)["status"], "CANCELLED");
  expect_empty_object(sandbox.amc(verb::delete_, sandbox.reporting("workflows/transport_wf")));
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows/transport_wf")).status, 404);
}

// The AMC and LwA error answers, with the bodies their specs give.
TEST_P(SandboxTransport, EveryErrorPath) {
  running_sandbox sandbox(options());
  auto& client = sandbox.client();
  const std::string workflows = sandbox.reporting("workflows");

  // 401: no token, an unknown token, an expired token; /amc/accounts has its own body.
  auto no_token = client.request(verb::get, workflows, {}, with_header(sandbox.amc_headers(), "Authorization", ""));
  expect_amc_error(no_token, 401, "Missing Authorization header");
  EXPECT_EQ(no_token.header("Content-Type"), "application/vnd.amcworkflows.v1+json");
  expect_amc_error(client.request(verb::get, workflows, {}, sandbox.amc_headers("Atza|not-a-token")), 401,
                   "not valid");
  auto accounts = client.request(verb::get, "/amc/accounts", {},
                                 with_header(sandbox.amc_headers(), "Authorization", ""));
  EXPECT_EQ(accounts.status, 401);
  EXPECT_TRUE(accounts.json().contains("message")) << accounts.body;
  EXPECT_TRUE(accounts.json().contains("requestId")) << accounts.body;
  sandbox.advance_clock(3601);  // past the access token's lifetime
  expect_amc_error(sandbox.amc(verb::get, workflows), 401, "expired");
  const std::string fresh = sandbox.fresh_access_token();
  auto as_fresh = [&](verb method, const std::string& target, const json& body = json()) {
    return client.request(method, target, body.is_null() ? std::string() : body.dump(), sandbox.amc_headers(fresh));
  };

  // 400: missing headers, a bad workflowId charset, malformed JSON.
  expect_amc_error(client.request(verb::get, workflows, {},
                                  with_header(sandbox.amc_headers(fresh), "Amazon-Advertising-API-AdvertiserId", "")),
                   400, "Amazon-Advertising-API-AdvertiserId");
  expect_amc_error(as_fresh(verb::post, workflows, json{{"workflowId", "bad id!"}, {"sqlQuery", "SELECT 1"}}), 400,
                   "Invalid workflowId 'bad id!'");
  expect_amc_error(as_fresh(verb::post, sandbox.reporting("workflowExecutions"), json{{"workflowId", "bad/id"}}), 400,
                   "Invalid workflowId");
  expect_amc_error(client.request(verb::post, workflows, "{\"workflowId\":", sandbox.amc_headers(fresh)), 400, "");

  // 403: another advertiser, a profile id, another marketplace, an unknown instance.
  expect_amc_error(client.request(verb::get, workflows, {},
                                  with_header(sandbox.amc_headers(fresh), "Amazon-Advertising-API-AdvertiserId",
                                              "ENTITYSOMEONEELSE")),
                   403, "Advertiser ENTITYSOMEONEELSE has no access");
  expect_amc_error(client.request(verb::get, workflows, {},
                                  with_header(sandbox.amc_headers(fresh), "Amazon-Advertising-API-AdvertiserId",
                                              "1234567890")),
                   403, "GET /amc/accounts");
  expect_amc_error(client.request(verb::get, workflows, {},
                                  with_header(sandbox.amc_headers(fresh), "Amazon-Advertising-API-MarketplaceId",
                                              "A1PA6795UKMFR9")),
                   403, "Marketplace A1PA6795UKMFR9");
  expect_amc_error(as_fresh(verb::get, "/amc/reporting/amcunknown/workflows"), 403, "amcunknown");

  // 404: unknown workflow, execution, instance.
  const std::string unknown = "00000000-0000-4000-8000-000000000000";
  expect_amc_error(as_fresh(verb::get, sandbox.reporting("workflows/missing_wf")), 404,
                   "Workflow with ID missing_wf not found.");
  expect_amc_error(as_fresh(verb::get, sandbox.reporting("workflowExecutions/" + unknown)), 404,
                   "Workflow execution with ID " + unknown + " not found.");
  expect_amc_error(as_fresh(verb::put, sandbox.reporting("workflowExecutions/" + unknown), json{{"status", "CANCELLED"}}),
                   404, unknown);
  expect_amc_error(as_fresh(verb::get, sandbox.reporting("workflowExecutions/" + unknown + "/downloadUrls")), 404,
                   unknown);
  expect_amc_error(as_fresh(verb::get, "/amc/instances/amcunknown"), 404, "Instance amcunknown not found.");

  // 422: a saved workflow that does not exist, a list without a filter.
  auto unprocessable = as_fresh(verb::post, sandbox.reporting("workflowExecutions"), json{{"workflowId", "nope"}});
  expect_amc_error(unprocessable, 422, "does not exist");
  EXPECT_EQ(unprocessable.header("Content-Type"), "application/vnd.amcworkflowexecutions.v1+json");
  expect_amc_error(as_fresh(verb::get, sandbox.reporting("workflowExecutions")), 422,
                   "Either minCreationTime or workflowId");

  // 400 on an execution that is not ready or already over.
  auto running = as_fresh(verb::post, sandbox.reporting("workflowExecutions"),
                          json{{"workflow", {{"sqlQuery", "SELECT 1"}}}});
  ASSERT_EQ(running.status, 200) << running.body;
  const std::string id = running.json()["workflowExecutionId"];
  expect_amc_error(as_fresh(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls")), 400,
                   "Execution with ID " + id + " is unavailable for download.");
  expect_empty_object(as_fresh(verb::put, sandbox.reporting("workflowExecutions/" + id), json{{"status", "CANCELLED"}}));
  expect_amc_error(as_fresh(verb::put, sandbox.reporting("workflowExecutions/" + id), json{{"status", "CANCELLED"}}),
                   400, "its status is CANCELLED");

  // No such operation, or not with this method.
  expect_amc_error(as_fresh(verb::get, "/amc/nothing"), 404, "No operation at GET /amc/nothing");
  expect_amc_error(as_fresh(verb::delete_, sandbox.reporting("workflowExecutions")), 405, "DELETE is not allowed");

  // LwA: {"error", "error_description"}.
  auto wrong_secret = sandbox.token_request({{"grant_type", "refresh_token"}, {"refresh_token", sandbox.refresh_token()},
                                             {"client_id", sandbox.client_id()}, {"client_secret", "wrong"}});
  EXPECT_EQ(wrong_secret.status, 401);
  EXPECT_EQ(wrong_secret.json()["error"], "invalid_client") << wrong_secret.body;
  auto unknown_grant = sandbox.token_request({{"grant_type", "refresh_token"}, {"refresh_token", "Atzr|unknown"},
                                              {"client_id", sandbox.client_id()},
                                              {"client_secret", sandbox.client_secret()}});
  EXPECT_EQ(unknown_grant.status, 400);
  EXPECT_EQ(unknown_grant.json()["error"], "invalid_grant") << unknown_grant.body;
  EXPECT_TRUE(unknown_grant.json()["error_description"].is_string());
  auto no_grant_type = sandbox.token_request({{"client_id", sandbox.client_id()}});
  EXPECT_EQ(no_grant_type.status, 400);
  EXPECT_FALSE(no_grant_type.json().value("error", "").empty()) << no_grant_type.body;
}

// Every route of /_sandbox/, with the answers README.md describes.
TEST_P(SandboxTransport, EveryAdminRoute) {
  running_sandbox sandbox(options());

  auto health = sandbox.admin(verb::get, "health");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(health.json()["status"], "ok");
  EXPECT_TRUE(health.json()["time"].get<std::string>().ends_with("Z")) << health.body;

  // settings: read, change (the shape switches at once), refuse an unknown one.
  auto settings = sandbox.admin(verb::get, "settings").json();
  EXPECT_EQ(settings["response_shape"], "flat");
  EXPECT_EQ(settings["client_id"], sandbox.client_id());
  expect_empty_object(sandbox.admin(verb::put, "settings", json{{"response_shape", "wrapped"}, {"max_active_per_instance", 3}}));
  settings = sandbox.admin(verb::get, "settings").json();
  EXPECT_EQ(settings["response_shape"], "wrapped");
  EXPECT_EQ(settings["max_active_per_instance"], 3);
  EXPECT_EQ(sandbox.amc(verb::get, "/amc/instances/" + sandbox.instance_id()).json()["instance"]["instanceId"],
            sandbox.instance_id());
  expect_amc_error(sandbox.admin(verb::put, "settings", json{{"colour", "blue"}}), 400, "unknown setting 'colour'");
  expect_empty_object(sandbox.admin(verb::put, "settings", json{{"response_shape", "flat"}}));

  // scenarios: replace the set, add one in front, and they decide the plan.
  expect_empty_object(sandbox.admin(
      verb::put, "scenarios",
      json{{"default", {{"pending", "0s"}, {"running", "1m"}, {"publishing", "0s"}}},
           {"scenarios", json::array({{{"name", "broken"}, {"sql_contains", "broken_table"}, {"outcome", "FAILED"},
                                       {"reason", "Table broken_table does not exist"}}})}}));
  expect_empty_object(sandbox.admin(verb::post, "scenarios",
                                    json{{"name", "refused"}, {"sql_contains", "refused_table"}, {"outcome", "REJECTED"},
                                         {"reason", "too busy"}}));
  auto scenarios = sandbox.admin(verb::get, "scenarios").json();
  ASSERT_EQ(scenarios["scenarios"].size(), 2u) << scenarios.dump();
  EXPECT_EQ(scenarios["scenarios"][0]["name"], "refused");
  EXPECT_EQ(scenarios["scenarios"][1]["name"], "broken");
  EXPECT_EQ(scenarios["default"]["running"], 60) << scenarios.dump();
  const std::string broken = sandbox.create_adhoc("SELECT * FROM broken_table");
  const std::string refused = sandbox.create_adhoc("SELECT * FROM refused_table");
  EXPECT_EQ(sandbox.get_execution(refused)["status"], "REJECTED");
  EXPECT_EQ(sandbox.get_execution(broken)["status"], "RUNNING");

  // clock: advance and set (frozen), as health and the executions see it.
  auto advanced = sandbox.admin(verb::post, "clock/advance", json{{"seconds", 61}});
  ASSERT_EQ(advanced.status, 200) << advanced.body;
  EXPECT_GE(advanced.json()["clock_offset_seconds"].get<double>(), 61.0);
  json failed = sandbox.get_execution(broken);
  EXPECT_EQ(failed["status"], "FAILED");
  EXPECT_EQ(failed["statusReason"], "Table broken_table does not exist");
  expect_amc_error(sandbox.admin(verb::post, "clock/advance", json::object()), 400, "seconds");

  // faults: add (one and a list), list, delete one, delete all.
  auto added = sandbox.admin(verb::post, "faults", json{{"kind", "latency"}, {"operation", "listWorkflows"}});
  ASSERT_EQ(added.status, 200) << added.body;
  const auto first_fault = added.json()["id"].get<std::uint64_t>();
  auto added_list = sandbox.admin(
      verb::post, "faults",
      json{{"faults", json::array({{{"kind", "error_status"}, {"operation", "getWorkflow"}, {"status", 503}},
                                   {{"kind", "rate_limit"}, {"operation", "deleteWorkflow"}}})}});
  EXPECT_EQ(added_list.json()["ids"].size(), 2u) << added_list.body;
  auto faults = sandbox.admin(verb::get, "faults").json();
  ASSERT_EQ(faults["faults"].size(), 3u) << faults.dump();
  EXPECT_EQ(faults["faults"][1]["kind"], "error_status");
  EXPECT_EQ(faults["faults"][1]["status"], 503);
  expect_empty_object(sandbox.admin(verb::delete_, "faults/" + std::to_string(first_fault)));
  expect_amc_error(sandbox.admin(verb::delete_, "faults/" + std::to_string(first_fault)), 404, "No such fault rule.");
  EXPECT_EQ(sandbox.admin(verb::get, "faults").json()["faults"].size(), 2u);
  expect_amc_error(sandbox.amc(verb::get, sandbox.reporting("workflows/x")), 503, "sandbox fault");
  expect_empty_object(sandbox.admin(verb::delete_, "faults"));
  EXPECT_EQ(sandbox.admin(verb::get, "faults").json()["faults"], json::array());
  expect_amc_error(sandbox.admin(verb::post, "faults", json{{"kind", "meteor_strike"}}), 400, "");

  // grants: make one, use it, list it without its token, revoke it.
  auto grant = sandbox.admin(verb::post, "grants", json{{"scope", "advertising::campaign_management"}});
  ASSERT_EQ(grant.status, 200) << grant.body;
  const std::string grant_id = grant.json()["grant_id"];
  const std::string grant_token = grant.json()["refresh_token"];
  EXPECT_EQ(grant.json()["client_id"], sandbox.client_id());
  const std::string grant_access = sandbox.fresh_access_token(grant_token);
  EXPECT_EQ(sandbox.client().request(verb::get, "/amc/instances", {}, sandbox.amc_headers(grant_access)).status, 200);
  auto grants = sandbox.admin(verb::get, "grants");
  EXPECT_EQ(grants.json()["grants"].size(), 2u) << grants.body;  // the seeded one and this one
  EXPECT_EQ(grants.body.find(grant_token), std::string::npos) << "listings never show tokens";
  EXPECT_EQ(grants.body.find(sandbox.refresh_token()), std::string::npos);
  auto revoked = sandbox.admin(verb::post, "grants/revoke", json{{"grant_id", grant_id}});
  EXPECT_EQ(revoked.json()["revoked"], 1) << revoked.body;
  expect_amc_error(sandbox.client().request(verb::get, sandbox.reporting("workflows"), {},
                                            sandbox.amc_headers(grant_access)),
                   401, "revoked");
  auto refresh_revoked = sandbox.token_request({{"grant_type", "refresh_token"}, {"refresh_token", grant_token},
                                                {"client_id", sandbox.client_id()},
                                                {"client_secret", sandbox.client_secret()}});
  EXPECT_EQ(refresh_revoked.status, 400);
  EXPECT_EQ(refresh_revoked.json()["error"], "invalid_grant");
  auto second = sandbox.admin(verb::post, "grants", json::object()).json();
  EXPECT_EQ(sandbox.admin(verb::post, "grants/revoke", json{{"refresh_token", second["refresh_token"]}}).json()["revoked"], 1);
  auto third = sandbox.admin(verb::post, "grants", json::object()).json();
  EXPECT_EQ(sandbox.admin(verb::delete_, "grants/" + third["grant_id"].get<std::string>()).json()["revoked"], 1);
  expect_amc_error(sandbox.admin(verb::delete_, "grants/grant-none"), 404, "No such grant.");
  expect_amc_error(sandbox.admin(verb::post, "grants/revoke", json::object()), 400, "grant_id");

  // consent-codes: a code without the browser step, exchanged once.
  auto code = sandbox.admin(verb::post, "consent-codes",
                            json{{"redirect_uri", "http://localhost/cb"}, {"client_id", sandbox.client_id()}});
  ASSERT_EQ(code.status, 200) << code.body;
  EXPECT_EQ(code.json()["expires_in"], 300);
  auto exchange = [&] {
    return sandbox.token_request({{"grant_type", "authorization_code"}, {"code", code.json()["code"].get<std::string>()},
                                  {"redirect_uri", "http://localhost/cb"}, {"client_id", sandbox.client_id()},
                                  {"client_secret", sandbox.client_secret()}});
  };
  auto exchanged = exchange();
  EXPECT_EQ(exchanged.status, 200) << exchanged.body;
  EXPECT_TRUE(exchanged.json()["refresh_token"].is_string());
  EXPECT_EQ(exchange().json()["error"], "invalid_grant");
  expect_amc_error(sandbox.admin(verb::post, "consent-codes", json::object()), 400, "redirect_uri");

  // revoke all: the seeded grant too.
  auto all = sandbox.admin(verb::post, "grants/revoke", json{{"all", true}});
  EXPECT_GE(all.json()["revoked"].get<int>(), 2) << all.body;
  expect_amc_error(sandbox.amc(verb::get, sandbox.reporting("workflows")), 401, "revoked");

  // requests: the log (admin calls are not in it) with millisecond times, then cleared.
  auto log = sandbox.admin(verb::get, "requests?limit=2");
  ASSERT_EQ(log.status, 200);
  ASSERT_EQ(log.json()["requests"].size(), 2u) << log.body;
  const json last = log.json()["requests"][1];
  EXPECT_EQ(last["operation"], "listWorkflows");
  EXPECT_EQ(last["status"], 401);
  EXPECT_EQ(last["method"], "GET");
  EXPECT_EQ(last["path"], sandbox.reporting("workflows"));
  EXPECT_EQ(last["time_ms"].get<std::int64_t>() / 1000,
            static_cast<std::int64_t>(*amc::parse_utc(last["time"].get<std::string>())));
  expect_empty_object(sandbox.admin(verb::delete_, "requests"));
  EXPECT_EQ(sandbox.admin(verb::get, "requests").json()["requests"], json::array());

  // stats, then reset: state and counters gone, the seeded grant back.
  auto stats = sandbox.admin(verb::get, "stats").json();
  EXPECT_EQ(stats["executions"], 2);
  EXPECT_EQ(stats["grants"], 5) << stats.dump();
  EXPECT_GT(stats["by_status"]["401"].get<int>(), 0);
  expect_empty_object(sandbox.admin(verb::post, "reset"));
  stats = sandbox.admin(verb::get, "stats").json();
  EXPECT_EQ(stats["executions"], 0);
  EXPECT_EQ(stats["requests"], 0);
  EXPECT_EQ(stats["grants"], 1);
  EXPECT_EQ(sandbox.admin(verb::get, "faults").json()["faults"], json::array());
  const std::string after_reset = sandbox.fresh_access_token();
  EXPECT_EQ(sandbox.client().request(verb::get, "/amc/instances", {}, sandbox.amc_headers(after_reset)).status, 200);

  // clock/set, frozen: health reads exactly that time, a relative window follows it.
  auto set = sandbox.admin(verb::post, "clock/set", json{{"time", "2030-06-15T12:00:00Z"}, {"frozen", true}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json()["time"], "2030-06-15T12:00:00Z");
  EXPECT_EQ(set.json()["frozen"], true);
  EXPECT_EQ(sandbox.admin(verb::get, "health").json()["time"], "2030-06-15T12:00:00Z");
  const std::string token_2030 = sandbox.fresh_access_token();
  auto windowed = sandbox.client().request(verb::post, sandbox.reporting("workflowExecutions"),
                                           json{{"workflow", {{"sqlQuery", "SELECT 1"}}}}.dump(),
                                           sandbox.amc_headers(token_2030));
  ASSERT_EQ(windowed.status, 200) << windowed.body;
  EXPECT_EQ(windowed.json()["timeWindowStart"], "2030-06-14T00:00:00Z");
  EXPECT_EQ(windowed.json()["createTime"], "2030-06-15T12:00:00Z");
  expect_amc_error(sandbox.admin(verb::post, "clock/set", json{{"time", "tomorrow"}}), 400, "format");

  expect_amc_error(sandbox.admin(verb::get, "nothing"), 404, "No admin operation GET /_sandbox/nothing");
  expect_amc_error(sandbox.client().request(verb::post, "/_sandbox/faults", "{not json"), 400, "not valid JSON");
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
  auto failed = sandbox.amc(verb::get, instances);
  expect_amc_error(failed, 502, "Retry later. (sandbox fault)");
  EXPECT_EQ(failed.header("Content-Type"), "application/vnd.amcinstances.v1+json");
  EXPECT_EQ(failed.json().size(), 2u) << failed.body;  // exactly code and details

  fault({{"kind", "rate_limit"}, {"retry_after", 3}, {"operation", "listInstances"}});
  auto limited = sandbox.amc(verb::get, instances);
  expect_amc_error(limited, 429, "rate-limited");
  EXPECT_EQ(limited.header("Retry-After"), "3");
  EXPECT_EQ(limited.header("Content-Type"), "application/vnd.amcinstances.v1+json");
  EXPECT_EQ(limited.json().size(), 2u) << limited.body;

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

  fault({{"kind", "patch_reply"}, {"operation", "listInstances"},
         {"json_patch", {{{"op", "add"}, {"path", "/instances/-"}, {"value", "odd"}}}}});
  auto patched = sandbox.amc(verb::get, instances);
  EXPECT_EQ(patched.status, 200);
  EXPECT_EQ(patched.json()["instances"].back(), "odd") << patched.body;

  fault({{"kind", "replace_reply"}, {"operation", "listInstances"}, {"status", 502}, {"body_text", "[[["}});
  auto replaced = sandbox.amc(verb::get, instances);
  EXPECT_EQ(replaced.status, 502);
  EXPECT_EQ(replaced.body, "[[[");

  // A list that never ends: a fresh nextToken on the page (the reply to a
  // request carrying one is the first page again).
  fault({{"kind", "endless_pages"}, {"operation", "listWorkflowExecutions"}});
  auto endless = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=2000-01-01T00:00:00"));
  EXPECT_EQ(endless.status, 200);
  EXPECT_TRUE(endless.json().contains("nextToken")) << endless.body;

  json stats = sandbox.admin(verb::get, "stats").json();
  EXPECT_EQ(stats["faults_total"], fault_kind_count);
  for (const auto& [kind, count] : stats["faults"].items()) EXPECT_EQ(count, 1) << kind;
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, SandboxTransport, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) { return param_info.param ? "https" : "http"; });

}  // namespace
}  // namespace amc::sandbox::testing
