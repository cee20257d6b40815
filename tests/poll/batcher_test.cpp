// The batcher on its own, over a watch table and without a network: which
// watches one list read picks and when single reads stay cheaper, what a
// list's answer does to every watch of the group (refreshed, read on its
// own, failed), and the watches that waited for a list.
#include "poll/batcher.hpp"

#include "common/error.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace amc::poll {
namespace {

using nlohmann::json;

// What the batcher asked the poller to do. A refreshed watch's read is
// over, as the poller's apply_execution() makes it.
struct recorded_outcome final : list_outcome {
  explicit recorded_outcome(watch_table& table_in) : table(table_in) {}
  watch_table& table;
  std::vector<std::pair<std::uint32_t, std::string>> refreshed_with;  // watch, status
  std::vector<std::pair<std::uint32_t, errc>> failures;
  std::map<std::uint32_t, std::int64_t> reads;  // watch → due (-1: now)

  void refreshed(std::uint32_t index, const json& execution) override {
    table.slot(index).flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
    refreshed_with.emplace_back(index, execution.at("status").get<std::string>());
  }
  void failed(std::uint32_t index, const error& failure) override { failures.emplace_back(index, failure.code_value()); }
  void read_at(std::uint32_t index, std::int64_t due_ms) override { reads[index] = due_ms; }
  void read_now(std::uint32_t index) override { reads[index] = -1; }
};

struct BatcherTest : ::testing::Test {
  poll_settings settings;
  watch_table table;
  call_context context;

  BatcherTest() {
    context.credential_id = "c";
    context.instance_id = "amcinstance1";
  }

  // A watch of the group, created at `create_time` (0: unknown), due at
  // `due_ms` with `interval_ms`.
  std::uint32_t watch(const std::string& id, std::int64_t create_time, std::int64_t due_ms,
                      std::uint32_t interval_ms = 10'000, const call_context* other = nullptr) {
    const auto index = table.add({.context = other ? *other : context,
                                  .amc_execution_id = id,
                                  .create_time = create_time,
                                  .interval_ms = interval_ms});
    table.schedule(index, due_ms);
    return index;
  }

  static std::vector<std::uint32_t> slots_of(const list_read& read) {
    std::vector<std::uint32_t> slots;
    for (const auto& [slot, generation] : read.picked) slots.push_back(slot);
    return slots;
  }
};

json listed(const std::string& id, const std::string& status) {
  return {{"workflowExecutionId", id}, {"status", status}};
}

TEST_F(BatcherTest, PicksTheWatchesOfTheGroupDueSoonAndMarksThemInAList) {
  batcher batches(settings);
  const auto a = watch("exec_a", 1'000, 0);
  const auto b = watch("exec_b", 900, 4'000);    // within half its interval
  const auto c = watch("exec_c", 800, 6'000);    // not yet
  const auto d = watch("exec_d", 0, 0);          // createTime unknown: a GET
  const auto e = watch("exec_e", 700, 0);
  table.slot(e).flags |= in_flight;              // being read already
  auto read = batches.plan(table, a, 0);
  ASSERT_TRUE(read);
  EXPECT_EQ(slots_of(*read), (std::vector<std::uint32_t>{a, b}));
  EXPECT_EQ(read->min_create, 900);
  EXPECT_EQ(read->group, table.slot(a).group);
  for (const auto index : {a, b}) EXPECT_EQ(table.slot(index).flags & (in_flight | in_list), in_flight | in_list);
  EXPECT_FALSE(table.slot(c).flags & in_flight);
  EXPECT_FALSE(table.slot(d).flags & in_flight);
  // One list at a time per group: a due watch waits for it.
  EXPECT_FALSE(batches.plan(table, c, 6'000));
  EXPECT_TRUE(batches.wait_for_list(table, c));
  EXPECT_FALSE(batches.wait_for_list(table, d));  // a GET does not wait
}

TEST_F(BatcherTest, SingleReadsWhenTheyAreCheaper) {
  settings.list_page_size = 1;  // a list request per listed execution
  batcher batches(settings);
  const auto a = watch("exec_a", 1'000, 0);
  watch("exec_b", 1'000, 0);
  EXPECT_FALSE(batches.plan(table, a, 0));
  EXPECT_FALSE(table.slot(a).flags & in_flight);
  // Two executions on one page: one list request instead of two GETs.
  batcher roomy(poll_settings{});
  EXPECT_TRUE(roomy.plan(table, a, 0));
}

TEST_F(BatcherTest, NothingWithoutBatchingOrWithOneWatch) {
  settings.batching = false;
  batcher off(settings);
  const auto a = watch("exec_a", 1'000, 0);
  EXPECT_FALSE(off.plan(table, a, 0));
  batcher on(poll_settings{});
  EXPECT_FALSE(on.plan(table, a, 0));  // alone in its group
  call_context elsewhere = context;
  elsewhere.instance_id = "amcinstance2";
  watch("exec_b", 1'000, 0, 10'000, &elsewhere);
  EXPECT_FALSE(on.plan(table, a, 0));  // another group
}

TEST_F(BatcherTest, AListRefreshesEveryWatchItListsAndTheUnlistedAreReadOnTheirOwn) {
  batcher batches(settings);
  const auto a = watch("exec_a", 1'000, 0);
  const auto b = watch("exec_b", 1'000, 0);
  const auto late = watch("exec_late", 1'000, 50'000);  // not picked, not in flight
  const auto busy = watch("exec_busy", 1'000, 50'000);  // not picked, a GET under way
  const auto twin = watch("exec_a", 1'000, 50'000);     // a second watch of exec_a
  auto read = batches.plan(table, a, 0);
  ASSERT_TRUE(read);
  ASSERT_EQ(slots_of(*read), (std::vector<std::uint32_t>{a, b}));
  table.slot(busy).flags |= in_flight;
  batches.list_ended(read->group, 2);
  recorded_outcome outcome(table);
  const json executions = {listed("exec_a", "RUNNING"), listed("exec_late", "PENDING"),
                           listed("exec_busy", "RUNNING"), listed("exec_other", "RUNNING"), "junk"};
  batches.apply_listing(table, *read, executions, outcome);
  EXPECT_EQ(outcome.refreshed_with,
            (std::vector<std::pair<std::uint32_t, std::string>>{{twin, "RUNNING"}, {a, "RUNNING"}, {late, "PENDING"}}));
  // b was picked but not listed: its createTime is forgotten and it is read
  // with a GET at once.
  EXPECT_EQ(outcome.reads, (std::map<std::uint32_t, std::int64_t>{{b, -1}}));
  EXPECT_EQ(table.slot(b).create_time, 0);
  EXPECT_FALSE(table.slot(b).flags & (in_flight | in_list));
  EXPECT_EQ(batches.list_requests(), 2u);
  EXPECT_EQ(batches.batched_reads(), 1u);
  EXPECT_EQ(batches.refreshed_by_lists(), 3u);
}

TEST_F(BatcherTest, AFailedListFailsTheReadOfEveryPickedWatch) {
  batcher batches(settings);
  const auto a = watch("exec_a", 1'000, 0);
  const auto b = watch("exec_b", 1'000, 0);
  auto read = batches.plan(table, a, 0);
  ASSERT_TRUE(read);
  table.slot(b).flags &= static_cast<std::uint8_t>(~alive);  // unwatched meanwhile
  batches.list_ended(read->group, 1);
  recorded_outcome outcome(table);
  batches.apply_failure(table, *read, error(errc::throttled, "slow down"), outcome);
  EXPECT_EQ(outcome.failures, (std::vector<std::pair<std::uint32_t, errc>>{{a, errc::throttled}}));
  EXPECT_EQ(batches.list_requests(), 1u);
  EXPECT_EQ(batches.batched_reads(), 0u);
  // The group may list again.
  table.slot(a).flags = alive;
  table.slot(b).flags = alive;
  EXPECT_TRUE(batches.plan(table, a, 0));
}

// Issue 23 kind 1: a list that never finished (too many pages, a repeated
// nextToken, past its time) hands every picked watch to a single read at
// once, and the group is not batched until the fallback ends; any other
// failure (a 429, a network error) stays a failed read of each watch.
TEST_F(BatcherTest, AListThatNeverFinishedHandsItsWatchesToSingleReadsForAWhile) {
  EXPECT_TRUE(batcher::never_finished(error(errc::protocol, "AMC's list did not end after 10 pages")));
  EXPECT_TRUE(batcher::never_finished(error(errc::timeout, "deadline of 15000 ms reached")));
  EXPECT_FALSE(batcher::never_finished(error(errc::throttled, "slow down")));
  EXPECT_FALSE(batcher::never_finished(error(errc::network, "reset")));
  batcher batches(settings);
  const auto a = watch("exec_a", 1'000, 0);
  const auto b = watch("exec_b", 1'000, 0);
  auto read = batches.plan(table, a, 0);
  ASSERT_TRUE(read);
  batches.list_ended(read->group, 10);
  recorded_outcome outcome(table);
  EXPECT_EQ(batches.fall_back(table, *read, 600'000, outcome), 2u);
  EXPECT_EQ(outcome.reads, (std::map<std::uint32_t, std::int64_t>{{a, -1}, {b, -1}}));
  EXPECT_TRUE(outcome.failures.empty());
  for (const auto index : {a, b}) EXPECT_FALSE(table.slot(index).flags & (in_flight | in_list));
  EXPECT_EQ(batches.list_fallbacks(), 1u);
  EXPECT_EQ(batches.list_requests(), 10u);
  // Single reads until the fallback ends, then lists again.
  EXPECT_FALSE(batches.plan(table, a, 599'999));
  EXPECT_FALSE(batches.wait_for_list(table, b));
  EXPECT_TRUE(batches.plan(table, a, 600'000));
}

TEST_F(BatcherTest, WatchesThatWaitedForAListAreReadAfterItUnlessItRefreshedThem) {
  batcher batches(settings);
  const auto a = watch("exec_a", 1'000, 0);
  const auto b = watch("exec_b", 1'000, 0);
  const auto c = watch("exec_c", 1'000, 60'000);
  const auto d = watch("exec_d", 1'000, 60'000);
  auto read = batches.plan(table, a, 0);
  ASSERT_TRUE(read);
  ASSERT_EQ(slots_of(*read), (std::vector<std::uint32_t>{a, b}));
  // c and d came due while the list was under way.
  table.schedule(c, 100);
  table.schedule(d, 100);
  EXPECT_TRUE(batches.wait_for_list(table, c));
  EXPECT_TRUE(batches.wait_for_list(table, d));
  table.schedule(d, 9'000);  // the list refreshed d: its next read is later
  recorded_outcome outcome(table);
  batches.list_ended(read->group, 1);
  batches.release_waiting(table, read->group, 1'000, 5'000, outcome);  // paused until 5 s
  EXPECT_EQ(outcome.reads, (std::map<std::uint32_t, std::int64_t>{{c, 5'000}}));
  recorded_outcome again(table);
  batches.release_waiting(table, read->group, 1'000, 0, again);
  EXPECT_TRUE(again.reads.empty());
}

}  // namespace
}  // namespace amc::poll
