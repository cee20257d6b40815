// The sandbox's data sources, dry-run compile and ad-hoc limit (issue 24):
// listDataSources pages, getDataSource's columns past the spec's 500 per
// reply, a dry run refused with the line of what does not compile and never
// listed or logged as a create, and the 31st ad-hoc run of a UTC day
// refused with a 400 Error (no execution).
#include "sandbox/data_sources.hpp"
#include "sandbox_fixture.hpp"

#include <chrono>
#include <cmath>

namespace amc::sandbox::testing {
namespace {

TEST(SandboxDataSources, ListPagesWithLimitAndNextToken) {
  running_sandbox sandbox;
  auto first = sandbox.amc(verb::get, sandbox.reporting("dataSources?limit=4"));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(std::string(first.headers[http::field::content_type]), "application/vnd.amcdatasources.v1+json");
  ASSERT_EQ(first.json()["dataSources"].size(), 4u);
  std::size_t total = 4;
  std::string token = first.json()["nextToken"];
  while (!token.empty()) {
    auto page = sandbox.amc(verb::get, sandbox.reporting("dataSources?limit=4&nextToken=" + token)).json();
    total += page["dataSources"].size();
    token = page.value("nextToken", "");
  }
  EXPECT_EQ(total, data_source_catalog().size());
  auto all = sandbox.amc(verb::get, sandbox.reporting("dataSources")).json();
  EXPECT_FALSE(all.contains("nextToken"));
  for (const auto& source : all["dataSources"]) EXPECT_LE(source["columns"].size(), max_columns_per_reply);
}

TEST(SandboxDataSources, GetPagesColumnsPastFiveHundredInBothShapes) {
  for (const auto shape : {response_shape::flat, response_shape::wrapped}) {
    auto options = test_options();
    options.shape = shape;
    running_sandbox sandbox(options);
    auto first = sandbox.amc(verb::get, sandbox.reporting("dataSources/sandbox_wide_events")).json();
    const json& source = shape == response_shape::wrapped ? first["dataSource"] : first;
    ASSERT_EQ(source["columns"].size(), 500u) << first.dump().substr(0, 300);
    ASSERT_TRUE(source.contains("nextToken"));
    if (shape == response_shape::wrapped) {
      EXPECT_EQ(first.size(), 1u) << "exactly the spec's wrapper";
    }
    auto rest = sandbox.amc(verb::get, sandbox.reporting("dataSources/sandbox_wide_events?nextToken=" +
                                                          source["nextToken"].get<std::string>()))
                    .json();
    const json& tail = shape == response_shape::wrapped ? rest["dataSource"] : rest;
    EXPECT_EQ(tail["columns"].size(), 120u);
    EXPECT_FALSE(tail.contains("nextToken"));
    EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("dataSources/dsp_nowhere")).status, 404);
  }
}

TEST(SandboxDataSources, DryRunCompileErrorsNameTheirLine) {
  EXPECT_FALSE(dry_run_compile_error("WITH x AS (SELECT 1 FROM dsp_clicks)\nSELECT * FROM x").has_value());
  EXPECT_FALSE(dry_run_compile_error("SELECT EXTRACT(DAY FROM t) FROM DSP_Views -- FROM nowhere").has_value());
  EXPECT_EQ(dry_run_compile_error("SELECT a\nFROM dsp_clicks\nJOIN dsp_clickz ON 1 = 1").value_or(""),
            "Query compilation failed: line 3:6: Table 'dsp_clickz' does not exist.");
  EXPECT_EQ(dry_run_compile_error("SELEC 1").value_or(""),
            "Query compilation failed: line 1:1: mismatched input 'SELEC'. Expecting: 'SELECT', 'WITH'.");
  EXPECT_EQ(dry_run_compile_error("SELECT 1\nFROM dsp_clicks\nWHERE (a = 1").value_or(""),
            "Query compilation failed: line 3:7: unclosed '('.");
  EXPECT_EQ(dry_run_compile_error("SELECT 'open\n").value_or(""), "Query compilation failed: line 1:8: unterminated quoted text.");
}

TEST(SandboxDataSources, DryRunIsRefusedOrMarkedCompleteButNeverListedOrLoggedAsACreate) {
  running_sandbox sandbox;
  auto bad = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                         json{{"workflow", {{"sqlQuery", "SELECT 1\nFROM dsp_impresions"}}}, {"dryRun", true}});
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json()["code"], "400");
  EXPECT_EQ(bad.json()["details"], "Query compilation failed: line 2:6: Table 'dsp_impresions' does not exist.");
  auto good = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                          json{{"workflow", {{"sqlQuery", "SELECT 1 FROM dsp_impressions"}}}, {"dryRun", true}});
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(good.json()["status"], "SUCCEEDED");
  auto listed = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=2000-01-01T00:00:00"));
  EXPECT_TRUE(listed.json()["executions"].empty()) << listed.body;
  auto log = sandbox.admin(verb::get, "requests").json()["requests"];
  int creates = 0, dry_runs = 0;
  for (const auto& entry : log) {
    if (entry["operation"] == "createWorkflowExecution") ++creates;
    if (entry["operation"] == "createWorkflowExecution (dryRun)" && entry["dry_run"] == true) ++dry_runs;
  }
  EXPECT_EQ(creates, 0);
  EXPECT_EQ(dry_runs, 2);
  // The stats count them apart too: a test that counts creates there (the
  // distributed harness: one per task) sees real runs only.
  auto stats = sandbox.admin(verb::get, "stats").json()["by_operation"];
  EXPECT_FALSE(stats.contains("createWorkflowExecution")) << stats.dump();
  EXPECT_EQ(stats.value("createWorkflowExecution (dryRun)", 0), 2) << stats.dump();
}

TEST(SandboxAdhocQuota, RunOverTheLimitIsA400ErrorAndTheDayIsUtc) {
  auto options = test_options();
  options.adhoc_per_day = 2;
  running_sandbox sandbox(options);
  auto post_adhoc = [&](const std::string& sql) {
    return sandbox.client().request(verb::post, sandbox.reporting("workflowExecutions"),
                                    json{{"workflow", {{"sqlQuery", sql}}}}.dump(),
                                    sandbox.amc_headers(sandbox.fresh_access_token()));
  };
  ASSERT_EQ(post_adhoc("SELECT 1").status, 200);
  ASSERT_EQ(post_adhoc("SELECT 2").status, 200);
  auto over = post_adhoc("SELECT 3");
  ASSERT_EQ(over.status, 400) << over.body;
  EXPECT_EQ(over.json()["code"], "400");
  EXPECT_NE(over.json()["details"].get<std::string>().find("limited to 2 per day per instance"), std::string::npos);
  auto listed = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=2000-01-01T00:00:00"));
  EXPECT_EQ(listed.json()["executions"].size(), 2u) << "the refused run was not created";
  // Just past 00:00 UTC (less than 24 hours after the first run): room again.
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  sandbox.advance_clock(std::floor(now / 86400) * 86400 + 86400 + 1 - now);
  EXPECT_EQ(post_adhoc("SELECT 4").status, 200);
}

}  // namespace
}  // namespace amc::sandbox::testing
