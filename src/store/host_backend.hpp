// A store backend whose document and locks the host keeps (amc_store_callbacks
// in amc.h), e.g. an Airflow Variable shared by every worker and triggerer.
// The document it sees is the same sealed JSON a file store holds: the host
// never gets a secret in clear.
#pragma once

#include "store/backend.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace amc::store {

// What the host gives. Each function may run on any thread, several at once
// (host threads in blocking calls, the client's I/O threads); a failure is
// reported by throwing amc::error (the C ABI adapter turns a host's status
// into one).
struct host_functions {
  // The stored document's JSON text; nullopt when nothing is stored yet.
  std::function<std::optional<std::string>()> read;
  // Replaces the whole document.
  std::function<void(const std::string& document)> write;
  // Takes the named lock, shared by every process of the host, without
  // waiting: true when taken.
  std::function<bool(const std::string& name)> try_lock;
  std::function<void(const std::string& name)> unlock;
  // Runs once, when the backend and the last lock it handed out are gone
  // (the host's user data). A lock can outlive the backend: a token refresh
  // suspended when the client is freed is unwound after the store, still
  // inside amc_client_free.
  std::function<void()> release;
};

class host_backend final : public store_backend {
 public:
  // `update_lock_wait`: how long update() waits for the host's "document" lock.
  explicit host_backend(host_functions host,
                        std::chrono::milliseconds update_lock_wait = std::chrono::seconds(10));
  ~host_backend() override;
  host_backend(const host_backend&) = delete;
  host_backend& operator=(const host_backend&) = delete;

  nlohmann::json read() override;
  // Read-modify-write under the host's lock named "document", waited for
  // until the earlier of `until` and update_lock_wait.
  using store_backend::update;
  void update(const std::function<bool(nlohmann::json&)>& change, const amc::deadline& until) override;
  std::unique_ptr<held_lock> try_lock(std::string_view name) override;
  std::string location() const override { return "host store callbacks"; }

 private:
  // Shared with the locks handed out; runs `release` when the last goes.
  struct shared_functions;
  std::shared_ptr<const shared_functions> host_;
  std::chrono::milliseconds update_lock_wait_;
};

}  // namespace amc::store
