#include "store/execution_journal.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <cctype>

namespace amc::store {
namespace {

nlohmann::json& executions_section(nlohmann::json& document) {
  auto& section = document["executions"];
  if (section.is_null()) section = nlohmann::json::object();
  if (!section.is_object())
    throw error(errc::store, "the store is damaged: \"executions\" is not an object; restore it from a backup");
  return section;
}

nlohmann::json to_json(const journal_entry& entry) {
  nlohmann::json value = {{"instance_id", entry.instance_id},
                          {"workflow_id", entry.workflow_id},
                          {"amc_execution_id", entry.amc_execution_id},
                          {"fingerprint", entry.fingerprint},
                          {"started_at", format_utc(entry.started_at)}};
  if (!entry.output_format.empty()) value["output_format"] = entry.output_format;
  return value;
}

journal_entry from_json(const std::string& id, const nlohmann::json& value) {
  if (!value.is_object())
    throw error(errc::store, fmt::format("journal entry '{}' in the store is damaged", id));
  journal_entry entry;
  entry.execution_id = id;
  entry.instance_id = value.value("instance_id", "");
  entry.workflow_id = value.value("workflow_id", "");
  entry.amc_execution_id = value.value("amc_execution_id", "");
  entry.fingerprint = value.value("fingerprint", "");
  entry.started_at = parse_utc(value.value("started_at", "")).value_or(0);
  if (const auto format = value.find("output_format"); format != value.end() && format->is_string())
    entry.output_format = format->get<std::string>();
  return entry;
}

// Drops entries sent more than `retention` ago; keeps entries whose time
// cannot be read (damaged or hand-edited), since dropping them could make a
// retried task run twice. Returns whether anything was dropped.
bool prune(nlohmann::json& executions, std::chrono::seconds retention, unix_seconds now) {
  bool pruned = false;
  for (auto it = executions.begin(); it != executions.end();) {
    const auto started = it->is_object() && (*it)["started_at"].is_string()
                             ? parse_utc((*it)["started_at"].get<std::string>())
                             : std::nullopt;
    if (started && *started + retention.count() < now) {
      it = executions.erase(it);
      pruned = true;
    } else {
      ++it;
    }
  }
  return pruned;
}

}  // namespace

void validate_execution_id(std::string_view execution_id) {
  if (execution_id.empty() || execution_id.size() > 128)
    throw error(errc::invalid_argument, "an execution id must be 1 to 128 characters long");
  for (std::size_t at = 0; at < execution_id.size(); ++at) {
    const char c = execution_id[at];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
      throw error(errc::invalid_argument,
                  fmt::format("execution id {} has the character {}: use letters, digits, "
                              "'.', '-' and '_'",
                              quoted_text(execution_id), quoted_text(character_at(execution_id, at))));
  }
}

std::string new_execution_id() {
  unsigned char bytes[4];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw error(errc::crypto, "the system random generator failed (OpenSSL RAND_bytes)");
  return fmt::format("exec_{:02x}{:02x}{:02x}{:02x}", bytes[0], bytes[1], bytes[2], bytes[3]);
}

std::pair<journal_entry, bool> execution_journal::begin(const journal_entry& proposed) {
  validate_execution_id(proposed.execution_id);
  std::pair<journal_entry, bool> result{proposed, true};
  backend_.update([&](nlohmann::json& document) {
    auto& executions = executions_section(document);
    const bool pruned = prune(executions, retention_, now_unix_seconds());
    const auto found = executions.find(proposed.execution_id);
    if (found != executions.end()) {
      result = {from_json(proposed.execution_id, *found), false};
      return pruned;
    }
    executions[proposed.execution_id] = to_json(proposed);
    result = {proposed, true};
    return true;
  });
  return result;
}

void execution_journal::mark_sending(const std::string& execution_id, unix_seconds when) {
  backend_.update([&](nlohmann::json& document) {
    auto& executions = executions_section(document);
    const auto found = executions.find(execution_id);
    if (found == executions.end()) return false;
    (*found)["started_at"] = format_utc(when);
    return true;
  });
}

bool execution_journal::claim_resend(const std::string& execution_id, unix_seconds seen_started_at,
                                     unix_seconds when) {
  bool claimed = false;
  backend_.update([&](nlohmann::json& document) {
    auto& executions = executions_section(document);
    const auto found = executions.find(execution_id);
    if (found == executions.end()) return false;
    const auto entry = from_json(execution_id, *found);
    if (!entry.amc_execution_id.empty() || entry.started_at != seen_started_at) return false;
    (*found)["started_at"] = format_utc(when);
    claimed = true;
    return true;
  });
  return claimed;
}

void execution_journal::complete(const std::string& execution_id, const std::string& amc_execution_id) {
  backend_.update([&](nlohmann::json& document) {
    auto& executions = executions_section(document);
    auto& entry = executions[execution_id];
    if (!entry.is_object()) entry = nlohmann::json::object();
    entry["amc_execution_id"] = amc_execution_id;
    return true;
  });
}

void execution_journal::forget(const std::string& execution_id) {
  backend_.update([&](nlohmann::json& document) {
    return executions_section(document).erase(execution_id) > 0;
  });
}

std::optional<journal_entry> execution_journal::find(const std::string& execution_id) {
  const auto document = backend_.read();
  const auto executions = document.find("executions");
  if (executions == document.end() || !executions->is_object()) return std::nullopt;
  const auto found = executions->find(execution_id);
  if (found == executions->end()) return std::nullopt;
  return from_json(execution_id, *found);
}

std::optional<journal_entry> execution_journal::find_by_amc_id(const std::string& amc_execution_id) {
  const auto document = backend_.read();
  const auto executions = document.find("executions");
  if (amc_execution_id.empty() || executions == document.end() || !executions->is_object()) return std::nullopt;
  for (const auto& [id, value] : executions->items())
    if (value.is_object() && value.value("amc_execution_id", "") == amc_execution_id) return from_json(id, value);
  return std::nullopt;
}

bool execution_journal::is_claimed(const std::string& amc_execution_id,
                                   const std::string& except_execution_id) {
  const auto document = backend_.read();
  const auto executions = document.find("executions");
  if (executions == document.end() || !executions->is_object()) return false;
  for (const auto& [id, value] : executions->items())
    if (id != except_execution_id && value.is_object() && value.value("amc_execution_id", "") == amc_execution_id)
      return true;
  return false;
}

}  // namespace amc::store
