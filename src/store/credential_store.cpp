#include "store/credential_store.hpp"

#include "common/error.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

namespace amc::store {
namespace {

// The on-disk document: {"format": "libamc.store", "version": 1,
// "credentials": {id: sealed record}, ...}. Top-level sections other than
// "credentials" belong to other parts of libamc and are kept as they are.
constexpr std::string_view format_name = "libamc.store";
constexpr int format_version = 1;

// Why a record is quarantined, as list() and get() show it (and as older
// libamc versions stored it).
constexpr std::string_view quarantine_note =
    "no configured Fernet key decrypts this record; restore the previous key or "
    "re-authenticate";

// Sealed record fields.
constexpr const char* refresh_token_field = "refresh_token_fernet";
constexpr const char* access_token_field = "access_token_fernet";
constexpr const char* secret_fields[] = {refresh_token_field, access_token_field};

credential_record unseal_summary(std::string_view id, const nlohmann::json& sealed,
                                 const std::string& location);

// Refuses a document that is not a libamc store this libamc can read (its
// records are checked one by one where they are used).
void check_document(const nlohmann::json& document, const std::string& location) {
  const auto format = document.find("format");
  if (format != document.end() && *format != format_name)
    throw error(errc::store, fmt::format("'{}' is not a libamc credential store (its format is "
                                         "{}); point the store at another file",
                                         location, format->dump()));
  const auto version = document.find("version");
  if (version != document.end() && (!version->is_number_integer() || *version > format_version))
    throw error(errc::store, fmt::format("the store '{}' was written by a newer libamc (format "
                                         "version {}); upgrade libamc to use it",
                                         location, version->dump()));
  const auto credentials = document.find("credentials");
  if (credentials != document.end() && !credentials->is_null() && !credentials->is_object())
    throw error(errc::store, fmt::format("the store '{}' is damaged: \"credentials\" is not an "
                                         "object; restore it from a backup",
                                         location));
}

// The credentials of a document about to be changed. A record that cannot
// be read is not checked here: it is set aside on its own (shown as
// "damaged", kept as it is) and never makes the rest of the file unusable.
nlohmann::json& credentials_section(nlohmann::json& document, const std::string& location) {
  check_document(document, location);
  document["format"] = format_name;
  document["version"] = format_version;
  auto& credentials = document["credentials"];
  if (credentials.is_null()) credentials = nlohmann::json::object();
  return credentials;
}

const nlohmann::json* find_credential(const nlohmann::json& document, std::string_view id) {
  const auto credentials = document.find("credentials");
  if (credentials == document.end() || !credentials->is_object()) return nullptr;
  const auto found = credentials->find(id);
  return found == credentials->end() ? nullptr : &*found;
}

std::string damaged(std::string_view id, std::string_view field, const std::string& location) {
  return fmt::format("credential '{}' in the store '{}' is damaged (field '{}' has the wrong "
                     "type or a value out of range); it is set aside and the other credentials "
                     "work: put it again (client_id and refresh_token) to replace it, or restore "
                     "the store from a backup",
                     id, location, field);
}

std::optional<std::string> sealed_string(const nlohmann::json& sealed, const char* field,
                                         std::string_view id, const std::string& location) {
  const auto found = sealed.find(field);
  if (found == sealed.end() || found->is_null()) return std::nullopt;
  if (!found->is_string()) throw error(errc::store, damaged(id, field, location));
  return found->get<std::string>();
}

std::optional<unix_seconds> sealed_time(const nlohmann::json& sealed, const char* field,
                                        std::string_view id, const std::string& location) {
  const auto text = sealed_string(sealed, field, id, location);
  if (!text) return std::nullopt;
  const auto parsed = parse_utc(*text);
  if (!parsed || !is_round_trip_utc(*parsed)) throw error(errc::store, damaged(id, field, location));
  return parsed;
}

credential_state sealed_state(const nlohmann::json& sealed, std::string_view id,
                              const std::string& location) {
  const auto text = sealed_string(sealed, "state", id, location);
  if (!text) return credential_state::active;
  const auto state = parse_credential_state(*text);
  if (!state) throw error(errc::store, damaged(id, "state", location));
  return *state;
}

// The record without its secrets.
credential_record unseal_summary(std::string_view id, const nlohmann::json& sealed,
                                 const std::string& location) {
  if (!sealed.is_object()) throw error(errc::store, damaged(id, "(record)", location));
  credential_record record;
  record.credential_id = std::string{id};
  record.client_id = sealed_string(sealed, "client_id", id, location).value_or("");
  record.has_refresh_token = sealed_string(sealed, refresh_token_field, id, location).has_value();
  record.has_access_token = sealed_string(sealed, access_token_field, id, location).has_value();
  record.access_token_expires_at = sealed_time(sealed, "access_token_expires_at", id, location);
  record.access_token_issued_at = sealed_time(sealed, "access_token_issued_at", id, location);
  record.state = sealed_state(sealed, id, location);
  if (record.state == credential_state::quarantined) {
    // Written by an older libamc, which stored quarantine: the record's own
    // state is the one it had before.
    const auto before = sealed_string(sealed, "state_before_quarantine", id, location);
    record.state = before ? parse_credential_state(*before).value_or(credential_state::active)
                          : credential_state::active;
  }
  record.created_at = sealed_time(sealed, "created_at", id, location).value_or(0);
  record.updated_at = sealed_time(sealed, "updated_at", id, location).value_or(0);
  record.last_error = sealed_string(sealed, "last_error", id, location).value_or("");
  if (record.last_error == quarantine_note) record.last_error.clear();
  if (const auto before = sealed_string(sealed, "state_before_quarantine", id, location);
      before && (!parse_credential_state(*before) ||
                 *parse_credential_state(*before) == credential_state::quarantined))
    throw error(errc::store, damaged(id, "state_before_quarantine", location));
  return record;
}

// True when every secret of the record decrypts with the configured keys.
bool secrets_decrypt(const nlohmann::json& sealed, const crypto::multi_fernet& keys) {
  for (const char* field : secret_fields) {
    const auto found = sealed.find(field);
    if (found == sealed.end() || found->is_null()) continue;
    if (!found->is_string()) return false;
    auto outcome = keys.decrypt_at_rest(found->get_ref<const std::string&>());
    if (!outcome.token) return false;
    OPENSSL_cleanse(outcome.token->plaintext.data(), outcome.token->plaintext.size());
  }
  return true;
}

// The record as this process sees it: quarantined when its keys do not
// decrypt every secret. Quarantine is never stored: another process, with
// other keys, may read the same record.
credential_record view(std::string_view id, const nlohmann::json& sealed,
                       const std::string& location, const crypto::multi_fernet& keys) {
  credential_record record;
  try {
    record = unseal_summary(id, sealed, location);
  } catch (const error& problem) {
    if (problem.code_value() != errc::store) throw;
    // Set aside on its own: shown by id with what is wrong, never in use.
    credential_record set_aside;
    set_aside.credential_id = std::string{id};
    set_aside.state = credential_state::damaged;
    set_aside.last_error = problem.message();
    return set_aside;
  }
  if (!secrets_decrypt(sealed, keys)) {
    record.state = credential_state::quarantined;
    record.last_error = quarantine_note;
  }
  return record;
}

// Why the record cannot be read, or nothing when it can.
std::optional<std::string> damage_of(std::string_view id, const nlohmann::json& sealed,
                                     const std::string& location) {
  try {
    unseal_summary(id, sealed, location);
    return std::nullopt;
  } catch (const error& problem) {
    if (problem.code_value() != errc::store) throw;
    return problem.message();
  }
}

// The round trip of a record about to be written: read back with the same
// reader as every later read, so that the store never writes what it
// cannot read (a bad value is refused here, before the file is replaced).
void check_reads_back(std::string_view id, const nlohmann::json& sealed,
                      const std::string& location) {
  if (const auto problem = damage_of(id, sealed, location))
    throw error(errc::internal,
                fmt::format("libamc refused to store credential '{}': the record would not read "
                            "back ({}); nothing was written. Please report this bug",
                            id, *problem),
                {{"credential_id", id}});
}

void check_storable_time(std::optional<unix_seconds> when, std::string_view field) {
  if (when && !is_round_trip_utc(*when))
    throw error(errc::invalid_argument,
                fmt::format("{} must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z "
                            "(Unix seconds 0 to {})",
                            field, latest_round_trip_utc));
}

// Drops what an older libamc stored for quarantine, when a process that
// can read the record writes it anyway.
void drop_stored_quarantine(nlohmann::json& sealed) {
  if (sealed.value("state", "active") == "quarantined")
    sealed["state"] = sealed.value("state_before_quarantine", "active");
  sealed.erase("state_before_quarantine");
  if (sealed.value("last_error", "") == quarantine_note) sealed.erase("last_error");
}

std::optional<std::string> decrypt_secret(const crypto::multi_fernet& keys,
                                          const std::optional<std::string>& token) {
  if (!token) return std::nullopt;
  auto outcome = keys.decrypt_at_rest(*token);
  if (!outcome.token) return std::nullopt;
  return std::move(outcome.token->plaintext);
}

}  // namespace

std::string quarantine_message(std::string_view credential_id) {
  return fmt::format(
      "credential '{}' is quarantined: none of the configured Fernet keys decrypts it; restore "
      "the previous key (list it after the current one, e.g. AMC_FERNET_KEYS=new_key,old_key) "
      "or re-authenticate the credential; the encrypted record is kept until then",
      credential_id);
}

credential_store::credential_store(std::unique_ptr<store_backend> backend, crypto::multi_fernet keys)
    : backend_(std::move(backend)), keys_(std::move(keys)) {}

void credential_store::check_readable() {
  check_document(backend_->read(), backend_->location());
}

// Moves the generation when a write ends, however it ends: after the
// write, so that a reader who saw the old generation cannot have read the
// new record under it.
struct credential_store::generation_bump {
  std::atomic<std::uint64_t>& generation;
  ~generation_bump() { generation.fetch_add(1, std::memory_order_acq_rel); }
};

void credential_store::put(const credential_update& update) {
  const generation_bump bump{generation_};
  validate_credential_id(update.credential_id);
  const auto& id = update.credential_id;
  if (update.client_id && update.client_id->empty())
    throw error(errc::invalid_argument, "client_id must not be empty");
  if (update.refresh_token && update.refresh_token->empty())
    throw error(errc::invalid_argument,
                "refresh_token must not be empty; leave the field out to keep the stored one");
  if (update.access_token && update.access_token->empty())
    throw error(errc::invalid_argument,
                "access_token must not be empty; leave the field out to keep the stored one");
  if (update.state == credential_state::quarantined || update.state == credential_state::damaged)
    throw error(errc::invalid_argument,
                "the states 'quarantined' and 'damaged' are how a process sees a record it "
                "cannot decrypt or read, never stored; use 'active' or 'needs-reauth'");
  check_storable_time(update.access_token_expires_at, "access_token_expires_at");
  check_storable_time(update.access_token_issued_at, "access_token_issued_at");

  const std::string location = backend_->location();
  backend_->update([&](nlohmann::json& document) {
    auto& credentials = credentials_section(document, location);
    const auto now = now_unix_seconds();
    const auto existing = credentials.find(id);
    const bool is_damaged =
        existing != credentials.end() && damage_of(id, *existing, location).has_value();
    // A damaged record is replaced as a whole, like a new one.
    const bool is_new = existing == credentials.end() || is_damaged;
    nlohmann::json sealed = is_new ? nlohmann::json::object() : *existing;

    if (is_new) {
      if (!update.client_id || !update.refresh_token)
        throw error(errc::invalid_argument,
                    is_damaged
                        ? fmt::format("credential '{}' is damaged in the store: give both "
                                      "client_id and refresh_token to replace it",
                                      id)
                        : fmt::format("credential '{}' is new: give both client_id and "
                                      "refresh_token (or exchange an authorization code)",
                                      id),
                    {{"credential_id", id}});
      sealed["created_at"] = format_utc(now);
      sealed["state"] = to_string(credential_state::active);
    } else if (secrets_decrypt(sealed, keys_)) {
      drop_stored_quarantine(sealed);
    } else {
      // Only a new refresh token (re-authentication, asked for by the host)
      // may replace a record we cannot read; anything else would mix keys or
      // drop data another process can still read.
      if (!update.refresh_token)
        throw error(errc::crypto, quarantine_message(id), {{"credential_id", id}});
      if (!update.access_token) {
        sealed.erase(access_token_field);
        sealed.erase("access_token_expires_at");
        sealed.erase("access_token_issued_at");
      }
      sealed.erase("state_before_quarantine");
      sealed.erase("last_error");
      sealed["state"] = to_string(credential_state::active);
    }

    if (update.client_id) sealed["client_id"] = *update.client_id;
    if (update.refresh_token) sealed[refresh_token_field] = keys_.encrypt(*update.refresh_token);
    if (update.access_token) {
      sealed[access_token_field] = keys_.encrypt(*update.access_token);
      if (update.access_token_issued_at)
        sealed["access_token_issued_at"] = format_utc(*update.access_token_issued_at);
      else
        sealed.erase("access_token_issued_at");
    }
    if (update.access_token_expires_at)
      sealed["access_token_expires_at"] = format_utc(*update.access_token_expires_at);
    if (update.state) sealed["state"] = to_string(*update.state);
    if (update.last_error) {
      if (update.last_error->empty())
        sealed.erase("last_error");
      else
        sealed["last_error"] = *update.last_error;
    }
    sealed["updated_at"] = format_utc(now);
    check_reads_back(id, sealed, location);
    credentials[id] = std::move(sealed);
    return true;
  });
}

credential_record credential_store::get(std::string_view credential_id, bool include_secrets) {
  validate_credential_id(credential_id);
  const std::string location = backend_->location();
  const nlohmann::json document = backend_->read();
  const nlohmann::json* sealed = find_credential(document, credential_id);
  if (sealed == nullptr)
    throw error(errc::not_found,
                fmt::format("no credential '{}' in the store '{}': add it first (amcctl auth "
                            "login, or amc_store_put_credential)",
                            credential_id, location),
                {{"credential_id", credential_id}});
  credential_record record = view(credential_id, *sealed, location, keys_);
  if (!include_secrets) return record;

  // Nothing is written here, whatever the keys: a record this process cannot
  // decrypt may be another process's, readable with its keys.
  const nlohmann::json detail = {{"credential_id", credential_id}};
  if (record.state == credential_state::damaged)
    throw error(errc::store, record.last_error, detail);
  if (record.state == credential_state::quarantined)
    throw error(errc::crypto, quarantine_message(credential_id), detail);
  const auto refresh = sealed_string(*sealed, refresh_token_field, credential_id, location);
  const auto access = sealed_string(*sealed, access_token_field, credential_id, location);
  record.refresh_token = decrypt_secret(keys_, refresh);
  record.access_token = decrypt_secret(keys_, access);
  if ((refresh && !record.refresh_token) || (access && !record.access_token))
    throw error(errc::crypto, quarantine_message(credential_id), detail);
  return record;
}

std::vector<credential_record> credential_store::list() {
  const std::string location = backend_->location();
  const nlohmann::json document = backend_->read();
  std::vector<credential_record> records;
  const auto credentials = document.find("credentials");
  if (credentials == document.end() || !credentials->is_object()) return records;
  for (const auto& [id, sealed] : credentials->items())
    records.push_back(view(id, sealed, location, keys_));
  return records;  // nlohmann::json objects iterate in key order
}

bool credential_store::remove(std::string_view credential_id) {
  const generation_bump bump{generation_};
  validate_credential_id(credential_id);
  const std::string location = backend_->location();
  bool removed = false;
  backend_->update([&](nlohmann::json& document) {
    auto& credentials = credentials_section(document, location);
    removed = credentials.erase(std::string{credential_id}) > 0;
    return removed;
  });
  return removed;
}

rotation_report credential_store::rotate_keys() {
  const generation_bump bump{generation_};
  rotation_report report;
  const std::string location = backend_->location();
  backend_->update([&](nlohmann::json& document) {
    report = {};
    auto& credentials = credentials_section(document, location);
    for (auto& [id, sealed] : credentials.items()) {
      ++report.total;
      if (auto problem = damage_of(id, sealed, location)) {
        report.failed.push_back({id, std::move(*problem)});
        continue;
      }
      nlohmann::json rotated = sealed;
      std::optional<crypto::token_problem> failure;
      for (const char* field : secret_fields) {
        const auto token = sealed_string(sealed, field, id, location);
        if (!token) continue;
        crypto::token_problem problem = crypto::token_problem::none;
        const auto re_encrypted = keys_.rotate(*token, &problem);
        if (!re_encrypted) {
          failure = problem;
          break;
        }
        rotated[field] = *re_encrypted;
      }
      if (failure) {
        // Left exactly as it is: another process may hold its key.
        report.failed.push_back(
            {id, fmt::format("no configured key decrypts it ({}); restore the previous key or "
                             "re-authenticate the credential",
                             crypto::describe(*failure))});
        continue;
      }
      drop_stored_quarantine(rotated);
      check_reads_back(id, rotated, location);
      sealed = std::move(rotated);
      ++report.rotated;
    }
    return report.rotated > 0;
  });
  return report;
}

}  // namespace amc::store
