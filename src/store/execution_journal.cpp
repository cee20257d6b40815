#include "store/execution_journal.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>


namespace amc::store {
namespace {

nlohmann::json& executions_section(nlohmann::json& document) {
  auto& section = document["executions"];
  if (section.is_null()) section = nlohmann::json::object();
  if (!section.is_object())
    throw error(errc::store, "the store is damaged: \"executions\" is not an object; restore it from a backup");
  return section;
}

std::string stored_time(unix_seconds when) {
  if (!is_round_trip_utc(when))
    throw error(errc::invalid_argument,
                fmt::format("a journal time must be between 1970-01-01T00:00:00Z and "
                            "9999-12-31T23:59:59Z (Unix seconds 0 to {}), not {}",
                            latest_round_trip_utc, when));
  return format_utc(when);
}

nlohmann::json to_json(const journal_entry& entry) {
  nlohmann::json value = {{"instance_id", entry.instance_id},
                          {"workflow_id", entry.workflow_id},
                          {"amc_execution_id", entry.amc_execution_id},
                          {"fingerprint", entry.fingerprint},
                          {"started_at", stored_time(entry.started_at)}};
  if (!entry.output_format.empty()) value["output_format"] = entry.output_format;
  return value;
}

[[noreturn]] void throw_damaged(const std::string& id, std::string_view field) {
  throw error(errc::store,
              fmt::format("journal entry '{}' in the store is damaged (field '{}' has the wrong "
                          "type or a value out of range); other executions are not affected. "
                          "Submit it under a new execution id, or restore the store from a backup",
                          id, field),
              {{"execution_id", id}});
}

// Every field is checked: a damaged entry is refused on its own, by id.
journal_entry from_json(const std::string& id, const nlohmann::json& value) {
  if (!value.is_object()) throw_damaged(id, "(entry)");
  const auto text = [&](const char* field) -> std::string {
    const auto found = value.find(field);
    if (found == value.end() || found->is_null()) return "";
    if (!found->is_string()) throw_damaged(id, field);
    return found->get<std::string>();
  };
  journal_entry entry;
  entry.execution_id = id;
  entry.instance_id = text("instance_id");
  entry.workflow_id = text("workflow_id");
  entry.amc_execution_id = text("amc_execution_id");
  entry.fingerprint = text("fingerprint");
  const auto started = text("started_at");
  if (!started.empty()) {
    const auto parsed = parse_utc(started);
    if (!parsed || !is_round_trip_utc(*parsed)) throw_damaged(id, "started_at");
    entry.started_at = *parsed;
  }
  entry.output_format = text("output_format");
  return entry;
}

// Drops entries sent more than `retention` ago; keeps entries whose time
// cannot be read (damaged or hand-edited), since dropping them could make a
// retried task run twice. Returns whether anything was dropped.
bool prune(nlohmann::json& executions, std::chrono::seconds retention, unix_seconds now) {
  bool pruned = false;
  for (auto it = executions.begin(); it != executions.end();) {
    const auto field = it->is_object() ? it->find("started_at") : it->end();
    const auto started = it->is_object() && field != it->end() && field->is_string()
                             ? parse_utc(field->get_ref<const std::string&>())
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
    if (!is_ascii_alnum(c) && c != '.' && c != '-' && c != '_')
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

std::pair<journal_entry, bool> execution_journal::begin(const journal_entry& proposed, const amc::deadline& until) {
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
  }, until);
  return result;
}

void execution_journal::mark_sending(const std::string& execution_id, unix_seconds when, const amc::deadline& until) {
  backend_.update([&](nlohmann::json& document) {
    auto& executions = executions_section(document);
    const auto found = executions.find(execution_id);
    if (found == executions.end()) return false;
    (*found)["started_at"] = stored_time(when);
    return true;
  }, until);
}

bool execution_journal::claim_resend(const std::string& execution_id, unix_seconds seen_started_at,
                                     unix_seconds when, const amc::deadline& until) {
  bool claimed = false;
  backend_.update([&](nlohmann::json& document) {
    auto& executions = executions_section(document);
    const auto found = executions.find(execution_id);
    if (found == executions.end()) return false;
    const auto entry = from_json(execution_id, *found);
    if (!entry.amc_execution_id.empty() || entry.started_at != seen_started_at) return false;
    (*found)["started_at"] = stored_time(when);
    claimed = true;
    return true;
  }, until);
  return claimed;
}

void execution_journal::complete(const std::string& execution_id, const std::string& amc_execution_id,
                                 const amc::deadline& until) {
  backend_.update([&](nlohmann::json& document) {
    auto& executions = executions_section(document);
    auto& entry = executions[execution_id];
    if (!entry.is_object()) entry = nlohmann::json::object();
    entry["amc_execution_id"] = amc_execution_id;
    return true;
  }, until);
}

void execution_journal::forget(const std::string& execution_id, const amc::deadline& until) {
  backend_.update([&](nlohmann::json& document) {
    return executions_section(document).erase(execution_id) > 0;
  }, until);
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
  for (const auto& [id, value] : executions->items()) {
    if (id == except_execution_id || !value.is_object()) continue;
    const auto claimed = value.find("amc_execution_id");
    if (claimed != value.end() && claimed->is_string() && *claimed == amc_execution_id) return true;
  }
  return false;
}

}  // namespace amc::store
