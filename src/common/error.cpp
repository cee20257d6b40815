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
    }
    return "unknown error";
  }
};

}  // namespace

const std::error_category& amc_category() noexcept {
  static const amc_error_category category;
  return category;
}

}  // namespace amc
