#include "common/json_fields.hpp"

#include "common/error.hpp"

#include "support/test_support.hpp"

#include <gtest/gtest.h>

namespace amc {
namespace {

const auto code_of = [](const std::function<void()>& action, std::string* message = nullptr) {
  return amc::testing::error_code_of(action, message);
};

TEST(JsonFields, ParsesObjectsAndExplainsEverythingElse) {
  EXPECT_EQ(parse_json_object("{\"a\":1}", "request", false)["a"], 1);
  EXPECT_TRUE(parse_json_object(nullptr, "request", true).empty());
  std::string message;
  EXPECT_EQ(code_of([] { parse_json_object(nullptr, "request", false); }, &message),
            errc::invalid_argument);
  EXPECT_EQ(code_of([] { parse_json_object("[1]", "request", false); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("must be a JSON object"), std::string::npos);
  EXPECT_EQ(code_of([] { parse_json_object("{\"secret\": Atzr|oops}", "request", false); },
                    &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(message.find("Atzr"), std::string::npos) << "parse errors must not quote input";
}

// Found by the fuzz targets (tests/fuzz/amc_reply, lwa_reply): a number
// past a double's range is nlohmann's out_of_range, not a parse_error, and
// escaped parse_json_bounded (which never throws for bad input) from every
// reader of outside JSON: AMC and LwA replies, store files, configs.
TEST(JsonFields, ANumberPastADoublesRangeIsRefusedNotThrown) {
  for (const char* text : {"1e999", "{\"expires_in\": 1e999}", "[1, -1e400]", "1e999\x04\x04"}) {
    json_problem problem;
    std::optional<nlohmann::json> parsed;
    EXPECT_NO_THROW(parsed = parse_json_bounded(text, &problem)) << text;
    EXPECT_FALSE(parsed.has_value()) << text;
  }
  json_problem problem;
  EXPECT_FALSE(parse_json_bounded("{\"a\": 1e999}", &problem));
  EXPECT_EQ(problem.what, json_problem::kind::number_out_of_range);
  EXPECT_NE(describe(problem).find("too large"), std::string::npos) << describe(problem);
  std::string message;
  EXPECT_EQ(code_of([] { parse_json_object("{\"timeout_ms\": 1e999}", "request", false); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("too large"), std::string::npos) << message;
}

// Found by the fuzz target tests/fuzz/amc_reply: nlohmann's lexer ends the
// input at a NUL byte, so a reply "{...}\0garbage" was read as the JSON
// before it. A raw NUL is never JSON (in a string it is \u0000).
TEST(JsonFields, TextHoldingANulByteIsNotJson) {
  using namespace std::string_view_literals;
  for (const auto text : {"2\0\xff\xff"sv, "{\"status\": \"SUCCEEDED\"}\0{\"status\": \"FAILED\"}"sv, "\0"sv,
                          "[1,\0 2]"sv}) {
    json_problem problem;
    EXPECT_FALSE(parse_json_bounded(text, &problem)) << "read as JSON: " << text.substr(0, text.find('\0'));
    EXPECT_EQ(problem.byte, text.find('\0'));
  }
  EXPECT_EQ(parse_json_bounded(R"({"a": "\u0000"})")->at("a"), std::string(1, '\0'));
}

TEST(JsonFields, UnknownFieldsAreNamed) {
  const auto object = nlohmann::json::parse(R"({"path": "x", "pth": "y"})");
  std::string message;
  EXPECT_EQ(code_of([&] { reject_unknown_fields(object, {"path", "kind"}, "store config"); },
                    &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("'pth'"), std::string::npos);
  EXPECT_NE(message.find("path, kind"), std::string::npos);
}

TEST(JsonFields, TypesAreChecked) {
  const auto object = nlohmann::json::parse(R"({"s": "x", "n": 3, "b": true, "z": null})");
  EXPECT_EQ(optional_string(object, "s", "doc"), "x");
  EXPECT_FALSE(optional_string(object, "missing", "doc"));
  EXPECT_FALSE(optional_string(object, "z", "doc"));
  EXPECT_EQ(optional_bool(object, "b", "doc"), true);
  EXPECT_EQ(code_of([&] { optional_string(object, "n", "doc"); }), errc::invalid_argument);
  EXPECT_EQ(code_of([&] { optional_bool(object, "s", "doc"); }), errc::invalid_argument);
}

}  // namespace
}  // namespace amc
