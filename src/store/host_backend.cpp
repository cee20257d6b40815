#include "store/host_backend.hpp"

#include "common/error.hpp"

#include <fmt/format.h>

#include <thread>
#include <utility>

namespace amc::store {
namespace {

class host_lock final : public held_lock {
 public:
  host_lock(const host_functions& host, std::string name) : host_(host), name_(std::move(name)) {}
  ~host_lock() override {
    try {
      host_.unlock(name_);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a lock's release must not throw; the host lease expires
    }
  }
  host_lock(const host_lock&) = delete;
  host_lock& operator=(const host_lock&) = delete;

 private:
  const host_functions& host_;
  std::string name_;
};

}  // namespace

host_backend::host_backend(host_functions host, std::chrono::milliseconds update_lock_wait)
    : host_(std::move(host)), update_lock_wait_(update_lock_wait) {
  if (!host_.read || !host_.write || !host_.try_lock || !host_.unlock)
    throw error(errc::invalid_argument,
                "the host store needs all of read, write, try_lock and unlock");
}

host_backend::~host_backend() {
  if (host_.release) host_.release();
}

nlohmann::json host_backend::read() {
  const auto text = host_.read();
  if (!text || text->empty()) return nlohmann::json::object();
  auto document = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object())
    throw error(errc::store,
                fmt::format("the host store's document is not a JSON object ({} bytes); it was left "
                            "as it was: put back the value libamc wrote, or clear it and import the "
                            "credential again",
                            text->size()));
  return document;
}

void host_backend::update(const std::function<bool(nlohmann::json&)>& change) {
  const auto give_up = std::chrono::steady_clock::now() + update_lock_wait_;
  std::unique_ptr<held_lock> lock;
  while (!(lock = try_lock("document"))) {
    if (std::chrono::steady_clock::now() >= give_up)
      throw error(errc::store,
                  fmt::format("the host store's lock \"document\" stayed taken for {} ms; nothing "
                              "was changed: retry, or release a lock left by a process that died",
                              update_lock_wait_.count()));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto document = read();
  if (change(document)) host_.write(document.dump());
}

std::unique_ptr<held_lock> host_backend::try_lock(std::string_view name) {
  std::string owned{name};
  if (!host_.try_lock(owned)) return nullptr;
  return std::make_unique<host_lock>(host_, std::move(owned));
}

}  // namespace amc::store
