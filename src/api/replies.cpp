// What AMC's replies say, read without the HTTP stack (see replies.hpp).
#include "api/replies.hpp"

#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace amc::api {

std::string amc_error_text(std::string_view body) {
  const auto reply = parse_json_bounded(body).value_or(nlohmann::json());
  std::string text;
  if (reply.is_object()) {
    for (const char* field : {"details", "message", "statusReason", "error_description"})
      if (reply.contains(field) && reply[field].is_string()) {
        text = reply[field].get<std::string>();
        break;
      }
  }
  if (text.empty() && !body.empty() && body.size() < 200 && !reply.is_null()) text = escape_invalid_utf8(body);
  return cut_text(text, 300);
}

namespace {

// A pre-signed URL without its query (the signature and expiry, which
// differ between two signings of one file): what names the file.
std::string_view file_of(std::string_view url) { return url.substr(0, url.find('?')); }

}  // namespace

url_list_reply read_download_urls(const nlohmann::json& reply) {
  url_list_reply list;
  if (!reply.is_object())
    throw error(errc::protocol, "AMC's reply to getWorkflowExecutionDownloadUrls is not a JSON object");
  const auto found = reply.find("downloadUrls");
  if (found == reply.end() || !found->is_array())
    throw error(errc::protocol,
                fmt::format("AMC's reply to getWorkflowExecutionDownloadUrls has no \"downloadUrls\" list ({})",
                            found == reply.end() ? "missing" : found->type_name()));
  for (std::size_t i = 0; i < found->size(); ++i) {
    const auto& url = (*found)[i];
    if (!url.is_string() || url.get_ref<const std::string&>().empty())
      throw error(errc::protocol,
                  fmt::format("AMC's reply to getWorkflowExecutionDownloadUrls has entry {} of \"downloadUrls\" "
                              "that is not a URL ({})",
                              i + 1, url.type_name()));
    const auto& text = url.get_ref<const std::string&>();
    // The same file listed twice would be downloaded and counted twice.
    const auto earlier = std::find_if(list.urls.begin(), list.urls.end(),
                                      [&](const std::string& kept) { return file_of(kept) == file_of(text); });
    if (earlier != list.urls.end()) {
      list.warnings.push_back(fmt::format("AMC listed one result file twice in downloadUrls (entries {} and {}); "
                                          "it was downloaded once",
                                          earlier - list.urls.begin() + 1, i + 1));
      continue;
    }
    list.urls.push_back(text);
  }
  if (list.urls.empty()) throw error(errc::protocol, "AMC returned no download URL for the execution");
  return list;
}

}  // namespace amc::api
