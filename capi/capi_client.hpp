// The client handle behind amc_client*, shared by the C ABI's source files.
#pragma once

#include "amc/amc.h"
#include "capi_support.hpp"
#include "client/client.hpp"

#include <memory>

struct amc_client {
  std::unique_ptr<amc::client::client> core;
};

namespace amc::capi {

// The client behind a handle: invalid_argument for NULL, forked in a child
// process.
inline amc::client::client& checked(amc_client* handle) {
  require(handle, "client");
  handle->core->check_process();
  return *handle->core;
}

}  // namespace amc::capi
