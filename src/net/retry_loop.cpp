#include "net/retry_loop.hpp"

#include "net/client_state.hpp"
#include "net/exchange.hpp"

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <string>

namespace amc::net::detail {

using namespace std::chrono_literals;

namespace {

response finish(response reply, int sends) {
  reply.attempts = sends;
  return reply;
}

void count_failure(client_state& s, errc code) {
  switch (code) {
    case errc::network: s.metrics.failures_network++; break;
    case errc::tls: s.metrics.failures_tls++; break;
    case errc::timeout: s.metrics.failures_timeout++; break;
    case errc::protocol: s.metrics.failures_protocol++; break;
    case errc::cancelled: s.metrics.failures_cancelled++; break;
    default: s.metrics.failures_other++; break;
  }
}

// A line for the owner's log (client_state::log), made only when its level
// is wanted: the retry loop runs for every request, and most are never
// logged.
template <class Make>
void note(const client_state& s, log_level level, const Make& make) {
  if (s.log != nullptr && s.log->enabled(level)) s.log->log(level, make());
}

long long ms(steady::duration wait) { return std::chrono::ceil<milliseconds>(wait).count(); }

// The one place a Retry-After is capped (retry_policy::max_retry_after):
// every reply passes here before the loop, its caller or a host reads
// response::retry_after. A longer ask is said at WARNING, since it would
// otherwise have held the request (and the poller, every watch) for that
// long.
template <class What>
void cap_retry_after(client_state& s, response& reply, std::string_view operation, const What& what) {
  const milliseconds cap = std::max(milliseconds::zero(), s.options.retry.max_retry_after);
  if (!reply.retry_after || *reply.retry_after <= cap) return;
  s.metrics.retry_after_capped++;
  note(s, log_level::warning, [&] {
    // The header's text is not quoted: it is the server's, and only its
    // meaning (the wait it asks for) matters here.
    return fmt::format("{}: {} answered HTTP {} with a Retry-After of {} s; waiting at most {} ms "
                       "(retry.max_retry_after_ms) instead",
                       operation, what(), reply.status,
                       std::chrono::duration_cast<std::chrono::seconds>(*reply.retry_after).count(), cap.count());
  });
  reply.retry_after = cap;
}

void count_failure(client_state& s, const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const amc::error& e) {
    count_failure(s, e.code_value());
  } catch (...) {
    s.metrics.failures_other++;
  }
}

}  // namespace

// One request, every attempt of it: the whole retry loop. `req` lives in
// send()'s frame, which waits for this coroutine. One coroutine rather than
// a wrapper around the loop: a frame and a resumption less per request.
asio::awaitable<response> run_request(client_state& s, const request& req, const download_target* download) {
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  co_await asio::this_coro::throw_if_cancelled(false);
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  s.metrics.requests++;
  // Every way out of the loop returns or throws; what it throws is counted
  // (metrics().failures) on its way to the caller.
  std::exception_ptr thrown;
  try {
    s.check_cancelled(cancellation);
    const url_parts url = parse_url(req.url);
    const auto& policy = s.options.retry;
    const auto started = steady::now();
    // The call's deadline as it came; a request without one ends by
    // retry.max_total (a year stands for "no limit" and keeps the sum from
    // overflowing).
    const amc::deadline deadline =
        req.deadline.bounded() ? req.deadline
                               : amc::deadline::after(std::min<milliseconds>(policy.max_total, 24h * 365), started);
    request_context rc{req, url, {}, false, deadline, {}, cancellation, download};
    // retry.max_total also bounds the retries of a request whose call allows
    // it longer (a wait() may have hours): no backoff or Retry-After wait,
    // nor a rate-limiter wait before a retry of a 429 or 5xx answer, is
    // started that would end past it. Not bounded by it: an attempt under
    // way (its phases' timeouts and the deadline), the rate-limiter wait
    // before a first attempt or after a network failure (the client's own
    // pacing, which the deadline ends as phase "rate_limit": wait() reads
    // that as its own timeout), and downloads, whose transfer may rightly
    // take longer (a retry starts the file again).
    const bool max_total_first = download == nullptr && policy.max_total > milliseconds::zero() &&
                                 policy.max_total < deadline.time_left(started);
    const steady::time_point waits_until = max_total_first ? started + policy.max_total : deadline.at;
    rc.via_proxy = url.is_tls() && s.proxy && !proxy_bypassed(s.options.proxy.no_proxy, url.host, url.port);
    rc.pool_key = url.origin();
    const std::string limiter_key = rate_limit_key(req.rate_limit_client_id, rc.pool_key);
    if (rc.via_proxy) rc.pool_key += " via " + s.proxy->describe();
    build_request_message(s, rc);
    // What the log lines call the request: its operation, then method and
    // URL without the query (which may carry a pre-signed URL's signature).
    const std::string_view operation = req.operation.empty() ? rc.method_name() : req.operation;
    auto what = [&] { return fmt::format("{} {}", rc.method_name(), url.describe()); };
    // The request goes back (or fails) without another try: said at INFO,
    // so that a call that retried and then stopped says why it stopped.
    auto stopping = [&](std::string_view why) {
      note(s, log_level::info, [&] { return fmt::format("{}: {}; not retried again", operation, why); });
    };

    const bool retryable = is_retryable_request(req);
    rc.resendable = retryable;
    int counted_attempts = 0;  // network errors and 5xx, against max_attempts
    int throttle_waits = 0;
    int sends = 0;  // the request reached the socket: response::attempts
    int tries = 0;  // for messages: every attempt, also those that never connected
    int stale_resends = 0;
    std::optional<attempt_failure> last_failure;
    std::optional<response> last_response;

    auto give_up = [&](std::string_view why) -> amc::error {
      if (last_failure) {
        std::string message = last_failure->message;
        if (tries > 1 || !why.empty()) message += fmt::format(" (after {} attempts{})", tries, why);
        return amc::error(last_failure->code, message,
                          {{"attempts", sends}, {"url", url.describe()}, {"method", std::string(rc.method_name())}})
            .at_phase(last_failure->where);
      }
      return amc::error(errc::internal, "the retry loop ended without a response or an error");
    };
    // The deadline came before another attempt could be sent (after a
    // network failure: no response to return).
    auto deadline_reached = [&](const std::string& waiting_for) -> amc::error {
      std::string message =
          last_failure ? fmt::format("{}; deadline of {} ms reached while waiting {} (after {} attempts)",
                                     last_failure->message, rc.deadline.budget.count(), waiting_for, tries)
                       : fmt::format("{} {}: deadline of {} ms reached while waiting {}", rc.method_name(),
                                     url.describe(), rc.deadline.budget.count(), waiting_for);
      return amc::error(errc::timeout, std::move(message),
                        {{"deadline_ms", rc.deadline.budget.count()},
                         {"attempts", sends},
                         {"url", url.describe()},
                         {"method", std::string(rc.method_name())}})
          .at_phase(last_failure ? last_failure->where : error_phase::before_send);
    };

    s.budget.record_first_attempt();
    while (true) {
      const auto now = steady::now();
      if (rc.deadline.passed(now)) {
        if (last_response) co_return finish(std::move(*last_response), sends);
        throw deadline_reached("to send the request");
      }
      if (auto wait = s.limiter.acquire(limiter_key, now); wait > steady::duration::zero()) {
        note(s, log_level::debug, [&] {
          return fmt::format("{}: waiting {} ms for the client-side rate limit of \"{}\" before {}", operation,
                             ms(wait), limiter_key, what());
        });
        s.metrics.rate_limiter_waits++;
        s.metrics.rate_limiter_wait_ms += static_cast<std::uint64_t>(std::chrono::ceil<milliseconds>(wait).count());
        // A retry of a 429 or 5xx answer gives that answer back rather than
        // wait past retry.max_total; anything else waits up to the deadline.
        if (steady::now() + wait >= (last_response ? waits_until : rc.deadline.at)) {
          // Not sent: the reserved token goes back (rate_limiter::give_back).
          s.limiter.give_back(limiter_key, steady::now());
          if (last_response) co_return finish(std::move(*last_response), sends);
          throw amc::error(errc::timeout,
                           fmt::format("{} {}: the client-side rate limit for \"{}\" would delay the request past "
                                       "its deadline of {} ms",
                                       rc.method_name(), url.describe(), limiter_key, rc.deadline.budget.count()),
                           {{"attempts", sends}, {"deadline_ms", rc.deadline.budget.count()}})
              .at_phase(error_phase::rate_limit);
        }
        std::exception_ptr interrupted;
        try {
          co_await s.sleep_for(wait, rc.cancellation);
        } catch (...) {
          interrupted = std::current_exception();
        }
        if (interrupted) {
          // Cancelled or shut down while waiting: not sent either.
          s.limiter.give_back(limiter_key, steady::now());
          std::rethrow_exception(interrupted);
        }
      }

      attempt_result result = co_await attempt_once(s, rc);
      if (result.reply) cap_retry_after(s, *result.reply, operation, what);
      if (result.reply || !result.failure->nothing_sent) ++sends;
      if (!(result.failure && (result.failure->stale_reuse || result.failure->write_at_once_refused))) ++tries;

      steady::duration delay{};
      if (result.failure) {
        attempt_failure& failure = *result.failure;
        last_failure = failure;
        if (failure.write_at_once_refused && rc.write_at_once) {
          // The socket could not take the request at once (exchange.cpp):
          // the same request again, now written asynchronously, under its
          // write deadline. Nothing of it reached the server's application.
          rc.write_at_once = false;
          s.metrics.tls_writes_deferred++;
          continue;
        }
        if (failure.stale_reuse && (failure.nothing_sent || retryable) && stale_resends <= static_cast<int>(
                                                                               s.options.max_connections_per_host)) {
          // Not a failure of the server, only of a connection it had
          // already closed: resend at once on a new connection.
          ++stale_resends;
          note(s, log_level::debug, [&] {
            return fmt::format("{}: the server had closed the pooled connection to {}; sending {} again on a new "
                               "connection",
                               operation, url.origin(), what());
          });
          continue;
        }
        // A failure before anything was sent is safe to retry for every
        // method; after that only retryable requests go again.
        if (!failure.retryable || !(retryable || failure.nothing_sent)) throw give_up("");
        // Out of retries after an earlier 429/5xx: that answer tells the
        // caller more (status, Retry-After) than the last network error.
        if (++counted_attempts >= policy.max_attempts) {
          if (counted_attempts > 1)
            stopping(fmt::format("{} ({} attempts, retry.max_attempts)", failure.message, counted_attempts));
          if (last_response) co_return finish(std::move(*last_response), sends);
          throw give_up("");
        }
        if (!s.budget.try_withdraw()) {
          stopping(fmt::format("{} (the client's retry budget is used up)", failure.message));
          s.metrics.retry_budget_exhausted++;
          if (last_response) co_return finish(std::move(*last_response), sends);
          throw give_up("; the client's retry budget is used up, so it was not retried again");
        }
        (failure.code == errc::timeout ? s.metrics.retries_timeout : s.metrics.retries_network)++;
        delay = full_jitter_backoff(policy, counted_attempts - 1, s.unit_random());
        if (steady::now() + delay < waits_until)
          note(s, log_level::info, [&] {
            return fmt::format("{}: {} (phase {}); retry {} of {} in {} ms", operation, failure.message,
                               phase_name(failure.where), counted_attempts, policy.max_attempts - 1, ms(delay));
          });
      } else {
        response& reply = *result.reply;
        const retry_cause cause = classify_status(reply.status);
        if (cause == retry_cause::throttled) s.limiter.on_throttled(limiter_key, steady::now());
        // A 429 says the server did not act on the request, so it is retried
        // whatever the method: a POST too (issue 12 item 3). Every other
        // answer to a request that is not retryable is final.
        if (cause == retry_cause::none || (!retryable && cause != retry_cause::throttled))
          co_return finish(std::move(reply), sends);
        const std::optional<milliseconds> retry_after = reply.retry_after;
        auto answered = [&] { return fmt::format("{} answered HTTP {}", what(), reply.status); };
        if (cause == retry_cause::throttled) {
          if (++throttle_waits > policy.max_throttle_waits) {
            stopping(fmt::format("{} after {} throttle waits (retry.max_throttle_waits)", answered(),
                                 throttle_waits - 1));
            co_return finish(std::move(reply), sends);
          }
          delay = retry_after ? *retry_after : full_jitter_backoff(policy, throttle_waits - 1, s.unit_random());
        } else {
          if (++counted_attempts >= policy.max_attempts) {
            if (counted_attempts > 1)
              stopping(fmt::format("{} ({} attempts, retry.max_attempts)", answered(), counted_attempts));
            co_return finish(std::move(reply), sends);
          }
          delay = full_jitter_backoff(policy, counted_attempts - 1, s.unit_random());
          if (retry_after) delay = std::max<steady::duration>(delay, *retry_after);
        }
        // A wait that would end past the deadline (or retry.max_total) is not
        // started: the answer goes back as it is (a 429 with its
        // retry_after), for the caller.
        if (steady::now() + delay >= waits_until) {
          stopping(fmt::format("{}; waiting {} ms more would pass the {}", answered(), ms(delay),
                               max_total_first ? "retry.max_total_ms" : "call's deadline"));
          co_return finish(std::move(reply), sends);
        }
        // Only 5xx retries draw on the budget. A throttle wait is the
        // server's own instruction, already paced by Retry-After and the
        // lowered rate limit, and bounded by max_throttle_waits and the
        // deadline; charging it to the budget would let one long throttle
        // (or a burst of 429s) use up the retries every other request of the
        // client needs for network errors and 5xx.
        if (cause == retry_cause::server_error && !s.budget.try_withdraw()) {
          stopping(fmt::format("{} (the client's retry budget is used up)", answered()));
          s.metrics.retry_budget_exhausted++;
          co_return finish(std::move(reply), sends);
        }
        if (cause == retry_cause::throttled) {
          s.metrics.retries_throttled++;
          s.metrics.throttle_waits++;
          note(s, log_level::info, [&] {
            return fmt::format("{}: {} (throttled); waiting {} ms ({}) before sending it again, throttle wait {} "
                               "of at most {}",
                               operation, answered(), ms(delay), retry_after ? "as Retry-After asks" : "backoff",
                               throttle_waits, policy.max_throttle_waits);
          });
        } else {
          s.metrics.retries_server_error++;
          note(s, log_level::info, [&] {
            return fmt::format("{}: {}; retry {} of {} in {} ms", operation, answered(), counted_attempts,
                               policy.max_attempts - 1, ms(delay));
          });
        }
        last_response = std::move(reply);
        last_failure.reset();
      }
      if (result.failure && steady::now() + delay >= waits_until) {
        stopping(fmt::format("{}; waiting {} ms more would pass the {}", result.failure->message, ms(delay),
                             max_total_first ? "retry.max_total_ms" : "call's deadline"));
        if (last_response) co_return finish(std::move(*last_response), sends);
        // retry.max_total ended the retries, as max_attempts would: the
        // failure itself is the error (not a timeout of the caller's call).
        if (max_total_first)
          throw give_up(fmt::format("; retry.max_total_ms ({} ms) reached", policy.max_total.count()));
        throw deadline_reached("to retry");
      }
      co_await s.sleep_for(delay, rc.cancellation);
    }
  } catch (...) {
    thrown = std::current_exception();
  }
  count_failure(s, thrown);
  std::rethrow_exception(thrown);
}

}  // namespace amc::net::detail
