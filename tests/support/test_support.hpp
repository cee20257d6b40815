// Helpers shared by the test suite.
#pragma once

#include "common/error.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace amc::testing {

// A fresh directory under the system temp dir, removed with its contents.
class temporary_directory {
 public:
  temporary_directory();
  ~temporary_directory();
  temporary_directory(const temporary_directory&) = delete;
  temporary_directory& operator=(const temporary_directory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `action` and returns the errc of the amc::error it throws (errc::ok
// when it throws none), with the error's message and detail if asked.
errc error_code_of(const std::function<void()>& action, std::string* message = nullptr,
                   nlohmann::json* detail = nullptr);

// A new random Fernet key, as Fernet.generate_key() makes one. Tests make
// their keys at run time so that no key is ever stored in the repository.
std::string generate_fernet_key();

// A random token-like secret ("Atzr|" + random), unique per call.
std::string generate_secret(const std::string& prefix);

std::string read_file(const std::filesystem::path& path);

// Result of a child process run to completion.
struct process_result {
  int exit_code = -1;      // when it exited normally
  int signal_number = 0;   // when a signal ended it
  std::string output;      // stdout
};

// Runs `arguments` (argv[0] is a path) with extra environment entries
// ("NAME=value") and `input` on stdin, waits for it.
process_result run_process(const std::vector<std::string>& arguments,
                           const std::vector<std::string>& extra_environment = {},
                           const std::string& input = {});

// Starts a child without waiting; returns its pid.
int spawn_process(const std::vector<std::string>& arguments,
                  const std::vector<std::string>& extra_environment = {});

}  // namespace amc::testing
