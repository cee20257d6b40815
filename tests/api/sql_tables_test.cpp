// The tables an AMC query reads (api/sql_tables.hpp): FROM and JOIN, the
// query's own WITH names left out, comments and string literals skipped,
// lines counted; and the closest data source name by edit distance.
#include "api/sql_tables.hpp"

#include <gtest/gtest.h>

namespace {

using amc::api::closest_name;
using amc::api::edit_distance_ignoring_case;
using amc::api::tables_read_by;

std::vector<std::string> names(std::string_view sql) {
  std::vector<std::string> out;
  for (const auto& table : tables_read_by(sql)) out.push_back(table.name);
  return out;
}

TEST(SqlTables, FromAndJoinWithoutWithNames) {
  EXPECT_EQ(names("SELECT a FROM dsp_impressions"), std::vector<std::string>{"dsp_impressions"});
  EXPECT_EQ(names("with x as (select 1 from conversions), y (c) AS (SELECT c FROM x)\n"
                  "SELECT * FROM x JOIN y ON 1=1 LEFT JOIN dsp_clicks c ON c.id = x.id"),
            (std::vector<std::string>{"conversions", "dsp_clicks"}));
  EXPECT_EQ(names("SELECT * FROM a, b AS bb, c cc WHERE a.x = b.x"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(names("SELECT * FROM (SELECT x FROM inner_t) s JOIN (SELECT 1) t ON true"),
            std::vector<std::string>{"inner_t"});
  EXPECT_EQ(names("SELECT * FROM dsp_impressions UNION ALL SELECT * FROM dsp_impressions"),
            std::vector<std::string>{"dsp_impressions"})
      << "each table once";
  EXPECT_TRUE(names("SELECT 1").empty());
}

TEST(SqlTables, CommentsLiteralsAndCallsAreNotTables) {
  const auto tables = tables_read_by(
      "-- FROM in_a_comment\n"
      "/* JOIN in_a_block\n comment */ SELECT 'FROM in_a_string', 'it''s FROM x',\n"
      "  EXTRACT(DAY FROM event_dt) AS day, \"quoted col\"\n"
      "FROM \"dsp_views\" v CROSS JOIN UNNEST(v.segments) AS s");
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].name, "dsp_views");
  EXPECT_EQ(tables[0].line, 5);
}

TEST(SqlTables, LinesOfFirstMention) {
  const auto tables = tables_read_by("SELECT 1\nFROM a\n\nJOIN b ON 1=1\nJOIN a ON 1=1");
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[0].line, 2);
  EXPECT_EQ(tables[1].line, 4);
}

TEST(SqlTables, ClosestNameByEditDistance) {
  EXPECT_EQ(edit_distance_ignoring_case("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance_ignoring_case("DSP_Clicks", "dsp_clicks"), 0u);
  const std::vector<std::string> known = {"dsp_clicks", "dsp_impressions", "dsp_views"};
  EXPECT_EQ(closest_name("dsp_impresions", known).value_or(""), "dsp_impressions");
  EXPECT_EQ(closest_name("dsp_view", known).value_or(""), "dsp_views");
  EXPECT_FALSE(closest_name("x", {}).has_value());
}

}  // namespace
