// The strand type libamc's components serialise their state on: a strand
// over an io_context's own executor rather than over a type-erased
// any_io_executor. Asio copies and re-wraps a completion's executor for
// every asynchronous operation (work guards prefer outstanding_work.tracked,
// timers and sockets keep one); a strand<io_context::executor_type> is 24
// bytes and fits in any_io_executor's small-object buffer, where a
// strand<any_io_executor> does not and costs a heap allocation each time.
#pragma once

#include "common/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <utility>

namespace amc::net {

using io_strand = boost::asio::strand<boost::asio::io_context::executor_type>;

// A new strand on the io_context behind `executor`, which must be an
// io_context's executor (io_context::get_executor(), as the client's is);
// anything else is errc::invalid_argument.
inline io_strand make_io_strand(const boost::asio::any_io_executor& executor) {
  const auto* io = executor.target<boost::asio::io_context::executor_type>();
  if (io == nullptr)
    throw amc::error(errc::invalid_argument,
                     "libamc needs an io_context's executor (io_context::get_executor()) for its strands");
  return boost::asio::make_strand(*io);
}

// True when a coroutine whose executor is `executor` runs on `strand`
// itself (then work for the strand may run inline). running_in_this_thread()
// would not do: it is also true in another strand's handler that Asio runs
// inline inside this strand's, whose coroutine must still hop.
inline bool is_on_strand(const boost::asio::any_io_executor& executor, const io_strand& strand) {
  const auto* on = executor.target<io_strand>();
  return on != nullptr && *on == strand;
}

// co_await run_on(strand, work): runs `work` on `strand` and returns its
// result (or rethrows its exception) to the awaiting coroutine, wherever
// that runs; a terminal cancellation of the awaiting coroutine reaches
// `work`. Use it instead of co_await co_spawn(strand, work, use_awaitable):
// Asio 1.81's co_spawn forwards the caller's cancellation by dispatching
// onto the strand a lambda that holds a raw pointer into the handler it put
// in the caller's cancellation slot, and the caller's coroutine destroys that
// handler as soon as `work` completes. A cancellation that races completion
// (Ctrl-C as a reply arrives) then runs on freed memory. Here the caller's
// slot holds a handler that shares ownership of a signal and emits it on the
// strand, where co_spawn's own forwarding runs inline.
template <typename T>
boost::asio::awaitable<T> run_on(io_strand strand, boost::asio::awaitable<T> work) {
  namespace asio = boost::asio;
  // Already there (the awaiting coroutine's own executor is this strand):
  // the work runs in the caller's frame chain, and the caller's cancellation
  // reaches it as for any awaited coroutine.
  const auto caller_executor = co_await asio::this_coro::executor;
  if (is_on_strand(caller_executor, strand)) {
    T result = co_await std::move(work);
    co_return result;
  }
  asio::cancellation_state caller = co_await asio::this_coro::cancellation_state;
  // Stays unconnected when nothing can cancel the caller (a detached
  // coroutine): then co_spawn forwards nothing either.
  asio::cancellation_slot forward;
  std::shared_ptr<asio::cancellation_signal> signal;  // held until `work` is done
  if (asio::cancellation_slot slot = caller.slot(); slot.is_connected()) {
    signal = std::make_shared<asio::cancellation_signal>();
    slot.assign([signal, strand](asio::cancellation_type type) {
      asio::dispatch(strand, [signal, type] { signal->emit(type); });
    });
    forward = signal->slot();
  }
  // Named locals, not temporaries in the co_await expression: GCC 12
  // destroys such temporaries twice (PR c++/100611).
  auto completion = asio::bind_cancellation_slot(forward, asio::use_awaitable);
  T result = co_await asio::co_spawn(strand, std::move(work), completion);
  co_return result;
}

}  // namespace amc::net
