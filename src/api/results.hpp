// Result files of a SUCCEEDED execution: every part of downloadUrls, fetched
// in parallel, streamed to files, checked complete, with URLs asked for again
// when they have expired (they last about 10 minutes).
#pragma once

#include "api/session.hpp"

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>

namespace amc::api {

struct download_event {
  int part = 0;   // 1-based
  int parts = 0;
  std::uint64_t bytes = 0;        // of this part so far
  std::uint64_t total_bytes = 0;  // of this part, 0 when unknown
};

struct download_options {
  std::filesystem::path directory;
  int parallelism = 4;
  int max_url_refreshes = 3;  // per part
  // A part that arrives cut short (see summarize_csv) is fetched again this
  // many times before the download fails.
  int max_incomplete_retries = 2;  // per part
  std::function<void(const download_event&)> progress;
};

// {"amc_execution_id", "directory", "files": [{"part", "path", "bytes",
// "rows", "columns"}], "total_bytes", "total_rows", "warnings": [text]}
// A file that AMC lists twice (URLs equal without their query string) is
// downloaded once; the duplicate is dropped with a warning.
boost::asio::awaitable<nlohmann::json> download_results(session& amc, net::http_client& http,
                                                        const call_context& context,
                                                        std::string amc_execution_id,
                                                        download_options options);

// Reads a downloaded CSV part: its header columns and data rows (quoted
// fields with embedded newlines count as one row). Throws protocol when the
// file has no header, ends inside a quoted field, or its last row has fewer
// fields than the header (a body cut short).
struct csv_summary {
  std::vector<std::string> columns;
  std::uint64_t rows = 0;
};
csv_summary summarize_csv(const std::filesystem::path& path);

}  // namespace amc::api
