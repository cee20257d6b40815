#include "store/backend.hpp"
#include "store/execution_journal.hpp"

#include <gtest/gtest.h>

namespace amc::store {
namespace {

journal_entry entry_started_at(const std::string& id, unix_seconds when) {
  journal_entry entry;
  entry.execution_id = id;
  entry.instance_id = "amcinst";
  entry.workflow_id = "wf_daily";
  entry.amc_execution_id = "amc-" + id;
  entry.fingerprint = "fp";
  entry.started_at = when;
  return entry;
}

TEST(ExecutionJournal, TheSameIdReattachesWithinTheRetention) {
  memory_backend backend;
  execution_journal journal(backend, std::chrono::hours(24));
  const auto first = entry_started_at("exec_1", now_unix_seconds() - 3600);
  EXPECT_TRUE(journal.begin(first).second);
  auto again = first;
  again.amc_execution_id.clear();
  const auto [found, is_new] = journal.begin(again);
  EXPECT_FALSE(is_new);
  EXPECT_EQ(found.amc_execution_id, "amc-exec_1");
}

// Entries as an earlier run (or another process) left them in the store.
void write_entry(memory_backend& backend, const std::string& id, const std::string& started_at) {
  backend.update([&](nlohmann::json& document) {
    document["executions"][id] = {{"instance_id", "amcinst"},
                                  {"workflow_id", "wf_daily"},
                                  {"amc_execution_id", "amc-" + id},
                                  {"fingerprint", "fp"},
                                  {"started_at", started_at}};
    return true;
  });
}

TEST(ExecutionJournal, EntriesOlderThanTheRetentionAreDroppedAtTheNextSubmit) {
  memory_backend backend;
  execution_journal journal(backend, std::chrono::hours(24 * 30));
  const auto now = now_unix_seconds();
  write_entry(backend, "exec_old", format_utc(now - 31 * 86400));
  write_entry(backend, "exec_recent", format_utc(now - 29 * 86400));
  // A damaged time is kept: dropping it could make a retried task run twice.
  write_entry(backend, "exec_unreadable", "yesterday");
  ASSERT_TRUE(journal.find("exec_old"));

  EXPECT_TRUE(journal.begin(entry_started_at("exec_new", now)).second);
  EXPECT_FALSE(journal.find("exec_old")) << "past the retention";
  EXPECT_TRUE(journal.find("exec_recent"));
  EXPECT_TRUE(journal.find("exec_unreadable"));
  EXPECT_TRUE(journal.find("exec_new"));

  // An id reused after its entry expired is a new submission, not a reattach.
  write_entry(backend, "exec_reused", format_utc(now - 40 * 86400));
  const auto [entry, is_new] = journal.begin(entry_started_at("exec_reused", now));
  EXPECT_TRUE(is_new);
  EXPECT_EQ(entry.started_at, now);
}

TEST(ExecutionJournal, PruningNeverTouchesTheCredentials) {
  memory_backend backend;
  backend.update([](nlohmann::json& document) {
    document["credentials"]["conn"] = {{"state", "active"}};
    return true;
  });
  execution_journal journal(backend, std::chrono::hours(1));
  journal.begin(entry_started_at("exec_old", now_unix_seconds() - 7200));
  journal.begin(entry_started_at("exec_new", now_unix_seconds()));
  const auto document = backend.read();
  EXPECT_EQ(document["credentials"]["conn"]["state"], "active");
  EXPECT_EQ(document["executions"].size(), 1u);
}

}  // namespace
}  // namespace amc::store
