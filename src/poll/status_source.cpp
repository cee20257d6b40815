#include "poll/status_source.hpp"

namespace amc::poll {

status_source::status_source(std::shared_ptr<reader> core) : core_(std::move(core)) {}

boost::asio::awaitable<status_source::listing> status_source::list_since(call_context context,
                                                                         std::string min_creation_time,
                                                                         int page_size,
                                                                         std::chrono::milliseconds budget) {
  nlohmann::json filters = {{"minCreationTime", std::move(min_creation_time)},
                            {"includeCancelled", true},
                            {"sortAscending", true},
                            {"limit", page_size}};
  co_return co_await list_all(std::move(context), std::move(filters), page_size, budget);
}

boost::asio::awaitable<status_source::listing> status_source::list_workflow_since(call_context context,
                                                                                  std::string workflow_id,
                                                                                  std::string min_creation_time,
                                                                                  int page_size,
                                                                                  std::chrono::milliseconds budget) {
  nlohmann::json filters = {{"workflowId", std::move(workflow_id)},
                            {"minCreationTime", std::move(min_creation_time)},
                            {"includeCancelled", true},
                            {"sortAscending", true},
                            {"limit", page_size}};
  co_return co_await list_all(std::move(context), std::move(filters), page_size, budget);
}

boost::asio::awaitable<status_source::listing> status_source::list_all(call_context context, nlohmann::json filters,
                                                                       int page_size,
                                                                       std::chrono::milliseconds budget) {
  auto listed = co_await core_->list(std::move(context), std::move(filters), budget);
  listing result;
  result.executions = std::move(listed["executions"]);
  // list_executions follows nextToken to the end with `page_size` per page,
  // so the requests it made follow from the count.
  const auto count = static_cast<long>(result.executions.size());
  result.pages = count == 0 ? 1 : (count + page_size - 1) / page_size;
  co_return result;
}

}  // namespace amc::poll
