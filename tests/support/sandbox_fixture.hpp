// A running amc-sandbox (HTTPS, its own CA) and a libamc client configured
// against it, for integration tests of the layers above the network.
#pragma once

#include "client/client.hpp"
// The tests of the layers below the façade reach a client's components.
#include "client/internals.hpp"
#include "sandbox/server.hpp"
#include "sandbox/service.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace amc::testing {

class sandbox_fixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Options are set before the server starts: override to change them.
  virtual void configure(sandbox::sandbox_options& options) { (void)options; }

  // The AMC endpoint of the client config: the sandbox, or the
  // spec-validating proxy in front of it when AMC_SPEC_PROXY is set.
  std::string amc_endpoint() const;
  // The client config for this sandbox; `changes` are merged over it.
  nlohmann::json client_config(const nlohmann::json& changes = nlohmann::json::object()) const;
  std::unique_ptr<client::client> make_client(const nlohmann::json& changes = nlohmann::json::object());

  // An admin API call, in-process: e.g. admin(post, "/_sandbox/grants", {}).
  nlohmann::json admin(boost::beast::http::verb method, const std::string& path,
                       const nlohmann::json& body = nlohmann::json::object());
  // How many requests of one operation ("lwaToken", "getWorkflowExecution"…)
  // the sandbox has answered.
  long long requests_of(const std::string& operation);

  // A fresh LwA grant at the sandbox: its refresh token.
  std::string new_grant();
  // Stores `credential_id` for a fresh grant in the client's store.
  void add_credential(client::client& client, const std::string& credential_id = "conn");

  // Every log line every client of this fixture produced (already redacted
  // by libamc), and every error message the test recorded with note_error.
  std::vector<std::string> captured_text() const;
  // The log lines alone, each with its level.
  struct log_line {
    log_level level;
    std::string text;
  };
  std::vector<log_line> captured_log() const;
  void note_error(const std::string& message);
  // Fails the test if any captured text holds one of the secrets.
  void expect_no_secret_in_captured_text(const std::vector<std::string>& secrets) const;

  temporary_directory directory_;
  std::string fernet_key_ = generate_fernet_key();
  std::unique_ptr<sandbox::sandbox_server> server_;
  mutable std::mutex captured_mutex_;
  std::vector<std::string> captured_;
  std::vector<log_line> captured_log_;
};

}  // namespace amc::testing
