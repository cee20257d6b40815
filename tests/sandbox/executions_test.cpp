// Workflow executions: creation rules, the simulated life cycle on the
// sandbox clock, cancel, list, quotas, download URLs and result files.
#include "sandbox_fixture.hpp"

#include <set>
#include <sstream>
#include <thread>

namespace amc::sandbox::testing {
namespace {

// Default plan: PENDING 60 s, RUNNING 900 s, PUBLISHING 10 s (simulated).
TEST(SandboxExecutions, LifeCycleFollowsTheClock) {
  running_sandbox sandbox;
  const std::string id = sandbox.create_adhoc("SELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY 1");
  json pending = sandbox.get_execution(id);
  EXPECT_EQ(pending["status"], "PENDING");
  EXPECT_EQ(pending["executionCategory"], "AD_HOC");
  EXPECT_TRUE(pending["workflowId"].get<std::string>().starts_with("transient_"));
  EXPECT_EQ(pending["outputChannels"][0]["status"], "PENDING");

  auto early = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls"));
  EXPECT_EQ(early.status, 400);
  EXPECT_EQ(early.json()["details"], "Execution with ID " + id + " is unavailable for download.");

  sandbox.advance_clock(61);
  json running = sandbox.get_execution(id);
  EXPECT_EQ(running["status"], "RUNNING");
  EXPECT_NE(running["lastUpdatedTime"], pending["lastUpdatedTime"]);
  sandbox.advance_clock(900);
  EXPECT_EQ(sandbox.get_execution(id)["status"], "PUBLISHING");
  sandbox.advance_clock(10);
  json done = sandbox.get_execution(id);
  EXPECT_EQ(done["status"], "SUCCEEDED");
  EXPECT_EQ(done["outputChannels"][0]["status"], "AVAILABLE");
  EXPECT_TRUE(done["outputS3URI"].get<std::string>().starts_with("s3://"));
  EXPECT_FALSE(done.contains("sqlQuery"));
  auto with_sql = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "?includeWorkflow=true"));
  EXPECT_EQ(with_sql.json()["sqlQuery"], "SELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY 1");
}

TEST(SandboxExecutions, TimeScaleMakesTwentyMinutesTakeTwoSeconds) {
  auto options = test_options();
  options.time_scale = 600;
  running_sandbox sandbox(options);
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=0s duration=20m publishing=0s");
  EXPECT_EQ(sandbox.get_execution(id)["status"], "RUNNING");
  const auto started = std::chrono::steady_clock::now();
  std::string status;
  while (std::chrono::steady_clock::now() - started < std::chrono::seconds(10)) {
    status = sandbox.get_execution(id)["status"];
    if (status != "RUNNING") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status, "SUCCEEDED");
  // 1200 simulated seconds at 600x: 2 s of wall time (loose bounds for busy CI machines).
  EXPECT_GE(took, std::chrono::milliseconds(1000));
  EXPECT_LE(took, std::chrono::milliseconds(6000));
}

TEST(SandboxExecutions, MarkersSetFailureRejectionPartsAndRows) {
  running_sandbox sandbox;
  const std::string failing = sandbox.create_adhoc("SELECT 1\n-- sandbox: fail \"Table dsp_x does not exist\" duration=5m");
  const std::string rejected = sandbox.create_adhoc("SELECT 1 -- sandbox: reject \"too many overlapping runs\"");
  const std::string parts = sandbox.create_adhoc("SELECT 1 -- sandbox: parts=3 rows=10");
  EXPECT_EQ(sandbox.get_execution(rejected)["status"], "REJECTED");
  EXPECT_EQ(sandbox.get_execution(rejected)["statusReason"], "too many overlapping runs");
  sandbox.advance_clock(60 + 300);
  json failed = sandbox.get_execution(failing);
  EXPECT_EQ(failed["status"], "FAILED");
  EXPECT_EQ(failed["statusReason"], "Table dsp_x does not exist");
  EXPECT_EQ(failed["outputChannels"][0]["status"], "FAILED");
  sandbox.advance_clock(700);
  ASSERT_EQ(sandbox.get_execution(parts)["status"], "SUCCEEDED");

  auto urls = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + parts + "/downloadUrls"));
  ASSERT_EQ(urls.status, 200) << urls.body;
  json body = urls.json();
  ASSERT_EQ(body["downloadUrls"].size(), 3u);
  ASSERT_EQ(body["metadataDownloadUrls"].size(), 1u);
  std::size_t data_rows = 0;
  for (const auto& url : body["downloadUrls"]) {
    std::string target = url.get<std::string>().substr(sandbox.server().base_url().size());
    auto file = sandbox.client().request(verb::get, target);
    ASSERT_EQ(file.status, 200) << file.body;
    EXPECT_EQ(file.header("Content-Type"), "text/csv");
    std::istringstream lines(file.body);
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line, "campaign_id,event_date,impressions,clicks,spend");
    while (std::getline(lines, line)) ++data_rows;
  }
  EXPECT_EQ(data_rows, 10u);
  auto metadata = sandbox.client().request(
      verb::get, body["metadataDownloadUrls"][0].get<std::string>().substr(sandbox.server().base_url().size()));
  EXPECT_EQ(metadata.json()["rowCount"], 10);

  auto bad_marker = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                                json{{"workflow", {{"sqlQuery", "SELECT 1 -- sandbox: parts=9"}}}});
  EXPECT_EQ(bad_marker.status, 400);
}

TEST(SandboxExecutions, DownloadUrlsAreSignedAndExpire) {
  running_sandbox sandbox;
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=0 duration=1s publishing=0");
  sandbox.advance_clock(5);
  auto urls = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls")).json();
  std::string target = urls["downloadUrls"][0].get<std::string>().substr(sandbox.server().base_url().size());
  EXPECT_EQ(sandbox.client().request(verb::get, target).status, 200);
  std::string tampered = target;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  auto forged = sandbox.client().request(verb::get, tampered);
  EXPECT_EQ(forged.status, 403);
  EXPECT_NE(forged.body.find("SignatureDoesNotMatch"), std::string::npos);
  sandbox.advance_clock(601);  // default lifetime: 10 minutes
  auto expired = sandbox.client().request(verb::get, target);
  EXPECT_EQ(expired.status, 403);
  EXPECT_NE(expired.body.find("Request has expired"), std::string::npos);
}

TEST(SandboxExecutions, CreateValidation) {
  running_sandbox sandbox;
  ASSERT_EQ(sandbox.amc(verb::post, sandbox.reporting("workflows"),
                        json{{"workflowId", "saved"}, {"sqlQuery", "SELECT CUSTOM_PARAMETER('brand') FROM t"},
                             {"inputParameters", json::array({{{"name", "brand"}, {"dataType", "STRING"}}})}})
                .status,
            200);
  auto create = [&](const json& body) { return sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"), body); };
  auto expect = [&](const json& body, int status, const std::string& fragment) {
    auto result = create(body);
    EXPECT_EQ(result.status, status) << body.dump() << " -> " << result.body;
    EXPECT_EQ(result.json().value("code", ""), std::to_string(status)) << result.body;
    EXPECT_NE(result.json().value("details", "").find(fragment), std::string::npos) << result.body;
  };
  expect(json{{"workflowId", "saved"}, {"workflow", {{"sqlQuery", "SELECT 1"}}}}, 400, "cannot be combined");
  expect(json::object(), 400, "required");
  expect(json{{"workflowId", "bad id!"}}, 400, "Invalid workflowId");
  expect(json{{"workflowId", "nope"}}, 422, "does not exist");
  expect(json{{"workflowId", "saved"}}, 422, "brand");
  expect(json{{"workflowId", "saved"}, {"parameterValues", {{"brand", "x"}}}, {"timeWindowType", "EXPLICIT"},
              {"timeWindowStart", "2026-01-01T00:00:00"}},
         400, "together");
  expect(json{{"workflowId", "saved"}, {"parameterValues", {{"brand", "x"}}}, {"timeWindowEnd", "2026-01-01T00:00:00"}},
         400, "together");
  expect(json{{"workflowId", "saved"}, {"parameterValues", {{"brand", "x"}}}, {"workflowExecutionTimeoutSeconds", 899}},
         400, "at least 900");
  expect(json{{"workflowId", "saved"}, {"parameterValues", {{"brand", "x"}}}, {"timeWindowType", "YESTERDAY"}}, 400,
         "timeWindowType");
  expect(json{{"workflowId", "saved"}, {"parameterValues", {{"brand", "x"}}}, {"timeWindowType", "EXPLICIT"},
              {"timeWindowStart", "2026-02-01T00:00:00"}, {"timeWindowEnd", "2026-01-01T00:00:00"}},
         400, "before");

  // A valid saved-workflow run: explicit window, number parameter, timeout as text.
  auto ok = create(json{{"workflowId", "saved"},
                        {"timeWindowType", "EXPLICIT"},
                        {"timeWindowStart", "2026-01-01T00:00:00"},
                        {"timeWindowEnd", "2026-01-08T00:00:00Z"},
                        {"timeWindowTimeZone", "America/New_York"},
                        {"parameterValues", {{"brand", 42}}},
                        {"workflowExecutionTimeoutSeconds", "900"},
                        {"ignoreDataGaps", "True"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  json execution = ok.json();
  EXPECT_EQ(execution["workflowId"], "saved");
  EXPECT_EQ(execution["status"], "PENDING");
  // The zone-less start is New York wall-clock time (EST, UTC-5); the end's
  // own `Z` wins over the zone.
  EXPECT_EQ(execution["timeWindowStart"], "2026-01-01T05:00:00Z");
  EXPECT_EQ(execution["timeWindowEnd"], "2026-01-08T00:00:00Z");
  EXPECT_EQ(execution["timeWindowStartOriginal"], "2026-01-01T00:00:00");
  EXPECT_EQ(execution["timeWindowEndOriginal"], "2026-01-08T00:00:00Z");
  EXPECT_EQ(execution["timeWindowTimeZoneOriginal"], "America/New_York");
  EXPECT_EQ(execution["parameterValues"]["brand"], "42");
  EXPECT_EQ(execution["workflowExecutionTimeoutSeconds"], 900);
  EXPECT_EQ(execution["ignoreDataGaps"], true);
  EXPECT_FALSE(execution.contains("executionCategory"));

  // Inline workflow with its own id.
  auto named = create(json{{"workflow", {{"workflowId", "adhoc.v1"}, {"sqlQuery", "SELECT 1"}}}});
  EXPECT_EQ(named.json()["workflowId"], "adhoc.v1");
}

TEST(SandboxExecutions, DryRunSucceedsAtOnceWithoutOutputOrQuota) {
  auto options = test_options();
  options.adhoc_per_day = 1;
  running_sandbox sandbox(options);
  auto dry = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                         json{{"workflow", {{"sqlQuery", "SELECT 1"}}}, {"dryRun", true}});
  ASSERT_EQ(dry.status, 200);
  EXPECT_EQ(dry.json()["status"], "SUCCEEDED");
  std::string id = dry.json()["workflowExecutionId"];
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls")).status, 400);
  // The one ad-hoc run of the day is still available.
  EXPECT_EQ(sandbox.get_execution(sandbox.create_adhoc("SELECT 1"))["status"], "PENDING");
}

TEST(SandboxExecutions, WrappedShapeWrapsCreateAndGet) {
  auto options = test_options();
  options.shape = response_shape::wrapped;
  running_sandbox sandbox(options);
  auto created = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                             json{{"workflow", {{"sqlQuery", "SELECT 1"}}}});
  ASSERT_EQ(created.status, 200);
  ASSERT_TRUE(created.json().contains("workflowExecution")) << created.body;
  std::string id = created.json()["workflowExecution"]["workflowExecutionId"];
  auto got = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id));
  EXPECT_EQ(got.json()["workflowExecution"]["status"], "PENDING");
  // Switching at run time changes the next answer.
  sandbox.admin(verb::put, "settings", json{{"response_shape", "flat"}});
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id)).json()["status"], "PENDING");
}

// The status answer to a keep-alive request is rendered once per phase and
// sent as it was rendered (reply::wire); one that closes the connection is
// built per request. Both say the same, and a phase change shows at once.
TEST(SandboxExecutions, StatusAnswerIsTheSameRenderedOnceOrBuiltPerRequest) {
  running_sandbox sandbox;
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=1m duration=1h");
  const std::string path = sandbox.reporting("workflowExecutions/" + id);
  auto first = sandbox.amc(verb::get, path);   // renders
  auto second = sandbox.amc(verb::get, path);  // sends what was rendered
  auto closing_headers = sandbox.amc_headers();
  closing_headers.emplace_back("Connection", "close");
  auto closing = sandbox.client().request(verb::get, path, {}, closing_headers);
  sandbox.client().close();
  for (const auto* answer : {&first, &second, &closing}) {
    ASSERT_FALSE(answer->error) << answer->error.message();
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->header("Content-Type"), "application/vnd.amcworkflowexecutions.v1+json");
    EXPECT_EQ(answer->header("Server"), "amc-sandbox");
    EXPECT_EQ(answer->header("Content-Length"), std::to_string(answer->body.size()));
    EXPECT_EQ(answer->body, first.body);
  }
  EXPECT_EQ(first.json()["status"], "PENDING");
  EXPECT_EQ(second.local_port, first.local_port);  // the keep-alive connection stayed open
  EXPECT_EQ(first.header("Connection"), "");
  EXPECT_EQ(closing.header("Connection"), "close");

  sandbox.advance_clock(61);
  auto running = sandbox.amc(verb::get, path);
  EXPECT_EQ(running.json()["status"], "RUNNING") << running.body;
  EXPECT_EQ(sandbox.amc(verb::get, path).body, running.body);
  // A different shape is a different answer, rendered on its own.
  sandbox.admin(verb::put, "settings", json{{"response_shape", "wrapped"}});
  EXPECT_EQ(sandbox.amc(verb::get, path).json()["workflowExecution"]["status"], "RUNNING");
  sandbox.admin(verb::put, "settings", json{{"response_shape", "flat"}});
  EXPECT_EQ(sandbox.amc(verb::get, path).body, running.body);
}

// The phase change shows in the rendered answer as the clock moves on by
// itself (no admin call that resets the rendering).
TEST(SandboxExecutions, StatusAnswerRenderedOncePerPhaseFollowsTheClock) {
  auto options = test_options();
  options.time_scale = 600;  // 30 s of AMC time in 50 ms
  running_sandbox sandbox(options);
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=30s duration=10h");
  const std::string path = sandbox.reporting("workflowExecutions/" + id);
  const auto pending = sandbox.amc(verb::get, path);
  ASSERT_EQ(pending.json()["status"], "PENDING") << pending.body;
  EXPECT_EQ(sandbox.amc(verb::get, path).body, pending.body);
  std::string status = "PENDING";
  http_result running;
  for (int i = 0; i < 100 && status == "PENDING"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    running = sandbox.amc(verb::get, path);
    status = running.json().value("status", "");
  }
  EXPECT_EQ(status, "RUNNING") << running.body;
  EXPECT_EQ(running.header("Content-Length"), std::to_string(running.body.size()));
  EXPECT_EQ(sandbox.amc(verb::get, path).body, running.body);
}

TEST(SandboxExecutions, CancelOnlyWhileActive) {
  running_sandbox sandbox;
  const std::string id = sandbox.create_adhoc("SELECT 1");
  const std::string target = sandbox.reporting("workflowExecutions/" + id);
  EXPECT_EQ(sandbox.amc(verb::put, target, json{{"status", "RUNNING"}}).status, 400);
  auto cancelled = sandbox.amc(verb::put, target, json{{"status", "CANCELLED"}});
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json(), json::object());
  EXPECT_EQ(sandbox.get_execution(id)["status"], "CANCELLED");
  auto again = sandbox.amc(verb::put, target, json{{"status", "CANCELLED"}});
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(sandbox.amc(verb::put, sandbox.reporting("workflowExecutions/nope"), json{{"status", "CANCELLED"}}).status,
            404);
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/nope")).status, 404);
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/nope/downloadUrls")).status, 404);

  // Cancelled runs are hidden from lists unless asked for.
  auto hidden = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=2000-01-01T00:00:00"));
  EXPECT_EQ(hidden.json()["executions"].size(), 0u);
  auto shown = sandbox.amc(verb::get, sandbox.reporting(
                                          "workflowExecutions?minCreationTime=2000-01-01T00:00:00&includeCancelled=true"));
  EXPECT_EQ(shown.json()["executions"].size(), 1u);

  // A finished run cannot be cancelled.
  const std::string finished = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=0 duration=1s publishing=0");
  sandbox.advance_clock(2);
  EXPECT_EQ(sandbox.amc(verb::put, sandbox.reporting("workflowExecutions/" + finished), json{{"status", "CANCELLED"}})
                .status,
            400);
}

TEST(SandboxExecutions, ListFiltersSortsAndPages) {
  running_sandbox sandbox;
  ASSERT_EQ(sandbox.amc(verb::post, sandbox.reporting("workflows"), json{{"workflowId", "w"}, {"sqlQuery", "SELECT 1"}})
                .status,
            200);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto result = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"), json{{"workflowId", "w"}});
    ids.push_back(result.json()["workflowExecutionId"]);
    sandbox.advance_clock(1);
  }
  ids.push_back(sandbox.create_adhoc("SELECT 2"));

  auto none = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions"));
  EXPECT_EQ(none.status, 422);
  EXPECT_NE(none.json()["details"].get<std::string>().find("minCreationTime"), std::string::npos);
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=yesterday")).status, 400);

  auto by_workflow = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?workflowId=w")).json();
  ASSERT_EQ(by_workflow["executions"].size(), 3u);
  EXPECT_EQ(by_workflow["executions"][0]["workflowExecutionId"], ids[2]);  // newest first

  auto ascending = sandbox.amc(verb::get, sandbox.reporting(
                                              "workflowExecutions?minCreationTime=2000-01-01T00:00:00&sortAscending=true&limit=3"))
                       .json();
  ASSERT_EQ(ascending["executions"].size(), 3u);
  EXPECT_EQ(ascending["executions"][0]["workflowExecutionId"], ids[0]);
  ASSERT_TRUE(ascending.contains("nextToken"));
  auto next = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=2000-01-01T00:00:00"
                                                       "&sortAscending=true&limit=3&nextToken=" +
                                                       ascending["nextToken"].get<std::string>()))
                  .json();
  ASSERT_EQ(next["executions"].size(), 1u);
  EXPECT_EQ(next["executions"][0]["workflowExecutionId"], ids[3]);
  EXPECT_FALSE(next.contains("nextToken"));

  auto future = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=2999-01-01T00:00:00"));
  EXPECT_EQ(future.json()["executions"].size(), 0u);
  auto capped = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?workflowId=w&maxCreationTime=2000-01-01T00:00:00"));
  EXPECT_EQ(capped.json()["executions"].size(), 0u);
}

TEST(SandboxExecutions, QuotaAndConcurrencyReject) {
  auto options = test_options();
  options.adhoc_limit_answer = "rejected";  // the other answer: SandboxAdhocQuota.*
  options.adhoc_per_day = 2;
  options.max_active_per_instance = 3;
  running_sandbox sandbox(options);
  EXPECT_EQ(sandbox.get_execution(sandbox.create_adhoc("SELECT 1"))["status"], "PENDING");
  EXPECT_EQ(sandbox.get_execution(sandbox.create_adhoc("SELECT 2"))["status"], "PENDING");
  json third = sandbox.get_execution(sandbox.create_adhoc("SELECT 3"));
  EXPECT_EQ(third["status"], "REJECTED");
  EXPECT_NE(third["statusReason"].get<std::string>().find("per day"), std::string::npos);

  ASSERT_EQ(sandbox.amc(verb::post, sandbox.reporting("workflows"), json{{"workflowId", "w"}, {"sqlQuery", "SELECT 1"}})
                .status,
            200);
  auto saved = [&] {
    auto result = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"), json{{"workflowId", "w"}});
    return result.json();
  };
  EXPECT_EQ(saved()["status"], "PENDING");  // active: 3 of 3 now
  json over = saved();
  EXPECT_EQ(over["status"], "REJECTED");
  EXPECT_NE(over["statusReason"].get<std::string>().find("active"), std::string::npos);
  // A day later both limits have room again.
  sandbox.advance_clock(86400 + 1);
  sandbox.fresh_access_token();
  auto later = sandbox.client().request(verb::post, sandbox.reporting("workflowExecutions"),
                                        json{{"workflow", {{"sqlQuery", "SELECT 4"}}}}.dump(),
                                        sandbox.amc_headers(sandbox.fresh_access_token()));
  EXPECT_EQ(later.json()["status"], "PENDING") << later.body;
}

TEST(SandboxExecutions, TimeoutFailsLongRuns) {
  running_sandbox sandbox;
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: duration=2h",
                                              json{{"workflowExecutionTimeoutSeconds", 1800}});
  sandbox.advance_clock(60 + 1801);
  json failed = sandbox.get_execution(id);
  EXPECT_EQ(failed["status"], "FAILED");
  EXPECT_NE(failed["statusReason"].get<std::string>().find("timeout"), std::string::npos);
}

// What a sandbox with `seed` hands out for the same requests: an ad-hoc
// execution's id, its transient workflow id and its result file.
struct seeded_output {
  std::string execution_id;
  std::string workflow_id;
  std::string csv;
};

seeded_output run_with_seed(std::uint64_t seed) {
  auto options = test_options();
  options.seed = seed;
  running_sandbox sandbox(options);
  std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=0 duration=1s publishing=0 rows=5");
  sandbox.advance_clock(5);
  auto urls = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls")).json();
  auto csv = sandbox.client().request(
      verb::get, urls["downloadUrls"][0].get<std::string>().substr(sandbox.server().base_url().size()));
  EXPECT_EQ(csv.status, 200);
  return {id, sandbox.get_execution(id).value("workflowId", ""), csv.body};
}

TEST(SandboxExecutions, SameSeedSameIdsAndData) {
  const auto first = run_with_seed(42);
  const auto second = run_with_seed(42);
  EXPECT_EQ(first.execution_id, second.execution_id);
  EXPECT_EQ(first.workflow_id, second.workflow_id);
  EXPECT_EQ(first.csv, second.csv);
  EXPECT_EQ(std::count(first.csv.begin(), first.csv.end(), '\n'), 6);
}

// The ids and data really come from the seed (a constant would pass the
// test above): another seed gives other ids and other rows under the same
// header.
TEST(SandboxExecutions, DifferentSeedsGiveDifferentIdsAndData) {
  const auto first = run_with_seed(42);
  const auto second = run_with_seed(43);
  EXPECT_NE(first.execution_id, second.execution_id);
  EXPECT_TRUE(first.workflow_id.starts_with("transient_")) << first.workflow_id;
  EXPECT_NE(first.workflow_id, second.workflow_id);
  const auto header_end = first.csv.find('\n');
  ASSERT_NE(header_end, std::string::npos);
  EXPECT_EQ(first.csv.substr(0, header_end), second.csv.substr(0, second.csv.find('\n')));
  EXPECT_NE(first.csv.substr(header_end), second.csv.substr(second.csv.find('\n'))) << "same rows for seeds 42 and 43";
}

TEST(SandboxExecutions, ScenariosFromAdminApi) {
  running_sandbox sandbox;
  auto set = sandbox.admin(verb::put, "scenarios",
                           json{{"default", {{"pending", "0s"}, {"running", "1m"}, {"publishing", 0}}},
                                {"scenarios", json::array({{{"name", "broken"},
                                                            {"sql_contains", "broken_table"},
                                                            {"outcome", "FAILED"},
                                                            {"reason", "no such table"}}})}});
  ASSERT_EQ(set.status, 200) << set.body;
  const std::string ok = sandbox.create_adhoc("SELECT 1");
  const std::string broken = sandbox.create_adhoc("SELECT * FROM broken_table");
  const std::string named = sandbox.create_adhoc("SELECT 2 -- sandbox: scenario=broken");
  EXPECT_EQ(sandbox.get_execution(ok)["status"], "RUNNING");
  sandbox.advance_clock(61);
  EXPECT_EQ(sandbox.get_execution(ok)["status"], "SUCCEEDED");
  EXPECT_EQ(sandbox.get_execution(broken)["statusReason"], "no such table");
  EXPECT_EQ(sandbox.get_execution(named)["status"], "FAILED");
  auto listed = sandbox.admin(verb::get, "scenarios").json();
  EXPECT_EQ(listed["scenarios"][0]["name"], "broken");
}


// Relative windows: day and month boundaries in timeWindowTimeZone, echoed
// back in UTC. The clock is frozen at 2026-03-10T06:00:00Z, which is
// 2026-03-09 23:00 in Los Angeles, the day after DST began there (Sunday
// 2026-03-08, so that local day had 23 hours).
TEST(SandboxExecutions, RelativeWindowsFollowTheTimeZone) {
  running_sandbox sandbox;
  auto set = sandbox.admin(verb::post, "clock/set", json{{"time", "2026-03-10T06:00:00Z"}, {"frozen", true}});
  ASSERT_EQ(set.status, 200) << set.body;
  struct expected_window {
    const char* type;  // nullptr: no timeWindowType (MOST_RECENT_DAY by default)
    const char* zone;  // nullptr: no timeWindowTimeZone (UTC by default)
    const char* start;
    const char* end;
  };
  const expected_window cases[] = {
      {nullptr, nullptr, "2026-03-09T00:00:00Z", "2026-03-10T00:00:00Z"},
      {"MOST_RECENT_DAY", "UTC", "2026-03-09T00:00:00Z", "2026-03-10T00:00:00Z"},
      {"MOST_RECENT_WEEK", "UTC", "2026-03-03T00:00:00Z", "2026-03-10T00:00:00Z"},
      {"CURRENT_MONTH", "UTC", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z"},
      {"PREVIOUS_MONTH", "UTC", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"},
      {"ALL", nullptr, "2024-02-01T00:00:00Z", "2026-03-10T00:00:00Z"},  // 25 months back
      {nullptr, "America/Los_Angeles", "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z"},
      {"MOST_RECENT_WEEK", "America/Los_Angeles", "2026-03-02T08:00:00Z", "2026-03-09T07:00:00Z"},
      {"CURRENT_MONTH", "America/Los_Angeles", "2026-03-01T08:00:00Z", "2026-03-09T07:00:00Z"},
      {"PREVIOUS_MONTH", "America/Los_Angeles", "2026-02-01T08:00:00Z", "2026-03-01T08:00:00Z"},
      {"ALL", "America/Los_Angeles", "2024-02-01T08:00:00Z", "2026-03-09T07:00:00Z"},
      // East of UTC the local day is already 2026-03-10 (15:00 in Tokyo).
      {nullptr, "Asia/Tokyo", "2026-03-08T15:00:00Z", "2026-03-09T15:00:00Z"},
  };
  for (const auto& window : cases) {
    const std::string label = std::string(window.type ? window.type : "(default)") + " in " +
                              (window.zone ? window.zone : "(default)");
    json body = {{"workflow", {{"sqlQuery", "SELECT 1"}}}};
    if (window.type) body["timeWindowType"] = window.type;
    if (window.zone) body["timeWindowTimeZone"] = window.zone;
    auto created = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"), body);
    ASSERT_EQ(created.status, 200) << label << ": " << created.body;
    const json execution = created.json();
    EXPECT_EQ(execution["timeWindowStart"], window.start) << label;
    EXPECT_EQ(execution["timeWindowEnd"], window.end) << label;
    EXPECT_EQ(execution["timeWindowTimeZoneOriginal"], window.zone ? window.zone : "UTC") << label;
    // And the same window on a later read.
    const json read = sandbox.get_execution(execution["workflowExecutionId"].get<std::string>());
    EXPECT_EQ(read["timeWindowStart"], window.start) << label;
  }
}

// EXPLICIT windows: a start or end without `Z` or offset is wall-clock time
// in timeWindowTimeZone (amc-api.md 4.1), echoed back in UTC; a `Z` or an
// offset in the text wins; the order check uses the UTC instants.
TEST(SandboxExecutions, ExplicitWindowsAreReadInTheTimeZone) {
  running_sandbox sandbox;
  struct expected_window {
    const char* zone;  // nullptr: no timeWindowTimeZone (UTC)
    const char* start_text;
    const char* end_text;
    const char* start;
    const char* end;
  };
  const expected_window cases[] = {
      {nullptr, "2026-01-01T00:00:00", "2026-01-08T00:00:00", "2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z"},
      {"UTC", "2026-01-01T00:00:00", "2026-01-08T00:00:00", "2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z"},
      // New York: EST (UTC-5) before 2026-03-08, EDT (UTC-4) after.
      {"America/New_York", "2026-03-07T00:00:00", "2026-03-09T00:00:00", "2026-03-07T05:00:00Z",
       "2026-03-09T04:00:00Z"},
      // Tokyo is ahead of UTC: local midnight is the previous UTC day.
      {"Asia/Tokyo", "2026-01-01T00:00:00", "2026-01-02T00:00:00", "2025-12-31T15:00:00Z", "2026-01-01T15:00:00Z"},
      // An explicit `Z` or offset is not moved by the zone.
      {"America/New_York", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00+01:00", "2026-01-01T00:00:00Z",
       "2026-01-01T23:00:00Z"},
      // Fractional seconds, zone-less.
      {"America/Los_Angeles", "2026-06-01T00:00:00.000", "2026-06-02T00:00:00", "2026-06-01T07:00:00Z",
       "2026-06-02T07:00:00Z"},
  };
  for (const auto& window : cases) {
    const std::string label = std::string(window.zone ? window.zone : "(default)") + " " + window.start_text;
    json body = {{"workflow", {{"sqlQuery", "SELECT 1"}}},
                 {"timeWindowType", "EXPLICIT"},
                 {"timeWindowStart", window.start_text},
                 {"timeWindowEnd", window.end_text}};
    if (window.zone) body["timeWindowTimeZone"] = window.zone;
    auto created = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"), body);
    ASSERT_EQ(created.status, 200) << label << ": " << created.body;
    const json execution = created.json();
    EXPECT_EQ(execution["timeWindowStart"], window.start) << label;
    EXPECT_EQ(execution["timeWindowEnd"], window.end) << label;
    EXPECT_EQ(execution["timeWindowStartOriginal"], window.start_text) << label;
    EXPECT_EQ(execution["timeWindowEndOriginal"], window.end_text) << label;
    const json read = sandbox.get_execution(execution["workflowExecutionId"].get<std::string>());
    EXPECT_EQ(read["timeWindowStart"], window.start) << label;
    EXPECT_EQ(read["timeWindowEnd"], window.end) << label;
  }
  // 03:00 in New York is 08:00Z, after an end of 07:00Z: not before it.
  auto reversed = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                              json{{"workflow", {{"sqlQuery", "SELECT 1"}}},
                                   {"timeWindowType", "EXPLICIT"},
                                   {"timeWindowStart", "2026-01-01T03:00:00"},
                                   {"timeWindowEnd", "2026-01-01T07:00:00Z"},
                                   {"timeWindowTimeZone", "America/New_York"}});
  EXPECT_EQ(reversed.status, 400) << reversed.body;
  EXPECT_NE(reversed.json().value("details", "").find("before"), std::string::npos) << reversed.body;
}

TEST(SandboxExecutions, UnknownTimeZoneIsABadRequest) {
  running_sandbox sandbox;
  for (const char* zone : {"Mars/Olympus_Mons", "../../etc/passwd", "/usr/share/zoneinfo/UTC", "zone.tab", "PST"}) {
    auto result = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                              json{{"workflow", {{"sqlQuery", "SELECT 1"}}}, {"timeWindowTimeZone", zone}});
    EXPECT_EQ(result.status, 400) << zone << ": " << result.body;
    EXPECT_EQ(result.json().value("code", ""), "400") << zone;
    EXPECT_NE(result.json().value("details", "").find("tz database"), std::string::npos) << result.body;
  }
  EXPECT_EQ(sandbox.admin(verb::get, "stats").json()["executions"], 0) << "nothing was created";
}

// `-- sandbox: status=NAME for=D`: a status outside the spec's enum between
// PENDING and RUNNING, then the usual life cycle, shifted by D.
TEST(SandboxExecutions, UnlistedStatusMarkerShowsANewStatusThenGoesOn) {
  running_sandbox sandbox;
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: status=SOMETHING_NEW for=10m");
  EXPECT_EQ(sandbox.get_execution(id)["status"], "PENDING");
  sandbox.advance_clock(61);
  json unlisted = sandbox.get_execution(id);
  EXPECT_EQ(unlisted["status"], "SOMETHING_NEW");
  EXPECT_EQ(unlisted["outputChannels"][0]["status"], "PENDING");
  sandbox.advance_clock(540);
  EXPECT_EQ(sandbox.get_execution(id)["status"], "SOMETHING_NEW");
  // It can be cancelled like any active execution, and its list entry agrees.
  const std::string other = sandbox.create_adhoc("SELECT 2 -- sandbox: pending=0 status=NOT_YET_KNOWN for=1h");
  EXPECT_EQ(sandbox.get_execution(other)["status"], "NOT_YET_KNOWN");
  EXPECT_EQ(sandbox.amc(verb::put, sandbox.reporting("workflowExecutions/" + other), json{{"status", "CANCELLED"}}).status,
            200);
  sandbox.advance_clock(60);  // 10 min of SOMETHING_NEW are over
  EXPECT_EQ(sandbox.get_execution(id)["status"], "RUNNING");
  sandbox.advance_clock(900);
  EXPECT_EQ(sandbox.get_execution(id)["status"], "PUBLISHING");
  sandbox.advance_clock(10);
  EXPECT_EQ(sandbox.get_execution(id)["status"], "SUCCEEDED");

  for (const char* bad : {"SELECT 1 -- sandbox: status=RUNNING", "SELECT 1 -- sandbox: status=lower",
                          "SELECT 1 -- sandbox: for=5m"}) {
    auto result = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                              json{{"workflow", {{"sqlQuery", bad}}}});
    EXPECT_EQ(result.status, 400) << bad << ": " << result.body;
  }
}

// Issue 8: the poller benchmarks need thousands of executions at once.
TEST(SandboxExecutions, BulkAdminCallCreatesManyAtOnce) {
  running_sandbox sandbox;
  auto bulk = sandbox.admin(verb::post, "executions/bulk",
                            json{{"count", 250}, {"scenario", {{"pending", 0}, {"running", "10s"}, {"publishing", 0}}}});
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  const json ids = bulk.json()["ids"];
  ASSERT_EQ(ids.size(), 250u);
  EXPECT_EQ(bulk.json()["instance_id"], sandbox.instance_id());
  std::set<std::string> unique;
  for (const auto& id : ids) unique.insert(id.get<std::string>());
  EXPECT_EQ(unique.size(), 250u);
  EXPECT_EQ(sandbox.admin(verb::get, "stats").json()["executions"], 250);
  // Ordinary AMC executions: readable, listed, and they run their scenario.
  const std::string first = ids[0];
  EXPECT_EQ(sandbox.get_execution(first)["status"], "RUNNING");
  EXPECT_EQ(sandbox.get_execution(first)["executionCategory"], "AD_HOC");
  sandbox.advance_clock(11);
  EXPECT_EQ(sandbox.get_execution(ids[249])["status"], "SUCCEEDED");
  auto listed = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=2000-01-01T00:00:00"));
  EXPECT_EQ(listed.json()["executions"].size(), 100u);  // one page
  EXPECT_TRUE(listed.json().contains("nextToken"));

  // A saved workflow through the same checks as the create call.
  ASSERT_EQ(sandbox.amc(verb::post, sandbox.reporting("workflows"), json{{"workflowId", "bench"}, {"sqlQuery", "SELECT 1"}})
                .status,
            200);
  auto saved = sandbox.admin(verb::post, "executions/bulk",
                             json{{"count", 3}, {"request", {{"workflowId", "bench"}, {"timeWindowType", "MOST_RECENT_WEEK"}}}});
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(sandbox.get_execution(saved.json()["ids"][2])["workflowId"], "bench");

  auto refused = [&](const json& body, const std::string& fragment) {
    auto result = sandbox.admin(verb::post, "executions/bulk", body);
    EXPECT_EQ(result.status, 400) << body.dump();
    EXPECT_NE(result.json().value("details", "").find(fragment), std::string::npos) << result.body;
  };
  refused({{"count", 0}}, "'count' is out of range");
  refused({{"count", 1e9}}, "'count' is out of range");
  refused({{"count", 1}, {"colour", "red"}}, "unknown bulk execution field 'colour'");
  refused({{"instance_id", "nope"}}, "no instance 'nope'");
  refused({{"request", {{"workflowId", "missing"}}}}, "request: Workflow with ID missing does not exist.");
  refused({{"scenario", {{"parts", 9}}}}, "'parts' is out of range");
  EXPECT_EQ(sandbox.admin(verb::get, "stats").json()["executions"], 253);
}

}  // namespace
}  // namespace amc::sandbox::testing
