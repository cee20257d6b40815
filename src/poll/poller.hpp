// The poller: many watched executions on the client's io_context, read on an
// adaptive schedule (see schedule.hpp), refreshed in batches through the list
// endpoint where that takes fewer requests, with a callback (or a queued
// event) on every status change and exactly one final event per watch.
//
// Memory: a watch is a fixed-size record (the AMC execution id kept as 16
// bytes when it is a UUID, the instance context interned and shared), one
// priority queue orders every watch's next read and one timer drives it: no
// timer, coroutine or std::function per watch.
//
// Its parts, each owning its data: watch_table.hpp (the watches, their ids,
// groups and due queue), batcher.hpp (list reads for a group of watches),
// event_queue.hpp (callbacks and next_event()), detection_latency.hpp;
// poller.cpp runs the reads and applies their outcomes.
//
// Events are JSON text:
//   {"event": "status", "watch_id", "amc_execution_id", "execution_id"
//    (when the watch named one), "status", "previous_status" (null at the
//    first read), "terminal": bool, "execution": {flat AMC execution}}
//   {"event": "error", "watch_id", "amc_execution_id", "execution_id",
//    "terminal": true, "error": {"code": amc_status value (5 = not found),
//    "reason": "not found", "message": what happened and what to do}}
// A watch of a workflow id (watch_workflow) sends, with "workflow_id" in
// place of "execution_id":
//   {"event": "new_execution", "watch_id", "workflow_id", "amc_execution_id",
//    "status", "previous_status": null, "terminal": false,
//    "execution_terminal": bool, "execution": {flat AMC execution}}
//   {"event": "status", … the same, "previous_status": the last one seen}
// and a final {"event": "error", "watch_id", "workflow_id", "terminal": true,
// "error"} when it cannot go on; "execution_terminal" says the execution
// ended (its last event), "terminal" the watch.
// "terminal": true comes exactly once per watch, last; the watch is then
// over. A final "error" is sent when reading cannot succeed by waiting: the
// execution does not exist (404 three reads in a row), access is denied
// (403), the credential needs re-authentication, or the request is invalid.
// Network failures, 5xx, timeouts and 429s never end a watch: it is read
// again later (429: after Retry-After, capped by the client, for every
// watch). A list read that does not finish (poll_settings::list_max_pages,
// list_timeout) is given up for single reads of its watches, logged.
//
// Callbacks run on a client thread, one at a time, and must return quickly.
// unwatch() may be called from any thread, also from inside a callback
// (for any watch, its own included): when it returns, no callback of that
// watch will start, and unless it was called from that watch's own callback,
// none is running; the user destructor has then run (or, from inside the
// watch's own callback, runs right after that callback returns).
#pragma once

#include "common/call_context.hpp"
#include "poll/schedule.hpp"
#include "poll/status_source.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace amc::poll {

using event_callback = void (*)(const char* event_json, void* user);
using user_destructor = void (*)(void* user);

struct watch_request {
  call_context context;          // credential and instance
  std::string amc_execution_id;  // AMC's id, or …
  std::string execution_id;      // … our journaled id (resolved at watch time)
  // AMC's createTime when the caller knows it (e.g. from submit): lets the
  // first read already be part of a batch. Otherwise the first read is a GET.
  std::string create_time;
  event_callback callback = nullptr;  // nullptr: events wait for next_event()
  void* user = nullptr;
  user_destructor destroy_user = nullptr;  // called once when the watch ends
};

// A watch of a workflow id: every new execution of the workflow, then each
// of its status changes (workflow_watches.hpp), until unwatched.
struct workflow_watch_request {
  call_context context;     // credential and instance
  std::string workflow_id;  // AMC's workflowId of a saved workflow
  // Executions created at or after this time are new (AMC's createTime,
  // e.g. "2026-11-28T15:26:01Z"); empty: from now on (this host's clock).
  std::string since;
  event_callback callback = nullptr;  // nullptr: events wait for next_event()
  void* user = nullptr;
  user_destructor destroy_user = nullptr;  // called once when the watch ends
};

class poller {
 public:
  poller(status_source source, poll_settings settings);
  // Ends every watch (their user destructors run here) and stops; waits for
  // a callback running on another thread. Must not run inside a callback.
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  // Starts watching; the first read is due at once. Throws invalid_argument
  // (bad ids or context), not_found (unknown journaled execution_id); the
  // user destructor is not called then.
  std::uint64_t watch(watch_request request);

  // Starts watching a workflow's runs; its first list is due at once. Throws
  // invalid_argument (bad workflow id, since or context); the user
  // destructor is not called then. The watch ends by unwatch(), or with a
  // final "error" event when reading cannot succeed by waiting.
  std::uint64_t watch_workflow(workflow_watch_request request);

  // Ends a watch; throws not_found when it is over or never existed.
  void unwatch(std::uint64_t watch_id);

  // The next queued event (watches without a callback), waiting at most
  // `timeout`; nothing when none came.
  std::optional<std::string> next_event(std::chrono::milliseconds timeout);

  // {"watched", "requests_sent", "get_requests", "unchanged_reads", "list_requests",
  //  "batched_reads", "executions_refreshed_by_lists", "throttles",
  //  "throttle_pauses", "list_fallbacks", "failed_reads", "status_events", "final_events", "in_flight",
  //  "queued_events", "detection_latency_ms": {"count", "p50", "p99",
  //  "buckets": [{"le_ms", "count"}, …, {"le_ms": null, "count"}]}}
  nlohmann::json stats() const;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace amc::poll
