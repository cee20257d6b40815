// AMC administration: the accounts and instances a token's advertiser sees,
// and the checks that let a reporting call at an instance (following
// shared/specs and the rules in shared/amc-api.md).
#include "sandbox/service_handlers.hpp"

#include "sandbox/paging.hpp"
#include "sandbox/service_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace amc::sandbox::instance_handlers {

using nlohmann::json;
using http::status;

namespace {

bool looks_like_profile_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); });
}

json instance_json(const sandbox_state& state, const instance_state& instance) {
  std::string account_name = "Sandbox Advertiser";
  for (const auto& account : state.options.accounts) {
    if (account.account_id == instance.seed.entity_id) account_name = account.account_name;
  }
  return {{"instanceId", instance.seed.instance_id},
          {"instanceName", instance.seed.instance_name},
          {"apiEndpoint", state.base_url},
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

}  // namespace

http_response list_accounts(sandbox_state& state, const http_request& request, std::string_view query) {
  if (auto error = lwa_handlers::authenticate_bearer(state, request, false)) return *error;
  auto params = detail::parse_parameters(query);
  std::size_t offset = 0;
  if (const std::string* token = detail::find_parameter(params, "nextToken"); token && !token->empty()) {
    auto decoded = detail::decode_page_token(*token);
    if (!decoded) {
      return detail::make_json(request, status::bad_request,
                               json{{"message", "nextToken is not valid."}, {"requestId", fmt::format("sandbox-{:08x}", state.traffic.requests)}},
                               detail::accounts_media_type);
    }
    offset = *decoded;
  }
  const std::size_t page_size = static_cast<std::size_t>(state.options.accounts_page_size);
  json accounts = json::array();
  for (std::size_t i = offset; i < state.options.accounts.size() && i < offset + page_size; ++i) {
    const auto& account = state.options.accounts[i];
    accounts.push_back({{"accountId", account.account_id},
                        {"accountName", account.account_name},
                        {"marketplaceId", account.marketplace_id}});
  }
  json body = {{"amcAccounts", accounts}};
  if (offset + page_size < state.options.accounts.size()) body["nextToken"] = detail::encode_page_token(offset + page_size);
  return detail::make_json(request, status::ok, body, detail::accounts_media_type);
}

http_response list_instances(sandbox_state& state, const http_request& request, std::string_view query) {
  const auto media = detail::instances_media_type;
  if (auto error = lwa_handlers::authenticate_bearer(state, request, true)) return *error;
  const std::string_view advertiser = request["Amazon-Advertising-API-AdvertiserId"];
  const std::string_view marketplace = request["Amazon-Advertising-API-MarketplaceId"];
  if (advertiser.empty()) {
    return detail::amc_error(request, status::bad_request, "Missing required header Amazon-Advertising-API-AdvertiserId.", media);
  }
  if (marketplace.empty()) {
    return detail::amc_error(request, status::bad_request, "Missing required header Amazon-Advertising-API-MarketplaceId.", media);
  }
  auto params = detail::parse_parameters(query);
  detail::page_request page = detail::read_page(params, detail::page_limit);
  if (!page.error.empty()) return detail::amc_error(request, status::bad_request, page.error, media);
  std::vector<const instance_state*> visible;
  for (const auto& [id, instance] : state.instances) {
    if (instance.seed.entity_id == advertiser) visible.push_back(&instance);
  }
  json list = json::array();
  for (std::size_t i = page.offset; i < visible.size() && i < page.offset + page.limit; ++i) {
    list.push_back(instance_json(state, *visible[i]));
  }
  json body = {{"instances", list}};
  if (page.offset + page.limit < visible.size()) body["nextToken"] = detail::encode_page_token(page.offset + page.limit);
  return detail::make_json(request, status::ok, body, media);
}

http_response get_instance(sandbox_state& state, const http_request& request, std::string_view instance_id) {
  const auto media = detail::instances_media_type;
  if (auto error = lwa_handlers::authenticate_bearer(state, request, true)) return *error;
  const std::string_view advertiser = request["Amazon-Advertising-API-AdvertiserId"];
  if (advertiser.empty() || request["Amazon-Advertising-API-MarketplaceId"].empty()) {
    return detail::amc_error(request, status::bad_request,
                             "Missing required header Amazon-Advertising-API-AdvertiserId or "
                             "Amazon-Advertising-API-MarketplaceId.",
                             media);
  }
  auto found = state.instances.find(instance_id);
  if (found == state.instances.end()) {
    return detail::amc_error(request, status::not_found, fmt::format("Instance {} not found.", instance_id), media);
  }
  if (found->second.seed.entity_id != advertiser) {
    return detail::amc_error(request, status::forbidden,
                             fmt::format("Advertiser {} has no access to instance {}.", advertiser, instance_id), media);
  }
  json instance = instance_json(state, found->second);
  return detail::make_json(request, status::ok,
                           state.options.shape == response_shape::wrapped ? json{{"instance", instance}} : instance, media);
}

std::optional<http_response> authorize_reporting(sandbox_state& state, const http_request& request,
                                                 std::string_view instance_id, instance_state*& instance) {
  if (auto error = lwa_handlers::authenticate_bearer(state, request, true)) return error;
  const std::string_view advertiser = request["Amazon-Advertising-API-AdvertiserId"];
  const std::string_view marketplace = request["Amazon-Advertising-API-MarketplaceId"];
  if (advertiser.empty()) {
    return detail::amc_error(request, status::bad_request, "Missing required header Amazon-Advertising-API-AdvertiserId.");
  }
  if (marketplace.empty()) {
    return detail::amc_error(request, status::bad_request, "Missing required header Amazon-Advertising-API-MarketplaceId.");
  }
  auto found = state.instances.find(instance_id);
  if (found == state.instances.end()) {
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
  instance = &found->second;
  return std::nullopt;
}

}  // namespace amc::sandbox::instance_handlers
