// amc_client_new_with_store through libamc.so and amc.h, as a host uses it:
// clients of one host-kept document share one access token (one refresh
// between them), the versioned struct and destroy_user's one call, and a
// host callback's failure or a damaged document reported with the document
// left as it was.
#include "amc/amc.h"

#include "support/sandbox_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace {

using nlohmann::json;

std::string take(char* text) {
  std::string copy = text != nullptr ? text : "";
  amc_free(text);
  return copy;
}

// What a host keeps: one document and named locks (in a real host, shared
// by its processes: an Airflow Variable, a key-value service).
struct kept_document {
  std::mutex mutex;
  bool stored = false;
  std::string document;
  std::set<std::string> locks;
  int reads = 0;
  int writes = 0;
  int destroyed = 0;
  bool fail_reads = false;
  std::set<std::string> never_granted;  // locks some other process holds for ever
};

int host_read(void* user, amc_store_put_text put, void* sink) {
  auto& host = *static_cast<kept_document*>(user);
  std::lock_guard lock(host.mutex);
  ++host.reads;
  if (host.fail_reads) return 7;
  if (host.stored) put(sink, host.document.c_str());
  return 0;
}

int host_write(void* user, const char* document_json) {
  auto& host = *static_cast<kept_document*>(user);
  std::lock_guard lock(host.mutex);
  ++host.writes;
  host.document = document_json;
  host.stored = true;
  return 0;
}

int host_try_lock(void* user, const char* name) {
  auto& host = *static_cast<kept_document*>(user);
  std::lock_guard lock(host.mutex);
  if (host.never_granted.count(name) != 0) return 0;
  return host.locks.insert(name).second ? 1 : 0;
}

void host_unlock(void* user, const char* name) {
  auto& host = *static_cast<kept_document*>(user);
  std::lock_guard lock(host.mutex);
  host.locks.erase(name);
}

void host_destroy(void* user) {
  auto& host = *static_cast<kept_document*>(user);
  std::lock_guard lock(host.mutex);
  ++host.destroyed;
}

amc_store_callbacks callbacks_for(kept_document& host) {
  return {sizeof(amc_store_callbacks), &host, host_read, host_write, host_try_lock, host_unlock, host_destroy};
}

class HostStoreCapi : public amc::testing::sandbox_fixture {
 protected:
  json host_config() const {
    auto config = client_config();
    config["store"] = {{"fernet_keys", fernet_key_}};
    return config;
  }
  amc_client* new_client(kept_document& host) {
    const auto callbacks = callbacks_for(host);
    amc_client* client = nullptr;
    EXPECT_EQ(amc_client_new_with_store(host_config().dump().c_str(), &callbacks, &client), AMC_OK)
        << amc_last_error();
    return client;
  }
  // A client of `host` with credential "conn" imported (nullptr on failure).
  amc_client* client_with_credential(kept_document& host) {
    amc_client* client = new_client(host);
    if (client == nullptr) return nullptr;
    const json credential = {{"credential_id", "conn"}, {"refresh_token", new_grant()}};
    EXPECT_EQ(amc_auth_import(client, credential.dump().c_str()), AMC_OK) << amc_last_error();
    return client;
  }
  json instance() const {
    const auto& first = server_->service().options().instances.front();
    return {{"instance_id", first.instance_id},
            {"advertiser_id", first.entity_id},
            {"marketplace_id", first.marketplace_id}};
  }
};

TEST_F(HostStoreCapi, ClientsOfOneHostDocumentShareOneAccessToken) {
  kept_document host;
  amc_client* first = new_client(host);
  amc_client* second = new_client(host);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  const json credential = {{"credential_id", "conn"}, {"refresh_token", new_grant()}};
  ASSERT_EQ(amc_auth_import(first, credential.dump().c_str()), AMC_OK) << amc_last_error();
  const auto refreshes_before = requests_of("lwaToken");
  const std::string request = json{{"credential_id", "conn"}, {"instance", instance()}}.dump();
  for (amc_client* client : {first, second, first, second}) {
    char* out = nullptr;
    ASSERT_EQ(amc_workflow_list(client, request.c_str(), &out), AMC_OK) << amc_last_error();
    take(out);
  }
  // The second client found the first one's token in the host's document.
  EXPECT_EQ(requests_of("lwaToken") - refreshes_before, 1);
  {
    std::lock_guard lock(host.mutex);
    EXPECT_TRUE(host.locks.empty());
    // Sealed: no token in clear reaches the host.
    EXPECT_EQ(host.document.find("Atza|"), std::string::npos);
    EXPECT_EQ(host.document.find("Atzr|"), std::string::npos);
    EXPECT_EQ(host.destroyed, 0);
  }
  amc_client_free(first);
  EXPECT_EQ(host.destroyed, 1);  // each client runs destroy_user once, when freed
  amc_client_free(second);
  EXPECT_EQ(host.destroyed, 2);
}

TEST_F(HostStoreCapi, DestroyUserRunsOnceWhenTheCallFails) {
  kept_document host;
  auto callbacks = callbacks_for(host);
  callbacks.write = nullptr;
  amc_client* client = nullptr;
  EXPECT_EQ(amc_client_new_with_store(host_config().dump().c_str(), &callbacks, &client), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("read, write, try_lock and unlock"), std::string::npos);
  EXPECT_EQ(host.destroyed, 1);

  auto with_path = host_config();
  with_path["store"]["path"] = (directory_.path() / "x.json").string();
  const auto good = callbacks_for(host);
  EXPECT_EQ(amc_client_new_with_store(with_path.dump().c_str(), &good, &client), AMC_E_CONFIG);
  EXPECT_EQ(host.destroyed, 2);
  EXPECT_EQ(client, nullptr);
}

// amc.h: JSON deeper than 128 levels is AMC_E_CONFIG in a client config,
// from either constructor (issue 20: the host-store one said
// AMC_E_INVALID_ARGUMENT).
TEST_F(HostStoreCapi, DeepConfigIsAConfigErrorForBothConstructors) {
  const std::string deep = std::string(50'000, '[') + std::string(50'000, ']');
  const std::string config = "{\"tls\": " + deep + "}";
  amc_client* client = nullptr;
  EXPECT_EQ(amc_client_new(config.c_str(), &client), AMC_E_CONFIG) << amc_last_error();
  EXPECT_NE(std::string(amc_last_error()).find("deeper than 128 levels"), std::string::npos) << amc_last_error();
  kept_document host;
  const auto callbacks = callbacks_for(host);
  EXPECT_EQ(amc_client_new_with_store(config.c_str(), &callbacks, &client), AMC_E_CONFIG) << amc_last_error();
  EXPECT_NE(std::string(amc_last_error()).find("deeper than 128 levels"), std::string::npos) << amc_last_error();
  EXPECT_EQ(client, nullptr);
  EXPECT_EQ(host.destroyed, 1);  // the failed call still ran destroy_user once
}

TEST_F(HostStoreCapi, StructIsVersionedBySize) {
  kept_document host;
  auto callbacks = callbacks_for(host);
  amc_client* client = nullptr;
  callbacks.size = offsetof(amc_store_callbacks, unlock);
  EXPECT_EQ(amc_client_new_with_store(host_config().dump().c_str(), &callbacks, &client), AMC_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(amc_last_error()).find("sizeof(amc_store_callbacks)"), std::string::npos);
  EXPECT_EQ(host.destroyed, 0);  // too small to hold destroy_user: not called

  // A newer host's larger struct: unknown members left zero are fine, set ones refused.
  struct newer {
    amc_store_callbacks v1;
    void* later;
  } bigger{callbacks_for(host), nullptr};
  bigger.v1.size = sizeof bigger;
  ASSERT_EQ(amc_client_new_with_store(host_config().dump().c_str(), &bigger.v1, &client), AMC_OK)
      << amc_last_error();
  amc_client_free(client);
  const int destroyed = host.destroyed;
  bigger.later = &host;
  EXPECT_EQ(amc_client_new_with_store(host_config().dump().c_str(), &bigger.v1, &client), AMC_E_INVALID_ARGUMENT);
  EXPECT_EQ(host.destroyed, destroyed + 1) << "destroy_user runs on every error but a NULL or too small struct";
  EXPECT_EQ(amc_client_new_with_store(host_config().dump().c_str(), nullptr, &client), AMC_E_INVALID_ARGUMENT);
}

TEST_F(HostStoreCapi, FailingCallbackOrDamagedDocumentIsAStoreErrorAndChangesNothing) {
  kept_document host;
  amc_client* client = new_client(host);
  ASSERT_NE(client, nullptr);
  const json credential = {{"credential_id", "conn"}, {"refresh_token", new_grant()}};
  ASSERT_EQ(amc_auth_import(client, credential.dump().c_str()), AMC_OK) << amc_last_error();
  const std::string kept = host.document;
  const int writes = host.writes;

  host.fail_reads = true;
  char* out = nullptr;
  EXPECT_EQ(amc_auth_status(client, "conn", &out), AMC_E_STORE);
  EXPECT_NE(std::string(amc_last_error()).find("read callback failed (it returned 7)"), std::string::npos);
  host.fail_reads = false;

  host.document = "{\"credentials\": [";  // cut short
  EXPECT_EQ(amc_auth_import(client, credential.dump().c_str()), AMC_E_STORE);
  // The store file's wording (issue 23 kind 3: the same limits and errors).
  EXPECT_NE(std::string(amc_last_error()).find("the host store's document is not valid JSON"), std::string::npos)
      << amc_last_error();
  EXPECT_EQ(host.document, "{\"credentials\": [");
  EXPECT_EQ(host.writes, writes);
  EXPECT_TRUE(host.locks.empty());

  host.document = kept;
  ASSERT_EQ(amc_auth_status(client, "conn", &out), AMC_OK) << amc_last_error();
  EXPECT_EQ(json::parse(take(out))["state"], "active");
  amc_client_free(client);
}

// Issue 23 kind 4: every wait inside a call ends by the call's deadline, as
// amc.h promises. A host-store "document" lock that is never granted held a
// submit with timeout_ms 1000 for 10 s (the backend's own lock wait), and a
// "refresh:<id>" lock held by another process for ever kept the call until
// its deadline plus the door's one-second grace (the refresh's own 30 s
// limit is the shared flight's, not the caller's).
// searched: every loop or timer that waits inside a call: host_backend::update
// (the "document" lock: bounded now by the deadline the journal passes in),
// file_backend (flock blocking: held only around a read-modify-write of one
// process, never across I/O), token_manager::acquire_cross_process_lock and
// join_or_start (the caller's wait for the shared refresh: bounded now in
// session::call_reply and client/auth.cpp by the call's deadline), the
// net layer's pool, rate-limiter, Retry-After and phase waits (already take
// the request's deadline, tests/net/deadline_test.cpp), poller waits (the
// poller's own read deadlines; kinds 1 and 2 of the issue).
class HostStoreDeadline : public HostStoreCapi {
 protected:
  // Runs `call` and checks it failed with AMC_E_TIMEOUT, naming the
  // timeout_ms it was given, within that timeout and a small margin.
  template <class Call>
  void expect_ends_by_deadline(int timeout_ms, Call call) {
    const auto start = std::chrono::steady_clock::now();
    const amc_status status = call();
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    EXPECT_EQ(status, AMC_E_TIMEOUT) << amc_status_name(status) << ": " << amc_last_error();
    EXPECT_NE(std::string(amc_last_error()).find(std::to_string(timeout_ms) + " ms"), std::string::npos)
        << amc_last_error();
    EXPECT_LT(took.count(), timeout_ms + 400) << "the call outlived its timeout_ms";
  }
};

TEST_F(HostStoreDeadline, ADocumentLockNeverGrantedEndsTheCallAtItsDeadline) {
  kept_document host;
  amc_client* client = client_with_credential(host);
  ASSERT_NE(client, nullptr);
  const std::string kept = host.document;
  host.never_granted = {"document"};
  const std::string submit = json{{"credential_id", "conn"},
                                  {"instance", instance()},
                                  {"execution_id", "exec_0badc0de"},
                                  {"request", {{"workflowId", "wf_never_sent"}}},
                                  {"timeout_ms", 1000}}
                                 .dump();
  char* out = nullptr;
  expect_ends_by_deadline(1000, [&] { return amc_execution_submit(client, submit.c_str(), &out); });
  EXPECT_EQ(out, nullptr);
  {
    std::lock_guard lock(host.mutex);
    EXPECT_EQ(host.document, kept) << "nothing was changed";
  }
  amc_client_free(client);
}

TEST_F(HostStoreDeadline, AnotherProcessesRefreshIsWaitedForOnlyUntilTheDeadline) {
  kept_document host;
  amc_client* client = client_with_credential(host);
  ASSERT_NE(client, nullptr);
  host.never_granted = {"refresh:conn"};
  const std::string list = json{{"credential_id", "conn"}, {"instance", instance()}, {"timeout_ms", 1000}}.dump();
  char* out = nullptr;
  expect_ends_by_deadline(1000, [&] { return amc_workflow_list(client, list.c_str(), &out); });
  EXPECT_EQ(out, nullptr);
  amc_client_free(client);
}

}  // namespace
