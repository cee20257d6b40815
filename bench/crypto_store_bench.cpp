// Google Benchmark programs for the token-safety path that every task run
// goes through: Fernet on a refresh-token-sized secret, and reading one
// credential (with its secrets) from a file store of many. The Python peer,
// bench/fernet_peer.py, times the same Fernet operations with the
// `cryptography` package; bench/fernet_vs_python.sh runs both and prints
// medians and ratios.
#include "crypto/base64url.hpp"
#include "crypto/fernet.hpp"
#include "store/backend.hpp"
#include "store/credential_store.hpp"

#include <benchmark/benchmark.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

using amc::crypto::fernet_key;
using amc::crypto::multi_fernet;

std::string random_text(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return amc::crypto::base64url_encode(raw);
}

std::string new_key() { return random_text(32); }

// LwA refresh tokens are a few hundred characters ("Atzr|" + ~350).
const std::string& refresh_token_like() {
  static const std::string token = "Atzr|" + random_text(260).substr(0, 350);
  return token;
}

void FernetEncrypt(benchmark::State& state) {
  const auto key = fernet_key::from_text(new_key());
  for (auto _ : state) benchmark::DoNotOptimize(key.encrypt(refresh_token_like()));
}
BENCHMARK(FernetEncrypt);

void FernetDecrypt(benchmark::State& state) {
  const auto key = fernet_key::from_text(new_key());
  const auto token = key.encrypt(refresh_token_like());
  for (auto _ : state) {
    auto outcome = key.decrypt(token);
    if (!outcome.token) state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(FernetDecrypt);

// The second key of the list is the one that reads: the rotation case.
void MultiFernetDecryptWithTheOldKey(benchmark::State& state) {
  const auto old_key = new_key();
  const auto keys = multi_fernet::from_key_list(new_key() + "," + old_key);
  const auto token = fernet_key::from_text(old_key).encrypt(refresh_token_like());
  for (auto _ : state) {
    auto outcome = keys.decrypt(token);
    if (!outcome.token) state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(MultiFernetDecryptWithTheOldKey);

void MultiFernetRotate(benchmark::State& state) {
  const auto old_key = new_key();
  const auto keys = multi_fernet::from_key_list(new_key() + "," + old_key);
  const auto token = fernet_key::from_text(old_key).encrypt(refresh_token_like());
  for (auto _ : state) benchmark::DoNotOptimize(keys.rotate(token));
}
BENCHMARK(MultiFernetRotate);

// What a task pays to get its credential: read and parse the store file,
// then decrypt one record's secrets. range(0) = credentials in the file.
void FileStoreGetWithSecrets(benchmark::State& state) {
  const auto directory = std::filesystem::temp_directory_path() /
                         ("amc-bench-store-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  amc::store::credential_store store(
      std::make_unique<amc::store::file_backend>(directory / "credentials.json"),
      multi_fernet::from_key_list(new_key()));
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    amc::store::credential_update update;
    update.credential_id = "conn_" + std::to_string(i);
    update.client_id = "amzn1.application-oa2-client.bench";
    update.refresh_token = refresh_token_like();
    update.access_token = "Atza|" + random_text(300);
    update.access_token_expires_at = 2'000'000'000;
    store.put(update);
  }
  const std::string wanted = "conn_" + std::to_string(state.range(0) / 2);
  for (auto _ : state) benchmark::DoNotOptimize(store.get(wanted, true));
  std::filesystem::remove_all(directory);
}
BENCHMARK(FileStoreGetWithSecrets)->Arg(1)->Arg(100)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
