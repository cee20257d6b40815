// The CSV of AMC's result files: the dialect an outputFormat asks for, and
// the header and row count of a downloaded part (declared in
// api/results.hpp). Kept apart from the download's coroutines so that the
// fuzz target of CSV result headers (tests/fuzz) links it without the HTTP
// stack.
#include "api/results.hpp"

#include "api/shapes.hpp"
#include "common/error.hpp"
#include "common/text.hpp"

#include <fmt/format.h>

#include <fstream>
#include <optional>

namespace amc::api {

csv_dialect dialect_of(const nlohmann::json& output_format, std::string_view operation) {
  csv_dialect dialect;
  if (output_format.is_null()) return dialect;
  require_reply_object(output_format, "outputFormat", operation);
  // One byte each; empty switches quoting or escaping off.
  auto character = [&](const char* field) -> std::optional<std::optional<char>> {
    const auto text = reply_string(output_format, field, operation);
    if (!text) return std::nullopt;  // AMC's default
    if (text->size() > 1)
      throw error(errc::protocol,
                  fmt::format("AMC's {} has outputFormat.{} {}, which is not one character; libamc reads "
                              "result files with one-byte separator, quote and escape characters",
                              operation, field, quoted_text(*text)),
                  {{"operation", operation}, {"field", field}});
    return text->empty() ? std::optional<char>{} : std::optional<char>{text->front()};
  };
  if (const auto separator = character("separatorCharacter")) {
    if (!*separator)
      throw error(errc::protocol,
                  fmt::format("AMC's {} has an empty outputFormat.separatorCharacter", operation),
                  {{"operation", operation}, {"field", "separatorCharacter"}});
    dialect.separator = **separator;
  }
  if (const auto quote = character("quoteCharacter")) dialect.quote = *quote;
  if (const auto escape = character("escapeCharacter")) dialect.escape = *escape;
  return dialect;
}

csv_summary summarize_csv(const std::filesystem::path& path, const csv_dialect& dialect) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw error(errc::protocol, fmt::format("cannot read the downloaded file '{}'", path.string()));
  csv_summary summary;
  std::string field;
  bool in_quotes = false;
  bool header_done = false;
  bool line_has_content = false;
  std::size_t fields_in_line = 0;
  std::size_t last_row_fields = 0;
  char c;
  auto end_field = [&] {
    if (!header_done) summary.columns.push_back(to_valid_utf8(field));
    field.clear();
    ++fields_in_line;
  };
  auto end_line = [&] {
    if (!line_has_content) return;
    end_field();
    if (header_done) {
      ++summary.rows;
      last_row_fields = fields_in_line;
    }
    header_done = true;
    line_has_content = false;
    fields_in_line = 0;
  };
  const auto is = [](char value, std::optional<char> wanted) { return wanted && value == *wanted; };
  while (in.get(c)) {
    if (in_quotes) {
      // Inside quotes the escape character makes a following quote or
      // escape character literal (Spark's CSV writer, which AMC uses);
      // anything else after it is itself. A doubled quote is a quote.
      if (is(c, dialect.escape) && !is(c, dialect.quote) && in.peek() != EOF &&
          (is(static_cast<char>(in.peek()), dialect.quote) || is(static_cast<char>(in.peek()), dialect.escape))) {
        in.get(c);
        field += c;
      } else if (is(c, dialect.quote)) {
        if (in.peek() != EOF && is(static_cast<char>(in.peek()), dialect.quote)) {
          in.get(c);
          field += c;
        } else {
          in_quotes = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (is(c, dialect.quote)) {
      in_quotes = true;
      line_has_content = true;
    } else if (c == dialect.separator) {
      end_field();
      line_has_content = true;
    } else if (c == '\n') {
      end_line();
    } else if (c != '\r') {
      field += c;
      line_has_content = true;
    }
  }
  const bool ends_in_quotes = in_quotes;
  end_line();
  if (summary.columns.empty() || (summary.columns.size() == 1 && summary.columns.front().empty()))
    throw error(errc::protocol,
                fmt::format("the result file '{}' has no CSV header row; the download is incomplete "
                            "or not a result file",
                            path.string()));
  // A body cut short with consistent framing (a proxy, a server that sent
  // a wrong Content-Length) passes the transport's length check; a cut
  // inside a quoted field or a row shows here. Only the last row is held to
  // the header's width, because a cut can only be there.
  if (ends_in_quotes)
    throw error(errc::protocol,
                fmt::format("the result file '{}' ends inside a quoted field; the download is incomplete",
                            path.string()));
  if (summary.rows > 0 && last_row_fields < summary.columns.size())
    throw error(errc::protocol,
                fmt::format("the last row of the result file '{}' has {} field(s) where its header has {}; "
                            "the download is incomplete",
                            path.string(), last_row_fields, summary.columns.size()));
  return summary;
}

}  // namespace amc::api
