// net::run_on (src/net/io_strand.hpp): the work always runs with the target
// strand as its executor.
#include "net/io_strand.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

namespace amc::net {
namespace {

namespace asio = boost::asio;

asio::awaitable<bool> runs_on(io_strand expected) {
  const auto executor = co_await asio::this_coro::executor;
  const auto* strand = executor.target<io_strand>();
  co_return strand != nullptr && *strand == expected;
}

asio::awaitable<bool> hop_to(io_strand target) { co_return co_await run_on(target, runs_on(target)); }

TEST(RunOn, FromTheTargetStrandItselfTheWorkRunsThere) {
  asio::io_context io;
  const auto a = make_io_strand(io.get_executor());
  auto done = asio::co_spawn(a, hop_to(a), asio::use_future);
  io.run();
  EXPECT_TRUE(done.get());
}

// Asio runs an idle strand's handler inline inside another strand's (and
// a coroutine started by co_spawn from there): strand A is then "running in
// this thread" although the coroutine's executor is B. run_on(A) must still
// hop to A rather than run the work on B.
TEST(RunOn, FromAnotherStrandRunInlineInsideTheTargetItStillHops) {
  asio::io_context io;
  const auto a = make_io_strand(io.get_executor());
  const auto b = make_io_strand(io.get_executor());
  auto nested = [a, b]() -> asio::awaitable<bool> { co_return co_await run_on(b, hop_to(a)); };
  auto done = asio::co_spawn(a, nested(), asio::use_future);
  io.run();
  EXPECT_TRUE(done.get());
}

}  // namespace
}  // namespace amc::net
