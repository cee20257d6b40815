// HTTPS: peer verification against a CA made at test time (valid, unknown
// CA, expired leaf, wrong host each give errc::tls saying which), and the
// CONNECT proxy with NO_PROXY.
#include "net/http_client.hpp"

#include "net_test_fixture.hpp"
#include "scripted_server.hpp"
#include "support/test_support.hpp"
#include "test_certificates.hpp"

#include <fstream>

namespace amc::net::testing {
namespace {

class TlsTest : public NetTest {
 protected:
  TlsTest() : trusted_ca_("libamc trusted test CA"), ca_file_(directory_.path() / "ca.pem") {
    std::ofstream(ca_file_) << trusted_ca_.certificate_pem();
  }

  static server_options serving(const leaf_certificate& leaf) {
    server_options options;
    options.tls_certificate_and_key = std::pair{leaf.certificate_pem, leaf.private_key_pem};
    return options;
  }

  client_options trusting_test_ca() const {
    auto options = quick_options();
    options.tls.ca_file = ca_file_.string();
    return options;
  }

  amc::error tls_failure(const leaf_certificate& leaf, const client_options& options,
                         const char* host = "localhost") {
    scripted_server server({}, serving(leaf));
    http_client client(executor(), options);
    auto error = send_expecting_error(client, get(url_of(server.port(), "/", "https", host)));
    EXPECT_EQ(server.requests().size(), 0u);  // nothing was sent over a connection we do not trust
    return error;
  }

  amc::testing::temporary_directory directory_;
  test_certificate_authority trusted_ca_;
  std::filesystem::path ca_file_;
};

TEST_F(TlsTest, TrustedCertificateByNameAndByAddress) {
  scripted_server server({}, serving(trusted_ca_.issue({})));
  http_client client(executor(), trusting_test_ca());
  for (const char* host : {"localhost", "127.0.0.1"}) {
    auto reply = send(client, get(url_of(server.port(), "/secure", "https", host)));
    EXPECT_EQ(reply.status, 200u) << host;
  }
  auto received = server.requests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].target, "/secure");
  // Two hosts, two pools; each kept its connection alive.
  EXPECT_EQ(send(client, get(url_of(server.port(), "/", "https", "localhost"))).status, 200u);
  EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST_F(TlsTest, UnknownCaIsATlsErrorThatSaysSo) {
  test_certificate_authority other_ca("some other CA");
  auto error = tls_failure(other_ca.issue({}), trusting_test_ca());
  EXPECT_EQ(error.code_value(), errc::tls);
  EXPECT_NE(error.message().find("unknown CA"), std::string::npos) << error.message();
}

TEST_F(TlsTest, SystemTrustStoreDoesNotTrustTheTestCa) {
  auto error = tls_failure(trusted_ca_.issue({}), quick_options());
  EXPECT_EQ(error.code_value(), errc::tls);
  EXPECT_NE(error.message().find("unknown CA"), std::string::npos) << error.message();
}

TEST_F(TlsTest, ExpiredCertificateIsATlsErrorThatSaysSo) {
  leaf_options expired;
  expired.expired = true;
  auto error = tls_failure(trusted_ca_.issue(expired), trusting_test_ca());
  EXPECT_EQ(error.code_value(), errc::tls);
  EXPECT_NE(error.message().find("expired"), std::string::npos) << error.message();
}

TEST_F(TlsTest, WrongHostIsATlsErrorThatSaysSo) {
  leaf_options elsewhere;
  elsewhere.dns_names = {"api.example.org"};
  elsewhere.ip_addresses = {"10.1.2.3"};
  for (const char* host : {"localhost", "127.0.0.1"}) {
    auto error = tls_failure(trusted_ca_.issue(elsewhere), trusting_test_ca(), host);
    EXPECT_EQ(error.code_value(), errc::tls) << host;
    EXPECT_NE(error.message().find("host name mismatch"), std::string::npos) << error.message();
  }
}

TEST_F(TlsTest, TlsErrorsAreNotRetried) {
  test_certificate_authority other_ca("some other CA");
  scripted_server server({}, serving(other_ca.issue({})));
  http_client client(executor(), trusting_test_ca());
  EXPECT_EQ(send_expecting_error(client, get(url_of(server.port(), "/", "https", "localhost"))).code_value(),
            errc::tls);
  EXPECT_EQ(server.connections_accepted(), 1u);
  EXPECT_EQ(client.metrics()["failures"]["tls"], 1);
}

TEST_F(TlsTest, HandshakeDeadline) {
  server_options silent;
  silent.silent = true;
  scripted_server server({}, silent);
  auto options = trusting_test_ca();
  options.retry.max_attempts = 1;
  options.timeouts.handshake = 150ms;
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get(url_of(server.port(), "/", "https", "localhost")));
  EXPECT_EQ(error.code_value(), errc::timeout);
  EXPECT_NE(error.message().find("handshake"), std::string::npos) << error.message();
}

TEST_F(TlsTest, MissingCaFileIsAConfigError) {
  auto options = quick_options();
  options.tls.ca_file = (directory_.path() / "missing.pem").string();
  try {
    http_client client(executor(), options);
    ADD_FAILURE() << "expected a config error";
  } catch (const amc::error& e) {
    EXPECT_EQ(e.code_value(), errc::config);
    EXPECT_NE(e.message().find("missing.pem"), std::string::npos);
  }
}

TEST_F(TlsTest, HttpsGoesThroughTheProxyWithConnect) {
  scripted_server server({}, serving(trusted_ca_.issue({})));
  connect_proxy proxy;
  auto options = trusting_test_ca();
  options.proxy.https_proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  http_client client(executor(), options);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(send(client, get(url_of(server.port(), "/via-proxy", "https", "localhost"))).status, 200u);
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].target, "/via-proxy");
  // One tunnel, kept alive for the second request.
  EXPECT_EQ(proxy.connect_targets(), std::vector<std::string>{"localhost:" + std::to_string(server.port())});
}

TEST_F(TlsTest, NoProxyBypassesTheProxy) {
  scripted_server server({}, serving(trusted_ca_.issue({})));
  connect_proxy proxy;
  auto options = trusting_test_ca();
  options.proxy.https_proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  options.proxy.no_proxy = "example.org,localhost";
  http_client client(executor(), options);
  EXPECT_EQ(send(client, get(url_of(server.port(), "/", "https", "localhost"))).status, 200u);
  EXPECT_TRUE(proxy.connect_targets().empty());
}

TEST_F(TlsTest, ProxyRefusalIsANetworkErrorWithItsStatus) {
  connect_proxy proxy(407);
  auto options = trusting_test_ca();
  options.proxy.https_proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  http_client client(executor(), options);
  auto error = send_expecting_error(client, get("https://localhost:9/"));
  EXPECT_EQ(error.code_value(), errc::network);
  EXPECT_NE(error.message().find("407"), std::string::npos) << error.message();
  EXPECT_EQ(proxy.connect_targets().size(), 1u);  // a refusal is not retried
}

}  // namespace
}  // namespace amc::net::testing
