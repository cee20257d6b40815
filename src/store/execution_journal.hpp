// The execution journal: which AMC execution each of the caller's
// execution ids became, kept in the store's "executions" section so that a
// submission survives a crash or a retry of the whole task. Submitting the
// same execution id twice re-attaches to the first AMC run instead of
// starting a second one.
#pragma once

#include "common/time.hpp"
#include "store/backend.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace amc::store {

struct journal_entry {
  std::string execution_id;      // the caller's id (idempotency key)
  std::string instance_id;
  std::string workflow_id;       // saved workflow, or the ad-hoc run's id
  std::string amc_execution_id;  // empty while the create request's outcome is unknown
  std::string fingerprint;       // what was asked, to refuse reuse for another request
  unix_seconds started_at = 0;   // when the (last) create request was sent
  // An ad-hoc run's outputFormat (JSON text, empty when none): AMC keeps no
  // saved workflow to read it from when the results are downloaded.
  std::string output_format;
};

// How long an execution id is remembered after its last create request:
// long enough for any task retry (AMC itself keeps executions for months),
// short enough that a long-lived deployment's store does not grow forever.
inline constexpr std::chrono::hours default_journal_retention{24 * 30};

class execution_journal {
 public:
  explicit execution_journal(store_backend& backend,
                             std::chrono::seconds retention = default_journal_retention)
      : backend_(backend), retention_(retention) {}

  // Records `proposed` unless the id is journaled already; returns the entry
  // that is now in the journal and whether it is the proposed one. Entries
  // whose last create request is older than the retention are dropped first
  // (so an id reused after that starts a new run).
  std::pair<journal_entry, bool> begin(const journal_entry& proposed, const amc::deadline& until = {});

  // The create request of `execution_id` is being sent (again) now.
  void mark_sending(const std::string& execution_id, unix_seconds when, const amc::deadline& until = {});

  // Like mark_sending, but only while the entry is still the attempt the
  // caller looked at (no AMC id, last sent at `seen_started_at`): two
  // processes that both proved an earlier attempt lost must not both send.
  // False when another process got there first (or the entry is gone).
  bool claim_resend(const std::string& execution_id, unix_seconds seen_started_at, unix_seconds when,
                    const amc::deadline& until = {});

  // AMC accepted it as `amc_execution_id`.
  void complete(const std::string& execution_id, const std::string& amc_execution_id,
                const amc::deadline& until = {});

  // AMC definitely refused it: the id may be used again.
  void forget(const std::string& execution_id, const amc::deadline& until = {});

  std::optional<journal_entry> find(const std::string& execution_id);

  // The entry journaled with this AMC execution id, if any.
  std::optional<journal_entry> find_by_amc_id(const std::string& amc_execution_id);

  // True when another execution id already maps to this AMC execution.
  bool is_claimed(const std::string& amc_execution_id, const std::string& except_execution_id);

 private:
  store_backend& backend_;
  std::chrono::seconds retention_;
};

// Execution ids: 1-128 characters, letters, digits, '.', '-', '_'.
void validate_execution_id(std::string_view execution_id);

// "exec_" + 8 random hex characters.
std::string new_execution_id();

}  // namespace amc::store
