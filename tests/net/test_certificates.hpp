// Certificates made at test time for the TLS tests of the HTTP client: a CA,
// leaves it signs for chosen names, expired or not. The sandbox has its own
// generator (src/sandbox/tls_material.hpp) that only makes a valid chain for
// localhost; these tests also need expired, wrong-host and untrusted ones.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace amc::net::testing {

struct leaf_options {
  std::vector<std::string> dns_names{"localhost"};
  std::vector<std::string> ip_addresses{"127.0.0.1"};
  bool expired = false;  // valid from 60 to 30 days ago
  // An RSA key instead of P-256: for a legacy server that offers only RSA
  // key exchange (TLS 1.0/1.1 with ECDHE needs SHA-1 signatures, which
  // OpenSSL 3 refuses at its default security level before the version
  // check could be what refuses it).
  bool rsa_key = false;
};

struct leaf_certificate {
  std::string certificate_pem;
  std::string private_key_pem;
};

class test_certificate_authority {
 public:
  explicit test_certificate_authority(const std::string& name);
  ~test_certificate_authority();
  test_certificate_authority(const test_certificate_authority&) = delete;
  test_certificate_authority& operator=(const test_certificate_authority&) = delete;

  const std::string& certificate_pem() const { return certificate_pem_; }
  leaf_certificate issue(const leaf_options& options) const;

 private:
  struct keys;
  std::unique_ptr<keys> keys_;
  std::string certificate_pem_;
};

}  // namespace amc::net::testing
