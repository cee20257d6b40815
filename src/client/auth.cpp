#include "client/auth.hpp"

#include "auth/lwa.hpp"
#include "client/internals.hpp"

namespace amc::client {

std::string consent_url(client& core, const consent_request& request) {
  return auth::consent_page_url(core.config().lwa, core.config().lwa_client, request.redirect_uri, request.state,
                                request.scope);
}

store::credential_record exchange_code(client& core, const code_exchange_request& request,
                                       call_deadline deadline) {
  core.run_blocking(internals(core).tokens().exchange_code(request.credential_id, request.code, request.redirect_uri),
                    deadline);
  return internals(core).store().get(request.credential_id, false);
}

void import_credential(client& core, const credential_import_request& request) {
  store::credential_update update;
  update.credential_id = request.credential_id;
  update.refresh_token = request.refresh_token;
  update.client_id = core.config().lwa_client.client_id;
  update.state = store::credential_state::active;
  update.last_error = "";
  internals(core).store().put(update);
}

store::credential_record refresh(client& core, const token_refresh_request& request, call_deadline deadline) {
  const auto current = internals(core).store().get(request.credential_id, true).access_token.value_or("");
  core.run_blocking(internals(core).tokens().refresh(request.credential_id, current, deadline), deadline);
  return internals(core).store().get(request.credential_id, false);
}

store::credential_record credential_status(client& core, std::string_view credential_id) {
  store::validate_credential_id(credential_id);
  return internals(core).store().get(credential_id, false);
}

}  // namespace amc::client
