// The poller's benchmarks (Google Benchmark), against a running amc-sandbox
// that bench/poll_bench.sh starts and shares with the peers (wrk, Python):
//
//   PollerStatusReads/N    status reads/s and CPU-seconds per 1,000 reads,
//                          N distinct executions read round-robin by GETs
//                          (batching off: one read is one request, as for
//                          the peers), AMC_BENCH_CONNECTIONS reads at once
//   PollerMemoryPerWatch/N resident memory per watched execution
//   PollerSchedule/S       requests per completed execution and p50/p99
//                          detection latency (in AMC time) for the schedule
//                          S: 0 adaptive + batched, 1 fixed 15 s, 2 fixed 5 min
//
// Environment (set by the script):
//   AMC_BENCH_SANDBOX   state dir of the sandbox for the reads (sandbox.json…)
//   AMC_BENCH_IDS       file of execution ids, one a line (the reads' ids)
//   AMC_BENCH_SECONDS   measuring time of a throughput run (default 5)
//   AMC_BENCH_CONNECTIONS  reads at once and pooled connections (default 32)
//   AMC_BENCH_SCHEDULE_SANDBOX  state dir of the scaled-clock sandbox
//   AMC_BENCH_TIME_SCALE its --time-scale; AMC_BENCH_EXECUTIONS how many runs
// A benchmark whose sandbox is not given is skipped with a message.
#include "client/auth.hpp"
#include "client/client.hpp"
#include "client/client_config.hpp"
#include "client/operations.hpp"
#include "client/watch.hpp"
#include "common/call_context.hpp"
#include "poll/poller.hpp"

#include "bench_support.hpp"

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

using amc::bench::random_fernet_key;
using amc::bench::read_text;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// A client of the sandbox in `state_dir`, holding credential "bench".
struct sandbox_client {
  json info;
  amc::call_context context;
  std::unique_ptr<amc::client::client> client;
  fs::path store_dir;

  sandbox_client(const fs::path& state_dir, int connections) {
    info = json::parse(read_text(state_dir / "sandbox.json"));
    const std::string url = info["url"];
    store_dir = fs::temp_directory_path() / ("amc_poll_bench_" + std::to_string(::getpid()) + "_" +
                                             std::to_string(std::random_device{}()));
    fs::create_directories(store_dir);
    json config = {
        {"endpoints", {{"amc", url}, {"lwa_token", info["token_url"]}, {"lwa_consent", info["consent_url"]}}},
        {"lwa", {{"client_id", info["client_id"]}, {"client_secret", read_text(state_dir / "client_secret")}}},
        {"proxy", {{"from_environment", false}}},
        {"rate_limit", {{"requests_per_second", 1e9}, {"burst", 1e9}}},
        {"http", {{"max_connections_per_host", connections}}},
        {"store", {{"path", (store_dir / "creds.json").string()}, {"fernet_keys", random_fernet_key()}}},
    };
    if (info.value("tls", false)) config["tls"] = {{"ca_file", (state_dir / "ca.pem").string()}};
    client = std::make_unique<amc::client::client>(amc::client::parse_client_config(config));
    amc::client::credential_import_request credential;
    credential.credential_id = "bench";
    credential.refresh_token = read_text(state_dir / "refresh_token");
    amc::client::import_credential(*client, credential);
    context = {"bench", info["instance_id"], info["advertiser_id"], info["marketplace_id"]};
  }
  ~sandbox_client() {
    client.reset();
    std::error_code ignored;
    fs::remove_all(store_dir, ignored);
  }
};

std::vector<std::string> read_ids(std::size_t count) {
  std::ifstream in(env_or("AMC_BENCH_IDS", ""));
  std::vector<std::string> ids;
  for (std::string line; ids.size() < count && std::getline(in, line);)
    if (!line.empty()) ids.push_back(line);
  return ids;
}

void ignore_event(const char*, void*) {}

void PollerStatusReads(benchmark::State& state) {
  const auto sandbox = env_or("AMC_BENCH_SANDBOX", "");
  const auto count = static_cast<std::size_t>(state.range(0));
  const auto ids = read_ids(count);
  if (sandbox.empty() || ids.size() < count) {
    state.SkipWithError("set AMC_BENCH_SANDBOX and AMC_BENCH_IDS (run bench/poll_bench.sh)");
    return;
  }
  const int connections = std::stoi(env_or("AMC_BENCH_CONNECTIONS", "32"));
  const double seconds = std::stod(env_or("AMC_BENCH_SECONDS", "5"));
  sandbox_client bench(sandbox, connections);
  // Every watch is due again as soon as its read is back: the poller reads
  // as fast as its connections allow, like the peers.
  amc::poll::poll_settings settings;
  settings.first_interval = settings.max_interval = settings.min_interval = 0ms;
  settings.near_finish_interval = settings.batched_interval = 0ms;
  settings.jitter = 0;
  settings.batching = false;
  settings.max_in_flight = connections;
  amc::poll::poller poller(amc::client::poll_source(*bench.client), settings);
  for (const auto& id : ids) {
    amc::poll::watch_request request;
    request.context = bench.context;
    request.amc_execution_id = id;
    request.callback = &ignore_event;
    poller.watch(request);
  }
  // Warm-up: connections open, token fetched, and every watch read once (its
  // first read parses the reply and fires the first callback; the later ones
  // are the steady state the peers are compared with). With 100,000 ids this
  // takes a few seconds; a poller that cannot get there within a minute
  // fails the benchmark instead of measuring its start-up.
  const auto warm_deadline = std::chrono::steady_clock::now() + 60s;
  std::this_thread::sleep_for(1s);
  while (poller.stats()["get_requests"].get<double>() < static_cast<double>(count)) {
    if (std::chrono::steady_clock::now() > warm_deadline) {
      state.SkipWithError("the poller did not read every watch once within 60 s (is the sandbox answering?)");
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
  for (auto _ : state) {
    const auto reads_before = poller.stats()["get_requests"].get<double>();
    const auto failed_before = poller.stats()["failed_reads"].get<double>();
    const double cpu_before = cpu_seconds();
    const auto started = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto stats = poller.stats();
    const double reads = stats["get_requests"].get<double>() - reads_before;
    const double cpu = cpu_seconds() - cpu_before;
    state.SetIterationTime(elapsed);
    state.counters["reads_per_second"] = reads / elapsed;
    state.counters["cpu_s_per_1000_reads"] = reads > 0 ? cpu * 1000 / reads : 0;
    state.counters["failed_reads"] = stats["failed_reads"].get<double>() - failed_before;
    state.counters["connections"] = connections;
  }
}
BENCHMARK(PollerStatusReads)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

void PollerMemoryPerWatch(benchmark::State& state) {
  const auto sandbox = env_or("AMC_BENCH_SANDBOX", "");
  const auto count = static_cast<std::size_t>(state.range(0));
  auto ids = read_ids(count);
  if (sandbox.empty() || ids.size() < count) {
    state.SkipWithError("set AMC_BENCH_SANDBOX and AMC_BENCH_IDS (run bench/poll_bench.sh)");
    return;
  }
  sandbox_client bench(sandbox, 4);
  amc::poll::poll_settings settings;
  settings.max_in_flight = 4;
  settings.batching = false;
  // The requests of a watch come from the host; build them first so that
  // only the poller's own memory is counted.
  std::vector<amc::poll::watch_request> requests(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    requests[i].context = bench.context;
    requests[i].amc_execution_id = ids[i];
    requests[i].callback = &ignore_event;
  }
  for (auto _ : state) {
    const long before = resident_bytes();
    amc::poll::poller poller(amc::client::poll_source(*bench.client), settings);
    for (const auto& request : requests) poller.watch(request);
    const long after = resident_bytes();
    state.counters["bytes_per_watch"] = static_cast<double>(after - before) / static_cast<double>(count);
    state.counters["watched"] = poller.stats()["watched"].get<double>();
  }
}
BENCHMARK(PollerMemoryPerWatch)->Arg(100'000)->Iterations(1)->Unit(benchmark::kMillisecond);

// One run of the schedule benchmark: executions with running times spread
// over 15-60 AMC minutes, watched until all are done.
struct schedule_watch {
  std::chrono::steady_clock::time_point expected_finish;
  std::chrono::steady_clock::time_point detected;
  std::atomic<int>* finished = nullptr;
};

void on_schedule_event(const char* event_json, void* user) {
  auto& watch = *static_cast<schedule_watch*>(user);
  if (std::string_view(event_json).find("\"terminal\":true") == std::string_view::npos) return;
  watch.detected = std::chrono::steady_clock::now();
  ++*watch.finished;
}

void PollerSchedule(benchmark::State& state) {
  const auto sandbox = env_or("AMC_BENCH_SCHEDULE_SANDBOX", "");
  if (sandbox.empty()) {
    state.SkipWithError("set AMC_BENCH_SCHEDULE_SANDBOX (run bench/poll_bench.sh)");
    return;
  }
  const double scale = std::stod(env_or("AMC_BENCH_TIME_SCALE", "120"));
  const int count = std::stoi(env_or("AMC_BENCH_EXECUTIONS", "1000"));
  const auto strategy = state.range(0);
  sandbox_client bench(sandbox, 32);
  const auto scaled = [&](double amc_seconds) {
    return std::chrono::milliseconds(static_cast<long long>(amc_seconds * 1000 / scale));
  };
  amc::poll::poll_settings settings;  // the defaults, on the scaled clock
  settings.first_interval = scaled(5);
  settings.max_interval = scaled(120);
  settings.near_finish_interval = scaled(10);
  settings.min_interval = scaled(1);
  settings.batched_interval = scaled(5);
  settings.error_backoff_max = scaled(60);
  if (strategy != 0) {  // amazon-helper's 15 s, AWS's workflow manager's 5 min
    const auto every = scaled(strategy == 1 ? 15 : 300);
    settings.first_interval = settings.max_interval = settings.near_finish_interval = settings.min_interval = every;
    settings.jitter = 0;
    settings.batching = false;
  }
  settings.max_in_flight = 32;
  constexpr double pending = 60, publishing = 60;
  std::vector<schedule_watch> watches(static_cast<std::size_t>(count));
  std::atomic<int> finished{0};
  for (auto _ : state) {
    amc::poll::poller poller(amc::client::poll_source(*bench.client), settings);
    for (int i = 0; i < count; ++i) {
      const double running = 15 * 60 + 45 * 60 * (count > 1 ? static_cast<double>(i) / (count - 1) : 0.0);
      const std::string sql = "SELECT " + std::to_string(i) + " -- sandbox: pending=" +
                              std::to_string(static_cast<int>(pending)) + "s duration=" +
                              std::to_string(static_cast<int>(running)) + "s publishing=" +
                              std::to_string(static_cast<int>(publishing)) + "s";
      amc::api::execution_submit_request submit;
      submit.context = bench.context;
      submit.request = {{"workflow", {{"sqlQuery", sql}}}};
      const auto execution =
          amc::client::submit(*bench.client, submit, amc::client::call_deadline::after(60s)).execution;
      auto& watch = watches[static_cast<std::size_t>(i)];
      watch.expected_finish = std::chrono::steady_clock::now() +
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>((pending + running + publishing) / scale));
      watch.finished = &finished;
      amc::poll::watch_request request;
      request.context = bench.context;
      request.amc_execution_id = execution["workflowExecutionId"];
      request.create_time = execution["createTime"];
      request.callback = &on_schedule_event;
      request.user = &watch;
      poller.watch(request);
    }
    const auto limit = std::chrono::steady_clock::now() + std::chrono::duration<double>(2 * 3600 / scale + 60);
    while (finished < count && std::chrono::steady_clock::now() < limit) std::this_thread::sleep_for(20ms);
    const auto stats = poller.stats();
    std::vector<double> latencies;
    for (const auto& watch : watches)
      latencies.push_back(std::max(0.0, std::chrono::duration<double>(watch.detected - watch.expected_finish).count() *
                                            scale));
    std::sort(latencies.begin(), latencies.end());
    const auto percentile = [&](double p) {
      return latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
    };
    state.counters["executions"] = count;
    state.counters["completed"] = finished.load();
    state.counters["requests_per_execution"] = stats["requests_sent"].get<double>() / count;
    state.counters["p50_detection_s"] = percentile(0.50);
    state.counters["p99_detection_s"] = percentile(0.99);
    state.counters["batched_reads"] = stats["batched_reads"].get<double>();
    state.counters["time_scale"] = scale;
  }
}
BENCHMARK(PollerSchedule)->Arg(0)->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
