// The poller through the C ABI: amc_watch, amc_unwatch,
// amc_poller_next_event and amc_poller_stats are rows of the table
// (capi_table.hpp): decode the options and request (client/requests.hpp),
// call the watch door (client/watch.hpp), encode the answer. Written out by
// hand instead: amc_poller_new (it makes the handle every row checks; its
// config is decoded by client::decode_poller_config) and amc_poller_free.
#include "capi_table.hpp"

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

using amc::capi::as_is;
using amc::capi::guarded;
using amc::capi::no_out;
using amc::capi::no_request;
using amc::capi::require;

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

// amc_watch's arguments: the request (decoded by the door) and where its
// events go.
struct watch_arguments {
  amc::client::watch_request request;
  amc::client::watch_delivery delivery;
};

watch_arguments decode_watch_options(const amc_watch_options* options) {
  require(options, "options");
  check_options_size(options);
  return {amc::client::decode_watch_request(options->request_json),
          {options->callback, options->user, options->destroy_user}};
}

std::uint64_t watch(amc::client::watcher& core, const watch_arguments& arguments) {
  return core.watch(arguments.request, arguments.delivery);
}

void unwatch(amc::client::watcher& core, std::uint64_t watch_id) { core.unwatch(watch_id); }

std::chrono::milliseconds decode_event_timeout(int timeout_ms) {
  if (timeout_ms < 0) throw amc::error(amc::errc::invalid_argument, "timeout_ms must be 0 or more (milliseconds)");
  return std::chrono::milliseconds(timeout_ms);
}

// The next event, or errc::timeout when none came in time.
std::string next_event(amc::client::watcher& core, std::chrono::milliseconds timeout) {
  auto event = core.next_event(timeout);
  if (!event)
    throw amc::error(amc::errc::timeout, fmt::format("no poller event came within {} ms", timeout.count()),
                     {{"timeout_ms", timeout.count()}});
  return std::move(*event);
}

nlohmann::json stats(amc::client::watcher& core) { return core.stats(); }

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

AMC_ENTRY(amc_watch, (amc_poller * poller, const amc_watch_options* options, uint64_t* out_watch_id),
          checked(poller), out_watch_id, decode_watch_options(options), watch, as_is)

AMC_ENTRY(amc_unwatch, (amc_poller * poller, uint64_t watch_id), checked(poller), no_out, watch_id, unwatch, as_is)

AMC_ENTRY(amc_poller_next_event, (amc_poller * poller, int timeout_ms, char** out_event_json), checked(poller),
          out_event_json, decode_event_timeout(timeout_ms), next_event, as_is)

AMC_ENTRY(amc_poller_stats, (amc_poller * poller, char** out_json), checked(poller), out_json, no_request, stats,
          as_is)

}  // extern "C"
