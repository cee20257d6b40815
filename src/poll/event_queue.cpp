#include "poll/event_queue.hpp"

#include <algorithm>

namespace amc::poll {

void event_queue::deliver(std::unique_lock<std::mutex>& lock, watch_table& watches) {
  if (delivering_) return;
  delivering_ = true;
  delivering_thread_ = std::this_thread::get_id();
  while (!callback_events_.empty() && !stopping_) {
    pending_event event = std::move(callback_events_.front());
    callback_events_.pop_front();
    if (!watches.is_current(event.slot, event.generation)) continue;
    const auto& slot = watches.slot(event.slot);
    running_slot_ = event.slot;
    running_generation_ = event.generation;
    destroy_after_callback_ = false;
    const auto callback = slot.callback;
    void* const user = slot.user;
    const auto destroy_user = slot.destroy_user;
    lock.unlock();
    callback(event.json.c_str(), user);
    lock.lock();
    running_slot_ = none;
    const bool unwatched_inside = destroy_after_callback_;
    destroy_after_callback_ = false;
    // (Looked up again: another thread may have grown the table meanwhile.)
    const bool still_ours = watches.is_current(event.slot, event.generation);
    if (unwatched_inside || (event.final && still_ours)) {
      watches.release(event.slot);
      if (destroy_user != nullptr) {
        lock.unlock();
        destroy_user(user);
        lock.lock();
      }
    }
    changed_.notify_all();
  }
  delivering_ = false;
  changed_.notify_all();
}

bool event_queue::forget(std::unique_lock<std::mutex>& lock, std::uint32_t slot, std::uint32_t generation) {
  const auto of_the_watch = [&](const pending_event& event) {
    return event.slot == slot && event.generation == generation;
  };
  std::erase_if(callback_events_, of_the_watch);
  std::erase_if(queued_events_, of_the_watch);
  const auto running = [&] { return running_slot_ == slot && running_generation_ == generation; };
  if (running()) {
    if (delivering_thread_ == std::this_thread::get_id()) {
      // From inside its own callback: the deliverer ends it when the
      // callback returns.
      destroy_after_callback_ = true;
      return false;
    }
    changed_.wait(lock, [&] { return !running(); });
  }
  return true;
}

std::optional<pending_event> event_queue::next(std::unique_lock<std::mutex>& lock,
                                               std::chrono::milliseconds timeout) {
  if (!changed_.wait_for(lock, timeout, [&] { return stopping_ || !queued_events_.empty(); })) return std::nullopt;
  if (queued_events_.empty()) return std::nullopt;
  pending_event event = std::move(queued_events_.front());
  queued_events_.pop_front();
  return event;
}

void event_queue::stop(std::unique_lock<std::mutex>& lock) {
  stopping_ = true;
  changed_.notify_all();
  if (delivering_thread_ != std::this_thread::get_id()) changed_.wait(lock, [&] { return !delivering_; });
}

void event_queue::clear(std::vector<std::pair<user_destructor, void*>>& destroy) {
  callback_events_.clear();
  for (const auto& event : queued_events_)
    if (event.destroy_user != nullptr) destroy.emplace_back(event.destroy_user, event.user);
  queued_events_.clear();
}

}  // namespace amc::poll
