// The poller's read loop: one scheduler coroutine on a strand starts the
// reads that are due (single GETs, or a batcher's list), and each read's
// outcome is applied to its watch here: the status event, the next read's
// time, the backoff and the end of a watch. What it reads and keeps is in
// watch_table.hpp, how several watches are read at once in batcher.hpp, and
// how events reach the host in event_queue.hpp; all of them are guarded by
// this file's one mutex. (Over 500 lines: the read loop is one object, the
// scheduler, the reads and what their outcomes do to a watch sharing that
// mutex and the hot path; cutting it further would split it by file.)
#include "poll/poller.hpp"

#include "common/error.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "net/io_strand.hpp"
#include "net/rate_limiter.hpp"
#include "poll/batcher.hpp"
#include "poll/detection_latency.hpp"
#include "poll/event_queue.hpp"
#include "poll/watch_table.hpp"
#include "poll/workflow_watches.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <random>
#include <utility>
#include <vector>

namespace amc::poll {

namespace asio = boost::asio;
using nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
// A 404 can be AMC not having caught up with a create yet; three in a row
// (each after a backoff) is an execution that does not exist.
constexpr int not_found_reads_before_giving_up = 3;
constexpr const char* rate_key = "poller";

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
  call_context context;
  std::string id;
  std::uint64_t seen = 0;
  steady::duration wait{};
};

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
        random(std::random_device{}()),
        batches(settings) {
    if (settings.requests_per_second > 0) {
      net::rate_limit_options ceiling;
      ceiling.requests_per_second = settings.requests_per_second;
      ceiling.burst = std::max(1.0, settings.requests_per_second / 10);
      ceiling.minimum_requests_per_second = std::min(0.5, settings.requests_per_second);
      limiter.emplace(ceiling);
    }
  }

  status_source source;
  const poll_settings settings;
  net::io_strand strand;
  const steady::time_point started;

  mutable std::mutex mutex;

  // Everything below is guarded by `mutex`.
  std::mt19937_64 random;
  std::optional<net::rate_limiter> limiter;
  bool stopping = false;
  bool kicked = false;
  asio::steady_timer* timer = nullptr;  // the scheduler's; touched on the strand only

  watch_table watches;
  batcher batches;
  event_queue events;
  workflow_watches workflows;           // what the workflow_kind watches have seen
  std::uint64_t workflow_list_requests = 0;  // their own list reads' pages
  int in_flight_reads = 0;
  std::int64_t paused_until_ms = 0;
  std::int64_t planned_wake_ms = 0;  // when the scheduler means to look next
  // Lines for the client's log, said by finish() once the mutex is
  // released: the host's log callback never runs under the poller's lock.
  std::vector<std::pair<log_level, std::string>> pending_logs;

  struct counters {
    std::uint64_t get_requests = 0, throttles = 0, unchanged_reads = 0, failed_reads = 0, status_events = 0,
                  final_events = 0, throttle_pauses = 0;
  } count;
  detection_latency latency;

  std::int64_t now_ms() const {
    return std::chrono::duration_cast<milliseconds>(steady::now() - started).count();
  }
  std::uint32_t now_seconds() const { return static_cast<std::uint32_t>(now_ms() / 1000 + 1); }
  double unit_random() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }

  void schedule(std::uint32_t index, std::int64_t due_ms) {
    watches.schedule(index, due_ms);
    if (due_ms < planned_wake_ms) kick();
  }

  // Wakes the scheduler: something is due sooner or a read finished.
  void kick() {
    kicked = true;
    planned_wake_ms = 0;
    asio::post(strand, [self = shared_from_this()] {
      if (self->timer != nullptr) self->timer->cancel();
    });
  }

  json event_base(std::uint32_t index, std::string_view kind, bool final) const {
    const auto& slot = watches.slot(index);
    if (slot.flags & workflow_kind)
      return {{"event", kind},
              {"watch_id", watch_id_of(index, slot.generation)},
              {"workflow_id", workflows.workflow_id(index)},
              {"terminal", final}};
    json event = {{"event", kind},
                  {"watch_id", watch_id_of(index, slot.generation)},
                  {"amc_execution_id", watches.execution_text(slot)},
                  {"terminal", final}};
    if (const auto* execution_id = watches.journal_text(slot)) event["execution_id"] = *execution_id;
    return event;
  }

  // Queues an event; a final one ends the watch's reads (and, for a watch
  // without a callback, the watch itself: its destructor travels with the
  // event).
  void queue_event(std::uint32_t index, json event, bool final) {
    auto& slot = watches.slot(index);
    pending_event pending{index, slot.generation, final, event.dump()};
    if (final) {
      ++count.final_events;
      slot.flags |= final_queued;
      watches.detach(index);
    }
    if (slot.callback != nullptr) {
      events.push_for_callback(std::move(pending));
      return;
    }
    if (final) {
      pending.destroy_user = slot.destroy_user;
      pending.user = slot.user;
      watches.release(index);
    }
    events.push_for_next_event(std::move(pending));
  }

  // A read of `index` answered with `execution` (flat), by a GET or as part
  // of a list.
  void apply_execution(std::uint32_t index, const json& execution, bool from_list = false) {
    auto& slot = watches.slot(index);
    slot.flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
    // A list entry is not a GET reply: the next GET is parsed in full.
    if (from_list) slot.fingerprint = 0;
    const auto status_field = execution.is_object() ? execution.find("status") : execution.end();
    if (!execution.is_object() || status_field == execution.end() || !status_field->is_string()) {
      apply_failure(index, error(errc::protocol, "AMC's execution has no status"));
      return;
    }
    const std::string& status = status_field->get_ref<const std::string&>();
    const auto phase = source.phase_of(status);
    if (slot.create_time == 0)
      if (const auto created = execution.find("createTime"); created != execution.end() && created->is_string())
        slot.create_time = parse_utc(created->get_ref<const std::string&>()).value_or(0);
    if (slot.history == none)
      if (const auto workflow = execution.find("workflowId"); workflow != execution.end() && workflow->is_string())
        slot.history = watches.history_of(slot.group, workflow->get_ref<const std::string&>());
    slot.failures = 0;
    slot.not_found = 0;
    const auto status_id = watches.intern_status(status);
    const bool status_changed = status_id != slot.status || status_id == 0;
    const bool final = phase == read_phase::terminal;
    const auto now_s = now_seconds();
    if (status_changed) {
      if (phase == read_phase::running && slot.running_since_s == 0) slot.running_since_s = now_s;
      if (final && slot.running_since_s != 0 && slot.history != none) {
        auto& history = watches.history(slot.history);
        const double took = static_cast<double>(now_s - slot.running_since_s);
        history.running_seconds =
            history.samples == 0 ? took : 0.8 * history.running_seconds + 0.2 * took;
        ++history.samples;
      }
      if (slot.status != 0) latency.record(execution, std::chrono::system_clock::now());
      json event = event_base(index, "status", final);
      event["status"] = status;
      event["previous_status"] = slot.status == 0 ? json(nullptr) : json(watches.status_text(slot.status));
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
    auto& slot = watches.slot(index);
    slot.flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
    slot.failures = 0;
    slot.not_found = 0;
    schedule_after_read(index, source.phase_of(watches.status_text(slot.status)), false, false);
  }

  // The next read of a watch after a successful one: the interval grows (or
  // starts again after a change), shortened near the expected finish.
  void schedule_after_read(std::uint32_t index, read_phase phase, bool status_changed, bool from_list) {
    auto& slot = watches.slot(index);
    const auto now_s = now_seconds();
    slot.interval_ms = static_cast<std::uint32_t>(
        next_interval(settings, milliseconds(slot.interval_ms), status_changed).count());
    finish_hint hint;
    hint.publishing = phase == read_phase::publishing;
    if (phase == read_phase::running && slot.running_since_s != 0 && slot.history != none &&
        watches.history(slot.history).samples > 0)
      hint.seconds_to_expected_finish =
          watches.history(slot.history).running_seconds - static_cast<double>(now_s - slot.running_since_s);
    auto interval = milliseconds(slot.interval_ms);
    if (from_list) interval = std::min(interval, settings.batched_interval);
    schedule(index, now_ms() + delay_before_next_read(settings, interval, hint, unit_random()).count());
  }

  void apply_failure(std::uint32_t index, const error& failure) {
    auto& slot = watches.slot(index);
    slot.flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
    slot.fingerprint = 0;  // after any failure the next reply is parsed in full
    const auto code = failure.code_value();
    const auto now = now_ms();
    if (code == errc::throttled) {
      // AMC's limit holds for every request of this client: wait it out for
      // every watch, and keep this one. The wait is what Retry-After asked,
      // capped where the reply arrived (retry.max_retry_after_ms of the
      // client, src/net): no single reply can hold the poller longer
      // (issue 23 kind 2).
      const auto wait = failure.retry_after().value_or(std::max(settings.first_interval, milliseconds(1000)));
      if (paused_until_ms <= now) {
        ++count.throttle_pauses;
        pending_logs.emplace_back(
            log_level::info,
            fmt::format("poller: AMC throttled a status read of {} (HTTP 429{}); every read of the poller waits "
                        "{} ms",
                        watches.execution_text(slot),
                        failure.retry_after() ? ", Retry-After capped by retry.max_retry_after_ms" : "",
                        wait.count()));
      }
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

  // After a read: the freed place goes at once to a read that is due (no
  // round trip through the scheduler's strand and timer, which matters when
  // every place is busy); the scheduler is woken only when it now sleeps
  // past the next due read. With `next`, the first due single read is
  // handed to the finishing read's coroutine, which carries on with it,
  // instead of being started as a coroutine of its own.
  void finish(std::unique_lock<std::mutex>& lock, std::optional<read_job>* next = nullptr) {
    if (!stopping && dispatch(now_ms(), next) < planned_wake_ms) kick();
    events.deliver(lock, watches);
    if (!pending_logs.empty()) {
      auto lines = std::exchange(pending_logs, {});
      lock.unlock();
      for (const auto& [level, line] : lines) source.log().log(level, line);
      lock.lock();
    }
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
                                     std::optional<execution_read> read, std::exception_ptr failure) {
    std::unique_lock lock(mutex);
    --in_flight_reads;
    ++count.get_requests;
    if (stopping) return std::nullopt;
    auto& slot = watches.slot(index);
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

  // What a list's outcome does to each watch (see batcher.hpp).
  struct list_outcome_of final : list_outcome {
    explicit list_outcome_of(state& owner_in) : owner(owner_in) {}
    void refreshed(std::uint32_t index, const json& execution) override {
      owner.apply_execution(index, execution, true);
    }
    void failed(std::uint32_t index, const error& failure) override { owner.apply_failure(index, failure); }
    void read_at(std::uint32_t index, std::int64_t due_ms) override { owner.schedule(index, due_ms); }
    void read_now(std::uint32_t index) override { owner.schedule(index, owner.now_ms()); }
    state& owner;
  };

  void finish_list(const list_read& read, std::optional<status_source::listing> listing, std::exception_ptr failure,
                   int pages_read) {
    std::unique_lock lock(mutex);
    --in_flight_reads;
    batches.list_ended(read.group, std::max(1, pages_read));
    if (stopping) return;
    list_outcome_of outcome(*this);
    if (listing) {
      apply_listing_to_workflows(read, listing->executions);
      batches.apply_listing(watches, read, listing->executions, outcome);
    } else {
      ++count.failed_reads;
      const auto problem = as_error(failure);
      if (problem.code_value() == errc::throttled) ++count.throttles;
      if (batcher::never_finished(problem)) {
        // A list that cannot finish (pages without end, or past its time)
        // must not starve its watches: they are read one by one, at once.
        const auto handed = batches.fall_back(watches, read, now_ms() + settings.list_fallback.count(), outcome);
        const auto& context = watches.group(read.group).context;
        pending_logs.emplace_back(
            log_level::warning,
            fmt::format("poller: gave up a list read of instance {} (credential {}) after {} page(s): {}; its "
                        "{} watch(es) are read with single status reads now, and the instance's watches are "
                        "not batched for {} s (list_max_pages {}, list_timeout_ms {}, list_fallback_ms)",
                        context.instance_id, context.credential_id, std::max(1, pages_read), problem.message(),
                        handed, settings.list_fallback.count() / 1000, settings.list_max_pages,
                        list_budget().count()));
      } else {
        batches.apply_failure(watches, read, problem, outcome);
      }
    }
    batches.release_waiting(watches, read.group, now_ms(), paused_until_ms, outcome);
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
      std::optional<execution_read> read;
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

  // A list read's deadline: list_timeout_ms, or read_timeout_ms when shorter.
  milliseconds list_budget() const { return std::min(settings.list_timeout, settings.read_timeout); }

  static asio::awaitable<void> read_list(std::shared_ptr<state> self, list_read read, call_context context,
                                         steady::duration wait) {
    std::optional<status_source::listing> listing;
    std::exception_ptr failure;
    int pages_read = 0;  // kept by the list, also when it fails
    try {
      co_await pace(wait);
      std::string since = format_utc(read.min_create);
      since.pop_back();  // AMC's filter is yyyy-MM-ddTHH:mm:ss, without the Z
      listing = co_await self->source.list_since(std::move(context), std::move(since), self->settings.list_page_size,
                                                 self->settings.list_max_pages, self->list_budget(), &pages_read);
    } catch (...) {
      failure = std::current_exception();
    }
    self->finish_list(read, std::move(listing), failure, pages_read);
  }

  steady::duration take_request_token() {
    if (!limiter) return steady::duration::zero();
    return limiter->acquire(rate_key, steady::now());
  }

  // Tries to refresh `index`'s group with one list call; false when single
  // reads are cheaper (or batching does not apply).
  bool try_batch(std::uint32_t index, std::int64_t now) {
    auto read = batches.plan(watches, index, now);
    if (!read) return false;
    ++in_flight_reads;
    const auto& context = watches.group(read->group).context;
    asio::co_spawn(source.read_executor(),
                   read_list(shared_from_this(), std::move(*read), context, take_request_token()),
                   asio::detached);
    return true;
  }

  // Starts the reads that are due, as many as max_in_flight allows; returns
  // when to look again. The first due single read goes to `next` when it is
  // given (see finish()).
  std::int64_t dispatch(std::int64_t now, std::optional<read_job>* next = nullptr) {
    while (in_flight_reads < settings.max_in_flight && watches.has_due()) {
      if (paused_until_ms > now) return paused_until_ms;
      const heap_entry top = watches.first_due();
      if (top.due_ms > now) return top.due_ms;
      watches.pop_due();
      if (!watches.is_readable(top)) continue;
      if (batches.wait_for_list(watches, top.slot)) continue;
      if (try_batch(top.slot, now)) continue;
      if (watches.slot(top.slot).flags & workflow_kind) {
        start_workflow_read(top.slot);
        continue;
      }
      auto& slot = watches.slot(top.slot);
      slot.flags |= in_flight;
      ++in_flight_reads;
      read_job job{top.slot,
                   slot.generation,
                   watches.group(slot.group).context,
                   watches.execution_text(slot),
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
    return watches.has_due() ? watches.first_due().due_ms : never;
  }


  // --- Watches of a workflow id (workflow_watches.hpp) ---------------------

  static std::int64_t wall_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // A listing reached workflow watch `index`: its events queued, what its
  // next list needs (slot.create_time, which lets the batcher pick it for an
  // instance-wide list) and its next read.
  void apply_workflow_listing(std::uint32_t index, const json& executions, bool from_list) {
    auto& slot = watches.slot(index);
    slot.flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
    slot.failures = 0;
    slot.not_found = 0;
    auto changes = workflows.apply(index, executions, wall_seconds(),
                                   [this](std::string_view status) { return source.phase_of(status); });
    const bool changed = !changes.events.empty();
    for (auto& event : changes.events) {
      event["watch_id"] = watch_id_of(index, slot.generation);
      ++count.status_events;
      queue_event(index, std::move(event), false);
    }
    watches.slot(index).create_time = workflows.list_since(index);
    auto& current = watches.slot(index);
    current.interval_ms = static_cast<std::uint32_t>(
        next_interval(settings, milliseconds(current.interval_ms), changed).count());
    finish_hint hint;
    hint.publishing = changes.publishing;
    auto interval = milliseconds(current.interval_ms);
    if (from_list) interval = std::min(interval, settings.batched_interval);
    schedule(index, now_ms() + delay_before_next_read(settings, interval, hint, unit_random()).count());
  }

  // An instance-wide list of `read.group` (the batcher's) also serves the
  // workflow watches of that group: those it picked, and those not being
  // read whose next list it covers (it listed from their minCreationTime on
  // or earlier). Before the batcher applies it, so that the workflow
  // watches it picked are no longer "picked but not listed" there.
  void apply_listing_to_workflows(const list_read& read, const json& executions) {
    for (const auto& [index, generation] : workflows.watches()) {
      if (!watches.is_current(index, generation)) {
        workflows.remove(index);
        continue;
      }
      const auto& slot = watches.slot(index);
      if (slot.group != read.group || (slot.flags & final_queued)) continue;
      const bool picked = (slot.flags & in_list) != 0;
      const bool covered = !(slot.flags & in_flight) && read.min_create <= slot.create_time;
      if (picked || covered) apply_workflow_listing(index, executions, true);
    }
  }

  // A workflow watch's own read: its workflow's executions since what it
  // needs, one paged list (when no instance-wide list serves it).
  void start_workflow_read(std::uint32_t index) {
    auto& slot = watches.slot(index);
    slot.flags |= in_flight;
    ++in_flight_reads;
    std::string since = format_utc(workflows.list_since(index));
    since.pop_back();  // AMC's filter is yyyy-MM-ddTHH:mm:ss, without the Z
    asio::co_spawn(source.read_executor(),
                   read_workflow(shared_from_this(), index, slot.generation, watches.group(slot.group).context,
                                 workflows.workflow_id(index), std::move(since), take_request_token()),
                   asio::detached);
  }

  static asio::awaitable<void> read_workflow(std::shared_ptr<state> self, std::uint32_t index,
                                             std::uint32_t generation, call_context context, std::string workflow_id,
                                             std::string since, steady::duration wait) {
    std::optional<status_source::listing> listing;
    std::exception_ptr failure;
    int pages_read = 0;  // kept by the list, also when it fails
    try {
      co_await pace(wait);
      listing = co_await self->source.list_workflow_since(std::move(context), std::move(workflow_id),
                                                          std::move(since), self->settings.list_page_size,
                                                          self->settings.list_max_pages, self->list_budget(),
                                                          &pages_read);
    } catch (...) {
      failure = std::current_exception();
    }
    self->finish_workflow_read(index, generation, std::move(listing), failure, pages_read);
  }

  void finish_workflow_read(std::uint32_t index, std::uint32_t generation,
                            std::optional<status_source::listing> listing, std::exception_ptr failure,
                            int pages_read) {
    std::unique_lock lock(mutex);
    --in_flight_reads;
    workflow_list_requests += static_cast<std::uint64_t>(std::max(pages_read, 1));
    if (stopping) return;
    const auto& slot = watches.slot(index);
    if (watches.is_current(index, generation) && (slot.flags & in_flight) && !(slot.flags & final_queued) &&
        workflows.has(index, generation)) {
      if (listing) {
        apply_workflow_listing(index, listing->executions, false);
      } else {
        ++count.failed_reads;
        const auto problem = as_error(failure);
        if (problem.code_value() == errc::throttled) ++count.throttles;
        apply_failure(index, problem);
      }
    }
    finish(lock);
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
    state_->events.stop(lock);
    auto& watches = state_->watches;
    for (std::uint32_t index = 0; index < watches.slot_count(); ++index) {
      auto& slot = watches.slot(index);
      if (!(slot.flags & alive)) continue;
      if (slot.destroy_user != nullptr) destroy.emplace_back(slot.destroy_user, slot.user);
      slot.flags = 0;
    }
    state_->events.clear(destroy);
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

  std::unique_lock lock(self.mutex);
  if (self.stopping) throw error(errc::cancelled, "the poller is shutting down");
  const auto index = self.watches.add({.context = request.context,
                                       .amc_execution_id = amc_id,
                                       .execution_id = request.execution_id,
                                       .create_time = create_time,
                                       .interval_ms = static_cast<std::uint32_t>(self.settings.first_interval.count()),
                                       .callback = request.callback,
                                       .user = request.user,
                                       .destroy_user = request.destroy_user});
  self.schedule(index, self.now_ms());
  return watch_id_of(index, self.watches.slot(index).generation);
}

std::uint64_t poller::watch_workflow(workflow_watch_request request) {
  auto& self = *state_;
  if (request.context.credential_id.empty())
    throw error(errc::invalid_argument, "a watch needs the \"credential_id\" to list the workflow's runs with");
  self.source.validate(request.context);
  if (request.workflow_id.empty())
    throw error(errc::invalid_argument, "a watch of a workflow needs its \"workflow_id\" (AMC's workflowId)");
  self.source.validate_workflow_id(request.workflow_id);
  std::int64_t since = state::wall_seconds();
  if (!request.since.empty()) {
    const auto parsed = parse_utc(request.since);
    if (!parsed || *parsed <= 0)
      throw error(errc::invalid_argument,
                  fmt::format("since '{}' is not a time like 2026-11-28T15:26:01Z (AMC's createTime, UTC)",
                              request.since.substr(0, 40)));
    since = *parsed;
  }

  std::unique_lock lock(self.mutex);
  if (self.stopping) throw error(errc::cancelled, "the poller is shutting down");
  const auto index = self.watches.add({.context = request.context,
                                       .create_time = since,
                                       .interval_ms = static_cast<std::uint32_t>(self.settings.first_interval.count()),
                                       .callback = request.callback,
                                       .user = request.user,
                                       .destroy_user = request.destroy_user,
                                       .workflow = true});
  const auto generation = self.watches.slot(index).generation;
  self.workflows.add(index, generation, std::move(request.workflow_id), since);
  self.watches.slot(index).create_time = self.workflows.list_since(index);
  self.schedule(index, self.now_ms());
  return watch_id_of(index, generation);
}

void poller::unwatch(std::uint64_t watch_id) {
  auto& self = *state_;
  const auto index = static_cast<std::uint32_t>(watch_id & 0xffffffffu);
  const auto generation = static_cast<std::uint32_t>(watch_id >> 32);
  std::unique_lock lock(self.mutex);
  if (!self.watches.is_current(index, generation))
    throw error(errc::not_found,
                fmt::format("there is no watch {}: it has ended (its final event was delivered) or never existed",
                            watch_id));
  auto& slot = self.watches.slot(index);
  if (!(slot.flags & final_queued)) self.watches.detach(index);
  slot.flags &= static_cast<std::uint8_t>(~alive);
  if (!self.events.forget(lock, index, generation)) return;
  // (Re-read: another thread may have grown the slot vector meanwhile.)
  const auto destroy_user = self.watches.slot(index).destroy_user;
  void* const user = self.watches.slot(index).user;
  self.watches.release(index);
  lock.unlock();
  if (destroy_user != nullptr) destroy_user(user);
}

std::optional<std::string> poller::next_event(std::chrono::milliseconds timeout) {
  auto& self = *state_;
  std::unique_lock lock(self.mutex);
  auto event = self.events.next(lock, timeout);
  if (!event) return std::nullopt;
  lock.unlock();
  if (event->destroy_user != nullptr) event->destroy_user(event->user);
  return std::move(event->json);
}

nlohmann::json poller::stats() const {
  const auto& self = *state_;
  std::unique_lock lock(self.mutex);
  const auto& count = self.count;
  const auto list_requests = self.batches.list_requests() + self.workflow_list_requests;
  return {{"watched", self.watches.watched()},
          {"requests_sent", count.get_requests + list_requests},
          {"get_requests", count.get_requests},
          {"unchanged_reads", count.unchanged_reads},
          {"list_requests", list_requests},
          {"workflow_list_requests", self.workflow_list_requests},
          {"new_executions", self.workflows.new_executions()},
          {"batched_reads", self.batches.batched_reads()},
          {"executions_refreshed_by_lists", self.batches.refreshed_by_lists()},
          {"throttles", count.throttles},
          {"throttle_pauses", count.throttle_pauses},
          {"list_fallbacks", self.batches.list_fallbacks()},
          {"failed_reads", count.failed_reads},
          {"status_events", count.status_events},
          {"final_events", count.final_events},
          {"in_flight", self.in_flight_reads},
          {"queued_events", self.events.queued()},
          {"detection_latency_ms", self.latency.to_json()}};
}

}  // namespace amc::poll
