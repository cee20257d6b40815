#include "client/requests.hpp"

#include "api/ids.hpp"
#include "api/operations.hpp"
#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/time.hpp"
#include "store/credential.hpp"

#include <fmt/format.h>

#include <initializer_list>
#include <string_view>
#include <vector>

namespace amc::api {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Reads the fields of one JSON object of a request. `prefix` is the object's
// path inside the request ("" for the request itself, "instance", ...), so
// every message names a field the way the caller wrote it.
class field_reader {
 public:
  field_reader(const json& object, std::string_view what, std::string prefix = {})
      : object_(object), what_(what), prefix_(std::move(prefix)) {}

  // Every field of the object must be one of `known`.
  void only(std::initializer_list<std::string_view> known) const { only(std::vector<std::string_view>(known)); }
  void only(const std::vector<std::string_view>& known) const {
    for (const auto& item : object_.items()) {
      bool is_known = false;
      for (const auto name : known) is_known = is_known || item.key() == name;
      if (!is_known)
        throw error(errc::invalid_argument,
                    fmt::format("unknown field '{}' in the {}; known fields{}: {}", path(item.key()), what_,
                                prefix_.empty() ? "" : " of '" + prefix_ + "'", fmt::join(known, ", ")));
    }
  }

  std::string_view what() const { return what_; }

  std::string path(std::string_view name) const {
    return prefix_.empty() ? std::string{name} : fmt::format("{}.{}", prefix_, name);
  }

  // The field, or nullptr when it is absent or null.
  const json* find(std::string_view name) const {
    const auto found = object_.find(name);
    if (found == object_.end() || found->is_null()) return nullptr;
    return &*found;
  }

  [[noreturn]] void wrong(std::string_view name, std::string_view expected, const json& value) const {
    throw error(errc::invalid_argument, fmt::format("field '{}' of the {} must be {}, not {}", path(name), what_,
                                                    expected, describe(value)));
  }

  [[noreturn]] void missing(std::string_view name, std::string_view expected) const {
    throw error(errc::invalid_argument, fmt::format("the {} needs '{}' ({})", what_, path(name), expected));
  }

  std::optional<std::string> text(std::string_view name) const {
    const json* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) wrong(name, "a string", *value);
    return value->get<std::string>();
  }

  // A non-empty string that must be there.
  std::string required_text(std::string_view name, std::string_view expected = "a non-empty string") const {
    auto value = text(name);
    if (!value || value->empty()) missing(name, expected);
    return std::move(*value);
  }

  std::optional<bool> boolean(std::string_view name) const {
    const json* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) wrong(name, "true or false", *value);
    return value->get<bool>();
  }

  // A whole number in [minimum, maximum] (JSON numbers with a fraction, and
  // numbers as text, are refused).
  std::optional<long long> whole_number(std::string_view name, long long minimum, long long maximum,
                                        std::string_view unit = "") const {
    const json* value = find(name);
    if (value == nullptr) return std::nullopt;
    const std::string expected = fmt::format("a whole number{} from {} to {}", unit, minimum, maximum);
    // The parser gives non-negative whole numbers as unsigned: compare
    // those without a conversion that could wrap.
    if (value->is_number_unsigned()) {
      const auto number = value->get<unsigned long long>();
      if (number > static_cast<unsigned long long>(maximum) ||
          (minimum > 0 && number < static_cast<unsigned long long>(minimum)))
        wrong(name, expected, *value);
      return static_cast<long long>(number);
    }
    if (!value->is_number_integer()) wrong(name, expected, *value);
    const auto number = value->get<long long>();
    if (number < minimum || number > maximum) wrong(name, expected, *value);
    return number;
  }

  std::optional<milliseconds> duration_ms(std::string_view name, long long maximum) const {
    const auto number = whole_number(name, 1, maximum, " of milliseconds");
    if (!number) return std::nullopt;
    return milliseconds(*number);
  }

  const json* object(std::string_view name) const {
    const json* value = find(name);
    if (value != nullptr && !value->is_object()) wrong(name, "a JSON object", *value);
    return value;
  }

  const json& required_object(std::string_view name, std::string_view expected) const {
    const json* value = object(name);
    if (value == nullptr) missing(name, expected);
    return *value;
  }

  // A field that may hold anything of one JSON type (arrays, objects of AMC).
  void typed(std::string_view name, json::value_t type, std::string_view expected) const {
    const json* value = find(name);
    if (value == nullptr) return;
    if (value->type() != type) wrong(name, expected, *value);
  }

  field_reader nested(const json& object, std::string_view name) const { return {object, what_, path(name)}; }

 private:
  // A short, secret-free description of a wrong value: its type, and the
  // number itself when it is a number (numbers hold no secrets).
  static std::string describe(const json& value) {
    if (value.is_number()) return fmt::format("{} ({})", value.dump(), value.is_number_integer() || value.is_number_unsigned() ? "a whole number" : "a number with a fraction");
    if (value.is_string()) return "a string";
    if (value.is_boolean()) return "true or false";
    if (value.is_array()) return "an array";
    if (value.is_object()) return "an object";
    return value.type_name();
  }

  const json& object_;
  std::string_view what_;
  std::string prefix_;
};

constexpr std::string_view instance_shape =
    "an object {\"instance_id\", \"advertiser_id\", \"marketplace_id\"}";

// credential_id and timeout_ms, common to every request.
void read_common(const field_reader& fields, call_context& context, milliseconds& timeout) {
  context.credential_id = fields.required_text("credential_id", "a string: the credential to act as");
  if (const auto limit = fields.duration_ms("timeout_ms", max_timeout_ms)) timeout = *limit;
}

// The instance, checked once; instance_checked tells the operations not to
// check it again.
void read_instance(const field_reader& fields, call_context& context) {
  const json& object = fields.required_object("instance", instance_shape);
  const auto instance = fields.nested(object, "instance");
  instance.only({"instance_id", "advertiser_id", "marketplace_id"});
  context.instance_id = instance.required_text("instance_id", "a string such as \"amc1a2b3c4d\"");
  context.advertiser_id =
      instance.required_text("advertiser_id", "a string: the AMC account's entity id \"ENTITY…\"");
  context.marketplace_id = instance.required_text("marketplace_id", "a string such as \"ATVPDKIKX0DER\"");
  validate_instance_context(context);
  context.instance_checked = true;
}

// The common part of an instance-level request, with the request's own
// `fields` allowed next to it.
template <class Request>
field_reader read_instance_request(const json& body, std::string_view what, Request& request,
                                   std::initializer_list<std::string_view> fields) {
  field_reader reader{body, what};
  std::vector<std::string_view> known{"credential_id", "instance", "timeout_ms"};
  known.insert(known.end(), fields.begin(), fields.end());
  reader.only(known);
  read_common(reader, request.context, request.timeout);
  read_instance(reader, request.context);
  return reader;
}

// AMC's Workflow object: the fields amc.h documents are typed, the rest is
// AMC's to judge.
void check_workflow(const field_reader& workflow) {
  workflow.typed("workflowId", json::value_t::string, "a string");
  workflow.typed("sqlQuery", json::value_t::string, "a string");
  workflow.typed("inputParameters", json::value_t::array, "an array");
  workflow.typed("outputColumns", json::value_t::array, "an array");
  // Amazon's spec: the CSV dialect as an object, never a format name.
  workflow.typed("outputFormat", json::value_t::object,
                 "an object {\"separatorCharacter\", \"quoteCharacter\", \"escapeCharacter\"}");
  workflow.typed("filteredMetricsDiscriminatorColumn", json::value_t::string, "a string");
  workflow.typed("distinctUserCountColumn", json::value_t::string, "a string");
  workflow.typed("filteredReasonColumn", json::value_t::string, "a string");
  workflow.typed("privacyFilteringBehavior", json::value_t::string, "a string");
}

template <class Request>
Request decode_workflow_definition(const char* json_text, std::string_view what) {
  const auto body = parse_json_object(json_text, what, false);
  Request request;
  const auto fields = read_instance_request(body, what, request, {"workflow"});
  const json& workflow = fields.required_object("workflow", "AMC's Workflow object {\"workflowId\", \"sqlQuery\", …}");
  check_workflow(fields.nested(workflow, "workflow"));
  request.workflow = workflow;
  return request;
}

template <class Request>
Request decode_workflow_named(const char* json_text, std::string_view what) {
  const auto body = parse_json_object(json_text, what, false);
  Request request;
  const auto fields = read_instance_request(body, what, request, {"workflow_id"});
  request.workflow_id = fields.required_text("workflow_id", "a string: the workflow's id");
  validate_workflow_id(request.workflow_id);
  return request;
}

// AMC's Schedule object: the fields amc.h documents are typed, the rest is
// AMC's to judge.
void check_schedule(const field_reader& schedule) {
  validate_path_id(schedule.required_text("scheduleId", "a string: the schedule's id"), "schedule id");
  validate_workflow_id(schedule.required_text("workflowId", "a string: the id of the saved workflow it runs"));
  for (const char* field : {"aggregationPeriod", "aggregationStartDay", "marketplaceId"})
    schedule.typed(field, json::value_t::string, "a string");
  schedule.whole_number("aggregationHourUtc", 0, 23, " of hours");
  for (const char* field : {"scheduleEnabled", "requireSyntheticData", "disableAggregationControls"})
    schedule.boolean(field);
}

template <class Request>
Request decode_schedule_definition(const char* json_text, std::string_view what) {
  const auto body = parse_json_object(json_text, what, false);
  Request request;
  const auto fields = read_instance_request(body, what, request, {"schedule"});
  const json& schedule = fields.required_object(
      "schedule", "AMC's Schedule object {\"scheduleId\", \"workflowId\", \"aggregationPeriod\", …}");
  check_schedule(fields.nested(schedule, "schedule"));
  request.schedule = schedule;
  return request;
}

template <class Request>
Request decode_schedule_named(const char* json_text, std::string_view what) {
  const auto body = parse_json_object(json_text, what, false);
  Request request;
  const auto fields = read_instance_request(body, what, request, {"schedule_id"});
  request.schedule_id = fields.required_text("schedule_id", "a string: the schedule's id");
  validate_path_id(request.schedule_id, "schedule id");
  return request;
}

// amc_execution_id or execution_id, exactly one.
template <class Request>
void read_execution_name(const field_reader& fields, Request& request) {
  request.amc_execution_id = fields.text("amc_execution_id").value_or("");
  request.execution_id = fields.text("execution_id").value_or("");
  if (!request.amc_execution_id.empty() && !request.execution_id.empty())
    throw error(errc::invalid_argument,
                fmt::format("the {} names the execution twice: give 'amc_execution_id' or 'execution_id', not both",
                            fields.what()));
  if (request.amc_execution_id.empty() && request.execution_id.empty())
    throw error(errc::invalid_argument,
                fmt::format("the {} needs 'amc_execution_id' (AMC's id, a string) or 'execution_id' (the id given "
                            "to amc_execution_submit, a string)",
                            fields.what()));
  if (!request.amc_execution_id.empty()) validate_path_id(request.amc_execution_id, "amc_execution_id");
}

template <class Request>
field_reader read_execution_named(const json& body, std::string_view what, Request& request,
                                  std::initializer_list<std::string_view> fields) {
  auto reader = read_instance_request(body, what, request, fields);
  read_execution_name(reader, request);
  return reader;
}

// A request that only names an execution.
template <class Request>
Request decode_execution_named(const char* json_text, std::string_view what) {
  const auto body = parse_json_object(json_text, what, false);
  Request request;
  read_execution_named(body, what, request, {"amc_execution_id", "execution_id"});
  return request;
}

// AMC's CreateWorkflowExecutionRequest: the fields amc.h documents are typed.
void check_execution_request(const field_reader& request) {
  request.typed("workflowId", json::value_t::string, "a string");
  request.typed("workflow", json::value_t::object, "an object {\"sqlQuery\"}");
  if (const json* workflow = request.find("workflow")) check_workflow(request.nested(*workflow, "workflow"));
  for (const char* field : {"timeWindowType", "timeWindowStart", "timeWindowEnd", "timeWindowTimeZone"})
    request.typed(field, json::value_t::string, "a string");
  request.typed("parameterValues", json::value_t::object, "an object");
  request.typed("dryRun", json::value_t::boolean, "true or false");
  // AMC's minimum is 900 s; its maximum (86400 s unless configured
  // otherwise) is AMC's to enforce.
  request.whole_number("workflowExecutionTimeoutSeconds", 900, 2'147'483'647, " of seconds");
}

}  // namespace

accounts_request decode_accounts_request(const char* json_text) {
  constexpr std::string_view what = "accounts request";
  const auto body = parse_json_object(json_text, what, false);
  const field_reader fields{body, what};
  fields.only({"credential_id", "timeout_ms"});
  accounts_request request;
  read_common(fields, request.context, request.timeout);
  return request;
}

instances_request decode_instances_request(const char* json_text) {
  constexpr std::string_view what = "instances request";
  const auto body = parse_json_object(json_text, what, false);
  const field_reader fields{body, what};
  fields.only({"credential_id", "advertiser_id", "marketplace_id", "timeout_ms"});
  instances_request request;
  read_common(fields, request.context, request.timeout);
  request.context.advertiser_id =
      fields.required_text("advertiser_id", "a string: the AMC account's entity id \"ENTITY…\"");
  request.context.marketplace_id = fields.required_text("marketplace_id", "a string such as \"ATVPDKIKX0DER\"");
  validate_advertiser_id(request.context.advertiser_id);
  validate_path_id(request.context.marketplace_id, "marketplace id");
  return request;
}

workflow_create_request decode_workflow_create_request(const char* json_text) {
  return decode_workflow_definition<workflow_create_request>(json_text, "workflow create request");
}

workflow_update_request decode_workflow_update_request(const char* json_text) {
  return decode_workflow_definition<workflow_update_request>(json_text, "workflow update request");
}

workflow_sync_request decode_workflow_sync_request(const char* json_text) {
  return decode_workflow_definition<workflow_sync_request>(json_text, "workflow sync request");
}

workflow_get_request decode_workflow_get_request(const char* json_text) {
  return decode_workflow_named<workflow_get_request>(json_text, "workflow get request");
}

workflow_delete_request decode_workflow_delete_request(const char* json_text) {
  return decode_workflow_named<workflow_delete_request>(json_text, "workflow delete request");
}

workflow_list_request decode_workflow_list_request(const char* json_text) {
  constexpr std::string_view what = "workflow list request";
  const auto body = parse_json_object(json_text, what, false);
  workflow_list_request request;
  read_instance_request(body, what, request, {});
  return request;
}

schedule_create_request decode_schedule_create_request(const char* json_text) {
  return decode_schedule_definition<schedule_create_request>(json_text, "schedule create request");
}

schedule_update_request decode_schedule_update_request(const char* json_text) {
  return decode_schedule_definition<schedule_update_request>(json_text, "schedule update request");
}

schedule_get_request decode_schedule_get_request(const char* json_text) {
  return decode_schedule_named<schedule_get_request>(json_text, "schedule get request");
}

schedule_delete_request decode_schedule_delete_request(const char* json_text) {
  return decode_schedule_named<schedule_delete_request>(json_text, "schedule delete request");
}

schedule_list_request decode_schedule_list_request(const char* json_text) {
  constexpr std::string_view what = "schedule list request";
  const auto body = parse_json_object(json_text, what, false);
  schedule_list_request request;
  read_instance_request(body, what, request, {});
  return request;
}

execution_submit_request decode_execution_submit_request(const char* json_text) {
  constexpr std::string_view what = "submit request";
  const auto body = parse_json_object(json_text, what, false);
  execution_submit_request request;
  const auto fields = read_instance_request(body, what, request, {"execution_id", "request"});
  request.execution_id = fields.text("execution_id").value_or("");
  const json& amc_request = fields.required_object(
      "request", "AMC's CreateWorkflowExecutionRequest {\"workflowId\" or \"workflow\", \"timeWindowType\", …}");
  check_execution_request(fields.nested(amc_request, "request"));
  validate_execution_request(amc_request);
  request.request = amc_request;
  return request;
}

execution_get_request decode_execution_get_request(const char* json_text) {
  return decode_execution_named<execution_get_request>(json_text, "execution get request");
}

execution_cancel_request decode_execution_cancel_request(const char* json_text) {
  return decode_execution_named<execution_cancel_request>(json_text, "cancel request");
}

execution_list_request decode_execution_list_request(const char* json_text) {
  constexpr std::string_view what = "execution list request";
  const auto body = parse_json_object(json_text, what, false);
  execution_list_request request;
  const auto fields = read_instance_request(body, what, request, {"filters"});
  const json& filters = fields.required_object("filters", "an object with \"minCreationTime\" or \"workflowId\"");
  const auto filter = fields.nested(filters, "filters");
  filter.only({"minCreationTime", "maxCreationTime", "workflowId", "includeCancelled", "sortAscending", "timeZone",
               "limit"});
  for (const char* field : {"minCreationTime", "maxCreationTime", "workflowId", "timeZone"}) filter.text(field);
  filter.boolean("includeCancelled");
  filter.boolean("sortAscending");
  filter.whole_number("limit", 1, 1000);
  request.filters = filters;
  return request;
}

execution_wait_request decode_execution_wait_request(const char* json_text) {
  constexpr std::string_view what = "wait request";
  const auto body = parse_json_object(json_text, what, false);
  execution_wait_request request;
  const auto fields =
      read_execution_named(body, what, request, {"amc_execution_id", "execution_id", "first_poll_ms", "max_poll_ms"});
  constexpr long long day_ms = 24LL * 3600 * 1000;
  if (const auto first = fields.duration_ms("first_poll_ms", day_ms)) request.first_poll = *first;
  if (const auto most = fields.duration_ms("max_poll_ms", day_ms)) request.max_poll = *most;
  if (request.max_poll < request.first_poll)
    throw error(errc::invalid_argument,
                fmt::format("field 'max_poll_ms' of the wait request ({} ms) must not be less than 'first_poll_ms' "
                            "({} ms)",
                            request.max_poll.count(), request.first_poll.count()));
  return request;
}

results_download_request decode_results_download_request(const char* json_text) {
  constexpr std::string_view what = "download request";
  const auto body = parse_json_object(json_text, what, false);
  results_download_request request;
  const auto fields =
      read_execution_named(body, what, request, {"amc_execution_id", "execution_id", "directory", "parallelism"});
  request.directory = fields.required_text("directory", "a string: the folder for the result files");
  if (const auto parallelism = fields.whole_number("parallelism", 1, 16)) request.parallelism = static_cast<int>(*parallelism);
  return request;
}

data_source_list_request decode_data_source_list_request(const char* json_text) {
  constexpr std::string_view what = "data source list request";
  const auto body = parse_json_object(json_text, what, false);
  data_source_list_request request;
  const auto fields = read_instance_request(body, what, request, {"filter"});
  request.filter = fields.text("filter").value_or("");
  return request;
}

data_source_get_request decode_data_source_get_request(const char* json_text) {
  constexpr std::string_view what = "data source get request";
  const auto body = parse_json_object(json_text, what, false);
  data_source_get_request request;
  const auto fields = read_instance_request(body, what, request, {"data_source_id"});
  request.data_source_id =
      fields.required_text("data_source_id", "a string: the data source (table) name, such as \"dsp_impressions\"");
  validate_path_id(request.data_source_id, "data_source_id");
  return request;
}

workflow_validate_request decode_workflow_validate_request(const char* json_text) {
  constexpr std::string_view what = "validate request";
  const auto body = parse_json_object(json_text, what, false);
  workflow_validate_request request;
  const auto fields = read_instance_request(body, what, request, {"request"});
  const json& amc_request = fields.required_object(
      "request", "AMC's CreateWorkflowExecutionRequest {\"workflowId\" or \"workflow\": {\"sqlQuery\"}, …}");
  check_execution_request(fields.nested(amc_request, "request"));
  validate_execution_request(amc_request);
  request.request = amc_request;
  return request;
}

adhoc_quota_request decode_adhoc_quota_request(const char* json_text) {
  constexpr std::string_view what = "ad-hoc quota request";
  const auto body = parse_json_object(json_text, what, false);
  adhoc_quota_request request;
  read_instance_request(body, what, request, {});
  return request;
}

}  // namespace amc::api

namespace amc::client {

using api::field_reader;

consent_request decode_consent_request(const char* json_text) {
  constexpr std::string_view what = "consent request";
  const auto body = parse_json_object(json_text, what, false);
  const field_reader fields{body, what};
  fields.only({"redirect_uri", "state", "scope"});
  consent_request request;
  request.redirect_uri = fields.text("redirect_uri").value_or("");
  if (request.redirect_uri.empty())
    throw error(errc::invalid_argument,
                "the consent request needs a redirect_uri (one of the LwA client's Allowed Return URLs)");
  request.state = fields.text("state").value_or("");
  if (auto scope = fields.text("scope")) request.scope = std::move(*scope);
  return request;
}

code_exchange_request decode_code_exchange_request(const char* json_text) {
  constexpr std::string_view what = "code exchange request";
  const auto body = parse_json_object(json_text, what, false);
  const field_reader fields{body, what};
  fields.only({"credential_id", "code", "redirect_uri", "timeout_ms"});
  code_exchange_request request;
  request.credential_id = fields.text("credential_id").value_or("");
  store::validate_credential_id(request.credential_id);
  request.code = fields.text("code").value_or("");
  request.redirect_uri = fields.text("redirect_uri").value_or("");
  if (const auto limit = fields.duration_ms("timeout_ms", api::max_timeout_ms)) request.timeout = *limit;
  return request;
}

credential_import_request decode_credential_import_request(const char* json_text) {
  constexpr std::string_view what = "credential";
  const auto body = parse_json_object(json_text, what, false);
  const field_reader fields{body, what};
  fields.only({"credential_id", "refresh_token"});
  credential_import_request request;
  auto refresh_token = fields.text("refresh_token");
  if (!refresh_token) throw error(errc::invalid_argument, "the credential needs a refresh_token");
  request.refresh_token = std::move(*refresh_token);
  request.credential_id = fields.text("credential_id").value_or("");
  store::validate_credential_id(request.credential_id);
  return request;
}

token_refresh_request decode_token_refresh_request(std::string_view credential_id, const char* json_text) {
  constexpr std::string_view what = "refresh request";
  const auto body = parse_json_object(json_text, what, true);
  const field_reader fields{body, what};
  fields.only({"timeout_ms"});
  token_refresh_request request;
  store::validate_credential_id(credential_id);
  request.credential_id = std::string{credential_id};
  if (const auto limit = fields.duration_ms("timeout_ms", api::max_timeout_ms)) request.timeout = *limit;
  return request;
}

namespace {

// A watch of a workflow's runs: "workflow_id" (checked like every workflow
// id) and "since", instead of an execution.
void read_workflow_target(const field_reader& fields, watch_request& request) {
  for (const auto* other : {"amc_execution_id", "execution_id", "create_time"})
    if (fields.find(other) != nullptr)
      throw error(errc::invalid_argument,
                  fmt::format("the watch request names a workflow ('workflow_id') and '{}': watch a workflow's "
                              "runs or one execution, not both",
                              other));
  request.workflow_id = fields.required_text("workflow_id", "a string: AMC's workflowId of a saved workflow");
  api::validate_workflow_id(request.workflow_id);
  request.since = fields.text("since").value_or("");
  if (!request.since.empty() && !parse_utc(request.since))
    throw error(errc::invalid_argument,
                "field 'since' of the watch request must be a time like \"2026-11-28T15:26:01Z\" (UTC, AMC's "
                "createTime)");
}

}  // namespace

watch_request decode_watch_request(const char* json_text) {
  constexpr std::string_view what = "watch request";
  const auto body = parse_json_object(json_text, what, false);
  const field_reader fields{body, what};
  // No timeout_ms: a watch lasts until its execution ends or it is unwatched.
  fields.only({"credential_id", "instance", "amc_execution_id", "execution_id", "create_time", "workflow_id", "since"});
  watch_request request;
  request.context.credential_id = fields.required_text("credential_id", "a string: the credential to read with");
  api::read_instance(fields, request.context);
  if (fields.find("workflow_id") != nullptr) {
    read_workflow_target(fields, request);
    return request;
  }
  if (fields.find("since") != nullptr)
    throw error(errc::invalid_argument,
                "the watch request's 'since' goes with 'workflow_id' (a watch of a workflow's runs); a watch of "
                "one execution takes 'create_time'");
  api::read_execution_name(fields, request);
  request.create_time = fields.text("create_time").value_or("");
  return request;
}

}  // namespace amc::client
