#include "store/credential_json.hpp"

#include "common/error.hpp"
#include "common/json_fields.hpp"

#include <fmt/format.h>

namespace amc::store {

credential_update credential_update_from_json(const nlohmann::json& request) {
  constexpr std::string_view what = "credential";
  reject_unknown_fields(request,
                        {"credential_id", "client_id", "refresh_token", "access_token",
                         "access_token_expires_at", "state", "last_error"},
                        what);
  credential_update update;
  const auto id = optional_string(request, "credential_id", what);
  if (!id) throw error(errc::invalid_argument, "the credential needs a \"credential_id\"");
  update.credential_id = *id;
  update.client_id = optional_string(request, "client_id", what);
  update.refresh_token = optional_string(request, "refresh_token", what);
  update.access_token = optional_string(request, "access_token", what);
  update.last_error = optional_string(request, "last_error", what);

  const std::string expires_at_range = fmt::format(
      "access_token_expires_at must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z "
      "(Unix seconds 0 to {})",
      latest_round_trip_utc);
  if (const auto expires = request.find("access_token_expires_at");
      expires != request.end() && !expires->is_null()) {
    if (expires->is_number_unsigned()) {
      // Compared unsigned: a value past int64 must not wrap into range (the
      // store's put() checks the signed range).
      if (expires->get<std::uint64_t>() > static_cast<std::uint64_t>(latest_round_trip_utc))
        throw error(errc::invalid_argument, expires_at_range);
      update.access_token_expires_at = static_cast<unix_seconds>(expires->get<std::uint64_t>());
    } else if (expires->is_number_integer()) {
      update.access_token_expires_at = expires->get<std::int64_t>();
    } else if (expires->is_string()) {
      update.access_token_expires_at = parse_utc(expires->get_ref<const std::string&>());
      if (!update.access_token_expires_at)
        throw error(errc::invalid_argument,
                    "access_token_expires_at must be a UTC time like \"2026-11-28T16:00:00Z\" "
                    "or Unix seconds");
    } else {
      throw error(errc::invalid_argument,
                  "access_token_expires_at must be a UTC time string or Unix seconds");
    }
  }
  if (const auto state = optional_string(request, "state", what)) {
    update.state = parse_credential_state(*state);
    if (!update.state)
      throw error(errc::invalid_argument,
                  fmt::format("unknown credential state '{}': use \"active\" or \"needs-reauth\"",
                              *state));
  }
  return update;
}

nlohmann::json credential_to_json(const credential_record& record, bool include_secrets) {
  nlohmann::json out = {
      {"credential_id", record.credential_id},
      {"client_id", record.client_id},
      {"state", to_string(record.state)},
      {"has_refresh_token", record.has_refresh_token},
      {"has_access_token", record.has_access_token},
      {"access_token_expires_at", record.access_token_expires_at
                                      ? nlohmann::json(format_utc(*record.access_token_expires_at))
                                      : nlohmann::json(nullptr)},
      {"created_at", format_utc(record.created_at)},
      {"updated_at", format_utc(record.updated_at)},
      {"last_error", record.last_error.empty() ? nlohmann::json(nullptr)
                                               : nlohmann::json(record.last_error)},
  };
  if (include_secrets) {
    if (record.refresh_token) out["refresh_token"] = *record.refresh_token;
    if (record.access_token) out["access_token"] = *record.access_token;
  }
  return out;
}

credential_update decode_credential_update(const char* json_text) {
  return credential_update_from_json(parse_json_object(json_text, "credential", false));
}

bool decode_include_secrets(const char* options_json) {
  constexpr std::string_view what = "get options";
  const auto options = parse_json_object(options_json, what, true);
  reject_unknown_fields(options, {"include_secrets"}, what);
  return optional_bool(options, "include_secrets", what).value_or(false);
}

nlohmann::json credential_list_json(const std::vector<credential_record>& records) {
  nlohmann::json listing = {{"credentials", nlohmann::json::array()}};
  for (const auto& record : records) listing["credentials"].push_back(credential_to_json(record, false));
  return listing;
}

nlohmann::json rotation_report_json(const rotation_report& report) {
  nlohmann::json failed = nlohmann::json::array();
  for (const auto& failure : report.failed)
    failed.push_back({{"credential_id", failure.credential_id}, {"reason", failure.reason}});
  return {{"total", report.total}, {"rotated", report.rotated}, {"failed", failed}};
}

}  // namespace amc::store
