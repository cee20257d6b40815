// Result files of a SUCCEEDED execution: every part of downloadUrls, fetched
// in parallel, streamed to files, checked complete, with URLs asked for again
// when they have expired (they last about 10 minutes).
#pragma once

#include "api/session.hpp"
#include "store/execution_journal.hpp"

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <optional>

namespace amc::api {

struct download_event {
  int part = 0;   // 1-based
  int parts = 0;
  std::uint64_t bytes = 0;        // of this part so far
  std::uint64_t total_bytes = 0;  // of this part, 0 when unknown
};

// The CSV dialect of a workflow's result files: AMC's Workflow.outputFormat
// {separatorCharacter, quoteCharacter, escapeCharacter}, one byte each.
// AMC's defaults are ',', '"' and '\\' (the escape makes the next character
// literal inside a quoted field; a doubled quote is a literal quote too).
// An empty quote or escape character turns quoting or escaping off.
struct csv_dialect {
  char separator = ',';
  std::optional<char> quote = '"';
  std::optional<char> escape = '\\';
  bool operator==(const csv_dialect&) const = default;
};

// The dialect an outputFormat object asks for, AMC's default for each field
// it leaves out. Throws protocol naming `operation` and the field when a
// field is not text of at most one byte (or the separator is empty).
csv_dialect dialect_of(const nlohmann::json& output_format, std::string_view operation);

struct download_options {
  std::filesystem::path directory;
  int parallelism = 4;
  int max_url_refreshes = 3;  // per part
  // A part that arrives cut short (see summarize_csv) is fetched again this
  // many times before the download fails.
  int max_incomplete_retries = 2;  // per part
  // The result files' dialect; unset: the one of the workflow that produced
  // them (an ad-hoc run's, journaled when libamc submitted it; an
  // outputFormat in the execution AMC reports; else the saved workflow's),
  // else AMC's defaults.
  std::optional<csv_dialect> dialect;
  // Where an ad-hoc run's outputFormat was journaled at submit (optional).
  store::execution_journal* journal = nullptr;
  std::function<void(const download_event&)> progress;
};

// {"amc_execution_id", "directory", "files": [{"part", "path", "bytes",
// "rows", "columns"}], "total_bytes", "total_rows", "warnings": [text],
// "output_format": {separatorCharacter, quoteCharacter, escapeCharacter}}
// A file that AMC lists twice (URLs equal without their query string) is
// downloaded once; the duplicate is dropped with a warning.
boost::asio::awaitable<nlohmann::json> download_results(session& amc, net::http_client& http,
                                                        const call_context& context,
                                                        std::string amc_execution_id,
                                                        download_options options);

// Reads a downloaded CSV part in `dialect`: its header columns (made valid
// UTF-8) and data rows (quoted fields with embedded line breaks or
// separators count as one field of one row). Throws protocol when the file
// has no header, ends inside a quoted field, or its last row has fewer
// fields than the header (a body cut short).
// Why not a CSV library: Debian's libcsv (the one that fits the build)
// knows only doubled quotes, not AMC's escape character.
struct csv_summary {
  std::vector<std::string> columns;
  std::uint64_t rows = 0;
};
csv_summary summarize_csv(const std::filesystem::path& path, const csv_dialect& dialect = {});

}  // namespace amc::api
