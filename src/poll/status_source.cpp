#include "poll/status_source.hpp"

namespace amc::poll {

status_source::status_source(std::shared_ptr<reader> core) : core_(std::move(core)) {}

boost::asio::awaitable<status_source::listing> status_source::list_since(call_context context,
                                                                         std::string min_creation_time,
                                                                         int page_size, int max_pages,
                                                                         std::chrono::milliseconds budget,
                                                                         int* pages_read) {
  nlohmann::json filters = {{"minCreationTime", std::move(min_creation_time)},
                            {"includeCancelled", true},
                            {"sortAscending", true},
                            {"limit", page_size}};
  co_return co_await list_all(std::move(context), std::move(filters), max_pages, budget, pages_read);
}

boost::asio::awaitable<status_source::listing> status_source::list_workflow_since(
    call_context context, std::string workflow_id, std::string min_creation_time, int page_size, int max_pages,
    std::chrono::milliseconds budget, int* pages_read) {
  nlohmann::json filters = {{"workflowId", std::move(workflow_id)},
                            {"minCreationTime", std::move(min_creation_time)},
                            {"includeCancelled", true},
                            {"sortAscending", true},
                            {"limit", page_size}};
  co_return co_await list_all(std::move(context), std::move(filters), max_pages, budget, pages_read);
}

boost::asio::awaitable<status_source::listing> status_source::list_all(call_context context, nlohmann::json filters,
                                                                       int max_pages, std::chrono::milliseconds budget,
                                                                       int* pages_read) {
  auto listed = co_await core_->list(std::move(context), std::move(filters), budget, max_pages, pages_read);
  listing result;
  result.executions = std::move(listed["executions"]);
  result.pages = *pages_read;
  co_return result;
}

}  // namespace amc::poll
