#include "poll/workflow_watches.hpp"

#include "common/time.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace amc::poll {

using nlohmann::json;

void workflow_watches::add(std::uint32_t index, std::uint32_t generation, std::string workflow_id,
                           std::int64_t since) {
  record added;
  added.generation = generation;
  added.workflow_id = std::move(workflow_id);
  added.floor = since;
  records_[index] = std::move(added);
}

bool workflow_watches::has(std::uint32_t index, std::uint32_t generation) const {
  const auto found = records_.find(index);
  return found != records_.end() && found->second.generation == generation;
}

std::int64_t workflow_watches::list_since(std::uint32_t index) const {
  const auto& watch = records_.at(index);
  std::int64_t since = watch.floor;
  for (const auto& [id, execution] : watch.executions)
    if (!execution.finished && execution.create_time > 0) since = std::min(since, execution.create_time);
  return std::max<std::int64_t>(since, 1);
}

workflow_changes workflow_watches::apply(std::uint32_t index, const json& executions, std::int64_t now,
                                         const std::function<read_phase(std::string_view)>& phase_of) {
  auto& watch = records_.at(index);
  workflow_changes changes;
  for (const auto& execution : executions) {
    if (!execution.is_object()) continue;
    const auto workflow = execution.find("workflowId");
    if (workflow == execution.end() || !workflow->is_string() ||
        workflow->get_ref<const std::string&>() != watch.workflow_id)
      continue;
    const auto id = execution.find("workflowExecutionId");
    const auto status = execution.find("status");
    if (id == execution.end() || !id->is_string() || status == execution.end() || !status->is_string()) continue;
    const std::string& execution_id = id->get_ref<const std::string&>();
    const std::string& status_text = status->get_ref<const std::string&>();
    const bool finished = phase_of(status_text) == read_phase::terminal;
    json event;
    if (auto known = watch.executions.find(execution_id); known != watch.executions.end()) {
      if (known->second.status == status_text) continue;
      event = {{"event", "status"}, {"previous_status", known->second.status}};
      known->second.status = status_text;
      known->second.finished = finished;
    } else {
      std::int64_t created = 0;
      if (const auto time = execution.find("createTime"); time != execution.end() && time->is_string())
        created = parse_utc(time->get_ref<const std::string&>()).value_or(0);
      // Before the floor: it existed before the watch (or was let go of):
      // neither it nor its later changes are reported.
      if (created < watch.floor) continue;
      watch.executions.emplace(execution_id, tracked{created, status_text, finished});
      ++new_executions_;
      event = {{"event", "new_execution"}, {"previous_status", nullptr}};
    }
    event["workflow_id"] = watch.workflow_id;
    event["amc_execution_id"] = execution_id;
    event["status"] = status_text;
    event["terminal"] = false;
    event["execution_terminal"] = finished;
    event["execution"] = execution;
    changes.events.push_back(std::move(event));
  }
  // The floor follows the clock (at most new_execution_lookback_seconds
  // behind it); finished executions below it are let go of: a later list
  // that shows them again finds them below the floor.
  watch.floor = std::max(watch.floor, now - new_execution_lookback_seconds);
  std::erase_if(watch.executions, [&](const auto& item) {
    return item.second.finished && item.second.create_time < watch.floor;
  });
  for (const auto& [id, execution] : watch.executions)
    if (!execution.finished && phase_of(execution.status) == read_phase::publishing) changes.publishing = true;
  return changes;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> workflow_watches::watches() const {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> all;
  all.reserve(records_.size());
  for (const auto& [index, watch] : records_) all.emplace_back(index, watch.generation);
  return all;
}

}  // namespace amc::poll
