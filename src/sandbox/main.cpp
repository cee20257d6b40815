// amc-sandbox: runs the sandbox server until SIGINT or SIGTERM.
#include "sandbox/server.hpp"
#include "sandbox/service.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include <unistd.h>

int main(int argc, char** argv) {
  using namespace amc::sandbox;
  sandbox_options options;
  try {
    std::string help;
    if (!parse_command_line(argc, argv, options, help)) {
      fmt::print("{}", help);
      return 0;
    }
    if (options.state_dir.empty()) options.state_dir = fmt::format("/tmp/amc-sandbox-{}", ::getpid());
  } catch (const std::exception& error) {
    fmt::print(stderr, "amc-sandbox: {}\n", error.what());
    return 2;
  }

  // Block the stop signals before any thread starts so that only sigwait
  // below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    sandbox_server server(options);
    server.start();
    fmt::print("amc-sandbox listening on {}\n", server.base_url());
    fmt::print("state dir: {} (sandbox.json, client_secret{}{})\n", server.options().state_dir.string(),
               server.service().seeded_refresh_token().empty() ? "" : ", refresh_token",
               server.options().tls ? ", ca.pem" : "");
    std::fflush(stdout);
    int received = 0;
    sigwait(&stop_signals, &received);
    server.stop();
  } catch (const std::exception& error) {
    fmt::print(stderr, "amc-sandbox: {}\n", error.what());
    return 1;
  }
  return 0;
}
