// Logging for the core: a host-supplied sink (level + message), and the
// redaction every message goes through before it reaches the sink, so that a
// token or secret that slipped into a message is masked, not printed.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace amc {

enum class log_level { debug = 10, info = 20, warning = 30, error = 40 };

// Masks what looks like a secret: LwA tokens ("Atza|…", "Atzr|…"), bearer
// tokens, Fernet tokens ("gAAAAA…"), and the values of fields named like
// secrets (client_secret, refresh_token, access_token, code, password) in
// form or JSON text.
std::string redact(std::string_view text);

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
  void set_sink(log_sink sink, log_level minimum = log_level::info);
  void log(log_level level, std::string_view message) const;
  bool enabled(log_level level) const;

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
};

}  // namespace amc
