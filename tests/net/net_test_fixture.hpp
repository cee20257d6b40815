// What the HTTP client's integration tests share: an io_context run by two
// threads (as the owner may run it), options with short delays, and helpers
// that send from a coroutine and wait for the outcome.
#pragma once

#include "net/http_client.hpp"

#include "common/error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <vector>

namespace amc::net::testing {

class NetTest : public ::testing::Test {
 protected:
  NetTest() : work_(boost::asio::make_work_guard(context_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { context_.run(); });
  }
  ~NetTest() override {
    work_.reset();
    context_.stop();
    for (auto& thread : threads_) thread.join();
  }

  boost::asio::any_io_executor executor() { return context_.get_executor(); }

  // Short delays and generous rate limits, so tests are quick; each test
  // tightens what it is about.
  static client_options quick_options() {
    client_options options;
    options.retry.base_delay = std::chrono::milliseconds(5);
    options.retry.max_delay = std::chrono::milliseconds(20);
    options.retry.max_total = std::chrono::milliseconds(20'000);
    options.rate_limit.requests_per_second = 10'000;
    options.rate_limit.burst = 10'000;
    options.proxy.from_environment = false;
    return options;
  }

  // Network failures retried after short backoffs with no attempt or budget
  // limit of their own: only the deadline or retry.max_total ends them.
  static client_options retrying_network_failures() {
    client_options options = quick_options();
    options.retry.base_delay = std::chrono::milliseconds(100);
    options.retry.max_delay = std::chrono::milliseconds(400);
    options.retry.max_attempts = 1000;
    options.retry.retry_budget_floor = 1000;
    return options;
  }

  // One attempt only: for phase deadlines and what one failure looks like.
  static client_options single_attempt(client_options options) {
    options.retry.max_attempts = 1;
    return options;
  }

  static request get(std::string url) {
    request req;
    req.url = std::move(url);
    return req;
  }

  response send(http_client& client, request req) {
    return boost::asio::co_spawn(context_, client.send(std::move(req)), boost::asio::use_future).get();
  }

  // Sends and expects amc::error; returns it (a default error if none came).
  amc::error send_expecting_error(http_client& client, request req) {
    try {
      auto reply = send(client, std::move(req));
      ADD_FAILURE() << "expected an error, got status " << reply.status;
    } catch (const amc::error& e) {
      return e;
    }
    return amc::error(errc::ok, "no error");
  }

  boost::asio::io_context context_{2};

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

inline std::string url_of(std::uint16_t port, const std::string& path = "/", const char* scheme = "http",
                          const char* host = "127.0.0.1") {
  return std::string(scheme) + "://" + host + ":" + std::to_string(port) + path;
}

}  // namespace amc::net::testing
