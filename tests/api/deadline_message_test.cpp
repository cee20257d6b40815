// Issue 23 kind 10: a timeout message names the timeout_ms the caller gave,
// never what was left of it when one step of the call started (a message
// saying "a deadline of 3 ms" about a call given 8000 ms sends the reader
// looking for a wrong setting).
// searched: every errc::timeout message: net/attempt.cpp timeout_failure
// and net/retry_loop.cpp (deadline.budget, the caller's figure, since
// ea54e79), connection_pool.cpp (budget), client.hpp run_blocking (budget),
// executions.cpp throw_wait_timeout (the wait's timeout_ms),
// token_manager.cpp wait_within and host_backend.cpp (kind 4: budget), and
// session.cpp refuse_past_deadline, which named no figure at all: fixed
// here. amc::deadline's time-point constructor makes budget the time left;
// no call site builds a call's deadline with it (all use deadline::after).
#include "api/session.hpp"

#include "common/error.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace amc::api {
namespace {

TEST(DeadlineMessage, ARequestRefusedPastTheDeadlineNamesTheCallersTimeout) {
  call_context context;
  context.deadline = amc::deadline::after(std::chrono::milliseconds(8000),
                                          std::chrono::steady_clock::now() - std::chrono::seconds(9));
  try {
    refuse_past_deadline(context, "GET /amc/reporting/x/workflows");
    ADD_FAILURE() << "expected errc::timeout";
  } catch (const error& e) {
    EXPECT_EQ(e.code_value(), errc::timeout);
    EXPECT_NE(std::string(e.what()).find("8000 ms"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace amc::api
