#include "client/watch.hpp"

#include "api/executions.hpp"
#include "api/ids.hpp"
#include "api/operations.hpp"
#include "api/shapes.hpp"
#include "client/internals.hpp"
#include "client/operations.hpp"
#include "common/json_fields.hpp"

namespace amc::client {
namespace {

// The poller's reads, each through the façade's own operation.
class facade_reader final : public poll::status_source::reader {
 public:
  explicit facade_reader(client& core) : core_(core) {}

  boost::asio::any_io_executor executor() const override { return core_.io().get_executor(); }
  boost::asio::any_io_executor read_executor() const override { return internals(core_).http().strand(); }
  const logger& log() const override { return core_.log(); }

  void validate(const api::call_context& context) const override { api::validate_instance_context(context); }
  void validate_execution_id(const std::string& amc_execution_id) const override {
    api::validate_path_id(amc_execution_id, "AMC execution id");
  }
  void validate_workflow_id(const std::string& workflow_id) const override {
    api::validate_workflow_id(workflow_id);
  }
  std::string journaled_amc_id(const std::string& execution_id) const override {
    return api::journaled_amc_id(internals(core_).journal(), execution_id);
  }
  // AMC's statuses are classified once, in src/api; the poller gets the
  // part its schedule needs.
  poll::read_phase phase_of(std::string_view status) const override {
    const auto phase = api::parse_execution_status(status);
    if (api::is_terminal(phase)) return poll::read_phase::terminal;
    switch (phase) {
      case api::execution_phase::running: return poll::read_phase::running;
      case api::execution_phase::publishing: return poll::read_phase::publishing;
      default: return poll::read_phase::waiting;
    }
  }

  boost::asio::awaitable<api::execution_read> read_execution(api::call_context context, std::string amc_execution_id,
                                                             std::uint64_t seen,
                                                             std::chrono::milliseconds budget) override {
    // Not a coroutine: the façade's awaitable is handed back as it is.
    api::execution_get_request request;
    request.context = std::move(context);
    request.amc_execution_id = std::move(amc_execution_id);
    return get_if_changed(core_, std::move(request), call_deadline::after(budget), seen);
  }

  boost::asio::awaitable<nlohmann::json> list(api::call_context context, nlohmann::json filters,
                                              std::chrono::milliseconds budget, int max_pages,
                                              int* pages_read) override {
    api::execution_list_request request;
    request.context = std::move(context);
    request.filters = std::move(filters);
    return list_async(core_, std::move(request), call_deadline::after(budget), {max_pages, pages_read});
  }

 private:
  client& core_;
};

}  // namespace

poll::status_source poll_source(client& core) { return poll::status_source(std::make_shared<facade_reader>(core)); }

poll::poll_settings decode_poller_config(const char* json_text) {
  return poll::parse_poll_settings(parse_json_object(json_text, "poller config", true));
}

watcher::watcher(client& core, poll::poll_settings settings) : poller_(poll_source(core), settings) {}

std::uint64_t watcher::watch(const watch_request& request, watch_delivery delivery) {
  if (!request.workflow_id.empty()) return watch_workflow(request, delivery);
  poll::watch_request watch;
  watch.context = request.context;
  watch.amc_execution_id = request.amc_execution_id;
  watch.execution_id = request.execution_id;
  watch.create_time = request.create_time;
  watch.callback = delivery.callback;
  watch.user = delivery.user;
  watch.destroy_user = delivery.destroy_user;
  return poller_.watch(std::move(watch));
}

std::uint64_t watcher::watch_workflow(const watch_request& request, watch_delivery delivery) {
  poll::workflow_watch_request watch;
  watch.context = request.context;
  watch.workflow_id = request.workflow_id;
  watch.since = request.since;
  watch.callback = delivery.callback;
  watch.user = delivery.user;
  watch.destroy_user = delivery.destroy_user;
  return poller_.watch_workflow(std::move(watch));
}

void watcher::unwatch(std::uint64_t watch_id) { poller_.unwatch(watch_id); }

std::optional<std::string> watcher::next_event(std::chrono::milliseconds timeout) {
  if (on_client_thread())
    throw error(errc::invalid_argument,
                "amc_poller_next_event was called from a libamc callback thread, where waiting would stall "
                "the client; call it from the host's own thread");
  return poller_.next_event(timeout);
}

nlohmann::json watcher::stats() const { return poller_.stats(); }

}  // namespace amc::client
