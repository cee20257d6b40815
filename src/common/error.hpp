// Typed errors of the C++ core. Every failure inside libamc is an amc::error
// carrying an amc::errc (one-to-one with the C amc_status), a message written
// for the person who has to fix it, and optional structured detail. capi/
// turns it into a status code plus the thread-local last error.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <system_error>

namespace amc {

// Mirrors amc_status in include/amc/amc.h value for value (checked by a
// static_assert in capi/). Append-only, like the C enum.
enum class errc : int {
  ok = 0,
  invalid_argument = 1,
  config = 2,
  auth_required = 3,
  forbidden = 4,
  not_found = 5,
  conflict = 6,
  throttled = 7,
  remote = 8,
  network = 9,
  tls = 10,
  timeout = 11,
  cancelled = 12,
  execution_failed = 13,
  crypto = 14,
  store = 15,
  protocol = 16,
  forked = 17,
  internal = 18,
  out_of_memory = 19,
};

const std::error_category& amc_category() noexcept;

inline std::error_code make_error_code(errc code) noexcept {
  return {static_cast<int>(code), amc_category()};
}

// The exception type of the core. `detail` holds machine-readable extras
// (http_status, credential_id, retry_after_ms, ...) that end up in
// amc_last_error_json(); it must never hold a secret.
class error : public std::system_error {
 public:
  error(errc code, const std::string& message, nlohmann::json detail = nlohmann::json::object())
      : std::system_error(make_error_code(code), message), detail_(std::move(detail)), message_(message) {}

  errc code_value() const noexcept { return static_cast<errc>(code().value()); }
  const nlohmann::json& detail() const noexcept { return detail_; }

  // std::system_error appends ": <category message>" to what(); the message
  // alone is what users should read.
  const std::string& message() const noexcept { return message_; }

 private:
  nlohmann::json detail_;
  std::string message_;
};

}  // namespace amc

template <>
struct std::is_error_code_enum<amc::errc> : std::true_type {};
