// The client façade: the one typed front door to the core's AMC operations.
// Hosts (the C ABI in capi/, the poller in src/poll, any future host) call
// these functions and nothing below them. Each takes a typed request
// (client/requests.hpp: decoded and validated once), a deadline and an optional
// cancellation, blocks the calling thread (never a client thread: that is
// refused with errc::invalid_argument) and returns a typed result, or JSON
// where the result is AMC's own object (flat, whichever shape AMC used).
//
// Rules every function keeps:
//  - Deadline: `deadline` (one amc::deadline, made by the caller at the
//    door) travels unchanged with the call down to every HTTP request
//    (api::call_context::deadline → net::request::deadline), so each socket
//    phase, retry and Retry-After wait ends by it; a request is never
//    started after it. A call that reaches it throws errc::timeout naming
//    deadline.budget in ms. (Token refreshes through LwA are shared between
//    calls and keep their own limits; run_blocking's guard still ends the
//    call at the deadline plus client::deadline_grace.)
//  - Cancellation: cancel() on `cancelled_by` (may be null) ends the call soon
//    with errc::cancelled; the AMC execution itself keeps running.
//  - Callbacks: `progress` runs on a client thread, must return quickly and
//    must not make blocking calls on the same client. It is never running
//    when the function returns, and is never called after that.
//  - Errors: amc::error with an amc::errc; the request's ids were checked
//    when it was decoded (an hand-built request is checked by the
//    operations themselves).
#pragma once

#include "api/executions.hpp"
#include "api/operations.hpp"
#include "client/requests.hpp"
#include "api/results.hpp"
#include "client/client.hpp"

#include <nlohmann/json.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace amc::client {

using cancellation_ptr = std::shared_ptr<cancellation>;

// {"accounts": [{"accountId", "accountName", "marketplaceId"}, …]}, all pages.
nlohmann::json accounts(client& core, const api::accounts_request& request, call_deadline deadline,
                        const cancellation_ptr& cancelled_by = nullptr);
// {"instances": [...]}, all pages.
nlohmann::json instances(client& core, const api::instances_request& request, call_deadline deadline,
                         const cancellation_ptr& cancelled_by = nullptr);

// Workflows: AMC's Workflow object, flat.
nlohmann::json workflow_create(client& core, const api::workflow_create_request& request, call_deadline deadline,
                               const cancellation_ptr& cancelled_by = nullptr);
nlohmann::json workflow_get(client& core, const api::workflow_get_request& request, call_deadline deadline,
                            const cancellation_ptr& cancelled_by = nullptr);
// {"workflows": [...]}, all pages.
nlohmann::json workflow_list(client& core, const api::workflow_list_request& request, call_deadline deadline,
                             const cancellation_ptr& cancelled_by = nullptr);
nlohmann::json workflow_update(client& core, const api::workflow_update_request& request, call_deadline deadline,
                               const cancellation_ptr& cancelled_by = nullptr);
void workflow_delete(client& core, const api::workflow_delete_request& request, call_deadline deadline,
                     const cancellation_ptr& cancelled_by = nullptr);
// {"action": "created"|"updated"|"unchanged", "workflow": {...}}
nlohmann::json workflow_sync(client& core, const api::workflow_sync_request& request, call_deadline deadline,
                             const cancellation_ptr& cancelled_by = nullptr);
// A valid workflow id from a human name (api::workflow_id_from_name).
std::string workflow_id_from_name(std::string_view name);

// Schedules: AMC's Schedule object, flat. A workflow delete that a schedule
// still runs is errc::conflict naming the schedule (api::delete_workflow).
nlohmann::json schedule_create(client& core, const api::schedule_create_request& request, call_deadline deadline,
                               const cancellation_ptr& cancelled_by = nullptr);
nlohmann::json schedule_get(client& core, const api::schedule_get_request& request, call_deadline deadline,
                            const cancellation_ptr& cancelled_by = nullptr);
// {"schedules": [...]}, all pages.
nlohmann::json schedule_list(client& core, const api::schedule_list_request& request, call_deadline deadline,
                             const cancellation_ptr& cancelled_by = nullptr);
nlohmann::json schedule_update(client& core, const api::schedule_update_request& request, call_deadline deadline,
                               const cancellation_ptr& cancelled_by = nullptr);
void schedule_delete(client& core, const api::schedule_delete_request& request, call_deadline deadline,
                     const cancellation_ptr& cancelled_by = nullptr);

// Executions. An execution named by execution_id is looked up in the
// journal first (errc::not_found when it was never submitted).
api::submission submit(client& core, const api::execution_submit_request& request, call_deadline deadline,
                       const cancellation_ptr& cancelled_by = nullptr);
// The flat execution.
nlohmann::json get(client& core, const api::execution_get_request& request, call_deadline deadline,
                   const cancellation_ptr& cancelled_by = nullptr);
// {"executions": [...]}, all pages.
nlohmann::json list(client& core, const api::execution_list_request& request, call_deadline deadline,
                    const cancellation_ptr& cancelled_by = nullptr);

// Awaitable forms, for code that runs on the client's io_context (the
// poller, src/poll) and must not block a thread: the same operations and
// rules as get() and list() (the deadline travels to every HTTP request;
// the same errors), cancelled through the awaiting coroutine's
// cancellation slot. get_if_changed is api::get_execution_if_changed: the
// reply is parsed only when its fingerprint differs from `seen`.
// get_if_changed may also throw when called (an execution_id that is not
// in the journal: not_found), before there is anything to await.
boost::asio::awaitable<api::execution_read> get_if_changed(client& core, api::execution_get_request request,
                                                           call_deadline deadline, std::uint64_t seen);
// `paging` bounds the pages list_async follows (api::list_paging; the
// poller asks for fewer than the default, and counts them).
boost::asio::awaitable<nlohmann::json> list_async(client& core, api::execution_list_request request,
                                                  call_deadline deadline, api::list_paging paging = {});
// Cancels the execution in AMC and returns it as AMC reports it afterwards.
nlohmann::json cancel(client& core, const api::execution_cancel_request& request, call_deadline deadline,
                      const cancellation_ptr& cancelled_by = nullptr);

// Called on every status read of a wait: the flat execution and the delay
// before the next read (0 when terminal).
using wait_progress = std::function<void(const nlohmann::json& execution, std::chrono::milliseconds next_poll)>;

// Waits until the execution is terminal (api::wait_for_execution) and
// returns it when SUCCEEDED; FAILED, CANCELLED and REJECTED throw
// errc::execution_failed with AMC's reason and detail {"execution",
// "status"}. errc::timeout when the deadline passes first (the message gives
// request.timeout: use call_deadline::after(request.timeout)).
nlohmann::json wait(client& core, const api::execution_wait_request& request, call_deadline deadline,
                    const cancellation_ptr& cancelled_by = nullptr, wait_progress progress = nullptr);

// Downloads every result part (api::download_results); the manifest
// {"amc_execution_id", "directory", "files": [...], "total_bytes",
// "total_rows"}.
nlohmann::json download(client& core, const api::results_download_request& request, call_deadline deadline,
                        const cancellation_ptr& cancelled_by = nullptr,
                        std::function<void(const api::download_event&)> progress = nullptr);

// Data sources, the pre-flight check and the ad-hoc quota (issue 24).
// {"dataSources": [...]}, all pages, only those whose dataSourceId holds
// request.filter (ignoring case) when it is set.
nlohmann::json data_source_list(client& core, const api::data_source_list_request& request, call_deadline deadline,
                                const cancellation_ptr& cancelled_by = nullptr);
// AMC's DataSource with every column (api::get_data_source).
nlohmann::json data_source_get(client& core, const api::data_source_get_request& request, call_deadline deadline,
                               const cancellation_ptr& cancelled_by = nullptr);
// api::validate_workflow: the report, or invalid_argument with it.
nlohmann::json workflow_validate(client& core, const api::workflow_validate_request& request,
                                 call_deadline deadline, const cancellation_ptr& cancelled_by = nullptr);
// api::adhoc_quota: today's ad-hoc runs of the instance.
nlohmann::json adhoc_quota(client& core, const api::adhoc_quota_request& request, call_deadline deadline,
                           const cancellation_ptr& cancelled_by = nullptr);

}  // namespace amc::client
