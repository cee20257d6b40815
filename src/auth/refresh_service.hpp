// The optional background task that keeps the access tokens of tracked
// credentials fresh, so that a task starting at 3 a.m. finds a valid token
// instead of refreshing on its critical path.
//
// It tracks only credentials that can be refreshed (active, with a refresh
// token). One that becomes needs-reauth or quarantined is dropped from
// tracking and reported once — not every interval, as the seed application
// did for dead tokens, forever.
#pragma once

#include "auth/token_manager.hpp"

#include <boost/asio/steady_timer.hpp>

#include <random>
#include <set>

namespace amc::auth {

struct refresh_service_settings {
  // Refresh tokens expiring within this; for a token that lives shorter,
  // within half its lifetime (see windows_for).
  std::chrono::seconds lead_time{600};
  std::chrono::seconds interval{60};     // between sweeps, ±20% jitter
};

// The wait before the next sweep: `interval` times a factor from 0.8 to 1.2
// picked by `unit_random` in [0, 1] (0.8 at 0, 1.2 at 1), so that processes started together do
// not all sweep (and refresh) at the same moments.
std::chrono::milliseconds jittered_interval(std::chrono::seconds interval, double unit_random);

class refresh_service {
 public:
  refresh_service(boost::asio::any_io_executor executor, token_manager& tokens,
                  store::credential_store& store, refresh_service_settings settings,
                  const logger& log);
  ~refresh_service();

  void start();
  // Stops after the sweep in progress (if any); idempotent.
  void stop();

  // One sweep now: refreshes what expires within the lead time. Returns how
  // many credentials it refreshed.
  boost::asio::awaitable<int> sweep();

  // Credentials dropped from tracking (needs-reauth, quarantined) so far.
  std::set<std::string> dropped() const;

  // Draws the wait before the next sweep (jittered_interval with this
  // service's random source). Called on the service's strand by run();
  // public for tests.
  std::chrono::milliseconds next_wait();

 private:
  boost::asio::awaitable<void> run();

  boost::asio::any_io_executor executor_;
  token_manager& tokens_;
  store::credential_store& store_;
  refresh_service_settings settings_;
  const logger& log_;
  boost::asio::steady_timer timer_;
  std::atomic<bool> running_{false};
  mutable std::mutex dropped_mutex_;
  std::set<std::string> dropped_;
  std::mt19937_64 jitter_{std::random_device{}()};
};

}  // namespace amc::auth
