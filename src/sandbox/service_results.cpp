// Results: the signed download URLs of a finished execution, and the files
// behind them: CSV parts with a header row (written by result_rows) and a
// metadata document, answered like S3 answers (403 XML when a URL has
// expired).
#include "sandbox/service_handlers.hpp"

#include "common/time.hpp"
#include "sandbox/service_detail.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <cmath>
#include <iterator>

namespace amc::sandbox {

std::string detail::amz_date_text(long unix_time) {
  std::string text = format_utc(unix_time);  // 2026-01-02T03:04:05Z
  std::erase(text, '-');
  std::erase(text, ':');
  return text;
}

namespace result_handlers {

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

std::string sign_result_path(const sandbox_state& state, std::string_view path, std::string_view amz_date,
                             long lifetime) {
  const std::string& key = state.signing_key;
  std::string message = fmt::format("{}\n{}\n{}", path, amz_date, lifetime);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  return hex;
}

}  // namespace

http_response download_urls(sandbox_state& state, const http_request& request, instance_state& instance,
                            std::string_view execution_id, bool expired_urls) {
  const auto media = detail::executions_media_type;
  const execution_record* found = instance.find_execution(execution_id);
  if (!found) return execution_handlers::not_found(request, execution_id);
  const execution_record& record = *found;
  const double current = state.now();
  const execution_status current_status = status_at(record.plan, record.timing, current);
  if (current_status.phase != execution_phase::succeeded || record.timing.dry_run) {
    return detail::amc_error(request, status::bad_request,
                             fmt::format("Execution with ID {} is unavailable for download.", execution_id), media);
  }
  // Like S3 presigned URLs: X-Amz-Date is when the URL was signed and
  // X-Amz-Expires its lifetime in seconds. An injected fault signs them as if
  // a lifetime and a minute had already gone by.
  const long lifetime = state.options.download_url_ttl_seconds;
  const long signed_at = static_cast<long>(current) - (expired_urls ? lifetime + 60 : 0);
  const std::string amz_date = detail::amz_date_text(signed_at);
  auto signed_url = [&](const std::string& file) {
    std::string path = fmt::format("/results/{}/{}/{}", record.instance_id, record.id, file);
    return fmt::format("{}{}?X-Amz-Date={}&X-Amz-Expires={}&X-Amz-Signature={}", state.base_url, path, amz_date,
                       lifetime, sign_result_path(state, path, amz_date, lifetime));
  };
  json urls = json::array();
  for (int part = 1; part <= record.plan.parts; ++part) urls.push_back(signed_url(fmt::format("part-{:05}.csv", part)));
  json body = {{"downloadUrls", urls}, {"metadataDownloadUrls", json::array({signed_url("metadata.json")})}};
  return detail::make_json(request, status::ok, body, media);
}

http_response download(sandbox_state& state, const http_request& request, std::string_view instance_id,
                       std::string_view execution_id, std::string_view file_name, std::string_view query,
                       std::unique_lock<std::mutex>& lock) {
  const auto params = detail::parse_parameters(query);
  const std::string* amz_date = detail::find_parameter(params, "X-Amz-Date");
  const std::string* lifetime_text = detail::find_parameter(params, "X-Amz-Expires");
  const std::string* signature = detail::find_parameter(params, "X-Amz-Signature");
  if (!amz_date || !lifetime_text || !signature) {
    return s3_error(request, status::forbidden, "AccessDenied", "Query-string authentication requires a signature.");
  }
  long lifetime = 0;
  auto [end, error] = std::from_chars(lifetime_text->data(), lifetime_text->data() + lifetime_text->size(), lifetime);
  const std::string path = fmt::format("/results/{}/{}/{}", instance_id, execution_id, file_name);
  if (error != std::errc() || end != lifetime_text->data() + lifetime_text->size() ||
      sign_result_path(state, path, *amz_date, lifetime) != *signature) {
    return s3_error(request, status::forbidden, "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided.");
  }
  // The signature holds, so X-Amz-Date is one the sandbox wrote.
  const std::string& date = *amz_date;  // 20260102T030405Z
  const auto signed_at = date.size() == 16 ? parse_utc(fmt::format("{}-{}-{}T{}:{}:{}Z", date.substr(0, 4), date.substr(4, 2),
                                                                  date.substr(6, 2), date.substr(9, 2), date.substr(11, 2),
                                                                  date.substr(13, 2)))
                                           : std::nullopt;
  if (!signed_at || static_cast<double>(*signed_at + lifetime) < state.now()) {
    return s3_error(request, status::forbidden, "AccessDenied", "Request has expired");
  }
  auto instance = state.instances.find(instance_id);
  if (instance == state.instances.end()) return s3_error(request, status::not_found, "NoSuchKey", "The specified key does not exist.");
  const execution_record* found = instance->second.find_execution(execution_id);
  if (!found) return s3_error(request, status::not_found, "NoSuchKey", "The specified key does not exist.");
  const execution_record& record = *found;
  // A copy: the file is written without the state lock.
  result_shape shape{result_columns(record.request.output_columns),
                     record.request.dialect,
                     record.request.window_start,
                     record.request.window_end,
                     record.request.zone,
                     record.plan.rows,
                     record.data_seed,
                     record.plan.quoted_newlines};
  const long rows = result_row_count(shape);
  const int parts = record.plan.parts;
  const std::string record_id = record.id;
  const std::string workflow_id = record.request.workflow_id;

  if (file_name == "metadata.json") {
    json described = json::array();
    for (const auto& col : shape.columns) described.push_back({{"name", col.name}, {"dataType", col.type}});
    return detail::make_json(request, status::ok,
                             json{{"workflowExecutionId", record_id}, {"workflowId", workflow_id},
                                  {"columns", described}, {"rowCount", rows}, {"parts", parts}});
  }
  int part = 0;
  if (file_name.size() == 14 && file_name.starts_with("part-") && file_name.ends_with(".csv")) {
    std::from_chars(file_name.data() + 5, file_name.data() + 10, part);
  }
  if (part < 1 || part > parts) return s3_error(request, status::not_found, "NoSuchKey", "The specified key does not exist.");

  // Large results are generated without holding the state lock.
  lock.unlock();
  std::string body = result_csv(shape, rows * (part - 1) / parts, rows * part / parts);
  lock.lock();
  return detail::make_response(request, status::ok, std::move(body), "text/csv");
}

}  // namespace result_handlers
}  // namespace amc::sandbox
