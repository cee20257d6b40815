// Result files behind the signed download URLs: CSV parts with a header row
// (written by result_rows) and a metadata document, answered like S3
// answers (403 XML when a URL has expired).
#include "common/time.hpp"
#include "sandbox/service.hpp"
#include "sandbox/service_detail.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <cmath>

namespace amc::sandbox {

using nlohmann::json;
using http::status;

namespace {

http_response s3_error(const http_request& request, status code, std::string_view s3_code, std::string_view message) {
  return detail::make_response(
      request, code,
      fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>\n",
                  s3_code, message),
      "application/xml");
}

}  // namespace

std::string sandbox_service::sign_result_path(std::string_view path, std::string_view amz_date, long lifetime) const {
  std::string message = fmt::format("{}\n{}\n{}", path, amz_date, lifetime);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), signing_key_.data(), static_cast<int>(signing_key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  return hex;
}

http_response sandbox_service::handle_download(const http_request& request, const route& target,
                                               std::string_view query, std::unique_lock<std::mutex>& lock) {
  const auto params = detail::parse_parameters(query);
  const std::string* amz_date = detail::find_parameter(params, "X-Amz-Date");
  const std::string* lifetime_text = detail::find_parameter(params, "X-Amz-Expires");
  const std::string* signature = detail::find_parameter(params, "X-Amz-Signature");
  if (!amz_date || !lifetime_text || !signature) {
    return s3_error(request, status::forbidden, "AccessDenied", "Query-string authentication requires a signature.");
  }
  long lifetime = 0;
  auto [end, error] = std::from_chars(lifetime_text->data(), lifetime_text->data() + lifetime_text->size(), lifetime);
  const std::string path = fmt::format("/results/{}/{}/{}", target.instance_id, target.resource_id, target.file_name);
  if (error != std::errc() || end != lifetime_text->data() + lifetime_text->size() ||
      sign_result_path(path, *amz_date, lifetime) != *signature) {
    return s3_error(request, status::forbidden, "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided.");
  }
  // The signature holds, so X-Amz-Date is one the sandbox wrote.
  const std::string& date = *amz_date;  // 20260102T030405Z
  const auto signed_at = date.size() == 16 ? parse_utc(fmt::format("{}-{}-{}T{}:{}:{}Z", date.substr(0, 4), date.substr(4, 2),
                                                                  date.substr(6, 2), date.substr(9, 2), date.substr(11, 2),
                                                                  date.substr(13, 2)))
                                           : std::nullopt;
  if (!signed_at || static_cast<double>(*signed_at + lifetime) < now()) {
    return s3_error(request, status::forbidden, "AccessDenied", "Request has expired");
  }
  auto instance = instances_.find(target.instance_id);
  if (instance == instances_.end()) return s3_error(request, status::not_found, "NoSuchKey", "The specified key does not exist.");
  auto found = instance->second.executions_by_id.find(target.resource_id);
  if (found == instance->second.executions_by_id.end()) {
    return s3_error(request, status::not_found, "NoSuchKey", "The specified key does not exist.");
  }
  const execution_record& record = *found->second;
  // A copy: the file is written without the state lock.
  result_shape shape{result_columns(record.output_columns),
                     record.dialect,
                     record.window_start,
                     record.window_end,
                     record.zone,
                     record.plan.rows,
                     record.data_seed,
                     record.plan.quoted_newlines};
  const long rows = result_row_count(shape);
  const int parts = record.plan.parts;
  const std::string execution_id = record.id;
  const std::string workflow_id = record.workflow_id;

  if (target.file_name == "metadata.json") {
    json described = json::array();
    for (const auto& col : shape.columns) described.push_back({{"name", col.name}, {"dataType", col.type}});
    return detail::make_json(request, status::ok,
                             json{{"workflowExecutionId", execution_id}, {"workflowId", workflow_id},
                                  {"columns", described}, {"rowCount", rows}, {"parts", parts}});
  }
  int part = 0;
  if (target.file_name.size() == 14 && target.file_name.starts_with("part-") && target.file_name.ends_with(".csv")) {
    std::from_chars(target.file_name.data() + 5, target.file_name.data() + 10, part);
  }
  if (part < 1 || part > parts) return s3_error(request, status::not_found, "NoSuchKey", "The specified key does not exist.");

  // Large results are generated without holding the state lock.
  lock.unlock();
  std::string body = result_csv(shape, rows * (part - 1) / parts, rows * part / parts);
  lock.lock();
  return detail::make_response(request, status::ok, std::move(body), "text/csv");
}

}  // namespace amc::sandbox
