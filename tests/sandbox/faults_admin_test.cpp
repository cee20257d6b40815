// Every injected fault over real sockets, its counter in the admin stats,
// and the rest of the admin API (request log, reset, settings).
#include "sandbox_fixture.hpp"

#include <poll.h>

#include <thread>

namespace amc::sandbox::testing {
namespace {

std::uint64_t fault_count(running_sandbox& sandbox, const std::string& kind) {
  return sandbox.admin(verb::get, "stats").json()["faults"][kind].get<std::uint64_t>();
}

void add_fault(running_sandbox& sandbox, const json& rule) {
  auto result = sandbox.admin(verb::post, "faults", rule);
  ASSERT_EQ(result.status, 200) << result.body;
}

TEST(SandboxFaults, ErrorStatusReplacesTheAnswer) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "error_status"}, {"status", 503}, {"operation", "listWorkflows"}, {"count", 1}});
  auto failed = sandbox.amc(verb::get, sandbox.reporting("workflows"));
  EXPECT_EQ(failed.status, 503);
  EXPECT_EQ(failed.json()["code"], "503");
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).status, 200);  // count exhausted
  EXPECT_EQ(fault_count(sandbox, "error_status"), 1u);
}

TEST(SandboxFaults, RateLimitBurstWithRetryAfter) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "rate_limit"}, {"count", 3}, {"retry_after", 2}});  // global
  for (int i = 0; i < 3; ++i) {
    auto limited = sandbox.amc(verb::get, sandbox.reporting("workflows"));
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.header("Retry-After"), "2");
  }
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).status, 200);
  EXPECT_EQ(fault_count(sandbox, "rate_limit"), 3u);
}

TEST(SandboxFaults, RateLimitWithoutRetryAfter) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "rate_limit"}, {"count", 1}, {"retry_after", nullptr}});
  EXPECT_TRUE(sandbox.admin(verb::get, "faults").json()["faults"][0]["retry_after"].is_null());
  auto limited = sandbox.amc(verb::get, sandbox.reporting("workflows"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers.count("Retry-After"), 0u);
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).status, 200);
}

TEST(SandboxFaults, SkipLetsRequestsThroughFirstAndPathGlobsMatch) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "error_status"}, {"path", "/amc/reporting/*/workflows"}, {"skip", 1}, {"count", 1}});
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).status, 200);
  EXPECT_EQ(sandbox.amc(verb::get, "/amc/instances").status, 200);  // path does not match
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).status, 500);
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).status, 200);
}

TEST(SandboxFaults, LatencyDelaysTheAnswer) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "latency"}, {"latency_ms", 300}, {"operation", "listWorkflows"}, {"count", 1}});
  auto slow = sandbox.amc(verb::get, sandbox.reporting("workflows"));
  EXPECT_EQ(slow.status, 200);
  EXPECT_GE(slow.elapsed, std::chrono::milliseconds(290));
  EXPECT_EQ(fault_count(sandbox, "latency"), 1u);
}

TEST(SandboxFaults, ResetBeforeHeadersLosesTheRequest) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "reset_before_headers"}, {"operation", "createWorkflow"}, {"count", 1}});
  sandbox.client().close();
  auto lost = sandbox.amc(verb::post, sandbox.reporting("workflows"), json{{"workflowId", "w"}, {"sqlQuery", "SELECT 1"}});
  EXPECT_TRUE(lost.error) << lost.status;
  EXPECT_FALSE(lost.header_received);
  // The handler did not run: the workflow does not exist.
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows/w")).status, 404);
  EXPECT_EQ(fault_count(sandbox, "reset_before_headers"), 1u);
}

TEST(SandboxFaults, DropAfterAcceptCreatesTheExecutionButNoAnswer) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "drop_after_accept"}, {"operation", "createWorkflowExecution"}, {"count", 1}});
  sandbox.client().close();
  auto lost = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"),
                          json{{"workflow", {{"sqlQuery", "SELECT 'idempotency' -- submission 1"}}}});
  EXPECT_TRUE(lost.error);
  EXPECT_FALSE(lost.header_received);
  // The run exists and can be found by listing (how a client reconciles).
  auto listed = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions?minCreationTime=2000-01-01T00:00:00"
                                                         "&includeWorkflow=true"));
  ASSERT_EQ(listed.json()["executions"].size(), 1u);
  EXPECT_EQ(listed.json()["executions"][0]["sqlQuery"], "SELECT 'idempotency' -- submission 1");
  EXPECT_EQ(fault_count(sandbox, "drop_after_accept"), 1u);
}

TEST(SandboxFaults, ResetAfterHeaders) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "reset_after_headers"}, {"operation", "listWorkflows"}, {"count", 1}});
  sandbox.client().close();
  auto cut = sandbox.amc(verb::get, sandbox.reporting("workflows"));
  EXPECT_TRUE(cut.header_received);
  EXPECT_EQ(cut.status, 200);
  EXPECT_TRUE(cut.error);
  EXPECT_EQ(fault_count(sandbox, "reset_after_headers"), 1u);
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).status, 200);
}

TEST(SandboxFaults, TruncatedBodyEndsEarly) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "truncated_body"}, {"operation", "listInstances"}, {"count", 1}});
  sandbox.client().close();
  auto cut = sandbox.amc(verb::get, "/amc/instances");
  EXPECT_TRUE(cut.header_received);
  EXPECT_EQ(cut.error, http::error::partial_message) << cut.error.message();
  EXPECT_EQ(fault_count(sandbox, "truncated_body"), 1u);
}

TEST(SandboxFaults, MalformedJsonKeepsFraming) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "malformed_json"}, {"operation", "listInstances"}, {"count", 1}});
  auto garbled = sandbox.amc(verb::get, "/amc/instances");
  EXPECT_FALSE(garbled.error);
  EXPECT_EQ(garbled.status, 200);
  EXPECT_TRUE(garbled.json().is_discarded()) << garbled.body;
  EXPECT_FALSE(sandbox.amc(verb::get, "/amc/instances").json().is_discarded());
  EXPECT_EQ(fault_count(sandbox, "malformed_json"), 1u);
}

TEST(SandboxFaults, TrickleDeliversSlowlyButWhole) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "trickle"}, {"trickle_bytes", 64}, {"trickle_interval_ms", 20}, {"operation", "listInstances"},
                      {"count", 1}});
  auto slow = sandbox.amc(verb::get, "/amc/instances");
  EXPECT_FALSE(slow.error) << slow.error.message();
  EXPECT_EQ(slow.status, 200);
  EXPECT_FALSE(slow.json().is_discarded());
  EXPECT_GE(slow.elapsed, std::chrono::milliseconds(100));  // ~700 bytes in 64-byte steps
  EXPECT_EQ(fault_count(sandbox, "trickle"), 1u);
}

TEST(SandboxFaults, ExpiredDownloadUrls) {
  running_sandbox sandbox;
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=0 duration=1s publishing=0");
  sandbox.advance_clock(2);
  add_fault(sandbox, {{"kind", "expired_download_urls"}, {"count", 1}});
  auto urls = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls"));
  ASSERT_EQ(urls.status, 200);
  auto download = sandbox.client().request(
      verb::get, urls.json()["downloadUrls"][0].get<std::string>().substr(sandbox.server().base_url().size()));
  EXPECT_EQ(download.status, 403);
  EXPECT_NE(download.body.find("Request has expired"), std::string::npos);
  EXPECT_EQ(fault_count(sandbox, "expired_download_urls"), 1u);
  // Fresh URLs work again.
  auto again = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls"));
  EXPECT_EQ(sandbox.client()
                .request(verb::get, again.json()["downloadUrls"][0].get<std::string>().substr(
                                        sandbox.server().base_url().size()))
                .status,
            200);
}

TEST(SandboxFaults, FaultsFromOptionsListedAndDeletedById) {
  auto options = test_options();
  options.faults.push_back(parse_fault_rule(json{{"kind", "error_status"}, {"status", 502}, {"operation", "lwaToken"}}));
  options.seed_grant = false;
  running_sandbox sandbox(options);
  auto listed = sandbox.admin(verb::get, "faults").json();
  ASSERT_EQ(listed["faults"].size(), 1u);
  EXPECT_EQ(sandbox.token_request({{"grant_type", "refresh_token"}}).status, 502);
  auto id = listed["faults"][0]["id"].get<std::uint64_t>();
  EXPECT_EQ(sandbox.admin(verb::delete_, "faults/" + std::to_string(id)).status, 200);
  EXPECT_EQ(sandbox.token_request({{"grant_type", "refresh_token"}}).status, 400);
  EXPECT_EQ(sandbox.admin(verb::delete_, "faults/999").status, 404);
  EXPECT_EQ(sandbox.admin(verb::post, "faults", json{{"kind", "nonsense"}}).status, 400);
  EXPECT_EQ(sandbox.admin(verb::post, "faults", json{{"kind", "latency"}, {"typo", 1}}).status, 400);
}

TEST(SandboxAdmin, FaultsNeverApplyToAdminPaths) {
  running_sandbox sandbox;
  add_fault(sandbox, {{"kind", "error_status"}});
  EXPECT_EQ(sandbox.admin(verb::get, "health").status, 200);
  EXPECT_EQ(sandbox.admin(verb::delete_, "faults").status, 200);
  EXPECT_EQ(sandbox.amc(verb::get, "/amc/instances").status, 200);
}

TEST(SandboxAdmin, RequestLogHasNoSecrets) {
  running_sandbox sandbox;
  const std::string id = sandbox.create_adhoc("SELECT 1 -- sandbox: pending=0 duration=1s publishing=0");
  sandbox.advance_clock(2);
  auto urls = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls")).json();
  sandbox.client().request(verb::get, urls["downloadUrls"][0].get<std::string>().substr(sandbox.server().base_url().size()));
  sandbox.client().request(verb::get, "/ap/oa?client_id=" + sandbox.client_id() +
                                          "&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%2F&state=s");
  auto log = sandbox.admin(verb::get, "requests");
  ASSERT_EQ(log.status, 200);
  json entries = log.json()["requests"];
  ASSERT_GE(entries.size(), 5u);
  EXPECT_EQ(entries[0]["path"], "/auth/o2/token");
  EXPECT_EQ(entries[0]["method"], "POST");
  EXPECT_EQ(entries[0]["status"], 200);
  EXPECT_TRUE(entries[0].contains("time"));
  for (const std::string& secret : {sandbox.access_token(), sandbox.refresh_token(), sandbox.client_secret(),
                                    std::string("X-Amz-Signature"), std::string("code=")}) {
    EXPECT_EQ(log.body.find(secret), std::string::npos) << "log leaks " << secret.substr(0, 8);
  }
  auto limited = sandbox.admin(verb::get, "requests?limit=1").json();
  EXPECT_EQ(limited["requests"].size(), 1u);
}

TEST(SandboxAdmin, StatsCountOperationsAndStatuses) {
  running_sandbox sandbox;
  sandbox.amc(verb::get, sandbox.reporting("workflows"));
  sandbox.amc(verb::get, sandbox.reporting("workflows/none"));
  json stats = sandbox.admin(verb::get, "stats").json();
  EXPECT_EQ(stats["by_operation"]["listWorkflows"], 1);
  EXPECT_EQ(stats["by_operation"]["getWorkflow"], 1);
  EXPECT_EQ(stats["by_operation"]["lwaToken"], 1);
  EXPECT_EQ(stats["by_status"]["404"], 1);
  EXPECT_EQ(stats["requests"], 3);
}

TEST(SandboxAdmin, ResetClearsStateButKeepsTheSeededGrant) {
  running_sandbox sandbox;
  ASSERT_EQ(sandbox.amc(verb::post, sandbox.reporting("workflows"), json{{"workflowId", "w"}, {"sqlQuery", "SELECT 1"}})
                .status,
            200);
  add_fault(sandbox, {{"kind", "error_status"}, {"operation", "getWorkflow"}});
  ASSERT_EQ(sandbox.admin(verb::post, "reset").status, 200);
  std::string token = sandbox.fresh_access_token();
  auto after = sandbox.client().request(verb::get, sandbox.reporting("workflows/w"), {}, sandbox.amc_headers(token));
  EXPECT_EQ(after.status, 404);
  EXPECT_EQ(sandbox.admin(verb::get, "faults").json()["faults"].size(), 0u);
  EXPECT_EQ(sandbox.admin(verb::get, "stats").json()["workflows"], 0);
}

TEST(SandboxAdmin, SettingsValidate) {
  running_sandbox sandbox;
  EXPECT_EQ(sandbox.admin(verb::put, "settings", json{{"response_shape", "round"}}).status, 400);
  EXPECT_EQ(sandbox.admin(verb::put, "settings", json{{"colour", "blue"}}).status, 400);
  EXPECT_EQ(sandbox.admin(verb::put, "settings", json{{"time_scale", 0}}).status, 400);
  ASSERT_EQ(sandbox.admin(verb::put, "settings", json{{"time_scale", 60}, {"download_url_ttl_seconds", 30}}).status, 200);
  json settings = sandbox.admin(verb::get, "settings").json();
  EXPECT_EQ(settings["time_scale"], 60.0);
  EXPECT_EQ(settings["download_url_ttl_seconds"], 30);
  EXPECT_EQ(settings.dump().find(sandbox.client_secret()), std::string::npos);
  EXPECT_EQ(sandbox.admin(verb::get, "nothing").status, 404);
  EXPECT_EQ(sandbox.client().request(verb::post, "/_sandbox/faults", "{bad").status, 400);
}

// The admin API's route table: a call is found by method and path, a
// trailing {id} takes the rest of the path (its handler checks it), and a
// path served only for other methods is "no admin operation".
TEST(SandboxAdmin, RoutesByMethodAndPath) {
  running_sandbox sandbox;
  EXPECT_EQ(sandbox.admin(verb::patch, "settings", json{{"accounts_page_size", 5}}).status, 200);
  EXPECT_EQ(sandbox.admin(verb::post, "settings", json{{"accounts_page_size", 6}}).status, 200);
  EXPECT_EQ(sandbox.admin(verb::get, "settings").json()["accounts_page_size"], 6);
  auto other_method = sandbox.admin(verb::delete_, "settings");
  EXPECT_EQ(other_method.status, 404);
  EXPECT_NE(other_method.body.find("No admin operation DELETE /_sandbox/settings"), std::string::npos)
      << other_method.body;
  EXPECT_EQ(sandbox.admin(verb::get, "faults/1").status, 404);
  EXPECT_EQ(sandbox.admin(verb::delete_, "faults/abc").status, 400);
  EXPECT_EQ(sandbox.admin(verb::delete_, "faults/").status, 400);
  EXPECT_EQ(sandbox.admin(verb::delete_, "grants/revoke").status, 404);  // an id here, not the POST call
  const auto grant_id = sandbox.admin(verb::post, "grants", json::object()).json()["grant_id"].get<std::string>();
  EXPECT_EQ(sandbox.admin(verb::delete_, "grants/" + grant_id).json()["revoked"], 1);
  EXPECT_EQ(sandbox.admin(verb::post, "grants/revoke", json{{"grant_id", grant_id}}).json()["revoked"], 0);
  EXPECT_EQ(sandbox.admin(verb::get, "").status, 404);
}

// Issue 12: access_token_ttl_seconds 1e12 was accepted and then reported
// as -727379968. Every number of the admin API is range-checked instead, and
// a refused change leaves every setting as it was.
TEST(SandboxAdmin, NumbersOutOfRangeAreRefusedNamingFieldAndRange) {
  running_sandbox sandbox;
  const json before = sandbox.admin(verb::get, "settings").json();
  auto refused = [&](const std::string& path, const json& body, const std::string& fragment) {
    auto result = sandbox.admin(path == "settings" ? verb::put : verb::post, path, body);
    EXPECT_EQ(result.status, 400) << body.dump();
    EXPECT_NE(result.json().value("details", "").find(fragment), std::string::npos) << body.dump() << " -> " << result.body;
  };
  refused("settings", {{"access_token_ttl_seconds", 1e12}},
          "'access_token_ttl_seconds' is out of range: 1000000000000.0 is not between 1 and 31536000");
  refused("settings", {{"access_token_ttl_seconds", 1000000000000LL}}, "is not between 1 and 31536000");
  refused("settings", {{"consent_code_ttl_seconds", -5}}, "'consent_code_ttl_seconds' is out of range");
  refused("settings", {{"download_url_ttl_seconds", 4294967297LL}}, "'download_url_ttl_seconds' is out of range");
  refused("settings", {{"max_active_per_instance", 1e10}}, "'max_active_per_instance' is out of range");
  refused("settings", {{"adhoc_executions_per_day", -1}}, "'adhoc_executions_per_day' is out of range");
  refused("settings", {{"accounts_page_size", 0}}, "'accounts_page_size' is out of range");
  refused("settings", {{"time_scale", 1e300}}, "'time_scale' is out of range");
  refused("settings", {{"access_token_ttl_seconds", 3600.5}}, "'access_token_ttl_seconds' must be a whole number");
  refused("settings", {{"access_token_ttl_seconds", 60}, {"download_url_ttl_seconds", 1e12}}, "out of range");
  EXPECT_EQ(sandbox.admin(verb::get, "settings").json(), before);  // nothing half-applied

  refused("scenarios", {{"parts", 4294967297LL}}, "'parts' is out of range: 4294967297 is not between 1 and 5");
  refused("scenarios", {{"rows", 1e12}}, "'rows' is out of range");
  refused("scenarios", {{"running", 1e300}}, "out of range");
  refused("clock/advance", {{"seconds", 1e300}}, "'seconds' is out of range");
  refused("faults", {{"kind", "rate_limit"}, {"retry_after", 4294967297LL}}, "'retry_after' is out of range");
  EXPECT_EQ(sandbox.admin(verb::get, "requests?limit=-1").status, 400);
  EXPECT_EQ(sandbox.admin(verb::get, "requests?limit=99999999999999999999").status, 400);
  EXPECT_EQ(sandbox.admin(verb::delete_, "faults/abc").status, 400);

  ASSERT_EQ(sandbox.admin(verb::put, "settings", json{{"access_token_ttl_seconds", 30}}).status, 200);
  EXPECT_EQ(sandbox.admin(verb::get, "settings").json()["access_token_ttl_seconds"], 30);
  EXPECT_EQ(sandbox.token_request({{"grant_type", "refresh_token"},
                                   {"refresh_token", sandbox.refresh_token()},
                                   {"client_id", sandbox.client_id()},
                                   {"client_secret", sandbox.client_secret()}})
                .json()["expires_in"],
            30);
}

TEST(SandboxServer, KeepAliveReusesOneConnection) {
  running_sandbox sandbox;
  auto first = sandbox.amc(verb::get, sandbox.reporting("workflows"));
  auto second = sandbox.amc(verb::get, sandbox.reporting("workflows"));
  auto third = sandbox.amc(verb::get, "/amc/instances");
  EXPECT_EQ(first.local_port, second.local_port);
  EXPECT_EQ(second.local_port, third.local_port);
}

// Waits at most 10 s for `socket` to become readable (data, or the peer's
// close): a server that never closes fails the test instead of hanging it.
bool readable_within_10s(asio::ip::tcp::socket& socket) {
  pollfd watched{socket.native_handle(), POLLIN, 0};
  return ::poll(&watched, 1, 10'000) == 1;
}

TEST(SandboxServer, DeadlinesCloseSilentAndIdleConnections) {
  auto options = test_options();
  options.read_timeout = std::chrono::milliseconds(200);
  options.idle_timeout = std::chrono::milliseconds(800);
  running_sandbox sandbox(options);
  // A client that connects and never sends a request is cut off.
  asio::io_context io;
  asio::ip::tcp::socket silent(io);
  silent.connect({asio::ip::make_address("127.0.0.1"), sandbox.server().port()});
  const auto connected = std::chrono::steady_clock::now();
  char byte = 0;
  boost::system::error_code error;
  ASSERT_TRUE(readable_within_10s(silent)) << "the sandbox never closed a silent connection";
  silent.read_some(asio::buffer(&byte, 1), error);
  EXPECT_EQ(error, asio::error::eof);
  EXPECT_GE(std::chrono::steady_clock::now() - connected, std::chrono::milliseconds(150));
  EXPECT_LE(std::chrono::steady_clock::now() - connected, std::chrono::seconds(5));

  // An idle keep-alive connection is closed after the idle deadline. Seen
  // on one connection: two requests keep it open (keep-alive), then the
  // server ends it once it has been idle that long. (Comparing the local
  // ports of separate requests would assume the kernel never hands a
  // closed port out again.)
  beast::tcp_stream stream(io);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), sandbox.server().port()));
  beast::flat_buffer buffer;
  for (int i = 0; i < 2; ++i) {
    http::request<http::empty_body> request{verb::get, "/_sandbox/stats", 11};
    request.set(http::field::host, "127.0.0.1");
    request.keep_alive(true);
    http::write(stream, request);
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_TRUE(response.keep_alive());
  }
  const auto idle_since = std::chrono::steady_clock::now();
  ASSERT_TRUE(readable_within_10s(stream.socket())) << "the sandbox never closed an idle connection";
  stream.socket().read_some(asio::buffer(&byte, 1), error);
  EXPECT_EQ(error, asio::error::eof);
  EXPECT_GE(std::chrono::steady_clock::now() - idle_since, std::chrono::milliseconds(700));
  EXPECT_LE(std::chrono::steady_clock::now() - idle_since, std::chrono::seconds(10));
  // A new connection is served as usual.
  EXPECT_EQ(sandbox.amc(verb::get, "/amc/instances").status, 200);
}

}  // namespace
}  // namespace amc::sandbox::testing
