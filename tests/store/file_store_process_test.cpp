// The file store with real processes: concurrent writers never lose each
// other's updates, and a crash at any point of a write (kill -9, or an abort
// just before the rename) leaves a readable store.
#include "store/credential_store.hpp"
#include "store/store_config.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <random>
#include <thread>

namespace amc::store {
namespace {

using amc::testing::generate_fernet_key;
using amc::testing::read_file;
using amc::testing::run_process;
using amc::testing::spawn_process;
using amc::testing::temporary_directory;

class FileStoreProcesses : public ::testing::Test {
 protected:
  std::string path() const { return (directory_.path() / "creds.json").string(); }
  std::string key_environment() const { return "AMC_FERNET_KEYS=" + key_; }
  std::unique_ptr<credential_store> open() {
    return open_store({{"path", path()}, {"fernet_keys", key_}});
  }
  temporary_directory directory_;
  std::string key_ = generate_fernet_key();
};

TEST_F(FileStoreProcesses, ConcurrentWritersLoseNothing) {
  constexpr int writers = 4;
  constexpr int records_each = 40;
  std::vector<int> children;
  for (int writer = 0; writer < writers; ++writer)
    children.push_back(spawn_process({AMC_TEST_TOOL_PATH, "store-put-many", path(),
                                      "writer" + std::to_string(writer),
                                      std::to_string(records_each)},
                                     {key_environment()}));
  // And threads of this process write at the same time.
  std::vector<std::thread> threads;
  for (int thread = 0; thread < 2; ++thread)
    threads.emplace_back([this, thread] {
      auto store = open();
      for (int i = 0; i < records_each; ++i) {
        credential_update update;
        update.credential_id = "thread" + std::to_string(thread) + "-" + std::to_string(i);
        update.client_id = "amzn1.application-oa2-client.test";
        update.refresh_token = "Atzr|refresh-" + update.credential_id;
        store->put(update);
      }
    });
  for (auto& thread : threads) thread.join();
  for (const int child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto store = open();
  const auto records = store->list();
  EXPECT_EQ(records.size(), static_cast<std::size_t>((writers + 2) * records_each));
  for (const auto& record : records) {
    const auto full = store->get(record.credential_id, true);
    EXPECT_TRUE(full.refresh_token == "Atzr|refresh-" + record.credential_id);
  }
}

TEST_F(FileStoreProcesses, KillNineMidWriteNeverCorruptsTheFile) {
  std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<int> delay_ms{5, 60};
  for (int round = 0; round < 15; ++round) {
    const int child =
        spawn_process({AMC_TEST_TOOL_PATH, "store-churn", path()}, {key_environment()});
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer should have been killed mid-run";
    if (!std::filesystem::exists(path())) continue;  // killed before its first write
    // Parses, and every record decrypts.
    const auto check = run_process({AMC_TEST_TOOL_PATH, "store-check", path()}, {key_environment()});
    ASSERT_EQ(check.exit_code, 0) << "round " << round << ": the store is damaged";
  }
  // The next writer clears temporaries that killed writers left behind.
  open()->put({"after", "amzn1.client", "Atzr|x", {}, {}, {}, {}});
  for (const auto& entry : std::filesystem::directory_iterator(directory_.path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos)
        << entry.path();
}

TEST_F(FileStoreProcesses, FailureBeforeRenameLeavesTheStoreAsItWas) {
  if (!AMC_TEST_HAS_FAILPOINTS)
    GTEST_SKIP() << "needs fail points: configure with -DAMC_FAILPOINTS=ON (as .ci/build.sh does)";
  ASSERT_EQ(run_process({AMC_TEST_TOOL_PATH, "store-put", path(), "first", "amzn1.client"},
                        {key_environment()}, "Atzr|first")
                .exit_code,
            0);
  const auto before = read_file(path());
  for (const std::string action : {"throw", "abort"}) {
    const auto failed =
        run_process({AMC_TEST_TOOL_PATH, "store-put", path(), "second", "amzn1.client"},
                    {key_environment(), "AMC_FAILPOINTS=store.before_rename=" + action},
                    "Atzr|second");
    EXPECT_TRUE(failed.exit_code != 0 || failed.signal_number != 0) << action;
    EXPECT_EQ(read_file(path()), before) << action;
  }
  auto store = open();
  EXPECT_EQ(store->list().size(), 1u);
  EXPECT_TRUE(store->get("first", true).refresh_token == "Atzr|first");
}

}  // namespace
}  // namespace amc::store
