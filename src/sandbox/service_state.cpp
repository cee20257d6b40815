// The service's state: start and reset, ids, grant and fault bookkeeping.
#include "sandbox/service_state.hpp"

#include "sandbox/files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace amc::sandbox {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

grant_record& lwa_records::add_grant(grant_record grant) {
  grant_id_by_refresh_token[grant.refresh_token] = grant.id;
  grant_record& stored = grants_by_id[grant.id];
  stored = std::move(grant);
  return stored;
}

const fault_rule* fault_table::match(const http_request& request, operation op, std::string_view path) {
  for (auto& rule : rules) {
    if (rule.count >= 0 && rule.fired >= rule.count) continue;
    if (!rule.method.empty() && !iequals(rule.method, std::string_view(request.method_string()))) continue;
    if (!rule.operation.empty() && !iequals(rule.operation, operation_name(op))) continue;
    if (!rule.path.empty() && !glob_match(rule.path, path)) continue;
    // Expired URLs only mean something for downloadUrls.
    if (rule.kind == fault_kind::expired_download_urls && op != operation::get_download_urls) continue;
    if (rule.skip > 0) {
      --rule.skip;
      continue;
    }
    ++rule.fired;
    ++fired_by_kind[static_cast<std::size_t>(rule.kind)];
    return &rule;
  }
  return nullptr;
}

std::uint64_t fault_table::add(fault_rule rule) {
  rule.id = next_id++;
  rules.push_back(std::move(rule));
  return rules.back().id;
}

sandbox_state::sandbox_state(sandbox_options options_in, std::string base_url_in)
    : options(std::move(options_in)), base_url(std::move(base_url_in)), random(options.seed) {
  complete_defaults(options);
  if (options.client_secret.empty()) options.client_secret = random_token(32);
  signing_key = random_token(32);
  if (options.seed_grant) seeded_refresh_token = "Atzr|" + random_token(96);
  reset();
}

void sandbox_state::reset() {
  random.seed(options.seed);
  sequence = 0;
  clock = {};
  lwa = {};
  instances.clear();
  for (const auto& seed : options.instances) instances[seed.instance_id].seed = seed;
  faults.rules.clear();
  for (const auto& rule : options.faults) faults.add(rule);
  faults.fired_by_kind.fill(0);
  traffic = {};
  if (!seeded_refresh_token.empty()) {
    lwa.add_grant({"grant-seeded", options.client_id, seeded_refresh_token, "advertising::campaign_management", false,
                   now()});
  }
}

std::string sandbox_state::next_uuid() {
  std::uint64_t high = random();
  std::uint64_t low = random();
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;    // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff, high & 0xffff,
                     low >> 48, low & 0xffffffffffffULL);
}

void sandbox_state::forget_rendered_statuses() {
  for (auto& [id, instance] : instances) {
    for (auto& record : instance.executions) record->cached_phase = -1;
  }
}

}  // namespace amc::sandbox
