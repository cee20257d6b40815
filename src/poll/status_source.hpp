// The poller's one door into the core: "read one execution" and "list the
// executions of an instance created since T", both through the client
// façade (src/client/operations.hpp) with a deadline on every read.
// Everything the poller asks of AMC goes through here.
#pragma once

#include "api/operations.hpp"
#include "api/session.hpp"
#include "common/log.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace amc::client {
class client;
}

namespace amc::poll {

class status_source {
 public:
  explicit status_source(client::client& client);

  // Where the poller's timers and reads run: the client's io_context.
  boost::asio::any_io_executor executor() const;
  // Where the poller starts its reads: the HTTP client's strand, so that a
  // read's request starts and its reply resumes the read without a hop
  // through the io_context's queue (net::run_on runs inline there).
  boost::asio::any_io_executor read_executor() const;
  const logger& log() const;

  // Checks the instance part of a context before any watch is taken.
  void validate(const api::call_context& context) const;
  // Checks an AMC execution id before it goes into a URL path.
  void validate_execution_id(const std::string& amc_execution_id) const;

  // The AMC execution id journaled for our execution_id; not_found otherwise.
  std::string journaled_amc_id(const std::string& execution_id) const;

  // One GET of the execution through the client façade
  // (client::get_if_changed), within `budget` from now: the flat execution, or
  // nothing when AMC's reply is byte for byte the one with fingerprint
  // `seen` (0: always parse); with the reply's fingerprint.
  boost::asio::awaitable<api::execution_read> read_execution(api::call_context context, std::string amc_execution_id,
                                                             std::uint64_t seen, std::chrono::milliseconds budget);

  struct listing {
    nlohmann::json executions;  // flat execution objects
    long pages = 0;             // list requests it took
  };
  // Every execution of the instance created at or after `min_creation_time`
  // ("yyyy-MM-ddTHH:mm:ss", UTC), cancelled ones included, `page_size` per
  // request (1-100), every page, through the client façade
  // (client::list_async), all within `budget` from now.
  boost::asio::awaitable<listing> list_since(api::call_context context, std::string min_creation_time,
                                             int page_size, std::chrono::milliseconds budget);

 private:
  client::client& client_;
};

}  // namespace amc::poll
