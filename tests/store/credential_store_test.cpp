#include "store/credential_store.hpp"

#include "common/error.hpp"
#include "store/credential_json.hpp"
#include "store/store_config.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

namespace amc::store {
namespace {

using amc::testing::generate_fernet_key;
using amc::testing::generate_secret;
using amc::testing::read_file;
using amc::testing::temporary_directory;

// Secrets are compared with EXPECT_TRUE(a == b), not EXPECT_EQ, so that a
// failure never prints one.

credential_update new_credential(const std::string& id, const std::string& refresh_token) {
  credential_update update;
  update.credential_id = id;
  update.client_id = "amzn1.application-oa2-client.test";
  update.refresh_token = refresh_token;
  return update;
}

const auto code_of = [](const std::function<void()>& action, std::string* message = nullptr) {
  return amc::testing::error_code_of(action, message);
};

// Behaviour both backends must share.
class StoreBehaviour : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<credential_store> open(const std::string& keys) {
    nlohmann::json config = {{"kind", GetParam()}, {"fernet_keys", keys}};
    if (GetParam() == "file") config["path"] = (directory_.path() / "creds.json").string();
    return open_store(config);
  }
  temporary_directory directory_;
  std::string key_ = generate_fernet_key();
};

TEST_P(StoreBehaviour, PutGetListDelete) {
  auto store = open(key_);
  const auto refresh = generate_secret("Atzr|");
  store->put(new_credential("b-user", refresh));
  store->put(new_credential("a-user", generate_secret("Atzr|")));

  const auto record = store->get("b-user", /*include_secrets=*/true);
  EXPECT_EQ(record.client_id, "amzn1.application-oa2-client.test");
  EXPECT_EQ(record.state, credential_state::active);
  EXPECT_TRUE(record.refresh_token == refresh);
  EXPECT_GT(record.created_at, 0);

  const auto without = store->get("b-user", false);
  EXPECT_FALSE(without.refresh_token.has_value());
  EXPECT_TRUE(without.has_refresh_token);
  EXPECT_FALSE(without.has_access_token);

  const auto all = store->list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].credential_id, "a-user");
  EXPECT_FALSE(all[0].refresh_token.has_value());

  EXPECT_TRUE(store->remove("a-user"));
  EXPECT_FALSE(store->remove("a-user"));
  EXPECT_EQ(code_of([&] { store->get("a-user", false); }), errc::not_found);
}

TEST_P(StoreBehaviour, UpdatesKeepWhatTheyDoNotMention) {
  auto store = open(key_);
  const auto refresh = generate_secret("Atzr|");
  store->put(new_credential("u", refresh));
  credential_update access;
  access.credential_id = "u";
  access.access_token = generate_secret("Atza|");
  access.access_token_expires_at = 2000000000;
  store->put(access);
  const auto record = store->get("u", true);
  EXPECT_TRUE(record.refresh_token == refresh) << "a missing refresh_token never blanks it";
  EXPECT_TRUE(record.access_token == access.access_token);
  EXPECT_EQ(record.access_token_expires_at, 2000000000);
}

TEST_P(StoreBehaviour, BadInputIsRefusedAndChangesNothing) {
  auto store = open(key_);
  store->put(new_credential("u", generate_secret("Atzr|")));
  const auto before = store->get("u", true);
  credential_update update;
  update.credential_id = "new-one";
  EXPECT_EQ(code_of([&] { store->put(update); }), errc::invalid_argument);  // new, no secrets
  update.credential_id = "";
  EXPECT_EQ(code_of([&] { store->put(update); }), errc::invalid_argument);
  update.credential_id = "line\nbreak";
  EXPECT_EQ(code_of([&] { store->put(update); }), errc::invalid_argument);
  update.credential_id = "u";
  update.refresh_token = "";
  EXPECT_EQ(code_of([&] { store->put(update); }), errc::invalid_argument);
  update.refresh_token.reset();
  update.state = credential_state::quarantined;
  EXPECT_EQ(code_of([&] { store->put(update); }), errc::invalid_argument);
  const auto after = store->get("u", true);
  EXPECT_TRUE(after.refresh_token == before.refresh_token);
  EXPECT_EQ(store->list().size(), 1u);
}

TEST_P(StoreBehaviour, NoKeyIsAConfigErrorAndNoKeyIsInvented) {
  ::unsetenv("AMC_FERNET_KEYS");
  nlohmann::json config = {{"kind", GetParam()}};
  if (GetParam() == "file") config["path"] = (directory_.path() / "creds.json").string();
  std::string message;
  EXPECT_EQ(code_of([&] { open_store(config); }, &message), errc::config);
  EXPECT_NE(message.find("AMC_FERNET_KEYS"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(directory_.path() / "creds.json"));
}

TEST_P(StoreBehaviour, KeysFromTheEnvironmentVariableItIsToldToRead) {
  ::setenv("AMC_TEST_STORE_KEYS", key_.c_str(), 1);
  nlohmann::json config = {{"kind", GetParam()}, {"fernet_keys_env", "AMC_TEST_STORE_KEYS"}};
  if (GetParam() == "file") config["path"] = (directory_.path() / "creds.json").string();
  auto store = open_store(config);
  store->put(new_credential("u", generate_secret("Atzr|")));
  EXPECT_TRUE(store->get("u", true).refresh_token.has_value());
  ::unsetenv("AMC_TEST_STORE_KEYS");
}

TEST_P(StoreBehaviour, RotationReportCountsEveryRecord) {
  auto store = open(key_);
  std::map<std::string, std::string> refresh_tokens;
  for (int i = 0; i < 5; ++i) {
    const auto id = "user-" + std::to_string(i);
    refresh_tokens[id] = generate_secret("Atzr|");
    auto update = new_credential(id, refresh_tokens[id]);
    update.access_token = generate_secret("Atza|");
    store->put(update);
  }
  const auto report = store->rotate_keys();
  EXPECT_EQ(report.total, 5u);
  EXPECT_EQ(report.rotated, 5u);
  EXPECT_TRUE(report.failed.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreBehaviour, ::testing::Values("memory", "file"));

// ---- file store specifics ----------------------------------------------

class FileStore : public ::testing::Test {
 protected:
  std::filesystem::path path() const { return directory_.path() / "state" / "creds.json"; }
  std::unique_ptr<credential_store> open(const std::string& keys) {
    return open_store({{"path", path().string()}, {"fernet_keys", keys}});
  }
  temporary_directory directory_;
};

TEST_F(FileStore, FileIsPrivateAndHoldsNoSecretInClear) {
  const auto key = generate_fernet_key();
  auto store = open(key);
  auto update = new_credential("conn", generate_secret("Atzr|"));
  update.access_token = generate_secret("Atza|");
  store->put(update);
  struct stat info {};
  ASSERT_EQ(::stat(path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(path().parent_path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0077, 0u) << "the store directory is private";
  const auto text = read_file(path());
  EXPECT_EQ(text.find(*update.refresh_token), std::string::npos);
  EXPECT_EQ(text.find(*update.access_token), std::string::npos);
  EXPECT_EQ(text.find(key), std::string::npos);
  EXPECT_NE(text.find("gAAAAA"), std::string::npos) << "secrets are Fernet tokens";
}

TEST_F(FileStore, SurvivesReopening) {
  const auto key = generate_fernet_key();
  const auto refresh = generate_secret("Atzr|");
  open(key)->put(new_credential("conn", refresh));
  EXPECT_TRUE(open(key)->get("conn", true).refresh_token == refresh);
}

TEST_F(FileStore, QuarantineSurvivesARestartAndTheOldKeyRecoversIt) {
  const auto old_key = generate_fernet_key();
  const auto unrelated_key = generate_fernet_key();
  const auto refresh = generate_secret("Atzr|");
  open(old_key)->put(new_credential("conn", refresh));
  const auto sealed_before = nlohmann::json::parse(read_file(path()))["credentials"]["conn"];

  {  // The key was lost: the record is quarantined, kept, and named.
    auto store = open(unrelated_key);
    EXPECT_EQ(store->get("conn", false).state, credential_state::quarantined);
    std::string message;
    EXPECT_EQ(code_of([&] { store->get("conn", true); }, &message), errc::crypto);
    EXPECT_NE(message.find("'conn'"), std::string::npos);
    EXPECT_NE(message.find("restore the previous key"), std::string::npos) << message;
    EXPECT_NE(message.find("re-authenticate"), std::string::npos);
    // Other operations must not touch it either.
    credential_update no_refresh;
    no_refresh.credential_id = "conn";
    no_refresh.access_token = generate_secret("Atza|");
    EXPECT_EQ(code_of([&] { store->put(no_refresh); }), errc::crypto);
  }
  {  // Restart with the same wrong key: still quarantined, ciphertext intact.
    auto store = open(unrelated_key);
    EXPECT_EQ(store->get("conn", false).state, credential_state::quarantined);
    const auto sealed = nlohmann::json::parse(read_file(path()))["credentials"]["conn"];
    EXPECT_EQ(sealed["refresh_token_fernet"], sealed_before["refresh_token_fernet"]);
  }
  {  // The old key is added back: recovered, as it was.
    auto store = open(unrelated_key + "," + old_key);
    const auto record = store->get("conn", true);
    EXPECT_EQ(record.state, credential_state::active);
    EXPECT_TRUE(record.refresh_token == refresh);
    EXPECT_TRUE(record.last_error.empty());
  }
}

TEST_F(FileStore, AProcessWithAStaleKeyListDoesNotTakeCredentialsFromOthers) {
  // A fleet rotation: one worker already runs with the new key list, another
  // still with the old one. The stale worker sees the record quarantined;
  // it writes nothing, so the correctly keyed worker never notices it.
  const auto old_key = generate_fernet_key();
  const auto new_key = generate_fernet_key();
  const auto refresh = generate_secret("Atzr|");
  auto current = open(new_key + "," + old_key);
  current->put(new_credential("conn", refresh));
  const auto file_before = read_file(path());
  auto stale = open(old_key);
  EXPECT_EQ(stale->get("conn", false).state, credential_state::quarantined);
  EXPECT_EQ(stale->list().at(0).state, credential_state::quarantined);
  EXPECT_EQ(code_of([&] { stale->get("conn", true); }), errc::crypto);
  EXPECT_TRUE(read_file(path()) == file_before) << "reading with the wrong key wrote the file";

  const auto record = current->get("conn", true);
  EXPECT_EQ(record.state, credential_state::active);
  EXPECT_TRUE(record.refresh_token == refresh);
  EXPECT_TRUE(record.last_error.empty());
  // Nor can the stale worker change it through an update without a new
  // refresh token.
  credential_update stale_access;
  stale_access.credential_id = "conn";
  stale_access.access_token = generate_secret("Atza|");
  EXPECT_EQ(code_of([&] { stale->put(stale_access); }), errc::crypto);
  EXPECT_TRUE(read_file(path()) == file_before);
}

TEST_F(FileStore, QuarantineStoredByAnOlderLibamcIsReadAsTheStateBefore) {
  // Older versions wrote quarantine into the file; a process whose keys
  // read the record sees its own state, and its next write drops the rest.
  const auto key = generate_fernet_key();
  auto update = new_credential("conn", generate_secret("Atzr|"));
  update.state = credential_state::needs_reauth;
  open(key)->put(update);
  auto document = nlohmann::json::parse(read_file(path()));
  auto& sealed = document["credentials"]["conn"];
  sealed["state"] = "quarantined";
  sealed["state_before_quarantine"] = "needs-reauth";
  sealed["last_error"] =
      "no configured Fernet key decrypts this record; restore the previous key or re-authenticate";
  { std::ofstream(path(), std::ios::trunc) << document.dump(2); }
  auto store = open(key);
  const auto record = store->get("conn", true);
  EXPECT_EQ(record.state, credential_state::needs_reauth);
  EXPECT_TRUE(record.last_error.empty());
  EXPECT_EQ(open(generate_fernet_key())->get("conn", false).state, credential_state::quarantined);
  credential_update change;
  change.credential_id = "conn";
  change.access_token = generate_secret("Atza|");
  store->put(change);
  const auto written = nlohmann::json::parse(read_file(path()))["credentials"]["conn"];
  EXPECT_EQ(written["state"], "needs-reauth");
  EXPECT_FALSE(written.contains("state_before_quarantine"));
  EXPECT_FALSE(written.contains("last_error"));
}

TEST_F(FileStore, QuarantineRemembersNeedsReauth) {
  const auto key = generate_fernet_key();
  auto update = new_credential("conn", generate_secret("Atzr|"));
  update.state = credential_state::needs_reauth;
  open(key)->put(update);
  EXPECT_EQ(open(generate_fernet_key())->get("conn", false).state, credential_state::quarantined);
  EXPECT_EQ(open(key)->get("conn", false).state, credential_state::needs_reauth);
}

TEST_F(FileStore, ReAuthenticatingAQuarantinedRecordReplacesIt) {
  open(generate_fernet_key())->put(new_credential("conn", generate_secret("Atzr|")));
  const auto key = generate_fernet_key();
  auto store = open(key);
  const auto refresh = generate_secret("Atzr|");
  credential_update reauth;
  reauth.credential_id = "conn";
  reauth.refresh_token = refresh;
  store->put(reauth);
  const auto record = store->get("conn", true);
  EXPECT_EQ(record.state, credential_state::active);
  EXPECT_TRUE(record.refresh_token == refresh);
  EXPECT_FALSE(record.has_access_token);
}

TEST_F(FileStore, RotationSequenceLikeAirflowRotateFernetKey) {
  // 1. Everything written with the old key.
  const auto old_key = generate_fernet_key();
  const auto new_key = generate_fernet_key();
  std::map<std::string, std::string> refresh_tokens;
  {
    auto store = open(old_key);
    for (int i = 0; i < 4; ++i) {
      const auto id = "conn-" + std::to_string(i);
      refresh_tokens[id] = generate_secret("Atzr|");
      store->put(new_credential(id, refresh_tokens[id]));
    }
  }
  // 2. New key in front: everything still readable, then rotate.
  {
    auto store = open(new_key + "," + old_key);
    for (const auto& [id, refresh] : refresh_tokens)
      EXPECT_TRUE(store->get(id, true).refresh_token == refresh);
    const auto report = store->rotate_keys();
    EXPECT_EQ(report.total, 4u);
    EXPECT_EQ(report.rotated, 4u);
    EXPECT_TRUE(report.failed.empty());
    for (const auto& [id, refresh] : refresh_tokens)
      EXPECT_TRUE(store->get(id, true).refresh_token == refresh);
  }
  // 3. Old key removed: still readable.
  {
    auto store = open(new_key);
    for (const auto& [id, refresh] : refresh_tokens) {
      const auto record = store->get(id, true);
      EXPECT_EQ(record.state, credential_state::active);
      EXPECT_TRUE(record.refresh_token == refresh);
    }
  }
}

TEST_F(FileStore, RotationReportsRecordsNoKeyDecryptsAndKeepsThem) {
  const auto lost_key = generate_fernet_key();
  const auto key = generate_fernet_key();
  open(lost_key)->put(new_credential("lost", generate_secret("Atzr|")));
  open(key)->put(new_credential("fine", generate_secret("Atzr|")));
  const auto lost_before = nlohmann::json::parse(read_file(path()))["credentials"]["lost"];

  const auto primary = generate_fernet_key();
  const auto report = open(primary + "," + key)->rotate_keys();
  EXPECT_EQ(report.total, 2u);
  EXPECT_EQ(report.rotated, 1u);
  ASSERT_EQ(report.failed.size(), 1u);
  EXPECT_EQ(report.failed[0].credential_id, "lost");
  EXPECT_NE(report.failed[0].reason.find("restore the previous key"), std::string::npos);
  const auto lost_after = nlohmann::json::parse(read_file(path()))["credentials"]["lost"];
  EXPECT_EQ(lost_after, lost_before) << "left exactly as it was: another process may hold its key";
  // And with the lost key back, rotation recovers it too.
  const auto second = open(primary + "," + lost_key)->rotate_keys();
  EXPECT_EQ(second.rotated, 2u);
  EXPECT_EQ(open(primary)->get("lost", false).state, credential_state::active);
}

TEST_F(FileStore, CorruptFileIsReportedAndLeftUntouched) {
  const auto key = generate_fernet_key();
  open(key)->put(new_credential("conn", generate_secret("Atzr|")));
  const std::string garbage = "{\"format\": \"libamc.store\", \"credentials\": {";  // cut short
  { std::ofstream(path(), std::ios::trunc) << garbage; }
  std::string message;
  EXPECT_EQ(code_of([&] { open(key); }, &message), errc::store);
  EXPECT_NE(message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(message.find(path().string()), std::string::npos);
  EXPECT_EQ(read_file(path()), garbage);
}

TEST_F(FileStore, ForeignOrNewerFilesAreRefusedNotOverwritten) {
  const auto key = generate_fernet_key();
  std::filesystem::create_directories(path().parent_path());
  for (const std::string text : {R"({"format": "something-else"})",
                                 R"({"format": "libamc.store", "version": 99, "credentials": {}})",
                                 R"({"format": "libamc.store", "credentials": []})"}) {
    { std::ofstream(path(), std::ios::trunc) << text; }
    std::string message;
    EXPECT_EQ(code_of(
                  [&] {
                    auto store = open(key);
                    store->put(new_credential("other", generate_secret("Atzr|")));
                  },
                  &message),
              errc::store)
        << text;
    EXPECT_EQ(read_file(path()), text);
  }
}

// Issue 12 item 1: one unreadable record (a year -31821 expiry, a field of
// the wrong type) made the whole file unreadable. It is now set aside on its
// own, reported by id, and a put of that id replaces it.
TEST_F(FileStore, ADamagedRecordIsSetAsideAndTheOthersWork) {
  const auto key = generate_fernet_key();
  const auto refresh = generate_secret("Atzr|");
  {
    auto store = open(key);
    store->put(new_credential("fine", refresh));
    store->put(new_credential("far-future", generate_secret("Atzr|")));
    store->put(new_credential("wrong-type", generate_secret("Atzr|")));
  }
  auto document = nlohmann::json::parse(read_file(path()));
  document["credentials"]["far-future"]["access_token_expires_at"] = "-31821-06-01T00:00:00Z";
  document["credentials"]["wrong-type"]["state"] = 5;
  { std::ofstream(path(), std::ios::trunc) << document.dump(2); }
  const auto damaged_before = document["credentials"]["far-future"];

  auto store = open(key);  // opens
  const auto all = store->list();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].credential_id, "far-future");
  EXPECT_EQ(all[0].state, credential_state::damaged);
  EXPECT_NE(all[0].last_error.find("access_token_expires_at"), std::string::npos) << all[0].last_error;
  EXPECT_EQ(all[1].state, credential_state::active);
  EXPECT_EQ(all[2].state, credential_state::damaged);
  EXPECT_NE(all[2].last_error.find("'state'"), std::string::npos) << all[2].last_error;
  std::string message;
  EXPECT_EQ(code_of([&] { store->get("far-future", true); }, &message), errc::store);
  EXPECT_NE(message.find("'far-future'"), std::string::npos) << message;
  EXPECT_NE(message.find("put it again"), std::string::npos) << message;
  EXPECT_TRUE(store->get("fine", true).refresh_token == refresh);

  // Writing other records keeps the damaged one as it is.
  store->put(new_credential("new-one", generate_secret("Atzr|")));
  credential_update access;
  access.credential_id = "fine";
  access.access_token = generate_secret("Atza|");
  access.access_token_expires_at = now_unix_seconds() + 3600;
  store->put(access);
  EXPECT_EQ(nlohmann::json::parse(read_file(path()))["credentials"]["far-future"], damaged_before);
  const auto report = store->rotate_keys();
  EXPECT_EQ(report.rotated, 2u);
  ASSERT_EQ(report.failed.size(), 2u);
  EXPECT_EQ(report.failed[0].credential_id, "far-future");

  // A put of that id replaces it, given what a new credential needs.
  credential_update partial;
  partial.credential_id = "far-future";
  partial.access_token = generate_secret("Atza|");
  EXPECT_EQ(code_of([&] { store->put(partial); }, &message), errc::invalid_argument);
  EXPECT_NE(message.find("damaged"), std::string::npos) << message;
  const auto replacement = generate_secret("Atzr|");
  store->put(new_credential("far-future", replacement));
  const auto replaced = store->get("far-future", true);
  EXPECT_EQ(replaced.state, credential_state::active);
  EXPECT_TRUE(replaced.refresh_token == replacement);
  EXPECT_FALSE(replaced.access_token_expires_at.has_value());
}

TEST_F(FileStore, TimesThatWouldNotReadBackAreRefusedAndNothingIsWritten) {
  const auto key = generate_fernet_key();
  auto store = open(key);
  store->put(new_credential("conn", generate_secret("Atzr|")));
  const auto before = read_file(path());
  for (const unix_seconds bad : {-1LL, 253402300800LL, 1'000'000'000'000LL * 1000}) {
    credential_update update;
    update.credential_id = "conn";
    update.access_token = generate_secret("Atza|");
    update.access_token_expires_at = bad;
    EXPECT_EQ(code_of([&] { store->put(update); }), errc::invalid_argument) << bad;
  }
  EXPECT_TRUE(read_file(path()) == before);
  EXPECT_EQ(code_of([&] {
              credential_update_from_json({{"credential_id", "conn"},
                                           {"access_token_expires_at", 18446744073709551615ULL}});
            }),
            errc::invalid_argument);
}

TEST_F(FileStore, ADocumentThatWouldNotReadBackIsNeverWritten) {
  // The round trip before the rename: NaN has no JSON form (it would be
  // written as null), so the file backend refuses and keeps the old file.
  const auto key = generate_fernet_key();
  open(key)->put(new_credential("conn", generate_secret("Atzr|")));
  const auto before = read_file(path());
  file_backend backend(path());
  EXPECT_EQ(code_of([&] {
              backend.update([](nlohmann::json& document) {
                document["executions"]["exec_1"]["started_at"] = std::nan("");
                return true;
              });
            }),
            errc::internal);
  EXPECT_TRUE(read_file(path()) == before);
}

TEST_F(FileStore, OtherSectionsOfTheDocumentAreKept) {
  const auto key = generate_fernet_key();
  std::filesystem::create_directories(path().parent_path());
  { std::ofstream(path()) << R"({"format": "libamc.store", "version": 1, "executions": {"exec_1": {"amc": "x"}}})"; }
  open(key)->put(new_credential("conn", generate_secret("Atzr|")));
  const auto document = nlohmann::json::parse(read_file(path()));
  EXPECT_EQ(document["executions"]["exec_1"]["amc"], "x");
}

TEST_F(FileStore, OpeningDoesNotCreateAnEmptyFile) {
  open(generate_fernet_key());
  EXPECT_FALSE(std::filesystem::exists(path()));
}

TEST_F(FileStore, DefaultPathFollowsXdgStateHome) {
  const std::string saved_home = std::getenv("HOME") != nullptr ? std::getenv("HOME") : "";
  ::setenv("XDG_STATE_HOME", directory_.path().c_str(), 1);
  EXPECT_EQ(default_store_path(), directory_.path() / "amc" / "credentials.json");
  ::unsetenv("XDG_STATE_HOME");
  ::setenv("HOME", directory_.path().c_str(), 1);
  EXPECT_EQ(default_store_path(), directory_.path() / ".local" / "state" / "amc" / "credentials.json");
  ::setenv("HOME", saved_home.c_str(), 1);
}

TEST_F(FileStore, ConfigMistakesAreNamed) {
  std::string message;
  EXPECT_EQ(code_of([&] { open_store({{"pth", "x"}}); }, &message), errc::invalid_argument);
  EXPECT_NE(message.find("'pth'"), std::string::npos);
  EXPECT_EQ(code_of([&] { open_store({{"kind", "redis"}}); }, &message), errc::config);
  EXPECT_EQ(code_of([&] { open_store({{"kind", "memory"}, {"path", "/tmp/x"}}); }), errc::config);
  EXPECT_EQ(code_of([&] { open_store({{"path", 5}}); }), errc::invalid_argument);
}

}  // namespace
}  // namespace amc::store

namespace amc::store {
namespace {

TEST_P(StoreBehaviour, RefreshLockIsExclusivePerCredential) {
  auto store = open(key_);
  auto first = store->try_lock_refresh("conn/1");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(store->try_lock_refresh("conn/1"), nullptr) << "held: a second holder is refused";
  EXPECT_NE(store->try_lock_refresh("conn/2"), nullptr) << "other credentials are independent";
  first.reset();
  EXPECT_NE(store->try_lock_refresh("conn/1"), nullptr) << "released with its holder";
}

TEST_F(FileStore, RefreshLockIsSharedByEveryHandleOfTheFile) {
  const auto key = generate_fernet_key();
  auto one = open(key);
  auto other = open(key);
  auto held = one->try_lock_refresh("conn");
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(other->try_lock_refresh("conn"), nullptr);
}

}  // namespace
}  // namespace amc::store
