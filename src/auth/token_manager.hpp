// Access tokens for credentials: cached in the store, refreshed through LwA
// at most once at a time per credential — across the threads of this process
// (one refresh in flight, everyone else waits for it) and across processes
// sharing a file store (the store's refresh lock, then a re-read: whoever
// comes second finds the fresh token and sends nothing).
//
// Two windows before expiry: in the advisory window a caller gets the current
// token and a refresh starts in the background if nobody's is running; in the
// mandatory window (or when expired) callers wait for the refresh.
//
// Memory cache: reading the store costs a file read, a JSON parse and two
// Fernet decryptions (tens of µs; a host store calls into the host), too
// much for every AMC request. A token read from the store while it is
// outside its advisory window is kept in memory and handed out without the
// strand or the store until (a) its advisory window begins, (b) something
// is written through this credential_store object (any put, remove or key
// rotation moves its generation), (c) settings.store_recheck has passed
// since the read (another process, or another store object in this one,
// may have removed the credential, re-authorised it, or refreshed it), or
// (d) AMC refused it (refresh() drops it). Old access
// tokens stay valid at LwA until they expire, so a token another process
// replaced is still a working one meanwhile.
#pragma once

#include "auth/lwa.hpp"
#include "common/deadline.hpp"
#include "common/log.hpp"
#include "net/http_client.hpp"
#include "net/io_strand.hpp"
#include "store/credential_store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <shared_mutex>
#include <unordered_map>
#include <chrono>
#include <map>
#include <optional>
#include <memory>
#include <string>

namespace amc::auth {

struct token_settings {
  lwa_client client;
  std::string token_url;
  std::chrono::seconds advisory_window{300};
  std::chrono::seconds mandatory_window{60};
  // How long a caller waits for another process's refresh lock.
  std::chrono::milliseconds cross_process_wait{30'000};
  // How long a token read from the store is handed out from memory before
  // the store is read again (0: read the store on every request). Writes
  // through this process's store are seen at once (the store's generation);
  // another process's writes within this time. See token_manager.
  std::chrono::milliseconds store_recheck{1'000};
};

// The windows that apply to one token. A token that lives shorter than the
// configured windows would otherwise be refreshed before every request (an
// LwA or proxy answering expires_in 30 against a 60 s mandatory window), so
// both shrink with the token's lifetime: advisory = min(configured,
// lifetime / 2), mandatory = min(configured, lifetime / 4). A token whose
// lifetime is unknown (put in by a host) gets the configured windows.
struct refresh_windows {
  std::chrono::seconds advisory;
  std::chrono::seconds mandatory;
};
refresh_windows windows_for(const token_settings& settings,
                            std::optional<std::int64_t> lifetime_seconds);

// A lead time (how long before expiry to refresh) shrunk to half the
// token's lifetime, as windows_for does with the advisory window.
std::chrono::seconds shrink_to_lifetime(std::chrono::seconds configured,
                                        std::optional<std::int64_t> lifetime_seconds,
                                        std::int64_t divisor);

// The lifetime the record's access token was issued with, when known.
std::optional<std::int64_t> token_lifetime(const store::credential_record& record);

class token_manager {
 public:
  token_manager(boost::asio::any_io_executor executor, net::http_client& http,
                store::credential_store& store, token_settings settings, const logger& log);
  ~token_manager();

  // A usable access token (refreshing when needed). Throws auth_required
  // (needs re-authentication), crypto (quarantined), not_found, and the
  // transport's errors. A terminal cancellation of the awaiting coroutine
  // ends its wait for a refresh with errc::cancelled; the refresh itself
  // goes on for the other callers (and is stored for the next one).
  // `until`, the calling call's deadline, bounds this caller's wait the
  // same way (errc::timeout naming its budget): a refresh waiting for
  // another process's goes on, the caller does not wait past its deadline.
  boost::asio::awaitable<std::string> access_token(std::string credential_id, amc::deadline until = {});

  // The token access_token() would hand out at once from memory (fresh,
  // and the store unchanged since it was read), without a coroutine;
  // nothing when it would have to read the store or refresh. For callers
  // that send many requests (every AMC call, the poller's reads).
  std::optional<std::string> cached_access_token(const std::string& credential_id) const;

  // Refreshes now, unless the token was already replaced since `stale_token`
  // was handed out (then returns the newer one without a request). Used
  // after AMC answers 401/403. Never returns `stale_token` itself: joining a
  // refresh that was started for an older token and ended with the stored
  // one (which is `stale_token`) is followed by a refresh of its own.
  // `until` bounds the caller's wait as for access_token().
  boost::asio::awaitable<std::string> refresh(std::string credential_id, std::string stale_token,
                                              amc::deadline until = {});

  // Exchanges an authorization code for tokens and stores them under
  // credential_id (created or re-authenticated).
  boost::asio::awaitable<void> exchange_code(std::string credential_id, std::string code,
                                             std::string redirect_uri);

  // {"refreshes", "refresh_failures", "refreshes_skipped_fresh", "code_exchanges",
  //  "waits_for_refresh"}
  nlohmann::json metrics() const;

  const token_settings& settings() const { return settings_; }

 private:
  struct flight;
  boost::asio::awaitable<std::string> access_token_on_strand(std::string credential_id);
  // `wait` (a coroutine on strand_), ended at `until` for this caller only.
  boost::asio::awaitable<std::string> wait_within(boost::asio::awaitable<std::string> wait,
                                                  const std::string& credential_id, const amc::deadline& until);
  boost::asio::awaitable<std::string> join_or_start(std::string credential_id,
                                                    std::string triggering_token);
  boost::asio::awaitable<void> run_flight(std::string credential_id, std::string triggering_token,
                                          std::shared_ptr<flight> mine);
  boost::asio::awaitable<std::string> refresh_once(std::string credential_id,
                                                   std::string triggering_token);
  boost::asio::awaitable<std::unique_ptr<store::held_lock>> acquire_cross_process_lock(
      const std::string& credential_id);

  net::io_strand strand_;
  net::http_client& http_;
  store::credential_store& store_;
  token_settings settings_;
  const logger& log_;
  std::map<std::string, std::shared_ptr<flight>> in_flight_;  // touched on strand_ only

  struct cached_token {
    std::string token;
    std::int64_t fresh_until = 0;  // unix seconds: where the advisory window begins
    std::chrono::steady_clock::time_point recheck_at;
    std::uint64_t store_generation = 0;
  };
  void remember(const std::string& credential_id, const std::string& token, std::int64_t fresh_until,
                std::uint64_t store_generation);
  void forget(const std::string& credential_id);
  mutable std::shared_mutex cache_mutex_;
  std::unordered_map<std::string, cached_token> cache_;  // guarded by cache_mutex_

  std::atomic<std::uint64_t> refreshes_{0};
  std::atomic<std::uint64_t> refresh_failures_{0};
  std::atomic<std::uint64_t> refreshes_skipped_fresh_{0};
  std::atomic<std::uint64_t> code_exchanges_{0};
  std::atomic<std::uint64_t> waits_for_refresh_{0};
};

}  // namespace amc::auth
