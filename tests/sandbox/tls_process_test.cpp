// HTTPS with the generated test CA (verified with host name checks), the
// state directory files, and the amc-sandbox executable itself.
#include "sandbox_fixture.hpp"
#include "support/test_support.hpp"

#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <csignal>
#include <fstream>
#include <functional>
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

// A port that was free a moment ago (bound to 0, read, released), for the
// --port N test: the sandbox must bind exactly that one.
std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

// Polls `path` until `done(text)` holds (10 s at most); returns the last text.
std::string wait_for_file(const std::filesystem::path& path, const std::function<bool(const std::string&)>& done) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    if (std::filesystem::exists(path)) text = amc::testing::read_file(path);
    if (done(text)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return text;
}

// server.pem chains to ca.pem, names localhost and 127.0.0.1, and server.key
// is its key: what a client given only the state dir needs.
void expect_certificate_files_verify(const std::filesystem::path& state) {
  using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;
  auto read_certificate = [](const std::filesystem::path& path) {
    const std::string pem = amc::testing::read_file(path);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    return x509_ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  };
  const x509_ptr ca = read_certificate(state / "ca.pem");
  const x509_ptr server = read_certificate(state / "server.pem");
  ASSERT_TRUE(ca) << "ca.pem holds no certificate";
  ASSERT_TRUE(server) << "server.pem holds no certificate";

  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  ASSERT_EQ(X509_STORE_add_cert(store.get(), ca.get()), 1);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> context(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  ASSERT_EQ(X509_STORE_CTX_init(context.get(), store.get(), server.get(), nullptr), 1);
  EXPECT_EQ(X509_verify_cert(context.get()), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(context.get()));
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(server.get(), "example.com", 0, 0, nullptr), 1);
  // The CA is not its own server certificate.
  EXPECT_NE(X509_cmp(ca.get(), server.get()), 0);

  const std::string key_pem = amc::testing::read_file(state / "server.key");
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())),
                                                    BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr),
                                                          EVP_PKEY_free);
  ASSERT_TRUE(key) << "server.key holds no private key";
  EXPECT_EQ(X509_check_private_key(server.get(), key.get()), 1) << "server.key is not the key of server.pem";
}

// The executable with --tls, a chosen --port and a --config file holding
// scenarios, a default scenario and a fault: it binds that port, says so on
// stdout, writes a chain that verifies, and the config's scenarios and fault
// are in force (not only parsed).
TEST(SandboxExecutable, AppliesTheConfigFileOnTheChosenTlsPort) {
  amc::testing::temporary_directory dir;
  const auto state = dir.path() / "state";
  const auto config_file = dir.path() / "config.json";
  const auto stdout_file = dir.path() / "stdout.txt";
  {
    std::ofstream config(config_file);
    config << R"({
      "default_scenario": {"pending": "0s", "running": "1m", "publishing": "0s"},
      "scenarios": [
        {"name": "slow", "workflow_id": "nightly_report", "running": "2h"},
        {"name": "broken", "sql_contains": "missing_table", "outcome": "FAILED",
         "reason": "Table missing_table does not exist"}
      ],
      "faults": [{"kind": "rate_limit", "operation": "listWorkflows", "count": 1, "retry_after": 2}]
    })";
  }
  const std::uint16_t port = free_port();
  // The shell only redirects stdout, then becomes the sandbox (exec), so the
  // pid is the sandbox's.
  const std::string command = "exec '" + std::string(AMC_SANDBOX_PATH) + "' --config '" + config_file.string() +
                              "' --tls --port " + std::to_string(port) + " --state-dir '" + state.string() +
                              "' > '" + stdout_file.string() + "'";
  const int pid = amc::testing::spawn_process({"/bin/sh", "-c", command});
  struct stop_on_exit {
    int pid;
    ~stop_on_exit() {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  } stopper{pid};

  const std::string expected_line = "amc-sandbox listening on https://127.0.0.1:" + std::to_string(port) + "\n";
  const std::string output =
      wait_for_file(stdout_file, [](const std::string& text) { return text.find("state dir:") != std::string::npos; });
  ASSERT_TRUE(output.starts_with(expected_line)) << output;
  EXPECT_NE(output.find("state dir: " + state.string()), std::string::npos) << output;
  json summary = json::parse(amc::testing::read_file(state / "sandbox.json"));
  EXPECT_EQ(summary["port"], port);
  EXPECT_EQ(summary["url"], "https://127.0.0.1:" + std::to_string(port));

  for (const char* file : {"ca.pem", "server.pem", "server.key"}) {
    EXPECT_TRUE(std::filesystem::exists(state / file)) << file;
  }
  expect_certificate_files_verify(state);

  // Over HTTPS on exactly that port, trusting only the ca.pem on disk.
  test_http_client client(port, amc::testing::read_file(state / "ca.pem"), "localhost");
  auto token = client.request(verb::post, "/auth/o2/token",
                              form_encode({{"grant_type", "refresh_token"},
                                           {"refresh_token", amc::testing::read_file(state / "refresh_token")},
                                           {"client_id", summary["client_id"].get<std::string>()},
                                           {"client_secret", amc::testing::read_file(state / "client_secret")}}),
                              {}, "application/x-www-form-urlencoded");
  ASSERT_EQ(token.status, 200) << token.body << token.error.message();
  const test_http_client::header_list headers = {
      {"Amazon-Advertising-API-ClientId", summary["client_id"].get<std::string>()},
      {"Authorization", "Bearer " + token.json()["access_token"].get<std::string>()},
      {"Amazon-Advertising-API-AdvertiserId", summary["advertiser_id"].get<std::string>()},
      {"Amazon-Advertising-API-MarketplaceId", summary["marketplace_id"].get<std::string>()}};
  const std::string reporting = "/amc/reporting/" + summary["instance_id"].get<std::string>() + "/";

  // The config's fault fires once.
  auto limited = client.request(verb::get, reporting + "workflows", {}, headers);
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.header("Retry-After"), "2");
  EXPECT_EQ(client.request(verb::get, reporting + "workflows", {}, headers).status, 200);

  // The config's scenarios and default scenario plan the executions.
  auto create = [&](const json& body) {
    auto result = client.request(verb::post, reporting + "workflowExecutions", body.dump(), headers);
    EXPECT_EQ(result.status, 200) << result.body;
    return result.json().value("workflowExecutionId", "");
  };
  auto status_of = [&](const std::string& id) {
    return client.request(verb::get, reporting + "workflowExecutions/" + id, {}, headers).json();
  };
  ASSERT_EQ(client.request(verb::post, reporting + "workflows",
                           json{{"workflowId", "nightly_report"}, {"sqlQuery", "SELECT 1"}}.dump(), headers)
                .status,
            200);
  const std::string plain = create(json{{"workflow", {{"sqlQuery", "SELECT 1"}}}});
  const std::string broken = create(json{{"workflow", {{"sqlQuery", "SELECT * FROM missing_table"}}}});
  const std::string slow = create(json{{"workflowId", "nightly_report"}});
  EXPECT_EQ(status_of(plain)["status"], "RUNNING") << "default_scenario pending=0s";
  ASSERT_EQ(client.request(verb::post, "/_sandbox/clock/advance", json{{"seconds", 61}}.dump()).status, 200);
  EXPECT_EQ(status_of(plain)["status"], "SUCCEEDED") << "default_scenario running=1m, publishing=0s";
  const json failed = status_of(broken);
  EXPECT_EQ(failed["status"], "FAILED");
  EXPECT_EQ(failed["statusReason"], "Table missing_table does not exist");
  EXPECT_EQ(status_of(slow)["status"], "RUNNING") << "scenario slow: running=2h";

  const json stats = json::parse(client.request(verb::get, "/_sandbox/stats").body);
  EXPECT_EQ(stats["faults"]["rate_limit"], 1);
}

}  // namespace
}  // namespace amc::sandbox::testing
