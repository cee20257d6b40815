// Result files: rows consistent with what they claim to be (issue 12 item
// 13: dates inside the window in its zone, clicks within impressions, rates
// from their parts, the same files for the same seed) and written in the
// workflow's outputFormat with values that need quoting (item 12).
#include "sandbox/result_rows.hpp"

#include "common/time.hpp"
#include "sandbox_fixture.hpp"

#include <cstdlib>
#include <set>

namespace amc::sandbox::testing {
namespace {

using table = std::vector<std::vector<std::string>>;

// A test-only CSV reader that honours the dialect: the rows of `text`,
// header included; a quoted field may hold separators and line breaks.
table read_csv(std::string_view text, const csv_dialect& dialect) {
  table rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == dialect.escape && dialect.escape != dialect.quote && i + 1 < text.size()) {
        field += text[++i];
      } else if (c == dialect.quote) {
        if (dialect.escape == dialect.quote && i + 1 < text.size() && text[i + 1] == dialect.quote) {
          field += text[++i];
        } else {
          in_quotes = false;
        }
      } else {
        field += c;
      }
    } else if (c == dialect.quote) {
      in_quotes = true;
    } else if (c == dialect.separator) {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  EXPECT_FALSE(in_quotes) << "the file ends inside a quoted field";
  EXPECT_TRUE(field.empty() && row.empty()) << "the file does not end with a line break";
  return rows;
}

// The main job's output columns (adapters/c/examples/daily_campaign_summary.json).
json daily_campaign_summary_columns() {
  json columns = json::array();
  for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
           {"event_day", "DATE"},           {"campaign_id", "STRING"}, {"campaign", "STRING"},
           {"impressions", "LONG"},         {"clicks", "LONG"},        {"spend", "DECIMAL"},
           {"purchases", "LONG"},           {"product_sales", "DECIMAL"},
           {"click_through_rate", "DOUBLE"}, {"return_on_ad_spend", "DOUBLE"}, {"seen_at", "TIMESTAMP"}}) {
    columns.push_back({{"name", name}, {"dataType", type}, {"columnType", "METRIC"}});
  }
  return columns;
}

double number(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  EXPECT_EQ(end, text.c_str() + text.size()) << "not a number: '" << text << "'";
  return value;
}

// The local date (yyyy-MM-dd) at `utc` in `zone`.
std::string local_date(const time_zone& zone, std::int64_t utc) {
  return format_utc(utc + zone.utc_offset(utc)).substr(0, 10);
}

// Checks every invariant of the main job's rows; the rows of `rows`
// without their header.
void expect_consistent(const table& rows, const result_shape& shape) {
  ASSERT_FALSE(rows.empty());
  const auto& header = rows.front();
  auto column = [&](const std::string& name) {
    const auto found = std::find(header.begin(), header.end(), name);
    EXPECT_NE(found, header.end()) << name;
    return static_cast<std::size_t>(found - header.begin());
  };
  const std::string first_day = local_date(shape.zone, shape.window_start);
  const std::string last_day = local_date(shape.zone, shape.window_end - 1);
  std::set<std::string> days;
  std::string previous_day;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    ASSERT_EQ(row.size(), header.size()) << "row " << i;
    const std::string& day = row[column("event_day")];
    EXPECT_GE(day, first_day) << "row " << i;
    EXPECT_LE(day, last_day) << "row " << i;
    EXPECT_GE(day, previous_day) << "rows are in date order";
    previous_day = day;
    days.insert(day);
    // A timestamp of the row's day, in the window's zone.
    EXPECT_EQ(row[column("seen_at")].substr(0, 10), day);
    EXPECT_EQ(row[column("seen_at")].size(), 23u) << row[column("seen_at")];
    const double impressions = number(row[column("impressions")]);
    const double clicks = number(row[column("clicks")]);
    const double purchases = number(row[column("purchases")]);
    const double spend = number(row[column("spend")]);
    const double sales = number(row[column("product_sales")]);
    EXPECT_GT(impressions, 0);
    EXPECT_LE(clicks, impressions);
    EXPECT_LE(purchases, clicks);
    EXPECT_GT(spend, 0);
    EXPECT_DOUBLE_EQ(number(row[column("click_through_rate")]), clicks / impressions);
    EXPECT_LE(number(row[column("click_through_rate")]), 1.0);
    EXPECT_DOUBLE_EQ(number(row[column("return_on_ad_spend")]), sales / spend);
    EXPECT_TRUE(row[column("campaign_id")].starts_with("campaign_id_")) << row[column("campaign_id")];
  }
  // Rows spread over every day of the window while there are enough of them.
  const auto window_days = static_cast<std::size_t>(
      (*parse_utc(last_day + "T00:00:00Z") - *parse_utc(first_day + "T00:00:00Z")) / 86400 + 1);
  EXPECT_EQ(days.size(), std::min(window_days, rows.size() - 1));
}

result_shape main_job_shape(const std::string& zone_name, const std::string& start, const std::string& end,
                            std::uint64_t seed, long rows) {
  result_shape shape;
  shape.columns = result_columns(daily_campaign_summary_columns());
  shape.zone = *time_zone::locate(zone_name);
  shape.window_start = *parse_utc(start);
  shape.window_end = *parse_utc(end);
  shape.rows = rows;
  shape.seed = seed;
  return shape;
}

TEST(SandboxResultRows, ConsistentForEveryWindowZoneAndSeed) {
  struct window {
    std::string zone, start, end;
  };
  // MOST_RECENT_WEEK on 2026-11-29 in three zones, a previous month across
  // a DST change, a three-hour explicit window, a two-year ALL.
  const std::vector<window> windows = {
      {"UTC", "2026-11-22T00:00:00Z", "2026-11-29T00:00:00Z"},
      {"America/Los_Angeles", "2026-11-22T08:00:00Z", "2026-11-29T08:00:00Z"},
      {"Asia/Kolkata", "2026-11-21T18:30:00Z", "2026-11-28T18:30:00Z"},
      {"Europe/Berlin", "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z"},
      {"America/New_York", "2026-03-08T05:00:00Z", "2026-03-08T08:00:00Z"},
      {"UTC", "2024-10-01T00:00:00Z", "2026-11-29T00:00:00Z"},
  };
  for (const auto& [zone, start, end] : windows) {
    for (std::uint64_t seed : {1ULL, 7ULL, 0xdeadbeefULL}) {
      for (long rows : {1L, 5L, 180L}) {
        SCOPED_TRACE(zone + " " + start + " seed " + std::to_string(seed) + " rows " + std::to_string(rows));
        const result_shape shape = main_job_shape(zone, start, end, seed, rows);
        const std::string text = result_csv(shape, 0, rows);
        const table parsed = read_csv(text, shape.dialect);
        EXPECT_EQ(parsed.size(), static_cast<std::size_t>(rows) + 1);
        expect_consistent(parsed, shape);
        EXPECT_EQ(result_csv(shape, 0, rows), text) << "the same seed gives the same file";
        // Parts are slices of the same rows.
        if (rows > 1) {
          const std::string second_half = result_csv(shape, rows / 2, rows);
          EXPECT_TRUE(text.ends_with(second_half.substr(second_half.find('\n') + 1)));
        }
      }
    }
  }
  EXPECT_NE(result_csv(main_job_shape("UTC", "2026-11-22T00:00:00Z", "2026-11-29T00:00:00Z", 1, 20), 0, 20),
            result_csv(main_job_shape("UTC", "2026-11-22T00:00:00Z", "2026-11-29T00:00:00Z", 2, 20), 0, 20));
}

TEST(SandboxResultRows, EmptyWindowHasNoRows) {
  const result_shape shape = main_job_shape("UTC", "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z", 1, 50);
  EXPECT_EQ(result_row_count(shape), 0);
  EXPECT_EQ(read_csv(result_csv(shape, 0, 50), shape.dialect).size(), 1u);  // the header only
}

TEST(SandboxResultRows, OutputFormatIsReadAndChecked) {
  const csv_dialect defaults = parse_output_format(json());
  EXPECT_EQ(defaults.separator, ',');
  EXPECT_EQ(defaults.quote, '"');
  EXPECT_EQ(defaults.escape, '"');
  const csv_dialect custom =
      parse_output_format({{"separatorCharacter", ";"}, {"quoteCharacter", "'"}, {"escapeCharacter", "\\"}});
  EXPECT_EQ(custom.separator, ';');
  EXPECT_EQ(custom.quote, '\'');
  EXPECT_EQ(custom.escape, '\\');
  EXPECT_EQ(parse_output_format({{"quoteCharacter", "'"}}).escape, '\'');  // escape follows the quote
  EXPECT_EQ(parse_output_format({{"separatorCharacter", ""}}).separator, ',');
  EXPECT_THROW(parse_output_format({{"separatorCharacter", "||"}}), std::invalid_argument);
  EXPECT_THROW(parse_output_format({{"separatorCharacter", "\n"}}), std::invalid_argument);
  EXPECT_THROW(parse_output_format({{"separatorCharacter", "\""}}), std::invalid_argument);
  EXPECT_THROW(parse_output_format({{"quoteCharacter", 1}}), std::invalid_argument);
  EXPECT_THROW(parse_output_format(json::array()), std::invalid_argument);

  auto field = [](std::string_view text, const csv_dialect& dialect) {
    std::string out;
    append_csv_field(out, text, dialect);
    return out;
  };
  EXPECT_EQ(field("plain", defaults), "plain");
  EXPECT_EQ(field("a,b", defaults), "\"a,b\"");
  EXPECT_EQ(field("say \"hi\"", defaults), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(field("two\nlines", defaults), "\"two\nlines\"");
  EXPECT_EQ(field("a,b", custom), "a,b");
  EXPECT_EQ(field("a;b", custom), "'a;b'");
  EXPECT_EQ(field("it's \\ here", custom), "'it\\'s \\\\ here'");
}

// Over HTTP: the main job's question (MOST_RECENT_WEEK asked on 2026-11-29)
// gets rows of 22-28 November, consistent, in the saved workflow's format.
TEST(SandboxResultRows, MainJobRowsOverHttp) {
  running_sandbox sandbox;
  ASSERT_EQ(sandbox.admin(verb::post, "clock/set", json{{"time", "2026-11-29T12:00:00Z"}, {"frozen", true}}).status, 200);
  // A token issued at the sandbox's new time.
  const std::string token = sandbox.fresh_access_token();
  auto call = [&](verb method, const std::string& target, const json& body = json()) {
    return sandbox.client().request(method, target, body.is_null() ? std::string() : body.dump(),
                                    sandbox.amc_headers(token));
  };
  ASSERT_EQ(call(verb::post, sandbox.reporting("workflows"),
                        json{{"workflowId", "wf_daily_campaign_summary"},
                             {"sqlQuery", "SELECT 1 -- sandbox: pending=0 duration=1s publishing=0 parts=3 rows=180"},
                             {"outputColumns", daily_campaign_summary_columns()}})
                .status,
            200);
  auto created = call(verb::post, sandbox.reporting("workflowExecutions"),
                             json{{"workflowId", "wf_daily_campaign_summary"},
                                  {"timeWindowType", "MOST_RECENT_WEEK"},
                                  {"timeWindowTimeZone", "America/Los_Angeles"}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = created.json()["workflowExecutionId"];
  sandbox.advance_clock(5);
  auto urls = call(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls")).json();
  ASSERT_EQ(urls["downloadUrls"].size(), 3u) << urls.dump();
  table all;
  for (const auto& url : urls["downloadUrls"]) {
    auto file = sandbox.client().request(verb::get,
                                         url.get<std::string>().substr(sandbox.server().base_url().size()));
    ASSERT_EQ(file.status, 200);
    table part = read_csv(file.body, csv_dialect{});
    if (all.empty()) all.push_back(part.front());
    all.insert(all.end(), part.begin() + 1, part.end());
  }
  ASSERT_EQ(all.size(), 181u);
  result_shape shape = main_job_shape("America/Los_Angeles", "2026-11-22T08:00:00Z", "2026-11-29T08:00:00Z", 0, 180);
  expect_consistent(all, shape);
  EXPECT_EQ(all[1][0], "2026-11-22");
  EXPECT_EQ(all[180][0], "2026-11-28");
}

// Item 12: a saved workflow's outputFormat (';', '\'', '\\') shapes the
// files; some names hold the separator and the quote, and with the
// quoted_newlines marker a line break, so only a real CSV reader counts the
// rows right. An ad-hoc workflow's outputFormat counts the same way.
TEST(SandboxResultRows, FilesFollowTheWorkflowsOutputFormat) {
  running_sandbox sandbox;
  const json format = {{"separatorCharacter", ";"}, {"quoteCharacter", "'"}, {"escapeCharacter", "\\"}};
  const json columns = json::array({{{"name", "campaign"}, {"dataType", "STRING"}},
                                    {{"name", "event_date"}, {"dataType", "DATE"}},
                                    {{"name", "impressions"}, {"dataType", "LONG"}}});
  ASSERT_EQ(sandbox.amc(verb::post, sandbox.reporting("workflows"),
                        json{{"workflowId", "wf_semicolons"},
                             {"sqlQuery", "SELECT 1 -- sandbox: pending=0 duration=1s publishing=0 rows=40 quoted_newlines"},
                             {"outputColumns", columns},
                             {"outputFormat", format}})
                .status,
            200);
  auto download = [&](const std::string& id) {
    auto urls = sandbox.amc(verb::get, sandbox.reporting("workflowExecutions/" + id + "/downloadUrls")).json();
    return sandbox.client()
        .request(verb::get, urls["downloadUrls"][0].get<std::string>().substr(sandbox.server().base_url().size()))
        .body;
  };
  auto created = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"), json{{"workflowId", "wf_semicolons"}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string saved_run = created.json()["workflowExecutionId"];
  json adhoc_workflow = {{"sqlQuery", "SELECT 2 -- sandbox: pending=0 duration=1s publishing=0 rows=40"},
                         {"outputColumns", columns},
                         {"outputFormat", {{"separatorCharacter", "\t"}}}};
  auto adhoc = sandbox.amc(verb::post, sandbox.reporting("workflowExecutions"), json{{"workflow", adhoc_workflow}});
  ASSERT_EQ(adhoc.status, 200) << adhoc.body;
  const std::string adhoc_run = adhoc.json()["workflowExecutionId"];
  sandbox.advance_clock(5);

  const std::string saved_file = download(saved_run);
  EXPECT_TRUE(saved_file.starts_with("campaign;event_date;impressions\n")) << saved_file.substr(0, 80);
  const table saved_rows = read_csv(saved_file, parse_output_format(format));
  ASSERT_EQ(saved_rows.size(), 41u);
  std::size_t with_separator = 0, with_quote = 0, with_newline = 0;
  for (std::size_t i = 1; i < saved_rows.size(); ++i) {
    ASSERT_EQ(saved_rows[i].size(), 3u) << i;
    with_separator += saved_rows[i][0].find(';') != std::string::npos;
    with_quote += saved_rows[i][0].find('\'') != std::string::npos;
    with_newline += saved_rows[i][0].find('\n') != std::string::npos;
  }
  EXPECT_GT(with_separator, 0u);
  EXPECT_GT(with_quote, 0u);
  EXPECT_GT(with_newline, 0u);
  EXPECT_GT(static_cast<std::size_t>(std::count(saved_file.begin(), saved_file.end(), '\n')), saved_rows.size());

  const std::string adhoc_file = download(adhoc_run);
  EXPECT_TRUE(adhoc_file.starts_with("campaign\tevent_date\timpressions\n")) << adhoc_file.substr(0, 80);
  const table adhoc_rows = read_csv(adhoc_file, parse_output_format({{"separatorCharacter", "\t"}}));
  ASSERT_EQ(adhoc_rows.size(), 41u);
  // Without the marker no value holds a line break: one line per row.
  EXPECT_EQ(static_cast<std::size_t>(std::count(adhoc_file.begin(), adhoc_file.end(), '\n')), 41u);

  auto refused = sandbox.amc(verb::post, sandbox.reporting("workflows"),
                             json{{"workflowId", "wf_bad_format"},
                                  {"sqlQuery", "SELECT 1"},
                                  {"outputFormat", {{"separatorCharacter", ";;"}}}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.json().value("details", "").find("outputFormat.separatorCharacter"), std::string::npos)
      << refused.body;
  auto refused_adhoc = sandbox.amc(
      verb::post, sandbox.reporting("workflowExecutions"),
      json{{"workflow", {{"sqlQuery", "SELECT 1"}, {"outputFormat", {{"quoteCharacter", ","}}}}}});
  EXPECT_EQ(refused_adhoc.status, 400) << refused_adhoc.body;
}

}  // namespace
}  // namespace amc::sandbox::testing
