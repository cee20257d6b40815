// Strict reading of the JSON documents hosts pass in: unknown fields are
// errors (so typos surface), and every type mismatch names the field and the
// document it is in.
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace amc {

// Parses `text` as a JSON object; `what` names the document in messages
// ("store config"). NULL or empty text gives an empty object when
// `allow_empty`.
nlohmann::json parse_json_object(const char* text, std::string_view what, bool allow_empty);

// Throws invalid_argument naming the first field of `object` that is not in
// `known`, and listing the known ones.
void reject_unknown_fields(const nlohmann::json& object, std::initializer_list<std::string_view> known,
                           std::string_view what);

std::optional<std::string> optional_string(const nlohmann::json& object, std::string_view field,
                                           std::string_view what);
std::optional<bool> optional_bool(const nlohmann::json& object, std::string_view field,
                                  std::string_view what);

}  // namespace amc
