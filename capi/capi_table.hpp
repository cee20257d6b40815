// The table of the C ABI's entry points: each is one AMC_ENTRY row (name and
// C parameters, the handle, the out-param, the decode of its arguments, the
// call, the encode of the result), run the same way by run_entry: guard,
// check the handle and the out-param, decode, count the deadline from now,
// call, encode. Decoders and encoders live in src/client (the standalone
// store's in src/store); no rule of AMC, auth or the store lives in capi/.
//
// A row:
//   AMC_ENTRY(amc_workflow_get, (amc_client* client, const char* request_json, char** out_json),
//             checked(client), out_json, api::decode_workflow_get_request(request_json),
//             facade::workflow_get, as_is)
//  - the handle: an expression giving the core object (checked(client):
//    invalid_argument for NULL, forked in a child process), or no_handle;
//  - the out-param: named in the NULL message; no_out when there is none;
//  - the decode: an expression of the C parameters giving the typed request
//    (no_request when there is nothing to decode);
//  - the call: called as call(core, request, deadline, nullptr),
//    call(core, request, deadline), call(core, request), call(core) or
//    call(request), whichever it takes; the deadline is counted from now
//    with the request's timeout (amc::deadline::after(request.timeout));
//  - the encode: the result as what the out-param gets (JSON text, text, a
//    number); a call that returns nothing answers "{}" when there is an
//    out-param.
//
// Written out by hand, because a row would be forced (they decode no
// request, or make or free the handle the rows check): amc_client_new and
// amc_client_new_with_store (constructors; their configs are decoded by
// client/client_config.hpp, the host's callbacks unpacked with their size
// rules), amc_poller_new and amc_store_new (constructors), every *_free,
// amc_client_set_log (a callback setter), amc_cancel_token_new/_cancel
// (nothing to call in the core), and capi_core.cpp's and
// capi_support.cpp's versions, status names, amc_free and the last error.
#pragma once

#include "capi_support.hpp"
#include "common/deadline.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace amc::capi {

// An entry point without a handle, an out-param or a request.
struct no_handle_t {};
inline constexpr no_handle_t no_handle{};
struct no_out_t {};
inline constexpr no_out_t* no_out = nullptr;
struct no_request_t {};
inline constexpr no_request_t no_request{};

// Encoders every table shares: the result as it is (AMC's own JSON, text,
// a number), or nothing.
inline constexpr auto as_is = [](auto&& result) -> decltype(auto) { return std::forward<decltype(result)>(result); };

// What an out-param gets.
inline void put(char** out, const nlohmann::json& value) { *out = to_c_string(value.dump()); }
inline void put(char** out, const std::string& text) { *out = to_c_string(text); }
inline void put(std::uint64_t* out, std::uint64_t value) { *out = value; }

// A C string parameter that must not be NULL (a credential id, a name).
inline std::string_view required_text(const char* text, std::string_view parameter) {
  require(text, parameter);
  return text;
}

template <class Request>
amc::deadline deadline_of(const Request& request) {
  return amc::deadline::after(request.timeout);
}

// The call with what it takes (see the file comment).
template <class Core, class Request, class Call>
decltype(auto) call_with(Core& core, const Request& request, Call& call) {
  if constexpr (std::is_invocable_v<Call&, Core&, const Request&, amc::deadline, std::nullptr_t>)
    return call(core, request, deadline_of(request), nullptr);
  else if constexpr (std::is_invocable_v<Call&, Core&, const Request&, amc::deadline>)
    return call(core, request, deadline_of(request));
  else if constexpr (std::is_invocable_v<Call&, Core&, const Request&>)
    return call(core, request);
  else if constexpr (std::is_invocable_v<Call&, Core&>)
    return call(core);
  else
    return call(request);
}

// One entry point: guard, handle, out-param, decode, call, encode.
template <class CoreOf, class Out, class Decode, class Call, class Encode>
amc_status run_entry(std::string_view name, CoreOf core_of, Out* out, std::string_view out_name, Decode decode,
                     Call call, Encode encode) noexcept {
  return guarded(name, [&] {
    decltype(auto) core = core_of();
    constexpr bool has_out = !std::is_same_v<std::remove_cv_t<Out>, no_out_t>;
    if constexpr (has_out) require(out, out_name);
    const auto request = decode();
    if constexpr (std::is_void_v<decltype(call_with(core, request, call))>) {
      call_with(core, request, call);
      if constexpr (has_out) put(out, std::string("{}"));
    } else if constexpr (has_out) {
      put(out, encode(call_with(core, request, call)));
    } else {
      (void)call_with(core, request, call);
    }
  });
}

}  // namespace amc::capi

// One row of the table (see the file comment).
#define AMC_ENTRY(name, parameters, handle, out, decode, call, encode)                                  \
  AMC_API amc_status name parameters {                                                                  \
    return ::amc::capi::run_entry(                                                                      \
        #name, [&]() -> decltype(auto) { return handle; }, out, #out, [&] { return decode; }, call, encode); \
  }
