// The AMC operations libamc performs, as coroutines over one session: account
// and instance discovery, workflows, executions and their result URLs. Ids
// are validated before any request; every list follows nextToken to the end;
// replies are normalised to flat objects.
#pragma once

#include "api/session.hpp"

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace amc::api {

// How far a list operation follows nextToken. Every list (accounts,
// instances, workflows, executions) stops after `max_pages` pages with
// errc::protocol, and a nextToken AMC repeats stops it at once: a server
// whose pages never end (the same token, or a new one every time) cannot
// keep a call looping; the call's deadline bounds the time (issue 23
// kind 1). 1000 pages of 100 are 100,000 items, more than any instance
// holds in a list's window. The poller asks for far fewer
// (poll_settings::list_max_pages). `pages_read`, when set, is kept at the
// number of page requests made so far (also when the list fails); it must
// outlive the awaited call.
struct list_paging {
  static constexpr int default_max_pages = 1000;
  int max_pages = default_max_pages;
  int* pages_read = nullptr;
};

// Checks the instance part of a context (instance, entity and marketplace
// ids) before any call; throws invalid_argument.
void validate_instance_context(const call_context& context);

// {"accounts": [{accountId, accountName, marketplaceId}, ...]}, every page.
boost::asio::awaitable<nlohmann::json> list_accounts(session& amc, const call_context& context);
// {"instances": [...]}, every page.
boost::asio::awaitable<nlohmann::json> list_instances(session& amc, const call_context& context);
boost::asio::awaitable<nlohmann::json> get_instance(session& amc, const call_context& context);

// Workflows. `workflow` is AMC's Workflow object (workflowId, sqlQuery, ...).
boost::asio::awaitable<nlohmann::json> create_workflow(session& amc, const call_context& context,
                                                       nlohmann::json workflow);
boost::asio::awaitable<nlohmann::json> get_workflow(session& amc, const call_context& context,
                                                    std::string workflow_id);
// {"workflows": [...]}, every page. `page_size` (1-100) is the `limit` of
// each page request; 0 leaves it to AMC.
boost::asio::awaitable<nlohmann::json> list_workflows(session& amc, const call_context& context,
                                                      int page_size = 0);
boost::asio::awaitable<nlohmann::json> update_workflow(session& amc, const call_context& context,
                                                       nlohmann::json workflow);
// AMC refuses to delete a workflow that a schedule still runs (HTTP 400 or
// 409, in words of its own): such a refusal is errc::conflict naming each
// schedule that uses the workflow (read from AMC's list) and what to do.
boost::asio::awaitable<void> delete_workflow(session& amc, const call_context& context,
                                             std::string workflow_id);
// Makes AMC hold `workflow`: creates it, updates it (PUT of the whole
// `workflow`) when it differs, or leaves it.
// {"action": "created"|"updated"|"unchanged", "workflow": {...}}
// Differs means: a field of AMC's Workflow schema that `workflow` sets
// (sqlQuery, inputParameters, outputColumns, outputFormat, the aggregation-
// threshold fields, …) is not what AMC holds, comparing within objects only
// the keys `workflow` sets, so defaults AMC fills in are no difference. A
// field only AMC has is no difference either: set it explicitly to change it.
boost::asio::awaitable<nlohmann::json> sync_workflow(session& amc, const call_context& context,
                                                     nlohmann::json workflow);

// Schedules (the spec's createSchedule … deleteSchedule). `schedule` is
// AMC's Schedule object (scheduleId, workflowId, aggregationPeriod, …), sent
// as it is; replies are the flat Schedule whichever shape AMC used. Create
// and update read the schedule back (AMC answers them with {}).
boost::asio::awaitable<nlohmann::json> create_schedule(session& amc, const call_context& context,
                                                       nlohmann::json schedule);
boost::asio::awaitable<nlohmann::json> get_schedule(session& amc, const call_context& context,
                                                    std::string schedule_id);
// {"schedules": [...]}, every page (nextToken followed to the end).
boost::asio::awaitable<nlohmann::json> list_schedules(session& amc, const call_context& context);
// PUT of the whole `schedule` to its scheduleId.
boost::asio::awaitable<nlohmann::json> update_schedule(session& amc, const call_context& context,
                                                       nlohmann::json schedule);
boost::asio::awaitable<void> delete_schedule(session& amc, const call_context& context, std::string schedule_id);

// Executions. `request` is AMC's CreateWorkflowExecutionRequest; the reply
// is the flat execution. Never retried (the caller reconciles).
boost::asio::awaitable<nlohmann::json> create_execution(session& amc, const call_context& context,
                                                        nlohmann::json request);
boost::asio::awaitable<nlohmann::json> get_execution(session& amc, const call_context& context,
                                                     std::string amc_execution_id);

// A status read for a caller that reads the same execution again and again
// (the poller): get_execution, except that when AMC's reply is byte for
// byte the one whose fingerprint the caller passes as `seen`, it is not
// parsed and `execution` is empty: nothing about the execution has changed.
// `fingerprint` identifies this reply's body (a 64-bit hash, never 0; pass
// 0 as `seen` to always parse; the poller also does so every 128th read in
// a row). AMC offers no ETag on executions: this is
// the client-side equivalent, and it saves the JSON parse that is most of
// a status read's CPU. A different body is parsed and checked in full.
// (amc::execution_read, common/call_context.hpp: the poller's type too.)
using execution_read = amc::execution_read;
// `context` is taken by value (kept in the coroutine's frame), so callers
// may return this awaitable without a coroutine of their own.
boost::asio::awaitable<execution_read> get_execution_if_changed(session& amc, call_context context,
                                                                std::string amc_execution_id, std::uint64_t seen);
// `filters`: minCreationTime, maxCreationTime, workflowId, includeCancelled,
// sortAscending, timeZone, limit (page size). {"executions": [...]}, every page.
boost::asio::awaitable<nlohmann::json> list_executions(session& amc, const call_context& context,
                                                       nlohmann::json filters, list_paging paging = {});
boost::asio::awaitable<void> cancel_execution(session& amc, const call_context& context,
                                              std::string amc_execution_id);
// {"downloadUrls": [...], "metadataDownloadUrls": [...]}
boost::asio::awaitable<nlohmann::json> download_urls(session& amc, const call_context& context,
                                                     std::string amc_execution_id);

// Data sources (the tables SQL reads): AMC's DataSource objects, flat.
// {"dataSources": [...]}, every page; `page_size` (1-100) as for
// list_workflows.
boost::asio::awaitable<nlohmann::json> list_data_sources(session& amc, const call_context& context,
                                                         int page_size = 0);
// One data source with every column: AMC's spec caps "columns" at 500 per
// reply; a reply that also carries "nextToken" (beside or in the
// DataSource) is followed (?nextToken=)
// and the pages' columns joined in order (our reading: AMC documents no
// column paging).
boost::asio::awaitable<nlohmann::json> get_data_source(session& amc, const call_context& context,
                                                       std::string data_source_id);

// Checks an execution request before it is sent: workflowId XOR inline
// sqlQuery, both ends of an EXPLICIT window, timeout >= 900 s, known window
// types. Throws invalid_argument saying what to change.
void validate_execution_request(const nlohmann::json& request);

}  // namespace amc::api
