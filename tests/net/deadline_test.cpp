// The call's deadline against the scripted server: it cuts a phase whose own
// timeout is longer, no Retry-After or backoff wait goes past it, and what
// comes back then (the 429 as it is, or errc::timeout with the figure).
// Also: a response carries Retry-After as a typed wait, and a 429 on a POST
// is retried (the server did not act on it) while other POST failures are
// not.
#include "net/http_client.hpp"

#include "net_test_fixture.hpp"
#include "scripted_server.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace amc::net::testing {
namespace {

using action = script_step::action;
using boost::beast::http::verb;
using steady = std::chrono::steady_clock;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(NetTest, ADeadlineShorterThanThePhaseTimeoutEndsThePhaseAtTheDeadline) {
  auto slow = script_step::ok();
  slow.delay_before_headers = 5s;
  scripted_server server({slow, slow});
  auto options = quick_options();
  options.timeouts.read_headers = 60s;
  http_client client(executor(), options);

  // Given as a time point: the figure is what was left when it started.
  request req = get(url_of(server.port()));
  const auto started = steady::now();
  req.deadline = started + 300ms;
  auto error = send_expecting_error(client, req);
  EXPECT_LT(steady::now() - started, 4s);
  EXPECT_EQ(error.code_value(), errc::timeout) << error.message();
  EXPECT_EQ(error.phase(), error_phase::read_headers) << phase_name(error.phase());
  EXPECT_TRUE(contains(error.message(), "overall deadline during read_headers (a deadline of")) << error.message();

  // Given as a timeout: the figure is exact.
  request timed = get(url_of(server.port()));
  timed.deadline = amc::deadline::after(300ms);
  auto timed_error = send_expecting_error(client, timed);
  EXPECT_EQ(timed_error.code_value(), errc::timeout);
  EXPECT_TRUE(contains(timed_error.message(), "during read_headers (a deadline of 300 ms;")) << timed_error.message();
}

// One deadline, no second form to reconcile with it: a request without one
// ends by retry.max_total, and the message names that budget.
TEST_F(NetTest, WithoutADeadlineRetryMaxTotalIsTheRequestsDeadline) {
  auto slow = script_step::ok();
  slow.delay_before_headers = 5s;
  scripted_server server({slow});
  auto options = quick_options();
  options.retry.max_total = 250ms;
  http_client client(executor(), options);
  request req = get(url_of(server.port()));
  const auto started = steady::now();
  auto error = send_expecting_error(client, req);
  EXPECT_LT(steady::now() - started, 4s);
  EXPECT_EQ(error.code_value(), errc::timeout) << error.message();
  EXPECT_TRUE(contains(error.message(), "a deadline of 250 ms")) << error.message();
}

// The figure in a message is the deadline's budget, as the call's door
// made it, not what was left when this request of the call started.
TEST_F(NetTest, TimeoutMessagesNameTheCallsBudget) {
  auto slow = script_step::ok();
  slow.delay_before_headers = 5s;
  scripted_server server({slow});
  http_client client(executor(), quick_options());
  request req = get(url_of(server.port()));
  req.deadline = amc::deadline(steady::now() + 300ms, 8000ms);
  auto error = send_expecting_error(client, req);
  EXPECT_EQ(error.code_value(), errc::timeout) << error.message();
  EXPECT_TRUE(contains(error.message(), "a deadline of 8000 ms")) << error.message();
}

TEST_F(NetTest, ADeadlineAlreadyPassedSendsNothing) {
  scripted_server server({});
  http_client client(executor(), quick_options());
  request req = get(url_of(server.port()));
  req.deadline = steady::now() - 1s;
  auto error = send_expecting_error(client, req);
  EXPECT_EQ(error.code_value(), errc::timeout) << error.message();
  EXPECT_TRUE(contains(error.message(), "deadline of 0 ms reached")) << error.message();
  EXPECT_EQ(server.requests().size(), 0u);
}

TEST_F(NetTest, ARetryAfterPastTheDeadlineReturnsThe429AtOnce) {
  scripted_server server(std::vector<script_step>(3, script_step::status_only(429, {{"Retry-After", "100"}})));
  auto options = quick_options();
  // Above the asked 100 s, so that the reply carries them as asked (the
  // cap is http_client_log_test's subject).
  options.retry.max_retry_after = 1h;
  http_client client(executor(), options);
  request req = get(url_of(server.port()));
  const auto started = steady::now();
  req.deadline = started + 2s;
  auto reply = send(client, req);
  EXPECT_LT(steady::now() - started, 5s);
  EXPECT_EQ(reply.status, 429u);
  EXPECT_EQ(reply.retry_after, 100'000ms);
  EXPECT_EQ(reply.attempts, 1);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(NetTest, ThrottlingWithoutRetryAfterBacksOffUntilTheDeadline) {
  scripted_server server(std::vector<script_step>(200, script_step::status_only(429)));
  auto options = quick_options();
  // Without the deadline this would go on for minutes.
  options.retry.base_delay = 200ms;
  options.retry.max_delay = 1s;
  options.retry.max_throttle_waits = 1000;
  http_client client(executor(), options);
  request req = get(url_of(server.port()));
  const auto started = steady::now();
  req.deadline = started + 2s;
  auto reply = send(client, req);
  EXPECT_LT(steady::now() - started, 5s);
  EXPECT_EQ(reply.status, 429u);
  EXPECT_FALSE(reply.retry_after);
  EXPECT_GE(reply.attempts, 1);
  // Every attempt the client counted reached the server, and no more.
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(reply.attempts));
  const auto received = server.requests();
  EXPECT_LT(received.back().received_at - started, 2s);
}

TEST_F(NetTest, NetworkFailuresUntilTheDeadlineEndAsATimeoutWithTheFigure) {
  scripted_server server(std::vector<script_step>(200, script_step::misbehave(action::reset)));
  auto options = retrying_network_failures();
  http_client client(executor(), options);
  request req = get(url_of(server.port()));
  req.deadline = amc::deadline::after(1000ms);
  const auto started = steady::now();
  auto error = send_expecting_error(client, req);
  EXPECT_LT(steady::now() - started, 4s);
  // Not errc::network: the attempts failed, but the deadline ended the call.
  EXPECT_EQ(error.code_value(), errc::timeout) << error.message();
  EXPECT_TRUE(contains(error.message(), "deadline of 1000 ms")) << error.message();
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(error.detail()["attempts"].get<int>()));
}

// retry.max_total bounds the retries and waits of a request whose call
// allows it much longer (a wait() of hours hands each read its time left).
TEST_F(NetTest, ThrottleWaitsStopAtMaxTotalWithinALongerTimeout) {
  scripted_server server(std::vector<script_step>(50, script_step::status_only(429, {{"Retry-After", "1"}})));
  auto options = quick_options();
  options.retry.max_total = 1800ms;
  options.retry.max_throttle_waits = 1000;
  http_client client(executor(), options);
  request req = get(url_of(server.port()));
  req.deadline = amc::deadline::after(30s);
  const auto started = steady::now();
  auto reply = send(client, req);
  // The first 429 is waited out (1 s); the second one's wait would end past
  // 1.8 s: it goes back as it is (a third attempt would come at 2 s).
  EXPECT_LT(steady::now() - started, 1900ms);
  EXPECT_EQ(reply.status, 429u);
  EXPECT_EQ(reply.retry_after, 1000ms);
  EXPECT_EQ(reply.attempts, 2);
  EXPECT_EQ(server.requests().size(), 2u);
}

// Like max_attempts, retry.max_total ends retries after network failures
// with the failure itself (not a timeout, which wait() would take for its
// own).
TEST_F(NetTest, NetworkFailuresPastMaxTotalEndWithTheFailureNamingIt) {
  scripted_server server(std::vector<script_step>(200, script_step::misbehave(action::reset)));
  auto options = retrying_network_failures();
  options.retry.max_total = 800ms;
  http_client client(executor(), options);
  request req = get(url_of(server.port()));
  req.deadline = amc::deadline::after(1h);  // what a call with an hour left hands its request
  const auto started = steady::now();
  auto error = send_expecting_error(client, req);
  EXPECT_LT(steady::now() - started, 4s);
  EXPECT_EQ(error.code_value(), errc::network) << error.message();
  EXPECT_TRUE(contains(error.message(), "; retry.max_total_ms (800 ms) reached)")) << error.message();
  EXPECT_GE(server.requests().size(), 2u);
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(error.detail()["attempts"].get<int>()));
}

// The client's own pacing before a first attempt is bounded by the call's
// deadline only: a wait() with time left must not fail because the limiter
// (lowered by AMC's 429s) holds its read longer than retry.max_total.
TEST_F(NetTest, AFirstAttemptWaitsForTheRateLimiterPastMaxTotalWithinItsTimeout) {
  scripted_server server({});
  auto options = quick_options();
  options.rate_limit.requests_per_second = 2;  // the next token in 0.5 s
  options.rate_limit.burst = 1;
  options.rate_limit.minimum_requests_per_second = 2;
  options.retry.max_total = 100ms;
  http_client client(executor(), options);
  EXPECT_EQ(send(client, get(url_of(server.port()))).status, 200u);
  request req = get(url_of(server.port()));
  req.deadline = amc::deadline::after(10s);
  EXPECT_EQ(send(client, req).status, 200u);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_GE(client.metrics()["rate_limiter"]["waits"].get<int>(), 1) << client.metrics().dump();
}

TEST_F(NetTest, TheRateLimiterWaitNeverGoesPastTheDeadline) {
  scripted_server server({});
  auto options = quick_options();
  options.rate_limit.requests_per_second = 0.5;  // the next token in 2 s
  options.rate_limit.burst = 1;
  options.rate_limit.minimum_requests_per_second = 0.5;
  http_client client(executor(), options);
  EXPECT_EQ(send(client, get(url_of(server.port()))).status, 200u);
  request req = get(url_of(server.port()));
  const auto started = steady::now();
  req.deadline = started + 300ms;
  auto error = send_expecting_error(client, req);
  EXPECT_LT(steady::now() - started, 1s);
  EXPECT_EQ(error.code_value(), errc::timeout);
  // Typed, so that wait() tells the limiter's refusal from a slow read
  // without reading the error's text or JSON.
  EXPECT_EQ(error.phase(), error_phase::rate_limit) << phase_name(error.phase());
  EXPECT_FALSE(error.detail().contains("phase")) << "only capi/ writes the phase into JSON";
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(NetTest, TheResponseCarriesRetryAfterAsATypedWait) {
  scripted_server server({script_step::status_only(429, {{"Retry-After", "7"}}),
                          script_step::status_only(503, {{"Retry-After", "soon"}}), script_step::ok()});
  auto options = single_attempt(quick_options());
  options.retry.max_throttle_waits = 0;
  http_client client(executor(), options);
  auto throttled = send(client, get(url_of(server.port())));
  EXPECT_EQ(throttled.status, 429u);
  EXPECT_EQ(throttled.retry_after, 7000ms);
  auto garbage = send(client, get(url_of(server.port())));
  EXPECT_EQ(garbage.status, 503u);
  EXPECT_EQ(garbage.header("Retry-After"), "soon");
  EXPECT_FALSE(garbage.retry_after);
  EXPECT_FALSE(send(client, get(url_of(server.port()))).retry_after);
}

request post_to(std::uint16_t port) {
  request post;
  post.url = url_of(port, "/create");
  post.method = verb::post;
  post.body = R"({"create":1})";
  return post;
}

TEST_F(NetTest, APostAnswered429IsSentAgainAfterRetryAfter) {
  scripted_server server({script_step::status_only(429, {{"Retry-After", "1"}}), script_step::ok("created")});
  http_client client(executor(), quick_options());
  auto reply = send(client, post_to(server.port()));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.body, "created");
  EXPECT_EQ(reply.attempts, 2);
  const auto received = server.requests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[1].method, "POST");
  EXPECT_EQ(received[1].body, R"({"create":1})");
  EXPECT_GE(received[1].received_at - received[0].received_at, 1000ms);
}

TEST_F(NetTest, APostAnswered429WithoutRetryAfterIsSentAgainAfterABackoff) {
  scripted_server server({script_step::status_only(429), script_step::ok("created")});
  http_client client(executor(), quick_options());
  auto reply = send(client, post_to(server.port()));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.attempts, 2);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(client.metrics()["throttle_waits"], 1);
}

TEST_F(NetTest, APostThrottledPastTheDeadlineReturnsThe429) {
  scripted_server server({script_step::status_only(429, {{"Retry-After", "100"}})});
  auto options = quick_options();
  options.retry.max_retry_after = 1h;  // above the asked 100 s (the cap: http_client_log_test)
  http_client client(executor(), options);
  request post = post_to(server.port());
  post.deadline = steady::now() + 2s;
  auto reply = send(client, post);
  EXPECT_EQ(reply.status, 429u);
  EXPECT_EQ(reply.retry_after, 100'000ms);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(NetTest, APostAnsweredOtherwiseIsStillSentOnce) {
  scripted_server server({script_step::status_only(500), script_step::misbehave(action::reset),
                          script_step::misbehave(action::truncated_body), script_step::ok()});
  http_client client(executor(), quick_options());
  EXPECT_EQ(send(client, post_to(server.port())).status, 500u);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(send_expecting_error(client, post_to(server.port())).code_value(), errc::network);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(send_expecting_error(client, post_to(server.port())).code_value(), errc::network);
  EXPECT_EQ(server.requests().size(), 3u);
}

}  // namespace
}  // namespace amc::net::testing
