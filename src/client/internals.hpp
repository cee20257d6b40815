// The components of a client, for src/client's own files (the façade) and
// for the tests of the layers below it. Hosts (capi/, src/poll, adapters)
// never include this header: they call the façade (client/operations.hpp,
// client/auth.hpp, client/watch.hpp), so no request goes around the door's
// decoders and deadlines.
#pragma once

#include "client/client.hpp"

namespace amc::client {

// internals(core).store() …: a view, as cheap as a reference.
class internals {
 public:
  explicit internals(client& core) : core_(core) {}

  store::credential_store& store() const { return *core_.store_; }
  net::http_client& http() const { return *core_.http_; }
  auth::token_manager& tokens() const { return *core_.tokens_; }
  store::execution_journal& journal() const { return *core_.journal_; }

 private:
  client& core_;
};

}  // namespace amc::client
