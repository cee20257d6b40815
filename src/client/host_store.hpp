// A client over a credential store the host keeps (amc_client_new_with_store
// in amc.h): the door opens it, so that capi/ hands over the host's functions
// and never wires a store backend itself.
#pragma once

#include "client/client.hpp"
#include "store/host_backend.hpp"

#include <memory>

namespace amc::client {

// What the host gives: read, write, try_lock, unlock and release
// (store::host_functions says when each runs and on which thread).
using host_store_functions = store::host_functions;

// A client whose credentials and execution journal live in the host's store.
// `host` is taken over first: its release runs exactly once, when the client
// is gone, or before this function throws (a bad config: errc::config, as
// decode_client_config says; JSON nested too deeply included).
std::unique_ptr<client> open_with_host_store(const char* config_json, host_store_functions host);

}  // namespace amc::client
