#include "api/sql_tables.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <numeric>
#include <set>

namespace amc::api {
namespace {

enum class token_kind { word, quoted, symbol };

struct token {
  token_kind kind = token_kind::symbol;
  std::string text;   // a word as written; a quoted identifier without quotes; one symbol character
  std::string upper;  // words only: upper case, for keyword tests
  int line = 1;
};

bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool is_word_part(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$'; }

std::string upper_case(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Comments and string literals disappear (their line breaks still count);
// "quoted" and `quoted` identifiers become one token; a dotted name
// (schema.table) stays one word.
std::vector<token> tokenize(std::string_view sql) {
  std::vector<token> tokens;
  int line = 1;
  std::size_t at = 0;
  auto count_lines = [&](std::size_t from, std::size_t to) {
    line += static_cast<int>(std::count(sql.begin() + static_cast<std::ptrdiff_t>(from),
                                        sql.begin() + static_cast<std::ptrdiff_t>(std::min(to, sql.size())), '\n'));
  };
  while (at < sql.size()) {
    const char c = sql[at];
    if (c == '\n') {
      ++line;
      ++at;
    } else if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++at;
    } else if (c == '-' && at + 1 < sql.size() && sql[at + 1] == '-') {
      at = sql.find('\n', at);
      if (at == std::string_view::npos) at = sql.size();
    } else if (c == '/' && at + 1 < sql.size() && sql[at + 1] == '*') {
      auto end = sql.find("*/", at + 2);
      end = end == std::string_view::npos ? sql.size() : end + 2;
      count_lines(at, end);
      at = end;
    } else if (c == '\'') {
      // A string literal; '' inside it is a quote.
      std::size_t end = at + 1;
      while (end < sql.size()) {
        if (sql[end] == '\'' && end + 1 < sql.size() && sql[end + 1] == '\'') end += 2;
        else if (sql[end] == '\'') break;
        else ++end;
      }
      count_lines(at, end);
      at = std::min(end + 1, sql.size());
    } else if (c == '"' || c == '`') {
      const auto end = sql.find(c, at + 1);
      const auto stop = end == std::string_view::npos ? sql.size() : end;
      token quoted{token_kind::quoted, std::string(sql.substr(at + 1, stop - at - 1)), {}, line};
      count_lines(at, stop);
      // A quoted part of a dotted name joins the word before it.
      if (!tokens.empty() && tokens.back().kind != token_kind::symbol && !tokens.back().text.empty() &&
          tokens.back().text.back() == '.') {
        tokens.back().text += quoted.text;
      } else {
        tokens.push_back(std::move(quoted));
      }
      at = std::min(stop + 1, sql.size());
    } else if (is_word_start(c)) {
      std::size_t end = at;
      while (end < sql.size() && (is_word_part(sql[end]) || (sql[end] == '.' && end + 1 < sql.size() &&
                                                              (is_word_start(sql[end + 1]) || sql[end + 1] == '"' ||
                                                               sql[end + 1] == '`'))))
        ++end;
      const auto text = sql.substr(at, end - at);
      tokens.push_back({token_kind::word, std::string(text), upper_case(text), line});
      at = end;
    } else {
      tokens.push_back({token_kind::symbol, std::string(1, c), {}, line});
      ++at;
    }
  }
  return tokens;
}

bool is_symbol(const token& t, char c) { return t.kind == token_kind::symbol && t.text.size() == 1 && t.text[0] == c; }
bool is_word(const token& t, std::string_view upper) { return t.kind == token_kind::word && t.upper == upper; }

// Words that end a table reference (they are never its alias).
bool is_clause_word(const token& t) {
  static const std::set<std::string, std::less<>> words = {
      "WHERE", "GROUP",  "ORDER",  "HAVING", "LIMIT", "JOIN",   "INNER", "LEFT",      "RIGHT",  "FULL",
      "OUTER", "CROSS",  "ON",     "USING",  "UNION", "EXCEPT", "INTERSECT", "WINDOW", "SELECT", "FROM",
      "AS",    "NATURAL", "LATERAL", "QUALIFY", "WITH", "AND",   "OR"};
  return t.kind == token_kind::word && words.count(t.upper) > 0;
}

// The names of the query's WITH queries: `name AS (` or `name (columns) AS (`
// right after WITH [RECURSIVE] or a comma of the WITH list.
std::set<std::string> with_query_names(const std::vector<token>& tokens) {
  std::set<std::string> names;
  for (std::size_t i = 0; i + 2 < tokens.size(); ++i) {
    const token& name = tokens[i];
    if (name.kind == token_kind::symbol || i == 0) continue;
    const token& before = tokens[i - 1];
    if (!(is_word(before, "WITH") || is_word(before, "RECURSIVE") || is_symbol(before, ','))) continue;
    std::size_t next = i + 1;
    if (is_symbol(tokens[next], '(')) {  // a column list
      while (next < tokens.size() && !is_symbol(tokens[next], ')')) ++next;
      ++next;
    }
    if (next + 1 < tokens.size() && is_word(tokens[next], "AS") && is_symbol(tokens[next + 1], '('))
      names.insert(upper_case(name.text));
  }
  return names;
}

}  // namespace

std::vector<table_reference> tables_read_by(std::string_view sql) {
  const auto tokens = tokenize(sql);
  const auto own_queries = with_query_names(tokens);
  std::vector<table_reference> tables;
  std::set<std::string> seen;
  // Per parenthesis depth: whether a SELECT opened there, so that FROM in
  // EXTRACT(DAY FROM x) (no SELECT at its depth) is not taken for a table.
  std::vector<bool> selecting{true};
  auto add = [&](const token& name) {
    if (own_queries.count(upper_case(name.text)) > 0) return;
    if (seen.insert(upper_case(name.text)).second) tables.push_back({name.text, name.line});
  };
  // A table reference at `i`; returns the index after it and its alias.
  auto reference_at = [&](std::size_t i) -> std::size_t {
    if (i >= tokens.size() || tokens[i].kind == token_kind::symbol || is_clause_word(tokens[i])) return i;
    if (i + 1 < tokens.size() && is_symbol(tokens[i + 1], '(')) return i + 1;  // a table function
    add(tokens[i]);
    ++i;
    if (i < tokens.size() && is_word(tokens[i], "AS")) ++i;
    if (i < tokens.size() && tokens[i].kind != token_kind::symbol && !is_clause_word(tokens[i])) ++i;  // alias
    return i;
  };
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const token& t = tokens[i];
    if (is_symbol(t, '(')) {
      selecting.push_back(false);
    } else if (is_symbol(t, ')')) {
      if (selecting.size() > 1) selecting.pop_back();
    } else if (is_word(t, "SELECT")) {
      selecting.back() = true;
    } else if (is_word(t, "JOIN")) {
      i = reference_at(i + 1) - 1;
    } else if (is_word(t, "FROM") && selecting.back()) {
      // FROM a [AS x], b [y], …
      std::size_t next = reference_at(i + 1);
      while (next > i + 1 && next < tokens.size() && is_symbol(tokens[next], ',')) {
        const std::size_t after = reference_at(next + 1);
        if (after == next + 1) break;
        next = after;
      }
      i = next - 1;
    }
  }
  return tables;
}

std::size_t edit_distance_ignoring_case(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& candidate : candidates) {
    const auto distance = edit_distance_ignoring_case(name, candidate);
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace amc::api
