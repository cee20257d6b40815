// The tables an AMC SQL query reads, found without a SQL parser: a small
// tokenizer (comments, string literals and quoted identifiers skipped or
// kept whole, lines counted) and the identifiers after FROM and JOIN,
// minus the names of the query's own WITH queries. Used by the pre-flight
// check (api/preflight.hpp) to compare them with the instance's data
// sources before any run is started; AMC's own compile (a dry run) remains
// the judge of everything else.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amc::api {

struct table_reference {
  std::string name;  // as written (quotes removed), e.g. "dsp_impressions"
  int line = 1;      // of its first mention, counted from 1
};

// The tables `sql` reads, each once, in order of first mention. A name
// followed by '(' (a table function such as UNNEST) is not a table; FROM
// inside a call such as EXTRACT(DAY FROM x) is not a table FROM.
std::vector<table_reference> tables_read_by(std::string_view sql);

// Levenshtein distance of `a` and `b`, ignoring ASCII case.
std::size_t edit_distance_ignoring_case(std::string_view a, std::string_view b);

// The candidate closest to `name` by edit_distance_ignoring_case (the first
// of equally close ones); nullopt when there are no candidates.
std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace amc::api
