// The host store backend's ownership of the host's functions: a lock it
// handed out may outlive it (a token refresh suspended when the client is
// freed is unwound after the store), and the host's user data is released
// once, after the last unlock.
#include "store/host_backend.hpp"

#include "common/error.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace amc::store {
namespace {

host_functions recording(std::shared_ptr<std::vector<std::string>> calls) {
  host_functions host;
  host.read = [] { return std::optional<std::string>(); };
  host.write = [](const std::string&) {};
  host.try_lock = [calls](const std::string& name) {
    calls->push_back("lock " + name);
    return true;
  };
  host.unlock = [calls](const std::string& name) { calls->push_back("unlock " + name); };
  host.release = [calls] { calls->push_back("release"); };
  return host;
}

TEST(HostBackend, ALockThatOutlivesTheBackendUnlocksBeforeTheRelease) {
  auto calls = std::make_shared<std::vector<std::string>>();
  auto backend = std::make_unique<host_backend>(recording(calls));
  auto lock = backend->try_lock("refresh:conn");
  ASSERT_TRUE(lock);
  backend.reset();
  EXPECT_EQ(*calls, (std::vector<std::string>{"lock refresh:conn"})) << "nothing released while a lock is held";
  lock.reset();
  EXPECT_EQ(*calls, (std::vector<std::string>{"lock refresh:conn", "unlock refresh:conn", "release"}));
}

TEST(HostBackend, WithoutLocksTheReleaseRunsWithTheBackend) {
  auto calls = std::make_shared<std::vector<std::string>>();
  auto backend = std::make_unique<host_backend>(recording(calls));
  backend.reset();
  EXPECT_EQ(*calls, (std::vector<std::string>{"release"}));
}

TEST(HostBackend, ARefusedBackendDoesNotRelease) {
  auto calls = std::make_shared<std::vector<std::string>>();
  auto host = recording(calls);
  host.unlock = nullptr;
  try {
    host_backend backend(std::move(host));
    ADD_FAILURE() << "expected invalid_argument";
  } catch (const amc::error& e) {
    EXPECT_EQ(e.code_value(), errc::invalid_argument);
  }
  EXPECT_TRUE(calls->empty()) << "the caller still owns the host's user data";
}

}  // namespace
}  // namespace amc::store
