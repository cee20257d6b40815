// Fuzz target: AMC's reply bodies, as every operation of src/api reads them
// (flat and wrapped shapes, list pages, executions, workflows, download
// URLs, error bodies and outputFormat). The body is parsed as
// session::parse_reply parses it, then taken through the same reads as the
// operation in operations.cpp / results.cpp does, in the same order; keep
// the two in step when an operation starts reading another field.
#include "api/replies.hpp"
#include "api/results.hpp"
#include "api/shapes.hpp"
#include "common/json_fields.hpp"

#include "fuzz_support.hpp"

#include <fmt/format.h>

namespace {

using nlohmann::json;
using namespace amc;

// session::parse_reply: an empty body is {}, anything not JSON protocol.
json parsed_body(std::string_view body) {
  if (body.empty()) return json::object();
  json_problem problem;
  auto parsed = parse_json_bounded(body, &problem);
  if (!parsed) throw error(errc::protocol, "reply is not JSON: " + describe(problem));
  return std::move(*parsed);
}

// One page of operations.cpp's all_pages, and (for executions) what
// list_executions does to each item.
void list_page(const json& reply, const char* items_field, const char* operation, bool executions) {
  api::require_reply_object(reply, "body", operation);
  const auto found = reply.find(items_field);
  if (found != reply.end() && !found->is_null()) {
    if (!found->is_array()) throw error(errc::protocol, "not a list");
    for (const auto& item : *found) {
      api::require_reply_object(item, fmt::format("\"{}\" item", items_field), operation);
      if (!executions) continue;
      auto execution = api::unwrap(item, "workflowExecution", "listWorkflowExecutions");
      api::check_execution_reply(execution, "listWorkflowExecutions", false);
      api::mark_terminal(execution);
      (void)api::failure_reason(execution);
    }
  }
  (void)api::reply_string(reply, "nextToken", operation);
}

void read_reply(unsigned operation, std::string_view body) {
  switch (operation) {
    case 0: list_page(parsed_body(body), "amcAccounts", "AmcpLinkListAmcAccounts", false); break;
    case 1: list_page(parsed_body(body), "instances", "listInstances", false); break;
    case 2: list_page(parsed_body(body), "workflows", "listWorkflows", false); break;
    case 3: list_page(parsed_body(body), "executions", "listWorkflowExecutions", true); break;
    case 4: (void)api::unwrap(parsed_body(body), "instance", "getInstance"); break;
    case 5: {  // get_workflow, and the dialect of its result files
      auto workflow = api::unwrap(parsed_body(body), "workflow", "getWorkflow");
      (void)api::reply_string(workflow, "workflowId", "getWorkflow");
      (void)api::reply_string(workflow, "sqlQuery", "getWorkflow");
      if (const auto format = workflow.find("outputFormat"); format != workflow.end())
        (void)api::dialect_of(*format, "getWorkflow");
      break;
    }
    case 6: {  // create_execution
      auto execution = api::unwrap(parsed_body(body), "workflowExecution", "createWorkflowExecution");
      api::check_execution_reply(execution, "createWorkflowExecution", false);
      api::mark_terminal(execution);
      break;
    }
    case 7: {  // get_execution (and the poller's reads), a failed run's reason
      auto execution = api::unwrap(parsed_body(body), "workflowExecution", "getWorkflowExecution");
      api::check_execution_reply(execution, "getWorkflowExecution", true);
      api::mark_terminal(execution);
      (void)api::failure_reason(execution);
      if (const auto format = execution.find("outputFormat"); format != execution.end())
        (void)api::dialect_of(*format, "getWorkflowExecution");
      break;
    }
    case 8: (void)api::read_download_urls(parsed_body(body)); break;
    default: {  // an error reply's body, for the message
      const auto text = api::amc_error_text(body);
      // At most 300 bytes, and "…" when cut (common/text.hpp cut_text).
      if (text.size() > 300 + std::string_view("…").size() || first_invalid_utf8(text))
        fuzz::finding("AMC error text too long or not UTF-8", "");
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::split(data, size, 10);
  fuzz::refused_or_parsed([&] { read_reply(input.choice, input.text); });
  return 0;
}
