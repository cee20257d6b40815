// The simulated life of one workflow execution: what its plan is (from the
// scenarios and the `-- sandbox:` markers in its SQL) and what its status is
// at a given time. Status is computed from the clock on every read, so the
// sandbox needs no timers and a run's history is reproducible.
#pragma once

#include "sandbox/options.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amc::sandbox {

// `unlisted` is a status outside the spec's enum (the plan names it), for
// testing that clients keep waiting through a status they do not know.
enum class execution_phase { pending, running, publishing, succeeded, failed, cancelled, rejected, unlisted };

std::string_view to_string(execution_phase phase);
bool is_terminal(execution_phase phase);

struct execution_plan {
  double pending_seconds = 60;
  double running_seconds = 900;
  double publishing_seconds = 10;
  std::string outcome = "SUCCEEDED";
  std::string reason;
  int parts = 1;
  long rows = 100;
  // Marker `status=NAME for=DURATION`: between PENDING and RUNNING the
  // execution reports NAME for that long (simulated), then goes on as usual.
  std::string unlisted_status;
  double unlisted_seconds = 0;
  // Marker `quoted_newlines`: some text values of the results hold a line
  // break (quoted), for clients that must not count rows by lines.
  bool quoted_newlines = false;
};

// Picks the scenario (named by a marker, else the first whose workflow id
// and SQL match, else the default) and applies the SQL markers on top.
// Throws std::invalid_argument for a marker that cannot be read.
execution_plan plan_execution(std::string_view workflow_id, std::string_view sql, const scenario& default_scenario,
                              const std::vector<scenario>& scenarios);

struct execution_timing {
  double created = 0;  // unix seconds (sandbox clock)
  double time_scale = 1;
  long timeout_seconds = 86400;
  bool dry_run = false;
  std::optional<double> cancelled_at;
};

struct execution_status {
  execution_phase phase = execution_phase::pending;
  double since = 0;  // unix seconds when this phase began
  std::string_view reason;  // statusReason, empty when none
};

execution_status status_at(const execution_plan& plan, const execution_timing& timing, double now);

}  // namespace amc::sandbox
