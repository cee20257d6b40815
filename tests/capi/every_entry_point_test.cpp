// Every entry point of amc.h that returns a status is behind the exception
// firewall: with AMC_FAILPOINTS making the core throw at the start of each
// one (all four kinds of exception, spread over them), every call returns a
// status with a message naming the entry point, and the process lives on.
// The table below must list every such declaration in amc.h, so a new entry
// point cannot be added without being checked here.
#include "amc/amc.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

struct entry_point {
  const char* name;
  std::function<amc_status()> call;
};

// The fail point fires before any argument is read, so null arguments are
// enough to reach it.
const std::vector<entry_point>& entry_points() {
  static const std::vector<entry_point> all = {
      {"amc_store_new", [] { return amc_store_new(nullptr, nullptr); }},
      {"amc_store_put_credential", [] { return amc_store_put_credential(nullptr, nullptr); }},
      {"amc_store_get_credential", [] { return amc_store_get_credential(nullptr, nullptr, nullptr, nullptr); }},
      {"amc_store_list_credentials", [] { return amc_store_list_credentials(nullptr, nullptr); }},
      {"amc_store_delete_credential", [] { return amc_store_delete_credential(nullptr, nullptr); }},
      {"amc_store_rotate_keys", [] { return amc_store_rotate_keys(nullptr, nullptr); }},
      {"amc_client_new", [] { return amc_client_new(nullptr, nullptr); }},
      {"amc_client_set_log", [] { return amc_client_set_log(nullptr, nullptr, nullptr, 0); }},
      {"amc_client_metrics", [] { return amc_client_metrics(nullptr, nullptr); }},
      {"amc_auth_consent_url", [] { return amc_auth_consent_url(nullptr, nullptr, nullptr); }},
      {"amc_auth_exchange_code", [] { return amc_auth_exchange_code(nullptr, nullptr, nullptr); }},
      {"amc_auth_import", [] { return amc_auth_import(nullptr, nullptr); }},
      {"amc_auth_refresh", [] { return amc_auth_refresh(nullptr, nullptr, nullptr, nullptr); }},
      {"amc_auth_status", [] { return amc_auth_status(nullptr, nullptr, nullptr); }},
      {"amc_accounts_list", [] { return amc_accounts_list(nullptr, nullptr, nullptr); }},
      {"amc_instances_list", [] { return amc_instances_list(nullptr, nullptr, nullptr); }},
      {"amc_workflow_create", [] { return amc_workflow_create(nullptr, nullptr, nullptr); }},
      {"amc_workflow_get", [] { return amc_workflow_get(nullptr, nullptr, nullptr); }},
      {"amc_workflow_list", [] { return amc_workflow_list(nullptr, nullptr, nullptr); }},
      {"amc_workflow_update", [] { return amc_workflow_update(nullptr, nullptr, nullptr); }},
      {"amc_workflow_delete", [] { return amc_workflow_delete(nullptr, nullptr, nullptr); }},
      {"amc_workflow_sync", [] { return amc_workflow_sync(nullptr, nullptr, nullptr); }},
      {"amc_workflow_id_from_name", [] { return amc_workflow_id_from_name(nullptr, nullptr); }},
      {"amc_schedule_create", [] { return amc_schedule_create(nullptr, nullptr, nullptr); }},
      {"amc_schedule_get", [] { return amc_schedule_get(nullptr, nullptr, nullptr); }},
      {"amc_schedule_list", [] { return amc_schedule_list(nullptr, nullptr, nullptr); }},
      {"amc_schedule_update", [] { return amc_schedule_update(nullptr, nullptr, nullptr); }},
      {"amc_schedule_delete", [] { return amc_schedule_delete(nullptr, nullptr, nullptr); }},
      {"amc_execution_submit", [] { return amc_execution_submit(nullptr, nullptr, nullptr); }},
      {"amc_execution_get", [] { return amc_execution_get(nullptr, nullptr, nullptr); }},
      {"amc_execution_list", [] { return amc_execution_list(nullptr, nullptr, nullptr); }},
      {"amc_execution_cancel", [] { return amc_execution_cancel(nullptr, nullptr, nullptr); }},
      {"amc_cancel_token_new", [] { return amc_cancel_token_new(nullptr); }},
      {"amc_execution_wait",
       [] { return amc_execution_wait(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr); }},
      {"amc_results_download", [] { return amc_results_download(nullptr, nullptr, nullptr, nullptr, nullptr); }},
      {"amc_poller_new", [] { return amc_poller_new(nullptr, nullptr, nullptr); }},
      {"amc_watch", [] { return amc_watch(nullptr, nullptr, nullptr); }},
      {"amc_unwatch", [] { return amc_unwatch(nullptr, 0); }},
      {"amc_poller_next_event", [] { return amc_poller_next_event(nullptr, 0, nullptr); }},
      {"amc_poller_stats", [] { return amc_poller_stats(nullptr, nullptr); }},
      {"amc_client_new_with_store", [] { return amc_client_new_with_store(nullptr, nullptr, nullptr); }},
      {"amc_data_source_list", [] { return amc_data_source_list(nullptr, nullptr, nullptr); }},
      {"amc_data_source_get", [] { return amc_data_source_get(nullptr, nullptr, nullptr); }},
      {"amc_workflow_validate", [] { return amc_workflow_validate(nullptr, nullptr, nullptr); }},
      {"amc_adhoc_quota", [] { return amc_adhoc_quota(nullptr, nullptr, nullptr); }},
  };
  return all;
}

const char* const exception_kinds[] = {"throw", "std_exception", "bad_alloc", "non_std"};

// Set before the library first reads it (it reads it once per process).
const bool failpoints_set = [] {
  std::string spec;
  for (std::size_t i = 0; i < entry_points().size(); ++i) {
    if (!spec.empty()) spec += ',';
    spec += std::string(entry_points()[i].name) + "=" + exception_kinds[i % 4];
  }
  return ::setenv("AMC_FAILPOINTS", spec.c_str(), 1) == 0;
}();

TEST(EveryEntryPoint, TheTableListsEveryStatusReturningDeclarationOfTheHeader) {
  std::ifstream header(AMC_PUBLIC_HEADER);
  ASSERT_TRUE(header) << AMC_PUBLIC_HEADER;
  std::stringstream text;
  text << header.rdbuf();
  const std::string source = text.str();
  // "AMC_API amc_status amc_name(": the declarations that return a status.
  std::set<std::string> declared;
  const std::string marker = "AMC_API amc_status ";
  for (auto at = source.find(marker); at != std::string::npos; at = source.find(marker, at + 1)) {
    const auto name_start = at + marker.size();
    declared.insert(source.substr(name_start, source.find('(', name_start) - name_start));
  }
  std::set<std::string> tested;
  for (const auto& entry : entry_points()) tested.insert(entry.name);
  EXPECT_EQ(declared, tested) << "add the new entry point to this test's table";
  EXPECT_GE(declared.size(), 30u);
}

TEST(EveryEntryPoint, ACoreThatThrowsComesBackAsAStatusNamingTheEntryPoint) {
  if (!AMC_TEST_HAS_FAILPOINTS)
    GTEST_SKIP() << "needs fail points: configure with -DAMC_FAILPOINTS=ON (as .ci/build.sh does)";
  ASSERT_TRUE(failpoints_set);
  for (std::size_t i = 0; i < entry_points().size(); ++i) {
    const auto& entry = entry_points()[i];
    const std::string kind = exception_kinds[i % 4];
    const amc_status status = entry.call();
    EXPECT_EQ(status, kind == "bad_alloc" ? AMC_E_OUT_OF_MEMORY : AMC_E_INTERNAL) << entry.name << " " << kind;
    const std::string message = amc_last_error();
    if (kind == "bad_alloc") {  // a fixed text: nothing is formatted when memory ran out
      EXPECT_EQ(message, "out of memory") << entry.name;
    } else {
      EXPECT_NE(message.find(entry.name), std::string::npos) << entry.name << ": " << message;
    }
  }
  // The library still works afterwards: an entry point without a fail point.
  EXPECT_STREQ(amc_status_name(AMC_OK), "AMC_OK");
}

}  // namespace
