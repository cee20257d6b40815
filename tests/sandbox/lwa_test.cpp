// Login with Amazon over real sockets: token grants, errors, consent codes,
// revocation and expiry.
#include "sandbox_fixture.hpp"

#include <boost/beast/core/detail/base64.hpp>

namespace amc::sandbox::testing {
namespace {

TEST(SandboxLwa, RefreshGrantReturnsBearerTokenAndSameRefreshToken) {
  running_sandbox sandbox;
  auto result = sandbox.token_request({{"grant_type", "refresh_token"},
                                       {"refresh_token", sandbox.refresh_token()},
                                       {"client_id", sandbox.client_id()},
                                       {"client_secret", sandbox.client_secret()}});
  ASSERT_EQ(result.status, 200) << result.body;
  json body = result.json();
  EXPECT_EQ(body["token_type"], "bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  EXPECT_EQ(body["refresh_token"], sandbox.refresh_token());  // no rotation
  EXPECT_TRUE(body["access_token"].get<std::string>().starts_with("Atza|"));
  EXPECT_EQ(result.header("Cache-Control"), "no-store");
}

TEST(SandboxLwa, ExpiresInIsConfigurable) {
  auto options = test_options();
  options.access_token_ttl_seconds = 120;
  running_sandbox sandbox(options);
  auto result = sandbox.token_request({{"grant_type", "refresh_token"},
                                       {"refresh_token", sandbox.refresh_token()},
                                       {"client_id", sandbox.client_id()},
                                       {"client_secret", sandbox.client_secret()}});
  EXPECT_EQ(result.json()["expires_in"], 120);
}

TEST(SandboxLwa, ErrorsUseTheDocumentedBody) {
  running_sandbox sandbox;
  auto expect_error = [](const http_result& result, int status, const std::string& error) {
    EXPECT_EQ(result.status, status) << result.body;
    json body = result.json();
    EXPECT_EQ(body.value("error", ""), error) << result.body;
    EXPECT_TRUE(body.contains("error_description")) << result.body;
  };
  expect_error(sandbox.token_request({{"refresh_token", sandbox.refresh_token()},
                                      {"client_id", sandbox.client_id()},
                                      {"client_secret", sandbox.client_secret()}}),
               400, "invalid_request");
  expect_error(sandbox.token_request({{"grant_type", "password"},
                                      {"client_id", sandbox.client_id()},
                                      {"client_secret", sandbox.client_secret()}}),
               400, "unsupported_grant_type");
  expect_error(sandbox.token_request({{"grant_type", "refresh_token"},
                                      {"refresh_token", sandbox.refresh_token()},
                                      {"client_id", sandbox.client_id()},
                                      {"client_secret", "wrong"}}),
               401, "invalid_client");
  expect_error(sandbox.token_request({{"grant_type", "refresh_token"},
                                      {"refresh_token", sandbox.refresh_token()},
                                      {"client_id", "amzn1.application-oa2-client.other"},
                                      {"client_secret", sandbox.client_secret()}}),
               401, "invalid_client");
  expect_error(sandbox.token_request({{"grant_type", "refresh_token"},
                                      {"refresh_token", "Atzr|not-a-grant"},
                                      {"client_id", sandbox.client_id()},
                                      {"client_secret", sandbox.client_secret()}}),
               400, "invalid_grant");
  expect_error(sandbox.token_request({{"grant_type", "refresh_token"},
                                      {"client_id", sandbox.client_id()},
                                      {"client_secret", sandbox.client_secret()}}),
               400, "invalid_request");
}

TEST(SandboxLwa, AcceptsJsonBodyAndBasicClientAuthentication) {
  running_sandbox sandbox;
  json body = {{"grant_type", "refresh_token"},
               {"refresh_token", sandbox.refresh_token()},
               {"client_id", sandbox.client_id()},
               {"client_secret", sandbox.client_secret()}};
  auto json_result = sandbox.client().request(verb::post, "/auth/o2/token", body.dump());
  EXPECT_EQ(json_result.status, 200) << json_result.body;

  std::string credentials = sandbox.client_id() + ":" + sandbox.client_secret();
  std::string encoded(beast::detail::base64::encoded_size(credentials.size()), '\0');
  encoded.resize(beast::detail::base64::encode(encoded.data(), credentials.data(), credentials.size()));
  auto basic = sandbox.client().request(
      verb::post, "/auth/o2/token",
      form_encode({{"grant_type", "refresh_token"}, {"refresh_token", sandbox.refresh_token()}}),
      {{"Authorization", "Basic " + encoded}}, "application/x-www-form-urlencoded");
  EXPECT_EQ(basic.status, 200) << basic.body;
}

TEST(SandboxLwa, ConsentRedirectsWithSingleUseCode) {
  running_sandbox sandbox;
  const std::string redirect = "https://example.com/callback";
  auto consent = sandbox.client().request(
      verb::get, "/ap/oa?client_id=" + sandbox.client_id() +
                     "&scope=advertising%3A%3Acampaign_management&response_type=code&redirect_uri=" +
                     "https%3A%2F%2Fexample.com%2Fcallback&state=xyz%20123");
  ASSERT_EQ(consent.status, 302) << consent.body;
  const std::string location = consent.header("Location");
  ASSERT_TRUE(location.starts_with(redirect + "?code=")) << location;
  EXPECT_NE(location.find("&state=xyz%20123"), std::string::npos) << location;
  std::string code = location.substr(redirect.size() + 6);
  code = code.substr(0, code.find('&'));

  auto exchange = [&](const std::string& uri) {
    return sandbox.token_request({{"grant_type", "authorization_code"},
                                  {"code", code},
                                  {"redirect_uri", uri},
                                  {"client_id", sandbox.client_id()},
                                  {"client_secret", sandbox.client_secret()}});
  };
  auto first = exchange(redirect);
  ASSERT_EQ(first.status, 200) << first.body;
  json tokens = first.json();
  EXPECT_TRUE(tokens["refresh_token"].get<std::string>().starts_with("Atzr|"));
  EXPECT_NE(tokens["refresh_token"], sandbox.refresh_token());
  // The new grant works for refreshes and AMC calls.
  std::string access = sandbox.fresh_access_token(tokens["refresh_token"]);
  auto accounts = sandbox.client().request(verb::get, "/amc/accounts", {}, sandbox.amc_headers(access));
  EXPECT_EQ(accounts.status, 200) << accounts.body;

  auto second = exchange(redirect);
  EXPECT_EQ(second.status, 400);
  EXPECT_EQ(second.json()["error"], "invalid_grant");
  EXPECT_EQ(second.json()["error_description"], "The request has an invalid parameter : code");
}

TEST(SandboxLwa, ConsentRejectsUnknownClientAndBadRedirect) {
  running_sandbox sandbox;
  auto unknown = sandbox.client().request(
      verb::get, "/ap/oa?client_id=someone&response_type=code&redirect_uri=https%3A%2F%2Fexample.com%2F");
  EXPECT_EQ(unknown.status, 400);
  auto bad_redirect = sandbox.client().request(
      verb::get, "/ap/oa?client_id=" + sandbox.client_id() + "&response_type=code&redirect_uri=ftp%3A%2F%2Fx");
  EXPECT_EQ(bad_redirect.status, 400);
  auto wrong_type = sandbox.client().request(
      verb::get, "/ap/oa?client_id=" + sandbox.client_id() + "&response_type=token&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&state=s");
  ASSERT_EQ(wrong_type.status, 302);
  EXPECT_EQ(wrong_type.header("Location"), "http://localhost/cb?error=unsupported_response_type&state=s");
}

TEST(SandboxLwa, AdminMintedCodeExpiresAfterFiveMinutes) {
  running_sandbox sandbox;
  auto mint = [&] {
    auto result = sandbox.admin(verb::post, "consent-codes", json{{"redirect_uri", "http://localhost/cb"}});
    EXPECT_EQ(result.status, 200) << result.body;
    EXPECT_EQ(result.json()["expires_in"], 300);
    return result.json().value("code", "");
  };
  auto exchange = [&](const std::string& code, const std::string& uri) {
    return sandbox.token_request({{"grant_type", "authorization_code"},
                                  {"code", code},
                                  {"redirect_uri", uri},
                                  {"client_id", sandbox.client_id()},
                                  {"client_secret", sandbox.client_secret()}});
  };
  EXPECT_EQ(exchange(mint(), "http://localhost/cb").status, 200);
  EXPECT_EQ(exchange(mint(), "http://localhost/other").json()["error"], "invalid_grant");
  std::string late = mint();
  sandbox.advance_clock(301);
  EXPECT_EQ(exchange(late, "http://localhost/cb").json()["error"], "invalid_grant");
}

TEST(SandboxLwa, RevokedGrantFailsRefreshAndItsAccessTokens) {
  running_sandbox sandbox;
  auto before = sandbox.amc(verb::get, "/amc/accounts");
  ASSERT_EQ(before.status, 200) << before.body;
  auto revoke = sandbox.admin(verb::post, "grants/revoke", json{{"refresh_token", sandbox.refresh_token()}});
  ASSERT_EQ(revoke.status, 200) << revoke.body;
  EXPECT_EQ(revoke.json()["revoked"], 1);

  auto refresh = sandbox.token_request({{"grant_type", "refresh_token"},
                                        {"refresh_token", sandbox.refresh_token()},
                                        {"client_id", sandbox.client_id()},
                                        {"client_secret", sandbox.client_secret()}});
  EXPECT_EQ(refresh.status, 400);
  EXPECT_EQ(refresh.json()["error"], "invalid_grant");
  auto after = sandbox.amc(verb::get, sandbox.reporting("workflows"));
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.json()["code"], "401");
  auto accounts = sandbox.amc(verb::get, "/amc/accounts");
  EXPECT_EQ(accounts.status, 401);
  EXPECT_TRUE(accounts.json().contains("message"));

  auto grants = sandbox.admin(verb::get, "grants");
  ASSERT_EQ(grants.status, 200);
  EXPECT_TRUE(grants.json()["grants"][0]["revoked"].get<bool>());
  EXPECT_EQ(grants.body.find("Atzr|"), std::string::npos) << "grant listings never show tokens";
}

TEST(SandboxLwa, AdminGrantsCanBeMintedAndRevokedById) {
  running_sandbox sandbox;
  auto grant = sandbox.admin(verb::post, "grants", json::object());
  ASSERT_EQ(grant.status, 200) << grant.body;
  std::string access = sandbox.fresh_access_token(grant.json()["refresh_token"]);
  EXPECT_EQ(sandbox.client().request(verb::get, "/amc/accounts", {}, sandbox.amc_headers(access)).status, 200);
  auto revoke = sandbox.admin(verb::delete_, "grants/" + grant.json()["grant_id"].get<std::string>());
  EXPECT_EQ(revoke.status, 200);
  EXPECT_EQ(sandbox.client().request(verb::get, "/amc/accounts", {}, sandbox.amc_headers(access)).status, 401);
  // The seeded grant is untouched.
  EXPECT_EQ(sandbox.amc(verb::get, "/amc/accounts").status, 200);
}

TEST(SandboxLwa, ExpiredAccessTokenGives401) {
  running_sandbox sandbox;
  sandbox.advance_clock(3601);
  auto result = sandbox.amc(verb::get, sandbox.reporting("workflows"));
  EXPECT_EQ(result.status, 401);
  EXPECT_NE(result.json()["details"].get<std::string>().find("expired"), std::string::npos);
}


// refresh_token_reply: rotate hands out a new refresh token and retires the
// old one; omit leaves the field out and the old token working.
TEST(SandboxLwa, RefreshTokenReplyCanRotateOrOmit) {
  running_sandbox sandbox;
  auto refresh = [&](const std::string& token) {
    return sandbox.token_request({{"grant_type", "refresh_token"},
                                  {"refresh_token", token},
                                  {"client_id", sandbox.client_id()},
                                  {"client_secret", sandbox.client_secret()}});
  };
  EXPECT_EQ(sandbox.admin(verb::get, "settings").json()["refresh_token_reply"], "same");
  ASSERT_EQ(sandbox.admin(verb::put, "settings", json{{"refresh_token_reply", "rotate"}}).status, 200);
  auto rotated = refresh(sandbox.refresh_token());
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string second = rotated.json()["refresh_token"];
  EXPECT_TRUE(second.starts_with("Atzr|"));
  EXPECT_NE(second, sandbox.refresh_token());
  auto old = refresh(sandbox.refresh_token());
  EXPECT_EQ(old.status, 400);
  EXPECT_EQ(old.json()["error"], "invalid_grant");
  // An access token from before the rotation still works.
  EXPECT_EQ(sandbox.amc(verb::get, sandbox.reporting("workflows")).status, 200);

  ASSERT_EQ(sandbox.admin(verb::put, "settings", json{{"refresh_token_reply", "omit"}}).status, 200);
  for (int i = 0; i < 2; ++i) {
    auto omitted = refresh(second);
    ASSERT_EQ(omitted.status, 200) << omitted.body;
    EXPECT_FALSE(omitted.json().contains("refresh_token")) << omitted.body;
    EXPECT_TRUE(omitted.json().contains("access_token"));
  }
  EXPECT_EQ(sandbox.admin(verb::put, "settings", json{{"refresh_token_reply", "sometimes"}}).status, 400);
  // A code exchange always answers a refresh token: it creates the grant.
  auto code = sandbox.admin(verb::post, "consent-codes", json{{"redirect_uri", "https://example.com/cb"}});
  auto exchanged = sandbox.token_request({{"grant_type", "authorization_code"},
                                          {"code", code.json()["code"].get<std::string>()},
                                          {"redirect_uri", "https://example.com/cb"},
                                          {"client_id", sandbox.client_id()},
                                          {"client_secret", sandbox.client_secret()}});
  ASSERT_EQ(exchanged.status, 200) << exchanged.body;
  EXPECT_TRUE(exchanged.json().contains("refresh_token"));
}

TEST(SandboxLwa, RefreshTokenReplyFromTheCommandLineAndConfig) {
  sandbox_options options;
  std::string help;
  const char* argv[] = {"amc-sandbox", "--refresh-token-reply", "rotate"};
  ASSERT_TRUE(parse_command_line(3, argv, options, help));
  EXPECT_EQ(options.refresh_reply, refresh_token_reply::rotate);
  apply_config_json(options, json{{"refresh_token_reply", "omit"}});
  EXPECT_EQ(options.refresh_reply, refresh_token_reply::omit);
  EXPECT_THROW(apply_config_json(options, json{{"refresh_token_reply", "never"}}), std::invalid_argument);
}

}  // namespace
}  // namespace amc::sandbox::testing
