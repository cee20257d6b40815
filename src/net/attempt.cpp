#include "net/attempt.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace amc::net::detail {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using steady = std::chrono::steady_clock;

phase_deadline deadline_for(milliseconds phase_timeout, const amc::deadline& overall) {
  const auto left = overall.time_left();
  if (left < phase_timeout) return {left, true};
  return {phase_timeout, false};
}

attempt_failure timeout_failure(const request_context& rc, phase where, const phase_deadline& limit,
                                milliseconds phase_timeout, bool nothing_sent) {
  attempt_failure failure;
  failure.code = errc::timeout;
  failure.where = where;
  failure.nothing_sent = nothing_sent;
  if (limit.overall) {
    failure.message = fmt::format("{} {} ran out of its overall deadline during {} (a deadline of {} ms; the "
                                  "phase's own timeout is {} ms)",
                                  rc.method_name(), rc.url.describe(), phase_name(where),
                                  rc.deadline.budget.count(), phase_timeout.count());
    failure.retryable = false;
  } else {
    failure.message = fmt::format("{} {} timed out after {} ms in phase {} (timeouts.{}); the server or network "
                                  "is too slow or unreachable",
                                  rc.method_name(), rc.url.describe(), phase_timeout.count(),
                                  phase_name(where), where == phase::proxy ? "handshake" : phase_name(where));
  }
  return failure;
}

attempt_failure network_failure(const request_context& rc, phase where, const std::string& what, bool nothing_sent) {
  attempt_failure failure;
  failure.code = errc::network;
  failure.where = where;
  failure.nothing_sent = nothing_sent;
  failure.message = fmt::format("{} {} failed: {}", rc.method_name(), rc.url.describe(), what);
  return failure;
}

bool is_connection_lost(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::ssl::error::stream_truncated ||
         ec == http::error::end_of_stream;
}

}  // namespace amc::net::detail
