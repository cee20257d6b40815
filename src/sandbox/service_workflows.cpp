// An instance's saved workflows: create, list, get, update (the whole
// definition) and delete, following shared/specs and shared/amc-api.md.
#include "sandbox/service_handlers.hpp"

#include "sandbox/paging.hpp"
#include "sandbox/service_detail.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

namespace amc::sandbox::workflow_handlers {

using nlohmann::json;
using http::status;

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

http_response list(sandbox_state&, const http_request& request, instance_state& instance, std::string_view query) {
  const auto media = detail::workflows_media_type;
  detail::page_request page = detail::read_page(detail::parse_parameters(query), detail::page_limit);
  if (!page.error.empty()) return detail::amc_error(request, status::bad_request, page.error, media);
  std::vector<const workflow_record*> ordered;
  for (const auto& [id, record] : instance.workflows) ordered.push_back(&record);
  std::sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->sequence < b->sequence; });
  json list = json::array();
  for (std::size_t i = page.offset; i < ordered.size() && i < page.offset + page.limit; ++i) {
    list.push_back(ordered[i]->definition);
  }
  json body = {{"workflows", list}};
  if (page.offset + page.limit < ordered.size()) body["nextToken"] = detail::encode_page_token(page.offset + page.limit);
  return detail::make_json(request, status::ok, body, media);
}

http_response create(sandbox_state& state, const http_request& request, instance_state& instance) {
  const auto media = detail::workflows_media_type;
  json body = json::parse(request.body(), nullptr, false);
  if (std::string error = validate_workflow_body(body); !error.empty()) {
    return detail::amc_error(request, status::bad_request, error, media);
  }
  const std::string id = body.at("workflowId").get<std::string>();
  if (instance.workflows.contains(id)) {
    return detail::amc_error(request, status::bad_request, fmt::format("Workflow with ID {} already exists.", id), media);
  }
  instance.workflows[id] = {std::move(body), ++state.sequence};
  return detail::make_json(request, status::ok, json::object(), media);
}

http_response get(sandbox_state& state, const http_request& request, instance_state& instance,
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
                           state.options.shape == response_shape::wrapped ? json{{"workflow", definition}} : definition,
                           media);
}

http_response update(sandbox_state&, const http_request& request, instance_state& instance,
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

http_response remove(sandbox_state&, const http_request& request, instance_state& instance,
                     std::string_view workflow_id) {
  const auto media = detail::workflows_media_type;
  if (!detail::is_valid_workflow_id(workflow_id)) {
    return detail::amc_error(request, status::bad_request, fmt::format("Invalid workflowId '{}'.", workflow_id), media);
  }
  auto found = instance.workflows.find(workflow_id);
  if (found == instance.workflows.end()) {
    return detail::amc_error(request, status::not_found, fmt::format("Workflow with ID {} not found.", workflow_id), media);
  }
  // AMC refuses to delete a workflow a schedule still runs (amc-api.md 3).
  // Its status and words are not published: 400 (the spec's code for a bad
  // delete) with AMC's Error body is our assumption (README.md, Schedules).
  if (const auto schedules = schedule_handlers::schedules_using(instance, workflow_id); !schedules.empty()) {
    return detail::amc_error(request, status::bad_request,
                             fmt::format("Workflow with ID {} cannot be deleted because it is used by schedule(s) {}. "
                                         "Delete the schedule(s) or change their workflowId first.",
                                         workflow_id, fmt::join(schedules, ", ")),
                             media);
  }
  instance.workflows.erase(found);
  return detail::make_json(request, status::ok, json::object(), media);
}

}  // namespace amc::sandbox::workflow_handlers
