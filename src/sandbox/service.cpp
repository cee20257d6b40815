// Request dispatch: which operation a request is, the faults around its
// handler, counters and the request log; and the helpers the handlers share.
#include "sandbox/service.hpp"

#include "common/time.hpp"
#include "sandbox/input_limits.hpp"
#include "sandbox/service_detail.hpp"
#include "sandbox/service_handlers.hpp"

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
    "listDataSources",
    "getDataSource",
    "listSchedules",
    "createSchedule",
    "getSchedule",
    "updateSchedule",
    "deleteSchedule",
};

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
    case operation::list_data_sources:
    case operation::get_data_source: return detail::data_sources_media_type;
    case operation::list_schedules:
    case operation::create_schedule:
    case operation::get_schedule:
    case operation::update_schedule:
    case operation::delete_schedule: return detail::schedules_media_type;
    default: return {};
  }
}

}  // namespace

std::string_view operation_name(operation op) { return operation_names.at(static_cast<std::size_t>(op)); }

sandbox_service::sandbox_service(sandbox_options options, std::string base_url)
    : state_(std::move(options), std::move(base_url)) {}

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

namespace {

// The operation a request asks for, and the ids in its path.
struct route {
  operation op = operation::unknown;
  bool method_allowed = true;
  std::string_view instance_id;
  std::string_view resource_id;
  std::string_view file_name;
};

route classify(http::verb method, std::string_view path) {
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
      } else if (s.items[3] == "dataSources" && n == 4) {
        allow({http::verb::get}, operation::list_data_sources);
      } else if (s.items[3] == "dataSources" && n == 5) {
        out.resource_id = s.items[4];
        allow({http::verb::get}, operation::get_data_source);
      } else if (s.items[3] == "schedules" && n == 4) {
        allow({http::verb::get, http::verb::post}, method == http::verb::post ? operation::create_schedule
                                                                              : operation::list_schedules);
      } else if (s.items[3] == "schedules" && n == 5) {
        out.resource_id = s.items[4];
        allow({http::verb::get, http::verb::put, http::verb::delete_},
              method == http::verb::put      ? operation::update_schedule
              : method == http::verb::delete_ ? operation::delete_schedule
                                              : operation::get_schedule);
      }
    }
  }
  return out;
}

// An AMC reporting call: authorized for its instance, then handed to the
// handler of its resource. `wire`: see execution_handlers::get.
http_response handle_reporting(sandbox_state& state, const http_request& request, const route& target,
                               std::string_view query, bool expired_urls, std::shared_ptr<const std::string>* wire) {
  instance_state* found = nullptr;
  if (auto error = instance_handlers::authorize_reporting(state, request, target.instance_id, found)) return *error;
  instance_state& instance = *found;
  // AMC's scheduler runs on its own; the sandbox starts the runs that fell
  // due on its clock before it answers anything about the instance.
  schedule_handlers::start_due_runs(state, instance, state.now());
  switch (target.op) {
    case operation::list_workflows: return workflow_handlers::list(state, request, instance, query);
    case operation::create_workflow: return workflow_handlers::create(state, request, instance);
    case operation::get_workflow: return workflow_handlers::get(state, request, instance, target.resource_id);
    case operation::update_workflow: return workflow_handlers::update(state, request, instance, target.resource_id);
    case operation::delete_workflow: return workflow_handlers::remove(state, request, instance, target.resource_id);
    case operation::list_executions: return execution_handlers::list(state, request, instance, query);
    case operation::create_execution: return execution_handlers::create(state, request, instance);
    case operation::get_execution:
      return execution_handlers::get(state, request, instance, target.resource_id, query, wire);
    case operation::update_execution: return execution_handlers::cancel(state, request, instance, target.resource_id);
    case operation::get_download_urls:
      return result_handlers::download_urls(state, request, instance, target.resource_id, expired_urls);
    case operation::list_data_sources: return data_source_handlers::list(state, request, instance, query);
    case operation::get_data_source:
      return data_source_handlers::get(state, request, instance, target.resource_id, query);
    case operation::list_schedules: return schedule_handlers::list(state, request, instance, query);
    case operation::create_schedule: return schedule_handlers::create(state, request, instance);
    case operation::get_schedule: return schedule_handlers::get(state, request, instance, target.resource_id);
    case operation::update_schedule: return schedule_handlers::update(state, request, instance, target.resource_id);
    case operation::delete_schedule: return schedule_handlers::remove(state, request, instance, target.resource_id);
    default: return detail::amc_error(request, http::status::not_found, "No such operation.");
  }
}

// A createWorkflowExecution body asking for a dry run ("dryRun": true):
// AMC's spec says it is not run and uses no quota, so the stats and the
// request log count it apart from the creates.
bool is_dry_run(std::string_view body) {
  const auto parsed = json::parse(body, nullptr, false);
  return parsed.is_object() && parsed.value("dryRun", json(false)) == json(true);
}

// The query without its nextToken parameter(s) (fault endless_pages).
std::string without_next_token(std::string_view query) {
  std::string kept;
  while (!query.empty()) {
    const auto end = query.find('&');
    const std::string_view item = query.substr(0, end);
    if (!item.starts_with("nextToken=") && item != "nextToken") {
      if (!kept.empty()) kept += '&';
      kept += item;
    }
    if (end == std::string_view::npos) break;
    query.remove_prefix(end + 1);
  }
  return kept;
}

}  // namespace

reply sandbox_service::handle(const http_request& request) {
  const auto started = std::chrono::steady_clock::now();
  const std::string_view target(request.target().data(), request.target().size());
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  std::unique_lock lock(mutex_);
  if (path == "/_sandbox" || path.starts_with("/_sandbox/")) {
    return admin_handlers::handle(state_, request, path, query);
  }

  const route target_route = classify(request.method(), path);
  ++state_.traffic.requests;
  if (target_route.op == operation::create_execution && is_dry_run(request.body())) {
    ++state_.traffic.dry_runs;
  } else {
    ++state_.traffic.by_operation[static_cast<std::size_t>(target_route.op)];
  }

  reply out;
  const fault_rule* fault = nullptr;
  if (target_route.op != operation::unknown && target_route.method_allowed) {
    fault = state_.faults.match(request, target_route.op, path);
  }
  const fault_kind kind = fault ? fault->kind : fault_kind::latency;
  // endless_pages: the handler serves the first page, whatever token came.
  std::string first_page_query;
  if (fault && kind == fault_kind::endless_pages) {
    first_page_query = without_next_token(query);
    query = first_page_query;
  }
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
        case operation::lwa_token: out.message = lwa_handlers::token(state_, request); break;
        case operation::lwa_consent: out.message = lwa_handlers::consent(state_, request, query); break;
        case operation::list_accounts: out.message = instance_handlers::list_accounts(state_, request, query); break;
        case operation::list_instances: out.message = instance_handlers::list_instances(state_, request, query); break;
        case operation::get_instance:
          out.message = instance_handlers::get_instance(state_, request, target_route.instance_id);
          break;
        case operation::download_result:
          out.message = result_handlers::download(state_, request, target_route.instance_id, target_route.resource_id,
                                                  target_route.file_name, query, lock);
          break;
        default:
          // A fault changes the answer after the handler: only a reply
          // without one may be pre-rendered.
          out.message = handle_reporting(state_, request, target_route, query,
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
        case fault_kind::endless_pages: {
          // A token never handed out before, so a client that only refuses
          // a repeated token follows it for ever.
          json page = json::parse(out.message.body(), nullptr, false);
          if (!page.is_object()) break;
          page["nextToken"] = fmt::format("endless-{}-{}", fault->id, fault->fired);
          out.message.body() = page.dump();
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
  ++state_.traffic.by_status[status];
  if (state_.options.request_log_capacity > 0 || state_.options.log_to_stderr) {
    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    request_log_entry entry{state_.now(),
                            std::string(request.method_string()),
                            std::string(path),
                            status,
                            std::string(operation_name(target_route.op)),
                            fault ? std::string(to_string(kind)) : std::string(),
                            elapsed_ms};
    if (target_route.op == operation::create_execution) {
      // A dry run creates no execution (AMC's spec: it is not run and uses
      // no quota): logged apart, so the log's creates are real runs only.
      entry.dry_run = is_dry_run(request.body());
      if (entry.dry_run) entry.operation = std::string(dry_run_log_operation);
    }
    if (state_.options.log_to_stderr) {
      fmt::print(stderr, "{} {} {} {} {:.3f}ms{}\n", detail::format_time(entry.time), entry.method, entry.path,
                 entry.status, entry.duration_ms, entry.fault.empty() ? "" : " fault=" + entry.fault);
    }
    if (state_.options.request_log_capacity > 0) {
      auto& log = state_.traffic.log;
      if (log.size() >= state_.options.request_log_capacity) log.pop_front();
      log.push_back(std::move(entry));
    }
  }
  return out;
}

}  // namespace amc::sandbox
