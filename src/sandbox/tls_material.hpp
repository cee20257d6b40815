// A throw-away certificate chain for the sandbox's HTTPS mode: a test CA and
// a server certificate for localhost and 127.0.0.1 signed by it, made with
// OpenSSL at start so no key ever sits in the repository.
#pragma once

#include <filesystem>
#include <string>

namespace amc::sandbox {

struct tls_material {
  std::string ca_certificate_pem;
  std::string server_certificate_pem;
  std::string server_private_key_pem;
};

// Generates a fresh CA and server certificate (P-256 keys, valid 30 days).
// Throws std::runtime_error with OpenSSL's reason on failure.
tls_material generate_tls_material();

// Writes ca.pem, server.pem and server.key (0600) into `directory`.
void write_tls_material(const tls_material& material, const std::filesystem::path& directory);

}  // namespace amc::sandbox
