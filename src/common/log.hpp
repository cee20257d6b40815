// Logging for the core: a host-supplied sink (level + message), and the
// redaction every message goes through before it reaches the sink, so that a
// token or secret that slipped into a message is masked, not printed.
#pragma once

#include <functional>
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
class logger {
 public:
  void set_sink(log_sink sink, log_level minimum = log_level::info);
  void log(log_level level, std::string_view message) const;
  bool enabled(log_level level) const;

 private:
  mutable std::mutex mutex_;
  log_sink sink_;
  log_level minimum_ = log_level::info;
};

}  // namespace amc
