// Fuzz target: the JSON configurations hosts pass in: a client's
// (amc_client_new, client/client_config.hpp) and a store's (amc_store_new,
// store/store_config.hpp). A store config's "path" is pointed at a scratch
// folder, so no input reads or blocks on a file outside it (a fuzzed
// "/dev/stdin" would), and HOME at it for the default path.
#include "client/client_config.hpp"
#include "common/json_fields.hpp"
#include "store/store_config.hpp"

#include "fuzz_support.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

namespace {

std::filesystem::path scratch;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  scratch = std::filesystem::temp_directory_path() / ("amc-fuzz-config-" + std::to_string(::getpid()));
  std::filesystem::create_directories(scratch);
  ::setenv("HOME", scratch.c_str(), 1);
  ::unsetenv("XDG_STATE_HOME");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = amc::fuzz::split(data, size, 2);
  const std::string text(input.text);  // as a C string: up to the first NUL, as through amc.h
  amc::fuzz::refused_or_parsed([&] {
    if (input.choice == 0) {
      (void)amc::client::decode_client_config(text.c_str());
      return;
    }
    auto config = amc::parse_json_bounded(text.c_str());
    if (config && config->is_object() && config->contains("path")) {
      if ((*config)["path"].is_string()) (*config)["path"] = (scratch / "store.json").string();
      (void)amc::store::open_store(*config);
    } else {
      (void)amc::store::open_store_from_text(text.c_str());
    }
  });
  return 0;
}
