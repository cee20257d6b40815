// The client, authentication and AMC calls through libamc.so and amc.h, as
// a host uses them, against the sandbox over HTTPS.
#include "amc/amc.h"

#include "client_capi_fixture.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using amc::testing::ClientCapi;
using amc::testing::take;
using boost::beast::http::verb;
using nlohmann::json;

TEST_F(ClientCapi, ConfigMistakesAreNamed) {
  amc_client* other = nullptr;
  EXPECT_EQ(amc_client_new("{\"regoin\": \"na\"}", &other), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("'regoin'"), std::string::npos);
  EXPECT_EQ(amc_client_new("{\"region\": \"mars\", \"lwa\": {\"client_id\": \"a\", \"client_secret\": \"b\"}}", &other),
            AMC_E_CONFIG);
  EXPECT_EQ(amc_client_new("{}", &other), AMC_E_CONFIG);
  EXPECT_NE(std::string(amc_last_error()).find("lwa.client_id"), std::string::npos);
  EXPECT_EQ(amc_client_new("{\"lwa\": {\"client_id\": \"a\", \"client_secret_env\": \"AMC_TEST_NOT_SET\"}}", &other),
            AMC_E_CONFIG);
  EXPECT_NE(std::string(amc_last_error()).find("AMC_TEST_NOT_SET"), std::string::npos);
  auto with = [&](const char* field, int value) {
    auto config = json::parse(config_);
    config[field] = value;
    return amc_client_new(config.dump().c_str(), &other);
  };
  EXPECT_EQ(with("journal_retention_days", 0), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("journal_retention_days"), std::string::npos);
  EXPECT_EQ(with("journal_retention_days", 4000), AMC_E_CONFIG);
  EXPECT_EQ(with("io_threads", 17), AMC_E_CONFIG);
  // Numbers past their type or a sane bound are refused, never converted
  // (issue 12 item 1: every number read from outside is range-checked).
  for (const auto& [section, field, value] :
       std::vector<std::tuple<std::string, std::string, double>>{
           {"", "io_threads", 1e20},
           {"tokens", "advisory_window_s", 1e300},
           {"tokens", "store_recheck_ms", 60'001},
           {"tokens", "store_recheck_ms", -1},
           {"timeouts", "connect_ms", 1e19},
           {"retry", "max_attempts", 1e12},
           {"refresh_service", "lead_time_s", 400.0 * 86400}}) {
    auto config = json::parse(config_);
    if (section.empty())
      config[field] = value;
    else
      config[section][field] = value;
    EXPECT_EQ(amc_client_new(config.dump().c_str(), &other), AMC_E_INVALID_ARGUMENT) << field;
    EXPECT_NE(std::string(amc_last_error()).find(field), std::string::npos) << amc_last_error();
  }
  EXPECT_EQ(other, nullptr);
  ASSERT_EQ(with("journal_retention_days", 7), AMC_OK);
  amc_client_free(other);
  amc_client_free(nullptr);
}

TEST_F(ClientCapi, ConsentExchangeRefreshStatus) {
  char* out = nullptr;
  ASSERT_EQ(call(amc_auth_consent_url(client_, "{\"redirect_uri\": \"https://example.com/cb\", \"state\": \"s1\"}", &out)), AMC_OK);
  const auto url = take(out);
  EXPECT_NE(url.find("/ap/oa?client_id="), std::string::npos) << url;
  EXPECT_EQ(url.find(server_->service().client_secret()), std::string::npos);

  const auto code = admin(verb::post, "/_sandbox/consent-codes", {{"redirect_uri", "https://example.com/cb"}})["code"];
  const json exchange = {{"credential_id", "consented"}, {"code", code}, {"redirect_uri", "https://example.com/cb"}};
  ASSERT_EQ(call(amc_auth_exchange_code(client_, exchange.dump().c_str(), &out)), AMC_OK) << amc_last_error();
  auto status = json::parse(take(out));
  EXPECT_EQ(status["state"], "active");
  EXPECT_FALSE(status.contains("refresh_token"));

  ASSERT_EQ(call(amc_auth_refresh(client_, "conn", nullptr, &out)), AMC_OK) << amc_last_error();
  status = json::parse(take(out));
  EXPECT_EQ(status["has_access_token"], true);
  EXPECT_EQ(requests_of("lwaToken"), 2);
  ASSERT_EQ(call(amc_auth_status(client_, "conn", &out)), AMC_OK);
  EXPECT_EQ(take(out).find(refresh_token_), std::string::npos);

  ASSERT_EQ(amc_client_metrics(client_, &out), AMC_OK);
  const auto metrics = json::parse(take(out));
  EXPECT_GE(metrics["tokens"]["refreshes"].get<int>(), 1);
  EXPECT_TRUE(metrics.contains("http"));

  EXPECT_EQ(call(amc_auth_status(client_, "nobody", &out)), AMC_E_NOT_FOUND);
  EXPECT_EQ(call(amc_auth_refresh(client_, nullptr, nullptr, &out)), AMC_E_INVALID_ARGUMENT);
}

// amc_client_metrics counts each kind of event in its own field: one
// scenario with a refresh, a retried 5xx, a 429, a request that fails and
// a refresh that fails, and every count exact.
TEST_F(ClientCapi, MetricsCountRequestsRetriesByCauseThrottlesRefreshesAndFailures) {
  char* out = nullptr;
  ASSERT_EQ(call(amc_auth_refresh(client_, "conn", nullptr, &out)), AMC_OK) << amc_last_error();
  amc_free(out);
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "error_status"}, {"status", 500}, {"operation", "listWorkflows"}, {"count", 1}});
  ASSERT_EQ(call(amc_workflow_list(client_, request().dump().c_str(), &out)), AMC_OK) << amc_last_error();
  amc_free(out);
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "rate_limit"}, {"retry_after", 0}, {"operation", "listWorkflows"}, {"count", 1}});
  ASSERT_EQ(call(amc_workflow_list(client_, request().dump().c_str(), &out)), AMC_OK) << amc_last_error();
  amc_free(out);
  // A create is a POST: after a reset it is reported, never resent.
  admin(verb::post, "/_sandbox/faults", {{"kind", "reset_after_headers"}, {"operation", "createWorkflow"}, {"count", 1}});
  out = nullptr;
  const json workflow = {{"workflowId", "wf_metrics"}, {"sqlQuery", "SELECT 1"}};
  EXPECT_EQ(call(amc_workflow_create(client_, request({{"workflow", workflow}}).dump().c_str(), &out)), AMC_E_NETWORK);
  admin(verb::post, "/_sandbox/grants/revoke", {{"all", true}});
  EXPECT_EQ(call(amc_auth_refresh(client_, "conn", nullptr, &out)), AMC_E_AUTH_REQUIRED);

  ASSERT_EQ(amc_client_metrics(client_, &out), AMC_OK) << amc_last_error();
  const auto metrics = json::parse(take(out));
  const auto& http = metrics["http"];
  // Two refreshes, two lists, one create; the lists were sent twice each.
  EXPECT_EQ(http["requests"], 5) << http.dump();
  EXPECT_EQ(http["attempts"], 7) << http.dump();
  EXPECT_EQ(http["attempts"], admin(verb::get, "/_sandbox/stats")["requests"]) << "every attempt reached the sandbox";
  EXPECT_EQ(http["retries"], (json{{"network", 0}, {"timeout", 0}, {"429", 1}, {"5xx", 1}})) << http.dump();
  EXPECT_EQ(http["throttle_waits"], 1) << http.dump();
  EXPECT_EQ(http["failures"],
            (json{{"network", 1}, {"tls", 0}, {"timeout", 0}, {"protocol", 0}, {"cancelled", 0}, {"other", 0}}))
      << http.dump();
  const auto& tokens = metrics["tokens"];
  EXPECT_EQ(tokens["refreshes"], 2) << tokens.dump();
  EXPECT_EQ(tokens["refresh_failures"], 1) << tokens.dump();
}

TEST_F(ClientCapi, RevokedGrantIsAuthRequiredByName) {
  admin(verb::post, "/_sandbox/grants/revoke", {{"all", true}});
  char* out = nullptr;
  EXPECT_EQ(call(amc_auth_refresh(client_, "conn", nullptr, &out)), AMC_E_AUTH_REQUIRED);
  EXPECT_NE(std::string(amc_last_error()).find("'conn'"), std::string::npos);
  ASSERT_EQ(amc_auth_status(client_, "conn", &out), AMC_OK);
  EXPECT_EQ(json::parse(take(out))["state"], "needs-reauth");
}

TEST_F(ClientCapi, WorkflowAndExecutionRoundTrip) {
  char* out = nullptr;
  ASSERT_EQ(call(amc_workflow_id_from_name("Daily Sales (EU)", &out)), AMC_OK);
  const auto workflow_id = take(out);
  const auto sync = request({{"workflow", {{"workflowId", workflow_id}, {"sqlQuery", "SELECT 1"}}}});
  ASSERT_EQ(call(amc_workflow_sync(client_, sync.dump().c_str(), &out)), AMC_OK) << amc_last_error();
  EXPECT_EQ(json::parse(take(out))["action"], "created");

  const auto submit = request({{"execution_id", "exec_c0ffee01"}, {"request", {{"workflowId", workflow_id}}}});
  ASSERT_EQ(call(amc_execution_submit(client_, submit.dump().c_str(), &out)), AMC_OK) << amc_last_error();
  const auto submitted = json::parse(take(out));
  EXPECT_EQ(submitted["execution_id"], "exec_c0ffee01");
  EXPECT_EQ(submitted["reattached"], false);

  std::vector<std::string> statuses;
  auto progress = [](const char* event, void* user) {
    static_cast<std::vector<std::string>*>(user)->push_back(json::parse(event)["execution"]["status"]);
  };
  const auto wait = request({{"execution_id", "exec_c0ffee01"}, {"first_poll_ms", 50}, {"max_poll_ms", 100}});
  ASSERT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), nullptr, progress, &statuses, &out)), AMC_OK)
      << amc_last_error();
  EXPECT_EQ(json::parse(take(out))["status"], "SUCCEEDED");
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back(), "SUCCEEDED");

  ASSERT_EQ(call(amc_execution_get(client_, request({{"execution_id", "exec_c0ffee01"}}).dump().c_str(), &out)), AMC_OK);
  EXPECT_EQ(json::parse(take(out))["workflowExecutionId"], submitted["amc_execution_id"]);
  ASSERT_EQ(call(amc_execution_list(client_, request({{"filters", {{"workflowId", workflow_id}}}}).dump().c_str(), &out)),
            AMC_OK);
  EXPECT_EQ(json::parse(take(out))["executions"].size(), 1u);
}

TEST_F(ClientCapi, FailedExecutionIsExecutionFailedWithTheReason) {
  char* out = nullptr;
  const auto submit = request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: fail \"Column x is unknown\""}}}}}});
  ASSERT_EQ(call(amc_execution_submit(client_, submit.dump().c_str(), &out)), AMC_OK);
  const auto amc_id = json::parse(take(out))["amc_execution_id"];
  const auto wait = request({{"amc_execution_id", amc_id}, {"first_poll_ms", 50}, {"max_poll_ms", 100}});
  out = nullptr;
  EXPECT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), nullptr, nullptr, nullptr, &out)),
            AMC_E_EXECUTION_FAILED);
  EXPECT_NE(std::string(amc_last_error()).find("Column x is unknown"), std::string::npos) << amc_last_error();
  EXPECT_EQ(json::parse(amc_last_error_json())["execution"]["status"], "FAILED");
  EXPECT_EQ(out, nullptr);
}

TEST_F(ClientCapi, RejectedExecutionIsExecutionFailedWithTheReason) {
  char* out = nullptr;
  const auto submit =
      request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: reject \"Instance is paused for maintenance\""}}}}}});
  ASSERT_EQ(call(amc_execution_submit(client_, submit.dump().c_str(), &out)), AMC_OK) << amc_last_error();
  const auto amc_id = json::parse(take(out))["amc_execution_id"];
  const auto wait = request({{"amc_execution_id", amc_id}, {"first_poll_ms", 50}, {"max_poll_ms", 100}});
  EXPECT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), nullptr, nullptr, nullptr, &out)),
            AMC_E_EXECUTION_FAILED);
  const std::string message = amc_last_error();
  EXPECT_NE(message.find("REJECTED"), std::string::npos) << message;
  EXPECT_NE(message.find("Instance is paused for maintenance"), std::string::npos) << message;
  const auto detail = json::parse(amc_last_error_json());
  EXPECT_EQ(detail["execution"]["status"], "REJECTED");
  EXPECT_EQ(detail["execution"]["statusReason"], "Instance is paused for maintenance");
}

TEST_F(ClientCapi, WorkflowCreateAndUpdate) {
  char* out = nullptr;
  const json workflow = {{"workflowId", "wf_capi_created"}, {"sqlQuery", "SELECT 1"},
                         {"privacyFilteringBehavior", "REMOVE_ROWS"}};
  ASSERT_EQ(call(amc_workflow_create(client_, request({{"workflow", workflow}}).dump().c_str(), &out)), AMC_OK)
      << amc_last_error();
  auto created = json::parse(take(out));
  EXPECT_EQ(created["workflowId"], "wf_capi_created");
  EXPECT_EQ(created["sqlQuery"], "SELECT 1");
  EXPECT_EQ(created["privacyFilteringBehavior"], "REMOVE_ROWS");

  out = nullptr;
  EXPECT_EQ(call(amc_workflow_create(client_, request({{"workflow", workflow}}).dump().c_str(), &out)),
            AMC_E_CONFLICT);
  EXPECT_NE(std::string(amc_last_error()).find("already exists"), std::string::npos) << amc_last_error();
  EXPECT_EQ(out, nullptr);

  auto changed = workflow;
  changed["sqlQuery"] = "SELECT 2";
  changed["privacyFilteringBehavior"] = "REMOVE_VALUES";
  ASSERT_EQ(call(amc_workflow_update(client_, request({{"workflow", changed}}).dump().c_str(), &out)), AMC_OK)
      << amc_last_error();
  const auto updated = json::parse(take(out));
  EXPECT_EQ(updated["sqlQuery"], "SELECT 2");
  EXPECT_EQ(updated["privacyFilteringBehavior"], "REMOVE_VALUES");
  ASSERT_EQ(call(amc_workflow_get(client_, request({{"workflow_id", "wf_capi_created"}}).dump().c_str(), &out)),
            AMC_OK);
  EXPECT_EQ(json::parse(take(out))["sqlQuery"], "SELECT 2");
  EXPECT_EQ(requests_of("updateWorkflow"), 1);

  out = nullptr;
  auto missing = changed;
  missing["workflowId"] = "wf_capi_missing";
  EXPECT_EQ(call(amc_workflow_update(client_, request({{"workflow", missing}}).dump().c_str(), &out)),
            AMC_E_NOT_FOUND);
  EXPECT_NE(std::string(amc_last_error()).find("wf_capi_missing"), std::string::npos) << amc_last_error();
  EXPECT_EQ(call(amc_workflow_create(client_, request({{"workflow", {{"workflowId", "wf_e27c2385_b1ed_4bcf_a1b2"},
                                                                    {"sqlQuery", "SELECT 1"}}}})
                                                  .dump()
                                                  .c_str(),
                                     &out)),
            AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(call(amc_workflow_update(client_, request({{"workflow", {{"sqlQuery", "SELECT 1"}}}}).dump().c_str(), &out)),
            AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(requests_of("createWorkflow"), 2) << "bad requests never reach AMC";
}

// Workflow.outputFormat is an object in Amazon's spec (separatorCharacter,
// quoteCharacter, escapeCharacter): a workflow with its own CSV dialect is
// created, synced and run, and its files are read in that dialect (issue 20:
// the request decoder refused anything but a string).
TEST_F(ClientCapi, AWorkflowWithACustomCsvOutputFormatIsCreatedSyncedAndRun) {
  char* out = nullptr;
  json workflow = {{"workflowId", "wf_capi_semicolons"},
                   {"sqlQuery", "SELECT 1\n-- sandbox: rows=10"},
                   {"outputFormat", {{"separatorCharacter", ";"}, {"quoteCharacter", "'"}, {"escapeCharacter", "\\"}}}};
  ASSERT_EQ(call(amc_workflow_create(client_, request({{"workflow", workflow}}).dump().c_str(), &out)), AMC_OK)
      << amc_last_error();
  EXPECT_EQ(json::parse(take(out))["outputFormat"]["separatorCharacter"], ";");
  ASSERT_EQ(call(amc_workflow_sync(client_, request({{"workflow", workflow}}).dump().c_str(), &out)), AMC_OK)
      << amc_last_error();
  EXPECT_EQ(json::parse(take(out))["action"], "unchanged");
  workflow["outputFormat"]["separatorCharacter"] = "|";
  ASSERT_EQ(call(amc_workflow_sync(client_, request({{"workflow", workflow}}).dump().c_str(), &out)), AMC_OK)
      << amc_last_error();
  const auto synced = json::parse(take(out));
  EXPECT_EQ(synced["action"], "updated");
  EXPECT_EQ(synced["workflow"]["outputFormat"]["separatorCharacter"], "|");

  std::string amc_id;
  ASSERT_NO_FATAL_FAILURE(run_to_success({{"workflowId", "wf_capi_semicolons"}}, amc_id));
  const auto download = request({{"amc_execution_id", amc_id}, {"directory", (directory_.path() / "piped").string()}});
  ASSERT_EQ(call(amc_results_download(client_, download.dump().c_str(), nullptr, nullptr, &out)), AMC_OK)
      << amc_last_error();
  const auto manifest = json::parse(take(out));
  EXPECT_EQ(manifest["output_format"]["separatorCharacter"], "|") << manifest;
  EXPECT_EQ(manifest["total_rows"], 10) << manifest;

  // Amazon's spec has no string form: one is refused by name, before AMC.
  workflow["outputFormat"] = "CSV";
  out = nullptr;
  EXPECT_EQ(call(amc_workflow_sync(client_, request({{"workflow", workflow}}).dump().c_str(), &out)),
            AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("'workflow.outputFormat'"), std::string::npos) << amc_last_error();
  EXPECT_EQ(out, nullptr);
}

TEST_F(ClientCapi, DownloadProgressAddsUpToTheManifest) {
  char* out = nullptr;
  std::string amc_id;
  ASSERT_NO_FATAL_FAILURE(run_to_success({{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: parts=3 rows=3000"}}}}, amc_id));

  struct seen_events {
    std::mutex mutex;
    std::vector<json> events;
  } seen;
  auto progress = [](const char* event, void* user) {
    auto* into = static_cast<seen_events*>(user);
    std::lock_guard lock(into->mutex);
    into->events.push_back(json::parse(event));
  };
  const auto download = request({{"amc_execution_id", amc_id},
                                 {"directory", (directory_.path() / "capi-results").string()},
                                 {"parallelism", 2}});
  ASSERT_EQ(call(amc_results_download(client_, download.dump().c_str(), progress, &seen, &out)), AMC_OK)
      << amc_last_error();
  const auto manifest = json::parse(take(out));
  ASSERT_EQ(manifest["files"].size(), 3u);

  std::lock_guard lock(seen.mutex);
  std::map<int, std::uint64_t> last_bytes;  // by part: bytes only ever grow within a part
  for (const auto& event : seen.events) {
    ASSERT_EQ(event["event"], "download") << event;
    EXPECT_EQ(event["parts"], 3) << event;
    const int part = event["part"];
    ASSERT_GE(part, 1);
    ASSERT_LE(part, 3);
    const auto bytes = event["bytes"].get<std::uint64_t>();
    EXPECT_GE(bytes, last_bytes[part]) << event;
    last_bytes[part] = bytes;
    const auto total = event["total_bytes"].get<std::uint64_t>();
    if (total != 0) {
      EXPECT_LE(bytes, total) << event;
    }
  }
  ASSERT_EQ(last_bytes.size(), 3u) << "every part reported progress";
  std::uint64_t sum = 0;
  for (const auto& file : manifest["files"]) {
    const int part = file["part"];
    EXPECT_EQ(last_bytes[part], file["bytes"].get<std::uint64_t>()) << "part " << part;
    sum += last_bytes[part];
  }
  EXPECT_EQ(sum, manifest["total_bytes"].get<std::uint64_t>());
  EXPECT_GT(sum, 0u);
}

TEST_F(ClientCapi, CancelTokenStopsAWaitFromAnotherThread) {
  char* out = nullptr;
  const auto submit = request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: running=100h"}}}}}});
  ASSERT_EQ(call(amc_execution_submit(client_, submit.dump().c_str(), &out)), AMC_OK);
  const auto amc_id = json::parse(take(out))["amc_execution_id"];
  amc_cancel_token* token = nullptr;
  ASSERT_EQ(amc_cancel_token_new(&token), AMC_OK);
  std::thread canceller([token] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    amc_cancel_token_cancel(token);
  });
  const auto wait = request({{"amc_execution_id", amc_id}, {"first_poll_ms", 10000}, {"max_poll_ms", 10000}});
  EXPECT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), token, nullptr, nullptr, &out)), AMC_E_CANCELLED);
  canceller.join();
  amc_cancel_token_free(token);
  amc_cancel_token_free(nullptr);
  // The execution itself is still running: cancel it in AMC.
  ASSERT_EQ(call(amc_execution_cancel(client_, request({{"amc_execution_id", amc_id}}).dump().c_str(), &out)), AMC_OK);
  EXPECT_EQ(json::parse(take(out))["status"], "CANCELLED");
  EXPECT_EQ(call(amc_execution_cancel(client_, request({{"amc_execution_id", amc_id}}).dump().c_str(), &out)),
            AMC_E_CONFLICT);
}

TEST_F(ClientCapi, ABlockingCallFromACallbackIsRefusedNotDeadlocked) {
  char* out = nullptr;
  const auto submit = request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1"}}}}}});
  ASSERT_EQ(call(amc_execution_submit(client_, submit.dump().c_str(), &out)), AMC_OK);
  const auto amc_id = json::parse(take(out))["amc_execution_id"];
  struct context {
    amc_client* client;
    amc_status nested = AMC_OK;
  } state{client_};
  auto progress = [](const char*, void* user) {
    auto* inside = static_cast<context*>(user);
    char* ignored = nullptr;
    inside->nested = amc_auth_refresh(inside->client, "conn", nullptr, &ignored);
    amc_free(ignored);
  };
  const auto wait = request({{"amc_execution_id", amc_id}, {"first_poll_ms", 50}, {"max_poll_ms", 100}});
  EXPECT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), nullptr, progress, &state, &out)), AMC_OK);
  amc_free(out);
  EXPECT_EQ(state.nested, AMC_E_INVALID_ARGUMENT);
}

TEST_F(ClientCapi, BadInputBeforeAnyRequest) {
  char* out = nullptr;
  json bad = request({{"instance", {{"advertiser_id", "123456789"}}}});
  EXPECT_EQ(call(amc_workflow_list(client_, bad.dump().c_str(), &out)), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("profile id"), std::string::npos);
  EXPECT_EQ(call(amc_workflow_list(client_, "{\"credential_id\": \"conn\"}", &out)), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(call(amc_workflow_list(client_, request({{"instnace", 1}}).dump().c_str(), &out)), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("'instnace'"), std::string::npos);
  out = nullptr;
  EXPECT_EQ(call(amc_execution_get(client_, request().dump().c_str(), &out)), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(call(amc_execution_get(client_, request({{"execution_id", "exec_unknown1"}}).dump().c_str(), &out)),
            AMC_E_NOT_FOUND);
  EXPECT_EQ(call(amc_workflow_get(client_, request({{"workflow_id", "wf_e27c2385_b1ed_4bcf_a"}}).dump().c_str(), &out)),
            AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(out, nullptr);
}

TEST_F(ClientCapi, AForkedChildGetsForkedErrorsNeverAHang) {
  char* out = nullptr;
  ASSERT_EQ(amc_auth_status(client_, "conn", &out), AMC_OK);
  amc_free(out);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char* child_out = nullptr;
    const amc_status status = amc_auth_status(client_, "conn", &child_out);
    amc_client_free(client_);  // must not hang either
    ::_exit(status == AMC_E_FORKED ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
