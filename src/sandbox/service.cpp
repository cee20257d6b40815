// Request dispatch, faults, counters, the request log and the admin API.
#include "sandbox/service.hpp"

#include "common/time.hpp"
#include "sandbox/files.hpp"
#include "sandbox/input_limits.hpp"
#include "sandbox/service_detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

namespace amc::sandbox {

using nlohmann::json;

namespace detail {

parameters parse_parameters(std::string_view text) {
  parameters out;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    auto equals = pair.find('=');
    if (equals == std::string_view::npos) {
      out.emplace_back(form_decode(pair), std::string{});
    } else {
      out.emplace_back(form_decode(pair.substr(0, equals)), form_decode(pair.substr(equals + 1)));
    }
  }
  return out;
}

const std::string* find_parameter(const parameters& list, std::string_view name) {
  for (const auto& [key, value] : list) {
    if (key == name) return &value;
  }
  return nullptr;
}

http_response make_response(unsigned version, bool keep_alive, http::status status, std::string body,
                            std::string_view content_type) {
  http_response response{status, version};
  response.set(http::field::server, "amc-sandbox");
  response.set(http::field::content_type, content_type);
  response.keep_alive(keep_alive);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

http_response make_response(const http_request& request, http::status status, std::string body,
                            std::string_view content_type) {
  return make_response(request.version(), request.keep_alive(), status, std::move(body), content_type);
}

http_response make_json(const http_request& request, http::status status, const json& body,
                        std::string_view content_type) {
  return make_response(request, status, body.dump(), content_type);
}

http_response amc_error(const http_request& request, http::status status, std::string_view details,
                        std::string_view content_type) {
  return make_json(request, status, json{{"code", std::to_string(static_cast<unsigned>(status))}, {"details", details}},
                   content_type);
}

http_response lwa_error(const http_request& request, http::status status, std::string_view error,
                        std::string_view description) {
  auto response = make_json(request, status, json{{"error", error}, {"error_description", description}});
  response.set(http::field::cache_control, "no-store");
  return response;
}

std::string format_time(double seconds) { return format_utc(static_cast<amc::unix_seconds>(std::floor(seconds))); }

bool is_valid_workflow_id(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_';
  });
}

}  // namespace detail

namespace {

constexpr std::array<std::string_view, operation_count> operation_names = {
    "unknown",
    "lwaToken",
    "lwaConsent",
    "AmcpLinkListAmcAccounts",
    "listInstances",
    "getInstance",
    "listWorkflows",
    "createWorkflow",
    "getWorkflow",
    "updateWorkflow",
    "deleteWorkflow",
    "listWorkflowExecutions",
    "createWorkflowExecution",
    "getWorkflowExecution",
    "UpdateWorkflowExecution",
    "getWorkflowExecutionDownloadUrls",
    "downloadResult",
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Splits "/a/b/c" into {"a","b","c"}; at most `N` segments are kept, the
// count tells whether there were more.
struct path_segments {
  std::array<std::string_view, 6> items;
  std::size_t count = 0;
};

path_segments split_path(std::string_view path) {
  path_segments out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (out.count < out.items.size()) out.items[out.count] = segment;
    ++out.count;
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  return out;
}

// The spec's media type per API family; AMC answers errors with it too.
std::string_view media_type_for(operation op) {
  switch (op) {
    case operation::list_accounts: return detail::accounts_media_type;
    case operation::list_instances:
    case operation::get_instance: return detail::instances_media_type;
    case operation::list_workflows:
    case operation::create_workflow:
    case operation::get_workflow:
    case operation::update_workflow:
    case operation::delete_workflow: return detail::workflows_media_type;
    case operation::list_executions:
    case operation::create_execution:
    case operation::get_execution:
    case operation::update_execution:
    case operation::get_download_urls: return detail::executions_media_type;
    default: return {};
  }
}

}  // namespace

std::string_view operation_name(operation op) { return operation_names.at(static_cast<std::size_t>(op)); }

sandbox_service::sandbox_service(sandbox_options options, std::string base_url)
    : options_(std::move(options)), base_url_(std::move(base_url)), random_(options_.seed) {
  complete_defaults(options_);
  if (options_.client_secret.empty()) options_.client_secret = random_token(32);
  signing_key_ = random_token(32);
  if (options_.seed_grant) seeded_refresh_token_ = "Atzr|" + random_token(96);
  std::lock_guard lock(mutex_);
  reset_state_locked();
}

void sandbox_service::reset_state_locked() {
  random_.seed(options_.seed);
  sequence_ = 0;
  clock_offset_seconds_ = 0;
  frozen_clock_.reset();
  grants_by_id_.clear();
  grant_id_by_refresh_token_.clear();
  access_tokens_.clear();
  consent_codes_.clear();
  instances_.clear();
  execution_instance_.clear();
  for (const auto& seed : options_.instances) instances_[seed.instance_id].seed = seed;
  faults_ = options_.faults;
  for (auto& rule : faults_) rule.id = next_fault_id_++;
  request_count_ = 0;
  requests_by_operation_.fill(0);
  responses_by_status_.clear();
  faults_fired_.fill(0);
  request_log_.clear();
  if (!seeded_refresh_token_.empty()) {
    grant_record grant{"grant-seeded", options_.client_id, seeded_refresh_token_, "advertising::campaign_management",
                       false, now()};
    grant_id_by_refresh_token_[grant.refresh_token] = grant.id;
    grants_by_id_[grant.id] = std::move(grant);
  }
}

double sandbox_service::now() const {
  if (frozen_clock_) return *frozen_clock_ + clock_offset_seconds_;
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(since_epoch).count() + clock_offset_seconds_;
}

std::string sandbox_service::next_uuid() {
  std::uint64_t high = random_();
  std::uint64_t low = random_();
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;    // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff, high & 0xffff,
                     low >> 48, low & 0xffffffffffffULL);
}

std::string wire_head(const http_response& message) {
  std::string out;
  out.reserve(256);
  const unsigned version = message.version();
  const auto reason = message.reason();
  out += fmt::format("HTTP/{}.{} {} ", version / 10, version % 10, message.result_int());
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& field : message) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.append(name.data(), name.size());
    out += ": ";
    out.append(value.data(), value.size());
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

sandbox_service::route sandbox_service::classify(http::verb method, std::string_view path) {
  route out;
  path_segments s = split_path(path);
  auto allow = [&](std::initializer_list<http::verb> verbs, operation op) {
    out.op = op;
    out.method_allowed = std::find(verbs.begin(), verbs.end(), method) != verbs.end();
  };
  const auto n = s.count;
  if (n == 3 && s.items[0] == "auth" && s.items[1] == "o2" && s.items[2] == "token") {
    allow({http::verb::post}, operation::lwa_token);
  } else if (n == 2 && s.items[0] == "ap" && s.items[1] == "oa") {
    allow({http::verb::get}, operation::lwa_consent);
  } else if (n == 4 && s.items[0] == "results") {
    allow({http::verb::get}, operation::download_result);
    out.instance_id = s.items[1];
    out.resource_id = s.items[2];
    out.file_name = s.items[3];
  } else if (n >= 2 && s.items[0] == "amc") {
    if (n == 2 && s.items[1] == "accounts") {
      allow({http::verb::get}, operation::list_accounts);
    } else if (n == 2 && s.items[1] == "instances") {
      allow({http::verb::get}, operation::list_instances);
    } else if (n == 3 && s.items[1] == "instances") {
      allow({http::verb::get}, operation::get_instance);
      out.instance_id = s.items[2];
    } else if (n >= 4 && n <= 6 && s.items[1] == "reporting") {
      out.instance_id = s.items[2];
      if (s.items[3] == "workflows" && n == 4) {
        allow({http::verb::get, http::verb::post}, method == http::verb::post ? operation::create_workflow
                                                                              : operation::list_workflows);
      } else if (s.items[3] == "workflows" && n == 5) {
        out.resource_id = s.items[4];
        allow({http::verb::get, http::verb::put, http::verb::delete_},
              method == http::verb::put      ? operation::update_workflow
              : method == http::verb::delete_ ? operation::delete_workflow
                                              : operation::get_workflow);
      } else if (s.items[3] == "workflowExecutions" && n == 4) {
        allow({http::verb::get, http::verb::post}, method == http::verb::post ? operation::create_execution
                                                                              : operation::list_executions);
      } else if (s.items[3] == "workflowExecutions" && n == 5) {
        out.resource_id = s.items[4];
        allow({http::verb::get, http::verb::put},
              method == http::verb::put ? operation::update_execution : operation::get_execution);
      } else if (s.items[3] == "workflowExecutions" && n == 6 && s.items[5] == "downloadUrls") {
        out.resource_id = s.items[4];
        allow({http::verb::get}, operation::get_download_urls);
      }
    }
  }
  return out;
}

const fault_rule* sandbox_service::match_fault(const http_request& request, operation op, std::string_view path) {
  for (auto& rule : faults_) {
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
    count_fault(rule.kind);
    return &rule;
  }
  return nullptr;
}

void sandbox_service::count_fault(fault_kind kind) { ++faults_fired_[static_cast<std::size_t>(kind)]; }

reply sandbox_service::handle(const http_request& request) {
  const auto started = std::chrono::steady_clock::now();
  const std::string_view target(request.target().data(), request.target().size());
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  std::unique_lock lock(mutex_);
  if (path == "/_sandbox" || path.starts_with("/_sandbox/")) return handle_admin(request, path, query);

  const route target_route = classify(request.method(), path);
  ++request_count_;
  ++requests_by_operation_[static_cast<std::size_t>(target_route.op)];

  reply out;
  const fault_rule* fault = nullptr;
  if (target_route.op != operation::unknown && target_route.method_allowed) {
    fault = match_fault(request, target_route.op, path);
  }
  const fault_kind kind = fault ? fault->kind : fault_kind::latency;
  if (target_route.op == operation::unknown) {
    out.message = detail::amc_error(request, http::status::not_found,
                                    fmt::format("No operation at {} {}", std::string_view(request.method_string()), path));
  } else if (!target_route.method_allowed) {
    out.message = detail::amc_error(request, http::status::method_not_allowed,
                                    fmt::format("{} is not allowed on {}", std::string_view(request.method_string()), path));
  } else if (fault && kind == fault_kind::error_status) {
    out.message = detail::amc_error(request, static_cast<http::status>(fault->status),
                                    "Internal server error. Retry later. (sandbox fault)");
  } else if (fault && kind == fault_kind::rate_limit) {
    out.message = detail::amc_error(request, static_cast<http::status>(fault->status),
                                    "Too many requests. The request was rate-limited. Retry later.");
    if (fault->retry_after_seconds != fault_rule::no_retry_after)
      out.message.set(http::field::retry_after, std::to_string(fault->retry_after_seconds));
  } else if (fault && kind == fault_kind::reset_before_headers) {
    out.how = delivery::reset_before_headers;
  } else if (json_nesting_depth(request.body()) > max_json_nesting) {
    // Refused before any parse: nothing recursive (copy, dump) ever walks
    // such a body, so a hostile client cannot overflow an I/O thread's stack.
    const std::string details =
        fmt::format("The request body nests arrays and objects deeper than {} levels.", max_json_nesting);
    out.message = target_route.op == operation::lwa_token
                      ? detail::lwa_error(request, http::status::bad_request, "invalid_request", details)
                      : detail::amc_error(request, http::status::bad_request, details);
  } else {
    try {
      switch (target_route.op) {
        case operation::lwa_token: out.message = handle_token(request); break;
        case operation::lwa_consent: out.message = handle_consent(request, query); break;
        case operation::list_accounts: out.message = handle_list_accounts(request, query); break;
        case operation::list_instances: out.message = handle_list_instances(request, query); break;
        case operation::get_instance: out.message = handle_get_instance(request, target_route.instance_id); break;
        case operation::download_result: out.message = handle_download(request, target_route, query, lock); break;
        default:
          // A fault changes the answer after the handler: only a reply
          // without one may be pre-rendered.
          out.message = handle_reporting(request, target_route, query,
                                         fault && kind == fault_kind::expired_download_urls,
                                         fault ? nullptr : &out.wire);
          break;
      }
    } catch (const json::exception&) {
      // A field of the wrong JSON type somewhere in the body.
      if (!lock.owns_lock()) lock.lock();
      out.message = detail::amc_error(request, http::status::bad_request,
                                      "The request body has a field of the wrong type.");
    }
    if (fault) {
      switch (kind) {
        case fault_kind::latency: out.delay = std::chrono::milliseconds(fault->latency_ms); break;
        case fault_kind::reset_after_headers: out.how = delivery::reset_after_headers; break;
        case fault_kind::truncated_body: out.how = delivery::truncated_body; break;
        case fault_kind::drop_after_accept: out.how = delivery::reset_before_headers; break;
        case fault_kind::trickle:
          out.how = delivery::trickle;
          out.trickle_bytes = static_cast<std::size_t>(fault->trickle_bytes);
          out.trickle_interval = std::chrono::milliseconds(fault->trickle_interval_ms);
          break;
        case fault_kind::patch_reply:
        case fault_kind::replace_reply: {
          // The handler ran (its state changes stay); only the answer changes.
          replaced_body replaced = apply_reply_fault(*fault, out.message.body());
          if (replaced.failed) {
            // A patch that does not fit the reply is a broken test: make it loud.
            fmt::print(stderr, "amc-sandbox: {}\n", replaced.text);
            out.message = detail::amc_error(request, http::status::internal_server_error, replaced.text);
            break;
          }
          out.message.body() = std::move(replaced.text);
          if (kind == fault_kind::replace_reply) out.message.set(http::field::content_type, detail::json_media_type);
          if (fault->status_given) out.message.result(static_cast<unsigned>(fault->status));
          out.message.prepare_payload();
          break;
        }
        case fault_kind::malformed_json: {
          // Valid HTTP framing around a JSON document cut in half.
          std::string& body = out.message.body();
          body = body.size() >= 2 ? body.substr(0, body.size() / 2) : std::string("{\"");
          out.message.prepare_payload();
          break;
        }
        default: break;
      }
    }
  }

  if (const auto media = media_type_for(target_route.op); !media.empty() && target_route.method_allowed) {
    const std::string_view current = out.message[http::field::content_type];
    if (current == detail::json_media_type) out.message.set(http::field::content_type, media);
  }

  const int status = out.how == delivery::reset_before_headers ? 0 : static_cast<int>(out.message.result_int());
  ++responses_by_status_[status];
  if (options_.request_log_capacity > 0 || options_.log_to_stderr) {
    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    request_log_entry entry{now(),
                            std::string(request.method_string()),
                            std::string(path),
                            status,
                            std::string(operation_name(target_route.op)),
                            fault ? std::string(to_string(kind)) : std::string(),
                            elapsed_ms};
    if (options_.log_to_stderr) {
      fmt::print(stderr, "{} {} {} {} {:.3f}ms{}\n", detail::format_time(entry.time), entry.method, entry.path,
                 entry.status, entry.duration_ms, entry.fault.empty() ? "" : " fault=" + entry.fault);
    }
    if (options_.request_log_capacity > 0) {
      if (request_log_.size() >= options_.request_log_capacity) request_log_.pop_front();
      request_log_.push_back(std::move(entry));
    }
  }
  return out;
}

reply sandbox_service::handle_admin(const http_request& request, std::string_view path, std::string_view query) {
  using http::status;
  using http::verb;
  reply out;
  const auto method = request.method();
  std::string_view rest = path.substr(std::min<std::size_t>(path.size(), 10));  // after "/_sandbox/"
  auto ok = [&](const json& body) { return detail::make_json(request, status::ok, body); };
  auto bad = [&](std::string_view details) { return detail::amc_error(request, status::bad_request, details); };
  json body;
  if (method == verb::post || method == verb::put || method == verb::patch) {
    try {
      body = request.body().empty() ? json::object() : parse_bounded_json(request.body(), "The admin request body");
    } catch (const std::invalid_argument& error) {
      out.message = bad(fmt::format("{}.", error.what()));
      return out;
    }
  }
  try {
    if (rest == "health" && method == verb::get) {
      out.message = ok({{"status", "ok"}, {"time", detail::format_time(now())}});
    } else if (rest == "stats" && method == verb::get) {
      json by_operation = json::object();
      for (std::size_t i = 1; i < operation_count; ++i) {
        if (requests_by_operation_[i] > 0) by_operation[std::string(operation_names[i])] = requests_by_operation_[i];
      }
      json by_status = json::object();
      for (const auto& [code, count] : responses_by_status_) by_status[std::to_string(code)] = count;
      json faults = json::object();
      std::uint64_t faults_total = 0;
      for (std::size_t i = 0; i < fault_kind_count; ++i) {
        faults[std::string(to_string(static_cast<fault_kind>(i)))] = faults_fired_[i];
        faults_total += faults_fired_[i];
      }
      std::size_t executions = 0, workflows = 0;
      for (const auto& [id, instance] : instances_) {
        executions += instance.executions.size();
        workflows += instance.workflows.size();
      }
      out.message = ok({{"requests", request_count_},
                        {"by_operation", by_operation},
                        {"by_status", by_status},
                        {"faults", faults},
                        {"faults_total", faults_total},
                        {"executions", executions},
                        {"workflows", workflows},
                        {"grants", grants_by_id_.size()},
                        {"access_tokens", access_tokens_.size()}});
    } else if (rest == "requests" && method == verb::get) {
      auto params = detail::parse_parameters(query);
      std::size_t limit = request_log_.size();
      if (auto* value = detail::find_parameter(params, "limit")) {
        limit = std::min(limit, static_cast<std::size_t>(checked_integer(std::string_view(*value), "limit", 0, limits::max_request_log)));
      }
      json list = json::array();
      for (std::size_t i = request_log_.size() - limit; i < request_log_.size(); ++i) {
        const auto& entry = request_log_[i];
        // `time` keeps its whole-second format for existing readers; `time_ms`
        // (milliseconds since the epoch, sandbox clock) lets a test measure
        // gaps such as a client's Retry-After wait to the millisecond.
        json item = {{"time", detail::format_time(entry.time)},
                     {"time_ms", static_cast<std::int64_t>(std::floor(entry.time * 1000.0))},
                     {"method", entry.method},
                     {"path", entry.path},
                     {"status", entry.status},
                     {"operation", entry.operation},
                     {"duration_ms", entry.duration_ms}};
        if (!entry.fault.empty()) item["fault"] = entry.fault;
        list.push_back(std::move(item));
      }
      out.message = ok({{"requests", list}});
    } else if (rest == "requests" && method == verb::delete_) {
      request_log_.clear();
      out.message = ok(json::object());
    } else if (rest == "reset" && method == verb::post) {
      reset_state_locked();
      out.message = ok(json::object());
    } else if (rest == "settings" && method == verb::get) {
      out.message = ok({{"response_shape", to_string(options_.shape)},
                        {"time_scale", options_.time_scale},
                        {"seed", options_.seed},
                        {"access_token_ttl_seconds", options_.access_token_ttl_seconds},
                        {"consent_code_ttl_seconds", options_.consent_code_ttl_seconds},
                        {"download_url_ttl_seconds", options_.download_url_ttl_seconds},
                        {"refresh_token_reply", to_string(options_.refresh_reply)},
                        {"max_active_per_instance", options_.max_active_per_instance},
                        {"adhoc_executions_per_day", options_.adhoc_per_day},
                        {"accounts_page_size", options_.accounts_page_size},
                        {"clock_offset_seconds", clock_offset_seconds_},
                        {"client_id", options_.client_id}});
    } else if (rest == "settings" && (method == verb::put || method == verb::patch || method == verb::post)) {
      const auto& known = settings_names();
      for (const auto& [key, value] : body.items()) {
        if (std::find(known.begin(), known.end(), key) == known.end()) throw std::invalid_argument("unknown setting '" + key + "'");
      }
      sandbox_options updated = options_;
      apply_settings_json(updated, body);
      // Existing executions keep the time scale they were created with.
      options_ = std::move(updated);
      for (auto& [id, instance] : instances_) {
        for (auto& record : instance.executions) record->cached_phase = -1;
      }
      out.message = ok(json::object());
    } else if (rest == "faults" && method == verb::get) {
      json list = json::array();
      for (const auto& rule : faults_) list.push_back(fault_rule_to_json(rule));
      out.message = ok({{"faults", list}});
    } else if (rest == "faults" && method == verb::post) {
      json ids = json::array();
      const json& rules = body.contains("faults") ? body.at("faults") : json::array({body});
      std::vector<fault_rule> parsed;
      for (const auto& item : rules) parsed.push_back(parse_fault_rule(item));
      for (auto& rule : parsed) {
        rule.id = next_fault_id_++;
        ids.push_back(rule.id);
        faults_.push_back(std::move(rule));
      }
      out.message = ok({{"ids", ids}, {"id", ids.back()}});
    } else if (rest == "faults" && method == verb::delete_) {
      faults_.clear();
      out.message = ok(json::object());
    } else if (rest.starts_with("faults/") && method == verb::delete_) {
      const auto id = static_cast<std::uint64_t>(
          checked_integer(rest.substr(7), "fault id", 1, std::numeric_limits<std::int64_t>::max()));
      auto it = std::find_if(faults_.begin(), faults_.end(), [&](const fault_rule& rule) { return rule.id == id; });
      if (it == faults_.end()) {
        out.message = detail::amc_error(request, status::not_found, "No such fault rule.");
      } else {
        faults_.erase(it);
        out.message = ok(json::object());
      }
    } else if (rest == "scenarios" && method == verb::get) {
      json list = json::array();
      for (const auto& item : options_.scenarios) list.push_back(scenario_to_json(item));
      out.message = ok({{"default", scenario_to_json(options_.default_scenario)}, {"scenarios", list}});
    } else if (rest == "scenarios" && (method == verb::put || method == verb::post)) {
      // PUT replaces the set ({"default": …, "scenarios": […]}); POST adds one.
      if (method == verb::put) {
        scenario base = body.contains("default") ? parse_scenario(body.at("default"), scenario{}) : options_.default_scenario;
        std::vector<scenario> list;
        if (body.contains("scenarios")) {
          for (const auto& item : body.at("scenarios")) list.push_back(parse_scenario(item, base));
        }
        options_.default_scenario = base;
        options_.scenarios = std::move(list);
      } else {
        options_.scenarios.insert(options_.scenarios.begin(), parse_scenario(body, options_.default_scenario));
      }
      out.message = ok(json::object());
    } else if (rest == "grants" && method == verb::get) {
      json list = json::array();
      for (const auto& [id, grant] : grants_by_id_) {
        list.push_back({{"grant_id", id}, {"client_id", grant.client_id}, {"scope", grant.scope},
                        {"revoked", grant.revoked}, {"created", detail::format_time(grant.created)}});
      }
      out.message = ok({{"grants", list}});
    } else if (rest == "grants" && method == verb::post) {
      grant_record grant{"grant-" + random_token(9), body.value("client_id", options_.client_id),
                         "Atzr|" + random_token(96), body.value("scope", "advertising::campaign_management"), false,
                         now()};
      grant_id_by_refresh_token_[grant.refresh_token] = grant.id;
      json result = {{"grant_id", grant.id}, {"refresh_token", grant.refresh_token}, {"client_id", grant.client_id}};
      grants_by_id_[grant.id] = std::move(grant);
      out.message = ok(result);
    } else if (rest == "grants/revoke" && method == verb::post) {
      std::size_t revoked = 0;
      auto revoke = [&](grant_record& grant) {
        if (!grant.revoked) ++revoked;
        grant.revoked = true;
      };
      if (body.value("all", false)) {
        for (auto& [id, grant] : grants_by_id_) revoke(grant);
      } else if (body.contains("grant_id")) {
        auto it = grants_by_id_.find(body.at("grant_id").get<std::string>());
        if (it != grants_by_id_.end()) revoke(it->second);
      } else if (body.contains("refresh_token")) {
        auto it = grant_id_by_refresh_token_.find(body.at("refresh_token").get<std::string>());
        if (it != grant_id_by_refresh_token_.end()) revoke(grants_by_id_.at(it->second));
      } else {
        throw std::invalid_argument("give grant_id, refresh_token or \"all\": true");
      }
      out.message = ok({{"revoked", revoked}});
    } else if (rest.starts_with("grants/") && method == verb::delete_) {
      auto it = grants_by_id_.find(std::string(rest.substr(7)));
      if (it == grants_by_id_.end()) {
        out.message = detail::amc_error(request, status::not_found, "No such grant.");
      } else {
        it->second.revoked = true;
        out.message = ok({{"revoked", 1}});
      }
    } else if (rest == "consent-codes" && method == verb::post) {
      if (!body.contains("redirect_uri") || !body.at("redirect_uri").is_string()) {
        throw std::invalid_argument("redirect_uri is required (the token request must repeat it)");
      }
      std::string code = "ANsandbox" + random_token(24);
      consent_codes_[code] = {body.value("client_id", options_.client_id), body.at("redirect_uri").get<std::string>(),
                              body.value("scope", "advertising::campaign_management"),
                              now() + options_.consent_code_ttl_seconds};
      out.message = ok({{"code", code}, {"expires_in", options_.consent_code_ttl_seconds}});
    } else if (rest == "executions/bulk" && method == verb::post) {
      out.message = ok(create_executions_in_bulk(body));
    } else if (rest == "clock/set" && method == verb::post) {
      // {"time": "2026-03-10T06:00:00Z", "frozen": true}: the sandbox clock
      // reads `time` now; frozen, it stays there until advanced or set again
      // (tests of day and month boundaries need a clock that cannot cross one).
      if (!body.contains("time") || !body.at("time").is_string()) {
        throw std::invalid_argument("time is required, as yyyy-MM-dd'T'HH:mm:ss'Z'");
      }
      const auto target = parse_utc(body.at("time").get<std::string>());
      if (!target) throw std::invalid_argument("time must have the format yyyy-MM-dd'T'HH:mm:ss'Z'");
      if (body.value("frozen", false)) {
        frozen_clock_ = static_cast<double>(*target);
        clock_offset_seconds_ = 0;
      } else {
        frozen_clock_.reset();
        clock_offset_seconds_ = 0;
        clock_offset_seconds_ = static_cast<double>(*target) - now();
      }
      for (auto& [id, instance] : instances_) {
        for (auto& record : instance.executions) record->cached_phase = -1;
      }
      out.message = ok({{"clock_offset_seconds", clock_offset_seconds_}, {"frozen", frozen_clock_.has_value()},
                        {"time", detail::format_time(now())}});
    } else if (rest == "clock/advance" && method == verb::post) {
      if (!body.contains("seconds")) throw std::invalid_argument("seconds is required");
      clock_offset_seconds_ += checked_real(body.at("seconds"), "seconds", -limits::max_clock_jump_seconds,
                                            limits::max_clock_jump_seconds);
      for (auto& [id, instance] : instances_) {
        for (auto& record : instance.executions) record->cached_phase = -1;
      }
      out.message = ok({{"clock_offset_seconds", clock_offset_seconds_}, {"time", detail::format_time(now())}});
    } else {
      out.message = detail::amc_error(request, status::not_found,
                                      fmt::format("No admin operation {} {}", std::string_view(request.method_string()), path));
    }
  } catch (const std::exception& error) {
    out.message = bad(error.what());
  }
  return out;
}

}  // namespace amc::sandbox
