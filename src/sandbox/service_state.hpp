// Everything the sandbox service owns, as data: the options in force, the
// clock, LwA's grants, tokens and codes, each instance's workflows and
// executions, the fault rules, and the traffic counters and request log.
// The request handlers (service_handlers.hpp) are handed this struct with
// the service's mutex held; nothing here locks.
#pragma once

#include "sandbox/execution_model.hpp"
#include "sandbox/execution_request_checks.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/operations.hpp"
#include "sandbox/options.hpp"
#include "sandbox/result_rows.hpp"
#include "sandbox/time_zone.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace amc::sandbox {

// Lookups by std::string_view without building a std::string (the token
// and id checks on every request).
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};
template <class Value>
using string_map = std::unordered_map<std::string, Value, string_hash, std::equal_to<>>;

// The sandbox clock: the wall clock moved by an offset (POST
// /_sandbox/clock/advance), or frozen at a time (clock/set with "frozen").
struct sandbox_clock {
  double offset_seconds = 0;
  std::optional<double> frozen;

  double now() const {
    if (frozen) return *frozen + offset_seconds;
    auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration<double>(since_epoch).count() + offset_seconds;
  }
};

// Login with Amazon: grants (one refresh token each), the access tokens
// issued from them and the consent codes not yet exchanged.
struct grant_record {
  std::string id;
  std::string client_id;
  std::string refresh_token;
  std::string scope;
  bool revoked = false;
  double created = 0;
};
struct access_token_record {
  std::string grant_id;
  std::string client_id;
  double expires_at = 0;
};
struct consent_code_record {
  std::string grant_client_id;
  std::string redirect_uri;
  std::string scope;
  double expires_at = 0;
};
struct lwa_records {
  string_map<grant_record> grants_by_id;
  string_map<std::string> grant_id_by_refresh_token;
  string_map<access_token_record> access_tokens;
  string_map<consent_code_record> consent_codes;

  // Stores a grant under its id and its refresh token.
  grant_record& add_grant(grant_record grant);
};

// AMC reporting: an instance's saved workflows and its executions.
struct workflow_record {
  nlohmann::json definition;
  std::uint64_t sequence = 0;
};
struct execution_record {
  std::string id;
  std::string instance_id;
  // Set for a run that AMC's scheduler started (schedule_handlers): the
  // schedule's id and aggregationPeriod (empty for an API-started run).
  std::string schedule_id;
  std::string schedule_period;
  // What the run is made of; a transient run gets its workflow_id here.
  checked_execution_request request;
  execution_plan plan;
  execution_timing timing;
  std::uint64_t sequence = 0;
  std::uint64_t data_seed = 0;
  // The status answer is the same between two phase changes, so it is
  // rendered once per phase and shape (the poll hot path): the whole
  // HTTP/1.1 keep-alive reply, its body from `body_offset` on.
  struct rendered_status {
    std::shared_ptr<const std::string> wire;
    std::size_t body_offset = 0;
  };
  mutable int cached_phase = -1;
  mutable std::array<rendered_status, 2> cached_status;
};
// An instance's schedule (service_schedules.cpp): AMC's Schedule object as
// stored, and when its next run falls due on the sandbox clock.
struct schedule_record {
  nlohmann::json definition;
  std::uint64_t sequence = 0;
  double anchor = 0;    // sandbox time its cadence counts from (create or last update)
  double next_run = 0;  // sandbox time of its next run; 0 while it is disabled
};
struct instance_state {
  instance_seed seed;
  std::map<std::string, workflow_record, std::less<>> workflows;
  std::map<std::string, schedule_record, std::less<>> schedules;
  std::vector<std::unique_ptr<execution_record>> executions;  // creation order
  string_map<execution_record*> executions_by_id;

  // The execution with this AMC id, or null.
  execution_record* find_execution(std::string_view id) const {
    auto found = executions_by_id.find(id);
    return found == executions_by_id.end() ? nullptr : found->second;
  }
};

// Fault rules in match order, and how often each kind fired.
struct fault_table {
  std::vector<fault_rule> rules;
  std::uint64_t next_id = 1;  // never reset, so an id is never reused
  std::array<std::uint64_t, fault_kind_count> fired_by_kind{};

  // The first rule that fires for this request (its skip and count are
  // spent, the firing counted), or null.
  const fault_rule* match(const http_request& request, operation op, std::string_view path);
  // Gives `rule` the next id and appends it; returns the id.
  std::uint64_t add(fault_rule rule);
};

// What the sandbox served (admin calls are not counted): counters and the
// request log.
// The request log's `operation` for a createWorkflowExecution with
// "dryRun": true (stats and fault rules still see createWorkflowExecution).
inline constexpr std::string_view dry_run_log_operation = "createWorkflowExecution (dryRun)";
struct request_log_entry {
  double time = 0;
  std::string method;
  std::string path;  // without the query: signatures and codes stay out of the log
  int status = 0;
  std::string operation;
  std::string fault;
  double duration_ms = 0;
  bool dry_run = false;  // a createWorkflowExecution with "dryRun": true
};
struct traffic_record {
  std::uint64_t requests = 0;
  std::array<std::uint64_t, operation_count> by_operation{};
  // createWorkflowExecution requests with "dryRun": true, counted apart from
  // by_operation's creates (they create no run), as the request log does.
  std::uint64_t dry_runs = 0;
  std::map<int, std::uint64_t> by_status;
  std::deque<request_log_entry> log;
};

struct sandbox_state {
  // `base_url` is what the sandbox puts in instance apiEndpoint and result URLs.
  sandbox_state(sandbox_options options, std::string base_url);

  sandbox_options options;  // PUT /_sandbox/settings and scenarios change them
  std::string base_url;
  std::string signing_key;           // of the result URLs
  std::string seeded_refresh_token;  // of the grant made at start (empty with seed_grant off)
  sandbox_clock clock;
  std::mt19937_64 random;      // ids and result data, from options.seed
  std::uint64_t sequence = 0;  // creation order of workflows and executions

  lwa_records lwa;
  std::map<std::string, instance_state, std::less<>> instances;
  fault_table faults;
  traffic_record traffic;

  double now() const { return clock.now(); }
  std::string next_uuid();
  // POST /_sandbox/reset: back to the state at start (the options stay).
  void reset();
  // After a change of the clock or the settings, every status is rendered anew.
  void forget_rendered_statuses();
};

}  // namespace amc::sandbox
