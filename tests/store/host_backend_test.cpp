// The host store backend's ownership of the host's functions: a lock it
// handed out may outlive it (a token refresh suspended when the client is
// freed is unwound after the store), and the host's user data is released
// once, after the last unlock.
#include "store/host_backend.hpp"

#include "common/error.hpp"
#include "store/document_text.hpp"

#include <gtest/gtest.h>

#include <functional>
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

// Issue 23 kind 3: a host's document is outside input exactly like a file's.
// A document nested 100,000 deep was parsed, then crashed the process on the
// next write (dump() recurses); a 65 MiB value was parsed whole; a value that
// is not an object was refused with another text than the file's. Now the
// host and file backends share store/document_text.hpp.
// searched: every parse of a store document (file_backend::parse_document,
// host_backend::read, the store config in store_config.cpp, which goes
// through parse_json_object) and every write (file_backend::write_unlocked,
// host_backend::update; memory_backend keeps the parsed document and never
// reads text); credential and journal records are type-checked one by one
// in credential_store.cpp / execution_journal.cpp whatever the backend.
struct hostile_host {
  explicit hostile_host(std::string text) : document(std::move(text)) {}
  std::string document;
  std::vector<std::string> written;
  host_functions functions() {
    host_functions host;
    host.read = [this] { return std::optional<std::string>(document); };
    host.write = [this](const std::string& text) { written.push_back(text); };
    host.try_lock = [](const std::string&) { return true; };
    host.unlock = [](const std::string&) {};
    return host;
  }
};

std::string nested(int depth) {
  return R"({"credentials":{"c":)" + std::string(depth, '[') + std::string(depth, ']') + "}}";
}

void expect_store_error(const std::function<void()>& call, const std::string& says) {
  try {
    call();
    ADD_FAILURE() << "expected errc::store saying " << says;
  } catch (const amc::error& e) {
    EXPECT_EQ(e.code_value(), errc::store) << e.what();
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("host store's document"), std::string::npos) << e.what();
  }
}

TEST(HostBackend, ADocumentNestedPastTheFileLimitIsRefusedAndTheNextWriteDoesNotCrash) {
  hostile_host host{nested(100'000)};
  host_backend backend(host.functions());
  expect_store_error([&] { backend.read(); }, "deeper than 128 levels");
  expect_store_error([&] { backend.update([](nlohmann::json& document) {
                       document["credentials"]["other"] = "x";
                       return true;
                     }); },
                     "deeper than 128 levels");
  EXPECT_TRUE(host.written.empty()) << "nothing was written over the host's value";
}

TEST(HostBackend, AHugeDocumentIsRefusedBeforeParsing) {
  hostile_host host{R"({"x":")" + std::string(max_document_bytes, 'a') + R"("})"};
  host_backend backend(host.functions());
  expect_store_error([&] { backend.read(); }, "more than the");
  EXPECT_TRUE(host.written.empty());
}

TEST(HostBackend, WrongTypesAndInvalidTextGetTheFileStoresErrors) {
  for (const std::string text : {"[1,2]", "\"text\"", "{\"a\":", "{\"a\":\"\xff\"}"}) {
    hostile_host host{text};
    host_backend backend(host.functions());
    expect_store_error([&] { backend.read(); }, "it was left untouched");
    EXPECT_TRUE(host.written.empty()) << text;
  }
}

TEST(HostBackend, AWriteReadsBackThroughTheSameReader) {
  hostile_host host{R"({"credentials":{}})"};
  host_backend backend(host.functions());
  backend.update([](nlohmann::json& document) {
    document["credentials"]["c"] = "sealed";
    return true;
  });
  ASSERT_EQ(host.written.size(), 1u);
  EXPECT_EQ(parse_document_text(host.written[0], "w", "a"), nlohmann::json::parse(R"({"credentials":{"c":"sealed"}})"));
}

}  // namespace
}  // namespace amc::store
