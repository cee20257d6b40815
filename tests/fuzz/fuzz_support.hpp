// What every fuzz target of libamc checks, whatever the input: a parser of
// outside input may refuse it only with amc::error of a code that says the
// input was bad (never errc::internal, which is kept for library bugs), with
// a message that is valid UTF-8 and quotes no secret. Any other exception
// escapes to libFuzzer, which reports it as a finding; so do ASan and UBSan.
#pragma once

#include "common/error.hpp"
#include "common/text.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace amc::fuzz {

// The input as text, and its first byte as a choice among `choices` (what
// part of a parser to drive); the text is what follows that byte.
struct split_input {
  unsigned choice = 0;
  std::string_view text;
};

inline split_input split(const std::uint8_t* data, std::size_t size, unsigned choices) {
  if (size == 0) return {};
  return {static_cast<unsigned>(data[0]) % choices,
          std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

[[noreturn]] inline void finding(std::string_view what, std::string_view message) {
  std::fprintf(stderr, "libamc fuzz finding: %.*s\nmessage: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(message.size()), message.data());
  std::abort();
}

// The checks on a refusal (see the file comment). `secrets`: texts the
// input carried that no message may quote.
inline void check_refusal(const amc::error& problem, const std::vector<std::string_view>& secrets = {}) {
  if (problem.code_value() == errc::internal || problem.code_value() == errc::ok)
    finding("a parser refused input as a library bug (errc::internal) or with code 0", problem.message());
  if (first_invalid_utf8(problem.message())) finding("an error message that is not valid UTF-8", "(not shown)");
  for (const auto secret : secrets)
    if (!secret.empty() && problem.message().find(secret) != std::string::npos)
      finding("an error message quoting a secret", "(not shown)");
}

// Runs `parse`; a refusal is checked, anything else escapes.
template <class Parse>
void refused_or_parsed(Parse&& parse, const std::vector<std::string_view>& secrets = {}) {
  try {
    parse();
  } catch (const amc::error& problem) {
    check_refusal(problem, secrets);
  }
}

}  // namespace amc::fuzz
