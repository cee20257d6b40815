// A client: one configuration, one io_context with its own thread(s), and
// everything that runs on it (HTTP, tokens, the refresh service). Blocking
// calls from hosts run a coroutine on the io_context and wait for it, with a
// deadline and an optional cancellation; they are refused on the client's
// own threads (a callback that blocks there would deadlock) and in a forked
// child. The AMC operations hosts call are in client/operations.hpp,
// authentication in client/auth.hpp, watches in client/watch.hpp.
#pragma once

#include "api/executions.hpp"
#include "api/session.hpp"
#include "auth/refresh_service.hpp"
#include "auth/token_manager.hpp"
#include "client/client_config.hpp"
#include "common/deadline.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "net/http_client.hpp"
#include "store/credential_store.hpp"
#include "store/execution_journal.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <fmt/format.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace amc::client {

// When a call must have ended: a point on the steady clock, and the budget
// it was made from (the figure messages give, e.g. "8000 ms"). Made once
// here at the door and carried unchanged to every socket phase and wait
// (common/deadline.hpp).
using call_deadline = amc::deadline;

// Lets another thread stop a call; shared by the one who cancels and the
// calls that listen (api::wait_cancellation, which the wait uses too).
using cancellation = api::wait_cancellation;

// How long run_blocking lets an operation that honours its deadline (every
// AMC operation does) end by itself, with its own message, before it cancels
// it.
inline constexpr std::chrono::seconds deadline_grace{1};

class client {
 public:
  // `host_store`: a backend the host keeps (amc_client_new_with_store); null:
  // the one config.store names.
  explicit client(client_config config, std::unique_ptr<store::store_backend> host_store = nullptr);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Runs `operation` on the client's io_context and waits for it until the
  // deadline (plus deadline_grace); then the operation is cancelled and
  // errc::timeout thrown. cancel() on `cancel` (may be null) cancels the
  // operation at once; it then ends with errc::cancelled.
  template <class T>
  T run_blocking(boost::asio::awaitable<T> operation, call_deadline deadline,
                 std::shared_ptr<cancellation> cancel = nullptr);
  template <class T>
  T run_blocking(boost::asio::awaitable<T> operation, std::chrono::milliseconds timeout) {
    return run_blocking(std::move(operation), call_deadline::after(timeout));
  }

  // Throws errc::forked in a child process.
  void check_process() const;

  const client_config& config() const { return config_; }
  logger& log() { return log_; }
  auth::refresh_service* refresher() { return refresher_.get(); }
  api::session& amc() { return *amc_; }
  boost::asio::io_context& io() { return io_; }

  nlohmann::json metrics() const;

 private:
  // The store, the HTTP client, the tokens and the journal are the façade's
  // to use (client/internals.hpp), not the hosts': a host that reached them
  // would go around the door's decoders and deadlines.
  friend class internals;

  void refuse_blocking_on_own_thread() const;

  client_config config_;
  pid_t owner_process_;
  logger log_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep_running_;
  std::unique_ptr<store::credential_store> store_;
  std::unique_ptr<net::http_client> http_;
  std::unique_ptr<auth::token_manager> tokens_;
  std::unique_ptr<auth::refresh_service> refresher_;
  std::unique_ptr<api::session> amc_;
  std::unique_ptr<store::execution_journal> journal_;
  std::vector<std::thread> threads_;
};

// True on a thread that runs some client's io_context.
bool on_client_thread();

namespace detail {
// Rethrows the exception in flight, as errc::cancelled unless it already is.
[[noreturn]] void rethrow_as_cancelled();
}  // namespace detail

template <class T>
T client::run_blocking(boost::asio::awaitable<T> operation, call_deadline deadline,
                       std::shared_ptr<cancellation> cancel) {
  check_process();
  refuse_blocking_on_own_thread();
  auto signal = std::make_shared<boost::asio::cancellation_signal>();
  // The operation runs on a strand of its own, and the signal is emitted on
  // that strand: Asio requires a cancellation to be emitted where the
  // operation's coroutine runs, one at a time. On the bare io_context with
  // io_threads > 1 the emit could run on one thread while the operation
  // resumed on another and tore down the slot handler being invoked.
  auto strand = boost::asio::make_strand(io_);
  auto result = boost::asio::co_spawn(
      strand, std::move(operation),
      boost::asio::bind_cancellation_slot(signal->slot(), boost::asio::use_future));
  auto stop = [strand, signal] {
    boost::asio::post(strand, [signal] { signal->emit(boost::asio::cancellation_type::terminal); });
  };
  struct listening {
    std::shared_ptr<cancellation> cancel;
    std::uint64_t registration = 0;
    ~listening() {
      if (cancel && registration != 0) cancel->remove(registration);
    }
  } listen{cancel};
  if (cancel) listen.registration = cancel->on_cancel(stop);
  using clock = std::chrono::steady_clock;
  const bool ended = deadline.at >= clock::time_point::max() - deadline_grace
                         ? (result.wait(), true)
                         : result.wait_until(deadline.at + deadline_grace) != std::future_status::timeout;
  if (!ended) {
    stop();
    if (result.wait_for(std::chrono::seconds(30)) == std::future_status::timeout)
      throw error(errc::timeout, "the operation did not stop after its deadline; the client is stuck");
    try {
      result.get();
    } catch (...) {
    }
    throw error(errc::timeout,
                fmt::format("the operation did not finish within {} ms", deadline.budget.count()));
  }
  try {
    return result.get();
  } catch (...) {
    if (cancel && cancel->cancelled()) detail::rethrow_as_cancelled();
    throw;
  }
}

}  // namespace amc::client
