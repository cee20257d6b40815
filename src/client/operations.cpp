#include "client/operations.hpp"

#include "api/ids.hpp"
#include "api/operations.hpp"
#include "api/preflight.hpp"
#include "api/shapes.hpp"
#include "client/callback_gate.hpp"
#include "client/internals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace amc::client {
namespace {

// The request's context with the call's deadline, which every HTTP request
// of the call then carries (see api::call_context::deadline).
api::call_context with_deadline(api::call_context context, call_deadline deadline) {
  context.deadline = deadline;
  return context;
}

// The AMC execution id a request names: its amc_execution_id, or the one
// journaled for its execution_id.
std::string amc_id_of(client& core, const api::execution_named_request& request) {
  if (!request.amc_execution_id.empty()) return request.amc_execution_id;
  return api::journaled_amc_id(internals(core).journal(), request.execution_id);
}

}  // namespace

nlohmann::json accounts(client& core, const api::accounts_request& request, call_deadline deadline,
                        const cancellation_ptr& cancelled_by) {
  auto listing = core.run_blocking(api::list_accounts(core.amc(), with_deadline(request.context, deadline)),
                                   deadline, cancelled_by);
  return nlohmann::json{{"accounts", std::move(listing["amcAccounts"])}};
}

nlohmann::json instances(client& core, const api::instances_request& request, call_deadline deadline,
                         const cancellation_ptr& cancelled_by) {
  return core.run_blocking(api::list_instances(core.amc(), with_deadline(request.context, deadline)), deadline,
                           cancelled_by);
}

nlohmann::json workflow_create(client& core, const api::workflow_create_request& request, call_deadline deadline,
                               const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      api::create_workflow(core.amc(), with_deadline(request.context, deadline), request.workflow), deadline,
      cancelled_by);
}

nlohmann::json workflow_get(client& core, const api::workflow_get_request& request, call_deadline deadline,
                            const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      api::get_workflow(core.amc(), with_deadline(request.context, deadline), request.workflow_id), deadline,
      cancelled_by);
}

nlohmann::json workflow_list(client& core, const api::workflow_list_request& request, call_deadline deadline,
                             const cancellation_ptr& cancelled_by) {
  return core.run_blocking(api::list_workflows(core.amc(), with_deadline(request.context, deadline)), deadline,
                           cancelled_by);
}

nlohmann::json workflow_update(client& core, const api::workflow_update_request& request, call_deadline deadline,
                               const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      api::update_workflow(core.amc(), with_deadline(request.context, deadline), request.workflow), deadline,
      cancelled_by);
}

void workflow_delete(client& core, const api::workflow_delete_request& request, call_deadline deadline,
                     const cancellation_ptr& cancelled_by) {
  core.run_blocking(api::delete_workflow(core.amc(), with_deadline(request.context, deadline), request.workflow_id),
                    deadline, cancelled_by);
}

nlohmann::json workflow_sync(client& core, const api::workflow_sync_request& request, call_deadline deadline,
                             const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      api::sync_workflow(core.amc(), with_deadline(request.context, deadline), request.workflow), deadline,
      cancelled_by);
}

nlohmann::json schedule_create(client& core, const api::schedule_create_request& request, call_deadline deadline,
                               const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      api::create_schedule(core.amc(), with_deadline(request.context, deadline), request.schedule), deadline,
      cancelled_by);
}

nlohmann::json schedule_get(client& core, const api::schedule_get_request& request, call_deadline deadline,
                            const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      api::get_schedule(core.amc(), with_deadline(request.context, deadline), request.schedule_id), deadline,
      cancelled_by);
}

nlohmann::json schedule_list(client& core, const api::schedule_list_request& request, call_deadline deadline,
                             const cancellation_ptr& cancelled_by) {
  return core.run_blocking(api::list_schedules(core.amc(), with_deadline(request.context, deadline)), deadline,
                           cancelled_by);
}

nlohmann::json schedule_update(client& core, const api::schedule_update_request& request, call_deadline deadline,
                               const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      api::update_schedule(core.amc(), with_deadline(request.context, deadline), request.schedule), deadline,
      cancelled_by);
}

void schedule_delete(client& core, const api::schedule_delete_request& request, call_deadline deadline,
                     const cancellation_ptr& cancelled_by) {
  core.run_blocking(api::delete_schedule(core.amc(), with_deadline(request.context, deadline), request.schedule_id),
                    deadline, cancelled_by);
}

std::string workflow_id_from_name(std::string_view name) {
  if (name.empty()) throw error(errc::invalid_argument, "the workflow name is empty");
  return api::workflow_id_from_name(name);
}

api::submission submit(client& core, const api::execution_submit_request& request, call_deadline deadline,
                       const cancellation_ptr& cancelled_by) {
  // The deadline travels unchanged in the context; a submit stops searching
  // for an unknown outcome a little before it (api::unknown_outcome_reserve),
  // so that it can still say when to submit again.
  return core.run_blocking(api::submit_execution(core.amc(), internals(core).journal(), with_deadline(request.context, deadline),
                                                 request.execution_id, request.request, core.log()),
                           deadline, cancelled_by);
}

nlohmann::json get(client& core, const api::execution_get_request& request, call_deadline deadline,
                   const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      api::get_execution(core.amc(), with_deadline(request.context, deadline), amc_id_of(core, request)), deadline,
      cancelled_by);
}

nlohmann::json list(client& core, const api::execution_list_request& request, call_deadline deadline,
                    const cancellation_ptr& cancelled_by) {
  return core.run_blocking(list_async(core, request, deadline), deadline, cancelled_by);
}

boost::asio::awaitable<api::execution_read> get_if_changed(client& core, api::execution_get_request request,
                                                           call_deadline deadline, std::uint64_t seen) {
  // Not a coroutine itself: the awaitable it returns holds all it needs
  // (one coroutine frame less per status read).
  std::string amc_id = request.amc_execution_id.empty() ? amc_id_of(core, request)
                                                        : std::move(request.amc_execution_id);
  return api::get_execution_if_changed(core.amc(), with_deadline(std::move(request.context), deadline),
                                       std::move(amc_id), seen);
}

boost::asio::awaitable<nlohmann::json> list_async(client& core, api::execution_list_request request,
                                                  call_deadline deadline, api::list_paging paging) {
  const api::call_context context = with_deadline(request.context, deadline);
  co_return co_await api::list_executions(core.amc(), context, std::move(request.filters), paging);
}

namespace {
boost::asio::awaitable<nlohmann::json> cancel_and_read(api::session& amc, api::call_context context,
                                                       std::string amc_execution_id) {
  co_await api::cancel_execution(amc, context, amc_execution_id);
  co_return co_await api::get_execution(amc, context, amc_execution_id);
}
}  // namespace

nlohmann::json cancel(client& core, const api::execution_cancel_request& request, call_deadline deadline,
                      const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      cancel_and_read(core.amc(), with_deadline(request.context, deadline), amc_id_of(core, request)), deadline,
      cancelled_by);
}

nlohmann::json wait(client& core, const api::execution_wait_request& request, call_deadline deadline,
                    const cancellation_ptr& cancelled_by, wait_progress progress) {
  const auto id = amc_id_of(core, request);
  api::wait_options options;
  options.timeout = deadline.budget;
  options.first_poll = request.first_poll;
  options.max_poll = request.max_poll;
  auto gate = std::make_shared<callback_gate>();
  const gate_closer close_gate{gate};
  if (progress)
    options.progress = [gate, progress = std::move(progress)](const nlohmann::json& execution,
                                                              std::chrono::milliseconds next_poll) {
      gate->run([&] { progress(execution, next_poll); });
    };
  const auto execution = core.run_blocking(
      api::wait_for_execution(core.amc(), with_deadline(request.context, deadline), id, std::move(options),
                              cancelled_by, core.log()),
      deadline, cancelled_by);
  const std::string status = execution.value("status", "");
  if (status != "SUCCEEDED") {
    const auto reason = api::failure_reason(execution);
    throw error(errc::execution_failed,
                fmt::format("execution {} ended {}{}{}", id, status, reason.empty() ? "" : ": ", reason),
                {{"execution", execution}, {"status", status}});
  }
  return execution;
}

nlohmann::json download(client& core, const api::results_download_request& request, call_deadline deadline,
                        const cancellation_ptr& cancelled_by, std::function<void(const api::download_event&)> progress) {
  const auto id = amc_id_of(core, request);
  api::download_options options;
  options.directory = request.directory;
  options.parallelism = request.parallelism;
  // An ad-hoc run's outputFormat was journaled at submit: the files are read with it.
  options.journal = &internals(core).journal();
  auto gate = std::make_shared<callback_gate>();
  const gate_closer close_gate{gate};
  if (progress)
    options.progress = [gate, progress = std::move(progress)](const api::download_event& event) {
      gate->run([&] { progress(event); });
    };
  return core.run_blocking(api::download_results(core.amc(), internals(core).http(), with_deadline(request.context, deadline),
                                                 id, std::move(options)),
                           deadline, cancelled_by);
}

nlohmann::json data_source_list(client& core, const api::data_source_list_request& request, call_deadline deadline,
                                const cancellation_ptr& cancelled_by) {
  auto listing = core.run_blocking(api::list_data_sources(core.amc(), with_deadline(request.context, deadline)),
                                   deadline, cancelled_by);
  if (request.filter.empty()) return listing;
  const auto lower = [](std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  const std::string wanted = lower(request.filter);
  nlohmann::json kept = nlohmann::json::array();
  for (auto& source : listing["dataSources"])
    if (lower(source.value("dataSourceId", "")).find(wanted) != std::string::npos) kept.push_back(std::move(source));
  return nlohmann::json{{"dataSources", std::move(kept)}};
}

nlohmann::json data_source_get(client& core, const api::data_source_get_request& request, call_deadline deadline,
                               const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      api::get_data_source(core.amc(), with_deadline(request.context, deadline), request.data_source_id), deadline,
      cancelled_by);
}

nlohmann::json workflow_validate(client& core, const api::workflow_validate_request& request,
                                 call_deadline deadline, const cancellation_ptr& cancelled_by) {
  return core.run_blocking(
      api::validate_workflow(core.amc(), with_deadline(request.context, deadline), request.request), deadline,
      cancelled_by);
}

nlohmann::json adhoc_quota(client& core, const api::adhoc_quota_request& request, call_deadline deadline,
                           const cancellation_ptr& cancelled_by) {
  return core.run_blocking(api::adhoc_quota(core.amc(), with_deadline(request.context, deadline)), deadline,
                           cancelled_by);
}

}  // namespace amc::client
