// The poller through the C ABI: guard, decode the options and request
// (client/requests.hpp), call the watch door (client/watch.hpp), encode the
// answer.
#include "capi_support.hpp"

#include "client/client.hpp"
#include "client/requests.hpp"
#include "client/watch.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <memory>

#include "capi_client.hpp"

struct amc_poller {
  amc_client* client = nullptr;
  std::unique_ptr<amc::client::watcher> core;
};

namespace {

using amc::capi::guarded;
using amc::capi::require;
using amc::capi::to_c_string;
using nlohmann::json;

// The first version of amc_watch_options ends with destroy_user.
constexpr std::size_t watch_options_v1_size =
    offsetof(amc_watch_options, destroy_user) + sizeof(amc_watch_options::destroy_user);

amc::client::watcher& checked(amc_poller* handle) {
  require(handle, "poller");
  handle->client->core->check_process();
  return *handle->core;
}

// A newer header may pass a larger struct; its extra members must be unset
// (zero), or the caller relies on something this library does not do.
void check_options_size(const amc_watch_options* options) {
  if (options->size < watch_options_v1_size)
    throw amc::error(amc::errc::invalid_argument,
                     fmt::format("amc_watch_options.size is {}, less than the {} bytes of its first version: set "
                                 "it to sizeof(amc_watch_options)",
                                 options->size, watch_options_v1_size));
  const auto* bytes = reinterpret_cast<const unsigned char*>(options);
  for (std::size_t at = watch_options_v1_size; at < options->size; ++at)
    if (bytes[at] != 0)
      throw amc::error(amc::errc::invalid_argument,
                       fmt::format("amc_watch_options sets members after byte {} that this libamc ({}) does not "
                                   "know; update libamc or leave them zero",
                                   watch_options_v1_size, AMC_VERSION_STRING));
}

}  // namespace

extern "C" {

AMC_API amc_status amc_poller_new(amc_client* client, const char* config_json, amc_poller** out_poller) {
  return guarded("amc_poller_new", [&] {
    require(client, "client");
    require(out_poller, "out_poller");
    client->core->check_process();
    auto handle = std::make_unique<amc_poller>();
    handle->client = client;
    handle->core =
        std::make_unique<amc::client::watcher>(*client->core, amc::client::decode_poller_config(config_json));
    *out_poller = handle.release();
  });
}

AMC_API void amc_poller_free(amc_poller* poller) {
  if (poller == nullptr) return;
  try {
    poller->client->core->check_process();
  } catch (...) {
    // In a forked child the client's threads do not exist: nothing can be
    // waited for or stopped there, so the core is left as it is.
    (void)poller->core.release();
  }
  delete poller;
}

AMC_API amc_status amc_watch(amc_poller* poller, const amc_watch_options* options, uint64_t* out_watch_id) {
  return guarded("amc_watch", [&] {
    auto& core = checked(poller);
    require(options, "options");
    require(out_watch_id, "out_watch_id");
    check_options_size(options);
    *out_watch_id = core.watch(amc::client::decode_watch_request(options->request_json),
                               {options->callback, options->user, options->destroy_user});
  });
}

AMC_API amc_status amc_unwatch(amc_poller* poller, uint64_t watch_id) {
  return guarded("amc_unwatch", [&] { checked(poller).unwatch(watch_id); });
}

AMC_API amc_status amc_poller_next_event(amc_poller* poller, int timeout_ms, char** out_event_json) {
  return guarded("amc_poller_next_event", [&] {
    auto& core = checked(poller);
    require(out_event_json, "out_event_json");
    if (timeout_ms < 0)
      throw amc::error(amc::errc::invalid_argument, "timeout_ms must be 0 or more (milliseconds)");
    auto event = core.next_event(std::chrono::milliseconds(timeout_ms));
    if (!event)
      throw amc::error(amc::errc::timeout, fmt::format("no poller event came within {} ms", timeout_ms),
                       {{"timeout_ms", timeout_ms}});
    *out_event_json = to_c_string(*event);
  });
}

AMC_API amc_status amc_poller_stats(amc_poller* poller, char** out_json) {
  return guarded("amc_poller_stats", [&] {
    auto& core = checked(poller);
    require(out_json, "out_json");
    *out_json = to_c_string(core.stats().dump());
  });
}

}  // extern "C"
