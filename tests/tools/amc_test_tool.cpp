// A test helper that runs one libamc core operation in its own process, for
// tests that need another process: Fernet interop with Python, several
// writers on one store, and kill -9 in the middle of a write.
//
// Keys come from AMC_FERNET_KEYS; secrets come on stdin, never as arguments
// (arguments show up in process listings).
#include "common/error.hpp"
#include "crypto/fernet.hpp"
#include "store/credential_store.hpp"
#include "store/store_config.hpp"

#ifdef AMC_TEST_TOOL_HAS_CLIENT
#include "client/client.hpp"
#include "client/client_config.hpp"
#include "client/internals.hpp"

#include <filesystem>
#include <fstream>
#include <thread>
#endif

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace {

std::string read_stdin() {
  std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

amc::crypto::multi_fernet keys_from_environment() {
  const char* keys = std::getenv("AMC_FERNET_KEYS");
  return amc::crypto::multi_fernet::from_key_list(keys != nullptr ? keys : "");
}

std::unique_ptr<amc::store::credential_store> open_file_store(const std::string& path) {
  return amc::store::open_store({{"path", path}});
}

int usage() {
  std::cerr << "usage: amc_test_tool fernet-encrypt | fernet-decrypt [TTL NOW] | fernet-rotate\n"
               "       amc_test_tool store-put PATH ID CLIENT_ID   (refresh token on stdin)\n"
               "       amc_test_tool store-put-many PATH PREFIX COUNT\n"
               "       amc_test_tool store-churn PATH\n"
               "       amc_test_tool store-check PATH\n"
               "       amc_test_tool store-read PATH\n"
               "       amc_test_tool access-token CLIENT_CONFIG_FILE CREDENTIAL_ID [BARRIER_DIR NAME]\n";
  return 2;
}

int run(const std::vector<std::string>& args) {
  if (args.empty()) return usage();
  const std::string& command = args[0];
  if (command == "fernet-encrypt") {
    std::cout << keys_from_environment().encrypt(read_stdin()) << "\n";
    return 0;
  }
  if (command == "fernet-decrypt") {
    const auto keys = keys_from_environment();
    const std::string token = read_stdin();
    const auto outcome = args.size() == 3
                             ? keys.decrypt(token, std::stoll(args[1]), std::stoll(args[2]))
                             : keys.decrypt(token);
    if (!outcome.token) {
      std::cerr << "invalid token: " << amc::crypto::describe(outcome.problem) << "\n";
      return 1;
    }
    std::cout << outcome.token->plaintext;
    return 0;
  }
  if (command == "fernet-rotate") {
    amc::crypto::token_problem problem{};
    const auto rotated = keys_from_environment().rotate(read_stdin(), &problem);
    if (!rotated) {
      std::cerr << "invalid token: " << amc::crypto::describe(problem) << "\n";
      return 1;
    }
    std::cout << *rotated << "\n";
    return 0;
  }
  if (command == "store-put" && args.size() == 4) {
    amc::store::credential_update update;
    update.credential_id = args[2];
    update.client_id = args[3];
    update.refresh_token = read_stdin();
    open_file_store(args[1])->put(update);
    return 0;
  }
  if (command == "store-put-many" && args.size() == 4) {
    auto store = open_file_store(args[1]);
    const int count = std::stoi(args[3]);
    for (int i = 0; i < count; ++i) {
      amc::store::credential_update update;
      update.credential_id = args[2] + "-" + std::to_string(i);
      update.client_id = "amzn1.application-oa2-client.test";
      update.refresh_token = "Atzr|refresh-" + update.credential_id;
      store->put(update);
    }
    return 0;
  }
  if (command == "store-churn" && args.size() == 2) {
    // Rewrites the file as fast as it can, with a large document, so that a
    // kill -9 lands in the middle of a write most of the time.
    auto store = open_file_store(args[1]);
    const std::string padding(4096, 'x');
    for (unsigned long round = 0;; ++round) {
      amc::store::credential_update update;
      update.credential_id = "churn-" + std::to_string(round % 50);
      update.client_id = "amzn1.application-oa2-client.test";
      update.refresh_token = "Atzr|refresh-" + update.credential_id;
      update.access_token = "Atza|" + std::to_string(round) + padding;
      store->put(update);
    }
  }
  if (command == "store-read" && args.size() == 2) {
    // What a process that only reads does: open, list, get every record
    // with its secrets. Prints how many it could read and how many it sees
    // quarantined (keys that do not decrypt them); never a secret.
    auto store = open_file_store(args[1]);
    int readable = 0;
    int quarantined = 0;
    for (const auto& record : store->list()) {
      try {
        store->get(record.credential_id, /*include_secrets=*/true);
        ++readable;
      } catch (const amc::error& problem) {
        if (problem.code_value() != amc::errc::crypto) throw;
        ++quarantined;
      }
    }
    std::cout << "readable " << readable << " quarantined " << quarantined << "\n";
    return 0;
  }
  if (command == "store-check" && args.size() == 2) {
    auto store = open_file_store(args[1]);
    const auto records = store->list();
    for (const auto& record : records) store->get(record.credential_id, /*include_secrets=*/true);
    std::cout << records.size() << "\n";
    return 0;
  }
#ifdef AMC_TEST_TOOL_HAS_CLIENT
  if (command == "access-token" && (args.size() == 3 || args.size() == 5)) {
    // Gets a usable token for the credential and says only whether it did:
    // the token itself is never printed.
    //
    // With BARRIER_DIR and NAME, several processes ask at the same moment:
    // each creates BARRIER_DIR/NAME.ready once its client is up, waits for
    // BARRIER_DIR/go (the test creates it when all are ready), and after
    // the call writes its token metrics (counters, no secrets) to
    // BARRIER_DIR/NAME.metrics.
    std::ifstream config_file(args[1]);
    const auto config = nlohmann::json::parse(config_file);
    amc::client::client client(amc::client::parse_client_config(config));
    if (args.size() == 5) {
      const std::filesystem::path barrier(args[3]);
      std::ofstream(barrier / (args[4] + ".ready")).close();
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!std::filesystem::exists(barrier / "go")) {
        if (std::chrono::steady_clock::now() > give_up) {
          std::cerr << "error: " << (barrier / "go").string() << " never appeared\n";
          return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    const auto token =
        client.run_blocking(amc::client::internals(client).tokens().access_token(args[2]), std::chrono::seconds(60));
    if (args.size() == 5)
      std::ofstream(std::filesystem::path(args[3]) / (args[4] + ".metrics")) << amc::client::internals(client).tokens().metrics().dump();
    std::cout << (token.empty() ? "empty" : "ok") << "\n";
    return token.empty() ? 1 : 0;
  }
#endif
  return usage();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const amc::error& problem) {
    std::cerr << "error: " << problem.message() << "\n";
    return 1;
  } catch (const std::exception& problem) {
    std::cerr << "error: " << problem.what() << "\n";
    return 1;
  }
}
