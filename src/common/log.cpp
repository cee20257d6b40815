#include "common/log.hpp"

#include "common/text.hpp"

#include <regex>
#include <utility>

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

std::string redact_secrets(std::string_view text, std::initializer_list<std::string_view> secrets) {
  std::string result{text};
  for (const auto secret : secrets) {
    if (secret.size() < 8) continue;
    for (auto at = result.find(secret); at != std::string::npos; at = result.find(secret, at + 10))
      result.replace(at, secret.size(), "[redacted]");
  }
  return redact(result);
}

namespace {
// The sink whose call is running on this thread, if any: a sink that
// replaces itself must not wait for its own call to end.
thread_local const void* sink_running_here = nullptr;
}  // namespace

void logger::set_sink(log_sink sink, log_level minimum) {
  std::shared_ptr<installed> replacement;
  if (sink) replacement = std::make_shared<installed>(installed{std::move(sink), minimum, 0});
  std::vector<std::pair<log_level, std::string>> kept;
  {
    std::unique_lock lock{mutex_};
    const bool installing = replacement != nullptr;
    auto replaced = std::exchange(current_, std::move(replacement));
    if (installing) kept.swap(kept_);
    if (replaced) {
      const int own_call = sink_running_here == replaced.get() ? 1 : 0;
      sink_idle_.wait(lock, [&] { return replaced->running <= own_call; });
    }
  }
  // Outside the lock: the sink may log.
  for (const auto& [level, message] : kept) log(level, message);
}

void logger::log_or_keep(log_level level, std::string_view message) {
  {
    const std::lock_guard lock{mutex_};
    if (!current_) {
      if (kept_.size() < kept_line_limit) kept_.emplace_back(level, redact(message));
      return;
    }
  }
  log(level, message);
}

bool logger::enabled(log_level level) const {
  const std::lock_guard lock{mutex_};
  return current_ && level >= current_->minimum;
}

void logger::log(log_level level, std::string_view message) const {
  std::shared_ptr<installed> sink;
  {
    const std::lock_guard lock{mutex_};
    if (!current_ || level < current_->minimum) return;
    sink = current_;
    ++sink->running;
  }
  // Counted as running from here until the sink returns (or throws), so
  // set_sink() can wait for it.
  struct finish {
    const logger& owner;
    installed& call;
    const void* outer;
    ~finish() {
      sink_running_here = outer;
      {
        const std::lock_guard lock{owner.mutex_};
        --call.running;
      }
      owner.sink_idle_.notify_all();
    }
  } done{*this, *sink, sink_running_here};
  sink_running_here = sink.get();
  sink->sink(level, redact(escape_invalid_utf8(message)));
}

}  // namespace amc
