#include "poll/batcher.hpp"

#include <algorithm>
#include <limits>
#include <string>

namespace amc::poll {

batcher::group_lists& batcher::lists(std::uint32_t group) {
  if (group >= lists_.size()) lists_.resize(static_cast<std::size_t>(group) + 1);
  return lists_[group];
}

bool batcher::still_picked(const watch_table& watches, const watch_ref& watch) {
  const auto& [index, generation] = watch;
  const auto& slot = watches.slot(index);
  return (slot.flags & alive) && slot.generation == generation && (slot.flags & in_list) &&
         !(slot.flags & final_queued);
}

std::optional<list_read> batcher::plan_list(watch_table& watches, std::uint32_t index, std::int64_t now) {
  const auto& slot = watches.slot(index);
  if (slot.create_time == 0 || slot.group == none) return std::nullopt;
  auto& group = lists(slot.group);
  const auto& members = watches.group(slot.group).members;
  if (group.list_in_flight || members.size() < 2 || now < group.next_batch_check_ms ||
      now < group.single_reads_until_ms)
    return std::nullopt;
  list_read read;
  read.group = slot.group;
  std::int64_t min_create = std::numeric_limits<std::int64_t>::max();
  for (const auto member : members) {
    const auto& candidate = watches.slot(member);
    if (candidate.flags & (in_flight | final_queued)) continue;
    if (candidate.create_time == 0) continue;
    // Due now, or within half its interval: a read soon anyway.
    if (candidate.due_ms - now > static_cast<std::int64_t>(candidate.interval_ms / 2) && member != index) continue;
    read.picked.emplace_back(member, candidate.generation);
    min_create = std::min(min_create, candidate.create_time);
  }
  const std::size_t estimate = group.last_list_min != 0 && group.last_list_min <= min_create
                                   ? std::max(group.last_listed, read.picked.size())
                                   : read.picked.size();
  if (!list_is_cheaper(settings_, estimate, read.picked.size())) {
    // Look again only after a while: scanning a large group for every
    // single read would cost more than the reads.
    group.next_batch_check_ms = now + std::max<std::int64_t>(settings_.first_interval.count(), 1);
    return std::nullopt;
  }
  for (const auto& [member, generation] : read.picked) watches.slot(member).flags |= in_flight | in_list;
  group.list_in_flight = true;
  read.min_create = min_create;
  return read;
}

void batcher::list_ended(std::uint32_t group, long pages) {
  lists(group).list_in_flight = false;
  list_requests_ += static_cast<std::uint64_t>(pages);
}

void batcher::apply_listing(watch_table& watches, const list_read& read, const nlohmann::json& executions,
                            list_outcome& outcome) {
  ++batched_reads_;
  auto& group = lists(read.group);
  group.last_listed = executions.size();
  group.last_list_min = read.min_create;
  for (const auto& execution : executions) {
    if (!execution.is_object()) continue;
    const auto id = execution.find("workflowExecutionId");
    if (id == execution.end() || !id->is_string()) continue;
    for (auto index = watches.find_execution(id->get_ref<const std::string&>()); index != none;) {
      const auto next = watches.slot(index).next_same;
      const auto& slot = watches.slot(index);
      // Watches not picked for this list are refreshed too, unless a
      // read of theirs is under way.
      const bool refreshable = slot.group == read.group && (slot.flags & alive) && !(slot.flags & final_queued) &&
                               ((slot.flags & in_list) || !(slot.flags & in_flight));
      if (refreshable) {
        ++refreshed_by_lists_;
        outcome.refreshed(index, execution);
      }
      index = next;
    }
  }
  // Picked but not listed: read it on its own next time.
  for (const auto& watch : read.picked)
    if (still_picked(watches, watch)) {
      auto& slot = watches.slot(watch.first);
      slot.flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
      slot.create_time = 0;
      outcome.read_now(watch.first);
    }
}

void batcher::apply_failure(watch_table& watches, const list_read& read, const error& failure,
                            list_outcome& outcome) {
  for (const auto& watch : read.picked)
    if (still_picked(watches, watch)) outcome.failed(watch.first, failure);
}

std::size_t batcher::fall_back(watch_table& watches, const list_read& read, std::int64_t until_ms,
                               list_outcome& outcome) {
  ++list_fallbacks_;
  lists(read.group).single_reads_until_ms = until_ms;
  std::size_t handed = 0;
  for (const auto& watch : read.picked)
    if (still_picked(watches, watch)) {
      watches.slot(watch.first).flags &= static_cast<std::uint8_t>(~(in_flight | in_list));
      outcome.read_now(watch.first);
      ++handed;
    }
  return handed;
}

void batcher::release_waiting(watch_table& watches, std::uint32_t group, std::int64_t now,
                              std::int64_t paused_until_ms, list_outcome& outcome) {
  for (const auto& [index, generation] : std::exchange(lists(group).waiting_for_list, {})) {
    const auto& slot = watches.slot(index);
    const bool refreshed = slot.due_ms > now;
    if ((slot.flags & alive) && slot.generation == generation && !(slot.flags & (in_flight | final_queued)) &&
        !refreshed)
      outcome.read_at(index, std::max(now, paused_until_ms));
  }
}

}  // namespace amc::poll
