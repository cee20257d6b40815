// The poller's event queue on its own: next-event draining with a timeout,
// callbacks in order with the watch released after its final one, dropping
// a watch's events, and unwatching from inside a callback and from another
// thread while it runs.
#include "poll/event_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace amc::poll {
namespace {

using namespace std::chrono_literals;

struct EventQueueTest : ::testing::Test {
  std::mutex mutex;
  event_queue events;
  watch_table table;
  call_context context;

  std::uint32_t watch(const std::string& id, event_callback callback, void* user,
                      user_destructor destroy = nullptr) {
    return table.add({.context = context,
                      .amc_execution_id = id,
                      .callback = callback,
                      .user = user,
                      .destroy_user = destroy});
  }
  pending_event event_of(std::uint32_t index, std::string json, bool final = false) {
    return {index, table.slot(index).generation, final, std::move(json)};
  }
};

struct seen {
  std::vector<std::string> events;
  int destroyed = 0;
  static void on_event(const char* json, void* user) { static_cast<seen*>(user)->events.emplace_back(json); }
  static void on_destroy(void* user) { ++static_cast<seen*>(user)->destroyed; }
};

TEST_F(EventQueueTest, NextEventHandsOutQueuedEventsInOrderAndTimesOut) {
  std::unique_lock lock(mutex);
  EXPECT_FALSE(events.next(lock, 10ms));
  events.push_for_next_event({0, 1, false, "one"});
  events.push_for_next_event({0, 1, true, "two"});
  EXPECT_EQ(events.queued(), 2u);
  EXPECT_EQ(events.next(lock, 0ms)->json, "one");
  EXPECT_EQ(events.next(lock, 0ms)->json, "two");
  EXPECT_EQ(events.queued(), 0u);
}

TEST_F(EventQueueTest, NextEventWakesUpForAnEventFromAnotherThread) {
  auto waiting = std::async(std::launch::async, [&] {
    std::unique_lock lock(mutex);
    auto event = events.next(lock, 60s);
    return event ? event->json : std::string("nothing");
  });
  std::this_thread::sleep_for(20ms);
  {
    std::unique_lock lock(mutex);
    events.push_for_next_event({0, 1, false, "late"});
  }
  EXPECT_EQ(waiting.get(), "late");
}

TEST_F(EventQueueTest, StoppingWakesNextEventAndDropsWhatIsQueued) {
  auto waiting = std::async(std::launch::async, [&] {
    std::unique_lock lock(mutex);
    return events.next(lock, 60s).has_value();
  });
  std::this_thread::sleep_for(20ms);
  std::vector<std::pair<user_destructor, void*>> destroy;
  {
    std::unique_lock lock(mutex);
    events.stop(lock);
    int user = 0;
    events.push_for_next_event({0, 1, true, "final", &seen::on_destroy, &user});
    events.clear(destroy);
  }
  EXPECT_FALSE(waiting.get());
  EXPECT_EQ(destroy.size(), 1u);
  EXPECT_EQ(events.queued(), 0u);
}

TEST_F(EventQueueTest, DeliversCallbacksInOrderEndsAWatchAfterItsFinalEventAndDropsAForgottenOne) {
  seen first, second;
  const auto a = watch("exec_a", &seen::on_event, &first, &seen::on_destroy);
  const auto b = watch("exec_b", &seen::on_event, &second, &seen::on_destroy);
  std::unique_lock lock(mutex);
  events.push_for_callback(event_of(a, "a1"));
  events.push_for_callback(event_of(b, "b1"));
  events.push_for_callback(event_of(a, "a2", true));
  EXPECT_TRUE(events.forget(lock, b, table.slot(b).generation));  // b unwatched before delivery
  events.deliver(lock, table);
  EXPECT_EQ(first.events, (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(first.destroyed, 1);
  EXPECT_EQ(table.watched(), 1u);  // a's slot is released
  EXPECT_TRUE(second.events.empty());
  EXPECT_EQ(second.destroyed, 0);  // the unwatcher runs it
}

TEST_F(EventQueueTest, AWatchUnwatchedInsideItsOwnCallbackEndsWhenTheCallbackReturns) {
  struct context_of_callback {
    EventQueueTest* test;
    std::uint32_t index = 0;
    bool deferred = false;
    int destroyed = 0;
  } inside{this};
  const auto callback = [](const char*, void* user) {
    auto& self = *static_cast<context_of_callback*>(user);
    // The deliverer released the lock around the callback.
    std::unique_lock lock(self.test->mutex);
    self.deferred = !self.test->events.forget(lock, self.index, self.test->table.slot(self.index).generation);
  };
  const auto destroy = [](void* user) { ++static_cast<context_of_callback*>(user)->destroyed; };
  inside.index = watch("exec_a", callback, &inside, destroy);
  std::unique_lock lock(mutex);
  events.push_for_callback(event_of(inside.index, "a1"));
  events.deliver(lock, table);
  EXPECT_TRUE(inside.deferred);
  EXPECT_EQ(inside.destroyed, 1);
  EXPECT_EQ(table.watched(), 0u);
}

TEST_F(EventQueueTest, UnwatchFromAnotherThreadWaitsForTheRunningCallback) {
  struct blocking {
    std::promise<void> started;
    std::shared_future<void> release;
    std::atomic<bool> returned{false};
  } gate;
  std::promise<void> release;
  gate.release = release.get_future().share();
  const auto callback = [](const char*, void* user) {
    auto& self = *static_cast<blocking*>(user);
    self.started.set_value();
    self.release.wait();
    self.returned = true;
  };
  const auto index = watch("exec_a", callback, &gate);
  const auto generation = table.slot(index).generation;
  {
    std::unique_lock lock(mutex);
    events.push_for_callback(event_of(index, "a1"));
  }
  auto deliverer = std::async(std::launch::async, [&] {
    std::unique_lock lock(mutex);
    events.deliver(lock, table);
  });
  gate.started.get_future().wait();
  auto unwatcher = std::async(std::launch::async, [&] {
    std::unique_lock lock(mutex);
    const bool ours = events.forget(lock, index, generation);
    return ours && gate.returned.load();
  });
  EXPECT_EQ(unwatcher.wait_for(50ms), std::future_status::timeout);
  release.set_value();
  EXPECT_TRUE(unwatcher.get());
  deliverer.get();
}

}  // namespace
}  // namespace amc::poll
