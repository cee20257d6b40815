// Unit tests of the pieces with no sockets: the execution model, SQL
// markers, durations, fault rules and command line parsing.
#include "sandbox/execution_model.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/options.hpp"
#include "sandbox/time_zone.hpp"
#include "common/time.hpp"

#include <gtest/gtest.h>

namespace amc::sandbox {
namespace {

using nlohmann::json;

TEST(SandboxModel, DurationsParse) {
  EXPECT_DOUBLE_EQ(parse_duration_seconds("90"), 90);
  EXPECT_DOUBLE_EQ(parse_duration_seconds("90s"), 90);
  EXPECT_DOUBLE_EQ(parse_duration_seconds("20m"), 1200);
  EXPECT_DOUBLE_EQ(parse_duration_seconds("1.5h"), 5400);
  EXPECT_THROW(parse_duration_seconds("soon"), std::invalid_argument);
  EXPECT_THROW(parse_duration_seconds("-1"), std::invalid_argument);
}

TEST(SandboxModel, MarkersOverrideTheScenario) {
  scenario base;
  auto plan = plan_execution("w", "SELECT 1 -- sandbox: duration=20m parts=3 rows=1000 pending=5s publishing=0",
                             base, {});
  EXPECT_DOUBLE_EQ(plan.running_seconds, 1200);
  EXPECT_DOUBLE_EQ(plan.pending_seconds, 5);
  EXPECT_DOUBLE_EQ(plan.publishing_seconds, 0);
  EXPECT_EQ(plan.parts, 3);
  EXPECT_EQ(plan.rows, 1000);
  auto failing = plan_execution("w", "SELECT 1\n-- sandbox: fail \"bad table\"\nFROM t", base, {});
  EXPECT_EQ(failing.outcome, "FAILED");
  EXPECT_EQ(failing.reason, "bad table");
  EXPECT_THROW(plan_execution("w", "-- sandbox: explode", base, {}), std::invalid_argument);
  EXPECT_THROW(plan_execution("w", "-- sandbox: scenario=missing", base, {}), std::invalid_argument);
}

TEST(SandboxModel, ScenariosMatchByWorkflowOrSql) {
  scenario base;
  scenario slow = base;
  slow.name = "slow";
  slow.match_workflow_id = "nightly";
  slow.running_seconds = 7200;
  scenario broken = base;
  broken.name = "broken";
  broken.match_sql = "missing_table";
  broken.outcome = "FAILED";
  std::vector<scenario> all = {slow, broken};
  EXPECT_DOUBLE_EQ(plan_execution("nightly", "SELECT 1", base, all).running_seconds, 7200);
  EXPECT_EQ(plan_execution("x", "SELECT * FROM missing_table", base, all).outcome, "FAILED");
  EXPECT_EQ(plan_execution("x", "SELECT 1", base, all).outcome, "SUCCEEDED");
  EXPECT_EQ(plan_execution("x", "SELECT 1 -- sandbox: scenario=slow", base, all).running_seconds, 7200);
}

TEST(SandboxModel, StatusFollowsScaledTime) {
  execution_plan plan;  // 60 / 900 / 10
  execution_timing timing{1000, 600, 86400, false, std::nullopt};
  EXPECT_EQ(status_at(plan, timing, 1000).phase, execution_phase::pending);
  EXPECT_EQ(status_at(plan, timing, 1000.2).phase, execution_phase::running);  // 120 simulated s
  auto running = status_at(plan, timing, 1001);
  EXPECT_DOUBLE_EQ(running.since, 1000.1);
  EXPECT_EQ(status_at(plan, timing, 1001.6).phase, execution_phase::publishing);
  EXPECT_EQ(status_at(plan, timing, 1002).phase, execution_phase::succeeded);
  timing.cancelled_at = 1000.5;
  EXPECT_EQ(status_at(plan, timing, 1002).phase, execution_phase::cancelled);
  timing.cancelled_at.reset();
  plan.outcome = "FAILED";
  plan.reason = "boom";
  auto failed = status_at(plan, timing, 1002);
  EXPECT_EQ(failed.phase, execution_phase::failed);
  EXPECT_EQ(failed.reason, "boom");
  EXPECT_TRUE(is_terminal(failed.phase));
  EXPECT_FALSE(is_terminal(execution_phase::publishing));
}

TEST(SandboxFaultRules, ParseAndGlob) {
  auto rule = parse_fault_rule({{"kind", "rate_limit"}, {"count", 3}});
  EXPECT_EQ(rule.kind, fault_kind::rate_limit);
  EXPECT_EQ(rule.status, 429);
  EXPECT_EQ(rule.count, 3);
  EXPECT_THROW(parse_fault_rule({{"kind", "rate_limit"}, {"status", 1000}}), std::invalid_argument);
  EXPECT_TRUE(glob_match("/amc/reporting/*/workflowExecutions/*", "/amc/reporting/i/workflowExecutions/x/downloadUrls"));
  EXPECT_FALSE(glob_match("/amc/reporting/*/workflows", "/amc/reporting/i/workflowExecutions"));
  EXPECT_TRUE(glob_match("*", ""));
  for (std::size_t i = 0; i < fault_kind_count; ++i) {
    auto kind = static_cast<fault_kind>(i);
    EXPECT_EQ(parse_fault_kind(to_string(kind)), kind);
  }
}

TEST(SandboxOptions, CommandLineAndConfig) {
  sandbox_options options;
  std::string help;
  const char* argv[] = {"amc-sandbox", "--port", "8443", "--tls", "--shape=wrapped", "--time-scale", "600",
                        "--fault", R"({"kind":"latency","latency_ms":5})", "--running", "20m"};
  ASSERT_TRUE(parse_command_line(static_cast<int>(std::size(argv)), argv, options, help));
  EXPECT_EQ(options.port, 8443);
  EXPECT_TRUE(options.tls);
  EXPECT_EQ(options.shape, response_shape::wrapped);
  EXPECT_DOUBLE_EQ(options.time_scale, 600);
  EXPECT_DOUBLE_EQ(options.default_scenario.running_seconds, 1200);
  ASSERT_EQ(options.faults.size(), 1u);
  const char* help_argv[] = {"amc-sandbox", "--help"};
  EXPECT_FALSE(parse_command_line(2, help_argv, options, help));
  EXPECT_NE(help.find("--time-scale"), std::string::npos);
  const char* bad_argv[] = {"amc-sandbox", "--frobnicate", "1"};
  EXPECT_THROW(parse_command_line(3, bad_argv, options, help), std::invalid_argument);

  sandbox_options configured;
  apply_config_json(configured, {{"adhoc_executions_per_day", 5},
                                 {"scenarios", {{{"name", "x"}, {"running", "1h"}, {"outcome", "FAILED"}}}}});
  EXPECT_EQ(configured.adhoc_per_day, 5);
  ASSERT_EQ(configured.scenarios.size(), 1u);
  EXPECT_DOUBLE_EQ(configured.scenarios[0].running_seconds, 3600);
  EXPECT_THROW(apply_config_json(configured, {{"unknown", 1}}), std::invalid_argument);
}

// The message of the std::invalid_argument that `call` throws, or "".
template <class Call>
std::string refusal(Call call) {
  try {
    call();
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return {};
}

// Issue 12: numbers from the command line and the config file are
// range-checked; none is truncated to int on the way in.
TEST(SandboxOptions, NumbersOutOfRangeAreRefusedNotTruncated) {
  auto flag = [](const char* name, const char* value) {
    sandbox_options options;
    std::string help;
    const char* argv[] = {"amc-sandbox", name, value};
    return refusal([&] { parse_command_line(3, argv, options, help); });
  };
  EXPECT_NE(flag("--token-ttl", "1000000000000").find("'--token-ttl' is out of range"), std::string::npos);
  EXPECT_NE(flag("--token-ttl", "1000000000000").find("between 1 and 31536000"), std::string::npos);
  EXPECT_NE(flag("--port", "70000").find("out of range"), std::string::npos);
  EXPECT_NE(flag("--threads", "0").find("out of range"), std::string::npos);
  EXPECT_NE(flag("--seed", "-1").find("out of range"), std::string::npos);
  EXPECT_NE(flag("--max-active", "4294967297").find("out of range"), std::string::npos);
  EXPECT_NE(flag("--read-timeout-ms", "99999999999999999999").find("out of range"), std::string::npos);
  EXPECT_NE(flag("--time-scale", "0").find("out of range"), std::string::npos);
  EXPECT_NE(flag("--time-scale", "1e400").find("out of range"), std::string::npos);
  EXPECT_NE(flag("--running", "1e300h").find("out of range"), std::string::npos);
  EXPECT_NE(flag("--download-url-ttl", "2.5").find("whole number"), std::string::npos);
  EXPECT_EQ(flag("--token-ttl", "30"), "");

  auto config = [](const json& document) {
    sandbox_options options;
    return refusal([&] { apply_config_json(options, document); });
  };
  EXPECT_NE(config({{"access_token_ttl_seconds", 1e12}}).find("'access_token_ttl_seconds' is out of range"),
            std::string::npos);
  EXPECT_NE(config({{"port", 70000}}).find("'port' is out of range"), std::string::npos);
  EXPECT_NE(config({{"io_threads", 4294967297LL}}).find("'io_threads' is out of range"), std::string::npos);
  EXPECT_NE(config({{"request_log_size", -1}}).find("'request_log_size' is out of range"), std::string::npos);
  EXPECT_NE(config({{"seed", 18446744073709551615ULL}}).find("'seed' is out of range"), std::string::npos);
  EXPECT_NE(config({{"time_scale", -1}}).find("'time_scale' is out of range"), std::string::npos);
  EXPECT_NE(config({{"accounts_page_size", 0}}).find("'accounts_page_size' is out of range"), std::string::npos);
  EXPECT_NE(config({{"scenarios", {{{"parts", 4294967297LL}}}}}).find("'parts' is out of range"), std::string::npos);
  EXPECT_NE(config({{"default_scenario", {{"rows", 1e15}}}}).find("'rows' is out of range"), std::string::npos);
  EXPECT_NE(config({{"default_scenario", {{"running", 1e300}}}}).find("out of range"), std::string::npos);
  EXPECT_NE(config({{"faults", {{{"kind", "rate_limit"}, {"retry_after", 1e12}}}}}).find("'retry_after' is out of range"),
            std::string::npos);
  EXPECT_EQ(config({{"access_token_ttl_seconds", 30}, {"seed", 7}}), "");
}

TEST(SandboxModel, MarkerNumbersAreRangeChecked) {
  const scenario base;
  auto plan = [&](const char* sql) { return refusal([&] { plan_execution("", sql, base, {}); }); };
  EXPECT_NE(plan("SELECT 1 -- sandbox: parts=4294967297").find("'sandbox marker parts' is out of range"),
            std::string::npos);
  EXPECT_NE(plan("SELECT 1 -- sandbox: rows=99999999999").find("'sandbox marker rows' is out of range"),
            std::string::npos);
  EXPECT_NE(plan("SELECT 1 -- sandbox: duration=1e300h").find("out of range"), std::string::npos);
  EXPECT_EQ(plan("SELECT 1 -- sandbox: parts=5 rows=10000000 duration=20m"), "");
}


// Offsets from the system tz database: the transition table, and the POSIX
// rule in the file's footer for years past the table (2040 here), north and
// south of the equator.
TEST(SandboxTimeZone, OffsetsComeFromTheTzDatabase) {
  auto at = [](const char* text) { return *parse_utc(text); };
  const auto los_angeles = time_zone::locate("America/Los_Angeles");
  ASSERT_TRUE(los_angeles.has_value());
  EXPECT_EQ(los_angeles->utc_offset(at("2026-01-15T12:00:00Z")), -8 * 3600);
  EXPECT_EQ(los_angeles->utc_offset(at("2026-07-15T12:00:00Z")), -7 * 3600);
  EXPECT_EQ(los_angeles->utc_offset(at("2026-03-08T09:59:59Z")), -8 * 3600);
  EXPECT_EQ(los_angeles->utc_offset(at("2026-03-08T10:00:00Z")), -7 * 3600);
  EXPECT_EQ(los_angeles->utc_offset(at("2040-07-15T12:00:00Z")), -7 * 3600);
  EXPECT_EQ(los_angeles->utc_offset(at("2040-12-15T12:00:00Z")), -8 * 3600);
  const auto sydney = time_zone::locate("Australia/Sydney");
  ASSERT_TRUE(sydney.has_value());
  EXPECT_EQ(sydney->utc_offset(at("2040-01-15T12:00:00Z")), 11 * 3600);
  EXPECT_EQ(sydney->utc_offset(at("2040-07-15T12:00:00Z")), 10 * 3600);
  const auto kolkata = time_zone::locate("Asia/Kolkata");
  ASSERT_TRUE(kolkata.has_value());
  EXPECT_EQ(kolkata->utc_offset(at("2026-03-10T00:00:00Z")), 5 * 3600 + 1800);
  EXPECT_EQ(time_zone::locate("UTC")->utc_offset(at("2026-03-10T00:00:00Z")), 0);
  // Local wall time to UTC, with a gap (02:30 does not exist on the day DST
  // begins: read with the offset before it) and an overlap (01:30 happens
  // twice when it ends: the earlier).
  EXPECT_EQ(los_angeles->local_to_utc(at("2026-03-09T00:00:00Z")), at("2026-03-09T07:00:00Z"));
  EXPECT_EQ(los_angeles->local_to_utc(at("2026-03-08T02:30:00Z")), at("2026-03-08T10:30:00Z"));
  EXPECT_EQ(los_angeles->local_to_utc(at("2026-11-01T01:30:00Z")), at("2026-11-01T08:30:00Z"));
  EXPECT_FALSE(time_zone::locate("Mars/Olympus_Mons").has_value());
  EXPECT_FALSE(time_zone::locate("../zoneinfo/UTC").has_value());
  EXPECT_FALSE(time_zone::locate("").has_value());
}

TEST(SandboxModel, UnlistedStatusMarker) {
  scenario base;
  auto plan = plan_execution("w", "SELECT 1 -- sandbox: status=SOMETHING_NEW for=10m", base, {});
  EXPECT_EQ(plan.unlisted_status, "SOMETHING_NEW");
  EXPECT_DOUBLE_EQ(plan.unlisted_seconds, 600);
  execution_timing timing;
  EXPECT_EQ(status_at(plan, timing, 59).phase, execution_phase::pending);
  EXPECT_EQ(status_at(plan, timing, 61).phase, execution_phase::unlisted);
  EXPECT_EQ(status_at(plan, timing, 661).phase, execution_phase::running);
  EXPECT_EQ(status_at(plan, timing, 661).since, 660);
  EXPECT_EQ(status_at(plan, timing, 60 + 600 + 900 + 10 + 1).phase, execution_phase::succeeded);
  EXPECT_DOUBLE_EQ(plan_execution("w", "SELECT 1 -- sandbox: status=NEW", base, {}).unlisted_seconds, 60);
  EXPECT_THROW(plan_execution("w", "SELECT 1 -- sandbox: status=PENDING", base, {}), std::invalid_argument);
  EXPECT_THROW(plan_execution("w", "SELECT 1 -- sandbox: for=1m", base, {}), std::invalid_argument);
}

}  // namespace
}  // namespace amc::sandbox
