#include "sandbox/faults.hpp"

#include <stdexcept>

namespace amc::sandbox {

namespace {

constexpr std::array<std::string_view, fault_kind_count> fault_kind_names = {
    "latency",        "error_status", "rate_limit", "reset_before_headers",  "reset_after_headers",
    "truncated_body", "malformed_json", "trickle",  "expired_download_urls", "drop_after_accept",
};

template <class T>
T read_number(const nlohmann::json& value, const char* field, T fallback) {
  if (!value.contains(field)) return fallback;
  const auto& item = value.at(field);
  if (!item.is_number()) throw std::invalid_argument(std::string("fault field '") + field + "' must be a number");
  return item.get<T>();
}

std::string read_text(const nlohmann::json& value, const char* field) {
  if (!value.contains(field)) return {};
  const auto& item = value.at(field);
  if (!item.is_string()) throw std::invalid_argument(std::string("fault field '") + field + "' must be a string");
  return item.get<std::string>();
}

}  // namespace

std::string_view to_string(fault_kind kind) { return fault_kind_names.at(static_cast<std::size_t>(kind)); }

std::optional<fault_kind> parse_fault_kind(std::string_view text) {
  for (std::size_t i = 0; i < fault_kind_names.size(); ++i) {
    if (fault_kind_names[i] == text) return static_cast<fault_kind>(i);
  }
  // Friendlier aliases for the two most common ones.
  if (text == "status" || text == "5xx") return fault_kind::error_status;
  if (text == "429") return fault_kind::rate_limit;
  return std::nullopt;
}

fault_rule parse_fault_rule(const nlohmann::json& value) {
  if (!value.is_object()) throw std::invalid_argument("a fault must be a JSON object");
  static constexpr std::array<std::string_view, 12> known = {
      "kind",   "method", "operation",   "path",       "count",         "skip",
      "status", "retry_after", "latency_ms", "trickle_bytes", "trickle_interval_ms", "id"};
  for (const auto& [key, item] : value.items()) {
    bool found = false;
    for (auto name : known) found = found || name == key;
    if (!found) throw std::invalid_argument("unknown fault field '" + key + "'");
  }
  fault_rule rule;
  auto kind = parse_fault_kind(read_text(value, "kind"));
  if (!kind) {
    std::string names;
    for (auto name : fault_kind_names) names += (names.empty() ? "" : ", ") + std::string(name);
    throw std::invalid_argument("fault 'kind' must be one of: " + names);
  }
  rule.kind = *kind;
  rule.method = read_text(value, "method");
  rule.operation = read_text(value, "operation");
  rule.path = read_text(value, "path");
  rule.count = read_number<long>(value, "count", -1);
  rule.skip = read_number<long>(value, "skip", 0);
  rule.status = read_number<int>(value, "status", rule.kind == fault_kind::rate_limit ? 429 : 500);
  // null: a 429 without Retry-After (0 is the header "Retry-After: 0").
  const bool no_retry_after = value.contains("retry_after") && value.at("retry_after").is_null();
  rule.retry_after_seconds = no_retry_after ? 1 : read_number<int>(value, "retry_after", 1);
  rule.latency_ms = read_number<int>(value, "latency_ms", rule.kind == fault_kind::latency ? 1000 : 0);
  rule.trickle_bytes = read_number<int>(value, "trickle_bytes", 1);
  rule.trickle_interval_ms = read_number<int>(value, "trickle_interval_ms", 20);
  if (rule.status < 100 || rule.status > 599) throw std::invalid_argument("fault 'status' must be an HTTP status");
  if (rule.trickle_bytes < 1) throw std::invalid_argument("fault 'trickle_bytes' must be at least 1");
  if (rule.latency_ms < 0 || rule.trickle_interval_ms < 0 || rule.retry_after_seconds < 0 || rule.skip < 0) {
    throw std::invalid_argument("fault times and counts must not be negative");
  }
  if (no_retry_after) rule.retry_after_seconds = fault_rule::no_retry_after;
  return rule;
}

nlohmann::json fault_rule_to_json(const fault_rule& rule) {
  nlohmann::json out = {{"id", rule.id},         {"kind", to_string(rule.kind)}, {"count", rule.count},
                        {"skip", rule.skip},     {"fired", rule.fired}};
  if (!rule.method.empty()) out["method"] = rule.method;
  if (!rule.operation.empty()) out["operation"] = rule.operation;
  if (!rule.path.empty()) out["path"] = rule.path;
  switch (rule.kind) {
    case fault_kind::error_status: out["status"] = rule.status; break;
    case fault_kind::rate_limit:
      out["status"] = rule.status;
      out["retry_after"] = rule.retry_after_seconds == fault_rule::no_retry_after
                               ? nlohmann::json()
                               : nlohmann::json(rule.retry_after_seconds);
      break;
    case fault_kind::latency: out["latency_ms"] = rule.latency_ms; break;
    case fault_kind::trickle:
      out["trickle_bytes"] = rule.trickle_bytes;
      out["trickle_interval_ms"] = rule.trickle_interval_ms;
      break;
    default: break;
  }
  return out;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative wildcard match with backtracking to the last '*'.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace amc::sandbox
