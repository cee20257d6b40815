// The reply faults (patch_reply, replace_reply) over plain HTTP and HTTPS:
// the handler runs and changes state, then the answer is patched or
// replaced, so client tests can meet odd replies from a real server. Also
// the checks on such rules and on deep JSON sent to the sandbox.
#include "sandbox_fixture.hpp"

#include "sandbox/input_limits.hpp"

namespace amc::sandbox::testing {
namespace {

class SandboxReplyFaults : public ::testing::TestWithParam<bool> {
 protected:
  static sandbox_options options() {
    auto options = test_options();
    options.tls = GetParam();
    return options;
  }
};

void add_fault(running_sandbox& sandbox, const json& rule) {
  auto result = sandbox.admin(verb::post, "faults", rule);
  ASSERT_EQ(result.status, 200) << result.body;
}

// A 400 from POST /_sandbox/faults whose message holds `fragment`.
void expect_rule_refused(running_sandbox& sandbox, const json& rule, const std::string& fragment) {
  auto result = sandbox.admin(verb::post, "faults", rule);
  EXPECT_EQ(result.status, 400) << rule.dump();
  EXPECT_NE(result.json().value("details", "").find(fragment), std::string::npos)
      << rule.dump() << " -> " << result.body;
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::uint64_t fault_count(running_sandbox& sandbox, const std::string& kind) {
  return sandbox.admin(verb::get, "stats").json()["faults"][kind].get<std::uint64_t>();
}

TEST_P(SandboxReplyFaults, PatchReplyChangesTheStatusReplyOnce) {
  running_sandbox sandbox(options());
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=0 duration=1s publishing=0");
  add_fault(sandbox, {{"kind", "patch_reply"},
                      {"operation", "getWorkflowExecution"},
                      {"count", 1},
                      {"json_patch", {{{"op", "replace"}, {"path", "/status"}, {"value", nullptr}}}}});
  auto patched = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id));
  EXPECT_EQ(patched.status, 200);
  EXPECT_EQ(patched.header("Content-Type"), "application/vnd.amcworkflowexecutions.v1+json");
  ASSERT_TRUE(patched.json().contains("status")) << patched.body;
  EXPECT_TRUE(patched.json()["status"].is_null()) << patched.body;
  EXPECT_EQ(patched.json()["workflowExecutionId"], id);  // the rest is the handler's reply
  EXPECT_TRUE(sandbox.get_execution(id)["status"].is_string());  // count exhausted
  EXPECT_EQ(fault_count(sandbox, "patch_reply"), 1u);
}

TEST_P(SandboxReplyFaults, PatchReplyOnCreateStillCreatesTheExecution) {
  running_sandbox sandbox(options());
  add_fault(sandbox, {{"kind", "patch_reply"},
                      {"operation", "createWorkflowExecution"},
                      {"count", 1},
                      {"status", 202},
                      {"json_patch", {{{"op", "remove"}, {"path", "/workflowExecutionId"}}}}});
  auto created = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                             json{{"workflow", {{"sqlQuery", "SELECT 'patched'"}}}});
  EXPECT_EQ(created.status, 202);
  EXPECT_FALSE(created.json().contains("workflowExecutionId")) << created.body;
  auto listed = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=2000-01-01T00:00:00"));
  EXPECT_EQ(listed.json()["executions"].size(), 1u) << listed.body;
}

TEST_P(SandboxReplyFaults, PatchReplyGivesAnLwaTokenAHugeLifetime) {
  running_sandbox sandbox(options());
  add_fault(sandbox, {{"kind", "patch_reply"},
                      {"operation", "lwaToken"},
                      {"count", 1},
                      {"json_patch", {{{"op", "replace"}, {"path", "/expires_in"}, {"value", 1000000000000LL}}}}});
  auto reply = sandbox.token_request({{"grant_type", "refresh_token"},
                                      {"refresh_token", sandbox.refresh_token()},
                                      {"client_id", sandbox.client_id()},
                                      {"client_secret", sandbox.client_secret()}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Content-Type"), "application/json");
  EXPECT_EQ(reply.json()["expires_in"], 1000000000000LL) << reply.body;
  EXPECT_TRUE(reply.json()["access_token"].get<std::string>().starts_with("Atza|"));
}

TEST_P(SandboxReplyFaults, PatchReplyDuplicatesADownloadUrl) {
  running_sandbox sandbox(options());
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=0 duration=1s publishing=0 parts=2 rows=4");
  sandbox.advance_clock(2);
  add_fault(sandbox, {{"kind", "patch_reply"},
                      {"operation", "getWorkflowExecutionDownloadUrls"},
                      {"count", 1},
                      {"json_patch", {{{"op", "copy"}, {"from", "/downloadUrls/0"}, {"path", "/downloadUrls/1"}}}}});
  auto urls = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls"));
  ASSERT_EQ(urls.status, 200);
  const json list = urls.json()["downloadUrls"];
  ASSERT_EQ(list.size(), 3u) << urls.body;  // [u0, u0, u1]
  EXPECT_EQ(list[0], list[1]);
  EXPECT_NE(list[1], list[2]);
  EXPECT_NE(list[2].get<std::string>().find("part-00002.csv"), std::string::npos);
}

TEST_P(SandboxReplyFaults, PatchThatDoesNotApplyIsALoud500) {
  running_sandbox sandbox(options());
  add_fault(sandbox, {{"kind", "patch_reply"},
                      {"operation", "listInstances"},
                      {"json_patch", {{{"op", "replace"}, {"path", "/no/such/member"}, {"value", 1}}}}});
  auto failed = sandbox.amc(verb::get, "/amc/instances");
  EXPECT_EQ(failed.status, 500);
  EXPECT_NE(failed.json().value("details", "").find("patch_reply (rule 1) could not be applied"), std::string::npos)
      << failed.body;
  // A CSV file is not JSON: patching it fails the same visible way.
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=0 duration=1s publishing=0");
  sandbox.advance_clock(2);
  auto urls = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls")).json();
  add_fault(sandbox, {{"kind", "patch_reply"},
                      {"operation", "downloadResult"},
                      {"json_patch", {{{"op", "remove"}, {"path", "/x"}}}}});
  auto file = sandbox.client().request(
      verb::get, urls["downloadUrls"][0].get<std::string>().substr(sandbox.server().base_url().size()));
  EXPECT_EQ(file.status, 500);
  EXPECT_NE(file.body.find("the reply body is not JSON"), std::string::npos) << file.body;
}

TEST_P(SandboxReplyFaults, ReplaceReplyWithJsonKeepsTheStatus) {
  running_sandbox sandbox(options());
  const std::string id = sandbox.create_adhoc("SELECT 1");
  add_fault(sandbox, {{"kind", "replace_reply"},
                      {"operation", "getWorkflowExecution"},
                      {"count", 1},
                      {"body", {{"status", 42}}}});
  auto replaced = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id));
  EXPECT_EQ(replaced.status, 200);
  EXPECT_EQ(replaced.body, R"({"status":42})");
  EXPECT_EQ(replaced.header("Content-Length"), "13");
  EXPECT_EQ(replaced.header("Content-Type"), "application/vnd.amcworkflowexecutions.v1+json");
  EXPECT_EQ(fault_count(sandbox, "replace_reply"), 1u);
  auto log = sandbox.admin(verb::get, "requests?limit=1").json()["requests"];
  EXPECT_EQ(log[0]["fault"], "replace_reply") << log.dump();
}

TEST_P(SandboxReplyFaults, ReplaceReplyWithTextAndStatus) {
  running_sandbox sandbox(options());
  add_fault(sandbox, {{"kind", "replace_reply"},
                      {"operation", "lwaToken"},
                      {"count", 1},
                      {"status", 503},
                      {"body_text", "{\"access_token\": \"Atza|x\", \"expires_in\": "}});
  auto reply = sandbox.token_request({{"grant_type", "refresh_token"},
                                      {"refresh_token", sandbox.refresh_token()},
                                      {"client_id", sandbox.client_id()},
                                      {"client_secret", sandbox.client_secret()}});
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.header("Content-Type"), "application/json");
  EXPECT_EQ(reply.body, "{\"access_token\": \"Atza|x\", \"expires_in\": ");
}

// A body of 50,000 nested arrays, carried as a string in the rule and sent
// as bytes: the sandbox never parses or serialises it.
TEST_P(SandboxReplyFaults, ReplaceReplyWithDeepBodyText) {
  running_sandbox sandbox(options());
  const std::string deep = nested_arrays(50'000);
  add_fault(sandbox, {{"kind", "replace_reply"}, {"operation", "getWorkflow"}, {"body_text", deep}});
  auto replaced = sandbox.amc(verb::get, sandbox.reporting("workflows/anything"));
  EXPECT_EQ(replaced.status, 404);  // the handler's status: no such workflow
  EXPECT_EQ(replaced.body.size(), deep.size());
  EXPECT_TRUE(replaced.body == deep);
  // Listed without trouble, and the sandbox keeps serving.
  auto listed = sandbox.admin(verb::get, "faults");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json()["faults"][0]["body_text"].get<std::string>().size(), deep.size());
  EXPECT_EQ(sandbox.admin(verb::get, "health").status, 200);
}

TEST_P(SandboxReplyFaults, ReplaceReplyWithGeneratedNesting) {
  running_sandbox sandbox(options());
  add_fault(sandbox, {{"kind", "replace_reply"}, {"operation", "getWorkflowExecution"}, {"nesting_depth", 100'000}});
  const std::string id = sandbox.create_adhoc("SELECT 1");
  auto replaced = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id));
  EXPECT_EQ(replaced.status, 200);
  EXPECT_TRUE(replaced.body == nested_arrays(100'000));
  EXPECT_EQ(json_nesting_depth(replaced.body), 100'000u);
  EXPECT_EQ(sandbox.admin(verb::get, "faults").json()["faults"][0]["nesting_depth"], 100'000);
}

TEST_P(SandboxReplyFaults, ReplaceReplyWithBytesThatAreNotUtf8) {
  running_sandbox sandbox(options());
  // "{\"status\":\"\xC3(\"}" in base64: a lone lead byte inside a string.
  add_fault(sandbox,
            {{"kind", "replace_reply"}, {"operation", "listInstances"}, {"body_base64", "eyJzdGF0dXMiOiLDKCJ9"}});
  auto replaced = sandbox.amc(verb::get, "/amc/instances");
  EXPECT_EQ(replaced.status, 200);
  EXPECT_EQ(replaced.body, "{\"status\":\"\xC3(\"}");
  EXPECT_EQ(sandbox.admin(verb::get, "faults").json()["faults"][0]["body_base64"], "eyJzdGF0dXMiOiLDKCJ9");
}

TEST_P(SandboxReplyFaults, BadRulesAreRefusedWithTheReason) {
  running_sandbox sandbox(options());
  const json patch = json::array({{{"op", "remove"}, {"path", "/a"}}});
  expect_rule_refused(sandbox, {{"kind", "patch_reply"}}, "needs 'json_patch'");
  expect_rule_refused(sandbox, {{"kind", "patch_reply"}, {"json_patch", {{"op", "remove"}}}}, "json_patch");
  expect_rule_refused(sandbox, {{"kind", "patch_reply"}, {"json_patch", json::array()}}, "non-empty array");
  expect_rule_refused(sandbox, {{"kind", "patch_reply"}, {"json_patch", {1}}}, "json_patch[0] must be an object");
  expect_rule_refused(sandbox, {{"kind", "patch_reply"}, {"json_patch", {{{"op", "zap"}, {"path", "/a"}}}}},
                      "json_patch[0].op must be");
  expect_rule_refused(sandbox, {{"kind", "patch_reply"}, {"json_patch", {{{"op", "remove"}}}}}, "\"path\"");
  expect_rule_refused(sandbox, {{"kind", "patch_reply"}, {"json_patch", {{{"op", "remove"}, {"path", "a"}}}}},
                      "not a JSON Pointer");
  expect_rule_refused(sandbox, {{"kind", "patch_reply"}, {"json_patch", {{{"op", "copy"}, {"path", "/a"}}}}},
                      "\"from\"");
  expect_rule_refused(sandbox, {{"kind", "patch_reply"}, {"json_patch", {{{"op", "add"}, {"path", "/a"}}}}},
                      "needs a \"value\"");
  expect_rule_refused(sandbox, {{"kind", "patch_reply"}, {"json_patch", patch}, {"body", 1}}, "only to kind replace_reply");
  expect_rule_refused(sandbox, {{"kind", "replace_reply"}}, "exactly one of");
  expect_rule_refused(sandbox, {{"kind", "replace_reply"}, {"body", 1}, {"body_text", "1"}}, "exactly one of");
  expect_rule_refused(sandbox, {{"kind", "replace_reply"}, {"body_text", 1}}, "'body_text' must be a string");
  expect_rule_refused(sandbox, {{"kind", "replace_reply"}, {"body_base64", "not base64!"}}, "base64");
  expect_rule_refused(sandbox, {{"kind", "replace_reply"}, {"json_patch", patch}}, "only to kind patch_reply");
  expect_rule_refused(sandbox, {{"kind", "replace_reply"}, {"nesting_depth", 0}}, "between 1 and 1000000");
  expect_rule_refused(sandbox, {{"kind", "replace_reply"}, {"nesting_depth", 2e6}}, "out of range");
  expect_rule_refused(sandbox, {{"kind", "replace_reply"}, {"nesting_depth", 1.5}}, "whole number");
  expect_rule_refused(sandbox, {{"kind", "replace_reply"}, {"nesting_depth", "5"}}, "must be a number");
  expect_rule_refused(sandbox, {{"kind", "replace_reply"}, {"body", 1}, {"status", 99}}, "'status' is out of range");
  expect_rule_refused(sandbox, {{"kind", "latency"}, {"latency_ms", 1e12}}, "'latency_ms' is out of range");
  expect_rule_refused(sandbox, {{"kind", "error_status"}, {"count", -2}}, "'count' is out of range");
  expect_rule_refused(sandbox, {{"kind", "error_status"}, {"body", 1}}, "only to kind replace_reply");
  EXPECT_EQ(sandbox.admin(verb::get, "faults").json()["faults"].size(), 0u);
}

// Deep JSON sent to the sandbox is refused before any recursive walk; the
// sandbox itself never crashes on it.
TEST_P(SandboxReplyFaults, DeepRequestBodiesAreRefusedNotRecursedInto) {
  running_sandbox sandbox(options());
  const std::string deep = nested_arrays(50'000);
  auto workflow = sandbox.amc(verb::post, sandbox.reporting("workflows"),
                              R"({"workflowId":"deep","sqlQuery":"SELECT 1","outputColumns":)" + deep + "}");
  EXPECT_EQ(workflow.status, 400);
  EXPECT_NE(workflow.json().value("details", "").find("deeper than 512 levels"), std::string::npos) << workflow.body;
  auto execution = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                               R"({"workflow":{"sqlQuery":"SELECT 1"},"parameterValues":)" + deep + "}");
  EXPECT_EQ(execution.status, 400);
  auto admin = sandbox.client().request(verb::post, "/_sandbox/faults",
                                        R"({"kind":"replace_reply","body":)" + deep + "}");
  EXPECT_EQ(admin.status, 400);
  EXPECT_NE(admin.json().value("details", "").find("deeper than 512 levels"), std::string::npos) << admin.body;
  // Brackets inside strings are text, not nesting.
  add_fault(sandbox, {{"kind", "replace_reply"}, {"operation", "listWorkflows"}, {"body", {{"note", deep}}}});
  const std::string expected = json{{"note", deep}}.dump();
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).body, expected);
  EXPECT_EQ(sandbox.admin(verb::get, "health").status, 200);
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, SandboxReplyFaults, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) { return param_info.param ? "https" : "http"; });

TEST(SandboxInputLimits, NestingDepthSkipsStringsAndEscapes) {
  EXPECT_EQ(json_nesting_depth(""), 0u);
  EXPECT_EQ(json_nesting_depth("1"), 0u);
  EXPECT_EQ(json_nesting_depth(R"({"a":[1,{"b":[]}]})"), 4u);
  EXPECT_EQ(json_nesting_depth(R"(["[[[\"[[", "\\"])"), 1u);
  EXPECT_EQ(json_nesting_depth("[[]][[[]]]"), 3u);
}

TEST(SandboxInputLimits, FaultRulesFromTheCommandLine) {
  sandbox_options options;
  std::string help;
  const char* argv[] = {"amc-sandbox", "--fault", R"({"kind":"replace_reply","nesting_depth":5,"status":502})"};
  ASSERT_TRUE(parse_command_line(3, argv, options, help));
  ASSERT_EQ(options.faults.size(), 1u);
  EXPECT_EQ(options.faults[0].kind, fault_kind::replace_reply);
  EXPECT_EQ(apply_reply_fault(options.faults[0], "{}").text, "[[[[[]]]]]");
  const std::string deep = R"({"kind":"replace_reply","body":)" + nested_arrays(600) + "}";
  const char* too_deep[] = {"amc-sandbox", "--fault", deep.c_str()};
  EXPECT_THROW(parse_command_line(3, too_deep, options, help), std::invalid_argument);
}

}  // namespace
}  // namespace amc::sandbox::testing
