// The request as it goes on the wire (build_request_message): the same bytes
// Beast's serializer wrote for the request the client used to build, except
// the two documented differences (framing headers are the client's; repeated
// names keep the caller's order), and the strand helper's refusal of an
// executor that is not an io_context's.
#include "net/client_state.hpp"
#include "net/exchange.hpp"
#include "net/io_strand.hpp"

#include "common/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace amc::net::detail {
namespace {

namespace http = boost::beast::http;

// What the client sent before it rendered requests itself: a
// request<string_body> built field by field, then prepare_payload().
std::string as_beast_wrote_it(const request& req, const url_parts& url, const std::string& user_agent) {
  http::request<http::string_body> message;
  message.method(req.method);
  message.target(url.target);
  message.version(11);
  const bool default_port = url.port == (url.is_tls() ? 443 : 80);
  message.set(http::field::host, default_port ? (url.host.find(':') != std::string::npos ? "[" + url.host + "]"
                                                                                          : url.host)
                                              : url.authority());
  message.set(http::field::user_agent, user_agent);
  for (const auto& field : req.headers)
    if (boost::beast::iequals(field.name, "Host") || boost::beast::iequals(field.name, "User-Agent"))
      message.erase(field.name);
  for (const auto& field : req.headers) message.insert(field.name, field.value);
  message.body() = req.body;
  message.prepare_payload();
  std::ostringstream out;
  out << message;
  return out.str();
}

class RequestWire : public ::testing::Test {
 protected:
  std::string render(const request& req) {
    const url_parts url = parse_url(req.url);
    request_context rc{req, url, {}, false, {}, {}, {}, nullptr};
    build_request_message(state_, rc);
    EXPECT_EQ(rc.wire, as_beast_wrote_it(req, url, state_.options.user_agent)) << req.url;
    return rc.wire;
  }

  boost::asio::io_context io_;
  client_state state_{io_.get_executor(), client_options{}};
};

TEST_F(RequestWire, IsWhatBeastWroteForEveryShapeOfRequest) {
  request get;
  get.url = "https://advertising-api.amazon.com/amc/reporting/i1/workflowExecutions/e1?x=1";
  get.headers = {{"Amazon-Advertising-API-ClientId", "amzn1.application-oa2-client.x"},
                 {"Authorization", "Bearer Atza|made-up"},
                 {"Accept", "application/json"}};
  const std::string wire = render(get);
  EXPECT_EQ(wire.rfind("GET /amc/reporting/i1/workflowExecutions/e1?x=1 HTTP/1.1\r\nHost: advertising-api.amazon.com\r\n",
                       0),
            0u)
      << wire;
  EXPECT_EQ(wire.find("Content-Length"), std::string::npos);  // a GET without a body has none

  request post = get;
  post.method = http::verb::post;
  post.url = "http://127.0.0.1:8080/amc/reporting/i1/workflowExecutions";
  post.body = R"({"workflowId":"w"})";
  EXPECT_NE(render(post).find("\r\nContent-Length: 18\r\n\r\n{\"workflowId\":\"w\"}"), std::string::npos);

  request empty_post = post;
  empty_post.body.clear();
  EXPECT_NE(render(empty_post).find("\r\nContent-Length: 0\r\n\r\n"), std::string::npos);

  request own_host = get;
  own_host.url = "http://[::1]/status";
  own_host.headers.push_back({"Host", "example.com"});
  own_host.headers.push_back({"user-agent", "theirs/1"});
  render(own_host);
  request v6 = get;
  v6.url = "http://[::1]/status";
  EXPECT_NE(render(v6).find("\r\nHost: [::1]\r\n"), std::string::npos);

  request head = get;
  head.method = http::verb::head;
  render(head);
  request put = post;
  put.method = http::verb::put;
  render(put);
  for (const auto method : {http::verb::delete_, http::verb::patch, http::verb::options}) {
    request bodiless = get;
    bodiless.method = method;
    render(bodiless);
    bodiless.body = "x";
    render(bodiless);
  }
  request other_port = get;
  other_port.url = "https://advertising-api.amazon.com:8443/amc/accounts";
  EXPECT_NE(render(other_port).find("\r\nHost: advertising-api.amazon.com:8443\r\n"), std::string::npos);
}

TEST_F(RequestWire, FramingIsTheClientsAndRepeatedNamesKeepTheCallersOrder) {
  request get;
  get.method = http::verb::delete_;
  get.url = "http://127.0.0.1:8080/x";
  get.headers = {{"Content-Length", "5"}, {"A", "1"}, {"Transfer-Encoding", "gzip, chunked"}, {"B", "2"}, {"A", "3"}};
  const url_parts url = parse_url(get.url);
  request_context rc{get, url, {}, false, {}, {}, {}, nullptr};
  build_request_message(state_, rc);
  EXPECT_EQ(rc.wire, "DELETE /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: " + state_.options.user_agent +
                         "\r\nA: 1\r\nB: 2\r\nA: 3\r\n\r\n");
  get.method = http::verb::post;
  get.body = "{}";
  build_request_message(state_, rc);
  EXPECT_EQ(rc.wire, "POST /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: " + state_.options.user_agent +
                         "\r\nA: 1\r\nB: 2\r\nA: 3\r\nContent-Length: 2\r\n\r\n{}");
}

TEST_F(RequestWire, AHeaderThatCannotBeSentIsRefusedWithoutItsValue) {
  for (const header_field& bad : {header_field{"", "x"}, header_field{"X-Bad\r\nInjected", "x"},
                                  header_field{"Authorization", "Bearer made-up\r\nInjected: 1"}}) {
    request req;
    req.url = "http://127.0.0.1:1/";
    req.headers = {bad};
    const url_parts url = parse_url(req.url);
    request_context rc{req, url, {}, false, {}, {}, {}, nullptr};
    try {
      build_request_message(state_, rc);
      ADD_FAILURE() << "accepted header " << bad.name;
    } catch (const amc::error& e) {
      EXPECT_EQ(e.code_value(), errc::invalid_argument);
      EXPECT_EQ(std::string(e.what()).find("made-up"), std::string::npos) << e.what();
    }
  }
}

TEST_F(RequestWire, ASharedHeaderBlockGoesFirstWithTheSameRules) {
  request get;
  get.url = "http://127.0.0.1:8080/x";
  get.common_headers = std::make_shared<const header_block>(
      std::vector<header_field>{{"A", "1"}, {"Content-Length", "9"}, {"User-Agent", "host-app"}, {"B", "2"}});
  get.headers = {{"C", "3"}};
  const url_parts url = parse_url(get.url);
  request_context rc{get, url, {}, false, {}, {}, {}, nullptr};
  build_request_message(state_, rc);
  // The block's User-Agent replaces the client's; its Content-Length is
  // dropped; the block comes before the request's own fields.
  EXPECT_EQ(rc.wire, "GET /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nA: 1\r\nUser-Agent: host-app\r\nB: 2\r\nC: 3\r\n\r\n");
  // The same bytes as the fields sent one by one in that order.
  request flat = get;
  flat.common_headers = nullptr;
  flat.headers = {{"A", "1"}, {"User-Agent", "host-app"}, {"B", "2"}, {"C", "3"}};
  EXPECT_EQ(render(flat), rc.wire);
}

TEST(HeaderBlock, AFieldThatCannotBeSentIsRefusedWhenTheBlockIsBuilt) {
  for (const header_field& bad : {header_field{"", "x"}, header_field{"X-Bad\nInjected", "x"},
                                  header_field{"Authorization", "Bearer made-up\r\nInjected: 1"}}) {
    try {
      header_block block(std::vector<header_field>{{"Fine", "yes"}, bad});
      ADD_FAILURE() << "accepted header " << bad.name;
    } catch (const amc::error& e) {
      EXPECT_EQ(e.code_value(), errc::invalid_argument);
      EXPECT_EQ(std::string(e.what()).find("made-up"), std::string::npos) << e.what();
    }
  }
  const header_block empty;
  EXPECT_TRUE(empty.wire().empty());
  EXPECT_FALSE(empty.sets_host());
  const header_block host(std::vector<header_field>{{"host", "example.com"}});
  EXPECT_TRUE(host.sets_host());
  EXPECT_FALSE(host.sets_user_agent());
}

TEST(IoStrand, NeedsAnIoContextsExecutor) {
  boost::asio::io_context io;
  EXPECT_NO_THROW(make_io_strand(io.get_executor()));
  try {
    make_io_strand(boost::asio::system_executor());
    ADD_FAILURE() << "a system_executor was accepted";
  } catch (const amc::error& e) {
    EXPECT_EQ(e.code_value(), errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("io_context"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace amc::net::detail
