// Versions, status names, the last error and memory: the entry points every
// host uses before anything else.
#include "capi_support.hpp"

#include <cstdlib>

// The C enum and the C++ errc must agree value for value.
static_assert(AMC_OK == static_cast<int>(amc::errc::ok));
static_assert(AMC_E_INVALID_ARGUMENT == static_cast<int>(amc::errc::invalid_argument));
static_assert(AMC_E_CONFIG == static_cast<int>(amc::errc::config));
static_assert(AMC_E_AUTH_REQUIRED == static_cast<int>(amc::errc::auth_required));
static_assert(AMC_E_FORBIDDEN == static_cast<int>(amc::errc::forbidden));
static_assert(AMC_E_NOT_FOUND == static_cast<int>(amc::errc::not_found));
static_assert(AMC_E_CONFLICT == static_cast<int>(amc::errc::conflict));
static_assert(AMC_E_THROTTLED == static_cast<int>(amc::errc::throttled));
static_assert(AMC_E_REMOTE == static_cast<int>(amc::errc::remote));
static_assert(AMC_E_NETWORK == static_cast<int>(amc::errc::network));
static_assert(AMC_E_TLS == static_cast<int>(amc::errc::tls));
static_assert(AMC_E_TIMEOUT == static_cast<int>(amc::errc::timeout));
static_assert(AMC_E_CANCELLED == static_cast<int>(amc::errc::cancelled));
static_assert(AMC_E_EXECUTION_FAILED == static_cast<int>(amc::errc::execution_failed));
static_assert(AMC_E_CRYPTO == static_cast<int>(amc::errc::crypto));
static_assert(AMC_E_STORE == static_cast<int>(amc::errc::store));
static_assert(AMC_E_PROTOCOL == static_cast<int>(amc::errc::protocol));
static_assert(AMC_E_FORKED == static_cast<int>(amc::errc::forked));
static_assert(AMC_E_INTERNAL == static_cast<int>(amc::errc::internal));
static_assert(AMC_E_OUT_OF_MEMORY == static_cast<int>(amc::errc::out_of_memory));
static_assert(AMC_E_ADHOC_QUOTA == static_cast<int>(amc::errc::adhoc_quota));

extern "C" {

AMC_API int amc_version_number(void) { return AMC_VERSION_NUMBER; }

AMC_API const char* amc_version_string(void) { return AMC_VERSION_STRING; }

AMC_API const char* amc_status_name(amc_status status) {
  switch (status) {
    case AMC_OK: return "AMC_OK";
    case AMC_E_INVALID_ARGUMENT: return "AMC_E_INVALID_ARGUMENT";
    case AMC_E_CONFIG: return "AMC_E_CONFIG";
    case AMC_E_AUTH_REQUIRED: return "AMC_E_AUTH_REQUIRED";
    case AMC_E_FORBIDDEN: return "AMC_E_FORBIDDEN";
    case AMC_E_NOT_FOUND: return "AMC_E_NOT_FOUND";
    case AMC_E_CONFLICT: return "AMC_E_CONFLICT";
    case AMC_E_THROTTLED: return "AMC_E_THROTTLED";
    case AMC_E_REMOTE: return "AMC_E_REMOTE";
    case AMC_E_NETWORK: return "AMC_E_NETWORK";
    case AMC_E_TLS: return "AMC_E_TLS";
    case AMC_E_TIMEOUT: return "AMC_E_TIMEOUT";
    case AMC_E_CANCELLED: return "AMC_E_CANCELLED";
    case AMC_E_EXECUTION_FAILED: return "AMC_E_EXECUTION_FAILED";
    case AMC_E_CRYPTO: return "AMC_E_CRYPTO";
    case AMC_E_STORE: return "AMC_E_STORE";
    case AMC_E_PROTOCOL: return "AMC_E_PROTOCOL";
    case AMC_E_FORKED: return "AMC_E_FORKED";
    case AMC_E_INTERNAL: return "AMC_E_INTERNAL";
    case AMC_E_OUT_OF_MEMORY: return "AMC_E_OUT_OF_MEMORY";
    case AMC_E_ADHOC_QUOTA: return "AMC_E_ADHOC_QUOTA";
  }
  return "AMC_E_UNKNOWN";
}

AMC_API void amc_free(void* pointer) { std::free(pointer); }

}  // extern "C"
