// The sandbox's application: LwA, AMC administration and reporting, signed
// result downloads, faults and the admin API, as a function from an HTTP
// request to a reply. The HTTP server owns sockets; this owns state
// (sandbox_state), which it hands to one handler per resource under one
// mutex. Written from the OpenAPI specs in shared/specs, not from libamc's
// client code.
#pragma once

#include "sandbox/operations.hpp"
#include "sandbox/options.hpp"
#include "sandbox/service_state.hpp"

#include <boost/beast/http.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

namespace amc::sandbox {

// How the server delivers a reply; everything but `normal` is a fault.
enum class delivery {
  normal,
  reset_before_headers,  // no byte of the response, then a TCP reset
  reset_after_headers,   // the header block only, then a TCP reset
  truncated_body,        // full Content-Length, half the body, then close
  trickle,               // a few bytes at a time
};

struct reply {
  http_response message;
  // When set, the whole answer as it goes on the wire (status line, headers
  // and body), kept by the service and shared with the server: the status
  // read of the poll hot path, to an HTTP/1.1 keep-alive request with no
  // fault. `message` then only carries its status (200) and keep-alive.
  std::shared_ptr<const std::string> wire;
  delivery how = delivery::normal;
  std::chrono::milliseconds delay{0};
  std::size_t trickle_bytes = 1;
  std::chrono::milliseconds trickle_interval{0};
};

// The status line and header block of `message` as they go on the wire
// (the body follows them).
std::string wire_head(const http_response& message);

class sandbox_service {
 public:
  // `base_url` is what the sandbox puts in instance apiEndpoint and result URLs.
  sandbox_service(sandbox_options options, std::string base_url);
  sandbox_service(const sandbox_service&) = delete;
  sandbox_service& operator=(const sandbox_service&) = delete;

  // Thread-safe.
  reply handle(const http_request& request);

  const std::string& client_id() const { return state_.options.client_id; }
  const std::string& client_secret() const { return state_.options.client_secret; }
  // The refresh token of the grant made at start (empty with seed_grant off).
  const std::string& seeded_refresh_token() const { return state_.seeded_refresh_token; }
  const std::string& base_url() const { return state_.base_url; }
  const sandbox_options& options() const { return state_.options; }

 private:
  mutable std::mutex mutex_;
  sandbox_state state_;
};

}  // namespace amc::sandbox
