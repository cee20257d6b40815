#include "support/sandbox_fixture.hpp"

#include "client/client_config.hpp"
#include "sandbox/service.hpp"

#include <cstdlib>

namespace amc::testing {

void sandbox_fixture::SetUp() {
  sandbox::sandbox_options options;
  options.tls = true;
  options.state_dir = directory_.path() / "sandbox";
  options.io_threads = 2;
  // Under tests/tools/spec_proxy.py the sandbox answers in the shape the
  // proxy checks (a test's configure() may still choose its own).
  if (const char* shape = std::getenv("AMC_TEST_RESPONSE_SHAPE"); shape != nullptr && *shape != '\0')
    options.shape = sandbox::parse_response_shape(shape);
  configure(options);
  server_ = std::make_unique<sandbox::sandbox_server>(options);
  server_->start();
}

void sandbox_fixture::TearDown() {
  // Every test's captured log lines and error messages, whatever the test:
  // none may hold a token the sandbox issued (they all start with these
  // prefixes; the redacting logger writes "Atz*|[redacted]"), an
  // authorization code, the client secret or the store's Fernet key.
  if (server_)
    expect_no_secret_in_captured_text({"Atza|", "Atzr|", "ANsandbox", server_->service().client_secret(), fernet_key_});
  if (server_) server_->stop();
}

std::string sandbox_fixture::amc_endpoint() const {
  const std::string base = server_->base_url();
  // tests/tools/spec_proxy.py: AMC's operations go through the proxy, which
  // checks every answer against the spec ($AMC_SPEC_PROXY/upstream/<scheme>/<host:port>).
  const char* proxy = std::getenv("AMC_SPEC_PROXY");
  if (proxy == nullptr || *proxy == '\0') return base;
  const auto scheme_end = base.find("://");
  return std::string(proxy) + "/upstream/" + base.substr(0, scheme_end) + "/" + base.substr(scheme_end + 3);
}

nlohmann::json sandbox_fixture::client_config(const nlohmann::json& changes) const {
  const std::string base = server_->base_url();
  nlohmann::json config = {
      {"endpoints",
       {{"amc", amc_endpoint()}, {"lwa_token", base + "/auth/o2/token"}, {"lwa_consent", base + "/ap/oa"}}},
      {"lwa",
       {{"client_id", server_->service().client_id()},
        {"client_secret", server_->service().client_secret()}}},
      {"tls", {{"ca_file", server_->ca_file().string()}}},
      {"proxy", {{"from_environment", false}}},
      {"retry", {{"base_delay_ms", 20}, {"max_delay_ms", 200}}},
      {"rate_limit", {{"requests_per_second", 1000}, {"burst", 1000}}},
      {"store", {{"path", (directory_.path() / "creds.json").string()}, {"fernet_keys", fernet_key_}}},
  };
  config.merge_patch(changes);
  return config;
}

std::unique_ptr<client::client> sandbox_fixture::make_client(const nlohmann::json& changes) {
  auto made = std::make_unique<client::client>(client::parse_client_config(client_config(changes)));
  made->log().set_sink(
      [this](log_level level, std::string_view message) {
        const std::lock_guard lock{captured_mutex_};
        captured_.emplace_back(message);
        captured_log_.push_back({level, std::string(message)});
      },
      log_level::debug);
  return made;
}

nlohmann::json sandbox_fixture::admin(boost::beast::http::verb method, const std::string& path,
                                      const nlohmann::json& body) {
  sandbox::http_request request{method, path, 11};
  request.set(boost::beast::http::field::host, "127.0.0.1");
  if (method != boost::beast::http::verb::get && method != boost::beast::http::verb::delete_) {
    request.set(boost::beast::http::field::content_type, "application/json");
    request.body() = body.dump();
  }
  request.prepare_payload();
  const auto reply = server_->service().handle(request);
  EXPECT_EQ(reply.message.result_int(), 200u) << path << ": " << reply.message.body();
  return nlohmann::json::parse(reply.message.body(), nullptr, false);
}

long long sandbox_fixture::requests_of(const std::string& operation) {
  const auto stats = admin(boost::beast::http::verb::get, "/_sandbox/stats");
  return stats["by_operation"].value(operation, 0LL);
}

std::string sandbox_fixture::new_grant() {
  return admin(boost::beast::http::verb::post, "/_sandbox/grants")["refresh_token"].get<std::string>();
}

void sandbox_fixture::add_credential(client::client& client, const std::string& credential_id) {
  store::credential_update update;
  update.credential_id = credential_id;
  update.client_id = server_->service().client_id();
  update.refresh_token = new_grant();
  amc::client::internals(client).store().put(update);
}

std::vector<sandbox_fixture::log_line> sandbox_fixture::captured_log() const {
  const std::lock_guard lock{captured_mutex_};
  return captured_log_;
}

std::vector<std::string> sandbox_fixture::captured_text() const {
  const std::lock_guard lock{captured_mutex_};
  return captured_;
}

void sandbox_fixture::note_error(const std::string& message) {
  const std::lock_guard lock{captured_mutex_};
  captured_.push_back(message);
}

void sandbox_fixture::expect_no_secret_in_captured_text(const std::vector<std::string>& secrets) const {
  const auto lines = captured_text();
  for (const auto& line : lines)
    for (const auto& secret : secrets)
      if (!secret.empty() && line.find(secret) != std::string::npos)
        ADD_FAILURE() << "secret #" << (&secret - secrets.data()) + 1
                      << " of the list appeared in a log line or error message (line not shown)";
}

}  // namespace amc::testing
