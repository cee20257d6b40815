#include "common/json_fields.hpp"

#include "common/error.hpp"

#include <fmt/format.h>

namespace amc {

nlohmann::json parse_json_object(const char* text, std::string_view what, bool allow_empty) {
  if (text == nullptr || *text == '\0') {
    if (allow_empty) return nlohmann::json::object();
    throw error(errc::invalid_argument, fmt::format("the {} is missing: pass a JSON object", what));
  }
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& problem) {
    throw error(errc::invalid_argument,
                fmt::format("the {} is not valid JSON (byte {}): pass a JSON object", what,
                            problem.byte));
  }
  if (!document.is_object())
    throw error(errc::invalid_argument,
                fmt::format("the {} must be a JSON object, not {}", what, document.type_name()));
  return document;
}

void reject_unknown_fields(const nlohmann::json& object,
                           std::initializer_list<std::string_view> known, std::string_view what) {
  for (const auto& item : object.items()) {
    bool is_known = false;
    for (const auto name : known) is_known = is_known || item.key() == name;
    if (!is_known)
      throw error(errc::invalid_argument,
                  fmt::format("unknown field '{}' in the {}; known fields: {}", item.key(), what,
                              fmt::join(known, ", ")));
  }
}

std::optional<std::string> optional_string(const nlohmann::json& object, std::string_view field,
                                           std::string_view what) {
  const auto found = object.find(field);
  if (found == object.end() || found->is_null()) return std::nullopt;
  if (!found->is_string())
    throw error(errc::invalid_argument, fmt::format("field '{}' of the {} must be a string, not {}",
                                                    field, what, found->type_name()));
  return found->get<std::string>();
}

std::optional<bool> optional_bool(const nlohmann::json& object, std::string_view field,
                                  std::string_view what) {
  const auto found = object.find(field);
  if (found == object.end() || found->is_null()) return std::nullopt;
  if (!found->is_boolean())
    throw error(errc::invalid_argument, fmt::format("field '{}' of the {} must be true or false, not {}",
                                                    field, what, found->type_name()));
  return found->get<bool>();
}

}  // namespace amc
