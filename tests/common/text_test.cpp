#include "common/text.hpp"

#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/url_encoding.hpp"

#include "support/test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cctype>
#include <clocale>

namespace amc {
namespace {

TEST(Text, FindsEveryKindOfInvalidUtf8) {
  EXPECT_FALSE(first_invalid_utf8("plain, \xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80, \xF4\x8F\xBF\xBF"));
  EXPECT_EQ(first_invalid_utf8("wf_\xC3"), 3u) << "a lead byte at the end";
  EXPECT_EQ(first_invalid_utf8("a\x80"), 1u) << "a lone continuation byte";
  EXPECT_EQ(first_invalid_utf8("ab\xC0\xAF"), 2u) << "an overlong '/'";
  EXPECT_EQ(first_invalid_utf8("\xE0\x80\xAF"), 0u) << "an overlong 3-byte form";
  EXPECT_EQ(first_invalid_utf8("\xF0\x80\x80\xAF"), 0u) << "an overlong 4-byte form";
  EXPECT_EQ(first_invalid_utf8("x\xED\xA0\x80"), 1u) << "a surrogate";
  EXPECT_EQ(first_invalid_utf8("\xF4\x90\x80\x80"), 0u) << "past U+10FFFF";
  EXPECT_EQ(first_invalid_utf8("\xFF"), 0u);
  EXPECT_EQ(first_invalid_utf8("\xE2\x82x"), 0u) << "a sequence cut short";
}

TEST(Text, QuotesOutsideTextWholeAndCodePointByCodePoint) {
  EXPECT_EQ(quoted_text("wf_\xC3\xA9"), "'wf_\xC3\xA9' (U+00E9)");
  EXPECT_EQ(quoted_text("wf_\xC3"), "'wf_\\xC3' (not valid UTF-8 at byte 3)");
  EXPECT_EQ(quoted_text(std::string("a\0b\n'\\", 6)), "'a\\x00b\\n\\'\\\\'");
  EXPECT_EQ(quoted_text("\xF0\x9F\x98\x80\xF0\x9F\x98\x80"), "'\xF0\x9F\x98\x80\xF0\x9F\x98\x80' (U+1F600)");
  EXPECT_EQ(quoted_text("\xC2\x85"), "'\\u0085'") << "C1 controls are escaped";
  for (const std::string hostile : {"\xC3", "\x80\x80", "\xED\xA0\x80", "\xC0\xAF\xE2\x82"})
    EXPECT_FALSE(first_invalid_utf8(quoted_text(hostile))) << quoted_text(hostile);
}

TEST(Text, CharactersAndCutsNeverSplitACodePoint) {
  EXPECT_EQ(character_at("wf_\xC3\xA9x", 3), "\xC3\xA9");
  EXPECT_EQ(character_at("wf_\xC3\xA9x", 4), "\xC3\xA9");
  EXPECT_EQ(character_at("wf_\xC3x", 3), "\xC3");
  EXPECT_EQ(cut_text("ab\xC3\xA9", 3), "ab…");
  EXPECT_EQ(cut_text("ab", 3), "ab");
  EXPECT_EQ(to_valid_utf8("a\xC3z"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(escape_invalid_utf8("a\xC3z\xC3\xA9"), "a\\xC3z\xC3\xA9");
}

TEST(Text, RequireUtf8SaysWhere) {
  std::string message;
  EXPECT_EQ(testing::error_code_of([] { require_utf8("ok\xFF", "credential id"); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("the credential id is not valid UTF-8 at byte 2"), std::string::npos) << message;
}

// The depth limit: 128 levels are read, 129 are not, and 50,000 (which
// crashed the host by recursion) are refused without recursing.
TEST(JsonDepth, LimitHoldsWithoutRecursion) {
  auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(parse_json_bounded(nested(max_json_depth)).has_value());
  json_problem problem;
  EXPECT_FALSE(parse_json_bounded(nested(max_json_depth + 1), &problem).has_value());
  EXPECT_EQ(problem.what, json_problem::kind::too_deep);
  EXPECT_EQ(problem.byte, static_cast<std::size_t>(max_json_depth));
  EXPECT_FALSE(parse_json_bounded("{\"a\": " + nested(50'000) + "}", &problem).has_value());
  EXPECT_EQ(problem.what, json_problem::kind::too_deep);
  EXPECT_EQ(describe(problem), "nests arrays and objects deeper than 128 levels (byte 133)");
  std::string deep_objects;
  for (int i = 0; i < 50'000; ++i) deep_objects += "{\"a\":";
  deep_objects += "1" + std::string(50'000, '}');
  EXPECT_FALSE(parse_json_bounded(deep_objects, &problem).has_value());
  EXPECT_FALSE(parse_json_bounded("{\"a\": \"x\xC3\"}", &problem).has_value());
  EXPECT_EQ(problem.what, json_problem::kind::invalid_utf8);
  EXPECT_EQ(describe(problem).rfind("is not valid UTF-8 at byte", 0), 0u) << describe(problem);
  EXPECT_FALSE(parse_json_bounded("{\"a\": ", &problem).has_value());
  EXPECT_EQ(problem.what, json_problem::kind::invalid);

  std::string message;
  const auto deep_request = "{\"workflow\": " + nested(50'000) + "}";
  EXPECT_EQ(testing::error_code_of([&] { parse_json_object(deep_request.c_str(), "request", false); }, &message),
            errc::invalid_argument);
  EXPECT_NE(message.find("deeper than 128"), std::string::npos) << message;
  EXPECT_EQ(testing::error_code_of([&] { parse_json_object(deep_request.c_str(), "client config", false, errc::config); }),
            errc::config);
}

// The library's own character classes match <cctype> in the "C" locale for
// every byte, and never follow a locale a host sets: percent_encode leaves
// exactly the RFC 3986 unreserved ASCII characters as they are.
TEST(AsciiClasses, AreTheCLocalesForEveryByteWhateverTheHostsLocale) {
  ASSERT_NE(std::setlocale(LC_CTYPE, "C"), nullptr);
  for (int value = 0; value < 256; ++value) {
    const char c = static_cast<char>(value);
    const auto byte = static_cast<unsigned char>(value);
    EXPECT_EQ(is_ascii_digit(c), std::isdigit(byte) != 0) << value;
    EXPECT_EQ(is_ascii_alpha(c), std::isalpha(byte) != 0) << value;
    EXPECT_EQ(is_ascii_alnum(c), std::isalnum(byte) != 0) << value;
    EXPECT_EQ(is_ascii_hex_digit(c), std::isxdigit(byte) != 0) << value;
    EXPECT_EQ(is_ascii_space(c), std::isspace(byte) != 0) << value;
    EXPECT_EQ(ascii_lower(c), static_cast<char>(std::tolower(byte))) << value;
    EXPECT_EQ(is_url_unreserved(c), std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') << value;
  }
  // A host may run in any locale (a single-byte one makes std::isalnum true
  // above 0x7F); whichever of these exists here, nothing changes.
  for (const char* locale : {"C.UTF-8", "de_DE.ISO-8859-1", "en_US.ISO-8859-1", "C"}) {
    if (std::setlocale(LC_CTYPE, locale) == nullptr) continue;
    for (int value = 0; value < 256; ++value) {
      const char c = static_cast<char>(value);
      const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                              c == '-' || c == '.' || c == '_' || c == '~';
      EXPECT_EQ(percent_encode(std::string(1, c)), unreserved ? std::string(1, c) : fmt::format("%{:02X}", value))
          << locale << " " << value;
    }
  }
  std::setlocale(LC_CTYPE, "C");
}

// Text that starts plain and then needs escapes is encoded from the first
// byte that needs one; append_percent_encoded adds to what is there.
TEST(PercentEncode, EscapesFromTheFirstReservedByteOnAndAppends) {
  EXPECT_EQ(percent_encode("abc-1/\xC3\xA9 x~"), "abc-1%2F%C3%A9%20x~");
  EXPECT_EQ(percent_encode("/a"), "%2Fa");
  EXPECT_EQ(percent_encode(""), "");
  std::string path = "/amc/reporting/";
  append_percent_encoded(path, "amc1");
  path += '/';
  append_percent_encoded(path, "a b");
  EXPECT_EQ(path, "/amc/reporting/amc1/a%20b");
}

// Hex digits of either case have their value; every other byte is -1.
TEST(HexDigitValue, IsTheDigitsValueOrMinusOne) {
  for (int value = 0; value < 256; ++value) {
    const char c = static_cast<char>(value);
    const auto at = std::string_view("0123456789abcdef0123456789ABCDEF").find(c);
    const int expected = at == std::string_view::npos ? -1 : static_cast<int>(at % 16);
    EXPECT_EQ(hex_digit_value(c), expected) << value;
  }
  static_assert(hex_digit_value('f') == 15 && hex_digit_value('G') == -1);
}

// Query strings and form bodies: %XX is a byte, '+' a space, a '%' without
// two hex digits after it stays; form_decode reads what form_encode writes.
TEST(FormDecode, DecodesEscapesAndPlusAndKeepsABrokenEscape) {
  EXPECT_EQ(form_decode("a%20b+c%2Fd%c3%A9"), "a b c/d\xC3\xA9");
  EXPECT_EQ(form_decode("100%"), "100%");
  EXPECT_EQ(form_decode("%4"), "%4");
  EXPECT_EQ(form_decode("%zz%41"), "%zzA");
  EXPECT_EQ(form_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(form_decode(""), "");
  const std::string value = "se cret&=/+\xFF~";
  EXPECT_EQ(form_decode(percent_encode(value)), value);
}

}  // namespace
}  // namespace amc
