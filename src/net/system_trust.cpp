#include "net/system_trust.hpp"

#include <openssl/x509.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace amc::net::detail {

namespace {

// The order of Go's crypto/x509 (root_linux.go): the first one found wins.
constexpr std::array<const char*, 6> bundle_files = {
    "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Gentoo, Arch, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL 6+, Amazon Linux
    "/etc/ssl/ca-bundle.pem",                             // openSUSE
    "/etc/pki/tls/cacert.pem",                            // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // CentOS, RHEL 7+
    "/etc/ssl/cert.pem",                                  // Alpine, macOS-like layouts
};
constexpr std::array<const char*, 3> bundle_directories = {
    "/etc/ssl/certs",      // SLES, openSUSE, Debian (hashed)
    "/etc/pki/tls/certs",  // Fedora, RHEL
    "/system/etc/security/cacerts",
};

bool is_file(const std::string& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_regular_file(path, ec);
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_directory(path, ec);
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read, never set, by libamc
  return value != nullptr ? value : "";
}

}  // namespace

std::span<const char* const> distribution_bundle_files() { return bundle_files; }
std::span<const char* const> distribution_bundle_directories() { return bundle_directories; }

trust_inputs system_trust_inputs() {
  return {environment(X509_get_default_cert_file_env()), environment(X509_get_default_cert_dir_env()),
          X509_get_default_cert_file(), X509_get_default_cert_dir(), bundle_files, bundle_directories};
}

trust_locations find_system_trust(const trust_inputs& inputs) {
  trust_locations where;
  // The user's word first, used as given (a wrong one fails loudly at load).
  if (!inputs.env_file.empty() || !inputs.env_directory.empty()) {
    where.file = inputs.env_file;
    where.directory = inputs.env_directory;
    where.found = true;
    return where;
  }
  // This OpenSSL's own places, when this machine has them (a shared
  // OpenSSL of the distribution always does).
  if (is_file(inputs.openssl_file) || is_directory(inputs.openssl_directory)) {
    where.found = true;  // both empty: OpenSSL's defaults
    return where;
  }
  where.tried = {inputs.openssl_file, inputs.openssl_directory};
  for (const char* file : inputs.bundle_files) {
    if (is_file(file)) {
      where.file = file;
      where.found = true;
      return where;
    }
    where.tried.emplace_back(file);
  }
  for (const char* directory : inputs.bundle_directories) {
    if (is_directory(directory)) {
      where.directory = directory;
      where.found = true;
      return where;
    }
    where.tried.emplace_back(directory);
  }
  return where;
}

}  // namespace amc::net::detail
