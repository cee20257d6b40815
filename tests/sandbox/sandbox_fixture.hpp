// An in-process amc-sandbox on an ephemeral port plus a client that knows
// its credentials, for the sandbox integration tests.
#pragma once

#include "common/url_encoding.hpp"
#include "sandbox/server.hpp"
#include "sandbox/service.hpp"
#include "test_http_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace amc::sandbox::testing {

using nlohmann::json;
using verb = http::verb;

inline sandbox_options test_options() {
  sandbox_options options;
  options.io_threads = 2;
  return options;
}

// Token request bodies, encoded as the client encodes them.
using amc::form_encode;

class running_sandbox {
 public:
  explicit running_sandbox(sandbox_options options = test_options()) : server_(std::move(options)) {
    server_.start();
    if (server_.options().tls) {
      client_ = std::make_unique<test_http_client>(server_.port(), server_.ca_certificate_pem(), "localhost");
    } else {
      client_ = std::make_unique<test_http_client>(server_.port());
    }
    if (!server_.service().seeded_refresh_token().empty()) access_token_ = fresh_access_token();
  }

  sandbox_server& server() { return server_; }
  test_http_client& client() { return *client_; }
  const std::string& access_token() const { return access_token_; }
  const std::string& client_id() { return server_.service().client_id(); }
  const std::string& client_secret() { return server_.service().client_secret(); }
  const std::string& refresh_token() { return server_.service().seeded_refresh_token(); }
  std::string instance_id() { return server_.options().instances.front().instance_id; }
  std::string advertiser_id() { return server_.options().instances.front().entity_id; }
  std::string marketplace_id() { return server_.options().instances.front().marketplace_id; }

  http_result token_request(const std::vector<std::pair<std::string, std::string>>& fields) {
    return client_->request(verb::post, "/auth/o2/token", form_encode(fields), {},
                            "application/x-www-form-urlencoded");
  }

  std::string fresh_access_token(const std::string& refresh = {}) {
    auto result = token_request({{"grant_type", "refresh_token"},
                                 {"refresh_token", refresh.empty() ? refresh_token() : refresh},
                                 {"client_id", client_id()},
                                 {"client_secret", client_secret()}});
    EXPECT_EQ(result.status, 200) << result.body;
    return result.json().value("access_token", "");
  }

  test_http_client::header_list amc_headers(const std::string& token = {}) {
    return {{"Amazon-Advertising-API-ClientId", client_id()},
            {"Authorization", "Bearer " + (token.empty() ? access_token_ : token)},
            {"Amazon-Advertising-API-AdvertiserId", advertiser_id()},
            {"Amazon-Advertising-API-MarketplaceId", marketplace_id()}};
  }

  std::string reporting(const std::string& rest) { return "/amc/reporting/" + instance_id() + "/" + rest; }

  http_result amc(verb method, const std::string& target, const std::string& body = {}) {
    return client_->request(method, target, body, amc_headers());
  }
  http_result amc(verb method, const std::string& target, const json& body) {
    return client_->request(method, target, body.dump(), amc_headers());
  }

  http_result admin(verb method, const std::string& path, const json& body = json()) {
    return client_->request(method, "/_sandbox/" + path, body.is_null() ? std::string() : body.dump());
  }

  void advance_clock(double seconds) {
    auto result = admin(verb::post, "clock/advance", json{{"seconds", seconds}});
    ASSERT_EQ(result.status, 200) << result.body;
  }

  // Creates an ad-hoc execution and returns its id.
  std::string create_adhoc(const std::string& sql, const json& extra = json::object()) {
    json body = extra;
    body["workflow"] = {{"sqlQuery", sql}};
    auto result = amc(verb::post, reporting("workflowExecutions"), body);
    EXPECT_EQ(result.status, 200) << result.body;
    json execution = result.json();
    if (execution.contains("workflowExecution")) execution = execution["workflowExecution"];
    return execution.value("workflowExecutionId", "");
  }

  json get_execution(const std::string& id) {
    auto result = amc(verb::get, reporting("workflowExecutions/" + id));
    EXPECT_EQ(result.status, 200) << result.body;
    json execution = result.json();
    if (execution.contains("workflowExecution")) execution = execution["workflowExecution"];
    return execution;
  }

 private:
  sandbox_server server_;
  std::unique_ptr<test_http_client> client_;
  std::string access_token_;
};

}  // namespace amc::sandbox::testing
