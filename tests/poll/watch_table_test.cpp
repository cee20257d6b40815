// The poller's watch table on its own: execution ids kept compactly and given
// back exactly, several watches of one execution, groups per credential and
// instance, slot reuse under a new generation, interned statuses, run
// histories and the due queue.
#include "poll/watch_table.hpp"

#include "common/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace amc::poll {
namespace {

call_context context_of(std::string credential, std::string instance) {
  call_context context;
  context.credential_id = std::move(credential);
  context.instance_id = std::move(instance);
  context.advertiser_id = "ENTITY1";
  context.marketplace_id = "ATVPDKIKX0DER";
  return context;
}

std::uint32_t add(watch_table& table, std::string_view amc_id, const call_context& context,
                  std::string_view execution_id = {}) {
  return table.add({.context = context, .amc_execution_id = amc_id, .execution_id = execution_id});
}

// Every watch of the execution `amc_id`, from the table's id map.
std::vector<std::uint32_t> watches_of(const watch_table& table, std::string_view amc_id) {
  std::vector<std::uint32_t> found;
  for (auto index = table.find_execution(amc_id); index != none; index = table.slot(index).next_same)
    found.push_back(index);
  return found;
}

TEST(WatchTable, GivesEveryExecutionIdBackExactly) {
  watch_table table;
  const auto context = context_of("c", "amcinstance1");
  const std::vector<std::string> ids = {"0f3c7a2e-1b4d-4e8f-9a6b-5c2d1e0f9a8b", "0F3C7A2E-1B4D-4E8F-9A6B-5C2D1E0F9A8B",
                                        "0f3c7a2e-1B4d-4e8f-9a6b-5c2d1e0f9a8b", "not-a-uuid", "exec_1234"};
  for (const auto& id : ids) {
    const auto index = add(table, id, context);
    EXPECT_EQ(table.execution_text(table.slot(index)), id);
  }
  EXPECT_EQ(table.watched(), ids.size());
  // A UUID is kept as 16 bytes and the case it was written in; both cases
  // name one execution (a list's entry refreshes both watches).
  EXPECT_FALSE(table.slot(0).flags & (textual_id | upper_hex));
  EXPECT_TRUE(table.slot(1).flags & upper_hex);
  EXPECT_EQ(watches_of(table, ids[0]), (std::vector<std::uint32_t>{1, 0}));
  // Mixed case cannot be given back from 16 bytes: kept as text.
  EXPECT_TRUE(table.slot(2).flags & textual_id);
  EXPECT_EQ(watches_of(table, ids[2]), std::vector<std::uint32_t>{2});
  EXPECT_EQ(watches_of(table, "exec_1234"), std::vector<std::uint32_t>{4});
}

TEST(WatchTable, KeepsEveryWatchOfOneExecutionAndDetachesAnyOfThem) {
  watch_table table;
  const auto context = context_of("c", "amcinstance1");
  const std::string id = "0f3c7a2e-1b4d-4e8f-9a6b-5c2d1e0f9a8b";
  const auto first = add(table, id, context);
  const auto second = add(table, id, context);
  const auto third = add(table, id, context);
  EXPECT_EQ(watches_of(table, id), (std::vector<std::uint32_t>{third, second, first}));
  table.detach(second);  // from the middle
  EXPECT_EQ(watches_of(table, id), (std::vector<std::uint32_t>{third, first}));
  table.detach(third);  // the head
  EXPECT_EQ(watches_of(table, id), std::vector<std::uint32_t>{first});
  table.detach(first);
  EXPECT_EQ(table.find_execution(id), none);
  EXPECT_EQ(table.find_execution("exec_unknown"), none);
}

TEST(WatchTable, GroupsWatchesByCredentialAndInstance) {
  watch_table table;
  const auto a = add(table, "exec_a", context_of("c1", "amcinstance1"));
  const auto b = add(table, "exec_b", context_of("c1", "amcinstance1"));
  const auto c = add(table, "exec_c", context_of("c2", "amcinstance1"));
  const auto d = add(table, "exec_d", context_of("c1", "amcinstance2"));
  EXPECT_EQ(table.slot(a).group, table.slot(b).group);
  EXPECT_NE(table.slot(a).group, table.slot(c).group);
  EXPECT_NE(table.slot(a).group, table.slot(d).group);
  const auto& group = table.group(table.slot(a).group);
  EXPECT_EQ(group.members, (std::vector<std::uint32_t>{a, b}));
  EXPECT_EQ(group.context.credential_id, "c1");
  EXPECT_TRUE(group.context.instance_checked);
  // Detaching moves the last member into the freed position.
  const auto e = add(table, "exec_e", context_of("c1", "amcinstance1"));
  table.detach(a);
  EXPECT_EQ(table.group(table.slot(b).group).members, (std::vector<std::uint32_t>{e, b}));
  EXPECT_EQ(table.slot(e).member_position, 0u);
  EXPECT_EQ(table.slot(a).group, none);
}

TEST(WatchTable, ReusesAFreedSlotUnderANewGeneration) {
  watch_table table;
  const auto context = context_of("c", "amcinstance1");
  const auto index = add(table, "exec_1", context, "our_1");
  ASSERT_NE(table.journal_text(table.slot(index)), nullptr);
  EXPECT_EQ(*table.journal_text(table.slot(index)), "our_1");
  const auto generation = table.slot(index).generation;
  EXPECT_TRUE(table.is_current(index, generation));
  table.detach(index);
  table.release(index);
  EXPECT_FALSE(table.is_current(index, generation));
  EXPECT_EQ(table.watched(), 0u);
  const auto again = add(table, "exec_2", context);
  EXPECT_EQ(again, index);
  EXPECT_EQ(table.slot(again).generation, generation + 1);
  EXPECT_EQ(table.journal_text(table.slot(again)), nullptr);
  EXPECT_EQ(table.execution_text(table.slot(again)), "exec_2");
  EXPECT_NE(watch_id_of(index, generation), watch_id_of(again, table.slot(again).generation));
  EXPECT_FALSE(table.is_current(table.slot_count(), 1));
}

TEST(WatchTable, InternsStatusesAndSharesAdHocHistories) {
  watch_table table;
  EXPECT_EQ(table.status_text(0), "");
  const auto running = table.intern_status("RUNNING");
  EXPECT_NE(running, 0);
  EXPECT_EQ(table.intern_status("RUNNING"), running);
  EXPECT_NE(table.intern_status("PENDING"), running);
  EXPECT_EQ(table.status_text(running), "RUNNING");
  // AMC's ad-hoc runs get a fresh transient_… workflow id each: they share
  // the group's ad-hoc history.
  EXPECT_EQ(table.history_of(0, "transient_1"), table.history_of(0, "transient_2"));
  EXPECT_EQ(table.history_of(0, "transient_1"), table.history_of(0, ""));
  EXPECT_NE(table.history_of(0, "wf_a"), table.history_of(0, "wf_b"));
  EXPECT_NE(table.history_of(0, "wf_a"), table.history_of(1, "wf_a"));
  table.history(table.history_of(0, "wf_a")).samples = 3;
  EXPECT_EQ(table.history(table.history_of(0, "wf_a")).samples, 3u);
}

TEST(WatchTable, OrdersReadsByDueTimeAndSkipsStaleEntries) {
  watch_table table;
  const auto context = context_of("c", "amcinstance1");
  const auto a = add(table, "exec_a", context);
  const auto b = add(table, "exec_b", context);
  table.schedule(a, 300);
  table.schedule(b, 200);
  table.schedule(a, 100);  // rescheduled: its entry at 300 is stale
  std::vector<std::uint32_t> order;
  while (table.has_due()) {
    const heap_entry entry = table.first_due();
    table.pop_due();
    if (table.is_readable(entry)) order.push_back(entry.slot);
  }
  EXPECT_EQ(order, (std::vector<std::uint32_t>{a, b}));
  // A watch in flight, or whose last event is queued, is not read.
  table.schedule(a, 10);
  table.slot(a).flags |= in_flight;
  EXPECT_FALSE(table.is_readable(table.first_due()));
}

TEST(WatchTable, KeepsTheDueQueueNearOneEntryAWatch) {
  watch_table table;
  const auto index = add(table, "exec_a", call_context{});
  for (int due = 0; due < 5000; ++due) table.schedule(index, due);
  std::size_t entries = 0;
  while (table.has_due()) {
    table.pop_due();
    ++entries;
  }
  EXPECT_LE(entries, 2u * table.watched() + 1024);
}

}  // namespace
}  // namespace amc::poll
