// Where a client without tls.ca_file finds the system's trusted CAs
// (src/net/system_trust.hpp): SSL_CERT_FILE / SSL_CERT_DIR, then OpenSSL's
// compiled default when the machine has it, then the distribution bundles
// (a statically linked OpenSSL built on Debian, run on RHEL or Amazon Linux,
// has no /usr/lib/ssl there).
#include "net/system_trust.hpp"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace amc::net::detail {
namespace {

namespace fs = std::filesystem;

class SystemTrust : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance();
    root_ = fs::temp_directory_path() /
            ("amc_system_trust_" + std::to_string(::getpid()) + "_" + test->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "etc/pki/tls/certs");
    fs::create_directories(root_ / "etc/ssl/certs");
    std::ofstream(root_ / "etc/pki/tls/certs/ca-bundle.crt") << "PEM";
    rhel_bundle_ = (root_ / "etc/pki/tls/certs/ca-bundle.crt").string();
    debian_bundle_ = (root_ / "etc/ssl/certs/ca-certificates.crt").string();  // not made: RHEL has none
    files_ = {debian_bundle_.c_str(), rhel_bundle_.c_str()};
    directory_ = (root_ / "etc/ssl/certs").string();
    directories_ = {directory_.c_str()};
  }
  void TearDown() override { fs::remove_all(root_); }

  // A machine without Debian's OPENSSLDIR (/usr/lib/ssl), as RHEL is.
  trust_inputs rhel_like() const {
    return {"", "", (root_ / "usr/lib/ssl/cert.pem").string(), (root_ / "usr/lib/ssl/certs").string(), files_,
            directories_};
  }

  fs::path root_;
  std::string rhel_bundle_, debian_bundle_, directory_;
  std::array<const char*, 2> files_{};
  std::array<const char*, 1> directories_{};
};

TEST_F(SystemTrust, TheEnvironmentWinsAndIsUsedAsGiven) {
  trust_inputs inputs = rhel_like();
  inputs.env_file = "/somewhere/bundle.pem";
  trust_locations where = find_system_trust(inputs);
  EXPECT_TRUE(where.found);
  EXPECT_EQ(where.file, "/somewhere/bundle.pem");
  EXPECT_EQ(where.directory, "");

  inputs.env_file.clear();
  inputs.env_directory = "/somewhere/certs";
  where = find_system_trust(inputs);
  EXPECT_TRUE(where.found);
  EXPECT_EQ(where.file, "");
  EXPECT_EQ(where.directory, "/somewhere/certs");
}

TEST_F(SystemTrust, OpenSslsOwnDefaultsWhenThisMachineHasThem) {
  trust_inputs inputs = rhel_like();
  inputs.openssl_directory = directory_;  // e.g. Debian's /usr/lib/ssl/certs
  const trust_locations where = find_system_trust(inputs);
  EXPECT_TRUE(where.found);
  EXPECT_EQ(where.file, "");
  EXPECT_EQ(where.directory, "");
}

TEST_F(SystemTrust, TheFirstDistributionBundleThatExists) {
  const trust_locations where = find_system_trust(rhel_like());
  EXPECT_TRUE(where.found);
  EXPECT_EQ(where.file, rhel_bundle_);
  EXPECT_EQ(where.directory, "");
}

TEST_F(SystemTrust, ADirectoryWhenNoBundleExists) {
  fs::remove(rhel_bundle_);
  const trust_locations where = find_system_trust(rhel_like());
  EXPECT_TRUE(where.found);
  EXPECT_EQ(where.file, "");
  EXPECT_EQ(where.directory, directory_);
}

TEST_F(SystemTrust, NothingFoundListsEveryPlaceLookedAt) {
  fs::remove_all(root_ / "etc");
  const trust_locations where = find_system_trust(rhel_like());
  EXPECT_FALSE(where.found);
  ASSERT_EQ(where.tried.size(), 5U);
  EXPECT_EQ(where.tried[2], debian_bundle_);
  EXPECT_EQ(where.tried[3], rhel_bundle_);
  EXPECT_EQ(where.tried[4], directory_);
}

TEST(SystemTrustPaths, TheCommonDistributionsAreCovered) {
  const auto files = distribution_bundle_files();
  const auto has = [&](std::string_view path) {
    for (const char* file : files)
      if (path == file) return true;
    return false;
  };
  EXPECT_TRUE(has("/etc/ssl/certs/ca-certificates.crt"));                 // Debian, Ubuntu
  EXPECT_TRUE(has("/etc/pki/tls/certs/ca-bundle.crt"));                   // RHEL 9, Amazon Linux 2023
  EXPECT_TRUE(has("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"));  // RHEL 7+
  EXPECT_FALSE(distribution_bundle_directories().empty());
}

}  // namespace
}  // namespace amc::net::detail
