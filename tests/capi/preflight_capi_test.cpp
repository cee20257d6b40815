// Issue 24 points 2-4 through amc.h against the sandbox: the data sources
// (every page of the list, every column of a table wider than one reply),
// the pre-flight check (unknown tables with the closest name and no
// execution created, AMC's compile error with its line) and the ad-hoc
// quota (today's count, and the run over the limit as its own status).
#include "client_capi_fixture.hpp"

#include <set>

namespace {

using amc::testing::take;
using boost::beast::http::verb;
using nlohmann::json;

class PreflightCapi : public amc::testing::ClientCapi {
 protected:
  void configure(amc::sandbox::sandbox_options& options) override {
    ClientCapi::configure(options);
    // Only the ad-hoc limit may refuse runs here, not the concurrency cap.
    options.max_active_per_instance = 1000;
  }

  // An entry point's JSON answer; the status in `status`.
  json answer(amc_status (*entry)(amc_client*, const char*, char**), const json& body, amc_status& status) {
    char* out = nullptr;
    status = call(entry(client_, request(body).dump().c_str(), &out));
    return status == AMC_OK ? json::parse(take(out)) : json();
  }

  json validate(const std::string& sql, amc_status& status) {
    return answer(amc_workflow_validate, {{"request", {{"workflow", {{"sqlQuery", sql}}}}}}, status);
  }

  static json last_error_json() { return json::parse(amc_last_error_json()); }

  // The request log's entries of one operation.
  std::vector<json> logged(const std::string& operation) {
    std::vector<json> found;
    const json log = admin(verb::get, "/_sandbox/requests?limit=1000");
    for (const auto& entry : log["requests"])
      if (entry["operation"] == operation) found.push_back(entry);
    return found;
  }

  amc_status submit_adhoc(const std::string& sql, std::string* amc_id = nullptr) {
    char* out = nullptr;
    const auto status = call(amc_execution_submit(
        client_, request({{"request", {{"workflow", {{"sqlQuery", sql}}}}}}).dump().c_str(), &out));
    if (status == AMC_OK) {
      const auto submitted = json::parse(take(out));
      if (amc_id != nullptr) *amc_id = submitted["amc_execution_id"];
    }
    return status;
  }
};

TEST_F(PreflightCapi, DataSourceListReadsEveryPageAndFilters) {
  admin(verb::put, "/_sandbox/settings", {{"data_sources_page_size", 3}});
  amc_status status{};
  const auto all = answer(amc_data_source_list, json::object(), status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  const auto& sources = all["dataSources"];
  ASSERT_EQ(sources.size(), 10u) << all.dump();
  EXPECT_GE(requests_of("listDataSources"), 4);  // 10 sources, 3 a page
  std::set<std::string> ids;
  for (const auto& source : sources) ids.insert(source["dataSourceId"].get<std::string>());
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_TRUE(ids.count("dsp_impressions"));
  EXPECT_EQ(sources[0]["columns"][0]["columnType"], "DIMENSION");

  const auto dsp = answer(amc_data_source_list, {{"filter", "DSP_"}}, status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  ASSERT_EQ(dsp["dataSources"].size(), 4u) << dsp.dump();
  for (const auto& source : dsp["dataSources"])
    EXPECT_EQ(source["dataSourceId"].get<std::string>().rfind("dsp_", 0), 0u) << source["dataSourceId"];

  EXPECT_EQ(answer(amc_data_source_list, {{"filter", 3}}, status), json());
  EXPECT_EQ(status, AMC_E_INVALID_ARGUMENT);
}

TEST_F(PreflightCapi, DataSourceGetJoinsColumnsPastAmcsFiveHundred) {
  amc_status status{};
  const auto wide = answer(amc_data_source_get, {{"data_source_id", "sandbox_wide_events"}}, status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  const auto& columns = wide["columns"];
  ASSERT_EQ(columns.size(), 620u);
  EXPECT_EQ(requests_of("getDataSource"), 2);  // 500 + 120
  std::set<std::string> names;
  for (const auto& column : columns) names.insert(column["name"].get<std::string>());
  EXPECT_EQ(names.size(), 620u) << "no column twice, none lost";
  EXPECT_EQ(columns.back()["name"], "metric_618");
  EXPECT_EQ(wide["dataSourceId"], "sandbox_wide_events");
  EXPECT_FALSE(wide.contains("nextToken"));

  const auto small = answer(amc_data_source_get, {{"data_source_id", "dsp_clicks"}}, status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  EXPECT_EQ(small["columns"].size(), 5u);

  answer(amc_data_source_get, {{"data_source_id", "dsp_nowhere"}}, status);
  EXPECT_EQ(status, AMC_E_NOT_FOUND);
}

TEST_F(PreflightCapi, UnknownTableFailsWithClosestNameAndCreatesNoExecution) {
  const std::string sql =
      "-- FROM comment_table is a comment\n"
      "WITH recent AS (SELECT user_id FROM dsp_clicks WHERE campaign <> 'FROM quoted_table')\n"
      "SELECT i.campaign, COUNT(*) FROM dsp_impresions i\n"
      "JOIN recent r ON r.user_id = i.user_id GROUP BY 1";
  amc_status status{};
  validate(sql, status);
  ASSERT_EQ(status, AMC_E_INVALID_ARGUMENT);
  const std::string message = amc_last_error();
  EXPECT_NE(message.find("'dsp_impresions' (line 3)"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'dsp_impressions'?"), std::string::npos) << message;
  EXPECT_NE(message.find("no ad-hoc quota was used"), std::string::npos) << message;
  const auto report = last_error_json()["preflight"];
  EXPECT_EQ(report["valid"], false);
  ASSERT_EQ(report["unknown_tables"].size(), 1u) << report.dump();
  EXPECT_EQ(report["unknown_tables"][0],
            json({{"table", "dsp_impresions"}, {"line", 3}, {"closest", "dsp_impressions"}}));
  EXPECT_EQ(report["tables"], json({"dsp_clicks", "dsp_impresions"})) << "no comment, literal or WITH name";
  // AMC's own compile (the sandbox's dry run) says the same, with its line.
  EXPECT_EQ(report["compile_error"]["line"], 3) << report.dump();

  // Nothing ran: the only create was the dry run, and AMC lists no execution.
  EXPECT_TRUE(logged("createWorkflowExecution").empty());
  const auto dry = logged("createWorkflowExecution (dryRun)");
  ASSERT_EQ(dry.size(), 1u);
  EXPECT_EQ(dry[0]["dry_run"], true);
  const auto listed = answer(amc_execution_list, {{"filters", {{"minCreationTime", "2000-01-01T00:00:00"}}}}, status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  EXPECT_TRUE(listed["executions"].empty()) << listed.dump();
  const auto quota = answer(amc_adhoc_quota, json::object(), status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  EXPECT_EQ(quota["adhoc_executions_today"], 0);
}

TEST_F(PreflightCapi, CompileErrorIsReportedWithItsLine) {
  amc_status status{};
  validate("SELECT campaign\nFROM dsp_impressions\nWHERE (impressions > 1\nGROUP BY 1", status);
  ASSERT_EQ(status, AMC_E_INVALID_ARGUMENT);
  const std::string message = amc_last_error();
  EXPECT_NE(message.find("AMC could not compile the SQL at line 3"), std::string::npos) << message;
  const auto report = last_error_json()["preflight"];
  EXPECT_EQ(report["unknown_tables"], json::array());
  EXPECT_EQ(report["compile_error"]["line"], 3);
  EXPECT_NE(report["compile_error"]["message"].get<std::string>().find("unclosed '('"), std::string::npos);
  EXPECT_TRUE(logged("createWorkflowExecution").empty());
}

TEST_F(PreflightCapi, SqlThatCompilesPassesForAdHocAndSavedWorkflows) {
  amc_status status{};
  const auto report =
      validate("SELECT campaign, SUM(impressions) FROM dsp_impressions\nGROUP BY EXTRACT(DAY FROM impression_dt)", status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  EXPECT_EQ(report["valid"], true);
  EXPECT_EQ(report["tables"], json({"dsp_impressions"}));
  EXPECT_EQ(report["dry_run"]["status"], "SUCCEEDED");

  answer(amc_workflow_create,
         {{"workflow", {{"workflowId", "wf_saved"}, {"sqlQuery", "SELECT 1 FROM sponsored_ads_trafic"}}}}, status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  answer(amc_workflow_validate, {{"request", {{"workflowId", "wf_saved"}}}}, status);
  ASSERT_EQ(status, AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("did you mean 'sponsored_ads_traffic'?"), std::string::npos)
      << amc_last_error();
  EXPECT_TRUE(logged("createWorkflowExecution").empty());
}

TEST_F(PreflightCapi, QuotaCountsTodaysAdHocRunsOnly) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(submit_adhoc("SELECT " + std::to_string(i)), AMC_OK) << amc_last_error();
  amc_status status{};
  answer(amc_workflow_create, {{"workflow", {{"workflowId", "wf_q"}, {"sqlQuery", "SELECT 1"}}}}, status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  char* out = nullptr;
  ASSERT_EQ(call(amc_execution_submit(client_, request({{"request", {{"workflowId", "wf_q"}}}}).dump().c_str(), &out)),
            AMC_OK)
      << amc_last_error();
  amc_free(out);
  validate("SELECT 1", status);  // a dry run: not counted
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  const auto quota = answer(amc_adhoc_quota, json::object(), status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  EXPECT_EQ(quota["adhoc_executions_today"], 3) << quota.dump();
  EXPECT_EQ(quota["adhoc_limit"], 30);
  EXPECT_EQ(quota["adhoc_remaining"], 27);
  EXPECT_EQ(quota["instance_id"], instance_["instance_id"]);
  const std::string day_start = quota["day_start"];
  EXPECT_EQ(day_start.substr(10), "T00:00:00Z");
  EXPECT_EQ(quota["resets_at"].get<std::string>().substr(10), "T00:00:00Z");
}

TEST_F(PreflightCapi, RunOverTheDailyAdHocLimitHasItsOwnStatus) {
  for (int i = 0; i < 30; ++i) ASSERT_EQ(submit_adhoc("SELECT " + std::to_string(i)), AMC_OK) << i << amc_last_error();
  ASSERT_EQ(submit_adhoc("SELECT 31"), AMC_E_ADHOC_QUOTA) << amc_last_error();
  const std::string message = amc_last_error();
  const std::string instance_id = instance_["instance_id"];
  EXPECT_NE(message.find("instance " + instance_id), std::string::npos) << message;
  EXPECT_NE(message.find("resets at 00:00 UTC"), std::string::npos) << message;
  EXPECT_NE(message.find("saved workflow"), std::string::npos) << message;
  const auto detail = last_error_json();
  EXPECT_EQ(detail["status"], "AMC_E_ADHOC_QUOTA");
  EXPECT_EQ(detail["instance_id"], instance_id);
  EXPECT_EQ(detail["adhoc_executions_today"], 30);
  EXPECT_EQ(detail["adhoc_limit"], 30);
  EXPECT_EQ(std::string(amc_status_name(AMC_E_ADHOC_QUOTA)), "AMC_E_ADHOC_QUOTA");

  // A saved workflow still runs; a dry run (the pre-flight check) too.
  amc_status status{};
  answer(amc_workflow_create, {{"workflow", {{"workflowId", "wf_saved"}, {"sqlQuery", "SELECT 1"}}}}, status);
  ASSERT_EQ(status, AMC_OK) << amc_last_error();
  char* out = nullptr;
  EXPECT_EQ(call(amc_execution_submit(client_, request({{"request", {{"workflowId", "wf_saved"}}}}).dump().c_str(), &out)),
            AMC_OK)
      << amc_last_error();
  amc_free(out);
  validate("SELECT 1", status);
  EXPECT_EQ(status, AMC_OK) << amc_last_error();

  // AMC's other possible answer, an execution created REJECTED: the same.
  admin(verb::put, "/_sandbox/settings", {{"adhoc_limit_answer", "rejected"}});
  EXPECT_EQ(submit_adhoc("SELECT 32"), AMC_E_ADHOC_QUOTA) << amc_last_error();
  // A higher limit (the sandbox's setting) lets the next run through.
  admin(verb::put, "/_sandbox/settings", {{"adhoc_limit_answer", "error"}, {"adhoc_executions_per_day", 100}});
  EXPECT_EQ(submit_adhoc("SELECT 33"), AMC_OK) << amc_last_error();
}

}  // namespace
