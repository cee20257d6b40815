// Fuzz target: the credential store's document as a host's store callbacks
// (amc_store_callbacks) or a store file hands it over, then everything a
// client does with it: open, list, read every credential with its secrets,
// put one, rotate the keys, remove one, and the execution journal's reads
// and writes. Whatever the document, each step succeeds or is refused with
// amc::error, and what the store writes reads back (document_text).
#include "store/credential_store.hpp"
#include "store/document_text.hpp"
#include "store/execution_journal.hpp"
#include "store/host_backend.hpp"
#include "store/store_config.hpp"

#include "fuzz_support.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace {

using nlohmann::json;
using namespace amc;

// Fixed test keys (not secrets of anything), so the corpus may hold sealed
// records that decrypt.
constexpr const char* fernet_keys =
    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=,AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

// `writes`: also put, rotate, remove and journal (the file backend's
// writes fsync, too slow to run on every input: the host's take them).
void use_store(store::credential_store& store, bool writes) {
  store.check_readable();
  for (const auto& record : store.list())
    fuzz::refused_or_parsed([&] { (void)store.get(record.credential_id, true); });
  if (!writes) return;
  fuzz::refused_or_parsed([&] {
    store::credential_update update;
    update.credential_id = "fuzz-credential";
    update.refresh_token = "Atzr|fuzz-refresh";
    store.put(update);
    if (!store.get("fuzz-credential", true).refresh_token) fuzz::finding("a put credential lost its token", "");
  });
  fuzz::refused_or_parsed([&] { (void)store.rotate_keys(); });
  fuzz::refused_or_parsed([&] { (void)store.remove("fuzz-credential"); });
  fuzz::refused_or_parsed([&] {
    store::execution_journal journal(store.backend());
    (void)journal.find("exec_0000fuzz");
    (void)journal.find_by_amc_id("00000000-0000-0000-0000-000000000000");
    store::journal_entry entry;
    entry.execution_id = "exec_0000fuzz";
    entry.instance_id = "amcfuzz";
    entry.workflow_id = "wf_fuzz";
    entry.fingerprint = "f";
    (void)journal.begin(entry);
  });
}

// The host's callbacks keep the document in `text`; every write must be
// one the reader takes back.
void through_host(std::string_view document) {
  auto text = std::make_shared<std::optional<std::string>>(std::string(document));
  store::host_functions host;
  host.read = [text] { return *text; };
  host.write = [text](const std::string& written) {
    (void)store::parse_document_text(written, "what the store wrote", "");  // throws: a finding
    *text = written;
  };
  host.try_lock = [](const std::string&) { return true; };
  host.unlock = [](const std::string&) {};
  host.release = [] {};
  auto store = store::open_store(json{{"kind", "host"}, {"fernet_keys", fernet_keys}},
                                 std::make_unique<store::host_backend>(std::move(host)));
  use_store(*store, true);
}

void through_file(std::string_view document) {
  static const auto directory = [] {
    auto path = std::filesystem::temp_directory_path() / ("amc-fuzz-store-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  const auto path = directory / "credentials.json";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(document.data(), static_cast<std::streamsize>(document.size()));
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto store = store::open_store(json{{"kind", "file"}, {"path", path.string()}, {"fernet_keys", fernet_keys}});
  use_store(*store, false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::split(data, size, 2);
  fuzz::refused_or_parsed([&] {
    if (input.choice == 0) through_host(input.text);
    else through_file(input.text);
  });
  return 0;
}
