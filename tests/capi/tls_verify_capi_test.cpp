// TLS peer verification switched off is loud, through amc.h as a host sees
// it: a WARNING reaches the log callback the host sets after creating the
// client, and the client's metrics carry the flag (issue 12 item 10).
#include "amc/amc.h"

#include "support/sandbox_fixture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using nlohmann::json;

class TlsVerifyCapi : public amc::testing::sandbox_fixture {
 protected:
  struct line {
    int level;
    std::string text;
  };
  static void record(int level, const char* message, void* user) {
    static_cast<std::vector<line>*>(user)->push_back({level, message});
  }
  // Creates a client with `changes` over the sandbox config, sets the log
  // callback (as a host can only do after creation), and returns its log
  // lines so far and its metrics.
  std::pair<std::vector<line>, json> create(const json& changes) {
    std::vector<line> lines;
    json metrics;
    amc_client* client = nullptr;
    const std::string config = client_config(changes).dump();
    EXPECT_EQ(amc_client_new(config.c_str(), &client), AMC_OK) << amc_last_error();
    if (client == nullptr) return {lines, metrics};
    EXPECT_EQ(amc_client_set_log(client, &TlsVerifyCapi::record, &lines, AMC_LOG_DEBUG), AMC_OK);
    char* text = nullptr;
    EXPECT_EQ(amc_client_metrics(client, &text), AMC_OK) << amc_last_error();
    if (text != nullptr) metrics = json::parse(text);
    amc_free(text);
    amc_client_free(client);
    return {lines, metrics};
  }
  static std::vector<line> tls_warnings(const std::vector<line>& lines) {
    std::vector<line> found;
    for (const auto& each : lines)
      if (each.text.find("verify_peer") != std::string::npos) found.push_back(each);
    return found;
  }
};

TEST_F(TlsVerifyCapi, VerificationOffWarnsAtCreationAndShowsInMetrics) {
  const auto [lines, metrics] = create({{"tls", {{"verify_peer", false}}}});
  const auto warnings = tls_warnings(lines);
  ASSERT_EQ(warnings.size(), 1u) << "one WARNING at creation";
  EXPECT_EQ(warnings[0].level, AMC_LOG_WARNING);
  EXPECT_NE(warnings[0].text.find("OFF"), std::string::npos) << warnings[0].text;
  EXPECT_EQ(metrics["http"]["tls"]["verify_peer"], false) << metrics.dump();
}

TEST_F(TlsVerifyCapi, DefaultVerificationIsQuietAndShowsInMetrics) {
  const auto [lines, metrics] = create(json::object());
  EXPECT_TRUE(tls_warnings(lines).empty());
  EXPECT_EQ(metrics["http"]["tls"]["verify_peer"], true) << metrics.dump();
}

}  // namespace
