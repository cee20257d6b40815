// A gate for callbacks into a host: they run only while the call that owns
// them is running. A coroutine of that call may outlive it (a call whose
// deadline passed is cancelled, and its last steps can still run on a client
// thread); once the call has closed the gate, no callback of it is running
// and none will start, so the host may free whatever the callback uses.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace amc::client {

class callback_gate {
 public:
  // Runs `call` unless the gate is closed. The gate is held while it runs,
  // so calls through one gate never overlap.
  template <class Call>
  void run(Call&& call) {
    const std::lock_guard lock{mutex_};
    if (open_) std::forward<Call>(call)();
  }

  // When it returns, no call is running and none will start.
  void close() {
    const std::lock_guard lock{mutex_};
    open_ = false;
  }

 private:
  std::mutex mutex_;
  bool open_ = true;
};

// Closes a gate when the scope ends (the call returns or throws).
class gate_closer {
 public:
  explicit gate_closer(std::shared_ptr<callback_gate> gate) : gate_(std::move(gate)) {}
  ~gate_closer() { gate_->close(); }
  gate_closer(const gate_closer&) = delete;
  gate_closer& operator=(const gate_closer&) = delete;

 private:
  std::shared_ptr<callback_gate> gate_;
};

}  // namespace amc::client
