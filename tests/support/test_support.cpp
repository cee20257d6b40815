#include "support/test_support.hpp"

#include "crypto/base64url.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace amc::testing {
namespace {

std::string random_bytes(std::size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return bytes;
}

std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text{*entry};
    bool overridden = false;
    for (const auto& added : extra)
      overridden = overridden || text.substr(0, text.find('=') + 1) == added.substr(0, added.find('=') + 1);
    if (!overridden) entries.push_back(text);
  }
  entries.insert(entries.end(), extra.begin(), extra.end());
  return entries;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& text : strings) result.push_back(text.data());
  result.push_back(nullptr);
  return result;
}

}  // namespace

temporary_directory::temporary_directory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "amc-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

temporary_directory::~temporary_directory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

errc error_code_of(const std::function<void()>& action, std::string* message, nlohmann::json* detail) {
  try {
    action();
  } catch (const error& problem) {
    if (message != nullptr) *message = problem.message();
    if (detail != nullptr) *detail = problem.detail();
    return problem.code_value();
  }
  return errc::ok;
}

std::string generate_fernet_key() { return crypto::base64url_encode(random_bytes(32)); }

std::string generate_secret(const std::string& prefix) {
  return prefix + crypto::base64url_encode(random_bytes(24));
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int spawn_process(const std::vector<std::string>& arguments,
                  const std::vector<std::string>& extra_environment) {
  auto argv_strings = arguments;
  auto env_strings = environment_with(extra_environment);
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);
  pid_t pid = 0;
  if (::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data()) != 0)
    throw std::runtime_error("posix_spawn failed for " + arguments.front());
  return pid;
}

process_result run_process(const std::vector<std::string>& arguments,
                           const std::vector<std::string>& extra_environment,
                           const std::string& input) {
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
  auto argv_strings = arguments;
  auto env_strings = environment_with(extra_environment);
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(to_child[0]);
  ::close(from_child[1]);
  if (spawned != 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    throw std::runtime_error("posix_spawn failed for " + arguments.front());
  }
  // Inputs are small (a token, a line): they fit in the pipe buffer.
  if (!input.empty() && ::write(to_child[1], input.data(), input.size()) < 0) {
  }
  ::close(to_child[1]);
  process_result result;
  char buffer[4096];
  ssize_t got;
  while ((got = ::read(from_child[0], buffer, sizeof buffer)) > 0)
    result.output.append(buffer, static_cast<std::size_t>(got));
  ::close(from_child[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal_number = WTERMSIG(status);
  return result;
}

}  // namespace amc::testing
