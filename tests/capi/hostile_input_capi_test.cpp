// Hostile input through the C ABI, as a host passes it: JSON nested far
// past any real document, and text that is not UTF-8 (or is unusual UTF-8)
// in every string field of every entry point. Whatever goes in, the host
// gets a status that is not AMC_E_INTERNAL, and every message and JSON
// document it gets back is valid UTF-8 (issue 12, items 5 and 6).
#include "amc/amc.h"

#include "crypto/base64url.hpp"
#include "support/sandbox_fixture.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <fstream>
#include <functional>
#include <utility>

namespace {

using nlohmann::json;

std::string take(char* text) {
  std::string copy = text != nullptr ? text : "";
  amc_free(text);
  return copy;
}

// Strict UTF-8 (RFC 3629), written apart from the library's own check so
// that the test does not grade the library with itself: a byte-pattern
// walk with the ranges of the Unicode standard's table 3-7.
bool is_strict_utf8(std::string_view text) {
  std::size_t i = 0;
  const auto at = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(text[k])); };
  while (i < text.size()) {
    const unsigned b = at(i);
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (b <= 0x7F) { ++i; continue; }
    if (b >= 0xC2 && b <= 0xDF) n = 1;
    else if (b == 0xE0) { n = 2; lo = 0xA0; }
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) n = 2;
    else if (b == 0xED) { n = 2; hi = 0x9F; }
    else if (b == 0xF0) { n = 3; lo = 0x90; }
    else if (b >= 0xF1 && b <= 0xF3) n = 3;
    else if (b == 0xF4) { n = 3; hi = 0x8F; }
    else return false;
    if (i + n >= text.size()) return false;  // cut short
    for (std::size_t k = 1; k <= n; ++k) {
      const unsigned c = at(i + k);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

TEST(StrictUtf8, TheTestsOwnCheckIsStrict) {
  EXPECT_TRUE(is_strict_utf8("plain é 😀 \xEF\xBF\xBD"));
  for (const std::string bad : {"\xC3", "\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\xFF"})
    EXPECT_FALSE(is_strict_utf8(bad)) << json(std::vector<int>(bad.begin(), bad.end())).dump();
}

// A value to put into a string field: the raw bytes that go between the
// JSON quotes (or into a C string), and whether they are UTF-8 at all.
struct hostile_text {
  const char* name;
  std::string raw;  // as written inside a JSON string (escapes allowed)
  bool valid_utf8;
};

const std::vector<hostile_text>& hostile_texts() {
  static const std::vector<hostile_text> texts = {
      {"lone lead byte", "wf_\xC3", false},
      {"lone continuation byte", "wf_\x80x", false},
      {"overlong slash", "wf_\xC0\xAF", false},
      {"encoded surrogate", "wf_\xED\xA0\x80", false},
      {"past U+10FFFF", "wf_\xF4\x90\x80\x80", false},
      {"cut 3-byte sequence", "wf_\xE2\x82", false},
      {"4-byte emoji", "wf_\xF0\x9F\x98\x80", true},
      {"e acute", "wf_\xC3\xA9", true},
      {"NUL inside a JSON string", "wf_\\u0000x", true},
      {"right-to-left override", "wf_\\u202Ex", true},
  };
  return texts;
}

class HostileInput : public amc::testing::sandbox_fixture {
 protected:
  void configure(amc::sandbox::sandbox_options& options) override { options.time_scale = 2000; }
  void SetUp() override {
    sandbox_fixture::SetUp();
    config_ = client_config().dump();
    ASSERT_EQ(amc_client_new(config_.c_str(), &client_), AMC_OK) << amc_last_error();
    ASSERT_EQ(amc_client_set_log(client_, &HostileInput::record_log, this, AMC_LOG_DEBUG), AMC_OK);
    const json credential = {{"credential_id", "conn"}, {"refresh_token", new_grant()}};
    ASSERT_EQ(amc_auth_import(client_, credential.dump().c_str()), AMC_OK) << amc_last_error();
    const auto& instance = server_->service().options().instances.front();
    instance_ = {{"instance_id", instance.instance_id},
                 {"advertiser_id", instance.entity_id},
                 {"marketplace_id", instance.marketplace_id}};
  }
  void TearDown() override {
    amc_client_free(client_);
    for (const auto& line : log_lines_) EXPECT_TRUE(is_strict_utf8(line)) << "a log line is not UTF-8";
    sandbox_fixture::TearDown();
  }
  static void record_log(int, const char* message, void* user) {
    static_cast<HostileInput*>(user)->log_lines_.emplace_back(message);
  }
  json request(json extra = json::object()) const {
    json body = {{"credential_id", "conn"}, {"instance", instance_}, {"timeout_ms", 10000}};
    body.merge_patch(extra);
    return body;
  }
  // What every call must give a host, whatever went in: a status that is
  // not a library bug, a message and an error JSON that are UTF-8, and an
  // output that is UTF-8.
  // `out` is read only here, after the call that fills it has returned (a
  // function's arguments are evaluated in no set order).
  amc_status expect_clean(amc_status status, char** out, const std::string& what) {
    const std::string output = take(std::exchange(*out, nullptr));
    EXPECT_NE(status, AMC_E_INTERNAL) << what << ": " << json(amc_last_error()).dump();
    const std::string message = amc_last_error();
    const std::string error_json = amc_last_error_json();
    EXPECT_TRUE(is_strict_utf8(message)) << what << ": the message is not UTF-8";
    EXPECT_TRUE(is_strict_utf8(error_json)) << what << ": the error JSON is not UTF-8";
    EXPECT_TRUE(json::accept(error_json)) << what;
    EXPECT_TRUE(is_strict_utf8(output)) << what << ": the output is not UTF-8";
    if (status == AMC_OK && !output.empty() && output.front() == '{') {
      EXPECT_TRUE(json::accept(output)) << what;
    }
    last_message_ = message;
    return status;
  }
  // A call with no output.
  amc_status expect_clean(amc_status status, std::nullptr_t, const std::string& what) {
    char* none = nullptr;
    return expect_clean(status, &none, what);
  }

  std::string config_;
  amc_client* client_ = nullptr;
  json instance_;
  std::vector<std::string> log_lines_;
  std::string last_message_;
};

// The JSON text of `document` with the string "@@" replaced by raw bytes.
std::string with_raw(const json& document, const std::string& raw) {
  auto text = document.dump();
  const auto at = text.find("@@");
  EXPECT_NE(at, std::string::npos);
  return text.replace(at, 2, raw);
}

// Entry points that take one JSON request: a name, the call, and requests
// that each put "@@" into one string field.
struct json_entry_point {
  const char* name;
  std::function<amc_status(const char* request, char** out)> call;
  std::vector<json> requests;
};

TEST_F(HostileInput, EveryStringFieldOfEveryEntryPointGivesAStatusAndUtf8) {
  const auto results = (directory_.path() / "results").string();
  const json bad_instance = {{"instance_id", "@@"}, {"advertiser_id", "ENTITYAAAAAAAAAAAAA1"}, {"marketplace_id", "ATVPDKIKX0DER"}};
  auto with_instance_field = [&](const char* field) {
    auto instance = instance_;
    instance[field] = "@@";
    return instance;
  };
  const std::vector<json_entry_point> entry_points = {
      {"amc_auth_consent_url",
       [&](const char* r, char** o) { return amc_auth_consent_url(client_, r, o); },
       {{{"redirect_uri", "@@"}}, {{"redirect_uri", "https://example.com/cb"}, {"state", "@@"}}}},
      {"amc_auth_exchange_code",
       [&](const char* r, char** o) { return amc_auth_exchange_code(client_, r, o); },
       {{{"credential_id", "@@"}, {"code", "c"}, {"redirect_uri", "https://example.com/cb"}},
        {{"credential_id", "x"}, {"code", "@@"}, {"redirect_uri", "https://example.com/cb"}}}},
      {"amc_auth_import", [&](const char* r, char**) { return amc_auth_import(client_, r); },
       {{{"credential_id", "@@"}, {"refresh_token", "Atzr|x"}}, {{"credential_id", "x"}, {"refresh_token", "@@"}}}},
      {"amc_accounts_list", [&](const char* r, char** o) { return amc_accounts_list(client_, r, o); },
       {{{"credential_id", "@@"}}, {{"credential_id", "conn"}, {"@@", 1}}}},
      {"amc_instances_list", [&](const char* r, char** o) { return amc_instances_list(client_, r, o); },
       {{{"credential_id", "conn"}, {"advertiser_id", "@@"}, {"marketplace_id", "ATVPDKIKX0DER"}},
        {{"credential_id", "conn"}, {"advertiser_id", "ENTITYAAAAAAAAAAAAA1"}, {"marketplace_id", "@@"}}}},
      {"amc_workflow_create", [&](const char* r, char** o) { return amc_workflow_create(client_, r, o); },
       {request({{"workflow", {{"workflowId", "@@"}, {"sqlQuery", "SELECT 1"}}}}),
        request({{"workflow", {{"workflowId", "wf_utf8"}, {"sqlQuery", "SELECT '@@'"}}}}),
        request({{"instance", bad_instance}, {"workflow", {{"workflowId", "wf_x"}, {"sqlQuery", "SELECT 1"}}}}),
        request({{"instance", with_instance_field("advertiser_id")}, {"workflow", {{"workflowId", "wf_x"}, {"sqlQuery", "SELECT 1"}}}}),
        request({{"instance", with_instance_field("marketplace_id")}, {"workflow", {{"workflowId", "wf_x"}, {"sqlQuery", "SELECT 1"}}}})}},
      {"amc_workflow_get", [&](const char* r, char** o) { return amc_workflow_get(client_, r, o); },
       {request({{"workflow_id", "@@"}}), request({{"credential_id", "@@"}, {"workflow_id", "wf_x"}})}},
      {"amc_workflow_list", [&](const char* r, char** o) { return amc_workflow_list(client_, r, o); },
       {request({{"instance", bad_instance}})}},
      {"amc_workflow_update", [&](const char* r, char** o) { return amc_workflow_update(client_, r, o); },
       {request({{"workflow", {{"workflowId", "@@"}, {"sqlQuery", "SELECT 1"}}}})}},
      {"amc_workflow_delete", [&](const char* r, char** o) { return amc_workflow_delete(client_, r, o); },
       {request({{"workflow_id", "@@"}})}},
      {"amc_workflow_sync", [&](const char* r, char** o) { return amc_workflow_sync(client_, r, o); },
       {request({{"workflow", {{"workflowId", "@@"}, {"sqlQuery", "SELECT 1"}}}}),
        request({{"workflow", {{"workflowId", "wf_sync_utf8"}, {"sqlQuery", "SELECT '@@'"}}}})}},
      {"amc_execution_submit", [&](const char* r, char** o) { return amc_execution_submit(client_, r, o); },
       {request({{"execution_id", "@@"}, {"request", {{"workflowId", "wf_x"}}}}),
        request({{"request", {{"workflowId", "@@"}}}}),
        request({{"request", {{"workflow", {{"sqlQuery", "SELECT 1"}, {"workflowId", "@@"}}}}}}),
        request({{"request", {{"workflowId", "wf_x"}, {"timeWindowType", "@@"}}}}),
        request({{"request", {{"workflowId", "wf_x"}, {"parameterValues", {{"p", "@@"}}}}}})}},
      {"amc_execution_get", [&](const char* r, char** o) { return amc_execution_get(client_, r, o); },
       {request({{"amc_execution_id", "@@"}}), request({{"execution_id", "@@"}})}},
      {"amc_execution_list", [&](const char* r, char** o) { return amc_execution_list(client_, r, o); },
       {request({{"filters", {{"workflowId", "@@"}}}}), request({{"filters", {{"minCreationTime", "@@"}}}})}},
      {"amc_execution_cancel", [&](const char* r, char** o) { return amc_execution_cancel(client_, r, o); },
       {request({{"amc_execution_id", "@@"}}), request({{"execution_id", "@@"}})}},
      {"amc_execution_wait",
       [&](const char* r, char** o) { return amc_execution_wait(client_, r, nullptr, nullptr, nullptr, o); },
       {request({{"amc_execution_id", "@@"}}), request({{"execution_id", "@@"}})}},
      {"amc_results_download",
       [&](const char* r, char** o) { return amc_results_download(client_, r, nullptr, nullptr, o); },
       {request({{"amc_execution_id", "@@"}, {"directory", results}}),
        request({{"execution_id", "@@"}, {"directory", results}})}},
      {"amc_client_new",
       [&](const char* r, char** o) {
         amc_client* other = nullptr;
         const auto status = amc_client_new(r, &other);
         amc_client_free(other);
         (void)o;
         return status;
       },
       {{{"region", "@@"}}, {{"lwa", {{"client_id", "@@"}, {"client_secret", "s"}}}}}},
      {"amc_store_new",
       [&](const char* r, char**) {
         amc_store* store = nullptr;
         const auto status = amc_store_new(r, &store);
         amc_store_free(store);
         return status;
       },
       {{{"path", "@@"}, {"fernet_keys", "k"}}}},
  };
  int calls = 0;
  for (const auto& entry : entry_points)
    for (const auto& document : entry.requests)
      for (const auto& text : hostile_texts()) {
        const std::string what = std::string(entry.name) + " " + document.dump() + " with " + text.name;
        char* out = nullptr;
        const auto status = expect_clean(entry.call(with_raw(document, text.raw).c_str(), &out), &out, what);
        ++calls;
        if (!text.valid_utf8) {
          EXPECT_EQ(status, AMC_E_INVALID_ARGUMENT) << what;
          EXPECT_NE(last_message_.find("not valid UTF-8 at byte"), std::string::npos) << what << ": " << last_message_;
        }
      }
  EXPECT_GT(calls, 300);
}

// Text passed as a C string (not inside JSON) to the entry points that take
// one: a credential id, a workflow name.
TEST_F(HostileInput, EveryCStringParameterGivesAStatusAndUtf8) {
  amc_store* store = nullptr;
  const json store_config = {{"path", (directory_.path() / "store.json").string()}, {"fernet_keys", fernet_key_}};
  ASSERT_EQ(amc_store_new(store_config.dump().c_str(), &store), AMC_OK) << amc_last_error();
  for (const auto& text : hostile_texts()) {
    if (text.raw.find('\\') != std::string::npos) continue;  // JSON escapes mean nothing here
    const std::string what = std::string(" with ") + text.name;
    char* out = nullptr;
    std::vector<amc_status> statuses;
    statuses.push_back(expect_clean(amc_auth_status(client_, text.raw.c_str(), &out), &out, "amc_auth_status" + what));
    out = nullptr;
    statuses.push_back(
        expect_clean(amc_auth_refresh(client_, text.raw.c_str(), nullptr, &out), &out, "amc_auth_refresh" + what));
    out = nullptr;
    statuses.push_back(expect_clean(amc_store_get_credential(store, text.raw.c_str(), nullptr, &out), &out,
                                    "amc_store_get_credential" + what));
    statuses.push_back(
        expect_clean(amc_store_delete_credential(store, text.raw.c_str()), nullptr, "amc_store_delete_credential" + what));
    out = nullptr;
    const auto derived = amc_workflow_id_from_name(text.raw.c_str(), &out);
    expect_clean(derived, &out, "amc_workflow_id_from_name" + what);
    EXPECT_EQ(derived, AMC_OK) << "a name of any bytes gives an id";
    if (!text.valid_utf8) {
      for (const auto status : statuses) EXPECT_EQ(status, AMC_E_INVALID_ARGUMENT) << what;
    }
  }
  amc_store_free(store);
}

TEST_F(HostileInput, OutsideTextIsQuotedCodePointByCodePoint) {
  char* out = nullptr;
  EXPECT_EQ(amc_workflow_get(client_, request({{"workflow_id", "wf_\xC3\xA9"}}).dump().c_str(), &out),
            AMC_E_INVALID_ARGUMENT);
  const std::string message = amc_last_error();
  EXPECT_NE(message.find("'wf_\xC3\xA9' (U+00E9)"), std::string::npos) << message;
  EXPECT_NE(message.find("character '\xC3\xA9' (U+00E9)"), std::string::npos) << message;
  EXPECT_EQ(amc_auth_status(client_, "conn\xC3", &out), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("not valid UTF-8 at byte 4"), std::string::npos) << amc_last_error();
}

// About 50,000 nested arrays crashed the host (recursive serialisation on
// the I/O thread). Every parse of outside input stops at the depth limit.
std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST_F(HostileInput, DeepJsonIsRefusedWithoutCrashing) {
  const std::string deep = nested_arrays(50'000);
  auto request_with = [&](const json& extra) {
    auto text = request(extra).dump();
    const auto at = text.find("\"@@\"");
    return text.replace(at, 4, deep);
  };
  char* out = nullptr;
  const std::vector<std::pair<const char*, std::function<amc_status()>>> calls = {
      {"amc_workflow_create",
       [&] { return amc_workflow_create(client_, request_with({{"workflow", {{"workflowId", "wf_deep"}, {"sqlQuery", "SELECT 1"}, {"inputParameters", "@@"}}}}).c_str(), &out); }},
      {"amc_workflow_update",
       [&] { return amc_workflow_update(client_, request_with({{"workflow", {{"workflowId", "wf_deep"}, {"sqlQuery", "SELECT 1"}, {"outputColumns", "@@"}}}}).c_str(), &out); }},
      {"amc_workflow_sync",
       [&] { return amc_workflow_sync(client_, request_with({{"workflow", {{"workflowId", "wf_deep"}, {"sqlQuery", "SELECT 1"}, {"x", "@@"}}}}).c_str(), &out); }},
      {"amc_execution_submit",
       [&] { return amc_execution_submit(client_, request_with({{"request", {{"workflowId", "wf_deep"}, {"parameterValues", "@@"}}}}).c_str(), &out); }},
  };
  for (const auto& [name, call] : calls) {
    EXPECT_EQ(expect_clean(call(), &out, name), AMC_E_INVALID_ARGUMENT) << name;
    out = nullptr;
    EXPECT_NE(last_message_.find("deeper than 128 levels"), std::string::npos) << name << ": " << last_message_;
  }
  // Configuration: AMC_E_CONFIG.
  amc_client* other = nullptr;
  EXPECT_EQ(expect_clean(amc_client_new(("{\"tls\": " + deep + "}").c_str(), &other), nullptr, "amc_client_new"),
            AMC_E_CONFIG);
  amc_store* store = nullptr;
  EXPECT_EQ(expect_clean(amc_store_new(("{\"x\": " + deep + "}").c_str(), &store), nullptr, "amc_store_new"),
            AMC_E_CONFIG);
  // A store file: AMC_E_STORE, and the file is left as it was.
  const auto path = directory_.path() / "deep-store.json";
  std::ofstream(path) << "{\"credentials\": " << deep << "}";
  const json store_config = {{"path", path.string()}, {"fernet_keys", fernet_key_}};
  const auto opened = amc_store_new(store_config.dump().c_str(), &store);
  amc_status listed = opened;
  if (opened == AMC_OK) {
    char* list = nullptr;
    listed = amc_store_list_credentials(store, &list);
    amc_free(list);
  }
  amc_store_free(store);
  EXPECT_EQ(expect_clean(listed, nullptr, "amc_store on a deep file"), AMC_E_STORE);
  EXPECT_NE(last_message_.find("deeper than 128 levels"), std::string::npos) << last_message_;
  EXPECT_EQ(std::filesystem::file_size(path), deep.size() + std::string("{\"credentials\": }").size());
}

// One field of one operation's reply, and whether libamc needs it (then
// null, another type or missing must be AMC_E_PROTOCOL naming the
// operation and the field).
struct reply_field {
  std::string path;         // JSON pointer into the (flat) reply
  json wrong_type;          // a value of another type than AMC's
  bool needed;
};

struct reply_operation {
  std::string operation;    // the spec's operationId, as the sandbox names it
  std::string named_field;  // what the message must name (the last path token)
  std::function<amc_status(char** out)> call;
  std::vector<reply_field> fields;
};

// Item 4: every operation's reply with each field null, of the wrong type,
// and missing (the sandbox's patch_reply fault). Never AMC_E_INTERNAL; where
// libamc needs the field, AMC_E_PROTOCOL naming the operation and the field.
TEST_F(HostileInput, EveryReplyFieldNullWrongTypeOrMissingIsAProtocolErrorNeverABug) {
  using boost::beast::http::verb;
  char* out = nullptr;
  const json workflow = {{"workflowId", "wf_sweep"}, {"sqlQuery", "SELECT 1\n-- sandbox: parts=2 rows=4"}};
  ASSERT_EQ(amc_workflow_sync(client_, request({{"workflow", workflow}}).dump().c_str(), &out), AMC_OK)
      << amc_last_error();
  amc_free(out);
  ASSERT_EQ(amc_execution_submit(client_, request({{"execution_id", "exec_sweep"}, {"request", {{"workflowId", "wf_sweep"}}}}).dump().c_str(), &out),
            AMC_OK)
      << amc_last_error();
  amc_free(out);
  const auto by_id = request({{"execution_id", "exec_sweep"}, {"first_poll_ms", 20}, {"max_poll_ms", 50}});
  ASSERT_EQ(amc_execution_wait(client_, by_id.dump().c_str(), nullptr, nullptr, nullptr, &out), AMC_OK)
      << amc_last_error();
  amc_free(out);

  int submits = 0;
  const auto results = (directory_.path() / "sweep").string();
  const std::vector<reply_operation> operations = {
      {"getWorkflowExecution", "",
       [&](char** o) { return amc_execution_get(client_, request({{"execution_id", "exec_sweep"}}).dump().c_str(), o); },
       {{"/status", 42, true}, {"/workflowExecutionId", 42, true}, {"/workflowId", 42, false}, {"/createTime", 42, false}}},
      {"getWorkflowExecution", "",
       [&](char** o) { return amc_execution_wait(client_, by_id.dump().c_str(), nullptr, nullptr, nullptr, o); },
       {{"/status", 42, true}, {"/outputChannels", "text", false}}},
      {"createWorkflowExecution", "",
       [&](char** o) {
         const auto submit = request({{"execution_id", fmt::format("exec_sweep_{}", ++submits)},
                                      {"request", {{"workflowId", "wf_sweep"}}}});
         return amc_execution_submit(client_, submit.dump().c_str(), o);
       },
       // A create whose reply is unreadable has an unknown outcome: it is
       // found through the list (re-attached), never a bug.
       {{"/workflowExecutionId", 42, false}, {"/status", 42, false}}},
      {"listWorkflowExecutions", "",
       [&](char** o) {
         return amc_execution_list(client_, request({{"filters", {{"workflowId", "wf_sweep"}}}}).dump().c_str(), o);
       },
       {{"/executions", "text", false},
        {"/executions/0", 42, true},
        {"/executions/0/workflowExecutionId", 42, true},
        {"/executions/0/status", 42, false},
        {"/nextToken", 42, false}}},
      {"listWorkflows", "", [&](char** o) { return amc_workflow_list(client_, request().dump().c_str(), o); },
       {{"/workflows", "text", false}, {"/workflows/0", 42, true}, {"/workflows/0/workflowId", 42, false}}},
      {"getWorkflow", "",
       [&](char** o) { return amc_workflow_get(client_, request({{"workflow_id", "wf_sweep"}}).dump().c_str(), o); },
       {{"/workflowId", 42, false}, {"/sqlQuery", 42, false}}},
      {"getWorkflow", "",
       [&](char** o) { return amc_workflow_sync(client_, request({{"workflow", workflow}}).dump().c_str(), o); },
       {{"/sqlQuery", 42, false}, {"/workflowId", json::array(), false}}},
      {"AmcpLinkListAmcAccounts", "",
       [&](char** o) { return amc_accounts_list(client_, "{\"credential_id\": \"conn\"}", o); },
       {{"/amcAccounts", "text", false}, {"/amcAccounts/0", 42, true}, {"/amcAccounts/0/accountId", 42, false}}},
      {"listInstances", "",
       [&](char** o) {
         const json listing = {{"credential_id", "conn"},
                               {"advertiser_id", instance_["advertiser_id"]},
                               {"marketplace_id", instance_["marketplace_id"]}};
         return amc_instances_list(client_, listing.dump().c_str(), o);
       },
       {{"/instances", "text", false}, {"/instances/0", 42, true}, {"/instances/0/instanceId", 42, false}}},
      {"getWorkflowExecutionDownloadUrls", "",
       [&](char** o) {
         return amc_results_download(client_, request({{"execution_id", "exec_sweep"}, {"directory", results}}).dump().c_str(),
                                     nullptr, nullptr, o);
       },
       {{"/downloadUrls", "text", true}, {"/downloadUrls/0", 42, true}}},
      {"lwaToken", "", [&](char** o) { return amc_auth_refresh(client_, "conn", nullptr, o); },
       {{"/access_token", 42, true}, {"/expires_in", "text", false}, {"/token_type", 42, false},
        {"/refresh_token", 42, false}}},
  };
  int sweeps = 0;
  for (const auto& operation : operations)
    for (const auto& field : operation.fields) {
      const std::string name = field.path.substr(field.path.rfind('/') + 1);
      const bool is_index = !name.empty() && std::isdigit(static_cast<unsigned char>(name[0]));
      const std::vector<std::pair<std::string, json>> patches = {
          {"null", {{"op", "replace"}, {"path", field.path}, {"value", nullptr}}},
          {"wrong type", {{"op", "replace"}, {"path", field.path}, {"value", field.wrong_type}}},
          {"missing", {{"op", "remove"}, {"path", field.path}}}};
      for (const auto& [how, patch] : patches) {
        // An item of a list removed is just a shorter list.
        if (is_index && how == "missing") continue;
        const std::string what = operation.operation + " " + field.path + " " + how;
        admin(verb::delete_, "/_sandbox/faults");
        admin(verb::post, "/_sandbox/faults",
              {{"kind", "patch_reply"}, {"operation", operation.operation}, {"count", 1}, {"json_patch", json::array({patch})}});
        out = nullptr;
        const auto status = expect_clean(operation.call(&out), &out, what);
        ++sweeps;
        EXPECT_EQ(admin(verb::get, "/_sandbox/faults")["faults"][0]["fired"], 1) << what << ": the fault did not fire";
        const bool bad_item = is_index && how != "missing";
        if (field.needed || bad_item) {
          EXPECT_EQ(status, AMC_E_PROTOCOL) << what << ": " << last_message_;
          if (operation.operation != "lwaToken") {
            EXPECT_NE(last_message_.find(operation.operation), std::string::npos) << what << ": " << last_message_;
          }
          const std::string field_named = is_index ? field.path.substr(1, field.path.find('/', 1) - 1) : name;
          EXPECT_NE(last_message_.find(field_named), std::string::npos) << what << ": " << last_message_;
        }
      }
    }
  admin(verb::delete_, "/_sandbox/faults");
  EXPECT_GT(sweeps, 60);
}

// Item 6, replies: a reply that is not UTF-8 (JSON with a lone byte, or an
// error body AMC's text is taken from) still gives the host UTF-8.
TEST_F(HostileInput, RepliesThatAreNotUtf8GiveUtf8Messages) {
  using boost::beast::http::verb;
  // The sandbox takes standard base64: the url-safe one with its two
  // symbols swapped back.
  auto base64 = [](const std::string& bytes) {
    auto text = amc::crypto::base64url_encode(bytes);
    std::replace(text.begin(), text.end(), '-', '+');
    std::replace(text.begin(), text.end(), '_', '/');
    return text;
  };
  char* out = nullptr;
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "replace_reply"}, {"operation", "getWorkflow"}, {"count", 1}, {"status", 200},
         {"body_base64", base64("{\"workflowId\": \"wf_\xC3\", \"sqlQuery\": \"SELECT 1\"}")}});
  EXPECT_EQ(expect_clean(amc_workflow_get(client_, request({{"workflow_id", "wf_any"}}).dump().c_str(), &out), &out,
                         "getWorkflow not UTF-8"),
            AMC_E_PROTOCOL);
  EXPECT_NE(last_message_.find("not valid UTF-8 at byte"), std::string::npos) << last_message_;
  out = nullptr;
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "replace_reply"}, {"operation", "getWorkflow"}, {"count", 1}, {"status", 400},
         {"body_base64", base64("{\"code\": \"400\", \"details\": \"bad \xC3 request\"}")}});
  EXPECT_EQ(expect_clean(amc_workflow_get(client_, request({{"workflow_id", "wf_any"}}).dump().c_str(), &out), &out,
                         "getWorkflow error text not UTF-8"),
            AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(last_message_.find("HTTP 400"), std::string::npos) << json(last_message_).dump();
  admin(verb::delete_, "/_sandbox/faults");
}

// Item 5, replies: a server answering with ~50,000 nested arrays crashed
// amc_workflow_get. It is a protocol error now, with no recursion.
TEST_F(HostileInput, ADeepReplyIsAProtocolError) {
  using boost::beast::http::verb;
  for (const char* operation : {"getWorkflow", "lwaToken"}) {
    admin(verb::delete_, "/_sandbox/faults");
    admin(verb::post, "/_sandbox/faults",
          {{"kind", "replace_reply"}, {"operation", operation}, {"count", 1}, {"status", 200}, {"nesting_depth", 50000}});
    char* out = nullptr;
    const auto status = std::string(operation) == "lwaToken"
                            ? amc_auth_refresh(client_, "conn", nullptr, &out)
                            : amc_workflow_get(client_, request({{"workflow_id", "wf_any"}}).dump().c_str(), &out);
    EXPECT_EQ(expect_clean(status, &out, operation), AMC_E_PROTOCOL) << operation << ": " << last_message_;
  }
  EXPECT_NE(last_message_.find("access_token"), std::string::npos) << last_message_;
  admin(verb::delete_, "/_sandbox/faults");
  char* out = nullptr;
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "replace_reply"}, {"operation", "getWorkflow"}, {"count", 1}, {"status", 200}, {"nesting_depth", 50000}});
  EXPECT_EQ(amc_workflow_get(client_, request({{"workflow_id", "wf_any"}}).dump().c_str(), &out), AMC_E_PROTOCOL);
  EXPECT_NE(std::string(amc_last_error()).find("deeper than 128 levels"), std::string::npos) << amc_last_error();
  admin(verb::delete_, "/_sandbox/faults");
}

}  // namespace
