#include "store/credential.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

#include <fmt/format.h>

namespace amc::store {

std::string_view to_string(credential_state state) {
  switch (state) {
    case credential_state::active: return "active";
    case credential_state::needs_reauth: return "needs-reauth";
    case credential_state::quarantined: return "quarantined";
    case credential_state::damaged: return "damaged";
  }
  return "active";
}

std::optional<credential_state> parse_credential_state(std::string_view text) {
  if (text == "active") return credential_state::active;
  if (text == "needs-reauth") return credential_state::needs_reauth;
  if (text == "quarantined") return credential_state::quarantined;
  return std::nullopt;
}

void validate_credential_id(std::string_view credential_id) {
  require_utf8(credential_id, "credential id");
  if (credential_id.empty() || credential_id.size() > 256)
    throw error(errc::invalid_argument,
                fmt::format("a credential id must be 1 to 256 characters long (got {})",
                            credential_id.size()));
  for (const char c : credential_id)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      throw error(errc::invalid_argument,
                  "a credential id must not contain control characters (newline, tab, ...)");
}

}  // namespace amc::store
