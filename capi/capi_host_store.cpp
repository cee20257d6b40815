// amc_client_new_with_store: a client whose credential store document and
// locks the host keeps, through amc_store_callbacks (see amc.h).
#include "capi_support.hpp"

#include "client/client.hpp"
#include "client/host_store.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "capi_client.hpp"

namespace {

using amc::capi::guarded;
using amc::capi::require;

// The first version of amc_store_callbacks ends with destroy_user.
constexpr std::size_t callbacks_v1_size =
    offsetof(amc_store_callbacks, destroy_user) + sizeof(amc_store_callbacks::destroy_user);

// Runs destroy_user once unless handed over to the backend.
class user_guard {
 public:
  explicit user_guard(const amc_store_callbacks& callbacks)
      : destroy_(callbacks.destroy_user), user_(callbacks.user) {}
  ~user_guard() {
    if (destroy_ != nullptr) destroy_(user_);
  }
  user_guard(const user_guard&) = delete;
  user_guard& operator=(const user_guard&) = delete;
  void handed_over() { destroy_ = nullptr; }

 private:
  void (*destroy_)(void*);
  void* user_;
};

// Too small to hold destroy_user: refused before anything owns the user data.
void check_minimum_size(const amc_store_callbacks* callbacks) {
  if (callbacks->size < callbacks_v1_size)
    throw amc::error(amc::errc::invalid_argument,
                     fmt::format("amc_store_callbacks.size is {}, less than the {} bytes of its first "
                                 "version: set it to sizeof(amc_store_callbacks)",
                                 callbacks->size, callbacks_v1_size));
}

// A newer host's members: zero is fine, set ones are refused (after the
// user data is guarded: amc.h promises destroy_user runs on this error).
void check_unknown_members(const amc_store_callbacks* callbacks) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(callbacks);
  for (std::size_t at = callbacks_v1_size; at < callbacks->size; ++at)
    if (bytes[at] != 0)
      throw amc::error(amc::errc::invalid_argument,
                       fmt::format("amc_store_callbacks sets members after byte {} that this libamc ({}) "
                                   "does not know; update libamc or leave them zero",
                                   callbacks_v1_size, AMC_VERSION_STRING));
}

[[noreturn]] void host_failed(std::string_view callback, int result) {
  throw amc::error(amc::errc::store,
                   fmt::format("the host store's {} callback failed (it returned {}); nothing stored "
                               "was changed",
                               callback, result),
                   {{"callback", std::string{callback}}, {"host_status", result}});
}

void put_text(void* sink, const char* text) {
  auto& out = *static_cast<std::optional<std::string>*>(sink);
  out = std::string{text != nullptr ? text : ""};
}

amc::client::host_store_functions functions_of(const amc_store_callbacks& callbacks) {
  if (callbacks.read == nullptr || callbacks.write == nullptr || callbacks.try_lock == nullptr ||
      callbacks.unlock == nullptr)
    throw amc::error(amc::errc::invalid_argument,
                     "amc_store_callbacks needs read, write, try_lock and unlock (only destroy_user "
                     "may be NULL)");
  const amc_store_callbacks host = callbacks;  // the values are kept, not the struct
  amc::client::host_store_functions functions;
  functions.read = [host]() -> std::optional<std::string> {
    std::optional<std::string> text;
    if (const int result = host.read(host.user, put_text, &text); result != 0) host_failed("read", result);
    return text;
  };
  functions.write = [host](const std::string& document) {
    if (const int result = host.write(host.user, document.c_str()); result != 0) host_failed("write", result);
  };
  functions.try_lock = [host](const std::string& name) {
    const int result = host.try_lock(host.user, name.c_str());
    if (result < 0) host_failed("try_lock", result);
    return result > 0;
  };
  functions.unlock = [host](const std::string& name) { host.unlock(host.user, name.c_str()); };
  if (host.destroy_user != nullptr) functions.release = [host] { host.destroy_user(host.user); };
  return functions;
}

}  // namespace

extern "C" {

AMC_API amc_status amc_client_new_with_store(const char* config_json, const amc_store_callbacks* callbacks,
                                             amc_client** out_client) {
  return guarded("amc_client_new_with_store", [&] {
    require(callbacks, "callbacks");
    check_minimum_size(callbacks);
    user_guard user{*callbacks};
    check_unknown_members(callbacks);
    require(out_client, "out_client");
    auto functions = functions_of(*callbacks);
    auto handle = std::make_unique<amc_client>();
    user.handed_over();  // from here the door runs destroy_user, also when this call fails
    handle->core = amc::client::open_with_host_store(config_json, std::move(functions));
    *out_client = handle.release();
  });
}

}  // extern "C"
