// What AMC's replies say, read without the HTTP stack: the texts and lists
// that the operations (operations.cpp, results.cpp, session.cpp) take from
// a reply body. Pure functions, so the fuzz targets (tests/fuzz) run them
// on any bytes without a server.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace amc::api {

// AMC's error text from a reply body ({"code","details"} for reporting,
// {"message"} for administration), short and safe to show.
std::string amc_error_text(std::string_view body);

// The result files of one downloadUrls reply, each once.
struct url_list_reply {
  std::vector<std::string> urls;
  std::vector<std::string> warnings;  // duplicates dropped
};

// getWorkflowExecutionDownloadUrls' reply: its "downloadUrls", every entry
// non-empty text, a file listed twice (URLs equal without their query)
// kept once with a warning. Throws protocol for any other shape, or when
// no URL is left.
url_list_reply read_download_urls(const nlohmann::json& reply);

}  // namespace amc::api
