#include "api/executions.hpp"

#include "api/preflight.hpp"
#include "api/shapes.hpp"
#include "common/error.hpp"
#include "common/text.hpp"
#include "common/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <openssl/sha.h>

namespace amc::api {

namespace asio = boost::asio;

namespace {

// How far before the journaled send time to look for our execution in the
// list (clocks differ between us and AMC).
constexpr unix_seconds reconcile_margin_seconds = 120;

using wall_clock = std::chrono::system_clock;

wall_clock::time_point wall_time(unix_seconds when) { return wall_clock::time_point(std::chrono::seconds(when)); }

std::string fingerprint_of(const call_context& context, const nlohmann::json& request) {
  const std::string text = context.instance_id + "\n" + request.dump();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  for (int i = 0; i < 16; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

// The workflow id the execution will carry: the saved one, or for an ad-hoc
// run one we set ourselves, so that the list endpoint can find it again.
std::string workflow_id_of(nlohmann::json& request, const std::string& execution_id) {
  if (request.contains("workflowId") && request["workflowId"].is_string())
    return request["workflowId"].get<std::string>();
  auto& inline_workflow = request["workflow"];
  if (!inline_workflow.contains("workflowId") || !inline_workflow["workflowId"].is_string())
    inline_workflow["workflowId"] = "adhoc_" + execution_id;
  return inline_workflow["workflowId"].get<std::string>();
}

bool outcome_unknown(const error& problem) {
  // The request may have reached AMC: no HTTP status came back.
  const auto code = problem.code_value();
  return code == errc::network || code == errc::timeout || code == errc::protocol;
}

// AMC's list wants "yyyy-MM-ddTHH:mm:ss" without a zone.
std::string amc_time(unix_seconds when) {
  auto text = format_utc(when);
  text.pop_back();
  return text;
}

// A parameter value as AMC keeps it: text (numbers and booleans are sent as
// their JSON text, and AMC lists them as text).
std::string parameter_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

nlohmann::json parameter_map(const nlohmann::json* values) {
  nlohmann::json map = nlohmann::json::object();
  if (values == nullptr || !values->is_object()) return map;
  for (const auto& [name, value] : values->items())
    if (!value.is_null()) map[name] = parameter_text(value);
  return map;
}

const nlohmann::json* field_of(const nlohmann::json& object, const char* name) {
  const auto found = object.find(name);
  return found == object.end() || found->is_null() ? nullptr : &*found;
}

// Whether two timestamps are the same instant; AMC may echo
// "2026-01-01T00:00:00" as "2026-01-01T00:00:00Z" or with fractions.
bool same_time(const nlohmann::json& listed, const nlohmann::json& sent) {
  if (!listed.is_string() || !sent.is_string()) return listed == sent;
  const auto a = parse_utc(listed.get_ref<const std::string&>());
  const auto b = parse_utc(sent.get_ref<const std::string&>());
  return a && b ? *a == *b : listed == sent;
}

// Why a listed execution of our workflow is not the one `request` created
// (empty: it may be). The workflow id and creation time alone cannot tell
// our run from another host's run of the same saved workflow at the same
// moment, so the request's own fields must match too: every field AMC
// lists back that `request` determines. A field AMC does not list is no
// evidence either way. A relative window (MOST_RECENT_DAY, ...) comes back
// only as resolved start and end, which depend on the creation time, so
// only its type (when listed) is compared.
std::string mismatch_of(const nlohmann::json& listed, const nlohmann::json& request) {
  if (const auto* values = field_of(listed, "parameterValues"); values && values->is_object())
    if (parameter_map(values) != parameter_map(field_of(request, "parameterValues")))
      return "its parameterValues differ";

  const auto* sent_zone = field_of(request, "timeWindowTimeZone");
  const std::string zone = sent_zone && sent_zone->is_string() ? sent_zone->get<std::string>() : "UTC";
  if (const auto* listed_zone = field_of(listed, "timeWindowTimeZoneOriginal");
      listed_zone && listed_zone->is_string() && listed_zone->get_ref<const std::string&>() != zone)
    return "its timeWindowTimeZone differs";

  const auto* sent_start = field_of(request, "timeWindowStart");
  const auto* sent_end = field_of(request, "timeWindowEnd");
  const auto* sent_type = field_of(request, "timeWindowType");
  const std::string type = sent_type && sent_type->is_string() ? sent_type->get<std::string>()
                           : sent_start                        ? "EXPLICIT"
                                                               : "MOST_RECENT_DAY";
  if (const auto* listed_type = field_of(listed, "timeWindowType");
      listed_type && listed_type->is_string() && listed_type->get_ref<const std::string&>() != type)
    return "its timeWindowType differs";
  if (type == "EXPLICIT") {
    // The *Original fields echo what was sent; the plain ones are converted
    // to UTC from the time zone, so they compare only when that is UTC.
    const std::pair<const char*, const nlohmann::json*> ends[] = {{"timeWindowStart", sent_start},
                                                                  {"timeWindowEnd", sent_end}};
    for (const auto& [name, sent] : ends) {
      if (sent == nullptr) continue;
      const auto* original = field_of(listed, fmt::format("{}Original", name).c_str());
      const auto* resolved = zone == "UTC" ? field_of(listed, name) : nullptr;
      const auto* echoed = original != nullptr ? original : resolved;
      if (echoed != nullptr && !same_time(*echoed, *sent)) return fmt::format("its {} differs", name);
    }
  }

  if (const auto* sent_timeout = field_of(request, "workflowExecutionTimeoutSeconds")) {
    const auto* listed_timeout = field_of(listed, "workflowExecutionTimeoutSeconds");
    if (listed_timeout != nullptr && parameter_text(*listed_timeout) != parameter_text(*sent_timeout))
      return "its workflowExecutionTimeoutSeconds differs";
  }
  for (const char* flag : {"dryRun", "skipPublish", "requireSyntheticData", "disableAggregationControls"}) {
    const auto* listed_flag = field_of(listed, flag);
    if (listed_flag == nullptr || !listed_flag->is_boolean()) continue;
    const auto* sent_flag = field_of(request, flag);
    const bool sent_value = sent_flag != nullptr && sent_flag->is_boolean() && sent_flag->get<bool>();
    if (listed_flag->get<bool>() != sent_value) return fmt::format("its {} differs", flag);
  }
  return {};
}

asio::awaitable<std::optional<nlohmann::json>> find_lost_submission(
    session& amc, store::execution_journal& journal, const call_context& context,
    const store::journal_entry& entry, const nlohmann::json& request, const logger& log) {
  nlohmann::json filters = {{"workflowId", entry.workflow_id},
                            {"minCreationTime", amc_time(entry.started_at - reconcile_margin_seconds)},
                            {"includeCancelled", true},
                            {"sortAscending", true}};
  const auto listing = co_await list_executions(amc, context, filters);
  for (const auto& execution : listing["executions"]) {
    const std::string id = execution.value("workflowExecutionId", "");
    if (id.empty() || journal.is_claimed(id, entry.execution_id)) continue;
    if (const auto why_not = mismatch_of(execution, request); !why_not.empty()) {
      log.log(log_level::debug, fmt::format("AMC execution {} of workflow {} is not the lost submission of {}: {}",
                                            id, entry.workflow_id, entry.execution_id, why_not));
      continue;
    }
    log.log(log_level::info, fmt::format("execution {} was created by an earlier attempt as AMC "
                                         "execution {}; re-attaching",
                                         entry.execution_id, id));
    co_return execution;
  }
  co_return std::nullopt;
}

// The result of finding our execution in AMC's list: journal it, return it.
submission adopt(store::execution_journal& journal, const std::string& execution_id, nlohmann::json found,
                 const amc::deadline& until) {
  submission adopted;
  adopted.execution_id = execution_id;
  adopted.amc_execution_id = found["workflowExecutionId"].get<std::string>();
  journal.complete(execution_id, adopted.amc_execution_id, until);
  adopted.execution = std::move(found);
  adopted.reattached = true;
  return adopted;
}

asio::awaitable<submission> reattach(session& amc, const call_context& context, const store::journal_entry& entry) {
  submission result;
  result.execution_id = entry.execution_id;
  result.amc_execution_id = entry.amc_execution_id;
  result.execution = co_await get_execution(amc, context, entry.amc_execution_id);
  result.reattached = true;
  co_return result;
}

// What became of the attempt journaled in `entry`, whose outcome is
// unknown (see submit_execution for the rule): the execution it created
// (found in AMC's list, or journaled meanwhile by the process that sent
// it), or nullopt once a search proves it created none. `window_end` is
// when the attempt stopped being able to create one.
asio::awaitable<std::optional<nlohmann::json>> resolve_unknown_outcome(
    session& amc, store::execution_journal& journal, const call_context& context, store::journal_entry entry,
    const nlohmann::json& request, wall_clock::time_point window_end, const submit_options& options,
    const logger& log) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (bool logged = false;; logged = true) {
    // The process that sent it may have recorded the answer, or sent again.
    if (const auto current = journal.find(entry.execution_id)) {
      if (!current->amc_execution_id.empty()) {
        auto execution = co_await get_execution(amc, context, current->amc_execution_id);
        co_return execution;
      }
      if (current->started_at != entry.started_at) {
        window_end = std::max(window_end, wall_time(current->started_at + 1) + options.create_window);
        entry = *current;
      }
    }
    const auto searched_at = wall_clock::now();
    if (auto found = co_await find_lost_submission(amc, journal, context, entry, request, log)) co_return found;
    const auto proof_from = window_end + options.list_lag;
    if (searched_at >= proof_from) co_return std::nullopt;
    const auto wait = std::min<std::chrono::milliseconds>(
        options.list_interval,
        std::chrono::ceil<std::chrono::milliseconds>(proof_from - wall_clock::now()) + std::chrono::milliseconds(1));
    if (context.deadline.time_left() < wait + unknown_outcome_reserve(context.deadline))
      throw error(errc::timeout,
                  fmt::format("the outcome of the create request of execution {} sent at {} is still unknown: "
                              "AMC's list does not show it yet, and it could still appear until {}; nothing "
                              "was sent again. Submit the same execution_id again after that time: it then "
                              "re-attaches to the execution or creates it",
                              entry.execution_id, format_utc(entry.started_at),
                              format_utc(std::chrono::duration_cast<std::chrono::seconds>(
                                             proof_from.time_since_epoch())
                                             .count() +
                                         1)),
                  {{"execution_id", entry.execution_id}});
    if (!logged)
      log.log(log_level::info,
              fmt::format("execution {}: AMC's list does not show the earlier create request (sent at {}) yet; "
                          "searching again until its outcome is known",
                          entry.execution_id, format_utc(entry.started_at)));
    timer.expires_after(std::max(wait, std::chrono::milliseconds(1)));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace

std::chrono::milliseconds unknown_outcome_reserve(const amc::deadline& deadline) {
  return std::min<std::chrono::milliseconds>(deadline.budget / 10, std::chrono::seconds(5));
}

std::string journaled_amc_id(store::execution_journal& journal, const std::string& execution_id) {
  store::validate_execution_id(execution_id);
  const auto entry = journal.find(execution_id);
  if (!entry || entry->amc_execution_id.empty())
    throw error(errc::not_found,
                fmt::format("no submitted execution '{}' in the journal; give its amc_execution_id "
                            "or submit it first",
                            execution_id));
  return entry->amc_execution_id;
}

asio::awaitable<submission> submit_execution(session& amc, store::execution_journal& journal,
                                             const call_context& context, std::string execution_id,
                                             nlohmann::json request, const logger& log, submit_options options) {
  validate_instance_context(context);
  validate_execution_request(request);
  if (execution_id.empty()) execution_id = store::new_execution_id();
  store::validate_execution_id(execution_id);

  const std::string workflow_id = workflow_id_of(request, execution_id);
  store::journal_entry proposed;
  proposed.execution_id = execution_id;
  proposed.instance_id = context.instance_id;
  proposed.workflow_id = workflow_id;
  proposed.fingerprint = fingerprint_of(context, request);
  proposed.started_at = now_unix_seconds();
  if (const auto inline_workflow = request.find("workflow"); inline_workflow != request.end())
    if (const auto format = inline_workflow->find("outputFormat"); format != inline_workflow->end() && format->is_object())
      proposed.output_format = format->dump();
  auto [entry, is_new] = journal.begin(proposed, context.deadline);

  submission result;
  result.execution_id = execution_id;
  if (!is_new) {
    if (entry.fingerprint != proposed.fingerprint)
      throw error(errc::conflict,
                  fmt::format("execution id '{}' was already used for a different request; use a "
                              "new execution id for a new run",
                              execution_id));
    // An earlier attempt: answered (re-attach), or its outcome is unknown
    // (another process is sending it now, or died while sending it).
    while (entry.amc_execution_id.empty()) {
      const auto window_end = wall_time(entry.started_at + 1) + options.create_window;
      if (auto found = co_await resolve_unknown_outcome(amc, journal, context, entry, request, window_end,
                                                        options, log))
        co_return adopt(journal, execution_id, std::move(*found), context.deadline);
      const auto now = now_unix_seconds();
      if (journal.claim_resend(execution_id, entry.started_at, now, context.deadline)) {
        entry.started_at = now;
        break;
      }
      // Another process resent it, or AMC refused it and the id was freed.
      auto [current, restarted] = journal.begin(proposed, context.deadline);
      if (restarted) {
        entry = current;
        break;
      }
      entry = current;
    }
    if (!entry.amc_execution_id.empty()) co_return co_await reattach(amc, context, entry);
  }

  const bool counted_adhoc = is_counted_adhoc_run(request);
  for (int attempt = 0;; ++attempt) {
    // An ad-hoc run AMC refused (HTTP 400/422, or an execution created
    // REJECTED): whether the day's ad-hoc runs are used up is read from
    // AMC's list (throw_if_adhoc_quota_used), never from AMC's words.
    std::optional<error> refused;
    std::optional<nlohmann::json> created;
    try {
      auto execution = co_await create_execution(amc, context, request);
      if (counted_adhoc && execution.value("phase", "") == "rejected") {
        std::string reason = failure_reason(execution);
        co_await throw_if_adhoc_quota_used(amc, context, std::move(reason));
      }
      created = std::move(execution);
    } catch (const error& problem) {
      if (!outcome_unknown(problem) || attempt > 0) {
        if (!outcome_unknown(problem)) journal.forget(execution_id, context.deadline);
        if (!(counted_adhoc && problem.code_value() == errc::invalid_argument)) throw;
        refused = problem;
      } else {
        log.log(log_level::warning,
                fmt::format("the create request of execution {} got no answer ({}); looking for it "
                            "in AMC before sending it again",
                            execution_id, problem.message()));
      }
    }
    if (created) {
      // Journaled outside the try above: AMC has created the run, so a store
      // that fails now (a lock not granted within the deadline, a full disk)
      // must not be taken for AMC refusing the create, which forgets the
      // attempt; the attempt stays journaled as sent, and the next submit of
      // this execution_id finds the run in AMC's list instead of creating a
      // second one (issue 26: a retried task once cost two AMC runs so).
      result.amc_execution_id = (*created)["workflowExecutionId"].get<std::string>();
      journal.complete(execution_id, result.amc_execution_id, context.deadline);
      result.execution = std::move(*created);
      co_return result;
    }
    if (refused) {
      // (GCC 12 destroys a conditional's temporaries in a co_await twice:
      // the text is made before it.)
      std::string amc_said;
      if (const auto& detail = refused->detail(); detail.contains("amc_details") && detail["amc_details"].is_string())
        amc_said = detail["amc_details"].get<std::string>();
      co_await throw_if_adhoc_quota_used(amc, context, std::move(amc_said));
      throw *refused;
    }
    // Outcome unknown: never resend blindly. This attempt could create an
    // execution until its request failed, which is now.
    const auto failed_at = wall_clock::now();
    if (auto found = co_await resolve_unknown_outcome(amc, journal, context, entry, request, failed_at, options, log))
      co_return adopt(journal, execution_id, std::move(*found), context.deadline);
    const auto now = now_unix_seconds();
    if (!journal.claim_resend(execution_id, entry.started_at, now, context.deadline)) {
      const auto current = journal.find(execution_id);
      if (current && !current->amc_execution_id.empty()) co_return co_await reattach(amc, context, *current);
      throw error(errc::conflict,
                  fmt::format("execution {} is being submitted by another process at the same time; submit "
                              "it again to re-attach to that run",
                              execution_id));
    }
    entry.started_at = now;
  }
}

void wait_cancellation::cancel() {
  cancelled_ = true;
  const std::lock_guard lock{mutex_};
  // Run under the lock, so that remove() can promise the action is over.
  for (auto& [registration, action] : actions_) action();
  actions_.clear();
}

std::uint64_t wait_cancellation::on_cancel(std::function<void()> action) {
  const std::lock_guard lock{mutex_};
  if (cancelled_) {
    action();
    return 0;
  }
  actions_.emplace_back(++next_registration_, std::move(action));
  return next_registration_;
}

void wait_cancellation::remove(std::uint64_t registration) {
  const std::lock_guard lock{mutex_};
  std::erase_if(actions_, [registration](const auto& entry) { return entry.first == registration; });
}

namespace {

// Keeps a cancellation action registered for one scope.
class cancel_registration {
 public:
  cancel_registration(std::shared_ptr<wait_cancellation> cancellation, std::function<void()> action)
      : cancellation_(std::move(cancellation)) {
    if (cancellation_) registration_ = cancellation_->on_cancel(std::move(action));
  }
  ~cancel_registration() {
    if (cancellation_ && registration_ != 0) cancellation_->remove(registration_);
  }
  cancel_registration(const cancel_registration&) = delete;
  cancel_registration& operator=(const cancel_registration&) = delete;

 private:
  std::shared_ptr<wait_cancellation> cancellation_;
  std::uint64_t registration_ = 0;
};

// How many of the wait's status reads AMC throttled (HTTP 429 after the
// transport's own Retry-After waits), for the timeout's message (issue 25
// point 4: after a storm, say that every read was throttled).
struct read_counts {
  int reads = 0;
  int throttled = 0;
  bool last_throttled = false;
};

std::string throttled_reads_note(const read_counts& counts) {
  if (counts.throttled == 0) return "";
  if (counts.throttled == counts.reads)
    return fmt::format(" (AMC was throttling the status reads: every one throttled, {} of {})", counts.throttled,
                       counts.reads);
  return fmt::format(" (AMC throttled {} of the {} status reads{})", counts.throttled, counts.reads,
                     counts.last_throttled ? ", the last one too" : "");
}

[[noreturn]] void throw_wait_timeout(const std::string& amc_execution_id, std::chrono::milliseconds timeout,
                                     const std::string& last_status, const read_counts& counts) {
  const bool throttled = counts.last_throttled;
  const nlohmann::json detail = {
      {"status", last_status}, {"status_reads", counts.reads}, {"throttled_reads", counts.throttled}};
  if (last_status.empty())
    throw error(errc::timeout,
                fmt::format("the wait's timeout of {} ms ran out before {} the status of execution {}{}; it may "
                            "still be running in AMC: wait again later or cancel it",
                            timeout.count(), throttled ? "AMC let libamc read" : "libamc could read", amc_execution_id,
                            throttled_reads_note(counts)),
                detail);
  throw error(errc::timeout,
              fmt::format("execution {} was still {} when the wait's timeout of {} ms ran out{}; it keeps running "
                          "in AMC: wait again or cancel it",
                          amc_execution_id, last_status, timeout.count(), throttled_reads_note(counts)),
              detail);
}

}  // namespace

asio::awaitable<nlohmann::json> wait_for_execution(session& amc, const call_context& context,
                                                   std::string amc_execution_id, wait_options options,
                                                   std::shared_ptr<wait_cancellation> cancellation,
                                                   const logger& log) {
  using std::chrono::milliseconds;
  using clock = std::chrono::steady_clock;
  const auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor);
  const cancel_registration wake_on_cancel(cancellation,
                                           [timer, executor] { asio::post(executor, [timer] { timer->cancel(); }); });
  // Every read carries the wait's deadline, so a read (with its retries and
  // Retry-After waits) ends by it too: the call's, or options.timeout from
  // now when the call came without one.
  call_context reads = context;
  if (!reads.deadline.bounded()) reads.deadline = amc::deadline::after(options.timeout);
  const amc::deadline& give_up = reads.deadline;
  auto interval = options.first_poll;
  std::string last_status;
  bool reported_unknown = false;
  bool reported_throttle = false;
  read_counts counts;
  while (true) {
    if (cancellation && cancellation->cancelled())
      throw error(errc::cancelled, fmt::format("the wait for execution {} was cancelled", amc_execution_id));
    // A throttled status read does not end the wait: the transport has
    // already waited as long as its policy and the deadline allow, but the
    // caller asked to wait up to the deadline, and AMC's throttling says
    // "later", not "no". The deadline and cancellation still bound it. (The
    // read is taken apart outside the handler: no co_await in a catch
    // block.)
    std::optional<nlohmann::json> read;
    std::optional<milliseconds> throttled_for;  // set when AMC throttled the read
    bool out_of_time = false;
    try {
      read = co_await get_execution(amc, reads, amc_execution_id);
    } catch (const error& problem) {
      // A read that ran into the wait's deadline, or that the client-side
      // rate limiter (lowered by AMC's 429s) could not start before it, is
      // the wait running out of time, and says so with the wait's figure.
      const bool limiter = problem.phase() == error_phase::rate_limit;
      if (problem.code_value() == errc::timeout && (limiter || give_up.time_left() <= milliseconds(10))) {
        out_of_time = true;
      } else {
        if (problem.code_value() != errc::throttled) throw;
        throttled_for = std::max(problem.retry_after().value_or(milliseconds::zero()), milliseconds::zero());
      }
    }
    if (out_of_time) throw_wait_timeout(amc_execution_id, options.timeout, last_status, counts);
    ++counts.reads;
    counts.last_throttled = throttled_for.has_value();
    if (counts.last_throttled) ++counts.throttled;
    const auto now = clock::now();
    const auto left = std::chrono::duration_cast<milliseconds>(give_up.time_left(now));
    auto next_poll = std::min(interval, left);
    if (throttled_for) {
      // The next read honours AMC's Retry-After when it asks for more than
      // the usual backoff.
      next_poll = std::min(std::max(interval, *throttled_for), left);
      if (!reported_throttle) {
        reported_throttle = true;
        log.log(log_level::warning,
                fmt::format("AMC is throttling the status reads of execution {}; waiting on (next read in "
                            "{} ms) within the wait's timeout of {} ms",
                            amc_execution_id, next_poll.count(), options.timeout.count()));
      }
    } else {
      auto& execution = *read;
      const std::string status = execution.value("status", "");
      const auto phase = parse_execution_status(status);
      if (phase == execution_phase::unknown && !reported_unknown) {
        reported_unknown = true;
        log.log(log_level::warning, fmt::format("execution {} has the status {}, which libamc does "
                                                "not know; waiting on as if it were running",
                                                amc_execution_id, quoted_text(status)));
      }
      if (options.progress) options.progress(execution, is_terminal(phase) ? milliseconds(0) : next_poll);
      if (is_terminal(phase)) co_return execution;
      if (status != last_status) {
        log.log(log_level::info, fmt::format("execution {} is {}", amc_execution_id, status));
        last_status = status;
      }
    }
    if (give_up.passed(now)) throw_wait_timeout(amc_execution_id, options.timeout, last_status, counts);
    timer->expires_after(next_poll);
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    interval = std::min(interval * 2, options.max_poll);
  }
}

}  // namespace amc::api
