// Faults the sandbox injects on demand: what a flaky network or an unhappy
// AMC does to a client. Rules come from the config file or the admin API and
// match per operation, per path or globally (never admin paths).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace amc::sandbox {

enum class fault_kind : int {
  latency,                // delay the response by latency_ms
  error_status,           // reply `status` (default 500) with an Error body, handler not run
  rate_limit,             // 429 with Retry-After, handler not run
  reset_before_headers,   // connection reset after reading the request, handler not run
  reset_after_headers,    // handler runs, headers are written, then a reset
  truncated_body,         // handler runs, Content-Length is full but half the body is sent
  malformed_json,         // handler runs, the JSON body is cut short (framing stays valid)
  trickle,                // response written a few bytes at a time
  expired_download_urls,  // downloadUrls hands out URLs that have already expired
  drop_after_accept,      // handler runs (e.g. the execution is created), then a reset
};
inline constexpr std::size_t fault_kind_count = 10;

std::string_view to_string(fault_kind kind);
std::optional<fault_kind> parse_fault_kind(std::string_view text);

struct fault_rule {
  std::uint64_t id = 0;
  fault_kind kind = fault_kind::error_status;
  std::string method;     // empty: any
  std::string operation;  // spec operationId (or lwaToken, lwaConsent, downloadResult); empty: any
  std::string path;       // glob, '*' matches any run of characters; empty: any
  long count = -1;        // how many times it fires; -1: until cleared
  long skip = 0;          // matching requests to let through first
  int status = 500;
  int retry_after_seconds = 1;  // 0: no Retry-After header
  int latency_ms = 0;
  int trickle_bytes = 1;
  int trickle_interval_ms = 20;
  long fired = 0;  // bookkeeping
};

fault_rule parse_fault_rule(const nlohmann::json& value);  // throws std::invalid_argument
nlohmann::json fault_rule_to_json(const fault_rule& rule);

// '*' matches any (possibly empty) run of characters.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace amc::sandbox
