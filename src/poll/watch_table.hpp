// The poller's watch table: one fixed-size record per watch, the maps from
// an AMC execution id to its watches, the groups of watches one list call
// can refresh (one per credential and instance), the interned status texts,
// the run times learnt per workflow, and the queue that orders every
// watch's next read. Plain data with no clock, thread or I/O: the poller
// guards it with its mutex and decides what happens to a watch.
//
// Memory: a watch is a watch_slot (the AMC execution id kept as 16 bytes
// when it is a UUID); 100,000 of them are a few megabytes.
#pragma once

#include "common/call_context.hpp"
#include "poll/poller.hpp"

#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace amc::poll {

constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

// An AMC execution id that is a UUID (what AMC hands out) is kept as 16
// bytes; anything else as text in a pool.
struct uuid_key {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  bool operator==(const uuid_key&) const = default;
};

struct uuid_hash {
  std::size_t operator()(const uuid_key& key) const noexcept {
    return static_cast<std::size_t>(key.high ^ (key.low * 0x9E3779B97F4A7C15ULL));
  }
};

// Texts kept by index, with reuse of freed places.
class string_pool {
 public:
  std::uint32_t add(std::string text);
  const std::string& at(std::uint32_t index) const { return texts_[index]; }
  void release(std::uint32_t index);

 private:
  std::vector<std::string> texts_;
  std::vector<std::uint32_t> free_;
};

enum slot_flag : std::uint8_t {
  alive = 1,         // the watch exists (for unwatch and events)
  in_flight = 2,     // a read of it is under way
  in_list = 4,       // … and that read is a batch list
  final_queued = 8,  // its last event is queued: no more reads
  upper_hex = 16,    // its UUID was written in upper case
  textual_id = 32,   // its id is not a UUID: `id.low` indexes the text pool
  // A watch of a workflow id (workflow_watches.hpp), not of one execution:
  // in its group (a list refreshes it) but in no id map; its create_time is
  // the minCreationTime its next list needs.
  workflow_kind = 64,
};

// One watch. Kept small: 100,000 of them are a few megabytes.
struct watch_slot {
  uuid_key id;
  std::int64_t create_time = 0;  // AMC's createTime (unix seconds); 0: not known yet
  std::int64_t due_ms = 0;       // when the next read is due (poller clock)
  std::uint64_t fingerprint = 0;  // of the last GET reply parsed (execution_read); 0: none
  event_callback callback = nullptr;
  void* user = nullptr;
  user_destructor destroy_user = nullptr;
  std::uint32_t generation = 1;
  std::uint32_t group = none;
  std::uint32_t member_position = none;
  std::uint32_t next_same = none;  // another watch of the same execution
  std::uint32_t history = none;    // (instance, workflow) whose run times we learn
  std::uint32_t interval_ms = 0;
  std::uint32_t running_since_s = 0;  // poller seconds when RUNNING was first seen
  std::uint32_t journal_id = none;    // our execution_id, in the journal-id pool
  std::uint16_t status = 0;           // interned status text; 0: not read yet
  std::uint8_t flags = 0;
  std::uint8_t failures = 0;   // failed reads in a row
  std::uint8_t not_found = 0;  // 404s in a row
  std::uint8_t unchanged = 0;  // GET replies in a row that matched `fingerprint`
};

// A watch's next read in the due queue; stale once the watch was
// rescheduled, ended or reused (then skipped when it comes up).
struct heap_entry {
  std::int64_t due_ms;
  std::uint32_t slot;
  std::uint32_t generation;
  bool operator>(const heap_entry& other) const { return due_ms > other.due_ms; }
};

// The watches of one (credential, instance): what one list call can refresh.
struct watch_group {
  call_context context;
  std::vector<std::uint32_t> members;
};

struct run_history {
  double running_seconds = 0;  // moving average of RUNNING-to-terminal times
  std::uint32_t samples = 0;
};

// A watch and its generation, as the user sees it (a reused slot gets a new
// generation, so an old id never names a new watch).
inline std::uint64_t watch_id_of(std::uint32_t slot, std::uint32_t generation) {
  return (static_cast<std::uint64_t>(generation) << 32) | slot;
}

// A watch to add; its ids and context are checked by the caller.
struct new_watch {
  const call_context& context;
  std::string_view amc_execution_id{};
  std::string_view execution_id{};  // our journaled id; empty: none
  std::int64_t create_time = 0;
  std::uint32_t interval_ms = 0;
  event_callback callback = nullptr;
  void* user = nullptr;
  user_destructor destroy_user = nullptr;
  bool workflow = false;  // a workflow watch: amc_execution_id is unused
};

class watch_table {
 public:
  watch_table();

  // Adds an alive watch (not scheduled yet): its slot index. Throws
  // invalid_argument when the table is full.
  std::uint32_t add(const new_watch& watch);
  // Takes the watch out of its group and the id map (its slot stays until
  // release()).
  void detach(std::uint32_t index);
  // Frees the slot for reuse, under a new generation.
  void release(std::uint32_t index);

  watch_slot& slot(std::uint32_t index) { return slots_[index]; }
  const watch_slot& slot(std::uint32_t index) const { return slots_[index]; }
  std::uint32_t slot_count() const { return static_cast<std::uint32_t>(slots_.size()); }
  // Whether `index` holds the alive watch of this generation.
  bool is_current(std::uint32_t index, std::uint32_t generation) const {
    return index < slots_.size() && (slots_[index].flags & alive) && slots_[index].generation == generation;
  }
  std::size_t watched() const { return watched_; }

  const watch_group& group(std::uint32_t group) const { return groups_[group]; }
  std::string execution_text(const watch_slot& slot) const;
  // Our execution_id of the watch; nullptr when it named none.
  const std::string* journal_text(const watch_slot& slot) const {
    return slot.journal_id == none ? nullptr : &journal_ids_.at(slot.journal_id);
  }
  // The first watch of an execution id, or none; the others follow through
  // watch_slot::next_same.
  std::uint32_t find_execution(std::string_view text) const;

  // Status texts by a 16-bit index (0: not read yet, also when the table of
  // texts is full).
  std::uint16_t intern_status(const std::string& text);
  const std::string& status_text(std::uint16_t status) const { return statuses_[status]; }

  // The run history of `workflow_id` in `group` (created empty).
  std::uint32_t history_of(std::uint32_t group, std::string_view workflow_id);
  run_history& history(std::uint32_t index) { return histories_[index]; }

  // The due queue. schedule() sets when the watch is read next; an older
  // entry of the watch stays behind and is skipped when it comes up.
  void schedule(std::uint32_t index, std::int64_t due_ms) {
    auto& slot = slots_[index];
    slot.due_ms = due_ms;
    due_.push({due_ms, index, slot.generation});
    // Rebuild when the stale entries pile up, so the queue stays about one
    // entry a watch.
    if (due_.size() > 2 * watched_ + 1024) rebuild_due();
  }
  bool has_due() const { return !due_.empty(); }
  const heap_entry& first_due() const { return due_.top(); }
  void pop_due() { due_.pop(); }
  // Whether the entry is the watch's next read and the watch may be read.
  bool is_readable(const heap_entry& entry) const {
    const auto& slot = slots_[entry.slot];
    return (slot.flags & alive) && slot.generation == entry.generation && slot.due_ms == entry.due_ms &&
           !(slot.flags & (in_flight | final_queued));
  }

 private:
  std::uint32_t* id_map_head(const watch_slot& slot);
  void rebuild_due();

  std::vector<watch_slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t watched_ = 0;
  std::priority_queue<heap_entry, std::vector<heap_entry>, std::greater<>> due_;
  std::unordered_map<uuid_key, std::uint32_t, uuid_hash> by_uuid_;
  std::unordered_map<std::string, std::uint32_t> by_text_;
  string_pool textual_ids_;
  string_pool journal_ids_;
  std::vector<watch_group> groups_;
  std::unordered_map<std::string, std::uint32_t> group_index_;
  std::vector<std::string> statuses_;
  std::unordered_map<std::string, std::uint16_t> status_index_;
  std::vector<run_history> histories_;
  std::unordered_map<std::string, std::uint32_t> history_index_;
};

}  // namespace amc::poll
