// A credential: one Amazon user's Login-with-Amazon grant for one LwA client,
// as the rest of libamc sees it (secrets in clear, in memory only).
#pragma once

#include "common/time.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace amc::store {

enum class credential_state {
  active,        // usable
  needs_reauth,  // LwA said invalid_grant: the user must consent again
  quarantined,   // no configured Fernet key decrypts it; kept aside, unused
  damaged,       // a field cannot be read (wrong type, out of range); set
                 // aside on its own until a put replaces it
};

std::string_view to_string(credential_state state);
std::optional<credential_state> parse_credential_state(std::string_view text);

struct credential_record {
  std::string credential_id;
  std::string client_id;
  bool has_refresh_token = false;
  bool has_access_token = false;
  // Filled only when a caller asks for secrets.
  std::optional<std::string> refresh_token;
  std::optional<std::string> access_token;
  std::optional<unix_seconds> access_token_expires_at;
  // When Login with Amazon issued the access token (the refresh request was
  // sent): with the expiry, the token's lifetime, which sizes the refresh
  // windows. Nothing for a token a host put in itself.
  std::optional<unix_seconds> access_token_issued_at;
  credential_state state = credential_state::active;
  unix_seconds created_at = 0;
  unix_seconds updated_at = 0;
  std::string last_error;  // why the state is what it is; never a secret
};

// What a caller may change with put(): fields left empty keep stored values.
struct credential_update {
  std::string credential_id;
  std::optional<std::string> client_id;
  std::optional<std::string> refresh_token;
  std::optional<std::string> access_token;
  std::optional<unix_seconds> access_token_expires_at;
  // Kept only together with a new access_token; a new access_token without
  // it drops the stored one (lifetime unknown).
  std::optional<unix_seconds> access_token_issued_at;
  std::optional<credential_state> state;
  std::optional<std::string> last_error;
};

// Throws invalid_argument when `credential_id` cannot name a credential:
// 1 to 256 characters, none of them control characters.
void validate_credential_id(std::string_view credential_id);

}  // namespace amc::store
