// Strict reading of the JSON documents hosts pass in: unknown fields are
// errors (so typos surface), and every type mismatch names the field and the
// document it is in.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace amc {

// The deepest nesting of arrays and objects libamc reads from outside input
// (host requests, AMC and LwA replies, store files, config). Real documents
// nest a few levels (AMC's Workflow: 4); the limit keeps every recursive
// walk over a parsed document (dump, copy, compare, destroy) far from the
// end of a thread's stack, whatever a host or a server sends.
inline constexpr int max_json_depth = 128;

// Why outside text could not be read as JSON.
struct json_problem {
  enum class kind { invalid, invalid_utf8, too_deep, number_out_of_range } what = kind::invalid;
  std::size_t byte = 0;  // where (0-based)
};

// Parses outside text with the max_json_depth limit, without recursion
// (nlohmann's parser is iterative; the depth is checked in its callback, so
// a document past the limit is abandoned where it crosses it). Never
// throws for bad input: nullopt with `problem` filled instead.
std::optional<nlohmann::json> parse_json_bounded(std::string_view text, json_problem* problem = nullptr);

// "is not valid JSON (byte 12)", "is not valid UTF-8 at byte 12", "nests
// arrays and objects deeper than 128 levels (byte 300)", "holds a number
// too large for a double (such as 1e999)": to follow the name
// of the document in a message. Never quotes the input.
std::string describe(const json_problem& problem);

// Parses `text` as a JSON object; `what` names the document in messages
// ("store config"). NULL or empty text gives an empty object when
// `allow_empty`. Invalid JSON, invalid UTF-8 or not an object:
// invalid_argument; nesting deeper than max_json_depth: `too_deep`
// (invalid_argument for requests, config for a configuration).
nlohmann::json parse_json_object(const char* text, std::string_view what, bool allow_empty,
                                 errc too_deep = errc::invalid_argument);

// Throws invalid_argument naming the first field of `object` that is not in
// `known`, and listing the known ones.
void reject_unknown_fields(const nlohmann::json& object, std::initializer_list<std::string_view> known,
                           std::string_view what);

std::optional<std::string> optional_string(const nlohmann::json& object, std::string_view field,
                                           std::string_view what);
std::optional<bool> optional_bool(const nlohmann::json& object, std::string_view field,
                                  std::string_view what);

}  // namespace amc
