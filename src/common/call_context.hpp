// Who is asking, for what, until when, and what a status read answers: the
// two plain types that src/api (which runs the calls) and src/poll (which
// reaches AMC only through the client façade, poll::status_source) share.
// They live here, below both, so that the poller's interface speaks no type
// of src/api and nothing has to be translated (or copied) per status read.
// No AMC rule lives here: the ids are checked by src/api's id rules, the
// reply is read by src/api.
#pragma once

#include "common/deadline.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace amc {

// The credential and, for reporting calls, the instance with its advertiser
// (entity) and marketplace ids, and the call's deadline.
struct call_context {
  std::string credential_id;
  std::string instance_id;     // empty for account-level calls
  std::string advertiser_id;   // Amazon-Advertising-API-AdvertiserId
  std::string marketplace_id;  // Amazon-Advertising-API-MarketplaceId
  // Set by the request decoders (client/requests.hpp) once they have checked
  // the three instance fields, so that the operations do not check them
  // again on every request. Whoever changes those fields afterwards must
  // clear it.
  bool instance_checked = false;
  // The whole call's deadline, made at the door (src/client). Every HTTP
  // request of the call carries it unchanged (net::request::deadline), so
  // no phase, retry or Retry-After wait runs past it; a request that would
  // start after it is not sent (errc::timeout). Unbounded: no deadline of
  // its own (the HTTP client's retry.max_total then bounds each request).
  amc::deadline deadline{};
};

// One status read of an execution that is read again and again (see
// api::get_execution_if_changed): the flat execution, or nothing when the
// reply was byte for byte the one with the fingerprint the reader passed;
// with this reply's fingerprint (never 0).
struct execution_read {
  std::optional<nlohmann::json> execution;
  std::uint64_t fingerprint = 0;
};

}  // namespace amc
