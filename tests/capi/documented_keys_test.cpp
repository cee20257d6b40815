// Every JSON key that amc.h documents for a response, a progress event or an
// error (amc_last_error_json) is there, with the documented JSON type, in
// what the library emits against the sandbox. The tables below are amc.h's
// documentation, key by key (issue 11 found "retry_after_ms" documented and
// "retry_after" emitted); when amc.h changes, change them with it.
#include "amc/amc.h"

#include "client_capi_fixture.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace {

using amc::testing::ClientCapi;
using amc::testing::take;
using boost::beast::http::verb;
using nlohmann::json;

enum class kind { string, integer, boolean, object, array, string_or_null };

struct key {
  const char* name;
  kind type;
};

bool has_type(const json& value, kind type) {
  switch (type) {
    case kind::string: return value.is_string();
    case kind::integer: return value.is_number_integer();
    case kind::boolean: return value.is_boolean();
    case kind::object: return value.is_object();
    case kind::array: return value.is_array();
    case kind::string_or_null: return value.is_string() || value.is_null();
  }
  return false;
}

// Each documented key is present with its documented type.
void expect_keys(const json& document, const std::vector<key>& keys, const std::string& where) {
  ASSERT_TRUE(document.is_object()) << where << ": " << document.dump();
  for (const auto& [name, type] : keys) {
    const auto found = document.find(name);
    if (found == document.end()) {
      ADD_FAILURE() << where << ": documented key \"" << name << "\" is missing: " << document.dump();
      continue;
    }
    EXPECT_TRUE(has_type(*found, type)) << where << ": \"" << name << "\" has the wrong type: " << found->dump();
  }
}

// amc_auth_status (and what exchange and refresh return).
const std::vector<key> credential_status = {
    {"credential_id", kind::string},   {"client_id", kind::string},
    {"state", kind::string},           {"has_refresh_token", kind::boolean},
    {"has_access_token", kind::boolean}, {"access_token_expires_at", kind::string_or_null},
    {"created_at", kind::string},      {"updated_at", kind::string},
    {"last_error", kind::string_or_null}};
// amc_last_error_json, every error.
const std::vector<key> every_error = {{"status", kind::string}, {"code", kind::integer}, {"message", kind::string}};

class DocumentedKeys : public ClientCapi {
 protected:
  // `out` is read after the call has run (the arguments of one call are
  // evaluated in no fixed order).
  json ok(amc_status status, char** out, const char* what) {
    EXPECT_EQ(status, AMC_OK) << what << ": " << amc_last_error();
    char* text = *out;
    *out = nullptr;
    return json::parse(take(text), nullptr, false);
  }
  json error_json(amc_status status, amc_status expected, const char* what) {
    EXPECT_EQ(status, expected) << what << ": " << amc_status_name(status) << " " << amc_last_error();
    const auto detail = json::parse(amc_last_error_json());
    expect_keys(detail, every_error, std::string(what) + " error");
    EXPECT_EQ(detail["status"], amc_status_name(expected));
    EXPECT_EQ(detail["code"], static_cast<int>(expected));
    EXPECT_EQ(detail["message"], amc_last_error());
    return detail;
  }
};

TEST_F(DocumentedKeys, ClientAndCredentialResponses) {
  char* out = nullptr;
  expect_keys(ok(amc_auth_status(client_, "conn", &out), &out, "status"), credential_status, "amc_auth_status");
  out = nullptr;
  expect_keys(ok(amc_auth_refresh(client_, "conn", nullptr, &out), &out, "refresh"), credential_status,
              "amc_auth_refresh");
  out = nullptr;
  const auto metrics = ok(amc_client_metrics(client_, &out), &out, "metrics");
  expect_keys(metrics, {{"http", kind::object}, {"tokens", kind::object}}, "amc_client_metrics");
  expect_keys(metrics["http"], {{"requests", kind::integer}, {"retries", kind::object}, {"throttle_waits", kind::integer}},
              "amc_client_metrics http");
  expect_keys(metrics["tokens"], {{"refreshes", kind::integer}, {"refresh_failures", kind::integer}},
              "amc_client_metrics tokens");
}

TEST_F(DocumentedKeys, StoreResponses) {
  amc_store* store = nullptr;
  const json config = {{"kind", "memory"}, {"fernet_keys", fernet_key_}};
  ASSERT_EQ(amc_store_new(config.dump().c_str(), &store), AMC_OK) << amc_last_error();
  ASSERT_EQ(amc_store_put_credential(
                store, R"({"credential_id": "c1", "client_id": "amzn1.app", "refresh_token": "Atzr|documented"})"),
            AMC_OK);
  char* out = nullptr;
  expect_keys(ok(amc_store_get_credential(store, "c1", nullptr, &out), &out, "get"), credential_status,
              "amc_store_get_credential");
  const auto listed = ok(amc_store_list_credentials(store, &out), &out, "list");
  expect_keys(listed, {{"credentials", kind::array}}, "amc_store_list_credentials");
  ASSERT_EQ(listed["credentials"].size(), 1u);
  expect_keys(listed["credentials"][0], credential_status, "amc_store_list_credentials credential");
  expect_keys(ok(amc_store_rotate_keys(store, &out), &out, "rotate"),
              {{"total", kind::integer}, {"rotated", kind::integer}, {"failed", kind::array}}, "amc_store_rotate_keys");
  amc_store_free(store);
}

TEST_F(DocumentedKeys, DiscoveryWorkflowAndExecutionResponses) {
  char* out = nullptr;
  const auto accounts = ok(amc_accounts_list(client_, R"({"credential_id": "conn"})", &out), &out, "accounts");
  expect_keys(accounts, {{"accounts", kind::array}}, "amc_accounts_list");
  ASSERT_FALSE(accounts["accounts"].empty());
  expect_keys(accounts["accounts"][0],
              {{"accountId", kind::string}, {"accountName", kind::string}, {"marketplaceId", kind::string}},
              "amc_accounts_list account");
  const json instances_request = {{"credential_id", "conn"},
                                  {"advertiser_id", instance_["advertiser_id"]},
                                  {"marketplace_id", instance_["marketplace_id"]}};
  out = nullptr;
  expect_keys(ok(amc_instances_list(client_, instances_request.dump().c_str(), &out), &out, "instances"),
              {{"instances", kind::array}}, "amc_instances_list");

  const json workflow = {{"workflowId", "wf_documented"}, {"sqlQuery", "SELECT 1 -- sandbox: duration=1s"}};
  out = nullptr;
  expect_keys(ok(amc_workflow_create(client_, request({{"workflow", workflow}}).dump().c_str(), &out), &out, "create"),
              {{"workflowId", kind::string}, {"sqlQuery", kind::string}}, "amc_workflow_create");
  out = nullptr;
  expect_keys(ok(amc_workflow_sync(client_, request({{"workflow", workflow}}).dump().c_str(), &out), &out, "sync"),
              {{"action", kind::string}, {"workflow", kind::object}}, "amc_workflow_sync");
  out = nullptr;
  expect_keys(
      ok(amc_workflow_get(client_, request({{"workflow_id", "wf_documented"}}).dump().c_str(), &out), &out, "get"),
      {{"workflowId", kind::string}, {"sqlQuery", kind::string}}, "amc_workflow_get");
  out = nullptr;
  expect_keys(ok(amc_workflow_list(client_, request().dump().c_str(), &out), &out, "list"),
              {{"workflows", kind::array}}, "amc_workflow_list");

  out = nullptr;
  const auto submitted = ok(amc_execution_submit(client_,
                                                 request({{"execution_id", "exec_d0c0ed01"},
                                                          {"request", {{"workflowId", "wf_documented"}}}})
                                                     .dump()
                                                     .c_str(),
                                                 &out),
                            &out, "submit");
  expect_keys(submitted,
              {{"execution_id", kind::string},
               {"amc_execution_id", kind::string},
               {"reattached", kind::boolean},
               {"execution", kind::object}},
              "amc_execution_submit");
  const json named = {{"execution_id", "exec_d0c0ed01"}};
  const std::vector<key> execution = {{"workflowExecutionId", kind::string}, {"status", kind::string}};
  out = nullptr;
  expect_keys(ok(amc_execution_get(client_, request(named).dump().c_str(), &out), &out, "get"), execution,
              "amc_execution_get");
  out = nullptr;
  expect_keys(ok(amc_execution_list(client_, request({{"filters", {{"workflowId", "wf_documented"}}}}).dump().c_str(),
                                    &out),
                 &out, "list"),
              {{"executions", kind::array}}, "amc_execution_list");

  struct events {
    std::mutex mutex;
    std::vector<json> seen;
  } progress;
  auto record = [](const char* event, void* user) {
    auto* into = static_cast<events*>(user);
    const std::lock_guard lock{into->mutex};
    into->seen.push_back(json::parse(event));
  };
  out = nullptr;
  const auto wait = request({{"execution_id", "exec_d0c0ed01"}, {"first_poll_ms", 20}, {"max_poll_ms", 50}});
  expect_keys(ok(amc_execution_wait(client_, wait.dump().c_str(), nullptr, record, &progress, &out), &out, "wait"),
              execution, "amc_execution_wait");
  ASSERT_FALSE(progress.seen.empty());
  for (const auto& event : progress.seen)
    expect_keys(event, {{"event", kind::string}, {"execution", kind::object}, {"next_poll_ms", kind::integer}},
                "status event");
  progress.seen.clear();

  out = nullptr;
  const auto download =
      request({{"execution_id", "exec_d0c0ed01"}, {"directory", (directory_.path() / "documented").string()}});
  const auto manifest =
      ok(amc_results_download(client_, download.dump().c_str(), record, &progress, &out), &out, "download");
  expect_keys(manifest,
              {{"amc_execution_id", kind::string},
               {"directory", kind::string},
               {"files", kind::array},
               {"total_bytes", kind::integer},
               {"total_rows", kind::integer}},
              "amc_results_download");
  ASSERT_FALSE(manifest["files"].empty());
  expect_keys(manifest["files"][0],
              {{"part", kind::integer},
               {"path", kind::string},
               {"bytes", kind::integer},
               {"rows", kind::integer},
               {"columns", kind::array}},
              "amc_results_download file");
  ASSERT_FALSE(progress.seen.empty());
  for (const auto& event : progress.seen)
    expect_keys(event,
                {{"event", kind::string},
                 {"part", kind::integer},
                 {"parts", kind::integer},
                 {"bytes", kind::integer},
                 {"total_bytes", kind::integer}},
                "download event");

  out = nullptr;
  expect_keys(
      ok(amc_workflow_delete(client_, request({{"workflow_id", "wf_documented"}}).dump().c_str(), &out), &out, "delete"),
      {}, "amc_workflow_delete");
}

// amc.h: every execution object carries "terminal", libamc's one
// classification of AMC's statuses (issue 20, point 5), so hosts keep no
// list of their own: false while it runs, true once it is over, however it
// ended; in every call and event that hands out an execution.
TEST_F(DocumentedKeys, EveryExecutionSaysWhetherItIsTerminal) {
  auto terminal = [](const json& execution, const std::string& where) {
    EXPECT_TRUE(execution.contains("terminal") && execution["terminal"].is_boolean()) << where << ": " << execution;
    // "phase" is the status typed: the lower-case status, or "unknown".
    const auto status = execution.value("status", std::string{});
    const std::set<std::string> known{"PENDING", "RUNNING", "PUBLISHING", "SUCCEEDED", "FAILED", "CANCELLED", "REJECTED"};
    std::string phase = known.contains(status) ? status : "UNKNOWN";
    std::transform(phase.begin(), phase.end(), phase.begin(), [](unsigned char c) { return std::tolower(c); });
    EXPECT_EQ(execution.value("phase", std::string{"(none)"}), phase) << where << ": " << execution;
    return execution.value("terminal", false);
  };
  char* out = nullptr;
  const auto long_run = request({{"execution_id", "exec_7e4a1c01"},
                                 {"request", {{"workflow", {{"sqlQuery", "SELECT 1 -- sandbox: duration=10h"}}}}}});
  const auto submitted = ok(amc_execution_submit(client_, long_run.dump().c_str(), &out), &out, "submit");
  EXPECT_FALSE(terminal(submitted["execution"], "amc_execution_submit"));
  const json named = {{"execution_id", "exec_7e4a1c01"}};
  out = nullptr;
  EXPECT_FALSE(terminal(ok(amc_execution_get(client_, request(named).dump().c_str(), &out), &out, "get"),
                        "amc_execution_get of a running execution"));
  out = nullptr;
  const auto listed = ok(amc_execution_list(client_,
                                            request({{"filters", {{"minCreationTime", "2000-01-01T00:00:00"}}}})
                                                .dump()
                                                .c_str(),
                                            &out),
                         &out, "list");
  int running = 0;
  for (const auto& execution : listed["executions"])
    if (!terminal(execution, "amc_execution_list") &&
        execution["workflowExecutionId"] == submitted["amc_execution_id"])
      ++running;
  EXPECT_EQ(running, 1) << listed;
  out = nullptr;
  const auto cancelled = ok(amc_execution_cancel(client_, request(named).dump().c_str(), &out), &out, "cancel");
  EXPECT_EQ(cancelled["status"], "CANCELLED");
  EXPECT_TRUE(terminal(cancelled, "amc_execution_cancel"));

  // A wait: every progress event's execution, and the final one.
  std::mutex mutex;
  std::vector<json> seen;
  auto record = [](const char* event, void* user) {
    auto* into = static_cast<std::pair<std::mutex*, std::vector<json>*>*>(user);
    const std::lock_guard lock{*into->first};
    into->second->push_back(json::parse(event));
  };
  std::pair<std::mutex*, std::vector<json>*> sink{&mutex, &seen};
  out = nullptr;
  const auto quick = request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1 -- sandbox: duration=30m"}}}}}});
  const auto amc_id = ok(amc_execution_submit(client_, quick.dump().c_str(), &out), &out, "submit")["amc_execution_id"];
  out = nullptr;
  const auto wait = request({{"amc_execution_id", amc_id}, {"first_poll_ms", 20}, {"max_poll_ms", 50}});
  const auto finished = ok(amc_execution_wait(client_, wait.dump().c_str(), nullptr, record, &sink, &out), &out, "wait");
  EXPECT_EQ(finished["status"], "SUCCEEDED");
  EXPECT_TRUE(terminal(finished, "amc_execution_wait"));
  {
    const std::lock_guard lock{mutex};
    ASSERT_FALSE(seen.empty());
    for (const auto& event : seen)
      EXPECT_EQ(terminal(event["execution"], "a status event"), event["execution"]["status"] == "SUCCEEDED") << event;
    EXPECT_TRUE(terminal(seen.back()["execution"], "the last status event"));
  }

  // A failed run: the execution in the error detail.
  out = nullptr;
  const auto failing =
      request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: fail \"Column x is unknown\""}}}}}});
  const auto failed_id = ok(amc_execution_submit(client_, failing.dump().c_str(), &out), &out, "submit")["amc_execution_id"];
  const auto failed_wait = request({{"amc_execution_id", failed_id}, {"first_poll_ms", 20}});
  const auto detail = error_json(amc_execution_wait(client_, failed_wait.dump().c_str(), nullptr, nullptr, nullptr, &out),
                                 AMC_E_EXECUTION_FAILED, "amc_execution_wait");
  EXPECT_EQ(detail["execution"]["status"], "FAILED");
  EXPECT_TRUE(terminal(detail["execution"], "amc_last_error_json"));
}

TEST_F(DocumentedKeys, ErrorDetail) {
  char* out = nullptr;
  // AMC's own error: http_status, amc_code, credential_id.
  auto detail = error_json(amc_workflow_get(client_, request({{"workflow_id", "wf_missing"}}).dump().c_str(), &out),
                           AMC_E_NOT_FOUND, "amc_workflow_get");
  expect_keys(detail, {{"http_status", kind::integer}, {"amc_code", kind::string}, {"credential_id", kind::string}},
              "AMC's 404");

  // A throttled answer: retry_after_ms, whole milliseconds.
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "rate_limit"}, {"operation", "listWorkflows"}, {"count", -1}, {"retry_after", 5}});
  detail = error_json(amc_workflow_list(client_, request({{"timeout_ms", 1000}}).dump().c_str(), &out),
                      AMC_E_THROTTLED, "amc_workflow_list");
  expect_keys(detail, {{"http_status", kind::integer}, {"retry_after_ms", kind::integer}}, "a 429");
  EXPECT_EQ(detail["retry_after_ms"], 5000);
  admin(verb::delete_, "/_sandbox/faults");

  // A failed execution: its status and the execution.
  out = nullptr;
  const auto submit = request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: fail \"Column x is unknown\""}}}}}});
  const auto submitted = ok(amc_execution_submit(client_, submit.dump().c_str(), &out), &out, "submit");
  const auto wait = request({{"amc_execution_id", submitted["amc_execution_id"]}, {"first_poll_ms", 20}});
  detail = error_json(amc_execution_wait(client_, wait.dump().c_str(), nullptr, nullptr, nullptr, &out),
                      AMC_E_EXECUTION_FAILED, "amc_execution_wait");
  expect_keys(detail, {{"status", kind::string}, {"execution", kind::object}}, "a failed execution");
}

}  // namespace
