// Where the store's one JSON document lives. The document holds only sealed
// (encrypted) records; backends never see a secret in clear.
//
// A backend gives all-or-nothing updates under an exclusive lock: the change
// function sees the latest document and either returns true (persist it) or
// false (leave storage untouched). A throw leaves storage untouched too.
#pragma once

#include "common/deadline.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <string>

namespace amc::store {

// An exclusive lock held until destroyed.
class held_lock {
 public:
  virtual ~held_lock() = default;
};

class store_backend {
 public:
  virtual ~store_backend() = default;

  // A named exclusive lock shared with every process using this store, for
  // work that must happen once across them (a token refresh). Nothing when
  // another holder has it now; never waits.
  virtual std::unique_ptr<held_lock> try_lock(std::string_view name) = 0;

  // The current document (an empty object when nothing is stored yet).
  virtual nlohmann::json read() = 0;

  // Runs `change` on the latest document under the exclusive lock (for the
  // file backend: across processes) and persists it atomically if it returns
  // true. A wait for the lock ends at `until` (the deadline of the call that
  // needs the change): errc::timeout naming its budget, nothing changed.
  virtual void update(const std::function<bool(nlohmann::json& document)>& change, const amc::deadline& until) = 0;
  void update(const std::function<bool(nlohmann::json& document)>& change) { update(change, amc::deadline{}); }

  // Where the data is, for messages ("memory", a file path).
  virtual std::string location() const = 0;
};

// Keeps the document in this process only.
class memory_backend final : public store_backend {
 public:
  nlohmann::json read() override;
  using store_backend::update;
  void update(const std::function<bool(nlohmann::json&)>& change, const amc::deadline& until) override;
  std::unique_ptr<held_lock> try_lock(std::string_view name) override;
  std::string location() const override { return "memory"; }

 private:
  std::mutex mutex_;
  nlohmann::json document_ = nlohmann::json::object();
  std::shared_ptr<std::mutex> named_locks_mutex_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::set<std::string, std::less<>>> held_names_ =
      std::make_shared<std::set<std::string, std::less<>>>();
};

// One JSON file, mode 0600, replaced atomically (temporary file, fsync,
// rename, directory fsync) under flock() on a sibling ".lock" file, so that
// processes sharing it never lose each other's updates and a crash at any
// point leaves either the old or the new file.
class file_backend final : public store_backend {
 public:
  explicit file_backend(std::filesystem::path path);

  nlohmann::json read() override;
  using store_backend::update;
  void update(const std::function<bool(nlohmann::json&)>& change, const amc::deadline& until) override;
  // flock(LOCK_NB) on "<path>.<hash of name>.lock".
  std::unique_ptr<held_lock> try_lock(std::string_view name) override;
  std::string location() const override { return path_.string(); }

 private:
  nlohmann::json load_unlocked() const;
  // The reader of load_unlocked, also used on what is about to be written.
  nlohmann::json parse_document(const std::string& text) const;
  void write_unlocked(const nlohmann::json& document) const;
  void remove_stale_temporaries() const;

  std::filesystem::path path_;
  // flock() on a sibling file, not on the data file: the data file is
  // replaced by rename(), and a lock on a replaced inode protects nothing.
  // Each call opens its own descriptor, so threads of one process exclude
  // each other through the same lock as processes do.
  std::filesystem::path lock_path_;
};

// The default file: $XDG_STATE_HOME/amc/credentials.json, else
// $HOME/.local/state/amc/credentials.json.
std::filesystem::path default_store_path();

}  // namespace amc::store
