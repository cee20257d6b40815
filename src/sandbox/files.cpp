#include "sandbox/files.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace amc::sandbox {

void ensure_private_directory(const std::filesystem::path& directory) {
  std::error_code error;
  if (std::filesystem::is_directory(directory, error)) return;
  std::filesystem::create_directories(directory, error);
  if (error) throw std::runtime_error("cannot create state directory " + directory.string() + ": " + error.message());
  std::filesystem::permissions(directory, std::filesystem::perms::owner_all, error);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content, file_visibility visibility) {
  const mode_t mode = visibility == file_visibility::owner_only ? 0600 : 0644;
  std::filesystem::path temporary = path;
  temporary += ".tmp-" + std::to_string(::getpid());
  int descriptor = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (descriptor < 0) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
  ::fchmod(descriptor, mode);  // the umask must not widen or narrow it
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t written = ::write(descriptor, data, left);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      int saved = errno;
      ::close(descriptor);
      ::unlink(temporary.c_str());
      throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(saved));
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  ::close(descriptor);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(saved));
  }
}

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve(bytes * 4 / 3 + 2);
  std::size_t i = 0;
  for (; i + 2 < raw.size(); i += 3) {
    unsigned value = (raw[i] << 16) | (raw[i + 1] << 8) | raw[i + 2];
    out += alphabet[(value >> 18) & 63];
    out += alphabet[(value >> 12) & 63];
    out += alphabet[(value >> 6) & 63];
    out += alphabet[value & 63];
  }
  if (i + 1 == raw.size()) {
    unsigned value = raw[i] << 16;
    out += alphabet[(value >> 18) & 63];
    out += alphabet[(value >> 12) & 63];
  } else if (i + 2 == raw.size()) {
    unsigned value = (raw[i] << 16) | (raw[i + 1] << 8);
    out += alphabet[(value >> 18) & 63];
    out += alphabet[(value >> 12) & 63];
    out += alphabet[(value >> 6) & 63];
  }
  return out;
}

}  // namespace amc::sandbox
