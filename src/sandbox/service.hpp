// The sandbox's application: LwA, AMC administration and reporting, signed
// result downloads, faults and the admin API, as a function from an HTTP
// request to a reply. The HTTP server owns sockets; this owns state. Written
// from the OpenAPI specs in shared/specs, not from libamc's client code.
#pragma once

#include "sandbox/execution_model.hpp"
#include "sandbox/execution_request_checks.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/options.hpp"
#include "sandbox/result_rows.hpp"
#include "sandbox/time_zone.hpp"

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace amc::sandbox {

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

// How the server delivers a reply; everything but `normal` is a fault.
enum class delivery {
  normal,
  reset_before_headers,  // no byte of the response, then a TCP reset
  reset_after_headers,   // the header block only, then a TCP reset
  truncated_body,        // full Content-Length, half the body, then close
  trickle,               // a few bytes at a time
};

struct reply {
  http_response message;
  // When set, the whole answer as it goes on the wire (status line, headers
  // and body), kept by the service and shared with the server: the status
  // read of the poll hot path, to an HTTP/1.1 keep-alive request with no
  // fault. `message` then only carries its status (200) and keep-alive.
  std::shared_ptr<const std::string> wire;
  delivery how = delivery::normal;
  std::chrono::milliseconds delay{0};
  std::size_t trickle_bytes = 1;
  std::chrono::milliseconds trickle_interval{0};
};

// The status line and header block of `message` as they go on the wire
// (the body follows them).
std::string wire_head(const http_response& message);

enum class operation : int {
  unknown,
  lwa_token,
  lwa_consent,
  list_accounts,
  list_instances,
  get_instance,
  list_workflows,
  create_workflow,
  get_workflow,
  update_workflow,
  delete_workflow,
  list_executions,
  create_execution,
  get_execution,
  update_execution,
  get_download_urls,
  download_result,
};
inline constexpr std::size_t operation_count = 17;

// The spec's operationId (or lwaToken, lwaConsent, downloadResult).
std::string_view operation_name(operation op);

// Lookups by std::string_view without building a std::string (the token
// and id checks on every request).
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};
template <class Value>
using string_map = std::unordered_map<std::string, Value, string_hash, std::equal_to<>>;

class sandbox_service {
 public:
  // `base_url` is what the sandbox puts in instance apiEndpoint and result URLs.
  sandbox_service(sandbox_options options, std::string base_url);
  sandbox_service(const sandbox_service&) = delete;
  sandbox_service& operator=(const sandbox_service&) = delete;

  // Thread-safe.
  reply handle(const http_request& request);

  const std::string& client_id() const { return options_.client_id; }
  const std::string& client_secret() const { return options_.client_secret; }
  // The refresh token of the grant made at start (empty with seed_grant off).
  const std::string& seeded_refresh_token() const { return seeded_refresh_token_; }
  const std::string& base_url() const { return base_url_; }
  const sandbox_options& options() const { return options_; }

 private:
  struct grant_record {
    std::string id;
    std::string client_id;
    std::string refresh_token;
    std::string scope;
    bool revoked = false;
    double created = 0;
  };
  struct access_token_record {
    std::string grant_id;
    std::string client_id;
    double expires_at = 0;
  };
  struct consent_code_record {
    std::string grant_client_id;
    std::string redirect_uri;
    std::string scope;
    double expires_at = 0;
  };
  struct workflow_record {
    nlohmann::json definition;
    std::uint64_t sequence = 0;
  };
  struct execution_record {
    std::string id;
    std::string instance_id;
    std::string workflow_id;
    bool ad_hoc = false;
    std::string sql;
    nlohmann::json output_columns = nlohmann::json::array();
    csv_dialect dialect;            // the workflow's outputFormat
    time_zone zone;                 // timeWindowTimeZone
    std::int64_t window_start = 0;  // the time window in UTC unix seconds, [start, end)
    std::int64_t window_end = 0;
    nlohmann::json echoed = nlohmann::json::object();  // request fields AMC echoes back
    execution_plan plan;
    execution_timing timing;
    std::uint64_t sequence = 0;
    std::uint64_t data_seed = 0;
    // The status answer is the same between two phase changes, so it is
    // rendered once per phase and shape (the poll hot path): the whole
    // HTTP/1.1 keep-alive reply, its body from `body_offset` on.
    struct rendered_status {
      std::shared_ptr<const std::string> wire;
      std::size_t body_offset = 0;
    };
    mutable int cached_phase = -1;
    mutable std::array<rendered_status, 2> cached_status;
  };
  struct instance_state {
    instance_seed seed;
    std::map<std::string, workflow_record, std::less<>> workflows;
    std::vector<std::unique_ptr<execution_record>> executions;  // creation order
    string_map<execution_record*> executions_by_id;
  };
  struct request_log_entry {
    double time = 0;
    std::string method;
    std::string path;  // without the query: signatures and codes stay out of the log
    int status = 0;
    std::string operation;
    std::string fault;
    double duration_ms = 0;
  };
  struct route {
    operation op = operation::unknown;
    bool method_allowed = true;
    std::string_view instance_id;
    std::string_view resource_id;
    std::string_view file_name;
  };
  struct caller {  // an authenticated AMC request
    instance_state* instance = nullptr;
  };

  static route classify(http::verb method, std::string_view path);

  // Everything below runs with mutex_ held.
  double now() const;
  void reset_state_locked();
  std::string next_uuid();
  const fault_rule* match_fault(const http_request& request, operation op, std::string_view path);
  void count_fault(fault_kind kind);

  reply handle_admin(const http_request& request, std::string_view path, std::string_view query);

  http_response handle_token(const http_request& request);
  http_response handle_consent(const http_request& request, std::string_view query);
  http_response handle_list_accounts(const http_request& request, std::string_view query);
  http_response handle_list_instances(const http_request& request, std::string_view query);
  http_response handle_get_instance(const http_request& request, std::string_view instance_id);
  // `wire`, when given, may receive the whole answer pre-rendered (see
  // reply::wire); the returned message is then its status only.
  http_response handle_reporting(const http_request& request, const route& target, std::string_view query,
                                 bool expired_urls, std::shared_ptr<const std::string>* wire);
  http_response handle_download(const http_request& request, const route& target, std::string_view query,
                                std::unique_lock<std::mutex>& lock);

  // 401/403 checks; returns an error response or fills `who`.
  std::optional<http_response> authenticate_bearer(const http_request& request, bool wants_amc_error_body,
                                                   std::string& client_id_out);
  std::optional<http_response> authorize_reporting(const http_request& request, std::string_view instance_id,
                                                   caller& who);

  http_response list_workflows(const http_request& request, instance_state& instance, std::string_view query);
  http_response create_workflow(const http_request& request, instance_state& instance);
  http_response get_workflow(const http_request& request, instance_state& instance, std::string_view workflow_id);
  http_response update_workflow(const http_request& request, instance_state& instance, std::string_view workflow_id);
  http_response delete_workflow(const http_request& request, instance_state& instance, std::string_view workflow_id);
  http_response list_executions(const http_request& request, instance_state& instance, std::string_view query);
  http_response create_execution(const http_request& request, instance_state& instance);
  // Stores a new execution (id, seed, timing at `current`) of a checked
  // request and its plan. Quota and concurrency are the caller's business.
  execution_record& add_execution(instance_state& instance, checked_execution_request accepted, execution_plan plan,
                                  double current);
  // POST /_sandbox/executions/bulk: {"instance_id", "count", "request",
  // "scenario"} -> {"instance_id", "ids"}. Throws std::invalid_argument.
  nlohmann::json create_executions_in_bulk(const nlohmann::json& body);
  static constexpr std::int64_t max_bulk_executions = 100'000;
  http_response get_execution(const http_request& request, instance_state& instance, std::string_view execution_id,
                              std::string_view query, std::shared_ptr<const std::string>* wire);
  http_response update_execution(const http_request& request, instance_state& instance,
                                 std::string_view execution_id);
  http_response download_urls(const http_request& request, instance_state& instance, std::string_view execution_id,
                              bool expired_urls);

  nlohmann::json execution_json(const execution_record& record, const execution_status& status,
                                bool include_workflow) const;
  nlohmann::json instance_json(const instance_state& instance) const;
  std::string sign_result_path(std::string_view path, std::string_view amz_date, long lifetime) const;

  mutable std::mutex mutex_;
  sandbox_options options_;
  std::string base_url_;
  std::string signing_key_;
  std::string seeded_refresh_token_;
  double clock_offset_seconds_ = 0;
  std::optional<double> frozen_clock_;  // set by POST /_sandbox/clock/set {"frozen": true}
  std::mt19937_64 random_;
  std::uint64_t sequence_ = 0;

  string_map<grant_record> grants_by_id_;
  string_map<std::string> grant_id_by_refresh_token_;
  string_map<access_token_record> access_tokens_;
  string_map<consent_code_record> consent_codes_;
  std::map<std::string, instance_state, std::less<>> instances_;
  string_map<std::string> execution_instance_;  // execution id → instance id

  std::vector<fault_rule> faults_;
  std::uint64_t next_fault_id_ = 1;

  std::uint64_t request_count_ = 0;
  std::array<std::uint64_t, operation_count> requests_by_operation_{};
  std::map<int, std::uint64_t> responses_by_status_;
  std::array<std::uint64_t, fault_kind_count> faults_fired_{};
  std::deque<request_log_entry> request_log_;
};

}  // namespace amc::sandbox
