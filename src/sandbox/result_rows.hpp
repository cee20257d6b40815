// The result files of an execution, as AMC writes them: CSV in the
// workflow's outputFormat (separator, quote and escape characters; AMC's
// defaults otherwise), with rows that look like the data they claim to be:
// dates inside the execution's time window in its time zone, clicks never
// above impressions, rates computed from their parts. Every value is a
// function of the execution's seed and the row's index, so two sandboxes
// with the same seed write the same files.
#pragma once

#include "sandbox/time_zone.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace amc::sandbox {

// Workflow.outputFormat (shared/specs: separatorCharacter, quoteCharacter,
// escapeCharacter). The spec gives no defaults; the sandbox uses RFC 4180's
// (',' and '"', a quote inside a quoted field doubled), which is what
// Amazon's notebook reads with pandas.read_csv. An escape character other
// than the quote is written before every quote and escape character inside
// a quoted field.
struct csv_dialect {
  char separator = ',';
  char quote = '"';
  char escape = '"';
};

// From an outputFormat object; absent or empty fields keep the default.
// Throws std::invalid_argument naming the field when it is not a string of
// one character, is a line break, or when separator and quote are the same.
csv_dialect parse_output_format(const nlohmann::json& output_format);

// Appends `text` as one CSV field, quoted when it holds the separator, the
// quote or escape character, or a line break.
void append_csv_field(std::string& out, std::string_view text, const csv_dialect& dialect);

struct result_column {
  std::string name;
  std::string type;  // the outputColumns dataType, STRING when absent
};

// The workflow's outputColumns, or the sandbox's default columns
// campaign_id, event_date, impressions, clicks, spend.
std::vector<result_column> result_columns(const nlohmann::json& output_columns);

struct result_shape {
  std::vector<result_column> columns;
  csv_dialect dialect;
  std::int64_t window_start = 0;  // UTC unix seconds, inclusive
  std::int64_t window_end = 0;    // UTC unix seconds, exclusive
  time_zone zone;                 // the execution's timeWindowTimeZone
  long rows = 0;                  // data rows the plan asks for, over all parts
  std::uint64_t seed = 0;
  bool quoted_newlines = false;   // some text values hold a (quoted) line break
};

// The data rows there are: the plan's, or none when the window is empty
// (CURRENT_MONTH on the first of the month).
long result_row_count(const result_shape& shape);

// The header line, then data rows [first, last) of result_row_count().
std::string result_csv(const result_shape& shape, long first, long last);

}  // namespace amc::sandbox
