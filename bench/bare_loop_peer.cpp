// A peer for bench/poll_bench.sh: the floor of libamc's own stack. It reads
// execution statuses from the sandbox with Boost.Asio and Boost.Beast and
// nothing else: one I/O thread, CONNECTIONS keep-alive connections over
// plain HTTP, each a loop of "write the GET, read the reply, check for 200"
// in completion handlers. No deadlines, retries, rate limit, tokens or
// schedule, so the gap between it and the poller is what those (and the
// layers that carry them) cost per read.
//
// Usage: amc_bare_loop_peer --url URL --instance ID --ids FILE --count N
//                           --seconds S --connections C
// Header values come from the environment as for wrk and the Python peers
// (SANDBOX_CLIENT_ID, SANDBOX_ACCESS_TOKEN, SANDBOX_ADVERTISER_ID,
// SANDBOX_MARKETPLACE_ID), never from a file or the command line.
// Prints {"peer", "reads", "seconds", "cpu_seconds", "failed"} as JSON;
// exits 2 on bad arguments, 1 when it cannot connect.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    std::fprintf(stderr, "amc_bare_loop_peer: %s is not set\n", name);
    std::exit(2);
  }
  return value;
}

struct shared_state {
  std::vector<std::string> paths;
  std::string headers;  // the request's header lines and the blank line
  std::size_t next = 0;
  std::atomic<long> reads{0};
  std::atomic<long> failed{0};
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(asio::io_context& io, shared_state& state) : socket_(io), state_(state) {}
  tcp::socket& socket() { return socket_; }

  void read_next() {
    const auto& path = state_.paths[state_.next++ % state_.paths.size()];
    request_.clear();
    request_.append("GET ").append(path).append(" HTTP/1.1\r\n").append(state_.headers);
    asio::async_write(socket_, asio::buffer(request_), [self = shared_from_this()](auto error, std::size_t) {
      if (error) return self->fail();
      self->parser_.emplace();
      http::async_read(self->socket_, self->buffer_, *self->parser_, [self](auto read_error, std::size_t) {
        if (read_error) return self->fail();
        if (self->parser_->get().result_int() == 200) ++self->state_.reads;
        else ++self->state_.failed;
        self->read_next();
      });
    });
  }

 private:
  void fail() { ++state_.failed; }  // the connection stops; the others go on

  tcp::socket socket_;
  shared_state& state_;
  std::string request_;
  boost::beast::flat_buffer buffer_{16 * 1024};
  std::optional<http::response_parser<http::string_body>> parser_;
};

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  for (const char* name : {"--url", "--instance", "--ids", "--count", "--seconds", "--connections"})
    if (!args.count(name)) {
      std::fprintf(stderr, "usage: amc_bare_loop_peer --url URL --instance ID --ids FILE --count N "
                           "--seconds S --connections C (missing %s)\n", name);
      return 2;
    }
  const std::string url = args["--url"];
  if (url.rfind("http://", 0) != 0) {
    std::fprintf(stderr, "amc_bare_loop_peer: plain http:// URLs only (got %s)\n", url.c_str());
    return 2;
  }
  const auto authority = url.substr(7);
  const auto colon = authority.rfind(':');
  const std::string host = authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);

  shared_state state;
  const auto count = std::stoul(args["--count"]);
  std::ifstream ids(args["--ids"]);
  for (std::string id; state.paths.size() < count && std::getline(ids, id);)
    state.paths.push_back("/amc/reporting/" + args["--instance"] + "/workflowExecutions/" + id);
  if (state.paths.empty()) {
    std::fprintf(stderr, "amc_bare_loop_peer: no ids in %s\n", args["--ids"].c_str());
    return 2;
  }
  state.headers = "Host: " + authority + "\r\nAmazon-Advertising-API-ClientId: " + env("SANDBOX_CLIENT_ID") +
                  "\r\nAuthorization: Bearer " + env("SANDBOX_ACCESS_TOKEN") +
                  "\r\nAmazon-Advertising-API-AdvertiserId: " + env("SANDBOX_ADVERTISER_ID") +
                  "\r\nAmazon-Advertising-API-MarketplaceId: " + env("SANDBOX_MARKETPLACE_ID") +
                  "\r\nAccept: application/json\r\n\r\n";

  asio::io_context io(1);
  std::vector<std::shared_ptr<connection>> connections;
  try {
    const auto endpoints = tcp::resolver(io).resolve(host, port);
    for (int i = 0; i < std::stoi(args["--connections"]); ++i) {
      auto each = std::make_shared<connection>(io, state);
      asio::connect(each->socket(), endpoints);
      each->socket().set_option(tcp::no_delay(true));
      connections.push_back(each);
    }
  } catch (const std::exception& problem) {
    std::fprintf(stderr, "amc_bare_loop_peer: cannot connect to %s: %s\n", url.c_str(), problem.what());
    return 1;
  }
  for (auto& each : connections) each->read_next();
  std::thread runner([&io] { io.run(); });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // connections warm, as for the poller
  const long reads_before = state.reads, failed_before = state.failed;
  const double cpu_before = cpu_seconds();
  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(std::stod(args["--seconds"])));
  const long reads = state.reads - reads_before, failed = state.failed - failed_before;
  const double cpu = cpu_seconds() - cpu_before;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  io.stop();
  runner.join();
  std::printf("%s\n", nlohmann::json{{"peer", "bare Asio+Beast loop"},
                                     {"reads", reads},
                                     {"seconds", elapsed},
                                     {"cpu_seconds", cpu},
                                     {"failed", failed}}
                          .dump()
                          .c_str());
  return 0;
}
