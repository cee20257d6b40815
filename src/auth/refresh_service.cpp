#include "auth/refresh_service.hpp"

#include "common/error.hpp"
#include "common/time.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace amc::auth {

namespace asio = boost::asio;

refresh_service::refresh_service(asio::any_io_executor executor, token_manager& tokens,
                                 store::credential_store& store, refresh_service_settings settings,
                                 const logger& log)
    : executor_(executor),
      tokens_(tokens),
      store_(store),
      settings_(settings),
      log_(log),
      timer_(asio::make_strand(executor)) {}

refresh_service::~refresh_service() { stop(); }

void refresh_service::start() {
  if (running_.exchange(true)) return;
  asio::co_spawn(timer_.get_executor(), run(), asio::detached);
}

void refresh_service::stop() {
  if (!running_.exchange(false)) return;
  asio::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

std::chrono::milliseconds jittered_interval(std::chrono::seconds interval, double unit_random) {
  const auto base = std::chrono::duration_cast<std::chrono::milliseconds>(interval);
  const double factor = 0.8 + 0.4 * std::clamp(unit_random, 0.0, 1.0);
  return std::chrono::milliseconds(std::llround(static_cast<double>(base.count()) * factor));
}

std::chrono::milliseconds refresh_service::next_wait() {
  return jittered_interval(settings_.interval, std::uniform_real_distribution<double>(0.0, 1.0)(jitter_));
}

std::set<std::string> refresh_service::dropped() const {
  const std::lock_guard lock{dropped_mutex_};
  return dropped_;
}

asio::awaitable<void> refresh_service::run() {
  while (running_) {
    try {
      co_await sweep();
    } catch (const std::exception& problem) {
      log_.log(log_level::warning, fmt::format("token refresh sweep failed: {}", problem.what()));
    }
    timer_.expires_after(next_wait());
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<int> refresh_service::sweep() {
  int refreshed = 0;
  const auto now = now_unix_seconds();
  for (const auto& record : store_.list()) {
    const auto& id = record.credential_id;
    const bool usable =
        record.state == store::credential_state::active && record.has_refresh_token;
    if (!usable) {
      const std::lock_guard lock{dropped_mutex_};
      if (dropped_.insert(id).second)
        log_.log(log_level::warning,
                 fmt::format("token refresh stops tracking credential '{}' (state {}): {}", id,
                             store::to_string(record.state),
                             record.state == store::credential_state::quarantined
                                 ? "restore the previous Fernet key or re-authenticate"
                             : record.state == store::credential_state::damaged
                                 ? "its record in the store is damaged; put it again to replace it"
                                 : "re-authenticate it to resume"));
      continue;
    }
    {
      // Back in use (re-authenticated or key restored): track it again.
      const std::lock_guard lock{dropped_mutex_};
      dropped_.erase(id);
    }
    const bool expiring = !record.has_access_token || !record.access_token_expires_at ||
                          *record.access_token_expires_at - now <=
                              shrink_to_lifetime(settings_.lead_time, token_lifetime(record), 2)
                                  .count();
    if (!expiring) continue;
    try {
      const auto current = store_.get(id, true).access_token.value_or("");
      co_await tokens_.refresh(id, current);
      ++refreshed;
    } catch (const error& problem) {
      // invalid_grant has already marked it needs-reauth; the next sweep
      // drops it with one log line.
      log_.log(log_level::warning,
               fmt::format("background refresh of credential '{}' failed: {}", id, problem.message()));
    }
  }
  co_return refreshed;
}

}  // namespace amc::auth
