#include "auth/token_manager.hpp"

#include "common/error.hpp"
#include "common/time.hpp"
#include "net/io_strand.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <variant>

namespace amc::auth {

namespace asio = boost::asio;
using asio::use_awaitable;

namespace {
// What LwA answered, before its body is read (issue 23 kinds 6 and 8): a
// redirect is the server's answer, never followed (the request carried the
// refresh token or code and the client secret), and a body in an encoding
// libamc did not ask for is not read as JSON.
void check_lwa_reply(const net::response& reply) {
  if (reply.status >= 300 && reply.status < 400)
    throw error(errc::protocol,
                fmt::format("Login with Amazon answered the token request with a redirect (HTTP {}) {}, which "
                            "libamc does not follow with a refresh token or client secret; check "
                            "endpoints.lwa_token in the client config",
                            reply.status, reply.redirect_target()),
                {{"http_status", reply.status}});
  if (const auto encoding = reply.unasked_content_encoding())
    throw error(errc::protocol,
                fmt::format("Login with Amazon answered with Content-Encoding {}, which libamc did not ask for "
                            "(it sends Accept-Encoding: identity) and does not decode",
                            *encoding),
                {{"http_status", reply.status}});
}
}  // namespace

// One refresh in flight for one credential. Waiters wait on `finished`, a
// timer that never expires by itself: the refresher cancels it when done.
// Everything here is touched on the manager's strand only.
struct token_manager::flight {
  explicit flight(const asio::any_io_executor& executor) : finished(executor) {
    finished.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer finished;
  bool done = false;
  std::string token;
  std::exception_ptr failure;
};

token_manager::token_manager(asio::any_io_executor executor, net::http_client& http,
                             store::credential_store& store, token_settings settings,
                             const logger& log)
    : strand_(net::make_io_strand(executor)),
      http_(http),
      store_(store),
      settings_(std::move(settings)),
      log_(log) {}

token_manager::~token_manager() = default;

std::optional<std::string> token_manager::cached_access_token(const std::string& credential_id) const {
  const std::shared_lock lock(cache_mutex_);
  const auto found = cache_.find(credential_id);
  if (found == cache_.end()) return std::nullopt;
  const auto& entry = found->second;
  if (entry.store_generation != store_.generation() ||
      std::chrono::steady_clock::now() >= entry.recheck_at || now_unix_seconds() >= entry.fresh_until)
    return std::nullopt;
  return entry.token;
}

void token_manager::remember(const std::string& credential_id, const std::string& token,
                             std::int64_t fresh_until, std::uint64_t store_generation) {
  if (settings_.store_recheck.count() <= 0) return;
  const std::unique_lock lock(cache_mutex_);
  cache_[credential_id] = {token, fresh_until, std::chrono::steady_clock::now() + settings_.store_recheck,
                           store_generation};
}

void token_manager::forget(const std::string& credential_id) {
  const std::unique_lock lock(cache_mutex_);
  cache_.erase(credential_id);
}

asio::awaitable<std::string> token_manager::access_token(std::string credential_id, amc::deadline until) {
  if (auto token = cached_access_token(credential_id)) co_return std::move(*token);
  // Run on the strand (no locks needed for in_flight_), resume the caller on
  // its own executor. run_on forwards the caller's cancellation: it ends this
  // caller's wait, never a refresh that others joined (join_or_start).
  const std::string id = credential_id;
  co_return co_await wait_within(net::run_on(strand_, access_token_on_strand(std::move(credential_id))), id, until);
}

asio::awaitable<std::string> token_manager::refresh(std::string credential_id,
                                                    std::string stale_token, amc::deadline until) {
  forget(credential_id);
  const std::string id = credential_id;
  co_return co_await wait_within(
      net::run_on(strand_, join_or_start(std::move(credential_id), std::move(stale_token))), id, until);
}

asio::awaitable<std::string> token_manager::wait_within(asio::awaitable<std::string> wait,
                                                        const std::string& credential_id,
                                                        const amc::deadline& until) {
  if (!until.bounded()) co_return co_await std::move(wait);
  // The timer's win cancels only this caller's wait (join_or_start): a
  // refresh that waits for another process's, or for LwA, goes on and is
  // stored for the next call.
  // `||` waits for the first to *succeed*: a refresh that fails must end
  // the race too, so its exception travels as a value.
  using namespace asio::experimental::awaitable_operators;
  using outcome = std::variant<std::string, std::exception_ptr>;
  auto caught = [](asio::awaitable<std::string> waiting) -> asio::awaitable<outcome> {
    try {
      co_return outcome{co_await std::move(waiting)};
    } catch (...) {
      co_return outcome{std::current_exception()};
    }
  };
  asio::steady_timer expiry(co_await asio::this_coro::executor, until.at);
  auto first = co_await (caught(std::move(wait)) || expiry.async_wait(use_awaitable));
  // (`||` flattens the variants: string, exception_ptr, or the timer's.)
  if (auto* token = std::get_if<std::string>(&first)) co_return std::move(*token);
  if (const auto* failure = std::get_if<std::exception_ptr>(&first)) std::rethrow_exception(*failure);
  throw error(errc::timeout,
              fmt::format("the access token of credential '{}' was not ready within the call's timeout of {} "
                          "ms (its refresh, here or in another process, goes on); retry",
                          credential_id, until.budget.count()),
              {{"credential_id", credential_id}});
}

std::chrono::seconds shrink_to_lifetime(std::chrono::seconds configured,
                                        std::optional<std::int64_t> lifetime_seconds,
                                        std::int64_t divisor) {
  if (!lifetime_seconds || *lifetime_seconds <= 0) return configured;
  return std::min(configured, std::chrono::seconds(*lifetime_seconds / divisor));
}

refresh_windows windows_for(const token_settings& settings,
                            std::optional<std::int64_t> lifetime_seconds) {
  return {shrink_to_lifetime(settings.advisory_window, lifetime_seconds, 2),
          shrink_to_lifetime(settings.mandatory_window, lifetime_seconds, 4)};
}

std::optional<std::int64_t> token_lifetime(const store::credential_record& record) {
  if (!record.access_token_issued_at || !record.access_token_expires_at) return std::nullopt;
  const auto lifetime = *record.access_token_expires_at - *record.access_token_issued_at;
  if (lifetime <= 0) return std::nullopt;
  return lifetime;
}

namespace {

// The range rule of interpret_token_reply, said once per clamped grant.
void warn_if_clamped(const token_grant& grant, std::string_view credential_id, const logger& log) {
  if (!grant.expires_in_clamped_from) return;
  log.log(log_level::warning,
          fmt::format("Login with Amazon said the new access token of credential '{}' lives {} s; "
                      "libamc uses at most {} s (AMC answering 401 earlier still gets one "
                      "refresh); check the LwA token URL",
                      credential_id, *grant.expires_in_clamped_from,
                      max_access_token_lifetime_seconds));
}

[[noreturn]] void throw_needs_reauth(const store::credential_record& record) {
  throw error(errc::auth_required,
              fmt::format("credential '{}' needs re-authentication{}{}: run 'amcctl auth login' "
                          "for it, or exchange a new authorization code",
                          record.credential_id, record.last_error.empty() ? "" : " (",
                          record.last_error.empty() ? "" : record.last_error + ")"),
              {{"credential_id", record.credential_id}});
}

void check_usable(const store::credential_record& record) {
  if (record.state == store::credential_state::needs_reauth || !record.refresh_token)
    throw_needs_reauth(record);
}

}  // namespace

asio::awaitable<std::string> token_manager::access_token_on_strand(std::string credential_id) {
  // Noted before the read: a write that lands during it moves the generation
  // past this value, so what is remembered below can never outlive it.
  const auto generation = store_.generation();
  const auto record = store_.get(credential_id, /*include_secrets=*/true);
  check_usable(record);
  const auto now = now_unix_seconds();
  const bool has_token = record.access_token && record.access_token_expires_at;
  const auto remaining = has_token ? *record.access_token_expires_at - now : 0;
  const auto windows = windows_for(settings_, token_lifetime(record));
  if (has_token && remaining > windows.advisory.count()) {
    remember(credential_id, *record.access_token, *record.access_token_expires_at - windows.advisory.count(),
             generation);
    co_return *record.access_token;
  }

  if (has_token && remaining > windows.mandatory.count()) {
    // Advisory window: refresh early if nobody else is, but do not wait.
    if (!in_flight_.count(credential_id)) {
      asio::co_spawn(
          strand_,
          [this, credential_id, token = *record.access_token]() -> asio::awaitable<void> {
            try {
              co_await join_or_start(credential_id, token);
            } catch (const error& problem) {
              log_.log(log_level::warning,
                       fmt::format("early refresh of credential '{}' failed: {}", credential_id,
                                   problem.message()));
            } catch (const std::exception& problem) {
              log_.log(log_level::warning, fmt::format("early refresh of credential '{}' failed: {}",
                                                       credential_id, problem.what()));
            }
          },
          asio::detached);
    }
    co_return *record.access_token;
  }
  co_return co_await join_or_start(credential_id, record.access_token.value_or(""));
}

asio::awaitable<std::string> token_manager::join_or_start(std::string credential_id,
                                                          std::string triggering_token) {
  // At most two rounds: the second only when the flight this caller joined
  // brought back the very token the caller was told is stale (below).
  for (int round = 0;; ++round) {
    std::shared_ptr<flight> current;
    bool joined = false;
    if (const auto running = in_flight_.find(credential_id); running != in_flight_.end()) {
      current = running->second;
      joined = true;
      ++waits_for_refresh_;
    } else {
      current = std::make_shared<flight>(strand_);
      in_flight_.emplace(credential_id, current);
      // The refresh runs on its own, and every caller (the one who started it
      // too) only waits for it: a caller that stops waiting, cancelled or past
      // its deadline, never aborts a refresh that others joined.
      try {
        asio::co_spawn(strand_, run_flight(credential_id, triggering_token, current), asio::detached);
      } catch (...) {
        in_flight_.erase(credential_id);  // nobody may wait for a flight that never started
        throw;
      }
    }
    auto stopped_waiting = [&credential_id] {
      return error(errc::cancelled,
                   fmt::format("stopped waiting for the token refresh of credential '{}' (the call was "
                               "cancelled); the refresh goes on for other callers",
                               credential_id),
                   {{"credential_id", credential_id}});
    };
    while (!current->done) {
      // `finished` never expires by itself: it completes when run_flight
      // cancels it (done is set first), or when this caller is cancelled.
      co_await current->finished.async_wait(asio::as_tuple(use_awaitable));
      if (!current->done) throw stopped_waiting();
    }
    if (current->failure) std::rethrow_exception(current->failure);
    // A flight started for an older token ends, when another writer stored
    // a fresh one meanwhile, with that stored token (refresh_once). For a
    // caller that AMC just refused that very token (a 401 after a
    // revocation), it is no answer: it starts a flight of its own, whose
    // refresh_once sees the stale token in the store and really refreshes.
    if (joined && round == 0 && !triggering_token.empty() && current->token == triggering_token) {
      // Cancelled as the flight ended: say so, rather than let the next
      // wait fail with Asio's operation_aborted.
      if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
        throw stopped_waiting();
      continue;
    }
    co_return current->token;
  }
}

asio::awaitable<void> token_manager::run_flight(std::string credential_id, std::string triggering_token,
                                                std::shared_ptr<flight> mine) {
  try {
    mine->token = co_await refresh_once(credential_id, triggering_token);
  } catch (...) {
    mine->failure = std::current_exception();
  }
  mine->done = true;
  in_flight_.erase(credential_id);
  mine->finished.cancel();
}

asio::awaitable<std::unique_ptr<store::held_lock>> token_manager::acquire_cross_process_lock(
    const std::string& credential_id) {
  const auto give_up = std::chrono::steady_clock::now() + settings_.cross_process_wait;
  asio::steady_timer pause(strand_);
  while (true) {
    if (auto lock = store_.try_lock_refresh(credential_id)) co_return lock;
    if (std::chrono::steady_clock::now() >= give_up)
      throw error(errc::timeout,
                  fmt::format("another process has been refreshing credential '{}' for over {} "
                              "ms; if no libamc process is running, retry",
                              credential_id, settings_.cross_process_wait.count()),
                  {{"credential_id", credential_id}});
    pause.expires_after(std::chrono::milliseconds(20));
    co_await pause.async_wait(use_awaitable);
  }
}

asio::awaitable<std::string> token_manager::refresh_once(std::string credential_id,
                                                         std::string triggering_token) {
  const auto lock = co_await acquire_cross_process_lock(credential_id);

  // Someone (another process, or an earlier flight) may have refreshed while
  // we waited for the lock: then their token is ours.
  auto record = store_.get(credential_id, /*include_secrets=*/true);
  check_usable(record);
  const auto now = now_unix_seconds();
  if (record.access_token && record.access_token_expires_at &&
      *record.access_token != triggering_token &&
      *record.access_token_expires_at - now >
          windows_for(settings_, token_lifetime(record)).mandatory.count()) {
    ++refreshes_skipped_fresh_;
    co_return *record.access_token;
  }

  net::request request;
  request.method = boost::beast::http::verb::post;
  request.url = settings_.token_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded;charset=UTF-8"},
                     {"Accept", "application/json"},
                     {std::string(net::accept_identity.first), std::string(net::accept_identity.second)}};
  request.body = refresh_grant_body(settings_.client, *record.refresh_token);
  request.rate_limit_client_id = settings_.client.client_id;  // the limiter adds the host
  // A refresh grant consumes nothing: sending it twice is harmless.
  request.retryable = true;
  request.operation = "token refresh";
  ++refreshes_;
  const auto started = now_unix_seconds();
  token_grant grant;
  try {
    const auto reply = co_await http_.send(std::move(request));
    check_lwa_reply(reply);
    grant = interpret_token_reply(reply.status, reply.body, credential_id, settings_.client.client_id,
                                  {*record.refresh_token, settings_.client.client_secret});
    warn_if_clamped(grant, credential_id, log_);
  } catch (const error& problem) {
    ++refresh_failures_;
    if (is_invalid_grant(problem)) {
      // The refresh token is dead: say so in the store so that nobody keeps
      // trying it. The token itself is kept (never blanked).
      store::credential_update update;
      update.credential_id = credential_id;
      update.state = store::credential_state::needs_reauth;
      update.last_error = "Login with Amazon answered invalid_grant";
      store_.put(update);
      log_.log(log_level::warning,
               fmt::format("credential '{}' needs re-authentication (LwA invalid_grant)",
                           credential_id));
    }
    throw;
  }

  store::credential_update update;
  update.credential_id = credential_id;
  update.access_token = grant.access_token;
  update.access_token_expires_at = started + grant.expires_in_seconds;
  update.access_token_issued_at = started;
  if (grant.refresh_token) update.refresh_token = grant.refresh_token;  // absent: keep ours
  update.last_error = "";
  store_.put(update);
  log_.log(log_level::debug, fmt::format("refreshed the access token of credential '{}'", credential_id));
  co_return grant.access_token;
}

asio::awaitable<void> token_manager::exchange_code(std::string credential_id, std::string code,
                                                   std::string redirect_uri) {
  store::validate_credential_id(credential_id);
  if (code.empty()) throw error(errc::invalid_argument, "the authorization code is empty");
  if (redirect_uri.empty())
    throw error(errc::invalid_argument,
                "redirect_uri is required: give the same one the consent page redirected to");
  net::request request;
  request.method = boost::beast::http::verb::post;
  request.url = settings_.token_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded;charset=UTF-8"},
                     {"Accept", "application/json"},
                     {std::string(net::accept_identity.first), std::string(net::accept_identity.second)}};
  request.body = authorization_code_body(settings_.client, code, redirect_uri);
  request.rate_limit_client_id = settings_.client.client_id;  // the limiter adds the host
  request.retryable = false;  // a code is single-use: never send it twice
  request.operation = "authorization code exchange";
  ++code_exchanges_;
  const auto started = now_unix_seconds();
  const auto reply = co_await http_.send(std::move(request));
  check_lwa_reply(reply);
  const auto grant = interpret_token_reply(reply.status, reply.body, credential_id, settings_.client.client_id,
                                           {code, settings_.client.client_secret});
  warn_if_clamped(grant, credential_id, log_);
  if (!grant.refresh_token)
    throw error(errc::protocol,
                "Login with Amazon exchanged the code but sent no refresh_token; nothing was stored",
                {{"credential_id", credential_id}});
  store::credential_update update;
  update.credential_id = credential_id;
  update.client_id = settings_.client.client_id;
  update.refresh_token = grant.refresh_token;
  update.access_token = grant.access_token;
  update.access_token_expires_at = started + grant.expires_in_seconds;
  update.access_token_issued_at = started;
  update.state = store::credential_state::active;
  update.last_error = "";
  store_.put(update);
  log_.log(log_level::info, fmt::format("credential '{}' authorised", credential_id));
}

nlohmann::json token_manager::metrics() const {
  return {{"refreshes", refreshes_.load()},
          {"refresh_failures", refresh_failures_.load()},
          {"refreshes_skipped_fresh", refreshes_skipped_fresh_.load()},
          {"code_exchanges", code_exchanges_.load()},
          {"waits_for_refresh", waits_for_refresh_.load()}};
}

}  // namespace amc::auth
