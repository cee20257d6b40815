#include "net/url.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

#include <gtest/gtest.h>

#include <map>

namespace amc::net {
namespace {

// Found by the fuzz target tests/fuzz/ids: the scheme of a URL that is
// refused was quoted raw, so a URL from outside (a result part's
// downloadUrls entry, an endpoint, a proxy) with bytes that are not UTF-8
// made a message that is not UTF-8 either, and of any length.
TEST(Url, ARefusedSchemeIsQuotedAsValidUtf8AndShort) {
  for (const std::string& url : {std::string("\xff\xff_://host/"), std::string(1000, 'x') + "://host/"}) {
    try {
      parse_url(url);
      ADD_FAILURE() << "accepted";
    } catch (const amc::error& problem) {
      EXPECT_FALSE(first_invalid_utf8(problem.message())) << problem.message();
      EXPECT_LT(problem.message().size(), 200u) << problem.message();
    }
    try {
      parse_proxy(url);
      ADD_FAILURE() << "accepted";
    } catch (const amc::error& problem) {
      EXPECT_FALSE(first_invalid_utf8(problem.message())) << problem.message();
      EXPECT_LT(problem.message().size(), 250u) << problem.message();
    }
  }
}

TEST(Url, ParsesSchemeHostPortAndTarget) {
  auto u = parse_url("https://advertising-api.amazon.com/amc/reporting/x?nextToken=abc");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "advertising-api.amazon.com");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.target, "/amc/reporting/x?nextToken=abc");
  EXPECT_EQ(u.describe(), "https://advertising-api.amazon.com:443/amc/reporting/x");

  auto plain = parse_url("HTTP://LocalHost:8080");
  EXPECT_EQ(plain.scheme, "http");
  EXPECT_EQ(plain.host, "localhost");
  EXPECT_EQ(plain.port, 8080);
  EXPECT_EQ(plain.target, "/");

  auto v6 = parse_url("http://[::1]:9000/a#frag");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.authority(), "[::1]:9000");
  EXPECT_EQ(v6.target, "/a");

  EXPECT_EQ(parse_url("https://h?x=1").target, "/?x=1");
}

TEST(Url, RejectsWhatItCannotSend) {
  for (const char* bad : {"ftp://h/", "h/path", "https://", "https://h:0/", "https://h:99999/", "https://h:/",
                          "https://user:secret@h/", "https://h/a b", "http://[::1/"}) {
    try {
      parse_url(bad);
      ADD_FAILURE() << bad;
    } catch (const amc::error& e) {
      EXPECT_EQ(e.code_value(), errc::invalid_argument) << bad;
      EXPECT_EQ(e.message().find("secret"), std::string::npos);
    }
  }
}

TEST(Url, ProxySettings) {
  EXPECT_FALSE(parse_proxy(""));
  EXPECT_FALSE(parse_proxy("  "));
  auto p = parse_proxy("http://proxy.corp:3128/");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->host, "proxy.corp");
  EXPECT_EQ(p->port, 3128);
  EXPECT_EQ(parse_proxy("proxy.corp:8080")->port, 8080);
  EXPECT_EQ(parse_proxy("http://proxy.corp")->port, 80);
  EXPECT_EQ(parse_proxy("http://proxy.corp:3128")->describe(), "http://proxy.corp:3128");
  for (const char* bad : {"https://proxy:443", "socks5://proxy:1080", "http://user:pw@proxy:3128", "http://:3128"}) {
    try {
      parse_proxy(bad);
      ADD_FAILURE() << bad;
    } catch (const amc::error& e) {
      EXPECT_EQ(e.code_value(), errc::config) << bad;
      EXPECT_EQ(e.message().find("pw"), std::string::npos);
    }
  }
}

TEST(Url, NoProxyMatching) {
  EXPECT_FALSE(proxy_bypassed("", "api.amazon.com", 443));
  EXPECT_TRUE(proxy_bypassed("*", "api.amazon.com", 443));
  EXPECT_TRUE(proxy_bypassed("amazon.com", "amazon.com", 443));
  EXPECT_TRUE(proxy_bypassed("amazon.com", "api.AMAZON.com", 443));
  EXPECT_TRUE(proxy_bypassed(".amazon.com", "api.amazon.com", 443));
  EXPECT_TRUE(proxy_bypassed("*.amazon.com", "api.amazon.com", 443));
  EXPECT_FALSE(proxy_bypassed("amazon.com", "notamazon.com", 443));
  EXPECT_FALSE(proxy_bypassed("api.amazon.com", "amazon.com", 443));
  EXPECT_TRUE(proxy_bypassed("localhost, 127.0.0.1", "127.0.0.1", 443));
  EXPECT_FALSE(proxy_bypassed("127.0.0.1", "127.0.0.10", 443));
  EXPECT_TRUE(proxy_bypassed("internal:8443", "internal", 8443));
  EXPECT_FALSE(proxy_bypassed("internal:8443", "internal", 443));
  EXPECT_TRUE(proxy_bypassed("foo,,bar.example  baz", "x.bar.example", 443));
  EXPECT_TRUE(proxy_bypassed("::1", "::1", 443));
  EXPECT_TRUE(proxy_bypassed("[::1]", "::1", 443));
}

TEST(Url, ProxyFromEnvironmentFillsOnlyEmptyFields) {
  std::map<std::string, std::string> environment{{"HTTPS_PROXY", "http://env-proxy:1"}, {"no_proxy", "corp"}};
  auto getenv = [&](const char* name) -> const char* {
    auto it = environment.find(name);
    return it == environment.end() ? nullptr : it->second.c_str();
  };
  proxy_options configured;
  auto filled = proxy_from_environment(configured, getenv);
  EXPECT_EQ(filled.https_proxy, "http://env-proxy:1");
  EXPECT_EQ(filled.no_proxy, "corp");

  configured.https_proxy = "http://configured:2";
  EXPECT_EQ(proxy_from_environment(configured, getenv).https_proxy, "http://configured:2");

  proxy_options off;
  off.from_environment = false;
  EXPECT_TRUE(proxy_from_environment(off, getenv).https_proxy.empty());
}

}  // namespace
}  // namespace amc::net
