// A client made through libamc.so and amc.h, logged in to the sandbox, for
// the C ABI tests of the client and the AMC calls.
#pragma once

#include "amc/amc.h"

#include "support/sandbox_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace amc::testing {

using nlohmann::json;

// A string the library returned, copied and freed.
inline std::string take(char* text) {
  std::string copy = text != nullptr ? text : "";
  amc_free(text);
  return copy;
}

class ClientCapi : public amc::testing::sandbox_fixture {
 protected:
  void configure(amc::sandbox::sandbox_options& options) override { options.time_scale = 2000; }
  void SetUp() override {
    sandbox_fixture::SetUp();
    config_ = client_config().dump();
    ASSERT_EQ(amc_client_new(config_.c_str(), &client_), AMC_OK) << amc_last_error();
    ASSERT_EQ(amc_client_set_log(client_, &ClientCapi::record_log, this, AMC_LOG_DEBUG), AMC_OK);
    refresh_token_ = new_grant();
    const json credential = {{"credential_id", "conn"}, {"refresh_token", refresh_token_}};
    ASSERT_EQ(amc_auth_import(client_, credential.dump().c_str()), AMC_OK) << amc_last_error();
    const auto& instance = server_->service().options().instances.front();
    instance_ = {{"instance_id", instance.instance_id},
                 {"advertiser_id", instance.entity_id},
                 {"marketplace_id", instance.marketplace_id}};
  }
  void TearDown() override {
    amc_client_free(client_);
    expect_no_secret_in_captured_text({refresh_token_, server_->service().client_secret(), fernet_key_});
    sandbox_fixture::TearDown();
  }
  static void record_log(int, const char* message, void* user) {
    static_cast<ClientCapi*>(user)->note_error(message);
  }
  // Calls an entry point, records its error message for the secret scan.
  amc_status call(amc_status status) {
    if (status != AMC_OK) note_error(amc_last_error());
    return status;
  }
  // An instance-level request as amc.h documents it, with `extra` merged in.
  json request(json extra = json::object()) {
    json body = {{"credential_id", "conn"}, {"instance", instance_}, {"timeout_ms", 30000}};
    body.merge_patch(extra);
    return body;
  }

  // Submits `execution` (AMC's CreateWorkflowExecutionRequest) and waits
  // until it SUCCEEDED; `amc_id` is then its AMC execution id. Call it
  // inside ASSERT_NO_FATAL_FAILURE.
  void run_to_success(const json& execution, std::string& amc_id) {
    char* out = nullptr;
    ASSERT_EQ(call(amc_execution_submit(client_, request({{"request", execution}}).dump().c_str(), &out)), AMC_OK)
        << amc_last_error();
    amc_id = json::parse(take(out))["amc_execution_id"];
    const auto wait = request({{"amc_execution_id", amc_id}, {"first_poll_ms", 50}, {"max_poll_ms", 100}});
    ASSERT_EQ(call(amc_execution_wait(client_, wait.dump().c_str(), nullptr, nullptr, nullptr, &out)), AMC_OK)
        << amc_last_error();
    amc_free(out);
  }

  std::string config_;
  amc_client* client_ = nullptr;
  std::string refresh_token_;
  json instance_;
};

}  // namespace amc::testing
