// Executions as a caller sees them: idempotent submission (journaled before
// submit returns, reconciled through the list endpoint when a create
// request's outcome is unknown), and waiting for a terminal status.
#pragma once

#include "api/operations.hpp"
#include "common/deadline.hpp"
#include "store/execution_journal.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace amc::api {

struct submission {
  std::string execution_id;
  std::string amc_execution_id;
  nlohmann::json execution;  // flat
  bool reattached = false;   // an earlier submission of the same id was found
};

// How a submit resolves a create request whose outcome is unknown (its
// answer was lost, or the process that sent it died).
struct submit_options {
  // How long after a create request was sent it may still create an
  // execution in AMC: at least the longest a create request can be in
  // flight (the HTTP client's overall request deadline, 180 s by default).
  // Used for an attempt journaled by another (possibly dead) process; for
  // the call's own attempt the window ends when its request failed.
  std::chrono::seconds create_window{300};
  // How long AMC's list may take to show a new execution.
  std::chrono::milliseconds list_lag{30'000};
  // Between two searches of the list.
  std::chrono::milliseconds list_interval{5'000};
  // The deadline is the call's own (call_context::deadline, unchanged): the
  // search stops early enough before it (unknown_outcome_reserve) to give up
  // with errc::timeout (nothing sent) and say when to submit again.
};

// How long before the call's deadline a submit stops searching for an
// unknown outcome: a tenth of the deadline's budget, at most 5 s.
std::chrono::milliseconds unknown_outcome_reserve(const amc::deadline& deadline);

// Submits `request` (AMC's CreateWorkflowExecutionRequest) under the
// caller's execution_id (empty: a new "exec_xxxxxxxx").
// The rule for an unknown outcome (a create request that may or may not
// have reached AMC: this call's own, answer lost, or a journaled attempt of
// a process that died while sending): search AMC's list of the workflow's
// executions now, and again every list_interval; re-attach to the one the
// request created when it shows up. Create again only when a search that
// started list_lag after the creation window closed (see submit_options)
// still does not show it: that search proves it was never created. When
// the deadline comes first: errc::timeout, nothing sent, and the message
// says from when a submit can decide. Never two create requests for one
// execution id at once: a process resends only after claiming the attempt
// in the journal.
boost::asio::awaitable<submission> submit_execution(session& amc, store::execution_journal& journal,
                                                    const call_context& context, std::string execution_id,
                                                    nlohmann::json request, const logger& log,
                                                    submit_options options = {});

// The AMC execution id of a journaled execution id; not_found otherwise.
std::string journaled_amc_id(store::execution_journal& journal, const std::string& execution_id);

// Lets another thread stop a call (a wait, or any call of the client
// façade). Shared between the caller who cancels and the calls that listen.
class wait_cancellation {
 public:
  // Sets the flag, then runs every registered action once (they are then
  // forgotten). Safe from any thread, any number of times.
  void cancel();
  bool cancelled() const { return cancelled_; }
  // Registers `action` to run on cancel(), or runs it now when cancel()
  // already happened (and returns 0). Actions must be quick and must not
  // call back into this object (they run under its lock).
  std::uint64_t on_cancel(std::function<void()> action);
  // Forgets an action. When it returns, the action is not running and will
  // never run: what it refers to may be destroyed.
  void remove(std::uint64_t registration);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::uint64_t next_registration_ = 0;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> actions_;
};

struct wait_options {
  // The figure the caller asked for, for messages, and the bound of the
  // wait when the context has no deadline of its own. With a deadline in
  // the context, the wait ends at it (the door gives its budget here).
  std::chrono::milliseconds timeout{std::chrono::hours(24)};
  std::chrono::milliseconds first_poll{5'000};    // then doubling …
  std::chrono::milliseconds max_poll{60'000};     // … up to this
  // Called on every status read (and every change); must return quickly.
  std::function<void(const nlohmann::json& execution, std::chrono::milliseconds next_poll)> progress;
};

// Polls until the execution is terminal and returns it. Throws timeout,
// cancelled, or the read's error, except `throttled`: a throttled read is
// waited out (honouring Retry-After) within the deadline. Unknown statuses
// and throttling keep it waiting (each logged once).
//
// The deadline (context.deadline, or now + options.timeout without one)
// bounds everything: every status read gets only what is left of it (so no
// retry or Retry-After wait inside a read passes it), no sleep between reads
// goes past it, and when it passes the wait throws errc::timeout saying
// options.timeout, whether it was sleeping, reading, or being throttled.
boost::asio::awaitable<nlohmann::json> wait_for_execution(session& amc, const call_context& context,
                                                          std::string amc_execution_id, wait_options options,
                                                          std::shared_ptr<wait_cancellation> cancellation,
                                                          const logger& log);

}  // namespace amc::api
