#include "client/client.hpp"

#include "common/text.hpp"
#include "net/url.hpp"
#include "store/store_config.hpp"

#include <boost/asio/ip/address.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <utility>

namespace amc::client {
namespace {
thread_local bool running_client_io = false;
}

bool on_client_thread() { return running_client_io; }

namespace detail {
void rethrow_as_cancelled() {
  try {
    throw;
  } catch (const error& problem) {
    if (problem.code_value() == errc::cancelled) throw;
  } catch (...) {
  }
  throw error(errc::cancelled, "the call was cancelled by its caller");
}
}  // namespace detail

namespace {
// The host of an http:// URL when it is not a loopback address or name
// (127.0.0.0/8, ::1, localhost); nothing for https:// and for loopback.
std::optional<std::string> plain_http_remote_host(const std::string& url) {
  if (url.empty()) return std::nullopt;
  net::url_parts parts;
  try {
    parts = net::parse_url(url);
  } catch (const std::exception&) {
    return std::nullopt;  // refused where it is used, with its own message
  }
  if (parts.is_tls()) return std::nullopt;
  std::string host = parts.host;
  std::transform(host.begin(), host.end(), host.begin(), ascii_lower);
  boost::system::error_code problem;
  const auto address = boost::asio::ip::make_address(host, problem);
  if (!problem && address.is_loopback()) return std::nullopt;
  if (host == "localhost" || (host.size() > 10 && host.ends_with(".localhost"))) return std::nullopt;
  return parts.host;
}
}  // namespace

client::client(client_config config, std::unique_ptr<store::store_backend> host_store)
    : config_(std::move(config)), owner_process_(::getpid()), keep_running_(io_.get_executor()) {
  store_ = store::open_store(config_.store, std::move(host_store));
  // The HTTP layer logs its retries, waits and reconnects through the
  // client's logger (declared before http_, so it outlives it).
  http_ = std::make_unique<net::http_client>(io_.get_executor(), config_.http, &log_);
  // Loud on purpose (issue 12 item 10): kept for the host's first log
  // callback, which it can only set after this constructor returns.
  if (!config_.http.tls.verify_peer)
    log_.log_or_keep(log_level::warning,
                     "TLS peer verification is OFF (tls.verify_peer = false): this client accepts any "
                     "certificate, so anyone on the network path can read and change its traffic, tokens "
                     "included. Use it only against a local test server; trust a private CA with "
                     "tls.ca_file instead");
  // Plain http:// to another machine is as open to the network path as a
  // TLS peer nobody verifies, so it is warned about the same way (issue 23
  // kind 10); loopback (a local sandbox or test server) is not.
  for (const auto& [field, url] : {std::pair<std::string_view, const std::string&>{"endpoints.amc", config_.amc_base_url},
                                   {"endpoints.lwa_token", config_.lwa.token_url},
                                   {"endpoints.lwa_consent", config_.lwa.consent_url}})
    if (const auto host = plain_http_remote_host(url))
      log_.log_or_keep(log_level::warning,
                       fmt::format("{} is plain http:// to {}, which is not this machine: tokens and data go "
                                   "unencrypted, so anyone on the network path can read and change them "
                                   "(treated like tls.verify_peer = false). Use https://",
                                   field, quoted_text(*host)));
  auth::token_settings settings;
  settings.client = config_.lwa_client;
  settings.token_url = config_.lwa.token_url;
  settings.advisory_window = config_.advisory_window;
  settings.mandatory_window = config_.mandatory_window;
  settings.store_recheck = config_.store_recheck;
  tokens_ = std::make_unique<auth::token_manager>(io_.get_executor(), *http_, *store_, settings, log_);
  amc_ = std::make_unique<api::session>(*http_, *tokens_, config_.amc_base_url,
                                        config_.lwa_client.client_id, log_);
  journal_ = std::make_unique<store::execution_journal>(store_->backend(), config_.journal_retention);
  for (int i = 0; i < config_.io_threads; ++i)
    threads_.emplace_back([this] {
      running_client_io = true;
      io_.run();
    });
  if (config_.refresh_service) {
    refresher_ = std::make_unique<auth::refresh_service>(io_.get_executor(), *tokens_, *store_,
                                                         config_.refresh, log_);
    refresher_->start();
  }
}

client::~client() {
  if (::getpid() != owner_process_) {
    // In a forked child the threads do not exist: joining them would hang
    // and destroying joinable std::threads would terminate. Leak them.
    [[maybe_unused]] auto* leaked = new std::vector<std::thread>(std::move(threads_));
    return;
  }
  // First the host's log callback: when amc_client_free returns, it is not
  // running and will not run (set_sink waits for calls in progress).
  log_.set_sink(nullptr);
  if (refresher_) refresher_->stop();
  http_->shutdown();
  keep_running_.reset();
  io_.stop();
  for (auto& thread : threads_) thread.join();
}

void client::check_process() const {
  if (::getpid() != owner_process_)
    throw error(errc::forked,
                "this client was created in another process (before fork()); create a new client "
                "in this process");
}

void client::refuse_blocking_on_own_thread() const {
  if (on_client_thread())
    throw error(errc::invalid_argument,
                "a blocking libamc call was made from a libamc callback thread, where it would "
                "deadlock; return from the callback and make the call from another thread");
}

nlohmann::json client::metrics() const {
  return {{"http", http_->metrics()}, {"tokens", tokens_->metrics()}};
}

}  // namespace amc::client
