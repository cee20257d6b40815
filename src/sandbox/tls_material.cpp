#include "sandbox/tls_material.hpp"

#include "sandbox/files.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
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

key_ptr make_key() {
  key_ptr key(EVP_EC_gen("P-256"));
  if (!key) fail("EVP_EC_gen");
  return key;
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  extension_ptr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  if (!extension) fail("X509V3_EXT_conf_nid");
  check(X509_add_ext(certificate, extension.get(), -1), "X509_add_ext");
}

certificate_ptr make_certificate(EVP_PKEY* subject_key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
                                 bool is_ca) {
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
  // Back-dated an hour so that small clock differences do not matter.
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 30L * 24 * 3600);
  check(X509_set_pubkey(certificate.get(), subject_key), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(certificate.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("libamc amc-sandbox"),
                                   -1, -1, 0),
        "X509_NAME_add_entry_by_txt");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1,
                                   -1, 0),
        "X509_NAME_add_entry_by_txt");
  X509* signer = issuer ? issuer : certificate.get();
  check(X509_set_issuer_name(certificate.get(), X509_get_subject_name(signer)), "X509_set_issuer_name");
  if (is_ca) {
    add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_extension(certificate.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(certificate.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(certificate.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_extension(certificate.get(), signer, NID_ext_key_usage, "serverAuth");
    add_extension(certificate.get(), signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
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

std::string certificate_pem(X509* certificate) {
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

tls_material generate_tls_material() {
  key_ptr ca_key = make_key();
  certificate_ptr ca = make_certificate(ca_key.get(), "amc-sandbox test CA", nullptr, ca_key.get(), true);
  key_ptr server_key = make_key();
  certificate_ptr server = make_certificate(server_key.get(), "localhost", ca.get(), ca_key.get(), false);
  return {certificate_pem(ca.get()), certificate_pem(server.get()), private_key_pem(server_key.get())};
}

void write_tls_material(const tls_material& material, const std::filesystem::path& directory) {
  write_file_atomically(directory / "ca.pem", material.ca_certificate_pem, file_visibility::shared);
  write_file_atomically(directory / "server.pem", material.server_certificate_pem, file_visibility::shared);
  write_file_atomically(directory / "server.key", material.server_private_key_pem, file_visibility::owner_only);
}

}  // namespace amc::sandbox
