#include "common/json_fields.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

#include <fmt/format.h>

namespace amc {

namespace {

// Thrown from the parser callback to stop at the limit; never leaves
// parse_json_bounded.
struct too_deep {};

// Where the first '[' or '{' (outside strings) that opens a level past
// max_json_depth is, counted without recursion; nothing when none does. For
// valid JSON the count is exact.
std::optional<std::size_t> first_bracket_past_limit(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t at = 0; at < text.size(); ++at) {
    const char c = text[at];
    if (in_string) {
      if (c == '\\') ++at;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_json_depth) return at;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<nlohmann::json> parse_json_bounded(std::string_view text, json_problem* problem) {
  // nlohmann's lexer takes a NUL byte for the end of the input, so
  // "{...}\0anything" was read as the JSON before the NUL (found by the
  // AMC reply fuzz target). JSON has no raw NUL anywhere (in a string it is
  // \u0000): text holding one is not JSON.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    if (problem != nullptr) *problem = json_problem{json_problem::kind::invalid, nul};
    return std::nullopt;
  }
  // Fast path (every AMC reply goes through here): when no bracket nests
  // past the limit, nlohmann's plain parser, about twice as fast as the
  // callback one. It returns a document only for valid JSON, for which the
  // count above is exact; anything else takes the checked path below, which
  // also says what is wrong and where.
  if (!first_bracket_past_limit(text)) {
    auto document = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (!document.is_discarded()) return document;
  }
  // The callback sees each value start with the depth it is at (0 for the
  // top level); an array or object opened at depth max_json_depth would
  // hold values at max_json_depth + 1.
  const nlohmann::json::parser_callback_t limit = [&](int depth, nlohmann::json::parse_event_t event,
                                                      nlohmann::json&) {
    if ((event == nlohmann::json::parse_event_t::object_start ||
         event == nlohmann::json::parse_event_t::array_start) &&
        depth >= max_json_depth) {
      throw too_deep{};
    }
    return true;
  };
  json_problem found;
  try {
    return nlohmann::json::parse(text.begin(), text.end(), limit);
  } catch (const too_deep&) {
    found.what = json_problem::kind::too_deep;
    found.byte = first_bracket_past_limit(text).value_or(0);
  } catch (const nlohmann::json::parse_error& error) {
    // The message is only classified, never shown: it quotes the input.
    found.what = std::string_view(error.what()).find("UTF-8") != std::string_view::npos
                     ? json_problem::kind::invalid_utf8
                     : json_problem::kind::invalid;
    found.byte = error.byte > 0 ? error.byte - 1 : 0;
  } catch (const nlohmann::json::out_of_range&) {
    // A number past a double's range ("1e999"): nlohmann reports it as
    // out_of_range, not parse_error, and without a position (found by the
    // fuzz targets of tests/fuzz: it escaped every parser of outside JSON).
    found.what = json_problem::kind::number_out_of_range;
  }
  if (problem != nullptr) *problem = found;
  return std::nullopt;
}

std::string describe(const json_problem& problem) {
  switch (problem.what) {
    case json_problem::kind::invalid_utf8:
      return fmt::format("is not valid UTF-8 at byte {}", problem.byte);
    case json_problem::kind::too_deep:
      return fmt::format("nests arrays and objects deeper than {} levels (byte {})", max_json_depth,
                         problem.byte);
    case json_problem::kind::number_out_of_range:
      return "holds a number too large for a double (such as 1e999)";
    case json_problem::kind::invalid: break;
  }
  return fmt::format("is not valid JSON (byte {})", problem.byte);
}

nlohmann::json parse_json_object(const char* text, std::string_view what, bool allow_empty, errc too_deep) {
  if (text == nullptr || *text == '\0') {
    if (allow_empty) return nlohmann::json::object();
    throw error(errc::invalid_argument, fmt::format("the {} is missing: pass a JSON object", what));
  }
  json_problem problem;
  auto document = parse_json_bounded(text, &problem);
  if (!document)
    throw error(problem.what == json_problem::kind::too_deep ? too_deep : errc::invalid_argument,
                fmt::format("the {} {}: pass a JSON object", what, describe(problem)));
  if (!document->is_object())
    throw error(errc::invalid_argument,
                fmt::format("the {} must be a JSON object, not {}", what, document->type_name()));
  return std::move(*document);
}

void reject_unknown_fields(const nlohmann::json& object,
                           std::initializer_list<std::string_view> known, std::string_view what) {
  for (const auto& item : object.items()) {
    bool is_known = false;
    for (const auto name : known) is_known = is_known || item.key() == name;
    if (!is_known)
      throw error(errc::invalid_argument,
                  fmt::format("unknown field {} in the {}; known fields: {}", quoted_text(item.key()), what,
                              fmt::join(known, ", ")));
  }
}

std::optional<std::string> optional_string(const nlohmann::json& object, std::string_view field,
                                           std::string_view what) {
  const auto found = object.find(field);
  if (found == object.end() || found->is_null()) return std::nullopt;
  if (!found->is_string())
    throw error(errc::invalid_argument, fmt::format("field {} of the {} must be a string, not {}",
                                                    quoted_text(field), what, found->type_name()));
  return found->get<std::string>();
}

std::optional<bool> optional_bool(const nlohmann::json& object, std::string_view field,
                                  std::string_view what) {
  const auto found = object.find(field);
  if (found == object.end() || found->is_null()) return std::nullopt;
  if (!found->is_boolean())
    throw error(errc::invalid_argument, fmt::format("field {} of the {} must be true or false, not {}",
                                                    quoted_text(field), what, found->type_name()));
  return found->get<bool>();
}

}  // namespace amc
