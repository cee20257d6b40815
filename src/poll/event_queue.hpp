// The poller's events on their way out: to a watch's callback, run one at a
// time on the thread that finished a read, or queued for next_event(). It
// owns both queues, knows whose callback is running on which thread (so
// that unwatch() and the poller's destructor can wait for it, and a callback
// can unwatch its own watch), and wakes next_event() callers.
//
// Guarded by the poller's mutex: every function is called with it held and
// the blocking ones take the lock to wait on.
#pragma once

#include "poll/watch_table.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace amc::poll {

struct pending_event {
  std::uint32_t slot;
  std::uint32_t generation;
  bool final;
  std::string json;
  // A queued final event carries the ended watch's destructor: next_event()
  // runs it before handing the event out.
  user_destructor destroy_user = nullptr;
  void* user = nullptr;
};

class event_queue {
 public:
  // An event for the callback of its watch.
  void push_for_callback(pending_event event) { callback_events_.push_back(std::move(event)); }
  // An event for next_event(); wakes a caller waiting there.
  void push_for_next_event(pending_event event) {
    queued_events_.push_back(std::move(event));
    changed_.notify_all();
  }

  // Runs queued callbacks, one at a time, on the calling thread (a client
  // thread), unless another thread is already doing so. A final event's
  // watch is released from `watches` (and its user destructor run) after its
  // callback returned, as is a watch unwatched from inside its own callback.
  void deliver(std::unique_lock<std::mutex>& lock, watch_table& watches);

  // For unwatch(): drops the watch's queued events, then waits for its
  // callback if one is running on another thread. False when called from
  // inside that callback: deliver() ends the watch when the callback returns.
  bool forget(std::unique_lock<std::mutex>& lock, std::uint32_t slot, std::uint32_t generation);

  // The next event queued for next_event(), waiting at most `timeout`;
  // nothing when none came or the poller is stopping.
  std::optional<pending_event> next(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds timeout);

  // No callback starts any more; waits for one running on another thread,
  // and wakes next_event() callers.
  void stop(std::unique_lock<std::mutex>& lock);
  // Drops every event; the user destructors carried by queued final events
  // go to `destroy` (to be run without the lock).
  void clear(std::vector<std::pair<user_destructor, void*>>& destroy);

  std::size_t queued() const { return queued_events_.size(); }

 private:
  std::condition_variable changed_;  // events queued, a callback finished, stopping
  std::deque<pending_event> callback_events_;
  std::deque<pending_event> queued_events_;
  bool stopping_ = false;
  bool delivering_ = false;
  std::thread::id delivering_thread_;
  std::uint32_t running_slot_ = none;
  std::uint32_t running_generation_ = 0;
  bool destroy_after_callback_ = false;
};

}  // namespace amc::poll
