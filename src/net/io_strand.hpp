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
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

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

}  // namespace amc::net
