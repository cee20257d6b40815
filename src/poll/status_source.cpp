#include "poll/status_source.hpp"

#include "api/executions.hpp"
#include "api/ids.hpp"
#include "client/client.hpp"
#include "client/operations.hpp"

namespace amc::poll {

status_source::status_source(client::client& client) : client_(client) {}

boost::asio::any_io_executor status_source::executor() const { return client_.io().get_executor(); }

boost::asio::any_io_executor status_source::read_executor() const { return client_.http().strand(); }

const logger& status_source::log() const { return client_.log(); }

void status_source::validate(const api::call_context& context) const { api::validate_instance_context(context); }

void status_source::validate_execution_id(const std::string& amc_execution_id) const {
  api::validate_path_id(amc_execution_id, "AMC execution id");
}

std::string status_source::journaled_amc_id(const std::string& execution_id) const {
  return api::journaled_amc_id(client_.journal(), execution_id);
}

boost::asio::awaitable<api::execution_read> status_source::read_execution(api::call_context context,
                                                                         std::string amc_execution_id,
                                                                         std::uint64_t seen,
                                                                         std::chrono::milliseconds budget) {
  // Not a coroutine: the façade's awaitable is handed back as it is.
  api::execution_get_request request;
  request.context = std::move(context);
  request.amc_execution_id = std::move(amc_execution_id);
  return client::get_if_changed(client_, std::move(request), client::call_deadline::after(budget), seen);
}

boost::asio::awaitable<status_source::listing> status_source::list_since(api::call_context context,
                                                                         std::string min_creation_time,
                                                                         int page_size,
                                                                         std::chrono::milliseconds budget) {
  api::execution_list_request request;
  request.context = std::move(context);
  request.filters = {{"minCreationTime", std::move(min_creation_time)},
                     {"includeCancelled", true},
                     {"sortAscending", true},
                     {"limit", page_size}};
  const auto deadline = client::call_deadline::after(budget);
  auto listed = co_await client::list_async(client_, std::move(request), deadline);
  listing result;
  result.executions = std::move(listed["executions"]);
  // list_executions follows nextToken to the end with `page_size` per page,
  // so the requests it made follow from the count.
  const auto count = static_cast<long>(result.executions.size());
  result.pages = count == 0 ? 1 : (count + page_size - 1) / page_size;
  co_return result;
}

}  // namespace amc::poll
