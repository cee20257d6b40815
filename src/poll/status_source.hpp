// The poller's one door into the core: "read one execution" and "list the
// executions of an instance created since T", with a deadline on every read.
// The client façade implements it (client/watch.hpp, client::poll_source):
// everything the poller asks of AMC, of the journal or of the id rules goes
// through here, and src/poll includes nothing of src/client nor of src/api:
// the types it speaks (call_context, execution_read) are common's, and what
// a status means for the schedule (read_phase) is the façade's to say.
#pragma once

#include "common/call_context.hpp"
#include "common/log.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace amc::poll {

// What an execution's status means for the poller's schedule: the façade
// classifies AMC's statuses (api::parse_execution_status, said once); the
// poller only asks. Statuses AMC may add later are `waiting`: they never
// end a watch.
enum class read_phase { waiting, running, publishing, terminal };

class status_source {
 public:
  // The core's side, which the client façade implements.
  class reader {
   public:
    virtual ~reader() = default;
    virtual boost::asio::any_io_executor executor() const = 0;
    virtual boost::asio::any_io_executor read_executor() const = 0;
    virtual const logger& log() const = 0;
    virtual void validate(const call_context& context) const = 0;
    virtual void validate_execution_id(const std::string& amc_execution_id) const = 0;
    // Checks a workflow id before it goes into a list's query (a watch of a
    // workflow's runs).
    virtual void validate_workflow_id(const std::string& workflow_id) const = 0;
    virtual std::string journaled_amc_id(const std::string& execution_id) const = 0;
    virtual read_phase phase_of(std::string_view status) const = 0;
    // One GET of the execution within `budget` (see read_execution).
    virtual boost::asio::awaitable<execution_read> read_execution(call_context context,
                                                                       std::string amc_execution_id,
                                                                       std::uint64_t seen,
                                                                       std::chrono::milliseconds budget) = 0;
    // AMC's execution list with these filters, every page up to
    // `max_pages`, within `budget`: {"executions": [flat execution
    // objects]}. More pages than that is a protocol error. `*pages_read`
    // is kept at the page requests made so far, also when it fails.
    virtual boost::asio::awaitable<nlohmann::json> list(call_context context, nlohmann::json filters,
                                                        std::chrono::milliseconds budget, int max_pages,
                                                        int* pages_read) = 0;
  };

  explicit status_source(std::shared_ptr<reader> core);

  // Where the poller's timers and reads run: the client's io_context.
  boost::asio::any_io_executor executor() const { return core_->executor(); }
  // Where the poller starts its reads: the HTTP client's strand, so that a
  // read's request starts and its reply resumes the read without a hop
  // through the io_context's queue (net::run_on runs inline there).
  boost::asio::any_io_executor read_executor() const { return core_->read_executor(); }
  const logger& log() const { return core_->log(); }

  // Checks the instance part of a context before any watch is taken.
  void validate(const call_context& context) const { core_->validate(context); }
  // Checks an AMC execution id before it goes into a URL path.
  void validate_execution_id(const std::string& amc_execution_id) const {
    core_->validate_execution_id(amc_execution_id);
  }

  void validate_workflow_id(const std::string& workflow_id) const { core_->validate_workflow_id(workflow_id); }

  // The AMC execution id journaled for our execution_id; not_found otherwise.
  std::string journaled_amc_id(const std::string& execution_id) const {
    return core_->journaled_amc_id(execution_id);
  }

  // What AMC's `status` text means for the schedule.
  read_phase phase_of(std::string_view status) const { return core_->phase_of(status); }

  // One GET of the execution through the client façade
  // (client::get_if_changed), within `budget` from now: the flat execution, or
  // nothing when AMC's reply is byte for byte the one with fingerprint
  // `seen` (0: always parse); with the reply's fingerprint.
  boost::asio::awaitable<execution_read> read_execution(call_context context, std::string amc_execution_id,
                                                             std::uint64_t seen, std::chrono::milliseconds budget) {
    return core_->read_execution(std::move(context), std::move(amc_execution_id), seen, budget);
  }

  struct listing {
    nlohmann::json executions;  // flat execution objects
    long pages = 0;             // list requests it took
  };
  // Every execution of the instance created at or after `min_creation_time`
  // ("yyyy-MM-ddTHH:mm:ss", UTC), cancelled ones included, `page_size` per
  // request (1-100), every page up to `max_pages` (more is errc::protocol),
  // through the client façade (client::list_async), all within `budget`
  // from now. `*pages_read` is kept at the list requests made so far, also
  // when the list fails (it must outlive the awaited call).
  boost::asio::awaitable<listing> list_since(call_context context, std::string min_creation_time,
                                             int page_size, int max_pages, std::chrono::milliseconds budget,
                                             int* pages_read);
  // The same, for the executions of one workflow only (workflowId and
  // minCreationTime: a watch of the workflow's runs, workflow_watches.hpp).
  boost::asio::awaitable<listing> list_workflow_since(call_context context, std::string workflow_id,
                                                      std::string min_creation_time, int page_size, int max_pages,
                                                      std::chrono::milliseconds budget, int* pages_read);

 private:
  // Every page of a list with these filters, up to `max_pages`.
  boost::asio::awaitable<listing> list_all(call_context context, nlohmann::json filters, int max_pages,
                                           std::chrono::milliseconds budget, int* pages_read);

  std::shared_ptr<reader> core_;
};

}  // namespace amc::poll
