// Helpers shared by the service's source files: query/form decoding and
// response construction in AMC's and LwA's body formats.
#pragma once

#include "common/url_encoding.hpp"
#include "sandbox/service.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace amc::sandbox::detail {

using parameters = std::vector<std::pair<std::string, std::string>>;

// Percent-encoding is a low-level text helper of src/common, not model code.
using amc::form_decode;
using amc::percent_encode;
// a=1&b=2 (query strings and form bodies); '+' is a space.
parameters parse_parameters(std::string_view text);
const std::string* find_parameter(const parameters& list, std::string_view name);

// Media types from the spec, per API family.
inline constexpr std::string_view workflows_media_type = "application/vnd.amcworkflows.v1+json";
inline constexpr std::string_view executions_media_type = "application/vnd.amcworkflowexecutions.v1+json";
inline constexpr std::string_view schedules_media_type = "application/vnd.amcschedules.v1+json";
inline constexpr std::string_view instances_media_type = "application/vnd.amcinstances.v1+json";
inline constexpr std::string_view data_sources_media_type = "application/vnd.amcdatasources.v1+json";
inline constexpr std::string_view accounts_media_type = "application/vnd.amcaudiencesconnections.v1+json";
inline constexpr std::string_view json_media_type = "application/json";

http_response make_response(const http_request& request, http::status status, std::string body,
                            std::string_view content_type);
// The same for an HTTP `version` (11 = 1.1) and keep-alive choice.
http_response make_response(unsigned version, bool keep_alive, http::status status, std::string body,
                            std::string_view content_type);
http_response make_json(const http_request& request, http::status status, const nlohmann::json& body,
                        std::string_view content_type = json_media_type);
// The spec's Error body: {"code": "<HTTP status>", "details": "..."}.
http_response amc_error(const http_request& request, http::status status, std::string_view details,
                        std::string_view content_type = json_media_type);
// LwA's body: {"error": "...", "error_description": "..."}.
http_response lwa_error(const http_request& request, http::status status, std::string_view error,
                        std::string_view description);

std::string format_time(double unix_seconds);
// "20260102T030405Z", the form of S3's X-Amz-Date.
std::string amz_date_text(long unix_time);
bool is_valid_workflow_id(std::string_view id);

}  // namespace amc::sandbox::detail
