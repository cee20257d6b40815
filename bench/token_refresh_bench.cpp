// Token refreshes under contention, through the C ABI as hosts use it:
// callers spread over several processes that share one file store, all
// asking for the same credential at once with no valid access token. libamc
// promises one refresh per credential across threads and processes, so the
// sandbox must see exactly one LwA token request; bench/poll_bench.sh counts
// them in the sandbox's stats before and after this program.
//
// Usage: amc_token_refresh_bench SANDBOX_STATE_DIR [callers=50] [processes=4]
// Prints {"processes", "callers", "failed"} and exits 1 when a call failed.
#include "amc/amc.h"

#include "bench_support.hpp"

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <barrier>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using amc::bench::random_fernet_key;
using amc::bench::read_text;

// One process: `callers` threads released together, each needing a token.
int run_callers(const std::string& config, int callers) {
  amc_client* client = nullptr;
  if (amc_client_new(config.c_str(), &client) != AMC_OK) {
    std::fprintf(stderr, "client: %s\n", amc_last_error());
    return callers;
  }
  std::barrier start(callers);
  std::vector<int> failed(static_cast<std::size_t>(callers), 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      char* out = nullptr;
      if (amc_accounts_list(client, "{\"credential_id\": \"bench\"}", &out) != AMC_OK) {
        std::fprintf(stderr, "caller %d: %s\n", i, amc_last_error());
        failed[static_cast<std::size_t>(i)] = 1;
      }
      amc_free(out);
    });
  for (auto& thread : threads) thread.join();
  amc_client_free(client);
  int count = 0;
  for (int value : failed) count += value;
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s SANDBOX_STATE_DIR [callers=50] [processes=4]\n", argv[0]);
    return 2;
  }
  const fs::path state = argv[1];
  const int callers = argc > 2 ? std::stoi(argv[2]) : 50;
  const int processes = argc > 3 ? std::stoi(argv[3]) : 4;
  const auto info = json::parse(read_text(state / "sandbox.json"));
  const fs::path store = fs::temp_directory_path() / ("amc_token_bench_" + std::to_string(::getpid()));
  fs::create_directories(store);
  json config = {
      {"endpoints", {{"amc", info["url"]}, {"lwa_token", info["token_url"]}, {"lwa_consent", info["consent_url"]}}},
      {"lwa", {{"client_id", info["client_id"]}, {"client_secret", read_text(state / "client_secret")}}},
      {"proxy", {{"from_environment", false}}},
      {"store", {{"path", (store / "creds.json").string()}, {"fernet_keys", random_fernet_key()}}},
  };
  if (info.value("tls", false)) config["tls"] = {{"ca_file", (state / "ca.pem").string()}};
  const std::string config_text = config.dump();
  {
    // The credential with its refresh token only: no access token is valid.
    amc_client* client = nullptr;
    if (amc_client_new(config_text.c_str(), &client) != AMC_OK) {
      std::fprintf(stderr, "client: %s\n", amc_last_error());
      return 2;
    }
    const json credential = {{"credential_id", "bench"}, {"refresh_token", read_text(state / "refresh_token")}};
    const auto status = amc_auth_import(client, credential.dump().c_str());
    amc_client_free(client);
    if (status != AMC_OK) {
      std::fprintf(stderr, "import: %s\n", amc_last_error());
      return 2;
    }
  }
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    const int share = callers / processes + (p < callers % processes ? 1 : 0);
    const pid_t child = ::fork();
    if (child == 0) ::_exit(std::min(run_callers(config_text, share), 100));
    children.push_back(child);
  }
  int failed = 0;
  for (const pid_t child : children) {
    int status = 0;
    ::waitpid(child, &status, 0);
    failed += WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  std::error_code ignored;
  fs::remove_all(store, ignored);
  std::printf("%s\n", json{{"processes", processes}, {"callers", callers}, {"failed", failed}}.dump().c_str());
  return failed == 0 ? 0 : 1;
}
