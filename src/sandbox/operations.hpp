// The operations the sandbox serves (the spec's operationIds plus LwA's and
// the result download), and the HTTP message types its handlers speak.
#pragma once

#include <boost/beast/http.hpp>

#include <cstddef>
#include <string_view>

namespace amc::sandbox {

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

enum class operation : int {
  unknown,
  lwa_token,
  lwa_consent,
  list_accounts,
  list_instances,
  get_instance,
  list_workflows,
  create_workflow,
  get_workflow,
  update_workflow,
  delete_workflow,
  list_executions,
  create_execution,
  get_execution,
  update_execution,
  get_download_urls,
  download_result,
  list_data_sources,
  get_data_source,
  // Schedules (issue 24): appended, so the counters' order above stays.
  list_schedules,
  create_schedule,
  get_schedule,
  update_schedule,
  delete_schedule,
};
inline constexpr std::size_t operation_count = 24;

// The spec's operationId (or lwaToken, lwaConsent, downloadResult).
std::string_view operation_name(operation op);

}  // namespace amc::sandbox
