#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/failpoint.hpp"
#include "store/backend.hpp"
#include "store/document_text.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace amc::store {
namespace {

[[noreturn]] void throw_io_error(std::string_view doing, const std::filesystem::path& path,
                                 int error_number) {
  throw error(errc::store, fmt::format("could not {} '{}': {}; stored data was left as it was",
                                       doing, path.string(), std::strerror(error_number)),
              {{"path", path.string()}});
}

// An open descriptor that closes itself.
class file_descriptor {
 public:
  explicit file_descriptor(int fd) : fd_(fd) {}
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Holds flock() on the store's lock file for its lifetime.
class file_lock {
 public:
  file_lock(const std::filesystem::path& lock_path, bool exclusive)
      : fd_(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_.get() < 0) throw_io_error("open the lock file", lock_path, errno);
    int result;
    do {
      result = ::flock(fd_.get(), exclusive ? LOCK_EX : LOCK_SH);
    } while (result != 0 && errno == EINTR);
    if (result != 0) throw_io_error("lock", lock_path, errno);
  }
  // Closing the descriptor releases the lock.

 private:
  file_descriptor fd_;
};

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_io_error("write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
}

void sync_directory(const std::filesystem::path& directory) {
  file_descriptor fd{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (fd.get() < 0) throw_io_error("open the directory", directory, errno);
  if (::fsync(fd.get()) != 0) throw_io_error("sync the directory", directory, errno);
}

std::string temporary_suffix() {
  unsigned char random_bytes[6];
  if (RAND_bytes(random_bytes, sizeof random_bytes) != 1)
    throw error(errc::crypto, "the system random generator failed (OpenSSL RAND_bytes)");
  std::string suffix = fmt::format(".tmp.{}.", ::getpid());
  for (const unsigned char byte : random_bytes) suffix += fmt::format("{:02x}", byte);
  return suffix;
}

}  // namespace

std::filesystem::path default_store_path() {
  const char* state_home = std::getenv("XDG_STATE_HOME");
  if (state_home != nullptr && *state_home == '/')
    return std::filesystem::path(state_home) / "amc" / "credentials.json";
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0')
    throw error(errc::config,
                "no store path configured and neither XDG_STATE_HOME nor HOME is set: "
                "give the store a \"path\"");
  return std::filesystem::path(home) / ".local" / "state" / "amc" / "credentials.json";
}

file_backend::file_backend(std::filesystem::path path)
    : path_(std::move(path)), lock_path_(path_.string() + ".lock") {
  if (path_.empty() || path_.filename().empty())
    throw error(errc::config, "the store path must name a file");
  const auto directory = path_.parent_path().empty() ? std::filesystem::path(".") : path_.parent_path();
  std::error_code problem;
  if (!std::filesystem::exists(directory, problem)) {
    std::filesystem::create_directories(directory, problem);
    if (problem)
      throw error(errc::store, fmt::format("could not create the store directory '{}': {}",
                                           directory.string(), problem.message()));
    // Only the owner may list a directory of credential files.
    ::chmod(directory.c_str(), 0700);
  }
}

nlohmann::json file_backend::load_unlocked() const {
  file_descriptor fd{::open(path_.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.get() < 0) {
    if (errno == ENOENT) return nlohmann::json::object();
    throw_io_error("open", path_, errno);
  }
  std::string text;
  char buffer[16384];
  while (true) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_io_error("read", path_, errno);
    }
    if (got == 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  return parse_document(text);
}

nlohmann::json file_backend::parse_document(const std::string& text) const {
  return parse_document_text(text, fmt::format("the store file '{}'", path_.string()),
                             "restore it from a backup or move it aside", {{"path", path_.string()}});
}

void file_backend::write_unlocked(const nlohmann::json& document) const {
  const std::filesystem::path temporary = path_.string() + temporary_suffix();
  const std::string text =
      document_text(document, fmt::format("the store '{}'", path_.string()), 2, {{"path", path_.string()}});
  try {
    file_descriptor fd{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (fd.get() < 0) throw_io_error("create", temporary, errno);
    write_all(fd.get(), text, temporary);
    if (::fsync(fd.get()) != 0) throw_io_error("sync", temporary, errno);
    if (::close(fd.release()) != 0) throw_io_error("close", temporary, errno);
    failpoint("store.before_rename");
    if (::rename(temporary.c_str(), path_.c_str()) != 0) throw_io_error("replace", path_, errno);
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  sync_directory(path_.parent_path().empty() ? std::filesystem::path(".") : path_.parent_path());
}

void file_backend::remove_stale_temporaries() const {
  // Called under the exclusive lock: no writer is between create and rename,
  // so any temporary left is from a writer that died.
  const std::string prefix = path_.filename().string() + ".tmp.";
  std::error_code problem;
  const auto directory = path_.parent_path().empty() ? std::filesystem::path(".") : path_.parent_path();
  for (const auto& entry : std::filesystem::directory_iterator(directory, problem)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) std::filesystem::remove(entry.path(), problem);
  }
}

nlohmann::json file_backend::read() {
  const file_lock lock{lock_path_, /*exclusive=*/false};
  return load_unlocked();
}

// flock() is only ever held around one read-modify-write of a small file
// (never across I/O to a server), so its wait is not bounded by `until`.
void file_backend::update(const std::function<bool(nlohmann::json&)>& change, const amc::deadline& /*until*/) {
  const file_lock lock{lock_path_, /*exclusive=*/true};
  remove_stale_temporaries();
  nlohmann::json document = load_unlocked();
  if (change(document)) write_unlocked(document);
}

namespace {

class flock_held final : public held_lock {
 public:
  explicit flock_held(int fd) : fd_(fd) {}
  ~flock_held() override { ::close(fd_); }  // closing releases the lock

 private:
  int fd_;
};

class name_held final : public held_lock {
 public:
  name_held(std::shared_ptr<std::mutex> mutex,
            std::shared_ptr<std::set<std::string, std::less<>>> names, std::string name)
      : mutex_(std::move(mutex)), names_(std::move(names)), name_(std::move(name)) {}
  ~name_held() override {
    const std::lock_guard lock{*mutex_};
    names_->erase(name_);
  }

 private:
  std::shared_ptr<std::mutex> mutex_;
  std::shared_ptr<std::set<std::string, std::less<>>> names_;
  std::string name_;
};

// Lock names may hold any character (credential ids); file names get a hash.
std::string hashed_name(std::string_view name) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest);
  std::string hex;
  for (int i = 0; i < 8; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace

std::unique_ptr<held_lock> file_backend::try_lock(std::string_view name) {
  const std::filesystem::path lock_path = path_.string() + "." + hashed_name(name) + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw_io_error("open the lock file", lock_path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int problem = errno;
    ::close(fd);
    if (problem == EWOULDBLOCK || problem == EINTR) return nullptr;
    throw_io_error("lock", lock_path, problem);
  }
  return std::make_unique<flock_held>(fd);
}

std::unique_ptr<held_lock> memory_backend::try_lock(std::string_view name) {
  const std::lock_guard lock{*named_locks_mutex_};
  if (!held_names_->emplace(name).second) return nullptr;
  return std::make_unique<name_held>(named_locks_mutex_, held_names_, std::string{name});
}

nlohmann::json memory_backend::read() {
  const std::lock_guard lock{mutex_};
  return document_;
}

void memory_backend::update(const std::function<bool(nlohmann::json&)>& change, const amc::deadline& /*until*/) {
  const std::lock_guard lock{mutex_};
  nlohmann::json working_copy = document_;
  if (change(working_copy)) document_ = std::move(working_copy);
}

}  // namespace amc::store
