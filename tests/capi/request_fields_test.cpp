// Every request field that amc.h documents, for every AMC operation, sent
// through the C ABI with a value of the wrong JSON type (and, for numbers,
// out of range; for required fields, left out) is refused with
// AMC_E_INVALID_ARGUMENT and a message that names the field by its path,
// before any request leaves the process. The client points at a closed
// local port: a field that slipped through would end in a network error,
// not in AMC_E_INVALID_ARGUMENT.
#include "amc/amc.h"

#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
using entry = std::function<amc_status(amc_client*, const char*, char**)>;

struct operation {
  const char* name;
  entry call;
  json base;  // a valid request
};

json instance() {
  return {{"instance_id", "amcinstance01"}, {"advertiser_id", "ENTITYAAAAAAAAAAAAA1"}, {"marketplace_id", "ATVPDKIKX0DER"}};
}

json instance_request(json extra) {
  json body = {{"credential_id", "conn"}, {"instance", instance()}, {"timeout_ms", 5000}};
  if (extra.is_object()) body.update(extra);
  return body;
}

const std::vector<operation>& operations() {
  static const std::vector<operation> all = {
      {"amc_accounts_list", amc_accounts_list, {{"credential_id", "conn"}, {"timeout_ms", 5000}}},
      {"amc_instances_list", amc_instances_list,
       {{"credential_id", "conn"}, {"advertiser_id", "ENTITYAAAAAAAAAAAAA1"}, {"marketplace_id", "ATVPDKIKX0DER"},
        {"timeout_ms", 5000}}},
      {"amc_workflow_create", amc_workflow_create,
       instance_request({{"workflow", {{"workflowId", "wf_a"}, {"sqlQuery", "SELECT 1"}}}})},
      {"amc_workflow_update", amc_workflow_update,
       instance_request({{"workflow", {{"workflowId", "wf_a"}, {"sqlQuery", "SELECT 1"}}}})},
      {"amc_workflow_sync", amc_workflow_sync,
       instance_request({{"workflow", {{"workflowId", "wf_a"}, {"sqlQuery", "SELECT 1"}}}})},
      {"amc_workflow_get", amc_workflow_get, instance_request({{"workflow_id", "wf_a"}})},
      {"amc_workflow_delete", amc_workflow_delete, instance_request({{"workflow_id", "wf_a"}})},
      {"amc_workflow_list", amc_workflow_list, instance_request({})},
      {"amc_schedule_create", amc_schedule_create,
       instance_request({{"schedule",
                          {{"scheduleId", "sched_a"},
                           {"workflowId", "wf_a"},
                           {"aggregationPeriod", "Weekly"},
                           {"aggregationHourUtc", 6},
                           {"aggregationStartDay", "Monday"},
                           {"scheduleEnabled", true},
                           {"requireSyntheticData", false},
                           {"disableAggregationControls", false}}}})},
      {"amc_schedule_update", amc_schedule_update,
       instance_request({{"schedule", {{"scheduleId", "sched_a"}, {"workflowId", "wf_a"}, {"aggregationHourUtc", 6}}}})},
      {"amc_schedule_get", amc_schedule_get, instance_request({{"schedule_id", "sched_a"}})},
      {"amc_schedule_delete", amc_schedule_delete, instance_request({{"schedule_id", "sched_a"}})},
      {"amc_schedule_list", amc_schedule_list, instance_request({})},
      {"amc_execution_submit", amc_execution_submit,
       instance_request({{"execution_id", "exec_1a2b3c4d"},
                         {"request",
                          {{"workflowId", "wf_a"},
                           {"timeWindowType", "EXPLICIT"},
                           {"timeWindowStart", "2026-01-01T00:00:00"},
                           {"timeWindowEnd", "2026-01-02T00:00:00"},
                           {"timeWindowTimeZone", "UTC"},
                           {"parameterValues", {{"campaign", "x"}}},
                           {"workflowExecutionTimeoutSeconds", 3600},
                           {"dryRun", false}}}})},
      {"amc_execution_submit (ad hoc)", amc_execution_submit,
       instance_request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1"}}}}}})},
      {"amc_execution_get", amc_execution_get, instance_request({{"amc_execution_id", "e1"}})},
      {"amc_execution_get (journaled id)", amc_execution_get, instance_request({{"execution_id", "exec_1a2b3c4d"}})},
      {"amc_execution_cancel", amc_execution_cancel, instance_request({{"amc_execution_id", "e1"}})},
      {"amc_execution_list", amc_execution_list,
       instance_request({{"filters",
                          {{"minCreationTime", "2026-01-01T00:00:00"},
                           {"maxCreationTime", "2026-01-02T00:00:00"},
                           {"workflowId", "wf_a"},
                           {"includeCancelled", true},
                           {"sortAscending", true},
                           {"timeZone", "UTC"},
                           {"limit", 10}}}})},
      {"amc_execution_wait",
       [](amc_client* client, const char* request, char** out) {
         return amc_execution_wait(client, request, nullptr, nullptr, nullptr, out);
       },
       instance_request({{"amc_execution_id", "e1"}, {"first_poll_ms", 100}, {"max_poll_ms", 200}})},
      {"amc_results_download",
       [](amc_client* client, const char* request, char** out) {
         return amc_results_download(client, request, nullptr, nullptr, out);
       },
       instance_request({{"amc_execution_id", "e1"}, {"directory", "/nonexistent/out"}, {"parallelism", 2}})},
      {"amc_data_source_list", amc_data_source_list, instance_request({{"filter", "dsp_"}})},
      {"amc_data_source_get", amc_data_source_get, instance_request({{"data_source_id", "dsp_impressions"}})},
      {"amc_workflow_validate", amc_workflow_validate,
       instance_request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1"}}}, {"timeWindowType", "ALL"}}}})},
      {"amc_adhoc_quota", amc_adhoc_quota, instance_request(json::object())},
  };
  return all;
}

// A value of the wrong JSON type for a field holding `value`.
json wrong_type_for(const json& value) {
  if (value.is_string()) return 42;
  if (value.is_number()) return "5";
  if (value.is_boolean()) return "yes";
  if (value.is_object()) return json::array({1});
  return "text";
}

// Every field of `body` (objects recursed into), as JSON pointers.
void collect_fields(const json& body, const json::json_pointer& at, std::vector<json::json_pointer>& fields) {
  for (const auto& [key, value] : body.items()) {
    const auto pointer = at / key;
    fields.push_back(pointer);
    // AMC's parameterValues map holds the caller's own parameter names.
    if (value.is_object() && key != "parameterValues") collect_fields(value, pointer, fields);
  }
}

// "/instance/advertiser_id" -> "instance.advertiser_id"
std::string dotted(const json::json_pointer& pointer) {
  std::string text = pointer.to_string().substr(1);
  for (auto& c : text)
    if (c == '/') c = '.';
  return text;
}

class RequestFields : public ::testing::Test {
 protected:
  void SetUp() override {
    const json config = {
        {"endpoints",
         {{"amc", "https://127.0.0.1:9"}, {"lwa_token", "https://127.0.0.1:9/t"}, {"lwa_consent", "https://127.0.0.1:9/c"}}},
        {"lwa", {{"client_id", "amzn1.application-oa2-client.test"}, {"client_secret", "not-a-secret"}}},
        {"store", {{"kind", "memory"}, {"fernet_keys", amc::testing::generate_fernet_key()}}},
        {"retry", {{"max_attempts", 1}}}};
    ASSERT_EQ(amc_client_new(config.dump().c_str(), &client_), AMC_OK) << amc_last_error();
  }
  void TearDown() override { amc_client_free(client_); }

  // Calls `op` with `body`; expects AMC_E_INVALID_ARGUMENT naming `field`.
  void expect_refused(const operation& op, const json& body, const std::string& field, const std::string& why) {
    char* out = nullptr;
    const amc_status status = op.call(client_, body.dump().c_str(), &out);
    const std::string message = amc_last_error();
    EXPECT_EQ(status, AMC_E_INVALID_ARGUMENT) << op.name << " " << why << " " << field << ": " << message;
    EXPECT_NE(message.find("'" + field + "'"), std::string::npos)
        << op.name << " " << why << ": the message does not name '" << field << "': " << message;
    EXPECT_EQ(message.find("please report"), std::string::npos) << message;
    EXPECT_EQ(out, nullptr);
    amc_free(out);
  }

  amc_client* client_ = nullptr;
};

TEST_F(RequestFields, EachDocumentedFieldOfTheWrongTypeIsNamed) {
  int checked = 0;
  for (const auto& op : operations()) {
    std::vector<json::json_pointer> fields;
    collect_fields(op.base, json::json_pointer{}, fields);
    for (const auto& pointer : fields) {
      json body = op.base;
      body[pointer] = wrong_type_for(op.base[pointer]);
      expect_refused(op, body, dotted(pointer), "wrong type");
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

TEST_F(RequestFields, NumbersOutOfRangeAreNamed) {
  for (const auto& op : operations()) {
    std::vector<json::json_pointer> fields;
    collect_fields(op.base, json::json_pointer{}, fields);
    for (const auto& pointer : fields) {
      if (!op.base[pointer].is_number()) continue;
      // An hour of the day may be 0; 24 is past its range.
      const bool hour = pointer.back() == "aggregationHourUtc";
      for (const json& out_of_range : {json(hour ? 24 : 0), json(-1), json(1.5), json(1e300)}) {
        json body = op.base;
        body[pointer] = out_of_range;
        expect_refused(op, body, dotted(pointer), "out of range " + out_of_range.dump());
      }
    }
  }
}

TEST_F(RequestFields, RequiredFieldsLeftOutAreNamed) {
  const std::vector<std::pair<const char*, std::vector<std::string>>> required = {
      {"amc_accounts_list", {"/credential_id"}},
      {"amc_instances_list", {"/credential_id", "/advertiser_id", "/marketplace_id"}},
      {"amc_workflow_create",
       {"/credential_id", "/instance", "/instance/instance_id", "/instance/advertiser_id", "/instance/marketplace_id",
        "/workflow"}},
      {"amc_workflow_get", {"/workflow_id"}},
      {"amc_workflow_delete", {"/workflow_id"}},
      {"amc_schedule_create", {"/schedule", "/schedule/scheduleId", "/schedule/workflowId"}},
      {"amc_schedule_get", {"/schedule_id"}},
      {"amc_schedule_delete", {"/schedule_id"}},
      {"amc_execution_submit", {"/request"}},
      {"amc_execution_list", {"/filters"}},
      {"amc_results_download", {"/directory"}},
      {"amc_data_source_get", {"/data_source_id"}},
      {"amc_workflow_validate", {"/request"}},
      {"amc_adhoc_quota", {"/instance"}},
  };
  for (const auto& [name, pointers] : required) {
    const auto& op = *std::find_if(operations().begin(), operations().end(),
                                   [&](const operation& candidate) { return std::string(candidate.name) == name; });
    for (const auto& text : pointers) {
      const json::json_pointer pointer{text};
      json body = op.base;
      body[pointer.parent_pointer()].erase(pointer.back());
      expect_refused(op, body, dotted(pointer), "left out");
    }
  }
}

TEST_F(RequestFields, UnknownFieldsAreNamedWithTheirPath) {
  for (const auto& op : operations()) {
    json body = op.base;
    body["tiemout_ms"] = 5;
    expect_refused(op, body, "tiemout_ms", "unknown");
    if (body.contains("instance")) {
      body = op.base;
      body["instance"]["region"] = "na";
      expect_refused(op, body, "instance.region", "unknown");
    }
  }
}

TEST_F(RequestFields, AWaitPollIntervalAsTextIsAnArgumentErrorNotABug) {
  // Issue 11: {"first_poll_ms": "5"} was AMC_E_INTERNAL "please report this bug".
  json body = instance_request({{"amc_execution_id", "e1"}, {"first_poll_ms", "5"}});
  char* out = nullptr;
  EXPECT_EQ(amc_execution_wait(client_, body.dump().c_str(), nullptr, nullptr, nullptr, &out), AMC_E_INVALID_ARGUMENT);
  const std::string message = amc_last_error();
  EXPECT_NE(message.find("'first_poll_ms'"), std::string::npos) << message;
  EXPECT_NE(message.find("whole number of milliseconds"), std::string::npos) << message;
  body = instance_request({{"amc_execution_id", "e1"}, {"first_poll_ms", 500}, {"max_poll_ms", 100}});
  EXPECT_EQ(amc_execution_wait(client_, body.dump().c_str(), nullptr, nullptr, nullptr, &out), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("'max_poll_ms'"), std::string::npos) << amc_last_error();
}

TEST_F(RequestFields, AnExecutionIsNamedOnceNotTwice) {
  json body = instance_request({{"amc_execution_id", "e1"}, {"execution_id", "exec_1a2b3c4d"}});
  char* out = nullptr;
  EXPECT_EQ(amc_execution_get(client_, body.dump().c_str(), &out), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("not both"), std::string::npos) << amc_last_error();
  body.erase("execution_id");
  body.erase("amc_execution_id");
  EXPECT_EQ(amc_execution_get(client_, body.dump().c_str(), &out), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("'amc_execution_id'"), std::string::npos) << amc_last_error();
}

}  // namespace
