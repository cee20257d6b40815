#include "store/backend.hpp"
#include "store/execution_journal.hpp"

#include "common/error.hpp"

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
  EXPECT_TRUE(backend.read()["executions"].contains("exec_unreadable"));
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

// Issue 12 item 1: numbers read from the store are range-checked. A
// damaged entry (a time out of range, a field of the wrong type) is refused
// on its own, by execution id, and every other entry keeps working.
TEST(ExecutionJournal, ADamagedEntryIsRefusedOnItsOwn) {
  memory_backend backend;
  execution_journal journal(backend);
  const auto now = now_unix_seconds();
  write_entry(backend, "exec_fine", format_utc(now));
  write_entry(backend, "exec_far_past", "-31821-01-01T00:00:00Z");
  write_entry(backend, "exec_year_zero", "0000-01-01T00:00:00Z");
  backend.update([](nlohmann::json& document) {
    document["executions"]["exec_wrong_type"] = {{"amc_execution_id", 42}};
    return true;
  });
  for (const std::string id : {"exec_far_past", "exec_year_zero", "exec_wrong_type"}) {
    try {
      journal.find(id);
      ADD_FAILURE() << id << " was read as if it were fine";
    } catch (const error& problem) {
      EXPECT_EQ(problem.code_value(), errc::store) << id;
      EXPECT_NE(problem.message().find("'" + id + "'"), std::string::npos) << problem.message();
    }
  }
  EXPECT_EQ(journal.find("exec_fine")->started_at, now);
  EXPECT_TRUE(journal.is_claimed("amc-exec_fine", "other"));
  EXPECT_FALSE(journal.is_claimed("42", "other"));
  EXPECT_TRUE(journal.begin(entry_started_at("exec_next", now)).second);
  // Times that would not read back are never written.
  EXPECT_THROW(journal.mark_sending("exec_next", 1'000'000'000'000'000), error);
  EXPECT_EQ(journal.find("exec_next")->started_at, now);
}

}  // namespace
}  // namespace amc::store
