// Small file helpers for the sandbox's state directory: files appear whole
// (write then rename) and secrets are created 0600 from the first byte.
#pragma once

#include <filesystem>
#include <string_view>

namespace amc::sandbox {

enum class file_visibility { owner_only, shared };

// Creates `directory` (and parents) with mode 0700 when missing.
void ensure_private_directory(const std::filesystem::path& directory);

// Writes `content` to a temporary sibling created with the right mode, then
// renames it over `path`. Throws std::runtime_error on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view content, file_visibility visibility);

// Random bytes from OpenSSL as URL-safe base64 without padding.
std::string random_token(std::size_t bytes);

}  // namespace amc::sandbox
