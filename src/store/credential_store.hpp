// The credential store: credentials in, credentials out, with every secret
// sealed by MultiFernet before it reaches a backend.
//
// Quarantine: a record that no configured key decrypts is marked
// "quarantined" (its previous state remembered), left byte-for-byte as it
// was, and refused with errc::crypto on use. When a key that decrypts it is
// configured again, the next open (or key rotation) restores its state.
#pragma once

#include "crypto/fernet.hpp"
#include "store/backend.hpp"
#include "store/credential.hpp"

#include <memory>
#include <string>
#include <vector>

namespace amc::store {

struct rotation_failure {
  std::string credential_id;
  std::string reason;
};

struct rotation_report {
  std::size_t total = 0;
  std::size_t rotated = 0;
  std::vector<rotation_failure> failed;
};

// What reopening found: records quarantined now, records recovered now.
struct key_check_report {
  std::vector<std::string> newly_quarantined;
  std::vector<std::string> recovered;
};

class credential_store {
 public:
  credential_store(std::unique_ptr<store_backend> backend, crypto::multi_fernet keys);

  // Quarantines records the keys cannot decrypt and restores quarantined
  // ones they now can. Writes only when something changed.
  key_check_report check_keys();

  // Creates or updates a credential (see credential_update).
  void put(const credential_update& update);

  // Throws not_found for an unknown id; with secrets, throws crypto for a
  // quarantined record.
  credential_record get(std::string_view credential_id, bool include_secrets);

  // Every credential, without secrets, sorted by id.
  std::vector<credential_record> list();

  // False when there was no such credential.
  bool remove(std::string_view credential_id);

  rotation_report rotate_keys();

  std::string location() const { return backend_->location(); }

  // For other sections of the same document (the execution journal).
  store_backend& backend() { return *backend_; }

  // The lock that makes a token refresh of this credential happen once
  // across every process sharing the store. Nothing when someone holds it.
  std::unique_ptr<held_lock> try_lock_refresh(std::string_view credential_id) {
    return backend_->try_lock("refresh:" + std::string{credential_id});
  }

 private:
  std::unique_ptr<store_backend> backend_;
  crypto::multi_fernet keys_;
};

// The message every refusal of a quarantined record carries.
std::string quarantine_message(std::string_view credential_id);

}  // namespace amc::store
