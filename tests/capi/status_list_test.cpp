// amc.h's enum amc_status is the one list of statuses: every code it
// declares (read from the header itself, so a new code cannot be missed)
// has its own name from amc_status_name(), codes run 0..N without a gap,
// and the first code after the list is "AMC_E_UNKNOWN". The C++ core's
// amc::errc is held to the same values by capi/capi_core.cpp's
// static_asserts, and the Python adapter's Status enum by
// adapters/airflow/tests/test_binding.py.
#include "amc/amc.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

// (name, code) in the order amc.h declares them.
std::vector<std::pair<std::string, int>> header_statuses() {
  std::ifstream file(AMC_PUBLIC_HEADER);
  std::stringstream text;
  text << file.rdbuf();
  const std::string header = text.str();
  const auto begin = header.find("typedef enum amc_status {");
  const auto end = header.find("} amc_status;", begin);
  if (begin == std::string::npos || end == std::string::npos) return {};
  // Comments may name statuses too: only the enumerators count. (A scan,
  // not std::regex: GCC 12 warns inside <regex> at -O1 with sanitizers.)
  std::string body;
  for (std::size_t at = begin; at < end;) {
    const auto comment = header.find("/*", at);
    if (comment == std::string::npos || comment >= end) {
      body.append(header, at, end - at);
      break;
    }
    body.append(header, at, comment - at);
    const auto closed = header.find("*/", comment + 2);
    at = closed == std::string::npos ? end : closed + 2;
  }
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  auto skip_space = [&](std::size_t at) {
    while (at < body.size() && std::isspace(static_cast<unsigned char>(body[at])) != 0) ++at;
    return at;
  };
  std::vector<std::pair<std::string, int>> statuses;
  for (auto at = body.find("AMC_"); at != std::string::npos; at = body.find("AMC_", at)) {
    if (at > 0 && is_word(body[at - 1])) {
      at += 4;
      continue;
    }
    auto after = at;
    while (after < body.size() && is_word(body[after])) ++after;
    const auto name = body.substr(at, after - at);
    auto value = skip_space(after);
    at = after;
    if (value >= body.size() || body[value] != '=') continue;
    value = skip_space(value + 1);
    auto digits = value;
    while (digits < body.size() && std::isdigit(static_cast<unsigned char>(body[digits])) != 0) ++digits;
    if (digits == value) continue;
    statuses.emplace_back(name, std::stoi(body.substr(value, digits - value)));
    at = digits;
  }
  return statuses;
}

TEST(StatusList, EveryCodeOfAmcHHasItsOwnName) {
  const auto statuses = header_statuses();
  ASSERT_GE(statuses.size(), 20u) << "cannot read enum amc_status from " << AMC_PUBLIC_HEADER;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    const auto& [name, code] = statuses[i];
    EXPECT_EQ(code, static_cast<int>(i)) << name << ": codes are append-only, without gaps";
    EXPECT_STREQ(amc_status_name(static_cast<amc_status>(code)), name.c_str()) << code;
  }
  EXPECT_STREQ(amc_status_name(static_cast<amc_status>(statuses.size())), "AMC_E_UNKNOWN");
  EXPECT_EQ(statuses.front().first, "AMC_OK");
}

}  // namespace
