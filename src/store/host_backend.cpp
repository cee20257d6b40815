#include "store/host_backend.hpp"

#include "common/error.hpp"
#include "store/document_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>
#include <utility>

namespace amc::store {

struct host_backend::shared_functions {
  explicit shared_functions(host_functions functions) : host(std::move(functions)) {}
  ~shared_functions() {
    if (host.release) host.release();
  }
  shared_functions(const shared_functions&) = delete;
  shared_functions& operator=(const shared_functions&) = delete;
  host_functions host;
};

namespace {

// Keeps the host's functions (and so its user data) alive until released.
class host_lock final : public held_lock {
 public:
  host_lock(std::shared_ptr<const void> keep, const host_functions& host, std::string name)
      : keep_(std::move(keep)), host_(host), name_(std::move(name)) {}
  ~host_lock() override {
    try {
      host_.unlock(name_);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a lock's release must not throw; the host lease expires
    }
  }
  host_lock(const host_lock&) = delete;
  host_lock& operator=(const host_lock&) = delete;

 private:
  std::shared_ptr<const void> keep_;  // owns host_
  const host_functions& host_;
  std::string name_;
};

}  // namespace

namespace {
// Checked before anything owns the functions: a refused backend never runs
// `release` (the caller still owns the host's user data then).
host_functions checked(host_functions host) {
  if (!host.read || !host.write || !host.try_lock || !host.unlock)
    throw error(errc::invalid_argument, "the host store needs all of read, write, try_lock and unlock");
  return host;
}
}  // namespace

host_backend::host_backend(host_functions host, std::chrono::milliseconds update_lock_wait)
    : host_(std::make_shared<const shared_functions>(checked(std::move(host)))),
      update_lock_wait_(update_lock_wait) {}

host_backend::~host_backend() = default;

namespace {
constexpr std::string_view host_document = "the host store's document";
constexpr std::string_view host_advice =
    "put back the value libamc wrote, or clear it and import the credential again";
}  // namespace

// The file store's reader and limits (store/document_text.hpp): a host's
// value is outside input like a file's.
nlohmann::json host_backend::read() {
  const auto text = host_->host.read();
  if (!text) return nlohmann::json::object();
  return parse_document_text(*text, host_document, host_advice);
}

void host_backend::update(const std::function<bool(nlohmann::json&)>& change, const amc::deadline& until) {
  const auto give_up = std::chrono::steady_clock::now() + update_lock_wait_;
  std::unique_ptr<held_lock> lock;
  while (!(lock = try_lock("document"))) {
    const auto now = std::chrono::steady_clock::now();
    if (until.passed(now))
      throw error(errc::timeout,
                  fmt::format("the host store's lock \"document\" was not granted within the call's timeout "
                              "of {} ms; nothing was changed: retry, or release a lock left by a process "
                              "that died",
                              until.budget.count()));
    if (now >= give_up)
      throw error(errc::store,
                  fmt::format("the host store's lock \"document\" stayed taken for {} ms; nothing "
                              "was changed: retry, or release a lock left by a process that died",
                              update_lock_wait_.count()));
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(10),
                                                                             until.time_left(now)));
  }
  auto document = read();
  if (change(document)) host_->host.write(document_text(document, host_document));
}

std::unique_ptr<held_lock> host_backend::try_lock(std::string_view name) {
  std::string owned{name};
  if (!host_->host.try_lock(owned)) return nullptr;
  return std::make_unique<host_lock>(host_, host_->host, std::move(owned));
}

}  // namespace amc::store
