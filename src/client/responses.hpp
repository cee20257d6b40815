// The encoders of the door: the façade's typed results as the JSON amc.h
// documents, and the progress events of the calls that report progress,
// written once here for every host (capi/'s table rows name them).
#pragma once

#include "api/executions.hpp"
#include "api/results.hpp"
#include "client/operations.hpp"
#include "store/credential.hpp"

#include <nlohmann/json.hpp>

#include <functional>

namespace amc::client {

// A host's progress callback (amc_progress_callback): an event as JSON text
// and the host's user pointer.
using progress_callback = void (*)(const char* event_json, void* user);

// amc_execution_submit: {"execution_id", "amc_execution_id", "reattached",
// "execution"}.
nlohmann::json submission_json(const api::submission& result);

// amc_auth_*: the credential as the store keeps it, without secrets.
nlohmann::json credential_status_json(const store::credential_record& credential);

// amc_execution_wait's events {"event": "status", "execution",
// "next_poll_ms"} to `callback` (nullptr: no events).
wait_progress wait_progress_callback(progress_callback callback, void* user);

// amc_results_download's events {"event": "download", "part", "parts",
// "bytes", "total_bytes"} to `callback` (nullptr: no events).
std::function<void(const api::download_event&)> download_progress_callback(progress_callback callback, void* user);

}  // namespace amc::client
