// The client façade's authentication operations: the one door hosts use for
// credentials (the C ABI's amc_auth_* in capi/, any future host). Each takes
// a typed request (client/requests.hpp: decoded and checked once) and
// returns a typed result: the credential as the store keeps it, without
// secrets, which the host encodes (store/credential_json.hpp).
//
// Rules: the blocking ones (exchange_code, refresh) follow the façade's
// rules (client/operations.hpp): refused on a client thread, errc::timeout
// at the deadline. Secrets (codes, tokens) never reach a message.
#pragma once

#include "client/client.hpp"
#include "client/requests.hpp"
#include "store/credential.hpp"

#include <string>
#include <string_view>

namespace amc::client {

// The LwA consent page that sends the user back to request.redirect_uri with
// ?code=; no request is made.
std::string consent_url(client& core, const consent_request& request);

// Exchanges the authorization code for a refresh token through LwA and
// stores it under request.credential_id; the credential afterwards.
store::credential_record exchange_code(client& core, const code_exchange_request& request,
                                       call_deadline deadline);

// Stores the refresh token under request.credential_id for this client's LwA
// client, active and without an error: the credential is usable again (a
// re-authentication after needs_reauth).
void import_credential(client& core, const credential_import_request& request);

// Refreshes the credential's access token now (single-flight with every
// other refresh of it); the credential afterwards.
store::credential_record refresh(client& core, const token_refresh_request& request, call_deadline deadline);

// The credential as the store keeps it, without secrets; errc::not_found when
// there is none. The id is checked (store::validate_credential_id).
store::credential_record credential_status(client& core, std::string_view credential_id);

}  // namespace amc::client
