// amc.h's enum amc_status is the one list of statuses: every code it
// declares (read from the header itself, so a new code cannot be missed)
// has its own name from amc_status_name(), codes run 0..N without a gap,
// and the first code after the list is "AMC_E_UNKNOWN". The C++ core's
// amc::errc is held to the same values by capi/capi_core.cpp's
// static_asserts, and the Python adapter's Status enum by
// adapters/airflow/tests/test_binding.py.
#include "amc/amc.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
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
  // Comments may name statuses too: only the enumerators count.
  const std::string body =
      std::regex_replace(header.substr(begin, end - begin), std::regex(R"(/\*[^*]*\*+([^/*][^*]*\*+)*/)"), "");
  std::vector<std::pair<std::string, int>> statuses;
  const std::regex enumerator(R"((AMC_\w+)\s*=\s*(\d+))");
  for (std::sregex_iterator it(body.begin(), body.end(), enumerator), last; it != last; ++it)
    statuses.emplace_back((*it)[1].str(), std::stoi((*it)[2].str()));
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
