// The poller's watches of a workflow id (amc_watch with "workflow_id"): runs
// that AMC starts on its own (a schedule) reported as they appear. Each
// watch remembers the executions of its workflow it has seen and their
// statuses; a listing of the workflow's executions (its own list read with
// workflowId and minCreationTime, or an instance-wide list the batcher made
// for the watches of the same instance) tells it which executions are new
// and which changed status.
//
// What counts as new: an execution of the workflow created at or after the
// watch's floor, which starts at `since` (the host's resume point; by
// default the time of amc_watch) and moves up to an hour behind the host's
// clock as time goes by, so that the lists stay short and the executions
// remembered few (AMC lists a run within seconds of creating it).
// Executions created before the floor are never reported, nor are their
// status changes.
//
// Plain data with no clock, thread or I/O: the poller guards it with its
// mutex, passes the time in and turns the changes into events.
#pragma once

#include "poll/status_source.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace amc::poll {

// How far behind the host's clock the floor of new executions may move:
// an execution that AMC first lists later than this after its createTime is
// not reported (see the file comment).
inline constexpr std::int64_t new_execution_lookback_seconds = 3600;

// What one listing changed for one workflow watch, oldest execution first:
// events without "watch_id" (the poller adds it), and whether any execution
// still tracked is PUBLISHING (read again soon).
struct workflow_changes {
  std::vector<nlohmann::json> events;
  bool publishing = false;
};

class workflow_watches {
 public:
  // A watch in slot `index` (generation `generation`) of the watch table,
  // on `workflow_id`; executions created at or after `since` (unix seconds)
  // are new. Replaces what an earlier watch of the slot left.
  void add(std::uint32_t index, std::uint32_t generation, std::string workflow_id, std::int64_t since);
  // Whether slot `index` holds this watch (of this generation).
  bool has(std::uint32_t index, std::uint32_t generation) const;
  void remove(std::uint32_t index) { records_.erase(index); }
  const std::string& workflow_id(std::uint32_t index) const { return records_.at(index).workflow_id; }

  // The minCreationTime (unix seconds) the next list of the watch must
  // start at: its floor, or the createTime of the oldest execution it still
  // follows, whichever is older.
  std::int64_t list_since(std::uint32_t index) const;

  // Applies a listing (flat executions, any workflow: others are skipped)
  // read at `now` (unix seconds, host clock): new executions and status
  // changes as events, "terminal" false (a workflow watch ends only by
  // unwatch or a final error). `phase_of` says what a status means.
  workflow_changes apply(std::uint32_t index, const nlohmann::json& executions, std::int64_t now,
                         const std::function<read_phase(std::string_view)>& phase_of);

  // The slots of every watch, for a pass over them (the caller checks each
  // with has() or drops it with remove()).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> watches() const;

  std::uint64_t new_executions() const { return new_executions_; }

 private:
  struct tracked {
    std::int64_t create_time = 0;
    std::string status;
    bool finished = false;
  };
  struct record {
    std::uint32_t generation = 0;
    std::string workflow_id;
    std::int64_t floor = 0;  // executions created before it are not new
    std::unordered_map<std::string, tracked> executions;
  };

  std::unordered_map<std::uint32_t, record> records_;
  std::uint64_t new_executions_ = 0;
};

}  // namespace amc::poll
