// Tokens against the sandbox's Login-with-Amazon over real HTTPS: caching,
// single flight across threads and processes, the LwA error rules, the
// AMC 401/403 rules, the refresh service, and no secret in any log line or
// error message.
#include "api/session.hpp"
#include "auth/refresh_service.hpp"
#include "client/client.hpp"
#include "common/error.hpp"
#include "common/time.hpp"
#include "support/sandbox_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace amc::auth {
namespace {

using boost::beast::http::verb;
namespace asio = boost::asio;

class Tokens : public testing::sandbox_fixture {
 protected:
  void SetUp() override {
    sandbox_fixture::SetUp();
    client_ = make_client();
    refresh_token_ = new_grant();
    import("conn", refresh_token_);
  }
  void TearDown() override {
    // Whatever a test did, no secret may show up in what it logged or in
    // the errors it saw.
    expect_no_secret_in_captured_text({refresh_token_, server_->service().client_secret(),
                                       fernet_key_});
    client_.reset();
    sandbox_fixture::TearDown();
  }

  void import(const std::string& id, const std::string& refresh_token) {
    store::credential_update update;
    update.credential_id = id;
    update.client_id = server_->service().client_id();
    update.refresh_token = refresh_token;
    amc::client::internals(*client_).store().put(update);
  }

  std::string token(const std::string& id) {
    return client_->run_blocking(amc::client::internals(*client_).tokens().access_token(id), std::chrono::seconds(30));
  }

  // Also records the message for the secret scan.
  errc code_of(const std::function<void()>& action, std::string* message = nullptr) {
    std::string seen;
    const auto code = testing::error_code_of(action, &seen);
    if (code != errc::ok) note_error(seen);
    if (message != nullptr) *message = seen;
    return code;
  }

  void slow_token_endpoint(int milliseconds) {
    admin(verb::post, "/_sandbox/faults",
          {{"kind", "latency"}, {"operation", "lwaToken"}, {"latency_ms", milliseconds}});
  }

  std::unique_ptr<client::client> client_;
  std::string refresh_token_;
};

TEST_F(Tokens, RefreshesOnceThenServesFromTheStore) {
  const auto first = token("conn");
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(requests_of("lwaToken"), 1);
  EXPECT_TRUE(token("conn") == first);
  EXPECT_EQ(requests_of("lwaToken"), 1);
  const auto record = amc::client::internals(*client_).store().get("conn", false);
  ASSERT_TRUE(record.access_token_expires_at.has_value());
  EXPECT_GT(*record.access_token_expires_at, now_unix_seconds() + 3000);
  // A new client (a restart) finds the cached token in the store.
  auto restarted = make_client();
  EXPECT_TRUE(restarted->run_blocking(amc::client::internals(*restarted).tokens().access_token("conn"), std::chrono::seconds(30)) == first);
  EXPECT_EQ(requests_of("lwaToken"), 1);
}

// The memory cache (token_manager.hpp): a token read from the store is
// handed out from memory; writes through the same store are seen at once,
// another writer's within tokens.store_recheck_ms.
TEST_F(Tokens, CachedTokensSeeTheirOwnStoreAtOnceAndAnotherWriterAfterTheRecheckTime) {
  const auto first = token("conn");
  auto other_writer = make_client();  // the same file: another process, in effect
  auto read_with = [&](client::client& reader) {
    return reader.run_blocking(amc::client::internals(reader).tokens().access_token("conn"), std::chrono::seconds(30));
  };

  // A long recheck time: another writer's removal is not seen yet, the
  // token in memory still serves (it is still valid at LwA).
  auto long_cache = make_client({{"tokens", {{"store_recheck_ms", 60'000}}}});
  EXPECT_TRUE(read_with(*long_cache) == first);
  // A write through the reader's own store is seen at once.
  store::credential_update update;
  update.credential_id = "conn";
  update.access_token = "host-supplied-token-for-the-cache-test";
  update.access_token_expires_at = now_unix_seconds() + 3600;
  update.access_token_issued_at = now_unix_seconds();
  amc::client::internals(*long_cache).store().put(update);
  EXPECT_TRUE(read_with(*long_cache) == *update.access_token);
  amc::client::internals(*other_writer).store().remove("conn");
  EXPECT_TRUE(read_with(*long_cache) == *update.access_token) << "served from memory";

  // store_recheck_ms 0: every request reads the store.
  import("conn", refresh_token_);
  amc::client::internals(*long_cache).store().put(update);
  auto no_cache = make_client({{"tokens", {{"store_recheck_ms", 0}}}});
  EXPECT_TRUE(read_with(*no_cache) == *update.access_token);
  amc::client::internals(*other_writer).store().remove("conn");
  EXPECT_EQ(code_of([&] { read_with(*no_cache); }), errc::not_found);

  // A short recheck time: the removal is seen once it has passed.
  import("conn", refresh_token_);
  amc::client::internals(*long_cache).store().put(update);
  auto short_cache = make_client({{"tokens", {{"store_recheck_ms", 50}}}});
  EXPECT_TRUE(read_with(*short_cache) == *update.access_token);
  amc::client::internals(*other_writer).store().remove("conn");
  errc seen = errc::ok;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       seen == errc::ok && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(10)))
    seen = code_of([&] { read_with(*short_cache); });
  EXPECT_EQ(seen, errc::not_found);
  EXPECT_EQ(requests_of("lwaToken"), 1) << "no refresh for any of this";
}

TEST_F(Tokens, FiftyThreadsCauseExactlyOneRefresh) {
  slow_token_endpoint(300);  // so that every thread arrives while it is in flight
  std::vector<std::thread> threads;
  std::vector<std::string> tokens(50);
  for (int i = 0; i < 50; ++i) threads.emplace_back([this, i, &tokens] { tokens[i] = token("conn"); });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(requests_of("lwaToken"), 1);
  for (const auto& each : tokens) EXPECT_TRUE(each == tokens.front() && !each.empty());
}

TEST_F(Tokens, TwoProcessesSharingAStoreCauseOneRefresh) {
  // Long enough that the second process asks while the first one's refresh
  // is still in flight.
  slow_token_endpoint(1000);
  const auto config_path = directory_.path() / "client.json";
  { std::ofstream(config_path) << client_config().dump(); }
  // A barrier: both children start their client (the slow part), say so,
  // and wait for "go", so that their token requests overlap.
  const auto barrier = directory_.path() / "barrier";
  std::filesystem::create_directories(barrier);
  const std::vector<std::string> names{"first", "second"};
  std::vector<int> children;
  for (const auto& name : names)
    children.push_back(testing::spawn_process(
        {AMC_TEST_TOOL_PATH, "access-token", config_path.string(), "conn", barrier.string(), name}));
  auto all_ready = [&] {
    for (const auto& name : names)
      if (!std::filesystem::exists(barrier / (name + ".ready"))) return false;
    return true;
  };
  for (int i = 0; i < 6000 && !all_ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const bool ready = all_ready();
  std::ofstream(barrier / "go").close();  // also when not ready: the children must not wait forever
  for (const int child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  ASSERT_TRUE(ready) << "the children never reached the barrier";
  EXPECT_EQ(requests_of("lwaToken"), 1);
  EXPECT_TRUE(amc::client::internals(*client_).store().get("conn", true).access_token.has_value());
  // Both found no token and went for a refresh: one sent it, the other
  // waited on the store lock and then took the token the first had stored
  // (refreshes_skipped_fresh). A child that came after the first had
  // finished would have found the token at once and counted neither, so
  // this also shows that the two really overlapped.
  long long refreshes = 0, took_the_others = 0;
  for (const auto& name : names) {
    const auto metrics = nlohmann::json::parse(testing::read_file(barrier / (name + ".metrics")));
    refreshes += metrics["refreshes"].get<long long>();
    took_the_others += metrics["refreshes_skipped_fresh"].get<long long>();
  }
  EXPECT_EQ(refreshes, 1);
  EXPECT_EQ(took_the_others, 1);
}

TEST_F(Tokens, AdvisoryWindowServesTheCurrentTokenAndRefreshesInTheBackground) {
  store::credential_update update;
  update.credential_id = "conn";
  update.access_token = "Atza|still-valid-for-two-minutes";
  update.access_token_expires_at = now_unix_seconds() + 120;  // inside 300 s, outside 60 s
  amc::client::internals(*client_).store().put(update);
  EXPECT_TRUE(token("conn") == "Atza|still-valid-for-two-minutes");
  for (int i = 0; i < 200 && requests_of("lwaToken") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (int i = 0; i < 200 && token("conn") == "Atza|still-valid-for-two-minutes"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(requests_of("lwaToken"), 1);
  EXPECT_FALSE(token("conn") == "Atza|still-valid-for-two-minutes");
}

// A caller that stops waiting (cancelled, or run_blocking's deadline) gets
// its answer at once; the refresh it started still completes, once, for
// the caller who joined it.
TEST_F(Tokens, ACancelledWaitEndsAtOnceAndTheRefreshGoesOnForOthers) {
  slow_token_endpoint(3000);
  auto cancellation = std::make_shared<client::cancellation>();
  std::atomic<bool> other_has_token{false};
  std::string other_token;
  std::thread canceller([cancellation] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancellation->cancel();
  });
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // joins the refresh in flight
    other_token = token("conn");
    other_has_token = true;
  });
  // The first caller starts the refresh, then is cancelled.
  EXPECT_EQ(code_of([&] {
              client_->run_blocking(amc::client::internals(*client_).tokens().access_token("conn"),
                                    client::call_deadline::after(std::chrono::seconds(30)), cancellation);
            }),
            errc::cancelled);
  EXPECT_FALSE(other_has_token) << "the cancelled caller waited for the refresh to finish";
  canceller.join();
  other.join();
  EXPECT_FALSE(other_token.empty());
  EXPECT_EQ(requests_of("lwaToken"), 1);
  EXPECT_EQ(token("conn"), other_token) << "the refresh was stored";
  EXPECT_EQ(requests_of("lwaToken"), 1);
}

TEST_F(Tokens, MandatoryWindowWaitsForTheRefresh) {
  store::credential_update update;
  update.credential_id = "conn";
  update.access_token = "Atza|about-to-expire";
  update.access_token_expires_at = now_unix_seconds() + 30;  // inside 60 s
  amc::client::internals(*client_).store().put(update);
  EXPECT_FALSE(token("conn") == "Atza|about-to-expire");
  EXPECT_EQ(requests_of("lwaToken"), 1);
}

TEST_F(Tokens, InvalidGrantMarksTheCredentialAndKeepsItsRefreshToken) {
  admin(verb::post, "/_sandbox/grants/revoke", {{"refresh_token", refresh_token_}});
  std::string message;
  EXPECT_EQ(code_of([&] { token("conn"); }, &message), errc::auth_required);
  EXPECT_NE(message.find("'conn'"), std::string::npos) << message;
  EXPECT_NE(message.find("amcctl auth login"), std::string::npos) << message;
  const auto record = amc::client::internals(*client_).store().get("conn", true);
  EXPECT_EQ(record.state, store::credential_state::needs_reauth);
  EXPECT_TRUE(record.refresh_token == refresh_token_) << "never blanked";
  // And it is not retried: the next call fails at once, without a request.
  const auto sent = requests_of("lwaToken");
  EXPECT_EQ(code_of([&] { token("conn"); }), errc::auth_required);
  EXPECT_EQ(requests_of("lwaToken"), sent);
}

TEST_F(Tokens, InvalidClientIsAConfigErrorThatNamesTheClientNotTheSecret) {
  auto wrong = make_client({{"lwa", {{"client_secret", "not-the-secret-value"}}}});
  std::string message;
  EXPECT_EQ(code_of([&] { wrong->run_blocking(amc::client::internals(*wrong).tokens().access_token("conn"), std::chrono::seconds(30)); },
                    &message),
            errc::config);
  EXPECT_NE(message.find(server_->service().client_id()), std::string::npos) << message;
  EXPECT_EQ(message.find("not-the-secret-value"), std::string::npos);
  EXPECT_EQ(amc::client::internals(*client_).store().get("conn", false).state, store::credential_state::active)
      << "a client mistake is not the credential's fault";
}

TEST_F(Tokens, QuarantinedCredentialIsNeverSentWithAnEmptyToken) {
  // Opening the store with a key that cannot decrypt "conn" quarantines it.
  auto other_key = make_client({{"store", {{"fernet_keys", testing::generate_fernet_key()}}}});
  EXPECT_EQ(amc::client::internals(*other_key).store().get("conn", false).state, store::credential_state::quarantined);
  EXPECT_EQ(code_of([&] { other_key->run_blocking(amc::client::internals(*other_key).tokens().access_token("conn"), std::chrono::seconds(30)); }),
            errc::crypto);
  EXPECT_EQ(requests_of("lwaToken"), 0);
  // Nor is an AMC call sent without a token: it fails before any request.
  const auto& instance = server_->service().options().instances.front();
  api::session session(amc::client::internals(*other_key).http(), amc::client::internals(*other_key).tokens(), server_->base_url(), server_->service().client_id(),
                       other_key->log());
  api::amc_call request;
  request.path_and_query = "/amc/reporting/" + instance.instance_id + "/workflows";
  EXPECT_EQ(code_of([&] {
              other_key->run_blocking(
                  session.call({"conn", instance.instance_id, instance.entity_id, instance.marketplace_id}, request),
                  std::chrono::seconds(30));
            }),
            errc::crypto);
  const auto stats = admin(verb::get, "/_sandbox/stats");
  EXPECT_EQ(stats["requests"], 0) << "no AMC request and no token request: " << stats.dump();
  EXPECT_EQ(requests_of("listWorkflows"), 0);
  EXPECT_EQ(amc::client::internals(*other_key).store().get("conn", false).state, store::credential_state::quarantined);
}

// ---- refresh-token rotation (the sandbox's refresh_token_reply) ----------
// A refresh_token in LwA's reply replaces the stored one; a reply without
// one never blanks it.

TEST_F(Tokens, ARotatedRefreshTokenReplacesTheStoredOneAndIsUsedNext) {
  admin(verb::put, "/_sandbox/settings", {{"refresh_token_reply", "rotate"}});
  const auto first = token("conn");
  const auto after_first = amc::client::internals(*client_).store().get("conn", true);
  ASSERT_TRUE(after_first.refresh_token.has_value());
  EXPECT_FALSE(*after_first.refresh_token == refresh_token_) << "the rotated token was stored";
  EXPECT_TRUE(after_first.refresh_token->starts_with("Atzr|"));
  // The sandbox revoked the old token: the next refresh works only if it
  // sends the stored, rotated one.
  const auto second = client_->run_blocking(amc::client::internals(*client_).tokens().refresh("conn", first), std::chrono::seconds(30));
  EXPECT_FALSE(second == first);
  EXPECT_EQ(requests_of("lwaToken"), 2);
  const auto after_second = amc::client::internals(*client_).store().get("conn", true);
  EXPECT_EQ(after_second.state, store::credential_state::active);
  ASSERT_TRUE(after_second.refresh_token.has_value());
  EXPECT_FALSE(*after_second.refresh_token == *after_first.refresh_token) << "rotated again and stored again";
  const auto log = admin(verb::get, "/_sandbox/requests");
  int token_requests = 0;
  for (const auto& entry : log["requests"]) {
    if (entry["operation"] != "lwaToken") continue;
    ++token_requests;
    EXPECT_EQ(entry["status"], 200) << entry.dump();
  }
  EXPECT_EQ(token_requests, 2);
  expect_no_secret_in_captured_text({*after_first.refresh_token, *after_second.refresh_token});
}

TEST_F(Tokens, ARefreshWithoutARefreshTokenKeepsTheStoredOne) {
  admin(verb::put, "/_sandbox/settings", {{"refresh_token_reply", "omit"}});
  const auto first = token("conn");
  EXPECT_TRUE(amc::client::internals(*client_).store().get("conn", true).refresh_token == refresh_token_) << "never blanked";
  const auto second = client_->run_blocking(amc::client::internals(*client_).tokens().refresh("conn", first), std::chrono::seconds(30));
  EXPECT_FALSE(second == first);
  EXPECT_EQ(requests_of("lwaToken"), 2);
  const auto record = amc::client::internals(*client_).store().get("conn", true);
  EXPECT_EQ(record.state, store::credential_state::active);
  EXPECT_TRUE(record.refresh_token == refresh_token_) << "still the original, and it still works";
}

// A caller refused by AMC with token T (a 401 after a revocation) that
// joins a refresh started for an older token must not get T back: that
// flight ends with the stored token, which is T. It refreshes on its own.
TEST_F(Tokens, ARefreshForARefusedTokenNeverJoinsItsWayBackToThatToken) {
  const auto refused = token("conn");
  ASSERT_EQ(requests_of("lwaToken"), 1);
  // Another process holds the credential's refresh lock, so that the first
  // flight waits (token_manager::acquire_cross_process_lock) while the
  // second caller joins it.
  auto held = amc::client::internals(*client_).store().try_lock_refresh("conn");
  ASSERT_TRUE(held);
  std::string for_older, for_refused;
  std::thread older([&] {
    for_older = client_->run_blocking(amc::client::internals(*client_).tokens().refresh("conn", "Atza|an-older-token"),
                                      std::chrono::seconds(30));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its flight is waiting for the lock
  std::thread refused_caller([&] {
    for_refused = client_->run_blocking(amc::client::internals(*client_).tokens().refresh("conn", refused), std::chrono::seconds(30));
  });
  for (int i = 0; i < 500 && amc::client::internals(*client_).tokens().metrics()["waits_for_refresh"].get<long long>() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(amc::client::internals(*client_).tokens().metrics()["waits_for_refresh"].get<long long>(), 1) << "the second caller joined";
  held.reset();
  older.join();
  refused_caller.join();
  EXPECT_TRUE(for_older == refused) << "the older token's caller gets the stored, newer token";
  EXPECT_FALSE(for_refused == refused) << "AMC refused this token: a refresh must not hand it back";
  EXPECT_FALSE(for_refused.empty());
  EXPECT_EQ(requests_of("lwaToken"), 2) << "one real refresh, for the refused token";
}

TEST_F(Tokens, CodeExchangeStoresANewCredential) {
  const auto code = admin(verb::post, "/_sandbox/consent-codes",
                          {{"redirect_uri", "https://example.com/cb"}})["code"].get<std::string>();
  client_->run_blocking(amc::client::internals(*client_).tokens().exchange_code("new-user", code, "https://example.com/cb"),
                        std::chrono::seconds(30));
  const auto record = amc::client::internals(*client_).store().get("new-user", true);
  EXPECT_EQ(record.state, store::credential_state::active);
  EXPECT_TRUE(record.refresh_token.has_value());
  EXPECT_TRUE(record.access_token.has_value());
  // A code is single-use.
  EXPECT_EQ(code_of([&] {
              client_->run_blocking(amc::client::internals(*client_).tokens().exchange_code("again", code, "https://example.com/cb"),
                                    std::chrono::seconds(30));
            }),
            errc::auth_required);
}

// ---- the AMC 401/403 rules ------------------------------------------------

class AmcAuthRules : public Tokens {
 protected:
  nlohmann::json call(const api::call_context& context, const std::string& path) {
    api::session session(amc::client::internals(*client_).http(), amc::client::internals(*client_).tokens(), server_->base_url(),
                         server_->service().client_id(), client_->log());
    api::amc_call request;
    request.path_and_query = path;
    return client_->run_blocking(session.call(context, request), std::chrono::seconds(30));
  }
  api::call_context instance_context(const std::string& advertiser_id) {
    const auto& instance = server_->service().options().instances.front();
    return {"conn", instance.instance_id, advertiser_id, instance.marketplace_id};
  }
  std::string workflow_list_path() {
    return "/amc/reporting/" + server_->service().options().instances.front().instance_id + "/workflows";
  }
};

TEST_F(AmcAuthRules, A401RefreshesOnceAndRetriesOnce) {
  store::credential_update update;
  update.credential_id = "conn";
  update.access_token = "Atza|the-sandbox-never-issued-this";
  update.access_token_expires_at = now_unix_seconds() + 3000;
  amc::client::internals(*client_).store().put(update);
  const auto entity = server_->service().options().instances.front().entity_id;
  EXPECT_NO_THROW(call(instance_context(entity), workflow_list_path()));
  EXPECT_EQ(requests_of("lwaToken"), 1);
  EXPECT_EQ(requests_of("listWorkflows"), 2);
}

// session.cpp: a 401 gets one refresh and one retry; a second 401 is
// auth_required (the refresh token is kept: AMC, not LwA, refused).
TEST_F(AmcAuthRules, APersistent401RefreshesOnceRetriesOnceThenAuthRequired) {
  token("conn");
  admin(verb::delete_, "/_sandbox/requests");
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "error_status"}, {"status", 401}, {"operation", "listWorkflows"}, {"count", 3}});
  const auto entity = server_->service().options().instances.front().entity_id;
  std::string message;
  EXPECT_EQ(code_of([&] { call(instance_context(entity), workflow_list_path()); }, &message), errc::auth_required);
  EXPECT_NE(message.find("'conn'"), std::string::npos) << message;
  EXPECT_NE(message.find("re-authenticate"), std::string::npos) << message;
  std::vector<std::string> sequence;  // operation:status, in order
  const auto log = admin(verb::get, "/_sandbox/requests");
  for (const auto& entry : log["requests"])
    sequence.push_back(entry["operation"].get<std::string>() + ":" + std::to_string(entry["status"].get<int>()));
  EXPECT_EQ(sequence, (std::vector<std::string>{"listWorkflows:401", "lwaToken:200", "listWorkflows:401"}))
      << "one call, one refresh, one retry, nothing more";
  EXPECT_EQ(admin(verb::get, "/_sandbox/stats")["faults_total"], 2) << "the third 401 was never asked for";
  const auto record = amc::client::internals(*client_).store().get("conn", true);
  EXPECT_TRUE(record.refresh_token == refresh_token_);
}

TEST_F(AmcAuthRules, A403RefreshesOnceRetriesOnceThenForbiddenAndKeepsTheToken) {
  std::string message;
  EXPECT_EQ(code_of([&] { call(instance_context("ENTITYNOTTHISONE"), workflow_list_path()); }, &message),
            errc::forbidden);
  EXPECT_EQ(requests_of("listWorkflows"), 2);
  EXPECT_EQ(requests_of("lwaToken"), 2) << "the first token, then one refresh after the 403";
  EXPECT_NE(message.find("no access"), std::string::npos) << message;
  const auto record = amc::client::internals(*client_).store().get("conn", true);
  EXPECT_EQ(record.state, store::credential_state::active);
  EXPECT_TRUE(record.refresh_token == refresh_token_);
}

TEST_F(AmcAuthRules, A403WithAProfileIdSaysTheAdvertiserIdLooksWrong) {
  std::string message;
  EXPECT_EQ(code_of([&] { call(instance_context("1234567890"), workflow_list_path()); }, &message),
            errc::forbidden);
  EXPECT_NE(message.find("does not look like an AMC entity id"), std::string::npos) << message;
  EXPECT_TRUE(amc::client::internals(*client_).store().get("conn", true).refresh_token == refresh_token_);
}

TEST_F(AmcAuthRules, RevokedGrantOnAnAmcCallBecomesAuthRequired) {
  token("conn");
  admin(verb::post, "/_sandbox/grants/revoke", {{"refresh_token", refresh_token_}});
  const auto entity = server_->service().options().instances.front().entity_id;
  EXPECT_EQ(code_of([&] { call(instance_context(entity), workflow_list_path()); }), errc::auth_required);
  EXPECT_EQ(amc::client::internals(*client_).store().get("conn", false).state, store::credential_state::needs_reauth);
}

// Issue 12 item 2: with expires_in 30 (shorter than the 60 s mandatory and
// 300 s advisory windows), 13 AMC calls used to cause 14 refreshes. The
// windows shrink with the token's lifetime, so the token is used for most
// of its life.
TEST_F(AmcAuthRules, AShortLivedTokenIsRefreshedOnceNotBeforeEveryCall) {
  admin(verb::put, "/_sandbox/settings", {{"access_token_ttl_seconds", 30}});
  const auto entity = server_->service().options().instances.front().entity_id;
  for (int i = 0; i < 13; ++i) EXPECT_NO_THROW(call(instance_context(entity), workflow_list_path()));
  EXPECT_EQ(requests_of("listWorkflows"), 13);
  EXPECT_EQ(requests_of("lwaToken"), 1) << "one refresh for 13 calls within the token's life";
  const auto record = amc::client::internals(*client_).store().get("conn", false);
  ASSERT_TRUE(record.access_token_issued_at && record.access_token_expires_at);
  EXPECT_EQ(*record.access_token_expires_at - *record.access_token_issued_at, 30);
}

TEST(RefreshWindows, ShrinkWithTheTokensLifetime) {
  token_settings settings;  // 300 s advisory, 60 s mandatory
  const auto hour = windows_for(settings, 3600);
  EXPECT_EQ(hour.advisory, std::chrono::seconds(300));
  EXPECT_EQ(hour.mandatory, std::chrono::seconds(60));
  const auto short_lived = windows_for(settings, 30);
  EXPECT_EQ(short_lived.advisory, std::chrono::seconds(15));
  EXPECT_EQ(short_lived.mandatory, std::chrono::seconds(7));
  const auto unknown = windows_for(settings, std::nullopt);
  EXPECT_EQ(unknown.advisory, std::chrono::seconds(300));
  EXPECT_EQ(unknown.mandatory, std::chrono::seconds(60));
}

// Issue 12 item 1: an LwA reply with expires_in 1000000000000 was stored
// as the year -31821, after which the store file could not be opened at all.
// Now the lifetime is cut to one day with a warning, the store keeps
// opening, and every other credential stays usable.
TEST_F(Tokens, AHugeExpiresInIsClampedAndTheStoreStaysUsable) {
  import("other", new_grant());
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "patch_reply"},
         {"operation", "lwaToken"},
         {"count", 1},
         {"json_patch", {{{"op", "replace"}, {"path", "/expires_in"}, {"value", 1000000000000LL}}}}});
  const auto before = now_unix_seconds();
  EXPECT_FALSE(token("conn").empty());
  const auto record = amc::client::internals(*client_).store().get("conn", false);
  ASSERT_TRUE(record.access_token_expires_at.has_value());
  EXPECT_LE(*record.access_token_expires_at, now_unix_seconds() + auth::max_access_token_lifetime_seconds);
  EXPECT_GE(*record.access_token_expires_at, before + auth::max_access_token_lifetime_seconds);
  int warnings = 0;
  for (const auto& line : captured_log())
    if (line.level == log_level::warning && line.text.find("'conn'") != std::string::npos &&
        line.text.find("1000000000000") != std::string::npos)
      ++warnings;
  EXPECT_EQ(warnings, 1) << "the clamp is said once, naming the credential and the value";
  // The file opens (a new client reads it from scratch) and every
  // credential in it works.
  auto reopened = make_client();
  EXPECT_EQ(amc::client::internals(*reopened).store().list().size(), 2u);
  EXPECT_FALSE(reopened->run_blocking(amc::client::internals(*reopened).tokens().access_token("conn"), std::chrono::seconds(30)).empty());
  EXPECT_FALSE(reopened->run_blocking(amc::client::internals(*reopened).tokens().access_token("other"), std::chrono::seconds(30)).empty());
  EXPECT_EQ(requests_of("lwaToken"), 2) << "conn's clamped token is still served from the store";
}

TEST_F(Tokens, AnExpiresInBelowOneSecondIsAProtocolErrorAndStoresNothing) {
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "patch_reply"},
         {"operation", "lwaToken"},
         {"count", 1},
         {"json_patch", {{{"op", "replace"}, {"path", "/expires_in"}, {"value", -5}}}}});
  std::string message;
  EXPECT_EQ(code_of([&] { token("conn"); }, &message), errc::protocol);
  EXPECT_NE(message.find("expires_in"), std::string::npos) << message;
  EXPECT_FALSE(amc::client::internals(*client_).store().get("conn", false).has_access_token);
  EXPECT_EQ(amc::client::internals(*client_).store().get("conn", false).state, store::credential_state::active);
  EXPECT_FALSE(token("conn").empty()) << "the next, normal reply works";
}

// ---- the sandbox's faults against the client's retry rules ----------------

struct fault_case {
  const char* name;
  nlohmann::json rule;     // for POST /_sandbox/faults (operation listWorkflows)
  errc expected;           // what the call ends with
  long long requests;      // listWorkflows requests the sandbox saw
};

class SandboxFaults : public AmcAuthRules, public ::testing::WithParamInterface<fault_case> {};

TEST_P(SandboxFaults, RetryableFaultsAreRetriedOthersReported) {
  const auto& fault = GetParam();
  token("conn");
  auto rule = fault.rule;
  rule["operation"] = "listWorkflows";
  admin(verb::post, "/_sandbox/faults", rule);
  const auto entity = server_->service().options().instances.front().entity_id;
  EXPECT_EQ(code_of([&] { call(instance_context(entity), workflow_list_path()); }), fault.expected);
  EXPECT_EQ(requests_of("listWorkflows"), fault.requests);
  EXPECT_EQ(admin(verb::get, "/_sandbox/stats")["faults_total"].get<long long>(), fault.rule.value("count", 1LL));
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, SandboxFaults,
    ::testing::Values(
        fault_case{"latency", {{"kind", "latency"}, {"latency_ms", 200}, {"count", 1}}, errc::ok, 1},
        fault_case{"status500", {{"kind", "error_status"}, {"status", 500}, {"count", 2}}, errc::ok, 3},
        fault_case{"status502", {{"kind", "error_status"}, {"status", 502}, {"count", 1}}, errc::ok, 2},
        fault_case{"status503", {{"kind", "error_status"}, {"status", 503}, {"count", 1}}, errc::ok, 2},
        fault_case{"status504", {{"kind", "error_status"}, {"status", 504}, {"count", 1}}, errc::ok, 2},
        fault_case{"persistent500", {{"kind", "error_status"}, {"status", 500}, {"count", 5}}, errc::remote, 5},
        fault_case{"throttled", {{"kind", "rate_limit"}, {"retry_after", 0}, {"count", 2}}, errc::ok, 3},
        fault_case{"reset_before_headers", {{"kind", "reset_before_headers"}, {"count", 1}}, errc::ok, 2},
        fault_case{"reset_after_headers", {{"kind", "reset_after_headers"}, {"count", 1}}, errc::ok, 2},
        fault_case{"truncated_body", {{"kind", "truncated_body"}, {"count", 1}}, errc::ok, 2},
        fault_case{"trickle", {{"kind", "trickle"}, {"trickle_bytes", 16}, {"trickle_interval_ms", 1}, {"count", 1}},
                   errc::ok, 1},
        // A 200 whose JSON is cut short is not retried blindly: it is reported.
        fault_case{"malformed_json", {{"kind", "malformed_json"}, {"count", 1}}, errc::protocol, 1}),
    [](const ::testing::TestParamInfo<fault_case>& case_info) { return std::string(case_info.param.name); });

TEST_F(AmcAuthRules, RetryAfterIsHonouredAsTheSandboxLogShows) {
  token("conn");
  admin(verb::delete_, "/_sandbox/requests");
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "rate_limit"}, {"operation", "listWorkflows"}, {"retry_after", 3}, {"count", 1}});
  const auto entity = server_->service().options().instances.front().entity_id;
  EXPECT_NO_THROW(call(instance_context(entity), workflow_list_path()));
  std::vector<std::int64_t> times_ms;
  const auto log = admin(verb::get, "/_sandbox/requests");
  for (const auto& entry : log["requests"])
    if (entry["operation"] == "listWorkflows") times_ms.push_back(entry.at("time_ms").get<std::int64_t>());
  ASSERT_EQ(times_ms.size(), 2u) << log.dump();
  // The log's millisecond times (src/sandbox/README.md, admin API): the retry
  // came at least Retry-After (3000 ms) after the 429, less 50 ms for the
  // two log times being taken at slightly different points of a request.
  // The client's own backoff alone is at most 200 ms, so this fails if the
  // header was ignored.
  EXPECT_GE(times_ms[1] - times_ms[0], 3000 - 50) << log.dump();
}

TEST_F(AmcAuthRules, APostIsNeverResentAfterItMayHaveArrived) {
  token("conn");
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "reset_after_headers"}, {"operation", "createWorkflow"}, {"count", 1}});
  const auto& instance = server_->service().options().instances.front();
  api::session session(amc::client::internals(*client_).http(), amc::client::internals(*client_).tokens(), server_->base_url(),
                       server_->service().client_id(), client_->log());
  api::amc_call create;
  create.method = verb::post;
  create.path_and_query = "/amc/reporting/" + instance.instance_id + "/workflows";
  create.body = nlohmann::json{{"workflowId", "wf_once"}, {"sqlQuery", "SELECT 1"}};
  create.retryable = false;
  EXPECT_EQ(code_of([&] {
              client_->run_blocking(session.call(instance_context(instance.entity_id), create), std::chrono::seconds(30));
            }),
            errc::network);
  EXPECT_EQ(requests_of("createWorkflow"), 1);
}

// ---- the refresh service ---------------------------------------------------

TEST_F(Tokens, RefreshServiceRefreshesWhatExpiresAndDropsDeadCredentialsOnce) {
  import("dead", new_grant());
  admin(verb::post, "/_sandbox/grants/revoke", {{"all", true}});
  import("alive", new_grant());
  refresh_service service(client_->io().get_executor(), amc::client::internals(*client_).tokens(), amc::client::internals(*client_).store(),
                          {std::chrono::seconds(600), std::chrono::seconds(3600)}, client_->log());
  // "conn" and "dead" are revoked: their refresh fails with invalid_grant.
  auto sweep = [&] { return client_->run_blocking(service.sweep(), std::chrono::seconds(30)); };
  EXPECT_EQ(sweep(), 1);  // alive
  const auto after_first = requests_of("lwaToken");
  EXPECT_EQ(sweep(), 0);  // everything fresh or dropped
  EXPECT_EQ(sweep(), 0);
  EXPECT_EQ(requests_of("lwaToken"), after_first) << "dead credentials are not retried every interval";
  EXPECT_EQ(service.dropped(), (std::set<std::string>{"conn", "dead"}));
  int drop_lines = 0;
  for (const auto& line : captured_text())
    if (line.find("stops tracking credential 'dead'") != std::string::npos) ++drop_lines;
  EXPECT_EQ(drop_lines, 1) << "reported once, not every interval";
}

TEST_F(Tokens, RefreshServiceDropsAQuarantinedCredentialAndLogsItOnce) {
  // The store opened with another key: "conn" is quarantined for this client.
  auto other_key = make_client({{"store", {{"fernet_keys", testing::generate_fernet_key()}}}});
  ASSERT_EQ(amc::client::internals(*other_key).store().get("conn", false).state, store::credential_state::quarantined);
  refresh_service service(other_key->io().get_executor(), amc::client::internals(*other_key).tokens(), amc::client::internals(*other_key).store(),
                          {std::chrono::seconds(600), std::chrono::seconds(3600)}, other_key->log());
  auto sweep = [&] { return other_key->run_blocking(service.sweep(), std::chrono::seconds(30)); };
  EXPECT_EQ(sweep(), 0);
  EXPECT_EQ(sweep(), 0);
  EXPECT_EQ(sweep(), 0);
  EXPECT_EQ(service.dropped(), (std::set<std::string>{"conn"}));
  EXPECT_EQ(requests_of("lwaToken"), 0) << "a quarantined credential is never refreshed";
  int drop_lines = 0;
  for (const auto& line : captured_text()) {
    if (line.find("stops tracking credential 'conn'") == std::string::npos) continue;
    ++drop_lines;
    EXPECT_NE(line.find("quarantined"), std::string::npos) << line;
    EXPECT_NE(line.find("Fernet key"), std::string::npos) << "says what to do: " << line;
  }
  EXPECT_EQ(drop_lines, 1) << "reported once, not every interval";
}

TEST_F(Tokens, TheClientsRefreshServiceKeepsTokensFreshAndStopsCleanly) {
  store::credential_update update;
  update.credential_id = "conn";
  update.access_token = "Atza|expires-soon";
  update.access_token_expires_at = now_unix_seconds() + 120;  // within the 600 s lead time
  amc::client::internals(*client_).store().put(update);
  auto with_service = make_client({{"refresh_service", {{"enabled", true}, {"interval_s", 1}}}});
  ASSERT_NE(with_service->refresher(), nullptr);
  // The sandbox counts the token request when it arrives; the new token is
  // stored only after the reply, so wait for the store, not the counter.
  auto still_old = [&] { return amc::client::internals(*client_).store().get("conn", true).access_token == "Atza|expires-soon"; };
  for (int i = 0; i < 1000 && still_old(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(still_old()) << "refreshed in the background";
  EXPECT_EQ(requests_of("lwaToken"), 1) << "once";
  const auto stopping = std::chrono::steady_clock::now();
  with_service.reset();  // stops the service and joins the client's threads
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(5));
}

TEST_F(Tokens, TheRefreshServiceStopsCleanlyWhileARefreshIsInFlight) {
  store::credential_update update;
  update.credential_id = "conn";
  update.access_token = "Atza|expires-soon";
  update.access_token_expires_at = now_unix_seconds() + 120;  // within the 600 s lead time
  amc::client::internals(*client_).store().put(update);
  // Only this refresh is slow: it is still waiting for LwA when the client goes.
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "latency"}, {"operation", "lwaToken"}, {"latency_ms", 20'000}, {"count", 1}});
  auto with_service = make_client({{"refresh_service", {{"enabled", true}, {"interval_s", 1}}}});
  ASSERT_NE(with_service->refresher(), nullptr);
  for (int i = 0; i < 1000 && requests_of("lwaToken") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(requests_of("lwaToken"), 1) << "the background refresh never started";
  const auto stopping = std::chrono::steady_clock::now();
  with_service.reset();  // stops the service mid-refresh and joins the client's threads
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(10))
      << "the stop waited for LwA's (20 s) reply";
  // The store is intact: the interrupted refresh wrote nothing.
  const auto records = amc::client::internals(*client_).store().list();
  ASSERT_EQ(records.size(), 1u);
  const auto record = amc::client::internals(*client_).store().get("conn", true);
  EXPECT_EQ(record.state, store::credential_state::active);
  EXPECT_TRUE(record.refresh_token == refresh_token_);
  EXPECT_TRUE(record.access_token == "Atza|expires-soon");
  // And its store lock went with it: another client refreshes at once
  // rather than waiting for a lock nobody will release.
  const auto fresh = client_->run_blocking(amc::client::internals(*client_).tokens().refresh("conn", "Atza|expires-soon"),
                                           std::chrono::seconds(30));
  EXPECT_FALSE(fresh == "Atza|expires-soon");
  EXPECT_EQ(requests_of("lwaToken"), 2);
}

TEST(RefreshServiceJitter, TheWaitIsTheIntervalWithinTwentyPercent) {
  using std::chrono::milliseconds;
  const std::chrono::seconds interval{60};
  EXPECT_EQ(jittered_interval(interval, 0.0), milliseconds(48'000));
  EXPECT_EQ(jittered_interval(interval, 0.25), milliseconds(54'000));
  EXPECT_EQ(jittered_interval(interval, 0.5), milliseconds(60'000));
  EXPECT_EQ(jittered_interval(interval, 1.0), milliseconds(72'000));
  EXPECT_EQ(jittered_interval(interval, 7.0), milliseconds(72'000)) << "out-of-range draws are clamped";
}

TEST_F(Tokens, RefreshServiceWaitsDifferAndStayWithinTheirBounds) {
  refresh_service service(client_->io().get_executor(), amc::client::internals(*client_).tokens(), amc::client::internals(*client_).store(),
                          {std::chrono::seconds(600), std::chrono::seconds(60)}, client_->log());
  std::vector<std::chrono::milliseconds> waits;
  for (int i = 0; i < 20; ++i) waits.push_back(service.next_wait());
  for (const auto wait : waits) {
    EXPECT_GE(wait, std::chrono::milliseconds(48'000));
    EXPECT_LE(wait, std::chrono::milliseconds(72'000));
  }
  // Consecutive waits differ (two of 24,001 possible values coinciding
  // once is possible, twice in 19 pairs is not worth a flaky run).
  int same_as_before = 0;
  for (std::size_t i = 1; i < waits.size(); ++i) same_as_before += waits[i] == waits[i - 1] ? 1 : 0;
  EXPECT_LE(same_as_before, 1);
  // Spread over the range, not stuck near one value (the chance that 20
  // uniform draws all miss the outer thirds is 3^-20).
  EXPECT_LT(*std::min_element(waits.begin(), waits.end()), std::chrono::milliseconds(56'000));
  EXPECT_GT(*std::max_element(waits.begin(), waits.end()), std::chrono::milliseconds(64'000));
}

}  // namespace
}  // namespace amc::auth
