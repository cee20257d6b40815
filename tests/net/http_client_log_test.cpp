// What the HTTP client says in its owner's log (issue 21 point 4): each
// retry with its backoff, each throttle wait with its Retry-After, the end
// of the retries, rate-limit waits and resends on a new connection, each
// line naming the request's operation, at INFO or DEBUG, and never a
// header, a body or a query string.
#include "net/http_client.hpp"

#include "common/log.hpp"
#include "net_test_fixture.hpp"
#include "scripted_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

namespace amc::net::testing {
namespace {

using action = script_step::action;
using boost::beast::http::verb;

// A logger whose lines (level and text) the test reads.
class captured_log {
 public:
  explicit captured_log(log_level minimum = log_level::debug) {
    log.set_sink(
        [this](log_level level, std::string_view text) {
          const std::lock_guard lock{mutex_};
          lines_.push_back({level, std::string(text)});
        },
        minimum);
  }
  struct line {
    log_level level;
    std::string text;
  };
  std::vector<line> containing(const std::string& part) const {
    const std::lock_guard lock{mutex_};
    std::vector<line> found;
    std::copy_if(lines_.begin(), lines_.end(), std::back_inserter(found),
                 [&](const line& each) { return each.text.find(part) != std::string::npos; });
    return found;
  }
  std::vector<line> all() const { return containing(""); }

  logger log;

 private:
  mutable std::mutex mutex_;
  std::vector<line> lines_;
};

std::string dump(const std::vector<captured_log::line>& lines) {
  std::string text;
  for (const auto& each : lines) text += std::to_string(static_cast<int>(each.level)) + " " + each.text + "\n";
  return text;
}

TEST_F(NetTest, EachServerErrorRetryIsLoggedAtInfoWithItsOperationAndBackoff) {
  scripted_server server({script_step::status_only(503), script_step::status_only(500), script_step::ok()});
  captured_log captured;
  http_client client(executor(), quick_options(), &captured.log);
  request req = get(url_of(server.port(), "/amc/reporting/i/workflowExecutions/e1"));
  req.operation = "get_execution";
  EXPECT_EQ(send(client, req).status, 200u);
  const auto retries = captured.containing("retry ");
  ASSERT_EQ(retries.size(), 2u) << dump(captured.all());
  const std::string url = url_of(server.port(), "/amc/reporting/i/workflowExecutions/e1");
  EXPECT_EQ(retries[0].text.rfind("get_execution: GET " + url + " answered HTTP 503; retry 1 of 4 in ", 0), 0u)
      << retries[0].text;
  EXPECT_EQ(retries[1].text.rfind("get_execution: GET " + url + " answered HTTP 500; retry 2 of 4 in ", 0), 0u)
      << retries[1].text;
  for (const auto& each : retries) {
    EXPECT_EQ(each.level, log_level::info) << each.text;
    EXPECT_NE(each.text.find(" ms"), std::string::npos) << "the backoff is given: " << each.text;
  }
  EXPECT_TRUE(captured.containing("not retried again").empty()) << "it succeeded: " << dump(captured.all());
}

TEST_F(NetTest, AThrottleWaitIsLoggedAtInfoWithTheRetryAfterItHonours) {
  scripted_server server({script_step::status_only(429, {{"Retry-After", "1"}}), script_step::ok()});
  captured_log captured;
  http_client client(executor(), quick_options(), &captured.log);
  request req = get(url_of(server.port(), "/list"));
  req.operation = "list_executions";
  EXPECT_EQ(send(client, req).status, 200u);
  const auto throttles = captured.containing("throttled");
  ASSERT_EQ(throttles.size(), 1u) << dump(captured.all());
  EXPECT_EQ(throttles[0].level, log_level::info);
  EXPECT_EQ(throttles[0].text.rfind("list_executions: GET " + url_of(server.port(), "/list") + " answered HTTP 429", 0),
            0u)
      << throttles[0].text;
  EXPECT_NE(throttles[0].text.find("waiting 1000 ms (as Retry-After asks)"), std::string::npos) << throttles[0].text;
  EXPECT_NE(throttles[0].text.find("throttle wait 1 of at most 30"), std::string::npos) << throttles[0].text;
}

TEST_F(NetTest, ThrottleWaitsThatRunOutSayWhyTheAnswerWentBack) {
  scripted_server server(std::vector<script_step>(4, script_step::status_only(429, {{"Retry-After", "0"}})));
  auto options = quick_options();
  options.retry.max_throttle_waits = 2;
  captured_log captured;
  http_client client(executor(), options, &captured.log);
  request req = get(url_of(server.port()));
  req.operation = "get_execution";
  EXPECT_EQ(send(client, req).status, 429u);
  EXPECT_EQ(captured.containing("of at most 2").size(), 2u) << dump(captured.all());
  const auto stopped = captured.containing("not retried again");
  ASSERT_EQ(stopped.size(), 1u) << dump(captured.all());
  EXPECT_EQ(stopped[0].level, log_level::info);
  EXPECT_NE(stopped[0].text.find("after 2 throttle waits (retry.max_throttle_waits)"), std::string::npos)
      << stopped[0].text;
}

TEST_F(NetTest, ADeadEndpointIsNotSilent) {
  const std::uint16_t port = closed_port();
  auto options = quick_options();
  options.retry.max_attempts = 3;
  captured_log captured;
  http_client client(executor(), options, &captured.log);
  request req = get(url_of(port, "/auth/o2/token"));
  req.method = verb::post;
  req.operation = "token refresh";
  EXPECT_EQ(send_expecting_error(client, req).code_value(), errc::network);
  const auto lines = captured.all();
  ASSERT_EQ(lines.size(), 3u) << dump(lines);
  EXPECT_EQ(lines[0].text.rfind("token refresh: POST " + url_of(port, "/auth/o2/token"), 0), 0u) << lines[0].text;
  EXPECT_NE(lines[0].text.find("could not connect"), std::string::npos) << lines[0].text;
  EXPECT_NE(lines[0].text.find("(phase connect); retry 1 of 2 in "), std::string::npos) << lines[0].text;
  EXPECT_NE(lines[1].text.find("retry 2 of 2 in "), std::string::npos) << lines[1].text;
  EXPECT_NE(lines[2].text.find("(3 attempts, retry.max_attempts); not retried again"), std::string::npos)
      << lines[2].text;
  for (const auto& each : lines) EXPECT_EQ(each.level, log_level::info) << each.text;
}

TEST_F(NetTest, AResendOnANewConnectionAndARateLimitWaitAreLoggedAtDebug) {
  scripted_server server({script_step::misbehave(action::close_after_response), script_step::ok(), script_step::ok()});
  auto options = quick_options();
  options.rate_limit.requests_per_second = 10;
  options.rate_limit.burst = 2;
  captured_log captured;
  http_client client(executor(), options, &captured.log);
  request req = get(url_of(server.port(), "/w"));
  req.operation = "get_workflow";
  EXPECT_EQ(send(client, req).status, 200u);
  ASSERT_TRUE(server.wait_for_closed_connections(1));
  EXPECT_EQ(send(client, req).status, 200u);  // on the closed connection, then on a new one
  const auto resends = captured.containing("again on a new connection");
  ASSERT_EQ(resends.size(), 1u) << dump(captured.all());
  EXPECT_EQ(resends[0].level, log_level::debug);
  EXPECT_EQ(resends[0].text.rfind("get_workflow: the server had closed the pooled connection to " +
                                      url_of(server.port(), ""),
                                  0),
            0u)
      << resends[0].text;
  // The burst of 2 is spent (the resend took a token too): the next one waits.
  EXPECT_EQ(send(client, req).status, 200u);
  const auto waits = captured.containing("client-side rate limit");
  ASSERT_FALSE(waits.empty()) << dump(captured.all());
  EXPECT_EQ(waits[0].level, log_level::debug);
  EXPECT_EQ(waits[0].text.rfind("get_workflow: waiting ", 0), 0u) << waits[0].text;
  // At INFO, as amcctl --verbose and Python's default level ask, none of these is made.
  captured_log quiet(log_level::info);
  http_client at_info(executor(), options, &quiet.log);
  scripted_server again({script_step::misbehave(action::close_after_response), script_step::ok(), script_step::ok()});
  request other = get(url_of(again.port(), "/w"));
  EXPECT_EQ(send(at_info, other).status, 200u);
  ASSERT_TRUE(again.wait_for_closed_connections(1));
  EXPECT_EQ(send(at_info, other).status, 200u);
  EXPECT_EQ(send(at_info, other).status, 200u);
  EXPECT_TRUE(quiet.all().empty()) << dump(quiet.all());
}

TEST_F(NetTest, NoLogLineHoldsAHeaderABodyOrAQueryString) {
  // Secrets the redaction of common/log.cpp would not recognise: what keeps
  // them out is that the HTTP layer never writes them into a line.
  scripted_server server({script_step::status_only(503), script_step::misbehave(action::reset),
                          script_step::status_only(429, {{"Retry-After", "0"}}), script_step::status_only(502)});
  // The reset comes on the kept-alive connection of the 503: a resend on a
  // new connection, which does not count as an attempt.
  auto options = quick_options();
  options.retry.max_attempts = 2;
  captured_log captured;
  http_client client(executor(), options, &captured.log);
  request req = get(url_of(server.port(), "/results/part-1.csv?X-Amz-Signature=query-secret-1"));
  req.method = verb::put;
  req.headers = {{"X-Api-Key", "header-secret-2"}};
  req.body = "secret_value=body-secret-3";
  req.operation = "download_results";
  EXPECT_EQ(send(client, req).status, 502u);
  const auto lines = captured.all();
  EXPECT_GE(lines.size(), 4u) << dump(lines);
  for (const auto& each : lines) {
    for (const char* secret : {"query-secret-1", "header-secret-2", "body-secret-3", "X-Amz-Signature", "?"})
      EXPECT_EQ(each.text.find(secret), std::string::npos) << secret << " in " << each.text;
    EXPECT_EQ(each.text.rfind("download_results: ", 0), 0u) << each.text;
  }
}

// Issue 23 kind 2: one 429 whose Retry-After asks for a day, or names a
// date decades away, must not hold a request (and through it the poller)
// for that long. retry.max_retry_after caps it, in the one place every
// reply passes, with a WARNING naming the request, what it asked and the
// cap; the reply then carries the capped wait.
TEST_F(NetTest, ARetryAfterOfADayOrADateDecadesAwayIsCappedAndSaidAtWarning) {
  scripted_server server({script_step::status_only(429, {{"Retry-After", "86400"}}),
                          script_step::status_only(503, {{"Retry-After", "Fri, 01 Jan 2100 00:00:00 GMT"}}),
                          script_step::ok()});
  auto options = quick_options();
  options.retry.max_retry_after = std::chrono::milliseconds(300);
  captured_log captured;
  http_client client(executor(), options, &captured.log);
  request req = get(url_of(server.port(), "/amc/reporting/i/workflowExecutions/e1"));
  req.operation = "get_execution";
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(send(client, req).status, 200u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  const auto received = server.requests();
  ASSERT_EQ(received.size(), 3u);
  // The capped wait is still waited: the server's "not now" is honoured,
  // only not for a day.
  EXPECT_GE(received[1].received_at - received[0].received_at, std::chrono::milliseconds(300));
  EXPECT_GE(received[2].received_at - received[1].received_at, std::chrono::milliseconds(300));
  EXPECT_EQ(client.metrics()["retry_after_capped"], 2);
  const auto capped = captured.containing("retry.max_retry_after_ms");
  ASSERT_EQ(capped.size(), 2u) << dump(captured.all());
  for (const auto& each : capped) EXPECT_EQ(each.level, log_level::warning) << each.text;
  EXPECT_NE(capped[0].text.find("get_execution: GET "), std::string::npos) << capped[0].text;
  EXPECT_NE(capped[0].text.find("HTTP 429 with a Retry-After of 86400 s; waiting at most 300 ms"), std::string::npos)
      << capped[0].text;
  EXPECT_NE(capped[1].text.find("HTTP 503 with a Retry-After of "), std::string::npos) << capped[1].text;
  // The header's own text is not quoted.
  EXPECT_EQ(capped[1].text.find("2100"), std::string::npos) << capped[1].text;
}

// Without configuration the cap is a minute: a 429 that asks for a day
// comes back (the wait would pass retry.max_total) carrying one minute.
TEST_F(NetTest, ByDefaultARetryAfterIsCappedAtAMinute) {
  EXPECT_EQ(retry_policy{}.max_retry_after, std::chrono::milliseconds(60'000));
  scripted_server server({script_step::status_only(429, {{"Retry-After", "86400"}})});
  auto options = quick_options();
  options.retry.max_total = std::chrono::milliseconds(1000);
  http_client client(executor(), options);
  const auto reply = send(client, get(url_of(server.port())));
  EXPECT_EQ(reply.status, 429u);
  ASSERT_TRUE(reply.retry_after.has_value());
  EXPECT_EQ(*reply.retry_after, std::chrono::milliseconds(60'000));
}

}  // namespace
}  // namespace amc::net::testing
