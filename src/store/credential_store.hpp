// The credential store: credentials in, credentials out, with every secret
// sealed by MultiFernet before it reaches a backend.
//
// Quarantine is how a process sees a record that none of its keys decrypts:
// list() and get() show it as "quarantined", and a use of its secrets is
// refused with errc::crypto. It is never written: processes with different
// key lists (a rolling key change across workers) share one file, and the
// record stays byte-for-byte as it was for those whose keys read it. Reading
// (opening, list, get) never writes; only put, remove and rotate_keys do,
// and none of them changes a record this process cannot decrypt except a
// put that brings a new refresh token (re-authentication).
#pragma once

#include "crypto/fernet.hpp"
#include "store/backend.hpp"
#include "store/credential.hpp"

#include <atomic>
#include <cstdint>
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

class credential_store {
 public:
  credential_store(std::unique_ptr<store_backend> backend, crypto::multi_fernet keys);

  // Throws errc::store when the backend holds something that is not a
  // libamc store this libamc can read (not JSON, another format, a newer
  // version). Reads only.
  void check_readable();

  // Creates or updates a credential (see credential_update).
  void put(const credential_update& update);

  // Throws not_found for an unknown id; with secrets, throws crypto for a
  // quarantined record. Never writes.
  credential_record get(std::string_view credential_id, bool include_secrets);

  // Every credential, without secrets, sorted by id, as this process sees
  // it (quarantined where its keys do not decrypt). Never writes.
  std::vector<credential_record> list();

  // False when there was no such credential.
  bool remove(std::string_view credential_id);

  rotation_report rotate_keys();

  std::string location() const { return backend_->location(); }

  // Bumped after every put, remove and key rotation through this object
  // (also one that failed part-way): a reader that noted the generation
  // before a get() knows the record it read is still what this process
  // last wrote when the generation has not moved since. Changes made by
  // other processes (or other store objects) do not move it.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // For other sections of the same document (the execution journal).
  store_backend& backend() { return *backend_; }

  // The lock that makes a token refresh of this credential happen once
  // across every process sharing the store. Nothing when someone holds it.
  std::unique_ptr<held_lock> try_lock_refresh(std::string_view credential_id) {
    return backend_->try_lock("refresh:" + std::string{credential_id});
  }

 private:
  struct generation_bump;
  std::unique_ptr<store_backend> backend_;
  crypto::multi_fernet keys_;
  std::atomic<std::uint64_t> generation_{0};
};

// The message every refusal of a quarantined record carries.
std::string quarantine_message(std::string_view credential_id);

}  // namespace amc::store
