// A call's deadline: one value made where the call enters the core (the
// door, src/client) and carried unchanged down to every socket phase,
// retry, Retry-After and rate-limiter wait. Every wait asks time_left() how
// long it may take (as curl's Curl_timeleft does); nobody reconciles
// deadlines of their own with min().
#pragma once

#include <chrono>

namespace amc {

struct deadline {
  using clock = std::chrono::steady_clock;

  // When the call must have ended; max(): no deadline.
  clock::time_point at = clock::time_point::max();
  // The figure it was made from, for messages ("a deadline of 8000 ms").
  std::chrono::milliseconds budget{0};

  deadline() = default;
  deadline(clock::time_point when, std::chrono::milliseconds figure) : at(when), budget(figure) {}
  // A point on the clock alone: its budget is what is left of it now.
  deadline(clock::time_point when)  // NOLINT(google-explicit-constructor): a time point is a deadline
      : at(when), budget(when == clock::time_point::max() ? std::chrono::milliseconds::zero() : left_ms(when, clock::now())) {}

  // `budget` from now.
  static deadline after(std::chrono::milliseconds budget) { return {clock::now() + budget, budget}; }
  // `budget` from `start` (a clock read the caller already has).
  static deadline after(std::chrono::milliseconds budget, clock::time_point start) { return {start + budget, budget}; }

  bool bounded() const noexcept { return at != clock::time_point::max(); }
  bool passed(clock::time_point now) const noexcept { return now >= at; }

  // What is left at `now`: never negative (zero once it passed), and
  // clock::duration::max() without a deadline.
  clock::duration time_left(clock::time_point now) const noexcept {
    if (!bounded()) return clock::duration::max();
    return now >= at ? clock::duration::zero() : at - now;
  }
  clock::duration time_left() const { return time_left(clock::now()); }
  // The same in whole milliseconds, rounded up (a wait of 0.2 ms is 1 ms).
  std::chrono::milliseconds time_left_ms(clock::time_point now) const noexcept {
    if (!bounded()) return std::chrono::milliseconds::max();
    return left_ms(at, now);
  }

 private:
  static std::chrono::milliseconds left_ms(clock::time_point when, clock::time_point now) noexcept {
    return now >= when ? std::chrono::milliseconds::zero() : std::chrono::ceil<std::chrono::milliseconds>(when - now);
  }
};

}  // namespace amc
