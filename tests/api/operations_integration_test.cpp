// AMC operations against the sandbox over real HTTPS, in both response
// shapes: discovery with pagination, workflows, executions (idempotent and
// lost-response submission, wait, cancel, failure reasons), and results.
#include "api/executions.hpp"
#include "api/operations.hpp"
#include "api/results.hpp"
#include "api/shapes.hpp"
#include "common/error.hpp"
#include "common/time.hpp"
#include "sandbox/service.hpp"
#include "support/amc_client_fixture.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

namespace amc::api {
namespace {

using boost::beast::http::verb;

class Operations : public testing::amc_client_fixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void configure(sandbox::sandbox_options& options) override {
    amc_client_fixture::configure(options);
    options.shape = sandbox::parse_response_shape(GetParam());
    options.time_scale = 2000;  // AMC's 15+ minutes become well under a second
    options.accounts_page_size = 1;
    options.accounts = {{"ENTITYAAAAAAAAAAAAA1", "Brand One", "ATVPDKIKX0DER"},
                        {"ENTITYAAAAAAAAAAAAA2", "Brand Two", "ATVPDKIKX0DER"},
                        {"ENTITYAAAAAAAAAAAAA3", "Brand Three", "A1PA6795UKMFR9"}};
  }

  errc code_of(const std::function<void()>& action, std::string* message = nullptr) {
    return testing::error_code_of(action, message);
  }
  nlohmann::json workflow(const std::string& id, const std::string& sql) {
    return {{"workflowId", id}, {"sqlQuery", sql}};
  }
  nlohmann::json wait(const std::string& amc_id) {
    wait_options options;
    options.first_poll = std::chrono::milliseconds(50);
    options.max_poll = std::chrono::milliseconds(200);
    options.timeout = std::chrono::seconds(30);
    return run(wait_for_execution(client_->amc(), context_, amc_id, options, nullptr, client_->log()));
  }
  // The sandbox's list shows an execution at once: a short list lag keeps
  // the proof that a lost create never reached AMC quick.
  submit_options quick_resolution() const {
    submit_options options;
    options.list_lag = std::chrono::milliseconds(300);
    options.list_interval = std::chrono::milliseconds(100);
    options.create_window = std::chrono::seconds(1);
    return options;
  }
  submission submit(const std::string& execution_id, const nlohmann::json& request) {
    return run(submit_execution(client_->amc(), amc::client::internals(*client_).journal(), context_, execution_id, request,
                                client_->log(), quick_resolution()));
  }
};

TEST_P(Operations, DiscoveryFollowsEveryPage) {
  const auto accounts = run(list_accounts(client_->amc(), context_));
  ASSERT_EQ(accounts["amcAccounts"].size(), 3u);
  EXPECT_EQ(requests_of("AmcpLinkListAmcAccounts"), 3) << "one request per page";
  EXPECT_EQ(accounts["amcAccounts"][2]["accountId"], "ENTITYAAAAAAAAAAAAA3");
  const auto instances = run(list_instances(client_->amc(), context_));
  ASSERT_EQ(instances["instances"].size(), 1u);
  EXPECT_EQ(instances["instances"][0]["instanceId"], "amcinstance01");
  EXPECT_EQ(run(get_instance(client_->amc(), context_))["instanceId"], "amcinstance01");
}

// AMC's headers are built once per context and access token, then shared
// (session::amc_headers): a call in another context never borrows them.
TEST_P(Operations, EachCallSendsItsOwnContextsHeaders) {
  call_context other = context_;
  other.advertiser_id = context_.advertiser_id == "ENTITYAAAAAAAAAAAAA2" ? "ENTITYAAAAAAAAAAAAA3" : "ENTITYAAAAAAAAAAAAA2";
  other.instance_checked = false;
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(run(get_instance(client_->amc(), context_))["instanceId"], "amcinstance01");
    std::string message;
    EXPECT_EQ(code_of([&] { run(get_instance(client_->amc(), other)); }, &message), errc::forbidden);
    EXPECT_NE(message.find(other.advertiser_id), std::string::npos) << message;
  }
}

TEST_P(Operations, WorkflowLifecycle) {
  auto& amc = client_->amc();
  const auto created = run(sync_workflow(amc, context_, workflow("wf_daily", "SELECT 1")));
  EXPECT_EQ(created["action"], "created");
  EXPECT_EQ(created["workflow"]["sqlQuery"], "SELECT 1");
  EXPECT_EQ(run(sync_workflow(amc, context_, workflow("wf_daily", "SELECT 1")))["action"], "unchanged");
  EXPECT_EQ(run(sync_workflow(amc, context_, workflow("wf_daily", "SELECT 2")))["action"], "updated");
  EXPECT_EQ(run(get_workflow(amc, context_, "wf_daily"))["sqlQuery"], "SELECT 2");
  std::string message;
  EXPECT_EQ(code_of([&] { run(create_workflow(amc, context_, workflow("wf_daily", "SELECT 3"))); }, &message),
            errc::conflict);
  EXPECT_NE(message.find("already exists"), std::string::npos) << message;
  run(create_workflow(amc, context_, workflow("wf_other", "SELECT 4")));
  EXPECT_EQ(run(list_workflows(amc, context_))["workflows"].size(), 2u);
  run(delete_workflow(amc, context_, "wf_other"));
  EXPECT_EQ(code_of([&] { run(get_workflow(amc, context_, "wf_other")); }), errc::not_found);
  EXPECT_EQ(run(list_workflows(amc, context_))["workflows"].size(), 1u);
}

// Ids of a list's items, in the order listed.
std::vector<std::string> ids_of(const nlohmann::json& items, const char* id_field) {
  std::vector<std::string> ids;
  for (const auto& item : items) ids.push_back(item.value(id_field, ""));
  return ids;
}

TEST_P(Operations, WorkflowListFollowsEveryPage) {
  auto& amc = client_->amc();
  std::vector<std::string> created;
  for (int i = 1; i <= 7; ++i) {
    created.push_back(fmt::format("wf_page_{}", i));
    run(create_workflow(amc, context_, workflow(created.back(), fmt::format("SELECT {}", i))));
  }
  const auto before = requests_of("listWorkflows");
  const auto listing = run(list_workflows(amc, context_, 3));
  EXPECT_EQ(requests_of("listWorkflows") - before, 3) << "7 workflows in pages of 3";
  // Every workflow exactly once, in AMC's (creation) order.
  EXPECT_EQ(ids_of(listing["workflows"], "workflowId"), created);
  EXPECT_EQ(listing["workflows"][6]["sqlQuery"], "SELECT 7");
  // One page when AMC's default page size holds them all.
  EXPECT_EQ(ids_of(run(list_workflows(amc, context_))["workflows"], "workflowId"), created);
  EXPECT_EQ(requests_of("listWorkflows") - before, 4);
  EXPECT_EQ(code_of([&] { run(list_workflows(amc, context_, 101)); }), errc::invalid_argument);
}

TEST_P(Operations, ExecutionListFollowsEveryPageAndAppliesEveryFilter) {
  auto& amc = client_->amc();
  run(sync_workflow(amc, context_, workflow("wf_paged", "SELECT 1\n-- sandbox: running=100h")));
  auto submit_batch = [&](const std::string& prefix) {
    std::vector<std::string> ids;
    for (int i = 1; i <= 3; ++i)
      ids.push_back(submit(fmt::format("exec_{}{}", prefix, i), {{"workflowId", "wf_paged"}}).amc_execution_id);
    return ids;
  };
  // Two batches twenty sandbox minutes apart; one of each cancelled.
  const auto early = submit_batch("early");
  run(cancel_execution(amc, context_, early[1]));
  const std::string early_created = run(get_execution(amc, context_, early[2]))["createTime"];
  admin(verb::post, "/_sandbox/clock/advance", {{"seconds", 1200}});
  const auto late = submit_batch("late");
  run(cancel_execution(amc, context_, late[2]));
  const auto between = format_utc(parse_utc(early_created).value() + 600);

  const auto pages_of = [&](nlohmann::json filters, int expected_pages) {
    filters["limit"] = 2;
    const auto before = requests_of("listWorkflowExecutions");
    auto listed = ids_of(run(list_executions(amc, context_, filters))["executions"], "workflowExecutionId");
    EXPECT_EQ(requests_of("listWorkflowExecutions") - before, expected_pages) << filters.dump();
    return listed;
  };
  using ids = std::vector<std::string>;
  // Newest first, cancelled hidden: every other one exactly once, over two pages.
  EXPECT_EQ(pages_of({{"workflowId", "wf_paged"}}, 2), (ids{late[1], late[0], early[2], early[0]}));
  // includeCancelled and sortAscending: all six in creation order, three pages.
  EXPECT_EQ(pages_of({{"workflowId", "wf_paged"}, {"includeCancelled", true}, {"sortAscending", true}}, 3),
            (ids{early[0], early[1], early[2], late[0], late[1], late[2]}));
  // maxCreationTime: the early batch only.
  EXPECT_EQ(pages_of({{"workflowId", "wf_paged"}, {"includeCancelled", true}, {"maxCreationTime", between}}, 2),
            (ids{early[2], early[1], early[0]}));
  EXPECT_EQ(pages_of({{"workflowId", "wf_paged"}, {"maxCreationTime", between}, {"sortAscending", true}}, 1),
            (ids{early[0], early[2]}));
  // minCreationTime without a workflow id: the late batch only.
  EXPECT_EQ(pages_of({{"minCreationTime", between}, {"includeCancelled", true}}, 2),
            (ids{late[2], late[1], late[0]}));
  EXPECT_EQ(pages_of({{"minCreationTime", between}, {"maxCreationTime", format_utc(now_unix_seconds() + 7200)}}, 1),
            (ids{late[1], late[0]}));
}

// A definition that sets every non-SQL field sync compares.
nlohmann::json full_definition(const std::string& id) {
  return {{"workflowId", id},
          {"sqlQuery", "SELECT campaign, impressions FROM t WHERE campaign_id = CUSTOM_PARAMETER('campaign_id')"},
          {"inputParameters",
           {{{"name", "campaign_id"}, {"dataType", "STRING"}, {"columnType", "DIMENSION"}, {"defaultValue", "1"}}}},
          {"outputColumns",
           {{{"name", "campaign"}, {"dataType", "STRING"}, {"columnType", "DIMENSION"}},
            {{"name", "impressions"}, {"dataType", "LONG"}, {"columnType", "METRIC"}}}},
          {"filteredMetricsDiscriminatorColumn", "filtered"},
          {"distinctUserCountColumn", "distinct_users"},
          {"filteredReasonColumn", "filtered_reason"},
          {"privacyFilteringBehavior", "REMOVE_VALUES"}};
}

TEST_P(Operations, SyncCoversParametersColumnsAndAggregationThresholdFields) {
  auto& amc = client_->amc();
  auto definition = full_definition("wf_full");
  ASSERT_EQ(run(sync_workflow(amc, context_, definition))["action"], "created");
  const auto stored = run(get_workflow(amc, context_, "wf_full"));
  for (const auto& [field, value] : definition.items()) EXPECT_EQ(stored[field], value) << field;
  EXPECT_EQ(run(sync_workflow(amc, context_, definition))["action"], "unchanged");
  EXPECT_EQ(requests_of("updateWorkflow"), 0);

  // Each field on its own makes a difference, and is what AMC then holds.
  const std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>> changes = {
      {"inputParameters", [](nlohmann::json& d) { d["inputParameters"][0]["defaultValue"] = "2"; }},
      {"outputColumns", [](nlohmann::json& d) { d["outputColumns"][1]["dataType"] = "DOUBLE"; }},
      {"outputColumns", [](nlohmann::json& d) { d["outputColumns"].erase(1); }},
      {"filteredMetricsDiscriminatorColumn", [](nlohmann::json& d) { d["filteredMetricsDiscriminatorColumn"] = "kept"; }},
      {"distinctUserCountColumn", [](nlohmann::json& d) { d["distinctUserCountColumn"] = "users"; }},
      {"filteredReasonColumn", [](nlohmann::json& d) { d["filteredReasonColumn"] = "why"; }},
      {"privacyFilteringBehavior", [](nlohmann::json& d) { d["privacyFilteringBehavior"] = "REMOVE_ROWS"; }},
  };
  int updates = 0;
  for (const auto& [field, change] : changes) {
    change(definition);
    EXPECT_EQ(run(sync_workflow(amc, context_, definition))["action"], "updated") << field;
    EXPECT_EQ(requests_of("updateWorkflow"), ++updates) << field;
    EXPECT_EQ(run(get_workflow(amc, context_, "wf_full"))[field], definition[field]) << field;
    EXPECT_EQ(run(sync_workflow(amc, context_, definition))["action"], "unchanged") << field;
    EXPECT_EQ(requests_of("updateWorkflow"), updates) << field;
  }
}

TEST_P(Operations, SyncIgnoresDefaultsAmcFillsIn) {
  auto& amc = client_->amc();
  auto local = full_definition("wf_defaults");
  local.erase("privacyFilteringBehavior");
  local.erase("filteredReasonColumn");
  // What AMC might hold after creating `local`: defaults for what it left
  // out, at the top and inside the columns.
  auto held = local;
  held["privacyFilteringBehavior"] = "REMOVE_ROWS";
  held["filteredReasonColumn"] = "";
  held["outputFormat"] = {{"separatorCharacter", ","}, {"quoteCharacter", "\""}, {"escapeCharacter", "\\"}};
  held["outputColumns"][0]["description"] = "";
  held["outputColumns"][1]["dataTypePrecision"] = 0;
  held["inputParameters"][0]["displayName"] = "campaign_id";
  run(create_workflow(amc, context_, held));

  EXPECT_EQ(run(sync_workflow(amc, context_, local))["action"], "unchanged");
  EXPECT_EQ(requests_of("updateWorkflow"), 0);
  // What the local definition does set still counts, inside the columns too.
  local["outputColumns"][0]["description"] = "the campaign";
  EXPECT_EQ(run(sync_workflow(amc, context_, local))["action"], "updated");
  local["privacyFilteringBehavior"] = "REMOVE_VALUES";
  EXPECT_EQ(run(sync_workflow(amc, context_, local))["action"], "updated");
  EXPECT_EQ(run(get_workflow(amc, context_, "wf_defaults"))["privacyFilteringBehavior"], "REMOVE_VALUES");
  EXPECT_EQ(run(sync_workflow(amc, context_, local))["action"], "unchanged");
  // An empty list asks for none: a difference when AMC has some.
  local["inputParameters"] = nlohmann::json::array();
  local["sqlQuery"] = "SELECT campaign, impressions FROM t";
  EXPECT_EQ(run(sync_workflow(amc, context_, local))["action"], "updated");
  EXPECT_EQ(run(sync_workflow(amc, context_, local))["action"], "unchanged");
  EXPECT_EQ(requests_of("updateWorkflow"), 3);
}

TEST_P(Operations, BadIdsNeverReachAmc) {
  auto amc_requests = [this] {
    long long total = 0;
    const auto stats = admin(verb::get, "/_sandbox/stats");
    for (const auto& [operation, count] : stats["by_operation"].items()) total += count.get<long long>();
    return total;
  };
  const auto before = amc_requests();
  auto profile = context_;
  profile.advertiser_id = "3387473927261";
  std::string message;
  EXPECT_EQ(code_of([&] { run(list_workflows(client_->amc(), profile)); }, &message), errc::invalid_argument);
  EXPECT_NE(message.find("/amc/accounts"), std::string::npos);
  EXPECT_EQ(code_of([&] { run(get_workflow(client_->amc(), context_, "wf_e27c2385_b1ed_4bcf_a")); }),
            errc::invalid_argument);
  EXPECT_EQ(code_of([&] { run(get_workflow(client_->amc(), context_, "bad id")); }), errc::invalid_argument);
  EXPECT_EQ(code_of([&] { submit("", {{"workflowId", "wf_x"}, {"workflow", {{"sqlQuery", "SELECT 1"}}}}); }),
            errc::invalid_argument);
  EXPECT_EQ(code_of([&] { submit("", {{"workflowId", "wf_x"}, {"timeWindowType", "EXPLICIT"},
                                      {"timeWindowStart", "2026-01-01T00:00:00"}}); }),
            errc::invalid_argument);
  EXPECT_EQ(code_of([&] { submit("", {{"workflowId", "wf_x"}, {"workflowExecutionTimeoutSeconds", 60}}); }),
            errc::invalid_argument);
  EXPECT_EQ(code_of([&] { run(list_executions(client_->amc(), context_, nlohmann::json::object())); }),
            errc::invalid_argument);
  EXPECT_EQ(amc_requests(), before) << "nothing was sent to AMC";
}

TEST_P(Operations, SavedWorkflowRunsToSuccess) {
  run(sync_workflow(client_->amc(), context_, workflow("wf_run", "SELECT campaign, impressions FROM t")));
  const auto submitted = submit("exec_aaaa0001", {{"workflowId", "wf_run"}, {"timeWindowType", "MOST_RECENT_DAY"}});
  EXPECT_FALSE(submitted.reattached);
  EXPECT_FALSE(submitted.amc_execution_id.empty());
  const auto done = wait(submitted.amc_execution_id);
  EXPECT_EQ(done["status"], "SUCCEEDED");
  const auto listing = run(list_executions(client_->amc(), context_, {{"workflowId", "wf_run"}}));
  ASSERT_EQ(listing["executions"].size(), 1u);
  EXPECT_EQ(listing["executions"][0]["workflowExecutionId"], submitted.amc_execution_id);
}

// "2026-11-28T18:41:46Z" → "2026-11-01T00:00:00Z"; months before it with
// `back`.
std::string first_of_month(const std::string& timestamp, int back = 0) {
  int year = std::stoi(timestamp.substr(0, 4));
  int month = std::stoi(timestamp.substr(5, 2)) - back;
  while (month < 1) {
    month += 12;
    --year;
  }
  return fmt::format("{:04}-{:02}-01T00:00:00Z", year, month);
}

TEST_P(Operations, SubmitPassesEveryExecutionOptionToAmc) {
  auto& amc = client_->amc();
  run(sync_workflow(amc, context_,
                    {{"workflowId", "wf_options"},
                     {"sqlQuery", "SELECT campaign FROM dsp_impressions WHERE campaign_id = CUSTOM_PARAMETER('campaign_id')"},
                     {"inputParameters", {{{"name", "campaign_id"}, {"dataType", "STRING"}}}}}));
  auto execution_of = [&](const nlohmann::json& request) {
    const auto submitted = submit("", request);
    return run(get_execution(amc, context_, submitted.amc_execution_id));
  };
  const nlohmann::json parameter = {{"campaign_id", "12345"}};

  const auto explicit_window = execution_of({{"workflowId", "wf_options"},
                                             {"parameterValues", parameter},
                                             {"timeWindowType", "EXPLICIT"},
                                             {"timeWindowStart", "2026-01-01T00:00:00"},
                                             {"timeWindowEnd", "2026-01-08T00:00:00"},
                                             {"timeWindowTimeZone", "America/New_York"},
                                             {"workflowExecutionTimeoutSeconds", 3600}});
  EXPECT_EQ(explicit_window["timeWindowStartOriginal"], "2026-01-01T00:00:00");
  EXPECT_EQ(explicit_window["timeWindowEndOriginal"], "2026-01-08T00:00:00");
  EXPECT_EQ(explicit_window["timeWindowTimeZoneOriginal"], "America/New_York");
  EXPECT_EQ(explicit_window["parameterValues"], parameter);
  EXPECT_EQ(explicit_window["workflowExecutionTimeoutSeconds"], 3600);

  const auto current_month = execution_of(
      {{"workflowId", "wf_options"}, {"parameterValues", parameter}, {"timeWindowType", "CURRENT_MONTH"},
       {"timeWindowTimeZone", "UTC"}});
  const std::string created = current_month["createTime"];
  EXPECT_EQ(current_month["timeWindowStart"], first_of_month(created)) << created;
  EXPECT_EQ(current_month["timeWindowTimeZoneOriginal"], "UTC");
  EXPECT_NE(current_month["workflowExecutionTimeoutSeconds"], 3600) << "AMC's default when none is sent";

  const auto previous_month =
      execution_of({{"workflowId", "wf_options"}, {"parameterValues", parameter}, {"timeWindowType", "PREVIOUS_MONTH"}});
  const std::string also_created = previous_month["createTime"];
  EXPECT_EQ(previous_month["timeWindowStart"], first_of_month(also_created, 1)) << also_created;
  EXPECT_EQ(previous_month["timeWindowEnd"], first_of_month(also_created)) << also_created;

  // The parameter value is what AMC needs to run the workflow at all.
  EXPECT_EQ(code_of([&] { submit("", {{"workflowId", "wf_options"}}); }), errc::invalid_argument);

  // A dry run succeeds without results; a real one has them.
  const auto dry = submit("", {{"workflowId", "wf_options"}, {"parameterValues", parameter}, {"dryRun", true}});
  const auto dry_done = wait(dry.amc_execution_id);
  ASSERT_EQ(dry_done["status"], "SUCCEEDED");
  EXPECT_EQ(dry_done["outputChannels"][0]["status"], "UNAVAILABLE");
  EXPECT_FALSE(dry_done.contains("outputS3URI"));
  const auto real = submit("", {{"workflowId", "wf_options"}, {"parameterValues", parameter}, {"dryRun", false}});
  const auto real_done = wait(real.amc_execution_id);
  ASSERT_EQ(real_done["status"], "SUCCEEDED");
  EXPECT_EQ(real_done["outputChannels"][0]["status"], "AVAILABLE");
}

TEST_P(Operations, SameExecutionIdReattachesInsteadOfRunningTwice) {
  run(sync_workflow(client_->amc(), context_, workflow("wf_dup", "SELECT 1")));
  const nlohmann::json request = {{"workflowId", "wf_dup"}};
  const auto first = submit("exec_dup00001", request);
  const auto second = submit("exec_dup00001", request);
  EXPECT_TRUE(second.reattached);
  EXPECT_EQ(second.amc_execution_id, first.amc_execution_id);
  EXPECT_EQ(requests_of("createWorkflowExecution"), 1);
  // The same id for another request is refused, not re-attached.
  EXPECT_EQ(code_of([&] { submit("exec_dup00001", {{"workflowId", "wf_dup"}, {"dryRun", true}}); }),
            errc::conflict);
  // And a restarted client (the task retried elsewhere) re-attaches too.
  client_ = make_client();
  EXPECT_EQ(submit("exec_dup00001", request).amc_execution_id, first.amc_execution_id);
  EXPECT_EQ(requests_of("createWorkflowExecution"), 1);
}

TEST_P(Operations, LostCreateResponseIsReconciledNotResubmitted) {
  run(sync_workflow(client_->amc(), context_, workflow("wf_lost", "SELECT 1")));
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "drop_after_accept"}, {"operation", "createWorkflowExecution"}, {"count", 1}});
  const auto submitted = submit("exec_lost0001", {{"workflowId", "wf_lost"}});
  EXPECT_TRUE(submitted.reattached);
  EXPECT_EQ(requests_of("createWorkflowExecution"), 1) << "found through the list, not sent again";
  EXPECT_GE(requests_of("listWorkflowExecutions"), 1);
  EXPECT_EQ(wait(submitted.amc_execution_id)["status"], "SUCCEEDED");
  // The journal knows it now.
  EXPECT_EQ(amc::client::internals(*client_).journal().find("exec_lost0001")->amc_execution_id, submitted.amc_execution_id);
}

// Another host runs the same saved workflow at the same moment, with other
// request fields. Its executions are in AMC's list within our window and no
// local execution id claims them: only our own may be adopted.
TEST_P(Operations, ReconciliationAdoptsOnlyAnExecutionOfTheSameRequest) {
  auto& amc = client_->amc();
  run(sync_workflow(amc, context_,
                    {{"workflowId", "wf_shared"},
                     {"sqlQuery", "SELECT campaign FROM t WHERE campaign_id = CUSTOM_PARAMETER('campaign_id')"},
                     {"inputParameters", {{{"name", "campaign_id"}, {"dataType", "STRING"}}}}}));
  const nlohmann::json ours = {{"workflowId", "wf_shared"},
                               {"parameterValues", {{"campaign_id", "222"}}},
                               {"timeWindowType", "EXPLICIT"},
                               {"timeWindowStart", "2026-01-01T00:00:00"},
                               {"timeWindowEnd", "2026-01-08T00:00:00"}};
  auto other_parameters = ours;
  other_parameters["parameterValues"]["campaign_id"] = "111";
  auto other_window = ours;
  other_window["timeWindowStart"] = "2026-01-02T00:00:00";
  auto other_zone = ours;
  other_zone["timeWindowTimeZone"] = "America/New_York";
  std::vector<std::string> others;
  for (const auto& request : {other_parameters, other_window, other_zone})
    others.push_back(run(create_execution(amc, context_, request))["workflowExecutionId"].get<std::string>());
  auto is_other = [&](const std::string& id) { return std::find(others.begin(), others.end(), id) != others.end(); };
  auto expect_ours = [&](const std::string& amc_id) {
    const auto execution = run(get_execution(amc, context_, amc_id));
    EXPECT_EQ(execution["parameterValues"], ours["parameterValues"]);
    EXPECT_EQ(execution["timeWindowStartOriginal"], ours["timeWindowStart"]);
    EXPECT_EQ(execution["timeWindowTimeZoneOriginal"], "UTC");
  };

  // Our create reached AMC, its answer was lost: ours is adopted, listed
  // after the others.
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "drop_after_accept"}, {"operation", "createWorkflowExecution"}, {"count", 1}});
  const auto adopted = submit("exec_shared01", ours);
  EXPECT_TRUE(adopted.reattached);
  EXPECT_FALSE(is_other(adopted.amc_execution_id)) << "adopted another host's execution";
  EXPECT_EQ(requests_of("createWorkflowExecution"), 4) << "found through the list, not sent again";
  expect_ours(adopted.amc_execution_id);
  EXPECT_EQ(amc::client::internals(*client_).journal().find("exec_shared01")->amc_execution_id, adopted.amc_execution_id);

  // Our create never reached AMC: nothing in the list is ours (the adopted
  // one is claimed, the others differ), so it is sent again.
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "reset_before_headers"}, {"operation", "createWorkflowExecution"}, {"count", 1}});
  const auto resent = submit("exec_shared02", ours);
  EXPECT_FALSE(resent.reattached);
  EXPECT_FALSE(is_other(resent.amc_execution_id)) << "adopted another host's execution";
  EXPECT_NE(resent.amc_execution_id, adopted.amc_execution_id);
  expect_ours(resent.amc_execution_id);
  const auto listing = run(list_executions(amc, context_, {{"workflowId", "wf_shared"}}));
  EXPECT_EQ(listing["executions"].size(), 5u) << "three others and two of ours, none twice";
}

// A process dies (here: its reconciliation fails) while the outcome of its
// create request is unknown, and the task is retried at once. The retry
// resolves the outcome itself instead of refusing the id for minutes: it
// re-attaches when AMC has the execution, and creates it (once) when the
// list, searched past the creation window, proves it was never created.
TEST_P(Operations, RetryAfterAnUnknownOutcomeResolvesItAtOnce) {
  run(sync_workflow(client_->amc(), context_, workflow("wf_crash", "SELECT 1")));
  const nlohmann::json request = {{"workflowId", "wf_crash"}};
  auto leave_outcome_unknown = [&](const std::string& execution_id, const std::string& create_fault) {
    admin(verb::delete_, "/_sandbox/faults");
    admin(verb::post, "/_sandbox/faults", {{"kind", create_fault}, {"operation", "createWorkflowExecution"}, {"count", 1}});
    admin(verb::post, "/_sandbox/faults",
          {{"kind", "error_status"}, {"status", 400}, {"operation", "listWorkflowExecutions"}, {"count", 1}});
    EXPECT_NE(code_of([&] { submit(execution_id, request); }), errc::ok);
    admin(verb::delete_, "/_sandbox/faults");
    const auto entry = amc::client::internals(*client_).journal().find(execution_id);
    ASSERT_TRUE(entry.has_value());
    EXPECT_TRUE(entry->amc_execution_id.empty()) << "the outcome is unknown";
  };
  auto executions_of_workflow = [&] {
    return run(list_executions(client_->amc(), context_, {{"workflowId", "wf_crash"}, {"includeCancelled", true}}))
        ["executions"].size();
  };

  // The create reached AMC: the retry finds it and re-attaches.
  leave_outcome_unknown("exec_crash001", "drop_after_accept");
  const auto creates = requests_of("createWorkflowExecution");
  const auto reattached = submit("exec_crash001", request);
  EXPECT_TRUE(reattached.reattached);
  EXPECT_EQ(requests_of("createWorkflowExecution"), creates) << "nothing sent again";
  EXPECT_EQ(executions_of_workflow(), 1u);
  EXPECT_EQ(amc::client::internals(*client_).journal().find("exec_crash001")->amc_execution_id, reattached.amc_execution_id);

  // The create never reached AMC: the retry creates it, once.
  leave_outcome_unknown("exec_crash002", "reset_before_headers");
  const auto created = submit("exec_crash002", request);
  EXPECT_FALSE(created.reattached);
  EXPECT_NE(created.amc_execution_id, reattached.amc_execution_id);
  EXPECT_EQ(executions_of_workflow(), 2u) << "one execution per execution id";
  EXPECT_EQ(submit("exec_crash002", request).amc_execution_id, created.amc_execution_id);

  // Before the window closes and with a deadline that comes first, nothing
  // is sent: the call says when a submit can decide.
  leave_outcome_unknown("exec_crash003", "reset_before_headers");
  auto patient = quick_resolution();
  patient.create_window = std::chrono::seconds(3600);
  // The call's own deadline, carried unchanged in its context.
  auto hurried = context_;
  hurried.deadline = amc::deadline::after(std::chrono::milliseconds(500));
  const auto before = requests_of("createWorkflowExecution");
  std::string message;
  EXPECT_EQ(code_of([&] {
              run(submit_execution(client_->amc(), amc::client::internals(*client_).journal(), hurried, "exec_crash003", request,
                                   client_->log(), patient));
            },
                    &message),
            errc::timeout);
  EXPECT_NE(message.find("Submit the same execution_id again after"), std::string::npos) << message;
  EXPECT_EQ(requests_of("createWorkflowExecution"), before);
  EXPECT_EQ(executions_of_workflow(), 2u);
}

TEST_P(Operations, AdHocRunAlsoSurvivesALostResponse) {
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "drop_after_accept"}, {"operation", "createWorkflowExecution"}, {"count", 1}});
  const auto submitted = submit("exec_adhoc001", {{"workflow", {{"sqlQuery", "SELECT 1"}}}});
  EXPECT_TRUE(submitted.reattached);
  EXPECT_EQ(requests_of("createWorkflowExecution"), 1);
}

TEST_P(Operations, FailedExecutionCarriesAmcsReason) {
  const auto submitted =
      submit("", {{"workflow", {{"sqlQuery", "SELECT x FROM nowhere\n-- sandbox: fail \"Table nowhere does not exist\""}}}});
  EXPECT_EQ(submitted.execution_id.rfind("exec_", 0), 0u);
  const auto done = wait(submitted.amc_execution_id);
  EXPECT_EQ(done["status"], "FAILED");
  EXPECT_EQ(failure_reason(done), "Table nowhere does not exist");
}

TEST_P(Operations, RejectedExecutionCarriesAmcsReason) {
  const auto submitted =
      submit("", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: reject \"Instance amcinstance01 is paused\""}}}});
  const auto done = wait(submitted.amc_execution_id);
  EXPECT_EQ(done["status"], "REJECTED");
  EXPECT_EQ(failure_reason(done), "Instance amcinstance01 is paused");
}

TEST_P(Operations, CancelARunningExecution) {
  const auto submitted = submit("", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: running=100h"}}}});
  for (int i = 0; i < 200; ++i) {
    if (run(get_execution(client_->amc(), context_, submitted.amc_execution_id))["status"] == "RUNNING") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  run(cancel_execution(client_->amc(), context_, submitted.amc_execution_id));
  EXPECT_EQ(run(get_execution(client_->amc(), context_, submitted.amc_execution_id))["status"], "CANCELLED");
  std::string message;
  EXPECT_EQ(code_of([&] { run(cancel_execution(client_->amc(), context_, submitted.amc_execution_id)); }, &message),
            errc::conflict);
  EXPECT_EQ(code_of([&] { run(get_execution(client_->amc(), context_, "no-such-execution")); }), errc::not_found);
}

TEST_P(Operations, WaitIsCancellableFromAnotherThread) {
  const auto submitted = submit("", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: running=100h"}}}});
  auto cancellation = std::make_shared<wait_cancellation>();
  std::thread canceller([cancellation] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancellation->cancel();
  });
  wait_options options;
  options.first_poll = std::chrono::seconds(10);  // cancel must not wait for the next poll
  options.max_poll = std::chrono::seconds(10);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(code_of([&] {
              run(wait_for_execution(client_->amc(), context_, submitted.amc_execution_id, options,
                                     cancellation, client_->log()));
            }),
            errc::cancelled);
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(9));
}

// A cancellation from another thread that races the reply, with the
// client's io_context on two threads: each call either returns the
// execution or ends as cancelled, and nothing races (the ThreadSanitizer
// and AddressSanitizer check). run_blocking used to emit the cancellation
// on the bare io_context, so it could run on one I/O thread while the call
// resumed on the other and destroyed the handler being run.
TEST_P(Operations, CancellationRacingTheReplyWithTwoIoThreadsIsSafe) {
  client_ = make_client({{"io_threads", 2}});
  const auto submitted = submit("", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: running=100h"}}}});
  // How long a status read takes here (the median of ten). A cancelled read
  // closes its connection, so the next one connects first and takes longer:
  // the cancellations come from a quarter of a read to 32 reads later.
  std::vector<std::chrono::steady_clock::duration> reads;
  for (int i = 0; i < 10; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run(get_execution(client_->amc(), context_, submitted.amc_execution_id));
    reads.push_back(std::chrono::steady_clock::now() - start);
  }
  std::nth_element(reads.begin(), reads.begin() + 5, reads.end());
  const auto round_trip = reads[5];
  int read = 0;
  int cancelled = 0;
  for (int i = 0; i < 150; ++i) {
    auto cancellation = std::make_shared<client::cancellation>();
    std::thread canceller([cancellation, delay = round_trip * (1 << (i % 8)) / 4] {
      const auto at = std::chrono::steady_clock::now() + delay;
      while (std::chrono::steady_clock::now() < at) {
      }
      cancellation->cancel();
    });
    try {
      const auto execution = client_->run_blocking(get_execution(client_->amc(), context_, submitted.amc_execution_id),
                                                   client::call_deadline::after(std::chrono::seconds(30)), cancellation);
      EXPECT_EQ(execution["workflowExecutionId"], submitted.amc_execution_id);
      ++read;
    } catch (const amc::error& e) {
      EXPECT_EQ(e.code_value(), errc::cancelled) << e.message();
      ++cancelled;
    }
    canceller.join();
  }
  EXPECT_EQ(read + cancelled, 150);
  std::printf("[          ] %d read, %d cancelled (a read takes %lld us)\n", read, cancelled,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(round_trip).count()));
}

TEST_P(Operations, EveryResultPartIsDownloadedAndExpiredUrlsAreRenewed) {
  const auto submitted = submit("", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: parts=3 rows=250"}}}});
  ASSERT_EQ(wait(submitted.amc_execution_id)["status"], "SUCCEEDED");
  admin(verb::post, "/_sandbox/faults", {{"kind", "expired_download_urls"}, {"count", 1}});
  download_options options;
  options.directory = directory_.path() / "results";
  options.parallelism = 2;
  std::atomic<int> events{0};
  options.progress = [&](const download_event&) { ++events; };
  const auto manifest = run(download_results(client_->amc(), amc::client::internals(*client_).http(), context_,
                                             submitted.amc_execution_id, options));
  ASSERT_EQ(manifest["files"].size(), 3u);
  EXPECT_EQ(manifest["total_rows"], 250);
  std::uint64_t bytes = 0;
  for (const auto& file : manifest["files"]) {
    EXPECT_TRUE(std::filesystem::exists(file["path"].get<std::string>()));
    EXPECT_EQ(std::filesystem::file_size(file["path"].get<std::string>()), file["bytes"].get<std::uint64_t>());
    EXPECT_FALSE(file["columns"].empty());
    bytes += file["bytes"].get<std::uint64_t>();
  }
  EXPECT_EQ(manifest["total_bytes"], bytes);
  // Asked for again once the URLs had expired: at most once per part running
  // at the same time.
  const auto url_requests = requests_of("getWorkflowExecutionDownloadUrls");
  EXPECT_GE(url_requests, 2);
  EXPECT_LE(url_requests, 1 + options.parallelism);
  EXPECT_GT(events.load(), 0);
  for (const auto& entry : std::filesystem::directory_iterator(options.directory))
    EXPECT_EQ(entry.path().extension(), ".csv") << "no partial files left behind";
}

// Parts are coroutines that share the URL list, which one of them replaces
// when it has expired. Here they run with two I/O threads; run_blocking
// keeps them on one strand, and the list has a mutex for any other executor.
TEST_P(Operations, PartsOnSeveralIoThreadsShareRenewedUrlsSafely) {
  client_ = make_client({{"io_threads", 2}});
  const auto submitted = submit("", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: parts=5 rows=2000"}}}});
  ASSERT_EQ(wait(submitted.amc_execution_id)["status"], "SUCCEEDED");
  for (int round = 0; round < 3; ++round) {
    admin(verb::post, "/_sandbox/faults", {{"kind", "expired_download_urls"}, {"count", 1}});
    download_options options;
    options.directory = directory_.path() / fmt::format("threads-{}", round);
    options.parallelism = 5;
    const auto manifest = run(download_results(client_->amc(), amc::client::internals(*client_).http(), context_,
                                               submitted.amc_execution_id, options));
    ASSERT_EQ(manifest["files"].size(), 5u);
    EXPECT_EQ(manifest["total_rows"], 2000);
    for (const auto& file : manifest["files"])
      EXPECT_EQ(std::filesystem::file_size(file["path"].get<std::string>()), file["bytes"].get<std::uint64_t>());
  }
  EXPECT_GE(requests_of("getWorkflowExecutionDownloadUrls"), 6) << "each round renewed the expired URLs";
}

// Result files left in a directory, by extension.
std::vector<std::string> files_in(const std::filesystem::path& directory) {
  std::vector<std::string> names;
  if (!std::filesystem::exists(directory)) return names;
  for (const auto& entry : std::filesystem::directory_iterator(directory))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// A part cut short comes in two ways: the connection closes before
// Content-Length bytes (truncated_body: the transport sees it and retries),
// or the framing is consistent around half a body (malformed_json on the
// download: only the CSV check can see it; with this seed and size the cut
// falls inside a row). Either is fetched again; a part that stays cut fails
// the download and is never in a manifest or left as a result file.
TEST_P(Operations, IncompletePartsAreFetchedAgainAndNeverReportedComplete) {
  const auto submitted = submit("", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: parts=2 rows=100"}}}});
  ASSERT_EQ(wait(submitted.amc_execution_id)["status"], "SUCCEEDED");
  auto download_into = [&](const std::string& name) {
    download_options options;
    options.directory = directory_.path() / name;
    options.parallelism = 1;
    return run(download_results(client_->amc(), amc::client::internals(*client_).http(), context_, submitted.amc_execution_id, options));
  };
  const auto complete = download_into("reference");
  ASSERT_EQ(complete["total_rows"], 100);

  for (const std::string kind : {"malformed_json", "truncated_body"}) {
    SCOPED_TRACE(kind);
    admin(verb::delete_, "/_sandbox/faults");
    admin(verb::post, "/_sandbox/faults", {{"kind", kind}, {"operation", "downloadResult"}, {"count", 1}});
    const auto before = requests_of("downloadResult");
    const auto manifest = download_into(kind + "-once");
    EXPECT_EQ(requests_of("downloadResult") - before, 3) << "the cut part was fetched again";
    EXPECT_EQ(manifest["total_rows"], 100);
    EXPECT_EQ(manifest["total_bytes"], complete["total_bytes"]);
    for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(manifest["files"][i]["rows"], complete["files"][i]["rows"]);
    EXPECT_EQ(files_in(directory_.path() / (kind + "-once")), (std::vector<std::string>{"part-1.csv", "part-2.csv"}));

    admin(verb::delete_, "/_sandbox/faults");
    admin(verb::post, "/_sandbox/faults", {{"kind", kind}, {"operation", "downloadResult"}, {"count", -1}});
    std::string message;
    const auto code = code_of([&] { download_into(kind + "-always"); }, &message);
    EXPECT_TRUE(code == errc::protocol || code == errc::network) << message;
    EXPECT_NE(message.find("part 1"), std::string::npos) << message;
    EXPECT_NE(message.find("download the results again"), std::string::npos) << message;
    if (kind == "malformed_json") {
      EXPECT_NE(message.find("incomplete"), std::string::npos) << message;
    }
    EXPECT_GE(requests_of("downloadResult") - before, 5) << "fetched again before giving up";
    EXPECT_TRUE(files_in(directory_.path() / (kind + "-always")).empty()) << "no part kept, not even partly";
  }
  admin(verb::delete_, "/_sandbox/faults");
}

// Parts download side by side; when one fails for good, the others are
// cancelled. The error reported is the failure itself, never the
// cancellation of a sibling that happened to come first in part order.
TEST_P(Operations, AFailedPartIsReportedNotTheSiblingsItCancelled) {
  const auto submitted = submit("", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: parts=2 rows=100"}}}});
  ASSERT_EQ(wait(submitted.amc_execution_id)["status"], "SUCCEEDED");
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "latency"}, {"operation", "downloadResult"}, {"path", "*part-00001.csv"}, {"latency_ms", 3000}});
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "malformed_json"}, {"operation", "downloadResult"}, {"path", "*part-00002.csv"}, {"count", -1}});
  download_options options;
  options.directory = directory_.path() / "results";
  options.parallelism = 2;
  std::string message;
  const auto code = code_of(
      [&] {
        run(download_results(client_->amc(), amc::client::internals(*client_).http(), context_, submitted.amc_execution_id, options));
      },
      &message);
  EXPECT_EQ(code, errc::protocol) << message;
  EXPECT_NE(message.find("part 2"), std::string::npos) << message;
  EXPECT_TRUE(files_in(options.directory).empty()) << "no part kept";
  admin(verb::delete_, "/_sandbox/faults");
}

// AMC lists a result file twice ([u0, u0, u1]): the manifest holds each
// file once, with its rows counted once, and says what it dropped.
TEST_P(Operations, ARepeatedDownloadUrlIsDownloadedOnce) {
  const auto submitted = submit("", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: parts=2 rows=4"}}}});
  ASSERT_EQ(wait(submitted.amc_execution_id)["status"], "SUCCEEDED");
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "patch_reply"},
         {"operation", "getWorkflowExecutionDownloadUrls"},
         {"json_patch", {{{"op", "copy"}, {"from", "/downloadUrls/0"}, {"path", "/downloadUrls/1"}}}}});
  download_options options;
  options.directory = directory_.path() / "repeated";
  const auto manifest = run(download_results(client_->amc(), amc::client::internals(*client_).http(), context_,
                                             submitted.amc_execution_id, options));
  EXPECT_EQ(manifest["files"].size(), 2u);
  EXPECT_EQ(manifest["total_rows"], 4);
  ASSERT_EQ(manifest["warnings"].size(), 1u);
  EXPECT_NE(manifest["warnings"][0].get<std::string>().find("twice"), std::string::npos);
  EXPECT_EQ(requests_of("downloadResult"), 2) << "each file fetched once";
}

TEST(ResultFiles, HeaderlessOrCutFilesAreIncomplete) {
  testing::temporary_directory directory;
  auto summary_of = [&](const std::string& text) {
    const auto path = directory.path() / "part.csv";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return summarize_csv(path);
  };
  auto problem_with = [&](const std::string& text) {
    std::string message;
    EXPECT_EQ(testing::error_code_of([&] { summary_of(text); }, &message), errc::protocol) << text;
    return message;
  };
  EXPECT_NE(problem_with("").find("no CSV header"), std::string::npos);
  EXPECT_NE(problem_with("\n\r\n\n").find("no CSV header"), std::string::npos);
  EXPECT_NE(problem_with("a,b,c\n1,2,3\n4,5").find("has 2 field(s) where its header has 3"), std::string::npos);
  EXPECT_NE(problem_with("a,b\n1,\"two\nlines").find("quoted field"), std::string::npos);

  const auto complete = summary_of("a,b,c\r\n1,\"x,\"\"y\"\"\nz\",3\r\n4,5,\n");
  EXPECT_EQ(complete.columns, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(complete.rows, 2u);
  EXPECT_EQ(summary_of("a,b\n1,2").rows, 1u) << "no line break after the last row is still whole";
  EXPECT_EQ(summary_of("a,b\n").rows, 0u);
}

// The reader in a workflow's outputFormat: separator, quote and escape
// characters of its own, quoted separators and line breaks inside a field.
TEST(ResultFiles, EachFileIsReadInItsWorkflowsDialect) {
  testing::temporary_directory directory;
  auto summary_of = [&](const std::string& text, const csv_dialect& dialect) {
    const auto path = directory.path() / "part.csv";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return summarize_csv(path, dialect);
  };
  const csv_dialect semicolon{';', '\'', '\\'};
  const auto custom = summary_of(
      "campaign_id;event_date;note\n"
      "1;2026-01-01;'a;b'\n"                // a quoted separator
      "2;2026-01-02;'line one\nline two'\n"  // a quoted line break
      "3;2026-01-03;'it\\'s, \"fine\"'\n"   // an escaped quote; ',' and '\"' are text
      "4;2026-01-04;'doubled '' quote'\r\n",
      semicolon);
  EXPECT_EQ(custom.columns, (std::vector<std::string>{"campaign_id", "event_date", "note"}));
  EXPECT_EQ(custom.rows, 4u);
  // The same file read as ',' and '"' would be wrong: one column.
  EXPECT_EQ(summary_of("campaign_id;event_date;note\n1;2;3\n", {}).columns.size(), 1u);
  // AMC's default escape '\\' inside '"' quotes, and a backslash that
  // escapes nothing stays text.
  const auto defaults = summary_of("a,b\n\"x\\\"y\",\"C:\\temp\"\n\"p\\\\\",q\n", {});
  EXPECT_EQ(defaults.rows, 2u);
  // Quoting off: a quote character is text.
  EXPECT_EQ(summary_of("a|b\n\"x|y\n", {'|', std::nullopt, std::nullopt}).rows, 1u);
  // Cut inside a quoted field in the custom dialect is still seen.
  std::string message;
  EXPECT_EQ(testing::error_code_of([&] { summary_of("a;b\n1;'open\n", semicolon); }, &message), errc::protocol);
  EXPECT_NE(message.find("quoted field"), std::string::npos) << message;
  EXPECT_EQ(testing::error_code_of([&] { summary_of("a;b;c\n1;2;3\n4;5", semicolon); }), errc::protocol);
  // Column names that are not UTF-8 still give a manifest (JSON) that is.
  EXPECT_EQ(summary_of("caf\xE9,b\n1,2\n", {}).columns[0], "caf\xEF\xBF\xBD");

  EXPECT_EQ(dialect_of({{"separatorCharacter", ";"}, {"quoteCharacter", "'"}}, "getWorkflow"),
            (csv_dialect{';', '\'', '\\'}));
  EXPECT_EQ(dialect_of({{"quoteCharacter", ""}, {"escapeCharacter", ""}}, "getWorkflow"),
            (csv_dialect{',', std::nullopt, std::nullopt}));
  EXPECT_EQ(dialect_of(nullptr, "getWorkflow"), csv_dialect{});
  for (const auto& bad : {nlohmann::json{{"separatorCharacter", ";;"}}, nlohmann::json{{"separatorCharacter", ""}},
                          nlohmann::json{{"quoteCharacter", 42}}, nlohmann::json("text")}) {
    EXPECT_EQ(testing::error_code_of([&] { dialect_of(bad, "getWorkflow"); }, &message), errc::protocol) << bad;
    EXPECT_NE(message.find("getWorkflow"), std::string::npos) << message;
  }
}

// A saved workflow with its own outputFormat: the sandbox writes its files
// with ';' and the manifest counts columns and rows in that dialect, also
// for a file holding a quoted separator and a quoted line break.
TEST_P(Operations, TheManifestReadsFilesInTheWorkflowsOutputFormat) {
  auto& amc = client_->amc();
  auto definition = workflow("wf_semicolon", "SELECT 1\n-- sandbox: parts=2 rows=10");
  definition["outputFormat"] = {{"separatorCharacter", ";"}, {"quoteCharacter", "'"}};
  run(sync_workflow(amc, context_, definition));
  const auto submitted = submit("", {{"workflowId", "wf_semicolon"}});
  ASSERT_EQ(wait(submitted.amc_execution_id)["status"], "SUCCEEDED");
  download_options options;
  options.directory = directory_.path() / "semicolon";
  const auto manifest = run(download_results(amc, amc::client::internals(*client_).http(), context_, submitted.amc_execution_id, options));
  EXPECT_EQ(manifest["total_rows"], 10);
  EXPECT_EQ(manifest["output_format"]["separatorCharacter"], ";");
  EXPECT_EQ(manifest["output_format"]["quoteCharacter"], "'");
  for (const auto& file : manifest["files"]) {
    EXPECT_GT(file["columns"].size(), 1u) << file.dump();
    for (const auto& column : file["columns"])
      EXPECT_EQ(column.get<std::string>().find(';'), std::string::npos) << file.dump();
  }

  // The file AMC serves holds a quoted separator and a quoted line break.
  admin(verb::post, "/_sandbox/faults",
        {{"kind", "replace_reply"},
         {"operation", "downloadResult"},
         {"count", 2},
         {"body_text", "campaign_id;note\n1;'a;b'\n2;'line one\nline two'\n3;'it\\'s'\n"}});
  options.directory = directory_.path() / "semicolon-quoted";
  const auto quoted = run(download_results(amc, amc::client::internals(*client_).http(), context_, submitted.amc_execution_id, options));
  ASSERT_EQ(quoted["files"].size(), 2u);
  for (const auto& file : quoted["files"]) {
    EXPECT_EQ(file["columns"], nlohmann::json({"campaign_id", "note"}));
    EXPECT_EQ(file["rows"], 3);
  }
  EXPECT_EQ(quoted["total_rows"], 6);

  // An ad-hoc run: AMC keeps no workflow to read its outputFormat from, so
  // submit journals it and the download reads it back.
  const auto ad_hoc = submit("exec_adhoc_fmt", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: parts=1 rows=3"},
                                                             {"outputFormat", {{"separatorCharacter", "|"}}}}}});
  ASSERT_EQ(wait(ad_hoc.amc_execution_id)["status"], "SUCCEEDED");
  options.directory = directory_.path() / "adhoc-pipe";
  options.journal = &amc::client::internals(*client_).journal();
  const auto piped = run(download_results(amc, amc::client::internals(*client_).http(), context_, ad_hoc.amc_execution_id, options));
  EXPECT_EQ(piped["output_format"]["separatorCharacter"], "|");
  EXPECT_GT(piped["files"][0]["columns"].size(), 1u) << piped.dump();
  EXPECT_EQ(piped["total_rows"], 3);
}

TEST_P(Operations, ResultsOfAnUnfinishedExecutionAreAConflict) {
  const auto submitted = submit("", {{"workflow", {{"sqlQuery", "SELECT 1\n-- sandbox: running=100h"}}}});
  download_options options;
  options.directory = directory_.path() / "early";
  std::string message;
  EXPECT_EQ(code_of([&] {
              run(download_results(client_->amc(), amc::client::internals(*client_).http(), context_, submitted.amc_execution_id, options));
            },
                    &message),
            errc::conflict);
  EXPECT_NE(message.find("SUCCEEDED"), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(Shapes, Operations, ::testing::Values("flat", "wrapped"));

}  // namespace
}  // namespace amc::api
