// The one catch-all of the C ABI: whatever the core throws comes back as a
// status and a message, never as an exception.
#include "capi_support.hpp"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <string>
#include <thread>

namespace amc::capi {
namespace {

TEST(ExceptionFirewall, SuccessClearsTheLastError) {
  guarded("test", [] { throw error(errc::config, "bad config"); });
  EXPECT_STREQ(amc_last_error(), "bad config");
  EXPECT_EQ(guarded("test", [] {}), AMC_OK);
  EXPECT_STREQ(amc_last_error(), "");
  EXPECT_STREQ(amc_last_error_json(), "{}");
}

TEST(ExceptionFirewall, TypedErrorsKeepTheirCodeMessageAndDetail) {
  const auto status = guarded("test", [] {
    throw error(errc::forbidden, "advertiser id looks like a profile id",
                {{"http_status", 403}, {"credential_id", "c1"}});
  });
  EXPECT_EQ(status, AMC_E_FORBIDDEN);
  EXPECT_STREQ(amc_last_error(), "advertiser id looks like a profile id");
  const auto detail = nlohmann::json::parse(amc_last_error_json());
  EXPECT_EQ(detail["status"], "AMC_E_FORBIDDEN");
  EXPECT_EQ(detail["code"], 4);
  EXPECT_EQ(detail["http_status"], 403);
  EXPECT_EQ(detail["credential_id"], "c1");
  EXPECT_EQ(detail["message"], "advertiser id looks like a profile id");
}

TEST(ExceptionFirewall, EveryOtherExceptionIsContained) {
  EXPECT_EQ(guarded("amc_x", [] { throw std::bad_alloc(); }), AMC_E_OUT_OF_MEMORY);
  EXPECT_EQ(guarded("amc_x", [] { throw std::runtime_error("boom"); }), AMC_E_INTERNAL);
  EXPECT_NE(std::string(amc_last_error()).find("amc_x"), std::string::npos);
  EXPECT_NE(std::string(amc_last_error()).find("boom"), std::string::npos);
  EXPECT_EQ(guarded("amc_x", [] { throw 42; }), AMC_E_INTERNAL);
  EXPECT_NE(std::string(amc_last_error()).find("unknown exception"), std::string::npos);
  EXPECT_EQ(guarded("amc_x", [] { [[maybe_unused]] auto parsed = nlohmann::json::parse("{\"secret\": Atzr|x"); }),
            AMC_E_INTERNAL);
  EXPECT_EQ(std::string(amc_last_error()).find("Atzr"), std::string::npos)
      << "JSON library messages may quote input and are not passed on";
}

TEST(ExceptionFirewall, LastErrorIsPerThread) {
  guarded("test", [] { throw error(errc::timeout, "main thread error"); });
  std::string seen_in_other_thread = "unset";
  std::thread([&] { seen_in_other_thread = amc_last_error(); }).join();
  EXPECT_EQ(seen_in_other_thread, "");
  EXPECT_STREQ(amc_last_error(), "main thread error");
}

TEST(ExceptionFirewall, NullArgumentsAreNamed) {
  EXPECT_EQ(guarded("test", [] { require(nullptr, "out_json"); }), AMC_E_INVALID_ARGUMENT);
  EXPECT_STREQ(amc_last_error(), "out_json must not be NULL");
}

}  // namespace
}  // namespace amc::capi
