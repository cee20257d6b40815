// Issue 23, the second hostile round: what a server answers, and what a
// client is configured with, through libamc.so and amc.h as a host uses it.
// The AMC and Login with Amazon endpoints are one scripted HTTP server on
// 127.0.0.1 (tests/net/scripted_server.hpp) answering step by step, so a
// reply can carry any status, header or body: redirects (kind 8), servers
// quoting the secrets they were sent (kind 7), result parts with a
// Content-Encoding (kind 6), ids no spec allows (kind 9) and plain http://
// endpoints (kind 10). Each test's comment says what was searched for the
// same kind elsewhere.
#include "amc/amc.h"

#include "../net/scripted_server.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
using amc::net::testing::script_step;
using amc::net::testing::scripted_server;

// Secrets a request carries, each one a value no pattern would recognise as
// a token (no "Atza|" prefix): only exact redaction finds them.
const std::string access_token = "access-7f3a9c1e5b2d4f60";
const std::string refresh_token = "refresh-91d2e4c6a8b0f135";
const std::string client_secret = "secret-55aa33cc77ee1199";

std::string take(char* text) {
  std::string copy = text != nullptr ? text : "";
  amc_free(text);
  return copy;
}

script_step token_reply() {
  return script_step::ok(json{{"access_token", access_token}, {"token_type", "bearer"}, {"expires_in", 3600}}.dump());
}

script_step with_headers(unsigned status, std::string body, std::vector<std::pair<std::string, std::string>> headers) {
  script_step step;
  step.status = status;
  step.body = std::move(body);
  step.headers = std::move(headers);
  return step;
}

struct captured_log {
  std::mutex mutex;
  std::vector<std::pair<int, std::string>> lines;
  static void sink(int level, const char* message, void* user) {
    auto& self = *static_cast<captured_log*>(user);
    std::lock_guard lock(self.mutex);
    self.lines.emplace_back(level, message);
  }
  std::string all() {
    std::lock_guard lock(mutex);
    std::string joined;
    for (const auto& [level, line] : lines) joined += line + "\n";
    return joined;
  }
};

class HostileReplies : public ::testing::Test {
 protected:
  json config_for(const std::string& amc_url, const std::string& lwa_url) const {
    return {{"endpoints", {{"amc", amc_url}, {"lwa_token", lwa_url}}},
            {"lwa", {{"client_id", "amzn1.application-oa2-client.test"}, {"client_secret", client_secret}}},
            {"proxy", {{"from_environment", false}}},
            {"retry", {{"base_delay_ms", 10}, {"max_delay_ms", 20}, {"max_attempts", 1}}},
            {"store", {{"path", (directory_.path() / "creds.json").string()}, {"fernet_keys", key_}}}};
  }
  // A client of `server` (both endpoints), with a credential imported.
  amc_client* client_of(const scripted_server& server) {
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    amc_client* client = nullptr;
    EXPECT_EQ(amc_client_new(config_for(base, base + "/auth/o2/token").dump().c_str(), &client), AMC_OK)
        << amc_last_error();
    if (client == nullptr) return nullptr;
    amc_client_set_log(client, &captured_log::sink, &log_, AMC_LOG_DEBUG);
    const json credential = {{"credential_id", "conn"}, {"refresh_token", refresh_token}};
    EXPECT_EQ(amc_auth_import(client, credential.dump().c_str()), AMC_OK) << amc_last_error();
    return client;
  }
  static json request(json more = json::object()) {
    json body = {{"credential_id", "conn"},
                 {"instance",
                  {{"instance_id", "amcabc123"}, {"advertiser_id", "ENTITY1AA1AA11AAA1"}, {"marketplace_id", "ATVPDKIKX0DER"}}},
                 {"timeout_ms", 10000}};
    body.merge_patch(more);
    return body;
  }
  void expect_no_secret(const std::string& text, const std::string& where) {
    for (const auto& secret : {access_token, refresh_token, client_secret})
      EXPECT_EQ(text.find(secret), std::string::npos) << where << " quotes a secret: " << text;
  }

  amc::testing::temporary_directory directory_;
  std::string key_ = amc::testing::generate_fernet_key();
  captured_log log_;
};

// Kind 8. searched: every place an HTTP status becomes a status code:
// session.cpp throw_for_status (AMC: 3xx fell to "AMC refused ... with HTTP
// 302", AMC_E_INVALID_ARGUMENT), lwa.cpp interpret_token_reply (LwA: 3xx
// fell to AMC_E_REMOTE without the Location), results.cpp download_part
// (a result part: AMC_E_REMOTE "failed with HTTP 302"). The transport never
// follows a redirect (src/net has no Location handling), so no token leaves
// for another host; now each names the Location host as the server's answer.
TEST_F(HostileReplies, AnAmcRedirectIsAProtocolErrorNamingTheLocationHostAndIsNotFollowed) {
  scripted_server server({token_reply(), with_headers(302, "", {{"Location", "https://elsewhere.example.net/amc/x"}})});
  amc_client* client = client_of(server);
  ASSERT_NE(client, nullptr);
  char* out = nullptr;
  EXPECT_EQ(amc_workflow_list(client, request().dump().c_str(), &out), AMC_E_PROTOCOL) << amc_last_error();
  EXPECT_NE(std::string(amc_last_error()).find("elsewhere.example.net"), std::string::npos) << amc_last_error();
  EXPECT_NE(std::string(amc_last_error()).find("302"), std::string::npos) << amc_last_error();
  EXPECT_EQ(server.requests().size(), 2u) << "the token request and the one AMC call; nothing followed";
  amc_client_free(client);
}

TEST_F(HostileReplies, AnLwaRedirectIsAProtocolErrorNamingTheLocationHost) {
  scripted_server server({with_headers(301, "", {{"Location", "http://login.elsewhere.example.org/token"}})});
  amc_client* client = client_of(server);
  ASSERT_NE(client, nullptr);
  char* out = nullptr;
  EXPECT_EQ(amc_workflow_list(client, request().dump().c_str(), &out), AMC_E_PROTOCOL) << amc_last_error();
  EXPECT_NE(std::string(amc_last_error()).find("login.elsewhere.example.org"), std::string::npos) << amc_last_error();
  EXPECT_EQ(server.requests().size(), 1u);
  amc_client_free(client);
}

// Kind 7. searched: every place a server's text reaches an error, a log
// line or a stored status: session.cpp throw_for_status (AMC's "details" /
// "message" and "code"), lwa.cpp interpret_token_reply (LwA's "error" and
// "error_description", also stored as the credential's last_error and
// logged by the refresh service), results.cpp (quotes no body), api/shapes
// protocol errors on 2xx replies (quote field names and short values of a
// success reply, not error text), the net layer (quotes no body). The log
// sink's pattern redaction (common/log.cpp) stays as a second net; the fix
// is common/log.hpp redact_secrets with the exact secrets of the request.
TEST_F(HostileReplies, AnAmcErrorQuotingTheAccessTokenIsRedacted) {
  const std::string echo = json{{"code", "400"},
                                {"details", "bad request with Authorization: Bearer " + access_token + " (token " +
                                                access_token + ")"}}
                               .dump();
  scripted_server server({token_reply(), with_headers(400, echo, {{"Content-Type", "application/json"}})});
  amc_client* client = client_of(server);
  ASSERT_NE(client, nullptr);
  char* out = nullptr;
  EXPECT_EQ(amc_workflow_list(client, request().dump().c_str(), &out), AMC_E_INVALID_ARGUMENT) << amc_last_error();
  EXPECT_NE(std::string(amc_last_error()).find("bad request"), std::string::npos) << "AMC's text is still there";
  expect_no_secret(amc_last_error(), "amc_last_error");
  expect_no_secret(amc_last_error_json(), "amc_last_error_json");
  amc_client_free(client);
  expect_no_secret(log_.all(), "the log");
}

TEST_F(HostileReplies, AnLwaErrorQuotingTheRefreshTokenAndClientSecretIsRedacted) {
  const std::string echo =
      json{{"error", "invalid_request"},
           {"error_description", "refresh " + refresh_token + " does not belong to client with secret " + client_secret}}
          .dump();
  scripted_server server({with_headers(400, echo, {{"Content-Type", "application/json"}})});
  amc_client* client = client_of(server);
  ASSERT_NE(client, nullptr);
  char* out = nullptr;
  EXPECT_EQ(amc_workflow_list(client, request().dump().c_str(), &out), AMC_E_PROTOCOL) << amc_last_error();
  EXPECT_NE(std::string(amc_last_error()).find("does not belong"), std::string::npos) << "LwA's text is still there";
  expect_no_secret(amc_last_error(), "amc_last_error");
  expect_no_secret(amc_last_error_json(), "amc_last_error_json");
  ASSERT_EQ(amc_auth_status(client, "conn", &out), AMC_OK) << amc_last_error();
  expect_no_secret(take(out), "amc_auth_status");
  amc_client_free(client);
  expect_no_secret(log_.all(), "the log");
}

// Kind 6. searched: every body libamc reads: AMC replies (session.cpp), LwA
// replies (token_manager.cpp), result parts (results.cpp download_part).
// libamc asks for no encoding anywhere (no Accept-Encoding was sent, which
// lets a server pick any): every request now says Accept-Encoding:
// identity, and a reply with another Content-Encoding is refused as
// AMC_E_PROTOCOL naming it; a result part's file is removed.
TEST_F(HostileReplies, AGzippedResultPartIsRefusedAndNoFileIsReportedComplete) {
  const std::string gzipped("\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x4b\xd4\x49\xe2\x32\xd4\x31\xe2\x02\x00\x7b\x07"
                            "\x97\x0a\x08\x00\x00\x00",
                            28);
  // The parts come from a server of their own (pre-signed URLs point
  // elsewhere than AMC); AMC and LwA share the other.
  const auto gzipped_part = with_headers(200, gzipped, {{"Content-Encoding", "gzip"}, {"Content-Type", "text/csv"}});
  scripted_server parts({gzipped_part, gzipped_part, gzipped_part, gzipped_part});
  const std::string part_url = "http://127.0.0.1:" + std::to_string(parts.port()) + "/result/part-1.csv?sig=x";
  std::vector<script_step> script = {
      token_reply(), script_step::ok(json{{"downloadUrls", {part_url}}}.dump()),
      script_step::ok(json{{"workflowExecutionId", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"}, {"status", "SUCCEEDED"}}
                          .dump())};
  scripted_server server(std::move(script));
  amc_client* client = client_of(server);
  ASSERT_NE(client, nullptr);
  const auto directory = directory_.path() / "out";
  char* out = nullptr;
  const auto download = request({{"amc_execution_id", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"},
                                 {"directory", directory.string()}});
  const amc_status status = amc_results_download(client, download.dump().c_str(), nullptr, nullptr, &out);
  EXPECT_EQ(status, AMC_E_PROTOCOL) << amc_status_name(status) << ": " << amc_last_error() << " " << (out ? out : "");
  EXPECT_NE(std::string(amc_last_error()).find("gzip"), std::string::npos) << amc_last_error();
  take(out);
  EXPECT_FALSE(std::filesystem::exists(directory / "part-1.csv")) << "no file whose bytes are not the result";
  ASSERT_FALSE(parts.requests().empty());
  EXPECT_EQ(parts.requests().front().header("Accept-Encoding").value_or(""), "identity")
      << "libamc says it takes no encoding";
  for (const auto& seen : server.requests())
    EXPECT_EQ(seen.header("Accept-Encoding").value_or(""), "identity") << seen.target;
  amc_client_free(client);
}

// Kind 9. searched: every id that goes into a URL or a header:
// validate_path_id (instance, marketplace, advertiser and AMC execution ids:
// no length bound, now 128 bytes, like validate_workflow_id; quoted cut
// short), validate_workflow_id (128 already), store's execution_id (128)
// and credential_id (256) (already bounded, quoted whole only when short).
TEST_F(HostileReplies, AHugeIdIsRefusedBeforeAnyRequestWithAShortMessage) {
  scripted_server server({token_reply()});
  amc_client* client = client_of(server);
  ASSERT_NE(client, nullptr);
  const std::string huge(10u << 20, 'a');
  char* out = nullptr;
  for (const json& change : {json{{"amc_execution_id", huge}},
                             json{{"amc_execution_id", std::string(129, 'b')}},
                             json{{"instance", {{"instance_id", huge}}}},
                             json{{"instance", {{"marketplace_id", std::string(200, 'M')}}}},
                             json{{"instance", {{"advertiser_id", "ENTITY" + std::string(300, 'A')}}}}}) {
    const amc_status status = amc_execution_get(client, request(change).dump().c_str(), &out);
    EXPECT_EQ(status, AMC_E_INVALID_ARGUMENT) << amc_status_name(status);
    EXPECT_LT(std::string(amc_last_error()).size(), 1000u) << "the id is not echoed whole";
    EXPECT_NE(std::string(amc_last_error()).find("at most 128"), std::string::npos)
        << std::string(amc_last_error()).substr(0, 300);
  }
  EXPECT_TRUE(server.requests().empty()) << "refused before any request";
  amc_client_free(client);
}

// Kind 10. searched: every setting that weakens transport security:
// tls.verify_peer false (warned at creation, issue 12), plain http:// in
// endpoints.amc, endpoints.lwa_token and endpoints.lwa_consent (used
// silently; now warned the same way unless the host is loopback: 127/8,
// ::1, localhost), a proxy over http:// (CONNECT tunnels TLS through it:
// nothing in clear beyond the target host, not warned), and result URLs
// (AMC hands out https:// pre-signed URLs; an http:// one is used as given
// and warned once per download).
TEST_F(HostileReplies, PlainHttpForANonLoopbackHostIsWarnedLikeVerifyPeerOff) {
  captured_log local;
  amc_client* client = nullptr;
  // Never contacted: the warning is given when the client is made.
  auto config = config_for("http://amc.invalid.example.com", "http://127.0.0.1:9/auth/o2/token");
  ASSERT_EQ(amc_client_new(config.dump().c_str(), &client), AMC_OK) << amc_last_error();
  amc_client_set_log(client, &captured_log::sink, &local, AMC_LOG_DEBUG);
  amc_client_free(client);
  const std::string lines = local.all();
  EXPECT_NE(lines.find("amc.invalid.example.com"), std::string::npos) << lines;
  EXPECT_NE(lines.find("plain http://"), std::string::npos) << lines;
  bool warning = false;
  for (const auto& [level, line] : local.lines)
    warning = warning || (level == AMC_LOG_WARNING && line.find("amc.invalid.example.com") != std::string::npos);
  EXPECT_TRUE(warning) << lines;
  EXPECT_EQ(lines.find("127.0.0.1"), std::string::npos) << "a loopback endpoint is not warned about: " << lines;
}

}  // namespace
