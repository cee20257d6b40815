// HTTPS with the generated test CA (verified with host name checks), the
// state directory files, and the amc-sandbox executable itself.
#include "sandbox_fixture.hpp"
#include "support/test_support.hpp"

#include <sys/stat.h>
#include <sys/wait.h>

#include <csignal>
#include <fstream>
#include <thread>

namespace amc::sandbox::testing {
namespace {

TEST(SandboxTls, ServesHttpsVerifiedByTheGeneratedCa) {
  amc::testing::temporary_directory state;
  auto options = test_options();
  options.tls = true;
  options.state_dir = state.path() / "state";
  running_sandbox sandbox(options);
  EXPECT_TRUE(sandbox.server().base_url().starts_with("https://127.0.0.1:"));

  // The CA on disk is the one the server chains to.
  const std::string ca_pem = amc::testing::read_file(sandbox.server().ca_file());
  EXPECT_EQ(ca_pem, sandbox.server().ca_certificate_pem());
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    test_http_client client(sandbox.server().port(), ca_pem, host);
    EXPECT_FALSE(client.handshake_only()) << host;
    auto token = client.request(verb::post, "/auth/o2/token",
                                form_encode({{"grant_type", "refresh_token"},
                                             {"refresh_token", sandbox.refresh_token()},
                                             {"client_id", sandbox.client_id()},
                                             {"client_secret", sandbox.client_secret()}}),
                                {}, "application/x-www-form-urlencoded");
    ASSERT_EQ(token.status, 200) << host << " " << token.error.message();
    auto instances = client.request(verb::get, "/amc/instances", {}, sandbox.amc_headers(token.json()["access_token"]));
    EXPECT_EQ(instances.status, 200);
    auto again = client.request(verb::get, "/amc/instances", {}, sandbox.amc_headers(token.json()["access_token"]));
    EXPECT_EQ(again.local_port, instances.local_port);  // keep-alive over TLS
  }
  // Another name, or another CA, fails verification.
  test_http_client wrong_name(sandbox.server().port(), ca_pem, "example.com");
  EXPECT_TRUE(wrong_name.handshake_only());

  auto other_options = test_options();
  other_options.tls = true;
  running_sandbox other(other_options);
  test_http_client wrong_ca(sandbox.server().port(), other.server().ca_certificate_pem(), "localhost");
  EXPECT_TRUE(wrong_ca.handshake_only());
}

TEST(SandboxTls, FaultsWorkOverTls) {
  auto options = test_options();
  options.tls = true;
  running_sandbox sandbox(options);
  sandbox.admin(verb::post, "faults", json{{"kind", "truncated_body"}, {"operation", "listInstances"}, {"count", 1}});
  sandbox.client().close();
  auto cut = sandbox.amc(verb::get, "/amc/instances");
  EXPECT_TRUE(cut.header_received);
  EXPECT_TRUE(cut.error);
  sandbox.admin(verb::post, "faults", json{{"kind", "rate_limit"}, {"count", 1}, {"retry_after", 7}});
  auto limited = sandbox.amc(verb::get, "/amc/instances");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("Retry-After"), "7");
}

TEST(SandboxState, SecretsAreWrittenOwnerOnly) {
  amc::testing::temporary_directory state;
  auto options = test_options();
  options.state_dir = state.path() / "state";
  options.port_file = state.path() / "port";
  options.tls = true;
  running_sandbox sandbox(options);
  auto mode = [](const std::filesystem::path& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_mode & 0777;
  };
  EXPECT_EQ(mode(options.state_dir / "client_secret"), 0600u);
  EXPECT_EQ(mode(options.state_dir / "refresh_token"), 0600u);
  EXPECT_EQ(mode(options.state_dir / "server.key"), 0600u);
  EXPECT_EQ(mode(options.state_dir), 0700u);
  EXPECT_EQ(amc::testing::read_file(options.state_dir / "client_secret"), sandbox.client_secret());
  EXPECT_EQ(amc::testing::read_file(options.port_file), std::to_string(sandbox.server().port()) + "\n");
  json summary = json::parse(amc::testing::read_file(options.state_dir / "sandbox.json"));
  EXPECT_EQ(summary["port"], sandbox.server().port());
  EXPECT_EQ(summary["advertiser_id"], sandbox.advertiser_id());
  const std::string text = summary.dump();
  EXPECT_EQ(text.find(sandbox.client_secret()), std::string::npos);
  EXPECT_EQ(text.find(sandbox.refresh_token()), std::string::npos);
}

TEST(SandboxExecutable, HelpDocumentsTheFlags) {
  auto result = amc::testing::run_process({AMC_SANDBOX_PATH, "--help"});
  EXPECT_EQ(result.exit_code, 0);
  for (const char* flag : {"--port", "--port-file", "--tls", "--state-dir", "--config", "--shape", "--time-scale",
                           "--seed", "--fault", "--threads", "--max-active", "--adhoc-per-day", "--token-ttl",
                           "--refresh-token-reply", "--pending", "--running", "--publishing", "--download-url-ttl",
                           "--request-log-size", "--log-requests", "--client-id", "--client-secret-file",
                           "--no-seed-grant", "--read-timeout-ms", "--write-timeout-ms", "--idle-timeout-ms"}) {
    EXPECT_NE(result.output.find(flag), std::string::npos) << flag;
  }
  // Every field of a fault rule, every kind and every operation name.
  for (const char* field : {"kind", "method", "operation", "path", "count", "skip", "status", "retry_after",
                            "latency_ms", "trickle_bytes", "trickle_interval_ms"}) {
    EXPECT_NE(result.output.find(std::string("\n  ") + field + " "), std::string::npos) << field;
  }
  for (const char* kind : {"latency", "error_status", "rate_limit", "reset_before_headers", "reset_after_headers",
                           "truncated_body", "malformed_json", "trickle", "expired_download_urls",
                           "drop_after_accept"}) {
    EXPECT_NE(result.output.find(kind), std::string::npos) << kind;
  }
  for (int op = 1; op < static_cast<int>(amc::sandbox::operation_count); ++op) {
    const std::string name(amc::sandbox::operation_name(static_cast<amc::sandbox::operation>(op)));
    EXPECT_NE(result.output.find(name), std::string::npos) << name;
  }
  // Every SQL marker.
  for (const char* marker : {"-- sandbox: fail", "reject \"", "succeed", "duration=", "running=", "pending=",
                             "publishing=", "parts=", "rows=", "scenario=", "status=", "for="}) {
    EXPECT_NE(result.output.find(marker), std::string::npos) << marker;
  }
  EXPECT_NE(result.output.find("timeWindowTimeZone"), std::string::npos);
  auto bad = amc::testing::run_process({AMC_SANDBOX_PATH, "--shape", "round"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(SandboxExecutable, ServesUntilTerminated) {
  amc::testing::temporary_directory state;
  const auto port_file = state.path() / "port";
  const std::string config_file = (state.path() / "config.json").string();
  {
    std::ofstream config(config_file);
    config << R"({"response_shape": "wrapped", "accounts": [{"accountId": "ENTITYCONFIGURED", "marketplaceId": "ATVPDKIKX0DER"}],
                 "instances": [{"instanceId": "amcconfigured", "entityId": "ENTITYCONFIGURED"}]})";
  }
  int pid = amc::testing::spawn_process({AMC_SANDBOX_PATH, "--state-dir", (state.path() / "state").string(),
                                         "--port-file", port_file.string(), "--config", config_file});
  std::string port_text;
  for (int i = 0; i < 100 && port_text.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::filesystem::exists(port_file)) port_text = amc::testing::read_file(port_file);
  }
  ASSERT_FALSE(port_text.empty());
  test_http_client client(static_cast<std::uint16_t>(std::stoi(port_text)));
  auto health = client.request(verb::get, "/_sandbox/health");
  EXPECT_EQ(health.status, 200);
  json summary = json::parse(amc::testing::read_file(state.path() / "state" / "sandbox.json"));
  EXPECT_EQ(summary["instance_id"], "amcconfigured");
  EXPECT_EQ(summary["advertiser_id"], "ENTITYCONFIGURED");
  EXPECT_EQ(summary["response_shape"], "wrapped");
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace amc::sandbox::testing
