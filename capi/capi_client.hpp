// The client handle behind amc_client*, shared by the C ABI's source files.
#pragma once

#include "amc/amc.h"
#include "client/client.hpp"

#include <memory>

struct amc_client {
  std::unique_ptr<amc::client::client> core;
};
