// Executions as a caller sees them: idempotent submission (journaled before
// submit returns, reconciled through the list endpoint when a create
// request's outcome is unknown), and waiting for a terminal status.
#pragma once

#include "api/operations.hpp"
#include "store/execution_journal.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>

namespace amc::api {

struct submission {
  std::string execution_id;
  std::string amc_execution_id;
  nlohmann::json execution;  // flat
  bool reattached = false;   // an earlier submission of the same id was found
};

// Submits `request` (AMC's CreateWorkflowExecutionRequest) under the
// caller's execution_id (empty: a new "exec_xxxxxxxx"). A create whose
// outcome is unknown (connection lost after sending) is looked up through the
// list endpoint before anything is sent again.
boost::asio::awaitable<submission> submit_execution(session& amc, store::execution_journal& journal,
                                                    const call_context& context, std::string execution_id,
                                                    nlohmann::json request, const logger& log);

// The AMC execution id of a journaled execution id; not_found otherwise.
std::string journaled_amc_id(store::execution_journal& journal, const std::string& execution_id);

// Lets another thread stop a wait.
class wait_cancellation {
 public:
  void cancel();
  bool cancelled() const { return cancelled_; }
  // Called (once) by cancel(); set by the waiter.
  void on_cancel(std::function<void()> action);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::function<void()> action_;
};

struct wait_options {
  std::chrono::milliseconds timeout{std::chrono::hours(24)};
  std::chrono::milliseconds first_poll{5'000};    // then doubling …
  std::chrono::milliseconds max_poll{60'000};     // … up to this
  // Called on every status read (and every change); must return quickly.
  std::function<void(const nlohmann::json& execution, std::chrono::milliseconds next_poll)> progress;
};

// Polls until the execution is terminal and returns it. Throws timeout,
// cancelled, or the read's error, except `throttled`: a throttled read is
// waited out (honouring Retry-After) within the timeout. Unknown statuses and
// throttling keep it waiting (each logged once).
boost::asio::awaitable<nlohmann::json> wait_for_execution(session& amc, const call_context& context,
                                                          std::string amc_execution_id, wait_options options,
                                                          std::shared_ptr<wait_cancellation> cancellation,
                                                          const logger& log);

}  // namespace amc::api
