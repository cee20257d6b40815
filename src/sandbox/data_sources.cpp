// The sandbox's data-source fixtures and its dry-run compile.
#include "sandbox/data_sources.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

namespace amc::sandbox {

using nlohmann::json;

namespace {

struct column_fixture {
  const char* name;
  const char* type;  // DIMENSION or METRIC
  const char* description;
};

json data_source(const char* id, const char* description, const char* provider,
                 std::initializer_list<column_fixture> columns, const char* tag = nullptr) {
  json list = json::array();
  for (const auto& column : columns)
    list.push_back({{"name", column.name}, {"columnType", column.type}, {"description", column.description}});
  json tags = json::array();
  if (tag != nullptr)
    tags.push_back({{"type", tag}, {"title", tag}, {"description", "Sandbox fixture tag."}, {"subtext", "Amazon DSP"}});
  return {{"dataSourceId", id},
          {"description", description},
          {"owner", std::string_view(provider) == "AMAZON" ? "AMAZON" : "CUSTOMER"},
          {"provider", provider},
          {"tags", std::move(tags)},
          {"outputChannels", json::array({{{"channel", {{"type", "DOWNLOAD"}}}, {"outputAvailable", true}}})},
          {"columns", std::move(list)}};
}

std::vector<json> make_catalog() {
  std::vector<json> catalog;
  catalog.push_back(data_source("dsp_impressions", "Amazon DSP impressions.", "AMAZON",
                                {{"impression_dt", "DIMENSION", "Impression time (UTC)."},
                                 {"advertiser", "DIMENSION", "Advertiser name."},
                                 {"campaign", "DIMENSION", "Campaign name."},
                                 {"campaign_id", "DIMENSION", "Campaign id."},
                                 {"device_type", "DIMENSION", "Device type."},
                                 {"user_id", "DIMENSION", "Pseudonymous user id."},
                                 {"impressions", "METRIC", "Impression count."},
                                 {"total_cost", "METRIC", "Cost in millicents."}}));
  catalog.push_back(data_source("dsp_clicks", "Amazon DSP clicks.", "AMAZON",
                                {{"click_dt", "DIMENSION", "Click time (UTC)."},
                                 {"campaign", "DIMENSION", "Campaign name."},
                                 {"campaign_id", "DIMENSION", "Campaign id."},
                                 {"user_id", "DIMENSION", "Pseudonymous user id."},
                                 {"clicks", "METRIC", "Click count."}}));
  catalog.push_back(data_source("dsp_views", "Amazon DSP viewable impressions.", "AMAZON",
                                {{"view_dt", "DIMENSION", "View time (UTC)."},
                                 {"campaign_id", "DIMENSION", "Campaign id."},
                                 {"user_id", "DIMENSION", "Pseudonymous user id."},
                                 {"viewable_impressions", "METRIC", "Viewable impression count."}}));
  catalog.push_back(data_source("sponsored_ads_traffic", "Sponsored ads impressions and clicks.", "AMAZON",
                                {{"event_dt", "DIMENSION", "Event time (UTC)."},
                                 {"campaign", "DIMENSION", "Campaign name."},
                                 {"ad_product_type", "DIMENSION", "Sponsored Products, Brands or Display."},
                                 {"user_id", "DIMENSION", "Pseudonymous user id."},
                                 {"impressions", "METRIC", "Impression count."},
                                 {"clicks", "METRIC", "Click count."},
                                 {"spend", "METRIC", "Spend in microcents."}}));
  catalog.push_back(data_source("amazon_attributed_events_by_conversion_time",
                                "Conversions attributed to ads, by conversion time.", "AMAZON",
                                {{"conversion_event_dt", "DIMENSION", "Conversion time (UTC)."},
                                 {"campaign", "DIMENSION", "Campaign name."},
                                 {"tracked_asin", "DIMENSION", "ASIN of the conversion."},
                                 {"user_id", "DIMENSION", "Pseudonymous user id."},
                                 {"purchases", "METRIC", "Purchase count."},
                                 {"product_sales", "METRIC", "Sales amount."}}));
  catalog.push_back(data_source("amazon_attributed_events_by_traffic_time",
                                "Conversions attributed to ads, by traffic time.", "AMAZON",
                                {{"traffic_event_dt", "DIMENSION", "Traffic time (UTC)."},
                                 {"campaign", "DIMENSION", "Campaign name."},
                                 {"user_id", "DIMENSION", "Pseudonymous user id."},
                                 {"purchases", "METRIC", "Purchase count."}}));
  catalog.push_back(data_source("conversions", "Conversion events (pixels and Amazon purchases).", "AMAZON",
                                {{"event_dt", "DIMENSION", "Event time (UTC)."},
                                 {"event_type", "DIMENSION", "Conversion type."},
                                 {"tracked_asin", "DIMENSION", "ASIN."},
                                 {"user_id", "DIMENSION", "Pseudonymous user id."},
                                 {"conversions", "METRIC", "Conversion count."}}));
  catalog.push_back(data_source("dsp_impressions_by_user_segments",
                                "Amazon DSP impressions with the audience segments of their users.", "AMAZON",
                                {{"impression_dt", "DIMENSION", "Impression time (UTC)."},
                                 {"segment_name", "DIMENSION", "Audience segment."},
                                 {"user_id", "DIMENSION", "Pseudonymous user id."},
                                 {"impressions", "METRIC", "Impression count."}},
                                "DEPRECATED"));
  catalog.push_back(data_source("customer_uploaded_audience", "Rows uploaded through advertiser data upload.",
                                "ADVERTISER_DATA_UPLOAD",
                                {{"external_user_id", "DIMENSION", "The advertiser's user id."},
                                 {"segment", "DIMENSION", "The advertiser's segment."}}));
  // More columns than one reply holds (500), so that getDataSource pages.
  json wide = data_source("sandbox_wide_events",
                          "Sandbox only: a table with 620 columns, more than AMC's 500 per reply.", "AMAZON",
                          {{"event_dt", "DIMENSION", "Event time (UTC)."}, {"user_id", "DIMENSION", "User id."}});
  for (int i = 1; i <= 618; ++i)
    wide["columns"].push_back({{"name", fmt::format("metric_{:03d}", i)},
                               {"columnType", "METRIC"},
                               {"description", fmt::format("Sandbox metric {}.", i)}});
  catalog.push_back(std::move(wide));
  return catalog;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// A word of the SQL with where it starts (1-based line and column).
struct sql_word {
  std::string text;  // as written, quotes removed
  bool symbol = false;
  int line = 1;
  int column = 1;
};

std::string compile_failure(int line, int column, std::string_view what) {
  return fmt::format("Query compilation failed: line {}:{}: {}", line, column, what);
}

}  // namespace

const std::vector<json>& data_source_catalog() {
  static const std::vector<json> catalog = make_catalog();
  return catalog;
}

const json* find_data_source(std::string_view data_source_id) {
  for (const auto& source : data_source_catalog())
    if (source["dataSourceId"].get_ref<const std::string&>() == data_source_id) return &source;
  return nullptr;
}

std::optional<std::string> dry_run_compile_error(std::string_view sql) {
  // Split into words and one-character symbols, dropping comments and
  // string literals (an unclosed one is an error).
  std::vector<sql_word> words;
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t at = 0; at < sql.size();) {
    const char c = sql[at];
    const int column = static_cast<int>(at - line_start) + 1;
    if (c == '\n') {
      ++line;
      line_start = ++at;
    } else if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++at;
    } else if (sql.substr(at, 2) == "--") {
      while (at < sql.size() && sql[at] != '\n') ++at;
    } else if (sql.substr(at, 2) == "/*") {
      const auto end = sql.find("*/", at + 2);
      if (end == std::string_view::npos) return compile_failure(line, column, "unterminated comment.");
      for (; at < end + 2; ++at)
        if (sql[at] == '\n') {
          ++line;
          line_start = at + 1;
        }
    } else if (c == '\'' || c == '"' || c == '`') {
      std::size_t end = at + 1;
      while (end < sql.size() && !(sql[end] == c && !(c == '\'' && end + 1 < sql.size() && sql[end + 1] == '\'')))
        end += (c == '\'' && sql[end] == '\'' ? 2 : 1);
      if (end >= sql.size()) return compile_failure(line, column, "unterminated quoted text.");
      if (c != '\'') words.push_back({std::string(sql.substr(at + 1, end - at - 1)), false, line, column});
      for (std::size_t i = at; i < end; ++i)
        if (sql[i] == '\n') {
          ++line;
          line_start = i + 1;
        }
      at = end + 1;
    } else if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_') {
      std::size_t end = at;
      while (end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[end])) != 0 || sql[end] == '_' ||
                                  sql[end] == '.' || sql[end] == '$'))
        ++end;
      words.push_back({std::string(sql.substr(at, end - at)), false, line, column});
      at = end;
    } else {
      words.push_back({std::string(1, c), true, line, column});
      ++at;
    }
  }
  if (words.empty()) return compile_failure(1, 1, "the query is empty.");
  if (const auto first = upper(words.front().text); words.front().symbol || (first != "SELECT" && first != "WITH"))
    return compile_failure(words.front().line, words.front().column,
                           fmt::format("mismatched input '{}'. Expecting: 'SELECT', 'WITH'.", words.front().text));
  // Parentheses, and which depths are inside a SELECT.
  std::vector<const sql_word*> open;
  for (const auto& word : words) {
    if (word.symbol && word.text == "(") open.push_back(&word);
    if (word.symbol && word.text == ")") {
      if (open.empty()) return compile_failure(word.line, word.column, "extraneous input ')'.");
      open.pop_back();
    }
  }
  if (!open.empty()) return compile_failure(open.back()->line, open.back()->column, "unclosed '('.");
  // The query's own WITH names: NAME AS ( after WITH or a comma.
  std::set<std::string> with_names;
  for (std::size_t i = 1; i + 2 < words.size(); ++i) {
    const auto before = upper(words[i - 1].text);
    if ((before == "WITH" || before == ",") && upper(words[i + 1].text) == "AS" && words[i + 2].text == "(")
      with_names.insert(upper(words[i].text));
  }
  std::vector<bool> in_select{true};
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const auto keyword = upper(words[i].text);
    if (words[i].symbol && keyword == "(") in_select.push_back(false);
    if (words[i].symbol && keyword == ")") in_select.pop_back();
    if (keyword == "SELECT") in_select.back() = true;
    const bool from = keyword == "FROM" && in_select.back();
    if (!(from || keyword == "JOIN")) continue;
    const auto& table = words[i + 1];
    if (table.symbol) continue;  // a subquery
    if (i + 2 < words.size() && words[i + 2].text == "(") continue;  // a table function
    if (with_names.count(upper(table.text)) > 0 || find_data_source(table.text) != nullptr) continue;
    // AMC's table names are lower case; a name in another case is found too.
    std::string lower = table.text;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (find_data_source(lower) != nullptr) continue;
    return compile_failure(table.line, table.column, fmt::format("Table '{}' does not exist.", table.text));
  }
  return std::nullopt;
}

}  // namespace amc::sandbox
