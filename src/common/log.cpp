#include "common/log.hpp"

#include "common/text.hpp"

#include <regex>

namespace amc {
namespace {

struct redaction_rule {
  std::regex pattern;
  const char* replacement;
};

const std::vector<redaction_rule>& redaction_rules() {
  static const std::vector<redaction_rule> rules = [] {
    const auto flags = std::regex::ECMAScript | std::regex::icase | std::regex::optimize;
    std::vector<redaction_rule> built;
    built.push_back({std::regex(R"(Atz[a-z]\|[^\s"'&,;]+)", flags), "Atz*|[redacted]"});
    built.push_back({std::regex(R"(bearer\s+[^\s"',;]+)", flags), "Bearer [redacted]"});
    built.push_back({std::regex(R"(gAAAAA[A-Za-z0-9_\-=]+)", flags), "[redacted fernet token]"});
    built.push_back(
        {std::regex(R"(((client_secret|refresh_token|access_token|password|code)("?\s*[:=]\s*"?))[^\s"&,;}]+)",
                    flags),
         "$1[redacted]"});
    return built;
  }();
  return rules;
}

}  // namespace

std::string redact(std::string_view text) {
  std::string result{text};
  for (const auto& rule : redaction_rules())
    result = std::regex_replace(result, rule.pattern, rule.replacement);
  return result;
}

void logger::set_sink(log_sink sink, log_level minimum) {
  std::vector<std::pair<log_level, std::string>> kept;
  log_sink deliver;
  {
    const std::lock_guard lock{mutex_};
    sink_ = std::move(sink);
    minimum_ = minimum;
    if (sink_) {
      kept.swap(kept_);
      deliver = sink_;
    }
  }
  // Outside the lock: the sink may log.
  for (const auto& [level, message] : kept)
    if (level >= minimum) deliver(level, message);
}

void logger::log_or_keep(log_level level, std::string_view message) {
  {
    const std::lock_guard lock{mutex_};
    if (!sink_) {
      if (kept_.size() < kept_line_limit) kept_.emplace_back(level, redact(message));
      return;
    }
  }
  log(level, message);
}

bool logger::enabled(log_level level) const {
  const std::lock_guard lock{mutex_};
  return sink_ && level >= minimum_;
}

void logger::log(log_level level, std::string_view message) const {
  log_sink sink;
  {
    const std::lock_guard lock{mutex_};
    if (!sink_ || level < minimum_) return;
    sink = sink_;
  }
  sink(level, redact(escape_invalid_utf8(message)));
}

}  // namespace amc
