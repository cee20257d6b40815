// When the poller reads an execution next, and how it reads a group of them.
// Pure arithmetic (time and randomness are passed in), so the rules are
// tested without a clock.
//
// Knobs (amc_poller_new's JSON, all optional):
//   first_interval_ms        5000    first reads of a watch, and again after
//                                    every status change
//   max_interval_ms          120000  an unchanged status makes the interval
//                                    grow by `growth` per read up to this
//   growth                   1.5
//   jitter                   0.2     each delay is the interval × U(1-j, 1+j),
//                                    so watches taken together spread out
//   near_finish_interval_ms  10000   used instead when the execution is about
//                                    to finish: AMC says PUBLISHING (the last
//                                    step before SUCCEEDED), or it has been
//                                    RUNNING for about as long as finished
//                                    runs of the same workflow on the same
//                                    instance took (the history)
//   min_interval_ms          1000    no execution is read more often
//   error_backoff_max_ms     60000   after a failed read (network, 5xx,
//                                    sandbox down) the delay doubles from
//                                    first_interval_ms up to this
//   max_in_flight            32      reads (a GET, or one paged list) at once
//   requests_per_second      0       the poller's own ceiling on top of the
//                                    client's rate limiter (0: only the
//                                    client's, which every request of the
//                                    client shares)
//   batching                 true    refresh several watched executions of
//                                    one instance with one paged list call
//                                    when that takes fewer requests
//   list_page_size           100     executions per list request (1-100)
//   batched_interval_ms      5000    a watch refreshed by a list call is read
//                                    again within this: one list costs the
//                                    same whether it refreshes 2 executions
//                                    or 100, so a batched watch can afford
//                                    short intervals (and a fast detection)
//   read_timeout_ms          60000   the deadline of one read (a GET, or a
//                                    paged list with all its pages), its
//                                    retries and Retry-After waits included;
//                                    a read that reaches it counts as a
//                                    failed read (the watch goes on); a
//                                    token refresh it waits for keeps its
//                                    own limits (shared with other calls)
//   list_max_pages           10      a list read that needs more pages
//                                    (AMC keeps handing out nextTokens, the
//                                    same or a new one each time) is given up
//   list_timeout_ms          15000   … as is one not done within this (or
//                                    read_timeout_ms, when shorter)
//   list_fallback_ms         600000  after a list read was given up, the
//                                    watches of its group (credential and
//                                    instance) are read with single GETs,
//                                    at once and for this long, and the
//                                    poller logs why (WARNING); then lists
//                                    are tried again (issue 23 kind 1)
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace amc::poll {

using milliseconds = std::chrono::milliseconds;

struct poll_settings {
  milliseconds first_interval{5'000};
  milliseconds max_interval{120'000};
  double growth = 1.5;
  double jitter = 0.2;
  milliseconds near_finish_interval{10'000};
  milliseconds min_interval{1'000};
  milliseconds error_backoff_max{60'000};
  int max_in_flight = 32;
  double requests_per_second = 0;
  bool batching = true;
  int list_page_size = 100;
  milliseconds batched_interval{5'000};
  milliseconds read_timeout{60'000};
  int list_max_pages = 10;
  milliseconds list_timeout{15'000};
  milliseconds list_fallback{600'000};
};

// Strict: unknown fields and out-of-range values are invalid_argument naming
// the field.
poll_settings parse_poll_settings(const nlohmann::json& config);

// The interval after a read: back to first_interval on a status change,
// else grown by `growth`, never above max_interval.
milliseconds next_interval(const poll_settings& settings, milliseconds current, bool status_changed);

// What AMC's answer says about how soon the execution may finish.
struct finish_hint {
  bool publishing = false;  // the last phase before SUCCEEDED
  // Seconds until a RUNNING execution reaches the running time that finished
  // runs of its workflow took (negative: already past it); none without
  // history or when not RUNNING.
  std::optional<double> seconds_to_expected_finish;
};

// The delay before the next read: `interval` with jitter (`unit_random` in
// [0, 1)), shortened to near_finish_interval (or to the expected finish)
// when the hint says the execution is about to finish, never below
// min_interval.
milliseconds delay_before_next_read(const poll_settings& settings, milliseconds interval, const finish_hint& hint,
                                    double unit_random);

// The delay after `failures` failed reads in a row (1, 2, ...): doubling
// from first_interval up to error_backoff_max, with jitter.
milliseconds delay_after_failure(const poll_settings& settings, int failures, double unit_random);

// Requests a list refresh of `executions_listed` executions takes.
long list_requests(const poll_settings& settings, std::size_t executions_listed);

// Whether one paged list call that returns `executions_listed` executions
// is cheaper than `single_reads` GETs.
bool list_is_cheaper(const poll_settings& settings, std::size_t executions_listed, std::size_t single_reads);

}  // namespace amc::poll
