// The credential store through libamc.so and amc.h only, as a host sees it.
#include "amc/amc.h"

#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string>

namespace {

using amc::testing::generate_fernet_key;
using amc::testing::generate_secret;
using amc::testing::read_file;
using amc::testing::temporary_directory;

// Takes ownership of a string from libamc.
std::string take(char* text) {
  std::string copy = text != nullptr ? text : "";
  amc_free(text);
  return copy;
}

class StoreCapi : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = nlohmann::json{{"path", path()}, {"fernet_keys", key_}}.dump();
    ASSERT_EQ(amc_store_new(config_.c_str(), &store_), AMC_OK) << amc_last_error();
  }
  void TearDown() override { amc_store_free(store_); }
  std::string path() const { return (directory_.path() / "creds.json").string(); }

  amc_status put(const nlohmann::json& credential) {
    return amc_store_put_credential(store_, credential.dump().c_str());
  }

  temporary_directory directory_;
  std::string key_ = generate_fernet_key();
  std::string config_;
  amc_store* store_ = nullptr;
};

TEST_F(StoreCapi, RoundTripWithoutAndWithSecrets) {
  const auto refresh = generate_secret("Atzr|");
  ASSERT_EQ(put({{"credential_id", "conn"}, {"client_id", "amzn1.client"}, {"refresh_token", refresh},
                 {"access_token_expires_at", "2026-11-28T16:00:00Z"}}),
            AMC_OK)
      << amc_last_error();
  char* json = nullptr;
  ASSERT_EQ(amc_store_get_credential(store_, "conn", nullptr, &json), AMC_OK);
  const auto plain = nlohmann::json::parse(take(json));
  EXPECT_EQ(plain["client_id"], "amzn1.client");
  EXPECT_EQ(plain["state"], "active");
  EXPECT_EQ(plain["has_refresh_token"], true);
  EXPECT_EQ(plain["access_token_expires_at"], "2026-11-28T16:00:00Z");
  EXPECT_FALSE(plain.contains("refresh_token"));

  ASSERT_EQ(amc_store_get_credential(store_, "conn", "{\"include_secrets\": true}", &json), AMC_OK);
  EXPECT_TRUE(nlohmann::json::parse(take(json))["refresh_token"] == refresh);

  ASSERT_EQ(amc_store_list_credentials(store_, &json), AMC_OK);
  const auto listing = nlohmann::json::parse(take(json));
  ASSERT_EQ(listing["credentials"].size(), 1u);
  EXPECT_FALSE(listing["credentials"][0].contains("refresh_token"));

  ASSERT_EQ(amc_store_delete_credential(store_, "conn"), AMC_OK);
  EXPECT_EQ(amc_store_delete_credential(store_, "conn"), AMC_E_NOT_FOUND);
  EXPECT_NE(std::string(amc_last_error()).find("'conn'"), std::string::npos);
}

TEST_F(StoreCapi, MalformedRequestsAreRefusedWithMessagesAndChangeNothing) {
  const auto refresh = generate_secret("Atzr|");
  ASSERT_EQ(put({{"credential_id", "conn"}, {"client_id", "amzn1.client"}, {"refresh_token", refresh}}),
            AMC_OK);
  const auto before = read_file(path());

  const std::string leaked_secret = generate_secret("Atzr|");
  const std::string bad_json = "{\"credential_id\": \"conn\", \"refresh_token\": \"" + leaked_secret;
  EXPECT_EQ(amc_store_put_credential(store_, bad_json.c_str()), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("not valid JSON"), std::string::npos);
  EXPECT_EQ(std::string(amc_last_error()).find(leaked_secret), std::string::npos);
  EXPECT_EQ(std::string(amc_last_error_json()).find(leaked_secret), std::string::npos);

  EXPECT_EQ(put({{"credential_id", "conn"}, {"refresh_tokn", leaked_secret}}), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("'refresh_tokn'"), std::string::npos);
  EXPECT_EQ(std::string(amc_last_error()).find(leaked_secret), std::string::npos);

  EXPECT_EQ(put({{"credential_id", 7}}), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(put({{"credential_id", "conn"}, {"state", "sleeping"}}), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(put({{"credential_id", "conn"}, {"access_token_expires_at", "tomorrow"}}),
            AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(amc_store_put_credential(store_, "[]"), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(amc_store_put_credential(store_, nullptr), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(amc_store_put_credential(nullptr, "{}"), AMC_E_INVALID_ARGUMENT);
  EXPECT_STREQ(amc_last_error(), "store must not be NULL");

  char* json = nullptr;
  EXPECT_EQ(amc_store_get_credential(store_, nullptr, nullptr, &json), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(amc_store_get_credential(store_, "conn", "{\"include_secret\": true}", &json),
            AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(amc_store_get_credential(store_, "conn", nullptr, nullptr), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(amc_store_get_credential(store_, "nobody", nullptr, &json), AMC_E_NOT_FOUND);
  EXPECT_EQ(json, nullptr) << "out-parameters are written only on success";
  EXPECT_EQ(amc_store_rotate_keys(store_, nullptr), AMC_E_INVALID_ARGUMENT);

  EXPECT_EQ(read_file(path()), before);
}

TEST_F(StoreCapi, ErrorDetailAsJson) {
  char* json = nullptr;
  EXPECT_EQ(amc_store_get_credential(store_, "nobody", nullptr, &json), AMC_E_NOT_FOUND);
  const auto detail = nlohmann::json::parse(amc_last_error_json());
  EXPECT_EQ(detail["status"], "AMC_E_NOT_FOUND");
  EXPECT_EQ(detail["code"], AMC_E_NOT_FOUND);
  EXPECT_EQ(detail["credential_id"], "nobody");
  EXPECT_EQ(detail["message"], amc_last_error());
}

TEST_F(StoreCapi, QuarantineAndRecoveryThroughTheAbi) {
  ASSERT_EQ(put({{"credential_id", "conn"}, {"client_id", "amzn1.client"},
                 {"refresh_token", generate_secret("Atzr|")}}),
            AMC_OK);
  amc_store_free(store_);
  store_ = nullptr;

  const auto other_key = generate_fernet_key();
  amc_store* wrong = nullptr;
  const auto wrong_config = nlohmann::json{{"path", path()}, {"fernet_keys", other_key}}.dump();
  ASSERT_EQ(amc_store_new(wrong_config.c_str(), &wrong), AMC_OK);
  char* json = nullptr;
  ASSERT_EQ(amc_store_get_credential(wrong, "conn", nullptr, &json), AMC_OK);
  EXPECT_EQ(nlohmann::json::parse(take(json))["state"], "quarantined");
  EXPECT_EQ(amc_store_get_credential(wrong, "conn", "{\"include_secrets\":true}", &json), AMC_E_CRYPTO);
  EXPECT_NE(std::string(amc_last_error()).find("restore the previous key"), std::string::npos);
  EXPECT_EQ(std::string(amc_last_error()).find(other_key), std::string::npos);
  EXPECT_EQ(std::string(amc_last_error()).find(key_), std::string::npos);
  ASSERT_EQ(amc_store_rotate_keys(wrong, &json), AMC_OK);
  const auto report = nlohmann::json::parse(take(json));
  EXPECT_EQ(report["total"], 1);
  EXPECT_EQ(report["rotated"], 0);
  EXPECT_EQ(report["failed"][0]["credential_id"], "conn");
  amc_store_free(wrong);

  const auto both = nlohmann::json{{"path", path()}, {"fernet_keys", other_key + "," + key_}}.dump();
  ASSERT_EQ(amc_store_new(both.c_str(), &store_), AMC_OK);
  ASSERT_EQ(amc_store_rotate_keys(store_, &json), AMC_OK);
  EXPECT_EQ(nlohmann::json::parse(take(json))["rotated"], 1);
  ASSERT_EQ(amc_store_get_credential(store_, "conn", "{\"include_secrets\":true}", &json), AMC_OK);
  EXPECT_EQ(nlohmann::json::parse(take(json))["state"], "active");
}

TEST(StoreCapiOpen, NoKeyMeansConfigErrorWithAHint) {
  ::unsetenv("AMC_FERNET_KEYS");
  amc_store* store = nullptr;
  EXPECT_EQ(amc_store_new("{\"kind\": \"memory\"}", &store), AMC_E_CONFIG);
  EXPECT_EQ(store, nullptr);
  EXPECT_NE(std::string(amc_last_error()).find("AMC_FERNET_KEYS"), std::string::npos);
  EXPECT_EQ(amc_store_new("{\"kind\": \"memory\", \"fernet_keys\": \"not-a-key\"}", &store),
            AMC_E_CONFIG);
  EXPECT_EQ(std::string(amc_last_error()).find("not-a-key"), std::string::npos);
  EXPECT_EQ(amc_store_new("{\"kind\": \"memory\"", &store), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(amc_store_new("{}", nullptr), AMC_E_INVALID_ARGUMENT);
  amc_store_free(nullptr);  // a no-op
}

TEST(StoreCapiOpen, MemoryStoreFromTheEnvironmentKey) {
  const auto key = generate_fernet_key();
  ::setenv("AMC_FERNET_KEYS", key.c_str(), 1);
  amc_store* store = nullptr;
  ASSERT_EQ(amc_store_new("{\"kind\": \"memory\"}", &store), AMC_OK) << amc_last_error();
  EXPECT_EQ(amc_store_put_credential(
                store, "{\"credential_id\":\"m\",\"client_id\":\"c\",\"refresh_token\":\"Atzr|m\"}"),
            AMC_OK);
  amc_store_free(store);
  ::unsetenv("AMC_FERNET_KEYS");
}

TEST(Versions, HeaderAndLibraryAgree) {
  EXPECT_EQ(amc_version_number(), AMC_VERSION_NUMBER);
  EXPECT_STREQ(amc_version_string(), AMC_VERSION_STRING);
  EXPECT_EQ(amc_version_number() / 10000, AMC_VERSION_MAJOR);
  EXPECT_STREQ(amc_status_name(AMC_E_CRYPTO), "AMC_E_CRYPTO");
  EXPECT_STREQ(amc_status_name(static_cast<amc_status>(999)), "AMC_E_UNKNOWN");
  for (int code = 0; code <= AMC_E_OUT_OF_MEMORY; ++code)
    EXPECT_STRNE(amc_status_name(static_cast<amc_status>(code)), "AMC_E_UNKNOWN") << code;
}

}  // namespace
