#include "sandbox/faults.hpp"

#include "sandbox/input_limits.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <stdexcept>

namespace amc::sandbox {

namespace {

constexpr std::array<std::string_view, fault_kind_count> fault_kind_names = {
    "latency",        "error_status",   "rate_limit", "reset_before_headers",  "reset_after_headers",
    "truncated_body", "malformed_json", "trickle",    "expired_download_urls", "drop_after_accept",
    "patch_reply",    "replace_reply",  "endless_pages",
};

// Generous bounds: wide enough for any test, narrow enough that no value
// wraps when it becomes a duration or an int.
constexpr std::int64_t max_fault_count = 1'000'000'000;
constexpr std::int64_t max_fault_delay_ms = 600'000;  // ten minutes
constexpr std::int64_t max_retry_after_seconds = 86'400;
constexpr std::int64_t max_trickle_bytes = 1 << 20;
constexpr std::int64_t max_nesting_depth = 1'000'000;  // a 2 MB body

std::string field_name(const char* field) { return std::string("fault field '") + field + "'"; }

template <class T>
T read_number(const nlohmann::json& value, const char* field, T fallback, std::int64_t minimum, std::int64_t maximum) {
  if (!value.contains(field)) return fallback;
  return static_cast<T>(checked_integer(value.at(field), field, minimum, maximum));
}

std::string read_text(const nlohmann::json& value, const char* field) {
  if (!value.contains(field)) return {};
  const auto& item = value.at(field);
  if (!item.is_string()) throw std::invalid_argument(field_name(field) + " must be a string");
  return item.get<std::string>();
}

// Standard base64 (RFC 4648 section 4, padded), decoded by OpenSSL.
std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return std::nullopt;
  }
  for (const char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=') return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                   reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (size < 0) return std::nullopt;
  // EVP_DecodeBlock counts the bytes that the padding stands for.
  const std::size_t padding = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
  out.resize(static_cast<std::size_t>(size) - padding);
  return out;
}

// RFC 6902 section 4: an array of operations, each with a known "op", a
// JSON Pointer "path", "from" for move and copy, "value" for add, replace
// and test. Checked when the rule is added, so a typo is a 400 then and not
// a 500 on some later request.
void check_json_patch(const nlohmann::json& patch) {
  if (!patch.is_array() || patch.empty()) {
    throw std::invalid_argument("fault field 'json_patch' must be a non-empty array of RFC 6902 operations");
  }
  for (std::size_t i = 0; i < patch.size(); ++i) {
    const auto& step = patch[i];
    const std::string where = fmt::format("json_patch[{}]", i);
    if (!step.is_object()) throw std::invalid_argument(where + " must be an object {\"op\", \"path\", ...}");
    if (!step.contains("op") || !step.at("op").is_string()) throw std::invalid_argument(where + " needs an \"op\" string");
    const auto& op = step.at("op").get_ref<const std::string&>();
    static constexpr std::array<std::string_view, 6> ops = {"add", "remove", "replace", "move", "copy", "test"};
    if (std::find(ops.begin(), ops.end(), op) == ops.end()) {
      throw std::invalid_argument(where + ".op must be add, remove, replace, move, copy or test, got '" + op + "'");
    }
    auto pointer = [&](const char* member) {
      if (!step.contains(member) || !step.at(member).is_string()) {
        throw std::invalid_argument(where + " (" + op + ") needs a \"" + member + "\" JSON Pointer string");
      }
      try {
        nlohmann::json::json_pointer checked(step.at(member).get<std::string>());
      } catch (const nlohmann::json::exception&) {
        throw std::invalid_argument(where + "." + member + " is not a JSON Pointer (RFC 6901): '" +
                                    step.at(member).get<std::string>() + "'");
      }
    };
    pointer("path");
    if (op == "move" || op == "copy") pointer("from");
    if ((op == "add" || op == "replace" || op == "test") && !step.contains("value")) {
      throw std::invalid_argument(where + " (" + op + ") needs a \"value\"");
    }
  }
}

void parse_reply_fields(const nlohmann::json& value, fault_rule& rule) {
  const bool has_patch = value.contains("json_patch");
  const int replacements = static_cast<int>(value.contains("body")) + static_cast<int>(value.contains("body_text")) +
                           static_cast<int>(value.contains("body_base64")) +
                           static_cast<int>(value.contains("nesting_depth"));
  if (rule.kind != fault_kind::patch_reply && has_patch) {
    throw std::invalid_argument("fault field 'json_patch' applies only to kind patch_reply");
  }
  if (rule.kind != fault_kind::replace_reply && replacements > 0) {
    throw std::invalid_argument(
        "fault fields 'body', 'body_text', 'body_base64' and 'nesting_depth' apply only to kind replace_reply");
  }
  if (rule.kind == fault_kind::patch_reply) {
    if (!has_patch) throw std::invalid_argument("a patch_reply fault needs 'json_patch' (an RFC 6902 array)");
    check_json_patch(value.at("json_patch"));
    rule.json_patch = value.at("json_patch");
  }
  if (rule.kind == fault_kind::replace_reply) {
    if (replacements != 1) {
      throw std::invalid_argument(
          "a replace_reply fault needs exactly one of 'body' (JSON), 'body_text' (a string sent as is), "
          "'body_base64' (bytes) or 'nesting_depth' (a number)");
    }
    if (value.contains("body")) {
      rule.body = value.at("body");
      rule.body_text = rule.body->dump();
    } else if (value.contains("body_text")) {
      if (!value.at("body_text").is_string()) throw std::invalid_argument("fault field 'body_text' must be a string");
      rule.body_text = value.at("body_text").get<std::string>();
    } else if (value.contains("body_base64")) {
      const std::string encoded = read_text(value, "body_base64");
      rule.body_text = decode_base64(encoded);
      if (!rule.body_text) throw std::invalid_argument("fault field 'body_base64' is not padded standard base64");
      rule.body_base64 = encoded;
    } else {
      rule.nesting_depth = read_number<long>(value, "nesting_depth", 0, 1, max_nesting_depth);
    }
  }
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
  static constexpr std::array<std::string_view, 17> known = {
      "kind",          "method",         "operation",  "path",        "count",     "skip",
      "status",        "retry_after",    "latency_ms", "trickle_bytes", "trickle_interval_ms",
      "id",            "json_patch",     "body",       "body_text",   "body_base64", "nesting_depth"};
  for (const auto& [key, item] : value.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw std::invalid_argument("unknown fault field '" + key + "'");
    }
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
  rule.count = read_number<long>(value, "count", -1, -1, max_fault_count);
  rule.skip = read_number<long>(value, "skip", 0, 0, max_fault_count);
  rule.status_given = value.contains("status");
  rule.status = read_number<int>(value, "status", rule.kind == fault_kind::rate_limit ? 429 : 500, 100, 599);
  // null: a 429 without Retry-After (0 is the header "Retry-After: 0").
  if (value.contains("retry_after") && value.at("retry_after").is_null())
    rule.retry_after_seconds = fault_rule::no_retry_after;
  else
    rule.retry_after_seconds = read_number<int>(value, "retry_after", 1, 0, max_retry_after_seconds);
  rule.latency_ms = read_number<int>(value, "latency_ms", rule.kind == fault_kind::latency ? 1000 : 0, 0,
                                     max_fault_delay_ms);
  rule.trickle_bytes = read_number<int>(value, "trickle_bytes", 1, 1, max_trickle_bytes);
  rule.trickle_interval_ms = read_number<int>(value, "trickle_interval_ms", 20, 0, max_fault_delay_ms);
  parse_reply_fields(value, rule);
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
    case fault_kind::patch_reply:
      out["json_patch"] = rule.json_patch;
      if (rule.status_given) out["status"] = rule.status;
      break;
    case fault_kind::replace_reply:
      if (rule.body) {
        out["body"] = *rule.body;
      } else if (rule.body_base64) {
        out["body_base64"] = *rule.body_base64;
      } else if (rule.body_text) {
        out["body_text"] = *rule.body_text;
      } else {
        out["nesting_depth"] = rule.nesting_depth;
      }
      if (rule.status_given) out["status"] = rule.status;
      break;
    default: break;
  }
  return out;
}

replaced_body apply_reply_fault(const fault_rule& rule, const std::string& handler_body) {
  if (rule.kind == fault_kind::replace_reply) {
    if (rule.body_text) return {*rule.body_text, false};
    // Generated as text: no JSON value this deep is ever built.
    const auto depth = static_cast<std::size_t>(rule.nesting_depth);
    std::string text;
    text.reserve(2 * depth);
    text.append(depth, '[');
    text.append(depth, ']');
    return {std::move(text), false};
  }
  // The handler's body is the sandbox's own shallow JSON (or a CSV file).
  nlohmann::json document = nlohmann::json::parse(handler_body, nullptr, false);
  if (document.is_discarded()) {
    return {fmt::format("sandbox fault patch_reply (rule {}) could not be applied: the reply body is not JSON",
                        rule.id),
            true};
  }
  try {
    return {document.patch(rule.json_patch).dump(), false};
  } catch (const nlohmann::json::exception& error) {
    return {fmt::format("sandbox fault patch_reply (rule {}) could not be applied: {}", rule.id, error.what()), true};
  }
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
