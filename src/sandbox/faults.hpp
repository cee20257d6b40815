// Faults the sandbox injects on demand: what a flaky network or an unhappy
// AMC does to a client. Rules come from the config file or the admin API and
// match per operation, per path or globally (never admin paths).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
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
  patch_reply,            // handler runs, then an RFC 6902 JSON Patch changes its JSON reply body
  replace_reply,          // handler runs, then its reply body is replaced by given bytes
  endless_pages,          // a list's reply gets a nextToken new every time; a request carrying
                          // one is answered with the first page again: the list never ends
};
inline constexpr std::size_t fault_kind_count = 13;

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
  static constexpr int no_retry_after = -1;
  int retry_after_seconds = 1;  // no_retry_after: the 429 has no Retry-After
  int latency_ms = 0;
  int trickle_bytes = 1;
  int trickle_interval_ms = 20;
  bool status_given = false;  // patch_reply, replace_reply: the handler's status unless given
  nlohmann::json json_patch;  // patch_reply: the RFC 6902 operations, checked for shape
  // replace_reply: exactly one of these describes the new body.
  std::optional<nlohmann::json> body;      // any JSON value, sent serialised
  std::optional<std::string> body_text;    // bytes sent as they are (also what body and
                                           // body_base64 turn into)
  std::optional<std::string> body_base64;  // standard base64 of bytes that need not be UTF-8
  long nesting_depth = 0;                  // [[[…]]] this deep, generated as text
  long fired = 0;  // bookkeeping
};

// What a reply fault turns the handler's body into. patch_reply: the
// patched JSON, or an error text (`failed`) when the body is not JSON or the
// patch does not apply. replace_reply: the rule's bytes.
struct replaced_body {
  std::string text;
  bool failed = false;
};
replaced_body apply_reply_fault(const fault_rule& rule, const std::string& handler_body);

fault_rule parse_fault_rule(const nlohmann::json& value);  // throws std::invalid_argument
nlohmann::json fault_rule_to_json(const fault_rule& rule);

// '*' matches any (possibly empty) run of characters.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace amc::sandbox
