// Typed errors of the C++ core. Every failure inside libamc is an amc::error
// carrying an amc::errc (one-to-one with the C amc_status), a message written
// for the person who has to fix it, optional structured detail, and the
// typed facts callers decide on (how long the server asked to wait, the
// phase that failed). capi/ turns it into a status code plus the
// thread-local last error.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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
  adhoc_quota = 20,
};

const std::error_category& amc_category() noexcept;

inline std::error_code make_error_code(errc code) noexcept {
  return {static_cast<int>(code), amc_category()};
}

// Where a request failed, when it failed on its way to an answer: a phase of
// one attempt (src/net), or before any attempt could be sent (the deadline
// came first, or the client-side rate limiter would have waited past it).
enum class error_phase : std::uint8_t {
  none,         // not a transport failure, or no phase known
  before_send,  // the deadline passed before an attempt could be sent
  rate_limit,   // the client-side rate limiter would wait past the deadline
  pool_wait,    // no pooled connection became free in time
  resolve,
  connect,
  proxy,        // the HTTPS proxy's CONNECT
  handshake,    // TLS
  write,
  read_headers,
  read_body,
};

// The name amc_last_error_json() gives a phase ("read_headers", ...); "" for
// none.
std::string_view phase_name(error_phase phase) noexcept;

// The exception type of the core. `detail` holds machine-readable extras
// (http_status, credential_id, ...) that end up in amc_last_error_json(); it
// must never hold a secret, and no code decides anything on it. What code
// decides on is typed: retry_after() and phase(), which only capi/ writes
// into the JSON (as "retry_after_ms" and "phase").
class error : public std::system_error {
 public:
  error(errc code, const std::string& message, nlohmann::json detail = nlohmann::json::object())
      : std::system_error(make_error_code(code), message), detail_(std::move(detail)), message_(message) {}

  errc code_value() const noexcept { return static_cast<errc>(code().value()); }
  const nlohmann::json& detail() const noexcept { return detail_; }

  // std::system_error appends ": <category message>" to what(); the message
  // alone is what users should read.
  const std::string& message() const noexcept { return message_; }

  // How long the server asked to wait (its Retry-After, read by src/net),
  // when its answer had one.
  const std::optional<std::chrono::milliseconds>& retry_after() const noexcept { return retry_after_; }
  // The phase a transport failure happened in (none otherwise).
  error_phase phase() const noexcept { return phase_; }

  // Setters that chain on a temporary: throw error(...).at_phase(...).
  error& with_retry_after(std::optional<std::chrono::milliseconds> wait) & {
    retry_after_ = wait;
    return *this;
  }
  error&& with_retry_after(std::optional<std::chrono::milliseconds> wait) && {
    return std::move(with_retry_after(wait));
  }
  error& at_phase(error_phase where) & {
    phase_ = where;
    return *this;
  }
  error&& at_phase(error_phase where) && { return std::move(at_phase(where)); }
  // The typed fields of `cause`, for an error that says `cause` again in
  // other words (or with another code).
  error& with_fields_of(const error& cause) & {
    retry_after_ = cause.retry_after_;
    phase_ = cause.phase_;
    return *this;
  }
  error&& with_fields_of(const error& cause) && { return std::move(with_fields_of(cause)); }

 private:
  nlohmann::json detail_;
  std::string message_;
  std::optional<std::chrono::milliseconds> retry_after_;
  error_phase phase_ = error_phase::none;
};

}  // namespace amc

template <>
struct std::is_error_code_enum<amc::errc> : std::true_type {};
