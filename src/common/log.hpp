// Logging for the core: a host-supplied sink (level + message), and the
// redaction every message goes through before it reaches the sink, so that a
// token or secret that slipped into a message is masked, not printed.
#pragma once

#include <condition_variable>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace amc {

enum class log_level { debug = 10, info = 20, warning = 30, error = 40 };

// Masks what looks like a secret: LwA tokens ("Atza|…", "Atzr|…"), bearer
// tokens, Fernet tokens ("gAAAAA…"), and the values of fields named like
// secrets (client_secret, refresh_token, access_token, code, password) in
// form or JSON text.
std::string redact(std::string_view text);

// A server's text (an AMC or LwA error body) with every one of `secrets`
// that it quotes replaced by "[redacted]", compared exactly, then redact()'s
// patterns: servers may quote the tokens and client secret a request
// carried, in any form, and their text goes into errors, log lines and
// stored statuses (issue 23 kind 7). Secrets shorter than 8 bytes are not
// searched for (they would hit ordinary words).
std::string redact_secrets(std::string_view text, std::initializer_list<std::string_view> secrets);

using log_sink = std::function<void(log_level level, std::string_view message)>;

// A thread-safe logger; messages are redacted before they reach the sink.
//
// Sink lifetime: set_sink() returns only when no call of the sink it
// replaces is running (other than one on the calling thread, when a sink
// replaces itself), so the host may free what that sink uses as soon as
// set_sink() returns; the old sink is never called again. Calls of one sink
// may run at the same time on several threads.
class logger {
 public:
  // Also hands the sink the lines kept by log_or_keep() (those at or
  // above `minimum`), on the caller's thread, before it returns.
  void set_sink(log_sink sink, log_level minimum = log_level::info);
  void log(log_level level, std::string_view message) const;
  bool enabled(log_level level) const;
  // Like log(), but with no sink set yet the line is kept (redacted) for
  // the first sink set, instead of dropped: for what a client says while
  // it is created, before the host could set a sink (e.g. that TLS peer
  // verification is off). At most kept_line_limit lines are kept.
  void log_or_keep(log_level level, std::string_view message);
  static constexpr std::size_t kept_line_limit = 16;

 private:
  // One installed sink and how many of its calls are running.
  struct installed {
    log_sink sink;
    log_level minimum = log_level::info;
    int running = 0;
  };

  mutable std::mutex mutex_;
  mutable std::condition_variable sink_idle_;
  std::shared_ptr<installed> current_;
  std::vector<std::pair<log_level, std::string>> kept_;
};

}  // namespace amc
