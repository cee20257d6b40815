#include "common/log.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace amc {
namespace {

TEST(Redaction, MasksTokensAndSecretFields) {
  const std::string text =
      "refresh with Atzr|IwEBIA-secret-part and Atza|abc.def, header Authorization: Bearer "
      "Atza|xyz; body grant_type=refresh_token&refresh_token=Atzr|q&client_secret=s3cr3t&code=c0de "
      "json {\"client_secret\": \"hunter2\", \"access_token\":\"tok\"} fernet gAAAAABkZXNlY3JldA==";
  const auto masked = redact(text);
  for (const char* secret : {"IwEBIA-secret-part", "abc.def", "xyz", "s3cr3t", "c0de", "hunter2",
                             "\"tok\"", "gAAAAABkZXNlY3JldA"})
    EXPECT_EQ(masked.find(secret), std::string::npos) << secret << " in: " << masked;
  EXPECT_NE(masked.find("grant_type=refresh_token"), std::string::npos) << masked;
}

TEST(Redaction, LeavesOrdinaryTextAlone) {
  const std::string text = "credential 'conn_1' refreshed; HTTP 503 from advertising-api.amazon.com";
  EXPECT_EQ(redact(text), text);
}

TEST(Logger, FiltersByLevelAndRedactsBeforeTheSink) {
  logger log;
  std::vector<std::string> lines;
  log.log(log_level::error, "no sink yet");  // dropped, no crash
  log.set_sink([&](log_level, std::string_view message) { lines.emplace_back(message); },
               log_level::info);
  log.log(log_level::debug, "too detailed");
  log.log(log_level::warning, "token Atza|leak");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("leak"), std::string::npos);
  EXPECT_TRUE(log.enabled(log_level::error));
  EXPECT_FALSE(log.enabled(log_level::debug));
}

TEST(Logger, LinesKeptBeforeASinkReachTheFirstSink) {
  logger log;
  log.log_or_keep(log_level::warning, "said while being created, token Atza|leak");
  log.log_or_keep(log_level::debug, "below the sink's level");
  log.log(log_level::warning, "not kept: plain log() without a sink drops it");
  std::vector<std::pair<log_level, std::string>> lines;
  log.set_sink([&](log_level level, std::string_view message) { lines.emplace_back(level, message); },
               log_level::info);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].first, log_level::warning);
  EXPECT_NE(lines[0].second.find("said while being created"), std::string::npos);
  EXPECT_EQ(lines[0].second.find("leak"), std::string::npos) << "kept lines are redacted too";
  // Handed over once: a later sink does not get them again.
  lines.clear();
  log.set_sink([&](log_level level, std::string_view message) { lines.emplace_back(level, message); },
               log_level::debug);
  EXPECT_TRUE(lines.empty());
  // With a sink set, log_or_keep() logs at once.
  log.log_or_keep(log_level::warning, "now");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].second, "now");
}

}  // namespace
}  // namespace amc
