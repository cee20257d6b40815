// Result files behind the signed download URLs: CSV parts with a header row
// and a metadata document, generated deterministically from the execution's
// seed, answered like S3 answers (403 XML when a URL has expired).
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

std::uint64_t mix(std::uint64_t value) {  // splitmix64 finaliser
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

http_response s3_error(const http_request& request, status code, std::string_view s3_code, std::string_view message) {
  return detail::make_response(
      request, code,
      fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>\n",
                  s3_code, message),
      "application/xml");
}

struct column {
  std::string name;
  std::string type;
};

std::vector<column> result_columns(const json& output_columns) {
  std::vector<column> out;
  for (const auto& item : output_columns) {
    if (!item.is_object() || !item.contains("name") || !item.at("name").is_string()) continue;
    std::string type = item.contains("dataType") && item.at("dataType").is_string() ? item.at("dataType").get<std::string>()
                                                                                    : "STRING";
    out.push_back({item.at("name").get<std::string>(), type});
  }
  if (out.empty()) {
    out = {{"campaign_id", "STRING"}, {"event_date", "DATE"}, {"impressions", "LONG"},
           {"clicks", "LONG"},        {"spend", "DOUBLE"}};
  }
  return out;
}

std::string csv_field(std::string_view text, std::string_view separator) {
  if (text.find_first_of("\"\n") == std::string_view::npos && text.find(separator) == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void append_value(std::string& out, const column& col, long row, std::uint64_t hash) {
  constexpr unix_seconds base_day = 1767225600;  // 2026-01-01T00:00:00Z
  const std::string& type = col.type;
  if (type == "LONG" || type == "INTEGER" || type == "SHORT" || type == "BYTE") {
    fmt::format_to(std::back_inserter(out), "{}", hash % 100000);
  } else if (type == "DOUBLE" || type == "FLOAT" || type == "DECIMAL") {
    fmt::format_to(std::back_inserter(out), "{}.{:02}", (hash % 1000000) / 100, hash % 100);
  } else if (type == "BOOLEAN") {
    out += (hash & 1) ? "true" : "false";
  } else if (type == "DATE") {
    out += format_utc(base_day + static_cast<unix_seconds>(hash % 28) * 86400).substr(0, 10);
  } else if (type == "TIMESTAMP") {
    std::string stamp = format_utc(base_day + static_cast<unix_seconds>(hash % (28 * 86400)));
    stamp.pop_back();  // "Z": AMC writes yyyy-MM-dd'T'HH:mm:ss.SSS
    fmt::format_to(std::back_inserter(out), "{}.{:03}", stamp, hash % 1000);
  } else {
    fmt::format_to(std::back_inserter(out), "{}_{}", col.name, row);
  }
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
  const std::vector<column> columns = result_columns(record.output_columns);
  const std::string separator = record.separator;
  const std::uint64_t data_seed = record.data_seed;
  const long rows = record.plan.rows;
  const int parts = record.plan.parts;
  const std::string execution_id = record.id;
  const std::string workflow_id = record.workflow_id;

  if (target.file_name == "metadata.json") {
    json described = json::array();
    for (const auto& col : columns) described.push_back({{"name", col.name}, {"dataType", col.type}});
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
  const long first = rows * (part - 1) / parts;
  const long last = rows * part / parts;
  std::string body;
  body.reserve(static_cast<std::size_t>(last - first + 1) * 16 * columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i) body += separator;
    body += csv_field(columns[i].name, separator);
  }
  body += '\n';
  for (long row = first; row < last; ++row) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) body += separator;
      append_value(body, columns[i], row, mix(data_seed ^ mix(static_cast<std::uint64_t>(row) * 64 + i)));
    }
    body += '\n';
  }
  lock.lock();
  return detail::make_response(request, status::ok, std::move(body), "text/csv");
}

}  // namespace amc::sandbox
