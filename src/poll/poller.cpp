#include "poll/poller.hpp"

#include "api/shapes.hpp"
#include "common/error.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "net/io_strand.hpp"
#include "net/rate_limiter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace amc::poll {

namespace asio = boost::asio;
using nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
// A 404 can be AMC not having caught up with a create yet; three in a row
// (each after a backoff) is an execution that does not exist.
constexpr int not_found_reads_before_giving_up = 3;
constexpr const char* rate_key = "poller";

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

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 8-4-4-4-12 hex digits, all lower case or all upper case (so that the text
// can be given back exactly).
std::optional<uuid_key> parse_uuid(std::string_view text, bool& upper) {
  if (text.size() != 36) return std::nullopt;
  bool has_lower = false, has_upper = false;
  uuid_key key;
  int digits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    const int value = hex_value(c);
    if (value < 0) return std::nullopt;
    if (c >= 'a' && c <= 'f') has_lower = true;
    if (c >= 'A' && c <= 'F') has_upper = true;
    auto& half = digits < 16 ? key.high : key.low;
    half = (half << 4) | static_cast<std::uint64_t>(value);
    ++digits;
  }
  if (has_lower && has_upper) return std::nullopt;
  upper = has_upper;
  return key;
}

std::string format_uuid(const uuid_key& key, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char text[36];
  std::size_t at = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) text[at++] = '-';
    const std::uint64_t half = i < 16 ? key.high : key.low;
    text[at++] = digits[(half >> (4 * (15 - (i % 16)))) & 15];
  }
  return std::string(text, sizeof text);
}

// Texts kept by index, with reuse of freed places.
class string_pool {
 public:
  std::uint32_t add(std::string text) {
    if (!free_.empty()) {
      const auto index = free_.back();
      free_.pop_back();
      texts_[index] = std::move(text);
      return index;
    }
    texts_.push_back(std::move(text));
    return static_cast<std::uint32_t>(texts_.size() - 1);
  }
  const std::string& at(std::uint32_t index) const { return texts_[index]; }
  void release(std::uint32_t index) {
    std::string().swap(texts_[index]);
    free_.push_back(index);
  }

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
};

// One watch. Kept small: 100,000 of them are a few megabytes.
struct watch_slot {
  uuid_key id;
  std::int64_t create_time = 0;  // AMC's createTime (unix seconds); 0: not known yet
  std::int64_t due_ms = 0;       // when the next read is due (poller clock)
  std::uint64_t fingerprint = 0;  // of the last GET reply parsed (api::execution_read); 0: none
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

// Every this many unchanged replies in a row, a reply is parsed in full
// anyway: a fingerprint collision (two different replies with one 64-bit
// fingerprint, a chance of 2^-64) cannot hide a change for longer.
constexpr std::uint8_t full_parse_every = 128;

// A single read dispatch() has claimed: the watch (slot and generation),
// what to read, the fingerprint of the last reply (0: parse in full) and
// the rate limiter's wait before sending.
struct read_job {
  std::uint32_t index = 0;
  std::uint32_t generation = 0;
  api::call_context context;
  std::string id;
  std::uint64_t seen = 0;
  steady::duration wait{};
};

struct heap_entry {
  std::int64_t due_ms;
  std::uint32_t slot;
  std::uint32_t generation;
  bool operator>(const heap_entry& other) const { return due_ms > other.due_ms; }
};

// The watches of one (credential, instance): what one list call can refresh.
struct watch_group {
  api::call_context context;
  std::vector<std::uint32_t> members;
  bool list_in_flight = false;
  std::size_t last_listed = 0;      // executions the last list returned …
  std::int64_t last_list_min = 0;   // … created since this time
  std::int64_t next_batch_check_ms = 0;
  // Watches that came due while a list was under way: that list may
  // refresh them; those it does not are read right after it.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> waiting_for_list;
};

struct run_history {
  double running_seconds = 0;  // moving average of RUNNING-to-terminal times
  std::uint32_t samples = 0;
};

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

std::uint64_t watch_id_of(std::uint32_t slot, std::uint32_t generation) {
  return (static_cast<std::uint64_t>(generation) << 32) | slot;
}

std::string group_key(const api::call_context& context) {
  std::string key = context.credential_id;
  for (const auto* part : {&context.instance_id, &context.advertiser_id, &context.marketplace_id}) {
    key += '\x1f';
    key += *part;
  }
  return key;
}

// AMC's ad-hoc runs get a fresh "transient_…" workflow id each: their
// history is the instance's ad-hoc history.
std::string history_key(std::uint32_t group, std::string_view workflow_id) {
  if (workflow_id.starts_with("transient_")) workflow_id = {};
  return fmt::format("{}\x1f{}", group, workflow_id);
}

constexpr std::array<std::int64_t, 10> latency_bounds_ms = {1'000,  2'000,  5'000,   10'000,  15'000,
                                                            30'000, 60'000, 120'000, 300'000, 600'000};

bool ends_the_watch(errc code) {
  switch (code) {
    case errc::invalid_argument:
    case errc::config:
    case errc::auth_required:
    case errc::forbidden:
    case errc::crypto:
    case errc::forked: return true;
    default: return false;
  }
}

}  // namespace

struct poller::state : std::enable_shared_from_this<poller::state> {
  state(status_source source_in, poll_settings settings_in)
      : source(std::move(source_in)),
        settings(settings_in),
        strand(net::make_io_strand(source.executor())),
        started(steady::now()),
        random(std::random_device{}()) {
    if (settings.requests_per_second > 0) {
      net::rate_limit_options ceiling;
      ceiling.requests_per_second = settings.requests_per_second;
      ceiling.burst = std::max(1.0, settings.requests_per_second / 10);
      ceiling.minimum_requests_per_second = std::min(0.5, settings.requests_per_second);
      limiter.emplace(ceiling);
    }
    statuses.emplace_back();  // index 0: not read yet
  }

  status_source source;
  const poll_settings settings;
  net::io_strand strand;
  const steady::time_point started;

  mutable std::mutex mutex;
  std::condition_variable changed;  // events queued, a callback finished, stopping

  // Everything below is guarded by `mutex`.
  std::mt19937_64 random;
  std::optional<net::rate_limiter> limiter;
  bool stopping = false;
  bool kicked = false;
  asio::steady_timer* timer = nullptr;  // the scheduler's; touched on the strand only

  std::vector<watch_slot> slots;
  std::vector<std::uint32_t> free_slots;
  std::size_t watched = 0;
  std::priority_queue<heap_entry, std::vector<heap_entry>, std::greater<>> due;
  std::unordered_map<uuid_key, std::uint32_t, uuid_hash> by_uuid;
  std::unordered_map<std::string, std::uint32_t> by_text;
  string_pool textual_ids;
  string_pool journal_ids;
  std::vector<watch_group> groups;
  std::unordered_map<std::string, std::uint32_t> group_index;
  std::vector<std::string> statuses;
  std::unordered_map<std::string, std::uint16_t> status_index;
  std::vector<run_history> histories;
  std::unordered_map<std::string, std::uint32_t> history_index;
  int in_flight_reads = 0;
  std::int64_t paused_until_ms = 0;
  std::int64_t planned_wake_ms = 0;  // when the scheduler means to look next

  std::deque<pending_event> callback_events;
  std::deque<pending_event> queued_events;
  bool delivering = false;
  std::thread::id delivering_thread;
  std::uint32_t running_slot = none;
  std::uint32_t running_generation = 0;
  bool destroy_after_callback = false;

  struct counters {
    std::uint64_t get_requests = 0, list_requests = 0, batched_reads = 0, refreshed_by_lists = 0, throttles = 0,
                  unchanged_reads = 0,
                  failed_reads = 0, status_events = 0, final_events = 0;
    std::array<std::uint64_t, latency_bounds_ms.size() + 1> latency{};
    std::uint64_t latency_count = 0;
  } count;

  std::int64_t now_ms() const {
    return std::chrono::duration_cast<milliseconds>(steady::now() - started).count();
  }
  std::uint32_t now_seconds() const { return static_cast<std::uint32_t>(now_ms() / 1000 + 1); }
  double unit_random() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }

  std::string execution_text(const watch_slot& slot) const {
    if (slot.flags & textual_id) return textual_ids.at(static_cast<std::uint32_t>(slot.id.low));
    return format_uuid(slot.id, (slot.flags & upper_hex) != 0);
  }

  std::uint32_t* id_map_head(const watch_slot& slot) {
    if (slot.flags & textual_id) {
      auto found = by_text.find(textual_ids.at(static_cast<std::uint32_t>(slot.id.low)));
      return found == by_text.end() ? nullptr : &found->second;
    }
    auto found = by_uuid.find(slot.id);
    return found == by_uuid.end() ? nullptr : &found->second;
  }

  // The first watch of an execution id, or none.
  std::uint32_t find_execution(std::string_view text) {
    bool upper = false;
    if (const auto key = parse_uuid(text, upper)) {
      auto found = by_uuid.find(*key);
      return found == by_uuid.end() ? none : found->second;
    }
    auto found = by_text.find(std::string(text));
    return found == by_text.end() ? none : found->second;
  }

  std::uint16_t intern_status(const std::string& text) {
    auto found = status_index.find(text);
    if (found != status_index.end()) return found->second;
    if (statuses.size() >= std::numeric_limits<std::uint16_t>::max()) return 0;
    statuses.push_back(text);
    const auto index = static_cast<std::uint16_t>(statuses.size() - 1);
    status_index.emplace(text, index);
    return index;
  }

  void schedule(std::uint32_t index, std::int64_t due_ms) {
    auto& slot = slots[index];
    slot.due_ms = due_ms;
    due.push({due_ms, index, slot.generation});
    // Rescheduling leaves the old entry behind (it is skipped when it comes
    // up); rebuild when they pile up, so the queue stays about one entry a
    // watch.
    if (due.size() > 2 * watched + 1024) rebuild_queue();
    if (due_ms < planned_wake_ms) kick();
  }

  void rebuild_queue() {
    std::vector<heap_entry> entries;
    entries.reserve(watched);
    for (std::uint32_t index = 0; index < slots.size(); ++index) {
      const auto& slot = slots[index];
      if ((slot.flags & alive) && !(slot.flags & (in_flight | final_queued)))
        entries.push_back({slot.due_ms, index, slot.generation});
    }
    due = decltype(due)(std::greater<>(), std::move(entries));
  }

  // Wakes the scheduler: something is due sooner or a read finished.
  void kick() {
    kicked = true;
    planned_wake_ms = 0;
    asio::post(strand, [self = shared_from_this()] {
      if (self->timer != nullptr) self->timer->cancel();
    });
  }

  // Takes the watch out of the schedule, its group and the id map (its
  // slot stays until free_slot()).
  void detach(std::uint32_t index) {
    auto& slot = slots[index];
    if (slot.group != none) {
      auto& members = groups[slot.group].members;
      const auto position = slot.member_position;
      members[position] = members.back();
      slots[members[position]].member_position = position;
      members.pop_back();
      slot.group = none;
      slot.member_position = none;
    }
    if (std::uint32_t* head = id_map_head(slot)) {
      if (*head == index) {
        if (slot.next_same == none) {
          if (slot.flags & textual_id) by_text.erase(textual_ids.at(static_cast<std::uint32_t>(slot.id.low)));
          else by_uuid.erase(slot.id);
        } else {
          *head = slot.next_same;
        }
      } else {
        for (std::uint32_t at = *head; at != none; at = slots[at].next_same)
          if (slots[at].next_same == index) {
            slots[at].next_same = slot.next_same;
            break;
          }
      }
    }
    slot.next_same = none;
  }

  void free_slot(std::uint32_t index) {
    auto& slot = slots[index];
    if (slot.flags & textual_id) textual_ids.release(static_cast<std::uint32_t>(slot.id.low));
    if (slot.journal_id != none) journal_ids.release(slot.journal_id);
    const auto generation = slot.generation + 1;
    slot = watch_slot{};
    slot.generation = generation == 0 ? 1 : generation;
    free_slots.push_back(index);
    --watched;
  }

  void erase_events_of(std::deque<pending_event>& events, std::uint32_t index, std::uint32_t generation) {
    std::erase_if(events, [&](const pending_event& event) {
      return event.slot == index && event.generation == generation;
    });
  }

  json event_base(std::uint32_t index, std::string_view kind, bool final) const {
    const auto& slot = slots[index];
    json event = {{"event", kind},
                  {"watch_id", watch_id_of(index, slot.generation)},
                  {"amc_execution_id", execution_text(slot)},
                  {"terminal", final}};
    if (slot.journal_id != none) event["execution_id"] = journal_ids.at(slot.journal_id);
    return event;
  }

  // Queues an event; a final one ends the watch's reads (and, for a watch
  // without a callback, the watch itself: its destructor travels with the
  // event).
  void queue_event(std::uint32_t index, json event, bool final) {
    auto& slot = slots[index];
    pending_event pending{index, slot.generation, final, event.dump()};
    if (final) {
      ++count.final_events;
      slot.flags |= final_queued;
      detach(index);
    }
    if (slot.callback != nullptr) {
      callback_events.push_back(std::move(pending));
      return;
    }
    if (final) {
      pending.destroy_user = slot.destroy_user;
      pending.user = slot.user;
      free_slot(index);
    }
    queued_events.push_back(std::move(pending));
    changed.notify_all();
  }

  void record_latency(const json& execution) {
    const auto updated = execution.find("lastUpdatedTime");
    if (updated == execution.end() || !updated->is_string()) return;
    const auto when = parse_utc(updated->get_ref<const std::string&>());
    if (!when) return;
    const auto now = std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    const std::int64_t latency = now.count() - *when * 1000;
    if (latency < 0) return;
    std::size_t bucket = 0;
    while (bucket < latency_bounds_ms.size() && latency > latency_bounds_ms[bucket]) ++bucket;
    ++count.latency[bucket];
    ++count.latency_count;
  }

  // A read of `index` answered with `execution` (flat), by a GET or as part
  // of a list.
  void apply_execution(std::uint32_t index, const json& execution, bool from_list = false) {
    auto& slot = slots[index];
    slot.flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
    // A list entry is not a GET reply: the next GET is parsed in full.
    if (from_list) slot.fingerprint = 0;
    const auto status_field = execution.is_object() ? execution.find("status") : execution.end();
    if (!execution.is_object() || status_field == execution.end() || !status_field->is_string()) {
      apply_failure(index, error(errc::protocol, "AMC's execution has no status"));
      return;
    }
    const std::string& status = status_field->get_ref<const std::string&>();
    const auto phase = api::parse_execution_status(status);
    if (slot.create_time == 0)
      if (const auto created = execution.find("createTime"); created != execution.end() && created->is_string())
        slot.create_time = parse_utc(created->get_ref<const std::string&>()).value_or(0);
    if (slot.history == none)
      if (const auto workflow = execution.find("workflowId"); workflow != execution.end() && workflow->is_string()) {
        auto key = history_key(slot.group, workflow->get_ref<const std::string&>());
        auto [found, inserted] = history_index.try_emplace(std::move(key), static_cast<std::uint32_t>(histories.size()));
        if (inserted) histories.emplace_back();
        slot.history = found->second;
      }
    slot.failures = 0;
    slot.not_found = 0;
    const auto status_id = intern_status(status);
    const bool status_changed = status_id != slot.status || status_id == 0;
    const bool final = api::is_terminal(phase);
    const auto now_s = now_seconds();
    if (status_changed) {
      if (phase == api::execution_phase::running && slot.running_since_s == 0) slot.running_since_s = now_s;
      if (final && slot.running_since_s != 0 && slot.history != none) {
        auto& history = histories[slot.history];
        const double took = static_cast<double>(now_s - slot.running_since_s);
        history.running_seconds =
            history.samples == 0 ? took : 0.8 * history.running_seconds + 0.2 * took;
        ++history.samples;
      }
      if (slot.status != 0) record_latency(execution);
      json event = event_base(index, "status", final);
      event["status"] = status;
      event["previous_status"] = slot.status == 0 ? json(nullptr) : json(statuses[slot.status]);
      event["execution"] = execution;
      slot.status = status_id;
      ++count.status_events;
      queue_event(index, std::move(event), final);
    }
    if (final) return;
    schedule_after_read(index, phase, status_changed, from_list);
  }

  // A GET whose reply was byte for byte the last one parsed: the status
  // (never terminal: a terminal one ended the watch) is unchanged.
  void apply_unchanged(std::uint32_t index) {
    auto& slot = slots[index];
    slot.flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
    slot.failures = 0;
    slot.not_found = 0;
    schedule_after_read(index, api::parse_execution_status(statuses[slot.status]), false, false);
  }

  // The next read of a watch after a successful one: the interval grows (or
  // starts again after a change), shortened near the expected finish.
  void schedule_after_read(std::uint32_t index, api::execution_phase phase, bool status_changed, bool from_list) {
    auto& slot = slots[index];
    const auto now_s = now_seconds();
    slot.interval_ms = static_cast<std::uint32_t>(
        next_interval(settings, milliseconds(slot.interval_ms), status_changed).count());
    finish_hint hint;
    hint.publishing = phase == api::execution_phase::publishing;
    if (phase == api::execution_phase::running && slot.running_since_s != 0 && slot.history != none &&
        histories[slot.history].samples > 0)
      hint.seconds_to_expected_finish =
          histories[slot.history].running_seconds - static_cast<double>(now_s - slot.running_since_s);
    auto interval = milliseconds(slot.interval_ms);
    if (from_list) interval = std::min(interval, settings.batched_interval);
    schedule(index, now_ms() + delay_before_next_read(settings, interval, hint, unit_random()).count());
  }

  void apply_failure(std::uint32_t index, const error& failure) {
    auto& slot = slots[index];
    slot.flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
    slot.fingerprint = 0;  // after any failure the next reply is parsed in full
    const auto code = failure.code_value();
    const auto now = now_ms();
    if (code == errc::throttled) {
      // AMC's limit holds for every request of this client: wait it out for
      // every watch, and keep this one.
      const auto wait = failure.retry_after().value_or(std::max(settings.first_interval, milliseconds(1000)));
      paused_until_ms = std::max(paused_until_ms, now + wait.count());
      if (limiter) limiter->on_throttled(rate_key, steady::now());
      schedule(index, paused_until_ms);
      return;
    }
    if (code == errc::not_found) slot.not_found = static_cast<std::uint8_t>(std::min(255, slot.not_found + 1));
    if (ends_the_watch(code) || (code == errc::not_found && slot.not_found >= not_found_reads_before_giving_up)) {
      json event = event_base(index, "error", true);
      event["error"] = {{"code", static_cast<int>(code)},
                        {"reason", amc_category().message(static_cast<int>(code))},
                        {"message", failure.message()}};
      queue_event(index, std::move(event), true);
      return;
    }
    slot.failures = static_cast<std::uint8_t>(std::min(255, slot.failures + 1));
    schedule(index, now + delay_after_failure(settings, slot.failures, unit_random()).count());
  }

  // Runs queued callbacks, one at a time, on the calling thread (a client
  // thread), unless another thread is already doing so.
  void deliver(std::unique_lock<std::mutex>& lock) {
    if (delivering) return;
    delivering = true;
    delivering_thread = std::this_thread::get_id();
    while (!callback_events.empty() && !stopping) {
      pending_event event = std::move(callback_events.front());
      callback_events.pop_front();
      auto& slot = slots[event.slot];
      if (!(slot.flags & alive) || slot.generation != event.generation) continue;
      running_slot = event.slot;
      running_generation = event.generation;
      destroy_after_callback = false;
      const auto callback = slot.callback;
      void* const user = slot.user;
      const auto destroy_user = slot.destroy_user;
      lock.unlock();
      callback(event.json.c_str(), user);
      lock.lock();
      running_slot = none;
      const bool unwatched_inside = destroy_after_callback;
      destroy_after_callback = false;
      auto& after = slots[event.slot];
      const bool still_ours = (after.flags & alive) && after.generation == event.generation;
      if (unwatched_inside || (event.final && still_ours)) {
        free_slot(event.slot);
        if (destroy_user != nullptr) {
          lock.unlock();
          destroy_user(user);
          lock.lock();
        }
      }
      changed.notify_all();
    }
    delivering = false;
    changed.notify_all();
  }

  // After a read: the freed place goes at once to a read that is due (no
  // round trip through the scheduler's strand and timer, which matters when
  // every place is busy); the scheduler is woken only when it now sleeps
  // past the next due read. With `next`, the first due single read is
  // handed to the finishing read's coroutine, which carries on with it,
  // instead of being started as a coroutine of its own.
  void finish(std::unique_lock<std::mutex>& lock, std::optional<read_job>* next = nullptr) {
    if (!stopping && dispatch(now_ms(), next) < planned_wake_ms) kick();
    deliver(lock);
  }

  static error as_error(std::exception_ptr failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const error& problem) {
      return problem;
    } catch (const std::exception& problem) {
      return error(errc::internal, problem.what());
    } catch (...) {
      return error(errc::internal, "an unknown failure");
    }
  }

  // A read is done: its outcome applied, and the next due single read, if
  // any, handed back to carry on with.
  std::optional<read_job> finish_get(std::uint32_t index, std::uint32_t generation,
                                     std::optional<api::execution_read> read, std::exception_ptr failure) {
    std::unique_lock lock(mutex);
    --in_flight_reads;
    ++count.get_requests;
    if (stopping) return std::nullopt;
    auto& slot = slots[index];
    if ((slot.flags & alive) && slot.generation == generation && (slot.flags & in_flight) &&
        !(slot.flags & final_queued)) {
      if (read && read->execution) {
        slot.fingerprint = read->fingerprint;
        slot.unchanged = 0;
        apply_execution(index, *read->execution);
      } else if (read) {
        ++count.unchanged_reads;
        ++slot.unchanged;
        apply_unchanged(index);
      } else {
        ++count.failed_reads;
        const auto problem = as_error(failure);
        if (problem.code_value() == errc::throttled) ++count.throttles;
        apply_failure(index, problem);
      }
    }
    std::optional<read_job> next;
    finish(lock, &next);
    if (stopping && next) {
      // The poller began to stop while callbacks ran (unlocked): the read
      // handed back is not started.
      --in_flight_reads;
      next.reset();
    }
    return next;
  }

  void finish_list(std::uint32_t group_id, std::vector<std::pair<std::uint32_t, std::uint32_t>> picked,
                   std::optional<status_source::listing> listing, std::int64_t min_create,
                   std::exception_ptr failure) {
    std::unique_lock lock(mutex);
    --in_flight_reads;
    auto& group = groups[group_id];
    group.list_in_flight = false;
    if (listing) count.list_requests += static_cast<std::uint64_t>(listing->pages);
    else ++count.list_requests;
    if (stopping) return;
    const auto ours = [&](std::uint32_t index, std::uint32_t generation) {
      const auto& slot = slots[index];
      return (slot.flags & alive) && slot.generation == generation && (slot.flags & in_list) &&
             !(slot.flags & final_queued);
    };
    if (listing) {
      ++count.batched_reads;
      group.last_listed = listing->executions.size();
      group.last_list_min = min_create;
      for (const auto& execution : listing->executions) {
        if (!execution.is_object()) continue;
        const auto id = execution.find("workflowExecutionId");
        if (id == execution.end() || !id->is_string()) continue;
        for (auto index = find_execution(id->get_ref<const std::string&>()); index != none;) {
          const auto next = slots[index].next_same;
          auto& slot = slots[index];
          // Watches not picked for this list are refreshed too, unless a
          // read of theirs is under way.
          const bool refreshable = slot.group == group_id && (slot.flags & alive) &&
                                   !(slot.flags & final_queued) &&
                                   ((slot.flags & in_list) || !(slot.flags & in_flight));
          if (refreshable) {
            ++count.refreshed_by_lists;
            apply_execution(index, execution, true);
          }
          index = next;
        }
      }
      // Picked but not listed: read it on its own next time.
      for (const auto& [index, generation] : picked)
        if (ours(index, generation)) {
          auto& slot = slots[index];
          slot.flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
          slot.create_time = 0;
          schedule(index, now_ms());
        }
    } else {
      ++count.failed_reads;
      const auto problem = as_error(failure);
      if (problem.code_value() == errc::throttled) ++count.throttles;
      for (const auto& [index, generation] : picked)
        if (ours(index, generation)) apply_failure(index, problem);
    }
    const auto now = now_ms();
    for (const auto& [index, generation] : std::exchange(group.waiting_for_list, {})) {
      const auto& slot = slots[index];
      const bool refreshed = slot.due_ms > now;
      if ((slot.flags & alive) && slot.generation == generation && !(slot.flags & (in_flight | final_queued)) &&
          !refreshed)
        schedule(index, std::max(now, paused_until_ms));
    }
    finish(lock);
  }

  // The first step of every read. It always suspends: dispatch() starts
  // reads with the poller's mutex held (from the scheduler, and from
  // finish() on a read's completion), and co_spawn may run a new coroutine
  // inline up to its first suspension; a read that ended there (a
  // synchronous failure) would lock the mutex again in finish_get.
  static asio::awaitable<void> pace(steady::duration wait) {
    if (wait <= steady::duration::zero()) {
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      co_return;
    }
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  // Single reads, one after another: the one dispatch() started, then each
  // that finish_get() hands back (no coroutine, no co_spawn and no posted
  // first step per read while reads are due back to back). The first read
  // always suspends first (pace()); a later one only when the rate limiter
  // asks it to wait, after a failed read, and every 64th read, so that a
  // run of reads that fail without waiting cannot hold the thread.
  static asio::awaitable<void> read_one(std::shared_ptr<state> self, read_job job) {
    bool yield_first = true;
    for (unsigned reads = 0;; ++reads) {
      std::optional<api::execution_read> read;
      std::exception_ptr failure;
      try {
        if (yield_first || job.wait > steady::duration::zero() || reads % 64 == 0) co_await pace(job.wait);
        read = co_await self->source.read_execution(std::move(job.context), std::move(job.id), job.seen,
                                                    self->settings.read_timeout);
      } catch (...) {
        failure = std::current_exception();
      }
      yield_first = failure != nullptr;
      std::optional<read_job> next = self->finish_get(job.index, job.generation, std::move(read), failure);
      if (!next) co_return;
      job = std::move(*next);
    }
  }

  static asio::awaitable<void> read_list(std::shared_ptr<state> self, std::uint32_t group_id,
                                         std::vector<std::pair<std::uint32_t, std::uint32_t>> picked,
                                         api::call_context context, std::int64_t min_create, steady::duration wait) {
    std::optional<status_source::listing> listing;
    std::exception_ptr failure;
    try {
      co_await pace(wait);
      std::string since = format_utc(min_create);
      since.pop_back();  // AMC's filter is yyyy-MM-ddTHH:mm:ss, without the Z
      listing = co_await self->source.list_since(std::move(context), std::move(since), self->settings.list_page_size,
                                                 self->settings.read_timeout);
    } catch (...) {
      failure = std::current_exception();
    }
    self->finish_list(group_id, std::move(picked), std::move(listing), min_create, failure);
  }

  steady::duration take_request_token() {
    if (!limiter) return steady::duration::zero();
    return limiter->acquire(rate_key, steady::now());
  }

  // Tries to refresh `index`'s group with one list call; false when single
  // reads are cheaper (or batching does not apply).
  bool try_batch(std::uint32_t index, std::int64_t now) {
    const auto& slot = slots[index];
    if (!settings.batching || slot.create_time == 0 || slot.group == none) return false;
    auto& group = groups[slot.group];
    if (group.list_in_flight || group.members.size() < 2 || now < group.next_batch_check_ms) return false;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> picked;
    std::int64_t min_create = std::numeric_limits<std::int64_t>::max();
    for (const auto member : group.members) {
      const auto& candidate = slots[member];
      if (candidate.flags & (in_flight | final_queued)) continue;
      if (candidate.create_time == 0) continue;
      // Due now, or within half its interval: a read soon anyway.
      if (candidate.due_ms - now > static_cast<std::int64_t>(candidate.interval_ms / 2) && member != index) continue;
      picked.emplace_back(member, candidate.generation);
      min_create = std::min(min_create, candidate.create_time);
    }
    const std::size_t estimate =
        group.last_list_min != 0 && group.last_list_min <= min_create ? std::max(group.last_listed, picked.size())
                                                                     : picked.size();
    if (!list_is_cheaper(settings, estimate, picked.size())) {
      // Look again only after a while: scanning a large group for every
      // single read would cost more than the reads.
      group.next_batch_check_ms = now + std::max<std::int64_t>(settings.first_interval.count(), 1);
      return false;
    }
    for (const auto& [member, generation] : picked) slots[member].flags |= in_flight | in_list;
    group.list_in_flight = true;
    ++in_flight_reads;
    asio::co_spawn(source.read_executor(),
                   read_list(shared_from_this(), slot.group, std::move(picked), group.context, min_create,
                             take_request_token()),
                   asio::detached);
    return true;
  }

  // Starts the reads that are due, as many as max_in_flight allows; returns
  // when to look again. The first due single read goes to `next` when it is
  // given (see finish()).
  std::int64_t dispatch(std::int64_t now, std::optional<read_job>* next = nullptr) {
    while (in_flight_reads < settings.max_in_flight && !due.empty()) {
      if (paused_until_ms > now) return paused_until_ms;
      const heap_entry top = due.top();
      if (top.due_ms > now) return top.due_ms;
      due.pop();
      auto& slot = slots[top.slot];
      if (!(slot.flags & alive) || slot.generation != top.generation || slot.due_ms != top.due_ms ||
          (slot.flags & (in_flight | final_queued)))
        continue;
      if (settings.batching && slot.create_time != 0 && groups[slot.group].list_in_flight) {
        groups[slot.group].waiting_for_list.emplace_back(top.slot, slot.generation);
        continue;
      }
      if (try_batch(top.slot, now)) continue;
      slot.flags |= in_flight;
      ++in_flight_reads;
      read_job job{top.slot,
                   slot.generation,
                   groups[slot.group].context,
                   execution_text(slot),
                   slot.unchanged + 1 >= full_parse_every ? 0 : slot.fingerprint,
                   take_request_token()};
      if (next != nullptr && !*next) {
        next->emplace(std::move(job));
        continue;
      }
      asio::co_spawn(source.read_executor(), read_one(shared_from_this(), std::move(job)), asio::detached);
    }
    if (in_flight_reads >= settings.max_in_flight) return never;  // a finishing read dispatches (finish())
    if (paused_until_ms > now) return paused_until_ms;
    return due.empty() ? never : due.top().due_ms;
  }

  static asio::awaitable<void> run(std::shared_ptr<state> self) {
    asio::steady_timer timer(self->strand);
    for (;;) {
      std::int64_t wake = never;
      {
        std::unique_lock lock(self->mutex);
        if (self->stopping) break;
        self->timer = &timer;
        self->kicked = false;
        wake = self->dispatch(self->now_ms());
        if (self->kicked) continue;
        self->planned_wake_ms = wake;
      }
      if (wake == never) timer.expires_at(steady::time_point::max());
      else timer.expires_at(self->started + milliseconds(wake));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    std::unique_lock lock(self->mutex);
    self->timer = nullptr;
  }
};

poller::poller(status_source source, poll_settings settings)
    : state_(std::make_shared<state>(std::move(source), settings)) {
  asio::co_spawn(state_->strand, state::run(state_), asio::detached);
}

poller::~poller() {
  std::vector<std::pair<user_destructor, void*>> destroy;
  {
    std::unique_lock lock(state_->mutex);
    state_->stopping = true;
    state_->changed.notify_all();
    if (state_->delivering_thread != std::this_thread::get_id())
      state_->changed.wait(lock, [&] { return !state_->delivering; });
    for (std::uint32_t index = 0; index < state_->slots.size(); ++index) {
      auto& slot = state_->slots[index];
      if (!(slot.flags & alive)) continue;
      if (slot.destroy_user != nullptr) destroy.emplace_back(slot.destroy_user, slot.user);
      slot.flags = 0;
    }
    state_->callback_events.clear();
    for (const auto& event : state_->queued_events)
      if (event.destroy_user != nullptr) destroy.emplace_back(event.destroy_user, event.user);
    state_->queued_events.clear();
    state_->kick();
  }
  for (const auto& [function, user] : destroy) function(user);
}

std::uint64_t poller::watch(watch_request request) {
  auto& self = *state_;
  if (request.context.credential_id.empty())
    throw error(errc::invalid_argument, "a watch needs the \"credential_id\" to read the execution with");
  self.source.validate(request.context);
  std::string amc_id = request.amc_execution_id;
  if (amc_id.empty()) {
    if (request.execution_id.empty())
      throw error(errc::invalid_argument, "a watch needs \"amc_execution_id\" or a journaled \"execution_id\"");
    amc_id = self.source.journaled_amc_id(request.execution_id);
  }
  self.source.validate_execution_id(amc_id);
  std::int64_t create_time = 0;
  if (!request.create_time.empty()) {
    const auto parsed = parse_utc(request.create_time);
    if (!parsed || *parsed <= 0)
      throw error(errc::invalid_argument,
                  fmt::format("create_time '{}' is not a time like 2026-11-28T15:26:01Z (AMC's createTime)",
                              request.create_time.substr(0, 40)));
    create_time = *parsed;
  }
  bool upper = false;
  const auto uuid = parse_uuid(amc_id, upper);

  std::unique_lock lock(self.mutex);
  if (self.stopping) throw error(errc::cancelled, "the poller is shutting down");
  std::uint32_t index;
  if (!self.free_slots.empty()) {
    index = self.free_slots.back();
    self.free_slots.pop_back();
  } else {
    if (self.slots.size() >= none - 1) throw error(errc::invalid_argument, "too many watches");
    index = static_cast<std::uint32_t>(self.slots.size());
    self.slots.emplace_back();
  }
  auto& slot = self.slots[index];
  slot.flags = alive;
  std::uint32_t* head = nullptr;
  if (uuid) {
    slot.id = *uuid;
    if (upper) slot.flags |= upper_hex;
    head = &self.by_uuid.try_emplace(*uuid, none).first->second;
  } else {
    slot.flags |= textual_id;
    slot.id.low = self.textual_ids.add(amc_id);
    head = &self.by_text.try_emplace(amc_id, none).first->second;
  }
  slot.next_same = *head;
  *head = index;
  auto [group, inserted] =
      self.group_index.try_emplace(group_key(request.context), static_cast<std::uint32_t>(self.groups.size()));
  if (inserted) {
    watch_group added;
    added.context = request.context;
    // Checked above (source.validate): every read of the group skips it.
    added.context.instance_checked = true;
    self.groups.push_back(std::move(added));
  }
  auto& members = self.groups[group->second].members;
  slot.group = group->second;
  slot.member_position = static_cast<std::uint32_t>(members.size());
  members.push_back(index);
  if (!request.execution_id.empty()) slot.journal_id = self.journal_ids.add(request.execution_id);
  slot.create_time = create_time;
  slot.interval_ms = static_cast<std::uint32_t>(self.settings.first_interval.count());
  slot.callback = request.callback;
  slot.user = request.user;
  slot.destroy_user = request.destroy_user;
  ++self.watched;
  self.schedule(index, self.now_ms());
  return watch_id_of(index, slot.generation);
}

void poller::unwatch(std::uint64_t watch_id) {
  auto& self = *state_;
  const auto index = static_cast<std::uint32_t>(watch_id & 0xffffffffu);
  const auto generation = static_cast<std::uint32_t>(watch_id >> 32);
  std::unique_lock lock(self.mutex);
  if (index >= self.slots.size() || !(self.slots[index].flags & alive) ||
      self.slots[index].generation != generation)
    throw error(errc::not_found,
                fmt::format("there is no watch {}: it has ended (its final event was delivered) or never existed",
                            watch_id));
  auto& slot = self.slots[index];
  if (!(slot.flags & final_queued)) self.detach(index);
  slot.flags &= static_cast<std::uint8_t>(~alive);
  self.erase_events_of(self.callback_events, index, generation);
  self.erase_events_of(self.queued_events, index, generation);
  const auto running = [&] { return self.running_slot == index && self.running_generation == generation; };
  if (running()) {
    if (self.delivering_thread == std::this_thread::get_id()) {
      // From inside its own callback: the deliverer ends it when the
      // callback returns.
      self.destroy_after_callback = true;
      return;
    }
    self.changed.wait(lock, [&] { return !running(); });
  }
  // (Re-read: another thread may have grown the slot vector meanwhile.)
  const auto destroy_user = self.slots[index].destroy_user;
  void* const user = self.slots[index].user;
  self.free_slot(index);
  lock.unlock();
  if (destroy_user != nullptr) destroy_user(user);
}

std::optional<std::string> poller::next_event(std::chrono::milliseconds timeout) {
  auto& self = *state_;
  std::unique_lock lock(self.mutex);
  if (!self.changed.wait_for(lock, timeout, [&] { return self.stopping || !self.queued_events.empty(); }))
    return std::nullopt;
  if (self.queued_events.empty()) return std::nullopt;
  pending_event event = std::move(self.queued_events.front());
  self.queued_events.pop_front();
  lock.unlock();
  if (event.destroy_user != nullptr) event.destroy_user(event.user);
  return std::move(event.json);
}

nlohmann::json poller::stats() const {
  const auto& self = *state_;
  std::unique_lock lock(self.mutex);
  const auto& count = self.count;
  json buckets = json::array();
  std::uint64_t seen = 0;
  std::optional<std::int64_t> p50, p99;
  for (std::size_t i = 0; i < count.latency.size(); ++i) {
    const json bound = i < latency_bounds_ms.size() ? json(latency_bounds_ms[i]) : json(nullptr);
    buckets.push_back({{"le_ms", bound}, {"count", count.latency[i]}});
    seen += count.latency[i];
    const std::int64_t upper = i < latency_bounds_ms.size() ? latency_bounds_ms[i] : -1;
    if (!p50 && count.latency_count > 0 && seen * 2 >= count.latency_count) p50 = upper;
    if (!p99 && count.latency_count > 0 && seen * 100 >= count.latency_count * 99) p99 = upper;
  }
  const auto bound = [](const std::optional<std::int64_t>& value) {
    return !value ? json(nullptr) : *value < 0 ? json("more") : json(*value);
  };
  return {{"watched", self.watched},
          {"requests_sent", count.get_requests + count.list_requests},
          {"get_requests", count.get_requests},
          {"unchanged_reads", count.unchanged_reads},
          {"list_requests", count.list_requests},
          {"batched_reads", count.batched_reads},
          {"executions_refreshed_by_lists", count.refreshed_by_lists},
          {"throttles", count.throttles},
          {"failed_reads", count.failed_reads},
          {"status_events", count.status_events},
          {"final_events", count.final_events},
          {"in_flight", self.in_flight_reads},
          {"queued_events", self.queued_events.size()},
          {"detection_latency_ms",
           {{"count", count.latency_count}, {"p50_le", bound(p50)}, {"p99_le", bound(p99)}, {"buckets", buckets}}}};
}

}  // namespace amc::poll
