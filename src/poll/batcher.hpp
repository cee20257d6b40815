// Batched status reads: the watches of one group (credential and instance)
// refreshed by one paged list call when that takes fewer requests than
// reading them one by one (schedule.hpp's list_is_cheaper), and what a
// list's answer means for each watch: refreshed, read on its own next time
// (the single-read fallback), or failed. It owns each group's list state
// (one list at a time per group, the watches that wait for it) and the list
// counters; the poller sends the list read and applies the outcome to each
// watch through list_outcome. No clock or I/O: guarded by the poller's mutex.
#pragma once

#include "common/error.hpp"
#include "poll/schedule.hpp"
#include "poll/watch_table.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace amc::poll {

// A watch by slot and generation.
using watch_ref = std::pair<std::uint32_t, std::uint32_t>;

// One list read the batcher decided on: the group's executions created
// since `min_create` (unix seconds), refreshing the `picked` watches.
struct list_read {
  std::uint32_t group = none;
  std::vector<watch_ref> picked;
  std::int64_t min_create = 0;
};

// What the poller does with a watch on a list's word.
class list_outcome {
 public:
  // The list answered with `execution` (flat) for the watch.
  virtual void refreshed(std::uint32_t index, const nlohmann::json& execution) = 0;
  // The list failed; the watch had been picked for it.
  virtual void failed(std::uint32_t index, const error& failure) = 0;
  // Read the watch again at `due_ms` (poller clock) …
  virtual void read_at(std::uint32_t index, std::int64_t due_ms) = 0;
  // … or at once.
  virtual void read_now(std::uint32_t index) = 0;

 protected:
  ~list_outcome() = default;
};

class batcher {
 public:
  explicit batcher(const poll_settings& settings) : settings_(settings) {}

  // Whether a due read of `index` must wait for its group's list under
  // way: then it is noted, that list may refresh it, and release_waiting()
  // hands it back when it did not.
  bool wait_for_list(const watch_table& watches, std::uint32_t index) {
    if (!settings_.batching) return false;
    const auto& slot = watches.slot(index);
    if (slot.create_time == 0 || slot.group >= lists_.size() || !lists_[slot.group].list_in_flight) return false;
    lists_[slot.group].waiting_for_list.emplace_back(index, slot.generation);
    return true;
  }

  // A list read that refreshes `index` and the watches of its group due
  // soon, when batching applies and the list takes fewer requests than their
  // single reads; the picked watches are then marked in flight (in a list)
  // and the group's list under way. Nothing otherwise: `index` is read on
  // its own.
  std::optional<list_read> plan(watch_table& watches, std::uint32_t index, std::int64_t now) {
    if (!settings_.batching) return std::nullopt;
    return plan_list(watches, index, now);
  }

  // The group's list is over, after `pages` list requests (1 when it failed).
  void list_ended(std::uint32_t group, long pages);
  // Applies a list's answer (flat executions): every watch of the group it
  // lists is refreshed (unless a single read of it is under way); a picked
  // watch it does not list is read on its own next, at once.
  void apply_listing(watch_table& watches, const list_read& read, const nlohmann::json& executions,
                     list_outcome& outcome);
  // The list failed: so did the read of every watch picked for it.
  void apply_failure(watch_table& watches, const list_read& read, const error& failure, list_outcome& outcome);
  // Whether a list that failed so did not finish at all (more pages than
  // list_max_pages, a repeated nextToken, a malformed page, past
  // list_timeout_ms): then fall_back() applies, not apply_failure().
  static bool never_finished(const error& failure) {
    return failure.code_value() == errc::protocol || failure.code_value() == errc::timeout;
  }
  // The list did not finish (never_finished): the group is read with single
  // GETs until `until_ms`, and every watch picked for it at once (a list
  // that cannot finish must not hold their reads back; issue 23 kind 1).
  // Returns how many watches it handed to single reads.
  std::size_t fall_back(watch_table& watches, const list_read& read, std::int64_t until_ms, list_outcome& outcome);
  std::uint64_t list_fallbacks() const { return list_fallbacks_; }
  // After a list: the watches that waited for it and were not refreshed
  // are read at `now`, or when the pause ends.
  void release_waiting(watch_table& watches, std::uint32_t group, std::int64_t now, std::int64_t paused_until_ms,
                       list_outcome& outcome);

  std::uint64_t list_requests() const { return list_requests_; }
  std::uint64_t batched_reads() const { return batched_reads_; }
  std::uint64_t refreshed_by_lists() const { return refreshed_by_lists_; }

 private:
  // The list state of one watch_table group.
  struct group_lists {
    bool list_in_flight = false;
    std::size_t last_listed = 0;     // executions the last list returned …
    std::int64_t last_list_min = 0;  // … created since this time
    std::int64_t next_batch_check_ms = 0;
    std::int64_t single_reads_until_ms = 0;  // fall_back(): no list before this
    // Watches that came due while a list was under way: that list may
    // refresh them; those it does not are read right after it.
    std::vector<watch_ref> waiting_for_list;
  };

  std::optional<list_read> plan_list(watch_table& watches, std::uint32_t index, std::int64_t now);
  group_lists& lists(std::uint32_t group);
  // Whether the watch is still the one picked for a list.
  static bool still_picked(const watch_table& watches, const watch_ref& watch);

  const poll_settings settings_;
  std::vector<group_lists> lists_;  // by watch_table group
  std::uint64_t list_requests_ = 0;
  std::uint64_t batched_reads_ = 0;
  std::uint64_t refreshed_by_lists_ = 0;
  std::uint64_t list_fallbacks_ = 0;
};

}  // namespace amc::poll
