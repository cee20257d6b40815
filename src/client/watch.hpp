// The watch door: the poller (src/poll) over one client, for hosts (the C
// ABI's amc_poller_* and amc_watch in capi/). Watches come in as typed
// requests (client/requests.hpp, decode_watch_request); the poller reads AMC
// only through this façade (poll_source: client::get_if_changed and
// client::list_async, the journal and the id rules), never around it.
//
// Events are the poller's JSON text (poll/poller.hpp); callbacks run on a
// client thread and must return quickly; when unwatch() returns, the watch's
// callback is not running (unless called from it) and will not run again.
#pragma once

#include "client/client.hpp"
#include "client/requests.hpp"
#include "poll/poller.hpp"
#include "poll/schedule.hpp"
#include "poll/status_source.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace amc::client {

// The poller's reads through this client's façade: what a poll::poller is
// made with.
poll::status_source poll_source(client& core);

// A poller config ({"first_interval_ms", …}, poll/schedule.hpp; NULL or ""
// for the defaults), decoded strictly: invalid_argument names the field.
poll::poll_settings decode_poller_config(const char* json_text);

// Where a watch's events go: a callback (nullptr: they wait for
// next_event()), its user data and the destructor run once when the watch
// ends (amc_watch_options).
struct watch_delivery {
  poll::event_callback callback = nullptr;
  void* user = nullptr;
  poll::user_destructor destroy_user = nullptr;
};

class watcher {
 public:
  watcher(client& core, poll::poll_settings settings);

  // Starts watching; the first read is due at once. invalid_argument (bad
  // ids), not_found (an execution_id that was never submitted); the user
  // destructor is not called then.
  std::uint64_t watch(const watch_request& request, watch_delivery delivery);
  // A request with a workflow_id: a watch of the workflow's runs (every new
  // execution, then its status changes; poll::poller::watch_workflow),
  // until unwatched. watch() calls it for such a request.
  std::uint64_t watch_workflow(const watch_request& request, watch_delivery delivery);
  // Ends a watch; not_found when it is over or never existed.
  void unwatch(std::uint64_t watch_id);
  // The next queued event, waiting at most `timeout`; nothing when none
  // came. Refused (invalid_argument) on a client thread, where waiting would
  // stall the client.
  std::optional<std::string> next_event(std::chrono::milliseconds timeout);
  // The poller's counters (poll::poller::stats).
  nlohmann::json stats() const;

 private:
  poll::poller poller_;
};

}  // namespace amc::client
