// Certificates made at run time, so that no key ever sits in the
// repository: a test CA that issues leaves for chosen names (valid or
// expired, P-256 or RSA keys), and from it the throw-away chain of the
// sandbox's HTTPS mode (a CA and a server certificate for localhost and
// 127.0.0.1). The TLS tests of the HTTP client use the same CA.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace amc::sandbox {

struct leaf_options {
  std::vector<std::string> dns_names{"localhost"};
  std::vector<std::string> ip_addresses{"127.0.0.1"};
  bool expired = false;  // valid from 60 to 30 days ago (else from an hour ago for 30 days)
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

// A CA with a fresh P-256 key, named `name` (its common name), valid 30
// days. Throws std::runtime_error with OpenSSL's reason on failure.
class test_certificate_authority {
 public:
  explicit test_certificate_authority(const std::string& name);
  ~test_certificate_authority();
  test_certificate_authority(const test_certificate_authority&) = delete;
  test_certificate_authority& operator=(const test_certificate_authority&) = delete;

  const std::string& certificate_pem() const { return certificate_pem_; }
  // A server certificate for the names of `options`, signed by this CA.
  leaf_certificate issue(const leaf_options& options) const;

 private:
  struct keys;
  std::unique_ptr<keys> keys_;
  std::string certificate_pem_;
};

struct tls_material {
  std::string ca_certificate_pem;
  std::string server_certificate_pem;
  std::string server_private_key_pem;
};

// Generates a fresh CA ("amc-sandbox test CA") and a server certificate for
// localhost and 127.0.0.1 (P-256 keys, valid 30 days). Throws
// std::runtime_error with OpenSSL's reason on failure.
tls_material generate_tls_material();

// Writes ca.pem, server.pem and server.key (0600) into `directory`.
void write_tls_material(const tls_material& material, const std::filesystem::path& directory);

}  // namespace amc::sandbox
