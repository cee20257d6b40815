// AMC administration (accounts, instances) and reporting (workflows,
// workflow executions, download URLs), following shared/specs and the rules
// in shared/amc-api.md.
#include "common/time.hpp"
#include "sandbox/service.hpp"
#include "sandbox/service_detail.hpp"
#include "sandbox/execution_request_checks.hpp"
#include "sandbox/input_limits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <variant>
#include <limits>

namespace amc::sandbox {

using nlohmann::json;
using http::status;

namespace {

constexpr std::size_t page_limit = 100;

// Page tokens are opaque to clients; inside they are an offset, written in
// hex so that they need no escaping in a query string.
std::string encode_page_token(std::size_t offset) {
  std::string plain = fmt::format("offset:{}", offset);
  std::string out;
  for (unsigned char c : plain) fmt::format_to(std::back_inserter(out), "{:02x}", c);
  return out;
}

std::optional<std::size_t> decode_page_token(std::string_view token) {
  if (token.size() % 2 != 0) return std::nullopt;
  std::string plain;
  for (std::size_t i = 0; i < token.size(); i += 2) {
    unsigned value = 0;
    auto [end, error] = std::from_chars(token.data() + i, token.data() + i + 2, value, 16);
    if (error != std::errc() || end != token.data() + i + 2) return std::nullopt;
    plain += static_cast<char>(value);
  }
  if (!plain.starts_with("offset:")) return std::nullopt;
  std::size_t offset = 0;
  auto [end, error] = std::from_chars(plain.data() + 7, plain.data() + plain.size(), offset);
  if (error != std::errc() || end != plain.data() + plain.size()) return std::nullopt;
  return offset;
}

// limit and nextToken of a list call; an error text when they are bad.
struct page_request {
  std::size_t offset = 0;
  std::size_t limit = page_limit;
  std::string error;
};

page_request read_page(const detail::parameters& params, std::size_t maximum) {
  page_request page;
  page.limit = maximum;
  if (const std::string* limit = detail::find_parameter(params, "limit")) {
    long value = 0;
    auto [end, error] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
    if (error != std::errc() || end != limit->data() + limit->size() || value < 1 ||
        value > static_cast<long>(maximum)) {
      page.error = fmt::format("limit must be a whole number from 1 to {}.", maximum);
      return page;
    }
    page.limit = static_cast<std::size_t>(value);
  }
  if (const std::string* token = detail::find_parameter(params, "nextToken"); token && !token->empty()) {
    auto offset = decode_page_token(*token);
    if (!offset) {
      page.error = "nextToken is not valid.";
      return page;
    }
    page.offset = *offset;
  }
  return page;
}

bool parameter_is_true(const detail::parameters& params, std::string_view name) {
  const std::string* value = detail::find_parameter(params, name);
  return value && (*value == "true" || *value == "True" || *value == "TRUE" || *value == "1");
}

bool looks_like_profile_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::string detail::amz_date_text(long unix_time) {
  std::string text = format_utc(unix_time);  // 2026-01-02T03:04:05Z
  std::erase(text, '-');
  std::erase(text, ':');
  return text;
}

json sandbox_service::instance_json(const instance_state& instance) const {
  std::string account_name = "Sandbox Advertiser";
  for (const auto& account : options_.accounts) {
    if (account.account_id == instance.seed.entity_id) account_name = account.account_name;
  }
  return {{"instanceId", instance.seed.instance_id},
          {"instanceName", instance.seed.instance_name},
          {"apiEndpoint", base_url_},
          {"awsAccountId", "111122223333"},
          {"dataUploadAwsAccountId", "111122223333"},
          {"creationDatetime", "2024-01-02T03:04:05Z"},
          {"creationStatus", "COMPLETED"},
          {"entities", json::array({instance.seed.entity_id})},
          {"s3BucketName", "amc-" + instance.seed.instance_id},
          {"s3BucketRegion", "us-east-1"},
          {"advertiserTypes", json::array({"SPONSORED_ADS", "DISPLAY"})},
          {"customerCanonicalName", account_name}};
}

http_response sandbox_service::handle_list_accounts(const http_request& request, std::string_view query) {
  std::string client_id;
  if (auto error = authenticate_bearer(request, false, client_id)) return *error;
  auto params = detail::parse_parameters(query);
  std::size_t offset = 0;
  if (const std::string* token = detail::find_parameter(params, "nextToken"); token && !token->empty()) {
    auto decoded = decode_page_token(*token);
    if (!decoded) {
      return detail::make_json(request, status::bad_request,
                               json{{"message", "nextToken is not valid."}, {"requestId", fmt::format("sandbox-{:08x}", request_count_)}},
                               detail::accounts_media_type);
    }
    offset = *decoded;
  }
  const std::size_t page_size = static_cast<std::size_t>(options_.accounts_page_size);
  json accounts = json::array();
  for (std::size_t i = offset; i < options_.accounts.size() && i < offset + page_size; ++i) {
    const auto& account = options_.accounts[i];
    accounts.push_back({{"accountId", account.account_id},
                        {"accountName", account.account_name},
                        {"marketplaceId", account.marketplace_id}});
  }
  json body = {{"amcAccounts", accounts}};
  if (offset + page_size < options_.accounts.size()) body["nextToken"] = encode_page_token(offset + page_size);
  return detail::make_json(request, status::ok, body, detail::accounts_media_type);
}

http_response sandbox_service::handle_list_instances(const http_request& request, std::string_view query) {
  const auto media = detail::instances_media_type;
  std::string client_id;
  if (auto error = authenticate_bearer(request, true, client_id)) return *error;
  const std::string_view advertiser = request["Amazon-Advertising-API-AdvertiserId"];
  const std::string_view marketplace = request["Amazon-Advertising-API-MarketplaceId"];
  if (advertiser.empty()) {
    return detail::amc_error(request, status::bad_request, "Missing required header Amazon-Advertising-API-AdvertiserId.", media);
  }
  if (marketplace.empty()) {
    return detail::amc_error(request, status::bad_request, "Missing required header Amazon-Advertising-API-MarketplaceId.", media);
  }
  auto params = detail::parse_parameters(query);
  page_request page = read_page(params, page_limit);
  if (!page.error.empty()) return detail::amc_error(request, status::bad_request, page.error, media);
  std::vector<const instance_state*> visible;
  for (const auto& [id, instance] : instances_) {
    if (instance.seed.entity_id == advertiser) visible.push_back(&instance);
  }
  json list = json::array();
  for (std::size_t i = page.offset; i < visible.size() && i < page.offset + page.limit; ++i) {
    list.push_back(instance_json(*visible[i]));
  }
  json body = {{"instances", list}};
  if (page.offset + page.limit < visible.size()) body["nextToken"] = encode_page_token(page.offset + page.limit);
  return detail::make_json(request, status::ok, body, media);
}

http_response sandbox_service::handle_get_instance(const http_request& request, std::string_view instance_id) {
  const auto media = detail::instances_media_type;
  std::string client_id;
  if (auto error = authenticate_bearer(request, true, client_id)) return *error;
  const std::string_view advertiser = request["Amazon-Advertising-API-AdvertiserId"];
  if (advertiser.empty() || request["Amazon-Advertising-API-MarketplaceId"].empty()) {
    return detail::amc_error(request, status::bad_request,
                             "Missing required header Amazon-Advertising-API-AdvertiserId or "
                             "Amazon-Advertising-API-MarketplaceId.",
                             media);
  }
  auto found = instances_.find(instance_id);
  if (found == instances_.end()) {
    return detail::amc_error(request, status::not_found, fmt::format("Instance {} not found.", instance_id), media);
  }
  if (found->second.seed.entity_id != advertiser) {
    return detail::amc_error(request, status::forbidden,
                             fmt::format("Advertiser {} has no access to instance {}.", advertiser, instance_id), media);
  }
  json instance = instance_json(found->second);
  return detail::make_json(request, status::ok,
                           options_.shape == response_shape::wrapped ? json{{"instance", instance}} : instance, media);
}

std::optional<http_response> sandbox_service::authorize_reporting(const http_request& request,
                                                                  std::string_view instance_id, caller& who) {
  std::string client_id;
  if (auto error = authenticate_bearer(request, true, client_id)) return error;
  const std::string_view advertiser = request["Amazon-Advertising-API-AdvertiserId"];
  const std::string_view marketplace = request["Amazon-Advertising-API-MarketplaceId"];
  if (advertiser.empty()) {
    return detail::amc_error(request, status::bad_request, "Missing required header Amazon-Advertising-API-AdvertiserId.");
  }
  if (marketplace.empty()) {
    return detail::amc_error(request, status::bad_request, "Missing required header Amazon-Advertising-API-MarketplaceId.");
  }
  auto found = instances_.find(instance_id);
  if (found == instances_.end()) {
    return detail::amc_error(request, status::forbidden,
                             fmt::format("Unauthorized request. No access to instance {}.", instance_id));
  }
  const instance_seed& seed = found->second.seed;
  if (advertiser != seed.entity_id) {
    if (looks_like_profile_id(advertiser)) {
      return detail::amc_error(
          request, status::forbidden,
          fmt::format("Unauthorized request. Amazon-Advertising-API-AdvertiserId '{}' looks like an Ads profile id; "
                      "AMC expects the AMC account's entity id (ENTITY...), the accountId that GET /amc/accounts "
                      "returns.",
                      advertiser));
    }
    return detail::amc_error(request, status::forbidden,
                             fmt::format("Unauthorized request. Advertiser {} has no access to instance {}.",
                                         advertiser, instance_id));
  }
  if (marketplace != seed.marketplace_id) {
    return detail::amc_error(request, status::forbidden,
                             fmt::format("Unauthorized request. Marketplace {} is not the marketplace of instance {}.",
                                         marketplace, instance_id));
  }
  who.instance = &found->second;
  return std::nullopt;
}

http_response sandbox_service::handle_reporting(const http_request& request, const route& target,
                                                std::string_view query, bool expired_urls,
                                                std::shared_ptr<const std::string>* wire) {
  caller who;
  if (auto error = authorize_reporting(request, target.instance_id, who)) return *error;
  instance_state& instance = *who.instance;
  switch (target.op) {
    case operation::list_workflows: return list_workflows(request, instance, query);
    case operation::create_workflow: return create_workflow(request, instance);
    case operation::get_workflow: return get_workflow(request, instance, target.resource_id);
    case operation::update_workflow: return update_workflow(request, instance, target.resource_id);
    case operation::delete_workflow: return delete_workflow(request, instance, target.resource_id);
    case operation::list_executions: return list_executions(request, instance, query);
    case operation::create_execution: return create_execution(request, instance);
    case operation::get_execution: return get_execution(request, instance, target.resource_id, query, wire);
    case operation::update_execution: return update_execution(request, instance, target.resource_id);
    case operation::get_download_urls: return download_urls(request, instance, target.resource_id, expired_urls);
    default: return detail::amc_error(request, status::not_found, "No such operation.");
  }
}

// --- workflows --------------------------------------------------------------

namespace {

// Checks a Workflow body; returns an error text or empty.
std::string validate_workflow_body(const json& body) {
  if (!body.is_object()) return "The request body must be a JSON Workflow object.";
  if (!body.contains("workflowId") || !body.at("workflowId").is_string()) return "workflowId is required.";
  const auto& id = body.at("workflowId").get_ref<const std::string&>();
  if (!detail::is_valid_workflow_id(id)) {
    return fmt::format("Invalid workflowId '{}': use only letters, digits, periods, dashes and underscores.", id);
  }
  const bool has_sql = body.contains("sqlQuery") && body.at("sqlQuery").is_string() &&
                       !body.at("sqlQuery").get_ref<const std::string&>().empty();
  if (!has_sql && !body.contains("query")) return "sqlQuery is required.";
  for (const char* list : {"inputParameters", "outputColumns"}) {
    if (body.contains(list) && (!body.at(list).is_array() || body.at(list).size() > 100)) {
      return fmt::format("{} must be an array of at most 100 items.", list);
    }
  }
  if (body.contains("outputFormat")) {
    try {
      parse_output_format(body.at("outputFormat"));
    } catch (const std::invalid_argument& error) {
      return error.what();
    }
  }
  return {};
}

}  // namespace

http_response sandbox_service::list_workflows(const http_request& request, instance_state& instance,
                                              std::string_view query) {
  const auto media = detail::workflows_media_type;
  page_request page = read_page(detail::parse_parameters(query), page_limit);
  if (!page.error.empty()) return detail::amc_error(request, status::bad_request, page.error, media);
  std::vector<const workflow_record*> ordered;
  for (const auto& [id, record] : instance.workflows) ordered.push_back(&record);
  std::sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->sequence < b->sequence; });
  json list = json::array();
  for (std::size_t i = page.offset; i < ordered.size() && i < page.offset + page.limit; ++i) {
    list.push_back(ordered[i]->definition);
  }
  json body = {{"workflows", list}};
  if (page.offset + page.limit < ordered.size()) body["nextToken"] = encode_page_token(page.offset + page.limit);
  return detail::make_json(request, status::ok, body, media);
}

http_response sandbox_service::create_workflow(const http_request& request, instance_state& instance) {
  const auto media = detail::workflows_media_type;
  json body = json::parse(request.body(), nullptr, false);
  if (std::string error = validate_workflow_body(body); !error.empty()) {
    return detail::amc_error(request, status::bad_request, error, media);
  }
  const std::string id = body.at("workflowId").get<std::string>();
  if (instance.workflows.contains(id)) {
    return detail::amc_error(request, status::bad_request, fmt::format("Workflow with ID {} already exists.", id), media);
  }
  instance.workflows[id] = {std::move(body), ++sequence_};
  return detail::make_json(request, status::ok, json::object(), media);
}

http_response sandbox_service::get_workflow(const http_request& request, instance_state& instance,
                                            std::string_view workflow_id) {
  const auto media = detail::workflows_media_type;
  if (!detail::is_valid_workflow_id(workflow_id)) {
    return detail::amc_error(request, status::bad_request,
                             fmt::format("Invalid workflowId '{}': use only letters, digits, periods, dashes and "
                                         "underscores.", workflow_id), media);
  }
  auto found = instance.workflows.find(workflow_id);
  if (found == instance.workflows.end()) {
    return detail::amc_error(request, status::not_found, fmt::format("Workflow with ID {} not found.", workflow_id), media);
  }
  const json& definition = found->second.definition;
  return detail::make_json(request, status::ok,
                           options_.shape == response_shape::wrapped ? json{{"workflow", definition}} : definition,
                           media);
}

http_response sandbox_service::update_workflow(const http_request& request, instance_state& instance,
                                               std::string_view workflow_id) {
  const auto media = detail::workflows_media_type;
  json body = json::parse(request.body(), nullptr, false);
  if (std::string error = validate_workflow_body(body); !error.empty()) {
    return detail::amc_error(request, status::bad_request, error, media);
  }
  if (body.at("workflowId").get_ref<const std::string&>() != workflow_id) {
    return detail::amc_error(request, status::bad_request,
                             "The workflowId in the body must match the workflowId in the path.", media);
  }
  auto found = instance.workflows.find(workflow_id);
  if (found == instance.workflows.end()) {
    return detail::amc_error(request, status::not_found, fmt::format("Workflow with ID {} not found.", workflow_id), media);
  }
  found->second.definition = std::move(body);  // PUT replaces the whole definition
  return detail::make_json(request, status::ok, json::object(), media);
}

http_response sandbox_service::delete_workflow(const http_request& request, instance_state& instance,
                                               std::string_view workflow_id) {
  const auto media = detail::workflows_media_type;
  if (!detail::is_valid_workflow_id(workflow_id)) {
    return detail::amc_error(request, status::bad_request, fmt::format("Invalid workflowId '{}'.", workflow_id), media);
  }
  auto found = instance.workflows.find(workflow_id);
  if (found == instance.workflows.end()) {
    return detail::amc_error(request, status::not_found, fmt::format("Workflow with ID {} not found.", workflow_id), media);
  }
  instance.workflows.erase(found);
  return detail::make_json(request, status::ok, json::object(), media);
}

// --- workflow executions ----------------------------------------------------

json sandbox_service::execution_json(const execution_record& record, const execution_status& current,
                                     bool include_workflow) const {
  json out = record.echoed;
  out["workflowExecutionId"] = record.id;
  out["workflowId"] = record.workflow_id;
  out["status"] = current.phase == execution_phase::unlisted ? std::string_view(record.plan.unlisted_status)
                                                              : to_string(current.phase);
  out["createTime"] = detail::format_time(record.timing.created);
  out["lastUpdatedTime"] = detail::format_time(current.since);
  out["expireTime"] = detail::format_time(record.timing.created + static_cast<double>(record.timing.timeout_seconds));
  out["workflowExecutionTimeoutSeconds"] = record.timing.timeout_seconds;
  if (record.ad_hoc) out["executionCategory"] = "AD_HOC";
  if (!current.reason.empty()) out["statusReason"] = current.reason;
  std::string_view channel_status = "PENDING";
  switch (current.phase) {
    case execution_phase::succeeded: channel_status = record.timing.dry_run ? "UNAVAILABLE" : "AVAILABLE"; break;
    case execution_phase::failed: channel_status = "FAILED"; break;
    case execution_phase::cancelled:
    case execution_phase::rejected: channel_status = "UNAVAILABLE"; break;
    default: break;
  }
  json channel = {{"channel", {{"type", "DOWNLOAD"}}}, {"status", channel_status}};
  if (current.phase == execution_phase::failed) channel["statusReason"] = current.reason;
  out["outputChannels"] = json::array({channel});
  if (current.phase == execution_phase::succeeded && !record.timing.dry_run) {
    out["outputS3URI"] = fmt::format("s3://amc-{}/workflow={}/schedule=adhoc/{}-{}.csv", record.instance_id,
                                     record.workflow_id, detail::format_time(record.timing.created).substr(0, 10),
                                     record.id);
  }
  if (include_workflow) out["sqlQuery"] = record.sql;
  return out;
}

sandbox_service::execution_record& sandbox_service::add_execution(instance_state& instance,
                                                                  checked_execution_request accepted,
                                                                  execution_plan plan, double current) {
  auto record = std::make_unique<execution_record>();
  record->instance_id = instance.seed.instance_id;
  record->ad_hoc = accepted.ad_hoc;
  record->workflow_id = std::move(accepted.workflow_id);
  record->sql = std::move(accepted.sql);
  record->output_columns = std::move(accepted.output_columns);
  record->dialect = accepted.dialect;
  record->zone = std::move(accepted.zone);
  record->window_start = accepted.window_start;
  record->window_end = accepted.window_end;
  record->echoed = std::move(accepted.echoed);
  record->plan = std::move(plan);
  record->id = next_uuid();
  if (record->workflow_id.empty()) record->workflow_id = "transient_" + next_uuid();
  record->data_seed = random_();
  record->sequence = ++sequence_;
  record->timing = {current, options_.time_scale, accepted.timeout_seconds, accepted.dry_run, std::nullopt};
  execution_instance_[record->id] = instance.seed.instance_id;
  instance.executions_by_id[record->id] = record.get();
  instance.executions.push_back(std::move(record));
  return *instance.executions.back();
}

json sandbox_service::create_executions_in_bulk(const json& body) {
  static const std::vector<std::string> known = {"instance_id", "count", "request", "scenario"};
  for (const auto& [key, value] : body.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw std::invalid_argument("unknown bulk execution field '" + key + "'");
    }
  }
  std::string instance_id = options_.instances.front().instance_id;
  if (body.contains("instance_id")) {
    if (!body.at("instance_id").is_string()) throw std::invalid_argument("instance_id must be a string");
    instance_id = body.at("instance_id").get<std::string>();
  }
  auto found = instances_.find(instance_id);
  if (found == instances_.end()) throw std::invalid_argument("no instance '" + instance_id + "'");
  instance_state& instance = found->second;
  const auto count = checked_integer(body.value("count", json(1)), "count", 1, max_bulk_executions);
  const json request = body.contains("request") ? body.at("request")
                                                : json{{"workflow", {{"sqlQuery", "SELECT 1 -- sandbox bulk"}}}};
  // The same checks and plan as POST workflowExecutions, once for all.
  const double current = now();
  auto checked = check_execution_request(request, current, [&](std::string_view id) -> const json* {
    auto workflow = instance.workflows.find(id);
    return workflow == instance.workflows.end() ? nullptr : &workflow->second.definition;
  });
  if (auto* refused = std::get_if<execution_request_error>(&checked)) {
    throw std::invalid_argument("request: " + refused->details);
  }
  const auto& accepted = std::get<checked_execution_request>(checked);
  const scenario base = body.contains("scenario") ? parse_scenario(body.at("scenario"), options_.default_scenario)
                                                  : options_.default_scenario;
  const std::vector<scenario> no_scenarios;
  const execution_plan plan = plan_execution(accepted.workflow_id, accepted.sql, base,
                                             body.contains("scenario") ? no_scenarios : options_.scenarios);
  json ids = json::array();
  for (std::int64_t i = 0; i < count; ++i) ids.push_back(add_execution(instance, accepted, plan, current).id);
  return {{"instance_id", instance_id}, {"ids", std::move(ids)}};
}

http_response sandbox_service::create_execution(const http_request& request, instance_state& instance) {
  const auto media = detail::executions_media_type;
  auto bad = [&](std::string_view details) { return detail::amc_error(request, status::bad_request, details, media); };
  const double current = now();
  const json body = json::parse(request.body(), nullptr, false);
  auto checked = check_execution_request(body, current, [&](std::string_view id) -> const json* {
    auto found = instance.workflows.find(id);
    return found == instance.workflows.end() ? nullptr : &found->second.definition;
  });
  if (auto* refused = std::get_if<execution_request_error>(&checked)) {
    return detail::amc_error(request, static_cast<http::status>(refused->status), refused->details, media);
  }
  auto& accepted = std::get<checked_execution_request>(checked);
  execution_plan plan;
  try {
    plan = plan_execution(accepted.workflow_id, accepted.sql, options_.default_scenario, options_.scenarios);
  } catch (const std::invalid_argument& error) {
    return bad(error.what());
  }

  // Quota and concurrency, counted at the moment of the request.
  if (!accepted.dry_run && plan.outcome != "REJECTED") {
    int active = 0, adhoc_today = 0;
    for (const auto& other : instance.executions) {
      const execution_status other_status = status_at(other->plan, other->timing, current);
      if (other->timing.dry_run || other_status.phase == execution_phase::rejected) continue;
      if (!is_terminal(other_status.phase)) ++active;
      if (other->ad_hoc && other->timing.created > current - 86400) ++adhoc_today;
    }
    if (accepted.ad_hoc && adhoc_today >= options_.adhoc_per_day) {
      plan.outcome = "REJECTED";
      plan.reason = fmt::format(
          "Ad hoc workflow executions are limited to {} per day per instance; instance {} has reached the limit.",
          options_.adhoc_per_day, instance.seed.instance_id);
    } else if (active >= options_.max_active_per_instance) {
      plan.outcome = "REJECTED";
      plan.reason = fmt::format(
          "Too many workflow executions are active on instance {} (limit {}); try again when some have finished.",
          instance.seed.instance_id, options_.max_active_per_instance);
    }
  }

  const execution_record& record = add_execution(instance, std::move(accepted), std::move(plan), current);
  const execution_status initial = status_at(record.plan, record.timing, current);
  json execution = execution_json(record, initial, false);
  return detail::make_json(request, status::ok,
                           options_.shape == response_shape::wrapped ? json{{"workflowExecution", execution}}
                                                                     : execution,
                           media);
}

http_response sandbox_service::get_execution(const http_request& request, instance_state& instance,
                                             std::string_view execution_id, std::string_view query,
                                             std::shared_ptr<const std::string>* wire) {
  const auto media = detail::executions_media_type;
  auto found = instance.executions_by_id.find(execution_id);
  if (found == instance.executions_by_id.end()) {
    return detail::amc_error(request, status::not_found,
                             fmt::format("Workflow execution with ID {} not found.", execution_id), media);
  }
  const execution_record& record = *found->second;
  const execution_status current = status_at(record.plan, record.timing, now());
  const bool include_workflow = !query.empty() && parameter_is_true(detail::parse_parameters(query), "includeWorkflow");
  if (include_workflow) {
    json execution = execution_json(record, current, true);
    return detail::make_json(request, status::ok,
                             options_.shape == response_shape::wrapped ? json{{"workflowExecution", execution}}
                                                                       : execution,
                             media);
  }
  // The poll hot path: one rendering per phase and shape.
  const int phase = static_cast<int>(current.phase);
  if (record.cached_phase != phase) {
    record.cached_phase = phase;
    record.cached_status = {};
  }
  const std::size_t shape_index = options_.shape == response_shape::wrapped ? 1 : 0;
  auto& cached = record.cached_status[shape_index];
  if (!cached.wire) {
    json execution = execution_json(record, current, false);
    std::string body = (shape_index == 1 ? json{{"workflowExecution", execution}} : execution).dump();
    const http_response rendered = detail::make_response(11, true, status::ok, body, media);
    auto text = std::make_shared<std::string>(wire_head(rendered));
    cached.body_offset = text->size();
    *text += body;
    cached.wire = std::move(text);
  }
  if (wire != nullptr && request.version() == 11 && request.keep_alive()) {
    *wire = cached.wire;
    return http_response{status::ok, 11};
  }
  return detail::make_response(request, status::ok, cached.wire->substr(cached.body_offset), media);
}

http_response sandbox_service::list_executions(const http_request& request, instance_state& instance,
                                               std::string_view query) {
  const auto media = detail::executions_media_type;
  const auto params = detail::parse_parameters(query);
  const std::string* min_creation = detail::find_parameter(params, "minCreationTime");
  const std::string* max_creation = detail::find_parameter(params, "maxCreationTime");
  const std::string* workflow_id = detail::find_parameter(params, "workflowId");
  if (min_creation && min_creation->empty()) min_creation = nullptr;
  if (workflow_id && workflow_id->empty()) workflow_id = nullptr;
  if (!min_creation && !workflow_id) {
    return detail::amc_error(request, status::unprocessable_entity,
                             "Either minCreationTime or workflowId must be given.", media);
  }
  std::optional<unix_seconds> min_time, max_time;
  if (min_creation) {
    min_time = parse_utc(*min_creation);
    if (!min_time) return detail::amc_error(request, status::bad_request, "minCreationTime must have the format yyyy-MM-dd'T'HH:mm:ss.", media);
  }
  if (max_creation && !max_creation->empty()) {
    max_time = parse_utc(*max_creation);
    if (!max_time) return detail::amc_error(request, status::bad_request, "maxCreationTime must have the format yyyy-MM-dd'T'HH:mm:ss.", media);
  }
  if (workflow_id && !detail::is_valid_workflow_id(*workflow_id)) {
    return detail::amc_error(request, status::bad_request, fmt::format("Invalid workflowId '{}'.", *workflow_id), media);
  }
  page_request page = read_page(params, page_limit);
  if (!page.error.empty()) return detail::amc_error(request, status::bad_request, page.error, media);
  const bool include_cancelled = parameter_is_true(params, "includeCancelled");
  const bool ascending = parameter_is_true(params, "sortAscending");
  const bool include_workflow = parameter_is_true(params, "includeWorkflow");
  const double current = now();

  struct listed {
    const execution_record* record;
    execution_status status;
  };
  std::vector<listed> matches;
  for (const auto& record : instance.executions) {
    const double created = record->timing.created;
    if (min_time && created < static_cast<double>(*min_time)) continue;
    if (max_time && created > static_cast<double>(*max_time)) continue;
    if (workflow_id && record->workflow_id != *workflow_id) continue;
    execution_status record_status = status_at(record->plan, record->timing, current);
    if (!include_cancelled && record_status.phase == execution_phase::cancelled) continue;
    matches.push_back({record.get(), record_status});
  }
  // Newest first unless sortAscending; creation order breaks ties.
  if (!ascending) std::reverse(matches.begin(), matches.end());
  json list = json::array();
  for (std::size_t i = page.offset; i < matches.size() && i < page.offset + page.limit; ++i) {
    list.push_back(execution_json(*matches[i].record, matches[i].status, include_workflow));
  }
  json body = {{"executions", list}};
  if (page.offset + page.limit < matches.size()) body["nextToken"] = encode_page_token(page.offset + page.limit);
  return detail::make_json(request, status::ok, body, media);
}

http_response sandbox_service::update_execution(const http_request& request, instance_state& instance,
                                                std::string_view execution_id) {
  const auto media = detail::executions_media_type;
  json body = json::parse(request.body(), nullptr, false);
  auto found = instance.executions_by_id.find(execution_id);
  if (found == instance.executions_by_id.end()) {
    return detail::amc_error(request, status::not_found,
                             fmt::format("Workflow execution with ID {} not found.", execution_id), media);
  }
  if (!body.is_object() || body.value("status", "") != "CANCELLED") {
    return detail::amc_error(request, status::bad_request,
                             "Only {\"status\": \"CANCELLED\"} is supported on a workflow execution.", media);
  }
  execution_record& record = *found->second;
  const double current = now();
  const execution_status current_status = status_at(record.plan, record.timing, current);
  if (is_terminal(current_status.phase)) {
    return detail::amc_error(request, status::bad_request,
                             fmt::format("Workflow execution {} cannot be cancelled: its status is {}.", execution_id,
                                         current_status.phase == execution_phase::unlisted
                                             ? std::string_view(record.plan.unlisted_status)
                                             : to_string(current_status.phase)),
                             media);
  }
  record.timing.cancelled_at = current;
  record.cached_phase = -1;
  return detail::make_json(request, status::ok, json::object(), media);
}

http_response sandbox_service::download_urls(const http_request& request, instance_state& instance,
                                             std::string_view execution_id, bool expired_urls) {
  const auto media = detail::executions_media_type;
  auto found = instance.executions_by_id.find(execution_id);
  if (found == instance.executions_by_id.end()) {
    return detail::amc_error(request, status::not_found,
                             fmt::format("Workflow execution with ID {} not found.", execution_id), media);
  }
  const execution_record& record = *found->second;
  const double current = now();
  const execution_status current_status = status_at(record.plan, record.timing, current);
  if (current_status.phase != execution_phase::succeeded || record.timing.dry_run) {
    return detail::amc_error(request, status::bad_request,
                             fmt::format("Execution with ID {} is unavailable for download.", execution_id), media);
  }
  // Like S3 presigned URLs: X-Amz-Date is when the URL was signed and
  // X-Amz-Expires its lifetime in seconds. An injected fault signs them as if
  // a lifetime and a minute had already gone by.
  const long lifetime = options_.download_url_ttl_seconds;
  const long signed_at = static_cast<long>(current) - (expired_urls ? lifetime + 60 : 0);
  const std::string amz_date = detail::amz_date_text(signed_at);
  auto signed_url = [&](const std::string& file) {
    std::string path = fmt::format("/results/{}/{}/{}", record.instance_id, record.id, file);
    return fmt::format("{}{}?X-Amz-Date={}&X-Amz-Expires={}&X-Amz-Signature={}", base_url_, path, amz_date, lifetime,
                       sign_result_path(path, amz_date, lifetime));
  };
  json urls = json::array();
  for (int part = 1; part <= record.plan.parts; ++part) urls.push_back(signed_url(fmt::format("part-{:05}.csv", part)));
  json body = {{"downloadUrls", urls}, {"metadataDownloadUrls", json::array({signed_url("metadata.json")})}};
  return detail::make_json(request, status::ok, body, media);
}

}  // namespace amc::sandbox
