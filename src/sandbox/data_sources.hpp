// The data sources (tables) every sandbox instance has, as AMC's
// DataSource objects (shared/specs, listDataSources / getDataSource), and
// the compile a dry run makes of an execution's SQL against them: the
// sandbox's stand-in for AMC's SQL compiler, written from the spec and
// amc-api.md, not from the client's code.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amc::sandbox {

// AMC's spec caps a DataSource's "columns" at 500 per reply.
inline constexpr std::size_t max_columns_per_reply = 500;

// The fixture catalog, in AMC's order: DataSource objects {"dataSourceId",
// "description", "owner", "provider", "tags", "outputChannels", "columns"}.
// One table, "sandbox_wide_events", has more than 500 columns, so that its
// getDataSource needs more than one reply.
const std::vector<nlohmann::json>& data_source_catalog();

// The catalog entry with this id (exact, as AMC's path ids are), or null.
const nlohmann::json* find_data_source(std::string_view data_source_id);

// What AMC's compiler would say about `sql` in a dry run: nullopt when it
// compiles; else the Error body's details, naming the line and column
// ("Query compilation failed: line 3:6: Table 'dsp_impresions' does not
// exist."). Checked: the statement starts with SELECT or WITH, string
// literals and parentheses are closed, and every table after FROM or JOIN
// (other than the query's own WITH names) is in the catalog.
std::optional<std::string> dry_run_compile_error(std::string_view sql);

}  // namespace amc::sandbox
