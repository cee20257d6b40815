#include "sandbox/result_rows.hpp"

#include "common/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

namespace amc::sandbox {

using nlohmann::json;

namespace {

constexpr std::int64_t seconds_per_day = 86400;

std::uint64_t mix(std::uint64_t value) {  // splitmix64 finaliser
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

std::int64_t floor_div(std::int64_t value, std::int64_t divisor) {
  return value / divisor - (value % divisor < 0 ? 1 : 0);
}

// Days since 1970-01-01 of the local date at `utc`.
std::int64_t local_day(const time_zone& zone, std::int64_t utc) {
  return floor_div(utc + zone.utc_offset(utc), seconds_per_day);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_integer_type(std::string_view type) {
  return type == "LONG" || type == "INTEGER" || type == "SHORT" || type == "BYTE";
}
bool is_decimal_type(std::string_view type) { return type == "DOUBLE" || type == "FLOAT" || type == "DECIMAL"; }

// What a column holds, read from its name: the usual AMC metrics get values
// consistent with each other; anything else gets plain seeded values.
enum class meaning { other, impressions, clicks, purchases, spend, sales, ctr, cpc, cpm, roas, conversion_rate };

meaning meaning_of(std::string_view name) {
  const std::string key = lower(name);
  if (key == "impressions") return meaning::impressions;
  if (key == "clicks") return meaning::clicks;
  if (key == "purchases" || key == "conversions" || key == "orders") return meaning::purchases;
  if (key == "spend" || key == "total_cost" || key == "cost") return meaning::spend;
  if (key == "product_sales" || key == "sales" || key == "revenue") return meaning::sales;
  if (key == "click_through_rate" || key == "ctr") return meaning::ctr;
  if (key == "cpc" || key == "cost_per_click") return meaning::cpc;
  if (key == "cpm" || key == "cost_per_mille") return meaning::cpm;
  if (key == "return_on_ad_spend" || key == "roas") return meaning::roas;
  if (key == "conversion_rate") return meaning::conversion_rate;
  return meaning::other;
}

// One row's underlying numbers; every metric column is read from these, so
// the rates agree with the counts and amounts printed beside them.
struct row_values {
  std::int64_t impressions = 0;
  std::int64_t clicks = 0;       // at most 2 % of impressions
  std::int64_t purchases = 0;    // at most 15 % of clicks
  std::int64_t spend_cents = 0;  // a CPM of $1.50 to $15.00
  std::int64_t sales_cents = 0;  // $9.99 to $99.99 per purchase
};

row_values values_of(std::uint64_t hash) {
  row_values row;
  row.impressions = 500 + static_cast<std::int64_t>(hash % 49'501);
  const auto ctr_basis_points = 10 + static_cast<std::int64_t>((hash >> 16) % 191);
  row.clicks = row.impressions * ctr_basis_points / 10'000;
  const auto cpm_cents = 150 + static_cast<std::int64_t>((hash >> 24) % 1'351);
  row.spend_cents = row.impressions * cpm_cents / 1'000;
  row.purchases = row.clicks * static_cast<std::int64_t>((hash >> 32) % 16) / 100;
  row.sales_cents = row.purchases * (999 + static_cast<std::int64_t>((hash >> 40) % 9'001));
  return row;
}

// A ratio, 0 when the denominator is 0 (as CASE WHEN … > 0 … ELSE 0 in
// the SQL).
double ratio(double numerator, double denominator) { return denominator > 0 ? numerator / denominator : 0.0; }

std::string money(std::int64_t cents, std::string_view type) {
  if (is_integer_type(type)) return fmt::format("{}", cents / 100);
  return fmt::format("{}.{:02}", cents / 100, cents % 100);
}

std::string metric_text(meaning kind, const row_values& row, std::string_view type) {
  const double spend = static_cast<double>(row.spend_cents) / 100.0;
  const double sales = static_cast<double>(row.sales_cents) / 100.0;
  double rate = 0;
  switch (kind) {
    case meaning::impressions: return fmt::format("{}", row.impressions);
    case meaning::clicks: return fmt::format("{}", row.clicks);
    case meaning::purchases: return fmt::format("{}", row.purchases);
    case meaning::spend: return money(row.spend_cents, type);
    case meaning::sales: return money(row.sales_cents, type);
    case meaning::ctr: rate = ratio(static_cast<double>(row.clicks), static_cast<double>(row.impressions)); break;
    case meaning::cpc: rate = ratio(spend, static_cast<double>(row.clicks)); break;
    case meaning::cpm: rate = ratio(spend * 1000.0, static_cast<double>(row.impressions)); break;
    case meaning::roas: rate = ratio(sales, spend); break;
    case meaning::conversion_rate: rate = ratio(static_cast<double>(row.purchases), static_cast<double>(row.clicks)); break;
    case meaning::other: break;
  }
  // The shortest text that reads back as the same double.
  return is_integer_type(type) ? fmt::format("{}", std::llround(rate)) : fmt::format("{}", rate);
}

// A text value. Ids repeat per entity (the same campaign every day); names
// sometimes hold the separator or the quote character, and with the
// quoted_newlines marker a line break, so that a client has to read the
// file as CSV rather than split lines and separators.
std::string text_value(const result_column& column, long entity, const result_shape& shape) {
  const std::string key = lower(column.name);
  if (key == "id" || key.ends_with("_id")) return fmt::format("{}_{}", column.name, entity + 1);
  // No spaces of their own: previews that split a printed row on
  // whitespace (the main job's test) still see one value per column.
  std::string name = column.name;
  std::replace(name.begin(), name.end(), '_', '-');
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  std::string out = fmt::format("{}-{}", name, entity + 1);
  if (entity % 3 == 1) out += fmt::format("{}Spring-Sale", shape.dialect.separator);
  if (entity % 5 == 2) out += fmt::format("-{}Prime-Day{}", shape.dialect.quote, shape.dialect.quote);
  if (shape.quoted_newlines && entity % 4 == 3) out += "\nsecond-line";
  return out;
}

}  // namespace

csv_dialect parse_output_format(const json& output_format) {
  csv_dialect dialect;
  if (output_format.is_null()) return dialect;
  if (!output_format.is_object()) {
    throw std::invalid_argument("outputFormat must be an object {separatorCharacter, quoteCharacter, escapeCharacter}.");
  }
  auto read = [&](const char* field, char& target) {
    if (!output_format.contains(field) || output_format.at(field).is_null()) return;
    const json& value = output_format.at(field);
    if (!value.is_string()) throw std::invalid_argument(fmt::format("outputFormat.{} must be a string.", field));
    const auto& text = value.get_ref<const std::string&>();
    if (text.empty()) return;
    if (text.size() != 1 || text[0] == '\n' || text[0] == '\r' || static_cast<unsigned char>(text[0]) >= 0x80) {
      throw std::invalid_argument(
          fmt::format("outputFormat.{} must be one ASCII character other than a line break.", field));
    }
    target = text[0];
  };
  read("separatorCharacter", dialect.separator);
  read("quoteCharacter", dialect.quote);
  dialect.escape = dialect.quote;
  read("escapeCharacter", dialect.escape);
  if (dialect.separator == dialect.quote) {
    throw std::invalid_argument("outputFormat.separatorCharacter and quoteCharacter must differ.");
  }
  if (dialect.escape == dialect.separator) {
    throw std::invalid_argument("outputFormat.escapeCharacter and separatorCharacter must differ.");
  }
  return dialect;
}

void append_csv_field(std::string& out, std::string_view text, const csv_dialect& dialect) {
  const bool needs_quotes = std::any_of(text.begin(), text.end(), [&](char c) {
    return c == dialect.separator || c == dialect.quote || c == dialect.escape || c == '\n' || c == '\r';
  });
  if (!needs_quotes) {
    out += text;
    return;
  }
  out += dialect.quote;
  for (const char c : text) {
    if (c == dialect.quote || c == dialect.escape) out += dialect.escape;
    out += c;
  }
  out += dialect.quote;
}

std::vector<result_column> result_columns(const json& output_columns) {
  std::vector<result_column> out;
  if (output_columns.is_array()) {
    for (const auto& item : output_columns) {
      if (!item.is_object() || !item.contains("name") || !item.at("name").is_string()) continue;
      std::string type = item.contains("dataType") && item.at("dataType").is_string()
                             ? item.at("dataType").get<std::string>()
                             : "STRING";
      out.push_back({item.at("name").get<std::string>(), std::move(type)});
    }
  }
  if (out.empty()) {
    out = {{"campaign_id", "STRING"}, {"event_date", "DATE"}, {"impressions", "LONG"},
           {"clicks", "LONG"},        {"spend", "DOUBLE"}};
  }
  return out;
}

long result_row_count(const result_shape& shape) { return shape.window_end > shape.window_start ? shape.rows : 0; }

std::string result_csv(const result_shape& shape, long first, long last) {
  const long total = result_row_count(shape);
  first = std::clamp(first, 0L, total);
  last = std::clamp(last, first, total);
  std::string body;
  body.reserve(static_cast<std::size_t>(last - first + 1) * 16 * shape.columns.size());
  for (std::size_t i = 0; i < shape.columns.size(); ++i) {
    if (i) body += shape.dialect.separator;
    append_csv_field(body, shape.columns[i].name, shape.dialect);
  }
  body += '\n';
  if (total == 0) return body;

  // Rows are spread evenly over the local days of the window, in date
  // order; within a day, row k is entity k (campaign_id_1, _2, ...).
  const std::int64_t first_day = local_day(shape.zone, shape.window_start);
  const std::int64_t days = local_day(shape.zone, shape.window_end - 1) - first_day + 1;
  std::vector<meaning> meanings;
  for (const auto& column : shape.columns) meanings.push_back(meaning_of(column.name));

  for (long row = first; row < last; ++row) {
    const auto day_index = static_cast<std::int64_t>(row) * days / total;
    const std::int64_t day = first_day + day_index;
    const auto day_first_row = static_cast<long>((day_index * total + days - 1) / days);
    const long entity = row - day_first_row;
    const std::uint64_t row_hash = mix(shape.seed ^ mix(static_cast<std::uint64_t>(row)));
    const row_values values = values_of(row_hash);
    for (std::size_t i = 0; i < shape.columns.size(); ++i) {
      if (i) body += shape.dialect.separator;
      const result_column& column = shape.columns[i];
      const std::string_view type = column.type;
      const std::uint64_t hash = mix(row_hash ^ mix(i + 1));
      if (type == "DATE") {
        body += format_utc(day * seconds_per_day).substr(0, 10);
      } else if (type == "TIMESTAMP") {
        // An instant of the row's local day that lies inside the window,
        // written as wall-clock time in the window's zone.
        const std::int64_t from = std::max(shape.window_start, shape.zone.local_to_utc(day * seconds_per_day));
        const std::int64_t to = std::min(shape.window_end, shape.zone.local_to_utc((day + 1) * seconds_per_day));
        const std::int64_t instant = from + static_cast<std::int64_t>(hash % static_cast<std::uint64_t>(std::max<std::int64_t>(1, to - from)));
        std::string stamp = format_utc(instant + shape.zone.utc_offset(instant));
        stamp.pop_back();  // "Z": AMC writes yyyy-MM-dd'T'HH:mm:ss.SSS
        fmt::format_to(std::back_inserter(body), "{}.{:03}", stamp, hash % 1000);
      } else if ((is_integer_type(type) || is_decimal_type(type)) && meanings[i] != meaning::other) {
        body += metric_text(meanings[i], values, type);
      } else if (is_integer_type(type)) {
        fmt::format_to(std::back_inserter(body), "{}", hash % 100000);
      } else if (is_decimal_type(type)) {
        fmt::format_to(std::back_inserter(body), "{}.{:02}", (hash % 1000000) / 100, hash % 100);
      } else if (type == "BOOLEAN") {
        body += (hash & 1) ? "true" : "false";
      } else {
        append_csv_field(body, text_value(column, entity, shape), shape.dialect);
      }
    }
    body += '\n';
  }
  return body;
}

}  // namespace amc::sandbox
