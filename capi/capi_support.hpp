// The exception firewall of the C ABI and the helpers every entry point
// uses. Each extern "C" function runs its body inside amc::capi::guarded(),
// which is the only place where C++ exceptions are turned into amc_status
// codes and the thread-local last error.
#pragma once

#include "amc/amc.h"
#include "common/error.hpp"
#include "common/failpoint.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace amc::capi {

void clear_last_error() noexcept;
amc_status set_last_error(errc code, std::string_view message,
                          const nlohmann::json& detail = nlohmann::json::object()) noexcept;

// Maps whatever is in flight to a status (must be called inside a catch).
amc_status translate_current_exception(std::string_view function) noexcept;

// A copy of `text` the caller frees with amc_free().
char* to_c_string(std::string_view text);

// Throws invalid_argument naming the parameter when `pointer` is NULL.
void require(const void* pointer, std::string_view parameter);

// The catch-all of every entry point. `function` names the entry point in
// messages and is also a fail point name, so tests can make any entry point
// throw (see common/failpoint.hpp).
template <class Body>
amc_status guarded(std::string_view function, Body&& body) noexcept {
  try {
    clear_last_error();
    failpoint(function);
    body();
    return AMC_OK;
  } catch (...) {
    return translate_current_exception(function);
  }
}

}  // namespace amc::capi
