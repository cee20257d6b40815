// The standalone credential store of amc.h (amc_store_*, usable without a
// client: open from a config, put, get, list, delete, rotate) and the
// credential JSON of the C ABI. This is the one header of src/store that
// capi/ includes (docs/architecture.md): everything else of the store is
// reached through the client's door.
#pragma once

#include "store/credential_json.hpp"
#include "store/credential_store.hpp"
#include "store/store_config.hpp"
