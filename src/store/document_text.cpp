#include "store/document_text.hpp"

#include "common/error.hpp"
#include "common/json_fields.hpp"

#include <fmt/format.h>

namespace amc::store {

nlohmann::json parse_document_text(std::string_view text, std::string_view where, std::string_view advice,
                                   const nlohmann::json& detail) {
  if (text.empty()) return nlohmann::json::object();
  if (text.size() > max_document_bytes)
    throw error(errc::store, fmt::format("{} is {} bytes, more than the {} bytes a store document may hold; "
                                         "it was left untouched: {}",
                                         where, text.size(), max_document_bytes, advice),
                detail);
  json_problem problem;
  auto parsed = parse_json_bounded(text, &problem);
  if (!parsed) throw error(errc::store, fmt::format("{} {}; it was left untouched: {}", where, describe(problem), advice), detail);
  if (!parsed->is_object())
    throw error(errc::store, fmt::format("{} does not hold a JSON object; it was left untouched: {}", where, advice), detail);
  return std::move(*parsed);
}

std::string document_text(const nlohmann::json& document, std::string_view where, int indent,
                          const nlohmann::json& detail) {
  std::string text = document.dump(indent) + (indent >= 0 ? "\n" : "");
  // The round trip, before anything is replaced: what is written must read
  // back, with the reader every later open uses, as the same document.
  bool reads_back = false;
  try {
    reads_back = parse_document_text(text, where, "") == document;
  } catch (const error&) {
    reads_back = false;
  }
  if (!reads_back)
    throw error(errc::internal,
                fmt::format("libamc refused to write {}: the new content would not read back as written; "
                            "it was left as it was. Please report this bug",
                            where),
                detail);
  return text;
}

}  // namespace amc::store
