// The resolve deadline when the system resolver hangs (a DNS server that
// never answers). getaddrinfo() has no timeout of its own, and Asio runs it
// on a private thread that cancel() cannot interrupt, so offline tests
// cannot make a lookup hang with a real name. This binary defines its own
// getaddrinfo (the executable's definition is the one every call binds to):
// it hangs for one name under .test until the test releases it, and passes
// every other name to the C library. It is a binary of its own so that no
// other test runs with the replacement.
#include "net/http_client.hpp"

#include "net_test_fixture.hpp"

#include <dlfcn.h>
#include <netdb.h>

#include <condition_variable>
#include <mutex>
#include <string_view>

namespace {

constexpr std::string_view hanging_host = "hanging-resolver.test";

struct hanging_resolver {
  std::mutex mutex;
  std::condition_variable released_changed;
  bool released = false;
  int lookups = 0;
} resolver_state;

}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                           struct addrinfo** result) {
  if (node != nullptr && node == hanging_host) {
    std::unique_lock lock(resolver_state.mutex);
    ++resolver_state.lookups;
    resolver_state.released_changed.wait_for(lock, std::chrono::seconds(15), [] { return resolver_state.released; });
    return EAI_AGAIN;
  }
  using real_getaddrinfo = int (*)(const char*, const char*, const struct addrinfo*, struct addrinfo**);
  static const auto real = reinterpret_cast<real_getaddrinfo>(dlsym(RTLD_NEXT, "getaddrinfo"));
  return real(node, service, hints, result);
}

namespace amc::net::testing {
namespace {

using namespace std::chrono_literals;

class ResolveDeadline : public NetTest {
 protected:
  ResolveDeadline() {
    std::lock_guard lock(resolver_state.mutex);
    resolver_state.released = false;
    resolver_state.lookups = 0;
  }
  // Lets the hung lookup return, so that the io_context (which joins the
  // resolver's thread) can be destroyed.
  ~ResolveDeadline() override {
    {
      std::lock_guard lock(resolver_state.mutex);
      resolver_state.released = true;
    }
    resolver_state.released_changed.notify_all();
  }
};

TEST_F(ResolveDeadline, EndsALookupThatHangs) {
  auto options = quick_options();
  options.retry.max_attempts = 1;
  options.timeouts.resolve = 300ms;
  http_client client(executor(), options);
  const std::string url = "http://" + std::string(hanging_host) + ":8080/";
  const auto started = std::chrono::steady_clock::now();
  auto error = send_expecting_error(client, get(url));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s)
      << "the request waited for the hanging lookup rather than for its resolve deadline (300 ms)";
  EXPECT_EQ(error.code_value(), errc::timeout) << error.message();
  EXPECT_EQ(error.phase(), error_phase::resolve) << phase_name(error.phase());
  EXPECT_NE(error.message().find("phase resolve"), std::string::npos) << error.message();

  // The overall deadline ends it too, even while the first lookup still
  // holds the resolver's only thread.
  options.timeouts.resolve = 60s;
  http_client other(executor(), options);
  request req = get(url);
  req.deadline = amc::deadline::after(300ms);
  error = send_expecting_error(other, req);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  EXPECT_EQ(error.code_value(), errc::timeout) << error.message();
  EXPECT_NE(error.message().find("overall deadline during resolve"), std::string::npos) << error.message();
  std::lock_guard lock(resolver_state.mutex);
  EXPECT_GE(resolver_state.lookups, 1) << "the replacement getaddrinfo was not used";
}

}  // namespace
}  // namespace amc::net::testing
