#include "common/error.hpp"

namespace amc {
namespace {

class amc_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "amc"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok: return "success";
      case errc::invalid_argument: return "invalid argument";
      case errc::config: return "configuration error";
      case errc::auth_required: return "authentication required";
      case errc::forbidden: return "forbidden";
      case errc::not_found: return "not found";
      case errc::conflict: return "conflict";
      case errc::throttled: return "throttled";
      case errc::remote: return "remote service error";
      case errc::network: return "network error";
      case errc::tls: return "TLS error";
      case errc::timeout: return "timeout";
      case errc::cancelled: return "cancelled";
      case errc::execution_failed: return "execution failed";
      case errc::crypto: return "cryptographic error";
      case errc::store: return "store error";
      case errc::protocol: return "protocol error";
      case errc::forked: return "used after fork";
      case errc::internal: return "internal error";
      case errc::out_of_memory: return "out of memory";
      case errc::adhoc_quota: return "ad-hoc quota used up";
    }
    return "unknown error";
  }
};

}  // namespace

std::string_view phase_name(error_phase phase) noexcept {
  switch (phase) {
    case error_phase::none: return "";
    case error_phase::before_send: return "before_send";
    case error_phase::rate_limit: return "rate_limit";
    case error_phase::pool_wait: return "pool_wait";
    case error_phase::resolve: return "resolve";
    case error_phase::connect: return "connect";
    case error_phase::proxy: return "proxy";
    case error_phase::handshake: return "handshake";
    case error_phase::write: return "write";
    case error_phase::read_headers: return "read_headers";
    case error_phase::read_body: return "read_body";
  }
  return "";
}

const std::error_category& amc_category() noexcept {
  static const amc_error_category category;
  return category;
}

}  // namespace amc
