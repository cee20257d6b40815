#include "capi_support.hpp"

#include "common/text.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace amc::capi {
namespace {

// Per thread, so concurrent callers never see each other's errors.
struct last_error_slot {
  std::string message;
  std::string json = "{}";
};
thread_local last_error_slot last_error;

}  // namespace

void clear_last_error() noexcept {
  last_error.message.clear();
  // Assigning a short literal into an existing buffer does not allocate.
  last_error.json.assign("{}");
}

namespace {

// The one place where an error's typed fields become the keys amc.h
// documents: "phase" (a transport failure's phase) and "retry_after_ms"
// (whole milliseconds).
amc_status record_last_error(errc code, std::string_view message, const nlohmann::json& detail,
                             const error* typed) noexcept {
  const auto status = static_cast<amc_status>(code);
  try {
    nlohmann::json document = detail.is_object() ? detail : nlohmann::json::object();
    if (typed != nullptr) {
      if (typed->phase() != error_phase::none) document["phase"] = std::string(phase_name(typed->phase()));
      if (typed->retry_after()) document["retry_after_ms"] = typed->retry_after()->count();
    }
    document["status"] = amc_status_name(status);
    document["code"] = static_cast<int>(code);
    // The last guard: whatever a message quotes, hosts decode it as UTF-8.
    const auto text = escape_invalid_utf8(message);
    document["message"] = text;
    last_error.message.assign(text);
    last_error.json = document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (...) {
    // Out of memory while recording the error: keep the status, which is
    // always enough to decide what happened.
    last_error.message.clear();
    last_error.json.clear();
  }
  return status;
}

}  // namespace

amc_status set_last_error(errc code, std::string_view message, const nlohmann::json& detail) noexcept {
  return record_last_error(code, message, detail, nullptr);
}

amc_status translate_current_exception(std::string_view function) noexcept {
  try {
    throw;
  } catch (const error& problem) {
    return record_last_error(problem.code_value(), problem.message(), problem.detail(), &problem);
  } catch (const std::bad_alloc&) {
    return set_last_error(errc::out_of_memory, "out of memory");
  } catch (const nlohmann::json::exception& problem) {
    // nlohmann's messages can quote input text, which may hold a secret:
    // report only the kind of error.
    return set_last_error(errc::internal,
                          fmt::format("internal error in {}: JSON error {}; please report this "
                                      "bug",
                                      function, problem.id));
  } catch (const std::exception& problem) {
    return set_last_error(errc::internal, fmt::format("internal error in {}: {}; please report "
                                                      "this bug",
                                                      function, problem.what()));
  } catch (...) {
    return set_last_error(errc::internal,
                          fmt::format("internal error in {}: unknown exception; please report "
                                      "this bug",
                                      function));
  }
}

char* to_c_string(std::string_view text) {
  auto* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  return copy;
}

void require(const void* pointer, std::string_view parameter) {
  if (pointer == nullptr)
    throw error(errc::invalid_argument, fmt::format("{} must not be NULL", parameter));
}

}  // namespace amc::capi

extern "C" {

AMC_API const char* amc_last_error(void) { return amc::capi::last_error.message.c_str(); }

AMC_API const char* amc_last_error_json(void) {
  // Empty only when recording the error itself ran out of memory.
  return amc::capi::last_error.json.empty() ? "{}" : amc::capi::last_error.json.c_str();
}

}  // extern "C"
