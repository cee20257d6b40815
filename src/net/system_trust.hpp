// Where the system's trusted CA certificates are, for a client configured
// without tls.ca_file / tls.ca_directory. OpenSSL's own default is the
// OPENSSLDIR it was built with; a libamc whose OpenSSL is linked in
// statically (the Python wheel, built on Debian) carries Debian's
// /usr/lib/ssl, which RHEL or Amazon Linux lack. So, as well-kept clients
// do (Go's crypto/x509, curl's configure, Python's certifi-less ssl):
// SSL_CERT_FILE / SSL_CERT_DIR first, then OpenSSL's compiled default when
// it exists, then the bundle paths of the common distributions.
// Internal to src/net.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace amc::net::detail {

struct trust_locations {
  // Both empty: use OpenSSL's defaults (SSL_CTX_set_default_verify_paths).
  std::string file;       // a PEM bundle to load
  std::string directory;  // a hashed certificate directory to add
  // When nothing was found: every place looked at, for the error message.
  std::vector<std::string> tried;
  bool found = false;
};

// What the environment and this OpenSSL say (system_trust_inputs()) and the
// distribution paths to try, in order.
struct trust_inputs {
  std::string env_file;         // $SSL_CERT_FILE
  std::string env_directory;    // $SSL_CERT_DIR
  std::string openssl_file;     // X509_get_default_cert_file()
  std::string openssl_directory;  // X509_get_default_cert_dir()
  std::span<const char* const> bundle_files;
  std::span<const char* const> bundle_directories;
};

// The distribution bundle paths libamc tries (Debian/Ubuntu/Alpine's
// ca-certificates, RHEL/Fedora/Amazon Linux's ca-trust, SUSE's).
std::span<const char* const> distribution_bundle_files();
std::span<const char* const> distribution_bundle_directories();

// The inputs of this process: its environment and its OpenSSL.
trust_inputs system_trust_inputs();

// Decides where the trusted CAs are; touches only the file system (exists).
trust_locations find_system_trust(const trust_inputs& inputs);

}  // namespace amc::net::detail
