// The HTTP client against the scripted server on loopback: keep-alive and
// the pool, every phase deadline, retries (and what is never retried), the
// retry budget, size limits, cancellation, shutdown and metrics.
#include "net/http_client.hpp"

#include "net_test_fixture.hpp"
#include "scripted_server.hpp"
#include "support/test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <future>

namespace amc::net::testing {
namespace {

using action = script_step::action;
using boost::beast::http::verb;

TEST_F(NetTest, ReturnsStatusHeadersAndBodyAndSendsWhatItWasGiven) {
  scripted_server server({script_step::status_only(404, {{"X-Trace", "t1"}})});
  http_client client(executor(), quick_options());
  request req = get(url_of(server.port(), "/things/1?x=2"));
  req.method = verb::put;
  req.headers = {{"Content-Type", "application/json"}, {"X-Custom", "v"}};
  req.body = R"({"a":1})";
  auto reply = send(client, req);
  EXPECT_EQ(reply.status, 404u);
  EXPECT_EQ(reply.attempts, 1);
  EXPECT_EQ(reply.body, "status 404");
  EXPECT_EQ(reply.header("x-trace"), "t1");
  auto received = server.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "PUT");
  EXPECT_EQ(received[0].target, "/things/1?x=2");
  EXPECT_EQ(received[0].body, R"({"a":1})");
  EXPECT_EQ(received[0].header("Content-Type"), "application/json");
  EXPECT_EQ(received[0].header("X-Custom"), "v");
  EXPECT_EQ(received[0].header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(received[0].header("User-Agent"), "libamc");
}

TEST_F(NetTest, KeepAliveReusesOneConnection) {
  scripted_server server({});
  http_client client(executor(), quick_options());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(send(client, get(url_of(server.port()))).status, 200u);
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_EQ(server.connections_accepted(), 1u);
  auto metrics = client.metrics();
  EXPECT_EQ(metrics["connections"]["opened"], 1);
  EXPECT_EQ(metrics["connections"]["reused"], 4);
  EXPECT_EQ(metrics["requests"], 5);
}

TEST_F(NetTest, ConnectionCloseIsHonoured) {
  auto closing = script_step::ok();
  closing.connection_close = true;
  scripted_server server({closing, closing});
  http_client client(executor(), quick_options());
  // Two answers with "Connection: close", then keep-alive: the 4th request
  // reuses the 3rd connection.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(send(client, get(url_of(server.port()))).status, 200u);
  EXPECT_EQ(server.connections_accepted(), 3u);
}

TEST_F(NetTest, PoolIsBoundedPerHostAndExcessRequestsQueue) {
  std::vector<script_step> slow(8, script_step::ok());
  for (auto& step : slow) step.delay_before_headers = 100ms;
  scripted_server server(slow);
  auto options = quick_options();
  options.max_connections_per_host = 2;
  http_client client(executor(), options);
  std::vector<std::future<response>> replies;
  for (int i = 0; i < 8; ++i)
    replies.push_back(boost::asio::co_spawn(context_, client.send(get(url_of(server.port()))), boost::asio::use_future));
  for (auto& reply : replies) EXPECT_EQ(reply.get().status, 200u);
  EXPECT_EQ(server.requests().size(), 8u);
  EXPECT_EQ(server.connections_accepted(), 2u);
  EXPECT_LE(server.peak_open_connections(), 2u);
  EXPECT_GE(client.metrics()["connections"]["pool_waits"].get<int>(), 1);
}

TEST_F(NetTest, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  scripted_server server({});
  auto options = quick_options();
  options.timeouts.idle = 50ms;
  http_client client(executor(), options);
  EXPECT_EQ(send(client, get(url_of(server.port()))).status, 200u);
  // The idle reaper closes it without another request coming along.
  ASSERT_TRUE(server.wait_for_closed_connections(1));
  EXPECT_EQ(send(client, get(url_of(server.port()))).status, 200u);
  EXPECT_EQ(server.connections_accepted(), 2u);
  EXPECT_EQ(client.metrics()["connections"]["closed_idle"], 1);
}

TEST_F(NetTest, ConnectionTheServerClosedIsNotUsedAndTheRequestGoesThrough) {
  // The server answers with keep-alive, then drops the connection. A POST
  // finds that out by a peek before it is sent; a GET (resendable) used
  // the connection within connection_pool::recent_use is sent without the
  // peek, finds the connection closed and is sent again on a new one.
  for (verb method : {verb::get, verb::post}) {
    scripted_server server({script_step::misbehave(action::close_after_response), script_step::ok()});
    http_client client(executor(), quick_options());
    auto first = get(url_of(server.port()));
    EXPECT_EQ(send(client, first).status, 200u);
    ASSERT_TRUE(server.wait_for_closed_connections(1));
    auto second = get(url_of(server.port()));
    second.method = method;
    EXPECT_EQ(send(client, second).status, 200u) << second.method;
    EXPECT_EQ(server.requests().size(), 2u);
    EXPECT_EQ(server.connections_accepted(), 2u);
    EXPECT_EQ(client.metrics()["connections"]["stale"], 1);
    // The GET was written once on the closed connection, then again; the
    // POST only after the peek had turned the closed connection down.
    EXPECT_EQ(client.metrics()["attempts"], method == verb::get ? 3 : 2) << client.metrics().dump();
  }
}

TEST_F(NetTest, RetriesServerErrorsThenSucceeds) {
  scripted_server server({script_step::status_only(503), script_step::status_only(500), script_step::ok("done")});
  http_client client(executor(), quick_options());
  auto reply = send(client, get(url_of(server.port())));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.body, "done");
  EXPECT_EQ(reply.attempts, 3);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(client.metrics()["retries"]["5xx"], 2);
}

TEST_F(NetTest, ReturnsTheLastServerErrorWhenAttemptsRunOut) {
  scripted_server server(std::vector<script_step>(6, script_step::status_only(502)));
  auto options = quick_options();
  options.retry.max_attempts = 3;
  http_client client(executor(), options);
  auto reply = send(client, get(url_of(server.port())));
  EXPECT_EQ(reply.status, 502u);
  EXPECT_EQ(reply.attempts, 3);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_F(NetTest, NonRetryableStatusesAreReturnedAtOnce) {
  scripted_server server({script_step::status_only(501), script_step::status_only(403)});
  http_client client(executor(), quick_options());
  EXPECT_EQ(send(client, get(url_of(server.port()))).status, 501u);
  EXPECT_EQ(send(client, get(url_of(server.port()))).status, 403u);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(NetTest, RetriesNetworkFailuresOfIdempotentRequests) {
  scripted_server server({script_step::misbehave(action::reset), script_step::misbehave(action::close_before_headers),
                          script_step::misbehave(action::truncated_body), script_step::ok()});
  http_client client(executor(), quick_options());
  request req = get(url_of(server.port()));
  req.method = verb::delete_;
  auto reply = send(client, req);
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.attempts, 4);
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(client.metrics()["retries"]["network"], 3);
}

TEST_F(NetTest, NetworkFailureAfterAllAttemptsIsANetworkError) {
  scripted_server server(std::vector<script_step>(5, script_step::misbehave(action::reset)));
  auto options = quick_options();
  options.retry.max_attempts = 2;
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get(url_of(server.port(), "/x?secret=1")));
  EXPECT_EQ(error.code_value(), errc::network);
  EXPECT_NE(error.message().find("after 2 attempts"), std::string::npos) << error.message();
  EXPECT_EQ(error.message().find("secret"), std::string::npos) << error.message();
  EXPECT_EQ(error.detail()["attempts"], 2);
  EXPECT_EQ(server.requests().size(), 2u);
}

// (A 429 is the exception: the server did not act on the request, so a
// POST is sent again after it; see deadline_test.cpp.)
TEST_F(NetTest, PostIsNeverBlindlyRetried) {
  scripted_server server({script_step::status_only(503), script_step::misbehave(action::reset),
                          script_step::misbehave(action::truncated_body), script_step::status_only(409)});
  http_client client(executor(), quick_options());
  request post = get(url_of(server.port()));
  post.method = verb::post;
  post.body = "{}";
  auto reply = send(client, post);
  EXPECT_EQ(reply.status, 503u);
  EXPECT_EQ(reply.attempts, 1);
  EXPECT_EQ(send_expecting_error(client, post).code_value(), errc::network);
  EXPECT_EQ(send_expecting_error(client, post).code_value(), errc::network);
  EXPECT_EQ(send(client, post).status, 409u);
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST_F(NetTest, PostMarkedRetryableIsRetried) {
  scripted_server server({script_step::status_only(503), script_step::ok()});
  http_client client(executor(), quick_options());
  request post = get(url_of(server.port()));
  post.method = verb::post;
  post.retryable = true;
  EXPECT_EQ(send(client, post).status, 200u);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(NetTest, RetryAfterIsHonouredAsMeasuredByTheServer) {
  scripted_server server({script_step::status_only(429, {{"Retry-After", "1"}}), script_step::ok()});
  http_client client(executor(), quick_options());
  auto reply = send(client, get(url_of(server.port())));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.attempts, 2);
  auto received = server.requests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_GE(received[1].received_at - received[0].received_at, 1000ms);
  EXPECT_EQ(client.metrics()["retries"]["429"], 1);
}

TEST_F(NetTest, RetryAfterOn503IsHonoured) {
  scripted_server server({script_step::status_only(503, {{"Retry-After", "1"}}), script_step::ok()});
  http_client client(executor(), quick_options());
  EXPECT_EQ(send(client, get(url_of(server.port()))).status, 200u);
  auto received = server.requests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_GE(received[1].received_at - received[0].received_at, 1000ms);
}

TEST_F(NetTest, ThrottlesDoNotUseUpAttempts) {
  std::vector<script_step> script(4, script_step::status_only(429, {{"Retry-After", "0"}}));
  script.push_back(script_step::ok());
  scripted_server server(script);
  auto options = quick_options();
  options.retry.max_attempts = 1;
  http_client client(executor(), options);
  auto reply = send(client, get(url_of(server.port())));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.attempts, 5);
  EXPECT_EQ(client.metrics()["throttle_waits"], 4);
}

TEST_F(NetTest, ThrottleWaitsAreBounded) {
  scripted_server server(std::vector<script_step>(10, script_step::status_only(429, {{"Retry-After", "0"}})));
  auto options = quick_options();
  options.retry.max_throttle_waits = 2;
  http_client client(executor(), options);
  auto reply = send(client, get(url_of(server.port())));
  EXPECT_EQ(reply.status, 429u);
  EXPECT_EQ(reply.attempts, 3);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_F(NetTest, RetryAfterBeyondTheDeadlineReturnsTheThrottle) {
  scripted_server server({script_step::status_only(429, {{"Retry-After", "3600"}})});
  http_client client(executor(), quick_options());
  auto reply = send(client, get(url_of(server.port())));
  EXPECT_EQ(reply.status, 429u);
  EXPECT_EQ(reply.attempts, 1);
}

TEST_F(NetTest, RetryBudgetStopsAStormFromMultiplyingTraffic) {
  scripted_server server(std::vector<script_step>(20, script_step::status_only(503)));
  auto options = quick_options();
  options.retry.retry_budget_floor = 2;
  options.retry.retry_budget_ratio = 0.0;
  http_client client(executor(), options);
  int sent = 0;
  for (int i = 0; i < 4; ++i) {
    auto reply = send(client, get(url_of(server.port())));
    EXPECT_EQ(reply.status, 503u);
    sent += reply.attempts;
  }
  // 4 first attempts + the 2 retries of the budget, instead of 4 × 5.
  EXPECT_EQ(sent, 6);
  EXPECT_EQ(server.requests().size(), 6u);
  EXPECT_GE(client.metrics()["retry_budget_exhausted"].get<int>(), 3);
}

TEST_F(NetTest, ThrottlesBeyondTheRetryBudgetFloorStillSucceed) {
  // 15 throttles on one request, with a budget that holds only 10 retries:
  // throttle waits are bounded by max_throttle_waits, not by the budget.
  std::vector<script_step> script(15, script_step::status_only(429, {{"Retry-After", "0"}}));
  script.push_back(script_step::ok("through"));
  scripted_server server(script);
  auto options = quick_options();
  options.retry.retry_budget_floor = 10;
  options.retry.retry_budget_ratio = 0.2;
  options.retry.max_throttle_waits = 30;
  http_client client(executor(), options);
  auto reply = send(client, get(url_of(server.port())));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.body, "through");
  EXPECT_EQ(reply.attempts, 16);
  auto metrics = client.metrics();
  EXPECT_EQ(metrics["throttle_waits"], 15);
  EXPECT_EQ(metrics["retry_budget_exhausted"], 0);
}

TEST_F(NetTest, AThrottleStormLeavesTheRetryBudgetForServerErrors) {
  // One request is throttled 10 times; the next one's 5xx retries still find
  // the (tiny, never refilled) budget intact.
  std::vector<script_step> script(10, script_step::status_only(429, {{"Retry-After", "0"}}));
  script.push_back(script_step::ok());
  script.push_back(script_step::status_only(503));
  script.push_back(script_step::status_only(502));
  script.push_back(script_step::ok("recovered"));
  scripted_server server(script);
  auto options = quick_options();
  options.retry.retry_budget_floor = 2;
  options.retry.retry_budget_ratio = 0.0;
  http_client client(executor(), options);
  auto throttled = send(client, get(url_of(server.port(), "/throttled")));
  EXPECT_EQ(throttled.status, 200u);
  EXPECT_EQ(throttled.attempts, 11);
  auto other = send(client, get(url_of(server.port(), "/other")));
  EXPECT_EQ(other.status, 200u);
  EXPECT_EQ(other.body, "recovered");
  EXPECT_EQ(other.attempts, 3);
  auto metrics = client.metrics();
  EXPECT_EQ(metrics["retries"]["5xx"], 2);
  EXPECT_EQ(metrics["retry_budget_exhausted"], 0);
}

TEST_F(NetTest, RateLimiterKeepsOneBucketPerClientIdAndHost) {
  scripted_server first_host({}), second_host({script_step::status_only(429, {{"Retry-After", "0"}})});
  auto options = quick_options();
  // One token, refilled only after 10 s: any second request of a bucket
  // would have to wait, and with a short deadline it fails at once instead.
  options.rate_limit.requests_per_second = 0.1;
  options.rate_limit.burst = 1;
  options.rate_limit.minimum_requests_per_second = 0.05;
  options.retry.max_throttle_waits = 0;
  http_client client(executor(), options);
  auto from = [](const std::string& client_id, std::string url) {
    request req = get(std::move(url));
    req.rate_limit_client_id = client_id;
    req.deadline = amc::deadline::after(2s);
    return req;
  };
  EXPECT_EQ(send(client, from("client-a", url_of(first_host.port()))).status, 200u);
  // Another host, same client id: its own bucket. (It answers 429.)
  EXPECT_EQ(send(client, from("client-a", url_of(second_host.port()))).status, 429u);
  // Same host, another client id: its own bucket too.
  EXPECT_EQ(send(client, from("client-b", url_of(first_host.port()))).status, 200u);
  EXPECT_EQ(client.metrics()["rate_limiter"]["waits"], 0);

  // Same client id and host again: the bucket is empty.
  auto error = send_expecting_error(client, from("client-a", url_of(first_host.port(), "/again")));
  EXPECT_EQ(error.code_value(), errc::timeout);
  const std::string first_key = "client-a @ http://127.0.0.1:" + std::to_string(first_host.port());
  EXPECT_NE(error.message().find(first_key), std::string::npos) << error.message();
  EXPECT_EQ(first_host.requests().size(), 2u);

  auto metrics = client.metrics();
  EXPECT_EQ(metrics["rate_limiter"]["waits"], 1);
  // The 429 lowered the rate of that (client id, host) only.
  const nlohmann::json lowered = metrics["rate_limiter"]["lowered_rates"];
  ASSERT_EQ(lowered.size(), 1u) << lowered.dump();
  EXPECT_TRUE(lowered.contains("client-a @ http://127.0.0.1:" + std::to_string(second_host.port())))
      << lowered.dump();
}

TEST_F(NetTest, OversizedChunkedBodyIsAProtocolError) {
  auto chunked = script_step::ok(std::string(4096, 'x'));
  chunked.chunked = true;
  scripted_server server({chunked});
  auto options = quick_options();
  options.max_response_body_bytes = 1024;
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get(url_of(server.port())));
  EXPECT_EQ(error.code_value(), errc::protocol);
  EXPECT_NE(error.message().find("max_response_body_bytes"), std::string::npos) << error.message();
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(NetTest, ChunkedBodyWithinTheLimitIsRead) {
  auto chunked = script_step::ok(std::string(1000, 'y'));
  chunked.chunked = true;
  scripted_server server({chunked});
  auto options = quick_options();
  options.max_response_body_bytes = 1024;
  http_client client(executor(), options);
  auto reply = send(client, get(url_of(server.port())));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.body, std::string(1000, 'y'));
  EXPECT_EQ(reply.header("Transfer-Encoding"), "chunked");
}

TEST_F(NetTest, OversizedBodyIsAProtocolError) {
  scripted_server server({script_step::ok(std::string(4096, 'x'))});
  auto options = quick_options();
  options.max_response_body_bytes = 1024;
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get(url_of(server.port())));
  EXPECT_EQ(error.code_value(), errc::protocol);
  EXPECT_NE(error.message().find("max_response_body_bytes"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 1u);  // not retried: it would be as big again
}

TEST_F(NetTest, OversizedHeadersAreAProtocolError) {
  scripted_server server({script_step::status_only(200, {{"X-Big", std::string(8192, 'h')}})});
  auto options = quick_options();
  options.max_response_header_bytes = 2048;
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get(url_of(server.port())));
  EXPECT_EQ(error.code_value(), errc::protocol);
  EXPECT_NE(error.message().find("max_response_header_bytes"), std::string::npos);
}

TEST_F(NetTest, ReadHeadersDeadline) {
  auto slow = script_step::ok();
  slow.delay_before_headers = 5s;
  scripted_server server({slow});
  auto options = single_attempt(quick_options());
  options.timeouts.read_headers = 100ms;
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get(url_of(server.port())));
  EXPECT_EQ(error.code_value(), errc::timeout);
  EXPECT_NE(error.message().find("read_headers"), std::string::npos) << error.message();
}

TEST_F(NetTest, ReadBodyDeadline) {
  auto slow = script_step::ok();
  slow.delay_before_body = 5s;
  scripted_server server({slow});
  auto options = single_attempt(quick_options());
  options.timeouts.read_body = 100ms;
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get(url_of(server.port())));
  EXPECT_EQ(error.code_value(), errc::timeout);
  EXPECT_NE(error.message().find("read_body"), std::string::npos) << error.message();
}

// Once the headers are in, the body is waited for under read_body, never
// read_headers: also a chunked body whose first chunk is late (the parser
// must not go on waiting for it inside the headers' read).
TEST_F(NetTest, ABodyLateAfterItsHeadersIsWaitedForUnderReadBody) {
  auto read_late = [this](script_step late) {
    late.delay_before_body = 400ms;
    scripted_server server({std::move(late)});
    auto options = single_attempt(quick_options());
    options.timeouts.read_headers = 150ms;
    options.timeouts.read_body = 5s;
    http_client client(executor(), options);
    const auto reply = send(client, get(url_of(server.port())));
    EXPECT_EQ(reply.status, 200u);
    return reply.body;
  };
  for (const bool chunked : {false, true}) {
    SCOPED_TRACE(chunked ? "chunked" : "Content-Length");
    auto late = script_step::ok(std::string(300, 'z'));
    late.chunked = chunked;
    EXPECT_EQ(read_late(late), std::string(300, 'z'));
  }
  // The headers and a whole first chunk together, the next chunk late: the
  // bytes end where the next chunk's header would start.
  auto split = script_step::ok();
  split.raw_parts = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "3\r\ndef\r\n0\r\n\r\n"};
  EXPECT_EQ(read_late(split), "abcdef");
}

// A Content-Length over max_response_body_bytes is refused from the
// headers, before any body is read, and said so (phase read_headers).
TEST_F(NetTest, AnOversizedContentLengthIsRefusedInTheHeadersPhase) {
  auto big = script_step::ok(std::string(4096, 'x'));
  big.delay_before_body = 2s;  // the body never matters
  scripted_server server({big});
  auto options = single_attempt(quick_options());
  options.max_response_body_bytes = 1024;
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get(url_of(server.port())));
  EXPECT_EQ(error.code_value(), errc::protocol);
  EXPECT_EQ(error.phase(), error_phase::read_headers) << phase_name(error.phase());
}

// exchange.cpp writes what the socket takes at once, then the rest with an
// asynchronous write: a body larger than loopback buffers arrives whole and
// in order, on a kept-alive connection too.
TEST_F(NetTest, ABodyLargerThanTheSocketBuffersArrivesWhole) {
  scripted_server server({});
  http_client client(executor(), quick_options());
  std::string body(16 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
  for (int round = 0; round < 2; ++round) {
    request put = get(url_of(server.port()));
    put.method = verb::put;
    put.body = body;
    EXPECT_EQ(send(client, put).status, 200u);
  }
  const auto received = server.requests();
  ASSERT_EQ(received.size(), 2u);
  for (const auto& each : received) EXPECT_TRUE(each.body == body) << "the body arrived cut or out of order";
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST_F(NetTest, WriteDeadline) {
  server_options silent;
  silent.silent = true;
  scripted_server server({}, silent);
  auto options = single_attempt(quick_options());
  options.timeouts.write = 200ms;
  http_client client(executor(), options);
  request put = get(url_of(server.port()));
  put.method = verb::put;
  put.body.assign(64 * 1024 * 1024, 'p');  // more than loopback buffers hold
  auto error = send_expecting_error(client, put);
  EXPECT_EQ(error.code_value(), errc::timeout);
  EXPECT_NE(error.message().find("write"), std::string::npos) << error.message();
}

TEST_F(NetTest, ProxyConnectDeadline) {
  // A proxy that accepts the connection and never answers CONNECT.
  server_options silent;
  silent.silent = true;
  scripted_server proxy({}, silent);
  auto options = single_attempt(quick_options());
  options.proxy.https_proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  options.timeouts.handshake = 200ms;
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get(url_of(443, "/", "https", "example.invalid")));
  EXPECT_EQ(error.code_value(), errc::timeout);
  EXPECT_EQ(error.phase(), error_phase::proxy) << phase_name(error.phase());
  EXPECT_NE(error.message().find("phase proxy"), std::string::npos) << error.message();
  EXPECT_EQ(proxy.connections_accepted(), 1u);
}

// A listening socket whose accept queue is full: the kernel drops further
// SYNs, so a connect hangs until its deadline.
class unanswered_listener {
 public:
  unanswered_listener() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length);
    ::listen(listener_, 0);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    for (int i = 0; i < 4; ++i) {
      int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(filler, reinterpret_cast<sockaddr*>(&address), length);
      fillers_.push_back(filler);
    }
  }
  ~unanswered_listener() {
    for (int filler : fillers_) ::close(filler);
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> fillers_;
};

TEST_F(NetTest, ConnectDeadline) {
  unanswered_listener listener;
  auto options = single_attempt(quick_options());
  options.timeouts.connect = 200ms;
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get(url_of(listener.port())));
  if (error.code_value() == errc::network) GTEST_SKIP() << "this kernel refuses instead of dropping: " << error.message();
  EXPECT_EQ(error.code_value(), errc::timeout);
  EXPECT_NE(error.message().find("connect"), std::string::npos) << error.message();
}

TEST_F(NetTest, OverallDeadlineBoundsAttemptsAndWaits) {
  auto slow = script_step::ok();
  slow.delay_before_headers = 5s;
  scripted_server server({slow, slow, slow});
  http_client client(executor(), quick_options());
  request req = get(url_of(server.port()));
  req.deadline = amc::deadline::after(300ms);
  auto error = send_expecting_error(client, req);
  EXPECT_EQ(error.code_value(), errc::timeout);
  EXPECT_NE(error.message().find("overall deadline"), std::string::npos) << error.message();
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(NetTest, QueuedRequestWhoseDeadlineEndsInThePoolWaitTimesOutNamingIt) {
  auto slow = script_step::ok();
  slow.delay_before_headers = 10s;
  scripted_server server({slow});
  auto options = quick_options();
  options.max_connections_per_host = 1;
  http_client client(executor(), options);
  auto in_flight = boost::asio::co_spawn(context_, client.send(get(url_of(server.port(), "/slow"))),
                                         boost::asio::use_future);
  ASSERT_TRUE(server.wait_for_requests(1));
  request queued = get(url_of(server.port(), "/queued"));
  queued.deadline = amc::deadline::after(300ms);
  auto error = send_expecting_error(client, queued);
  EXPECT_EQ(error.code_value(), errc::timeout) << error.message();
  EXPECT_EQ(error.phase(), error_phase::pool_wait) << phase_name(error.phase());
  EXPECT_NE(error.message().find("no connection"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("max_connections_per_host"), std::string::npos) << error.message();
  auto metrics = client.metrics();
  EXPECT_EQ(metrics["connections"]["pool_waits"], 1);
  EXPECT_EQ(metrics["failures"]["timeout"], 1);
  // It never got a connection: nothing of it reached the server.
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.connections_accepted(), 1u);
  client.shutdown();
  EXPECT_THROW(in_flight.get(), amc::error);
}

TEST_F(NetTest, AHostThatDoesNotResolveFailsInTheResolvePhase) {
  auto options = single_attempt(quick_options());
  options.timeouts.resolve = 2s;
  http_client client(executor(), options);
  // RFC 6761: names under .invalid never resolve. Offline the lookup fails
  // at once; where DNS does not answer, the resolve deadline ends it.
  auto error = send_expecting_error(client, get("http://no-such-host.invalid:8080/x"));
  EXPECT_EQ(error.phase(), error_phase::resolve) << phase_name(error.phase());
  if (error.code_value() == errc::timeout) {
    EXPECT_NE(error.message().find("phase resolve"), std::string::npos) << error.message();
  } else {
    EXPECT_EQ(error.code_value(), errc::network) << error.message();
    EXPECT_NE(error.message().find("could not resolve no-such-host.invalid"), std::string::npos) << error.message();
  }
  EXPECT_EQ(error.detail()["attempts"], 0);
  EXPECT_EQ(client.metrics()["connections"]["opened"], 0);
}

TEST_F(NetTest, ConnectionRefusedIsANetworkErrorThatSaysSo) {
  const std::uint16_t port = closed_port();
  auto options = quick_options();
  options.retry.max_attempts = 2;
  http_client client(executor(), options);
  request post = get(url_of(port));
  post.method = verb::post;  // nothing was sent, so even a POST may try again
  auto error = send_expecting_error(client, post);
  EXPECT_EQ(error.code_value(), errc::network);
  EXPECT_NE(error.message().find("could not connect"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("after 2 attempts"), std::string::npos) << error.message();
  EXPECT_EQ(error.detail()["attempts"], 0);
}

TEST_F(NetTest, CancellationThroughTheCallersSlot) {
  auto slow = script_step::ok();
  slow.delay_before_headers = 10s;
  scripted_server server({slow});
  http_client client(executor(), quick_options());
  auto strand = boost::asio::make_strand(context_);
  boost::asio::cancellation_signal signal;
  std::promise<std::exception_ptr> outcome;
  boost::asio::co_spawn(strand, client.send(get(url_of(server.port()))),
                        boost::asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr error, response) {
                          outcome.set_value(error);
                        }));
  ASSERT_TRUE(server.wait_for_requests(1));
  boost::asio::post(strand, [&] { signal.emit(boost::asio::cancellation_type::terminal); });
  auto error = outcome.get_future().get();
  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const amc::error& e) {
    EXPECT_EQ(e.code_value(), errc::cancelled) << e.message();
  }
  EXPECT_EQ(client.metrics()["failures"]["cancelled"], 1);
}

// A cancellation that races the reply: the caller's coroutine runs on its
// own strand, off the client's, and its signal fires at staggered moments
// around the time the reply arrives. Each request either succeeds or fails
// as cancelled, and nothing touches freed memory (this is the ASan/TSan
// check: Asio 1.81's own co_spawn forwarding read a freed handler here).
TEST_F(NetTest, CancellationRacingTheReplyIsSafe) {
  constexpr int warm_up = 20;
  constexpr int requests = 400;
  scripted_server server(std::vector<script_step>(warm_up + requests, script_step::ok()));
  http_client client(executor(), quick_options());
  // How long a reply takes here (the median warm-up send on the kept-alive
  // connection), so that the cancellations spread around it.
  std::vector<std::chrono::steady_clock::duration> round_trips;
  for (int i = 0; i < warm_up; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(send(client, get(url_of(server.port()))).status, 200);
    round_trips.push_back(std::chrono::steady_clock::now() - start);
  }
  std::nth_element(round_trips.begin(), round_trips.begin() + warm_up / 2, round_trips.end());
  const auto round_trip = round_trips[warm_up / 2];
  auto caller = boost::asio::make_strand(context_);
  int succeeded = 0;
  int cancelled = 0;
  for (int i = 0; i < requests; ++i) {
    boost::asio::cancellation_signal signal;
    std::promise<std::exception_ptr> outcome;
    const auto start = std::chrono::steady_clock::now();
    boost::asio::co_spawn(caller, client.send(get(url_of(server.port()))),
                          boost::asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr error, response) {
                            outcome.set_value(error);
                          }));
    // From the start of the send to five round trips later, in 100 steps
    // (this thread's spinning slows the reply on a 2-core machine).
    const auto fire_at = start + round_trip * (i % 100) / 20;
    while (std::chrono::steady_clock::now() < fire_at) {
    }
    boost::asio::post(caller, [&] { signal.emit(boost::asio::cancellation_type::terminal); });
    auto error = outcome.get_future().get();
    // The signal and promise live in this iteration: wait until the emit
    // has run on the caller's strand before they go.
    boost::asio::post(caller, boost::asio::use_future).get();
    if (!error) {
      ++succeeded;
      continue;
    }
    try {
      std::rethrow_exception(error);
    } catch (const amc::error& e) {
      ASSERT_EQ(e.code_value(), errc::cancelled) << e.message();
      ++cancelled;
    }
  }
  EXPECT_EQ(succeeded + cancelled, requests);
  EXPECT_EQ(client.metrics()["failures"]["cancelled"], cancelled);
  // The client still works after the storm.
  scripted_server after({script_step::ok("after")});
  EXPECT_EQ(send(client, get(url_of(after.port()))).body, "after");
  std::printf("[          ] %d replies, %d cancelled (round trip %lld us)\n", succeeded, cancelled,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(round_trip).count()));
}

TEST_F(NetTest, ShutdownFailsWaitingAndQueuedRequestsAsCancelled) {
  auto slow = script_step::ok();
  slow.delay_before_headers = 10s;
  scripted_server server({slow, slow});
  auto options = quick_options();
  options.max_connections_per_host = 1;
  http_client client(executor(), options);
  auto in_flight = boost::asio::co_spawn(context_, client.send(get(url_of(server.port()))), boost::asio::use_future);
  auto queued = boost::asio::co_spawn(context_, client.send(get(url_of(server.port()))), boost::asio::use_future);
  ASSERT_TRUE(server.wait_for_requests(1));
  // The second request waits in the pool for the only connection.
  const auto limit = std::chrono::steady_clock::now() + 10s;
  while (client.metrics()["connections"]["pool_waits"] != 1 && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(1ms);
  ASSERT_EQ(client.metrics()["connections"]["pool_waits"], 1);
  client.shutdown();
  for (auto* future : {&in_flight, &queued}) {
    // Well before the server's 10 s delay: shutdown ends both at once.
    ASSERT_EQ(future->wait_for(5s), std::future_status::ready);
    try {
      future->get();
      ADD_FAILURE() << "expected cancellation";
    } catch (const amc::error& e) {
      EXPECT_EQ(e.code_value(), errc::cancelled) << e.message();
    }
  }
  EXPECT_EQ(send_expecting_error(client, get(url_of(server.port()))).code_value(), errc::cancelled);
}

TEST_F(NetTest, RateLimiterSpacesRequestsAndLowersOnThrottle) {
  scripted_server server({script_step::status_only(429, {{"Retry-After", "0"}})});
  auto options = quick_options();
  options.rate_limit.requests_per_second = 5;  // 200 ms apart: far more than a loopback request takes
  options.rate_limit.burst = 1;
  http_client client(executor(), options);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(send(client, get(url_of(server.port()))).status, 200u);
  auto metrics = client.metrics();
  // 5 sends through a bucket of one: every one after the first waited.
  EXPECT_EQ(metrics["rate_limiter"]["waits"], 4);
  EXPECT_EQ(metrics["rate_limiter"]["lowered_rates"].size(), 1u);
}

// A download's transfer may rightly take longer than retry.max_total: a
// failure after that is still retried (from the start of the file) within
// the call's timeout.
TEST_F(NetTest, ADownloadFailingAfterMaxTotalIsStillRetried) {
  std::string payload(64 * 1024, 'r');
  auto slow_then_cut = script_step::misbehave(action::truncated_body);
  slow_then_cut.delay_before_body = 400ms;
  scripted_server server({slow_then_cut, script_step::ok(payload)});
  auto options = quick_options();
  options.retry.max_total = 200ms;
  http_client client(executor(), options);
  amc::testing::temporary_directory directory;
  const auto destination = directory.path() / "result.csv";
  request req = get(url_of(server.port(), "/part-0"));
  req.deadline = amc::deadline::after(30s);
  auto reply =
      boost::asio::co_spawn(context_, client.download(req, destination, nullptr), boost::asio::use_future).get();
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.attempts, 2);
  EXPECT_EQ(amc::testing::read_file(destination), payload);
}

TEST_F(NetTest, DownloadStreamsA200BodyToAFileWithProgress) {
  std::string payload(300 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  scripted_server server({script_step::misbehave(action::truncated_body), script_step::ok(payload),
                          script_step::status_only(404)});
  auto options = quick_options();
  options.max_response_body_bytes = 1024;  // applies to in-memory bodies only
  http_client client(executor(), options);
  amc::testing::temporary_directory directory;
  const auto destination = directory.path() / "result.csv";
  std::uint64_t last_bytes = 0, last_total = 0;
  int calls = 0;
  auto reply = boost::asio::co_spawn(context_,
                                     client.download(get(url_of(server.port(), "/part-0")), destination,
                                                     [&](std::uint64_t bytes, std::uint64_t total) {
                                                       ++calls;
                                                       last_bytes = bytes;
                                                       last_total = total;
                                                     }),
                                     boost::asio::use_future)
                   .get();
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.attempts, 2);  // the truncated first attempt was retried from the start
  EXPECT_TRUE(reply.body.empty());
  EXPECT_EQ(amc::testing::read_file(destination), payload);
  EXPECT_GE(calls, 1);
  EXPECT_EQ(last_bytes, payload.size());
  EXPECT_EQ(last_total, payload.size());

  // Anything but 200 comes back as an ordinary response; no file is written.
  const auto missing = directory.path() / "missing.csv";
  auto not_found =
      boost::asio::co_spawn(context_, client.download(get(url_of(server.port(), "/gone")), missing, nullptr),
                            boost::asio::use_future)
          .get();
  EXPECT_EQ(not_found.status, 404u);
  EXPECT_EQ(not_found.body, "status 404");
  EXPECT_FALSE(std::filesystem::exists(missing));
}

// A download's HEAD gets headers only: their Content-Length, however
// large, describes a body that never comes and is not refused.
TEST_F(NetTest, ADownloadsHeadReplyHasNoBodyWhateverItsContentLength) {
  auto head_reply = script_step::ok();
  head_reply.raw_parts = {"HTTP/1.1 404 Not Found\r\nContent-Length: 99999999\r\n\r\n"};
  scripted_server server({head_reply});
  http_client client(executor(), single_attempt(quick_options()));
  amc::testing::temporary_directory directory;
  request head = get(url_of(server.port(), "/part-0"));
  head.method = verb::head;
  const auto reply = boost::asio::co_spawn(context_, client.download(head, directory.path() / "part.csv", nullptr),
                                           boost::asio::use_future)
                         .get();
  EXPECT_EQ(reply.status, 404u);
  EXPECT_TRUE(reply.body.empty());
}

TEST_F(NetTest, SecretsNeverReachMessagesOrMetrics) {
  scripted_server server(std::vector<script_step>(3, script_step::misbehave(action::reset)));
  auto options = single_attempt(quick_options());
  http_client client(executor(), options);
  request req = get(url_of(server.port(), "/token?refresh_token=Atzr|query-secret"));
  req.method = verb::post;
  req.headers = {{"Authorization", "Bearer Atza|header-secret"}};
  req.body = "client_secret=body-secret";
  auto error = send_expecting_error(client, req);
  const std::string everything = error.message() + error.detail().dump() + client.metrics().dump();
  for (const char* secret : {"query-secret", "header-secret", "body-secret", "refresh_token"})
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret << " in " << everything;
  // A header with a line break is refused without echoing its value.
  req.headers = {{"Authorization", "Bearer x\r\nInjected: header-secret"}};
  auto refused = send_expecting_error(client, req);
  EXPECT_EQ(refused.code_value(), errc::invalid_argument);
  EXPECT_EQ(refused.message().find("header-secret"), std::string::npos);
}

}  // namespace
}  // namespace amc::net::testing
