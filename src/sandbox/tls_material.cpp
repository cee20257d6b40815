#include "sandbox/tls_material.hpp"

#include "sandbox/files.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace amc::sandbox {

namespace {

struct openssl_free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(X509* certificate) const { X509_free(certificate); }
  void operator()(BIO* bio) const { BIO_free(bio); }
  void operator()(X509_EXTENSION* extension) const { X509_EXTENSION_free(extension); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, openssl_free>;
using certificate_ptr = std::unique_ptr<X509, openssl_free>;
using bio_ptr = std::unique_ptr<BIO, openssl_free>;
using extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_free>;

[[noreturn]] void fail(const char* step) {
  char reason[256] = "unknown error";
  if (unsigned long code = ERR_get_error(); code != 0) ERR_error_string_n(code, reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error(std::string("generating the sandbox TLS chain failed at ") + step + ": " + reason);
}

void check(int result, const char* step) {
  if (result <= 0) fail(step);
}

key_ptr make_key(bool rsa = false) {
  key_ptr key(rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048))
                  : EVP_EC_gen("P-256"));
  if (!key) fail(rsa ? "EVP_PKEY_Q_keygen(RSA)" : "EVP_EC_gen");
  return key;
}

void add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  extension_ptr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  if (!extension) fail("X509V3_EXT_conf_nid");
  check(X509_add_ext(certificate, extension.get(), -1), "X509_add_ext");
}

const unsigned char* text(const std::string& value) {
  return reinterpret_cast<const unsigned char*>(value.c_str());
}

certificate_ptr make_certificate(EVP_PKEY* subject_key, const std::string& common_name, X509* issuer,
                                 EVP_PKEY* issuer_key, const leaf_options* leaf) {
  certificate_ptr certificate(X509_new());
  if (!certificate) fail("X509_new");
  check(X509_set_version(certificate.get(), 2), "X509_set_version");
  unsigned char serial_bytes[16];
  check(RAND_bytes(serial_bytes, sizeof serial_bytes), "RAND_bytes");
  serial_bytes[0] &= 0x7f;  // a positive serial
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  if (!serial) fail("BN_bin2bn");
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(certificate.get()));
  BN_free(serial);
  constexpr long day = 24 * 3600;
  if (leaf && leaf->expired) {
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -60 * day);
    X509_gmtime_adj(X509_getm_notAfter(certificate.get()), -30 * day);
  } else {
    // Back-dated an hour so that small clock differences do not matter.
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 30 * day);
  }
  check(X509_set_pubkey(certificate.get(), subject_key), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(certificate.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, text("libamc amc-sandbox"), -1, -1, 0), "O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, text(common_name), -1, -1, 0), "CN");
  X509* signer = issuer ? issuer : certificate.get();
  check(X509_set_issuer_name(certificate.get(), X509_get_subject_name(signer)), "X509_set_issuer_name");
  if (!leaf) {
    add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_extension(certificate.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(certificate.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(certificate.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_extension(certificate.get(), signer, NID_ext_key_usage, "serverAuth");
    std::string names;
    for (const auto& dns : leaf->dns_names) names += (names.empty() ? "DNS:" : ",DNS:") + dns;
    for (const auto& ip : leaf->ip_addresses) names += (names.empty() ? "IP:" : ",IP:") + ip;
    if (!names.empty()) add_extension(certificate.get(), signer, NID_subject_alt_name, names);
    add_extension(certificate.get(), signer, NID_subject_key_identifier, "hash");
    add_extension(certificate.get(), signer, NID_authority_key_identifier, "keyid:always");
  }
  check(X509_sign(certificate.get(), issuer_key, EVP_sha256()), "X509_sign");
  return certificate;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string pem_of(X509* certificate) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), certificate), "PEM_write_bio_X509");
  return bio_text(bio.get());
}

std::string private_key_pem(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "PEM_write_bio_PrivateKey");
  return bio_text(bio.get());
}

}  // namespace

struct test_certificate_authority::keys {
  key_ptr key;
  certificate_ptr certificate;
};

test_certificate_authority::test_certificate_authority(const std::string& name) : keys_(std::make_unique<keys>()) {
  keys_->key = make_key();
  keys_->certificate = make_certificate(keys_->key.get(), name, nullptr, keys_->key.get(), nullptr);
  certificate_pem_ = pem_of(keys_->certificate.get());
}

test_certificate_authority::~test_certificate_authority() = default;

leaf_certificate test_certificate_authority::issue(const leaf_options& options) const {
  key_ptr key = make_key(options.rsa_key);
  const std::string common_name = options.dns_names.empty() ? "test server" : options.dns_names.front();
  certificate_ptr leaf =
      make_certificate(key.get(), common_name, keys_->certificate.get(), keys_->key.get(), &options);
  return {pem_of(leaf.get()), private_key_pem(key.get())};
}

tls_material generate_tls_material() {
  test_certificate_authority ca("amc-sandbox test CA");
  leaf_certificate server = ca.issue(leaf_options{});
  return {ca.certificate_pem(), std::move(server.certificate_pem), std::move(server.private_key_pem)};
}

void write_tls_material(const tls_material& material, const std::filesystem::path& directory) {
  write_file_atomically(directory / "ca.pem", material.ca_certificate_pem, file_visibility::shared);
  write_file_atomically(directory / "server.pem", material.server_certificate_pem, file_visibility::shared);
  write_file_atomically(directory / "server.key", material.server_private_key_pem, file_visibility::owner_only);
}

}  // namespace amc::sandbox
