// The retry loop of one request: the rate limiter's wait, attempts, and
// what to do after each (return the answer, back off and retry, wait for
// Retry-After, give up), within max_attempts, max_throttle_waits, the
// client's retry budget and the request's overall deadline. Internal to
// src/net; runs on the client's strand.
#pragma once

#include "net/attempt.hpp"

#include <boost/asio/awaitable.hpp>

namespace amc::net::detail {

struct client_state;

// Runs `req` (a download when `download` is set) to its final response, or
// throws amc::error; counts it in the client's metrics either way.
// Cancelled through the awaiting coroutine's cancellation slot.
boost::asio::awaitable<response> run_request(client_state& state, const request& req,
                                             const download_target* download);

}  // namespace amc::net::detail
