#include "amc/ids.hpp"

#include "common/error.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <cctype>
#include <regex>

namespace amc::api {
namespace {

bool allowed_in_workflow_id(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

constexpr std::size_t max_workflow_id_length = 128;

std::string short_hash(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return fmt::format("{:02x}{:02x}{:02x}{:02x}", digest[0], digest[1], digest[2], digest[3]);
}

// A UUID's groups are 8-4-4-4-12 hex digits. An id that carries the first
// groups of one and then stops short (with '-' or '_' between groups) was
// cut by someone's length limit.
bool looks_like_truncated_uuid(std::string_view id) {
  static const std::regex pattern(
      R"((^|[_.-])[0-9a-f]{8}[_-][0-9a-f]{4}[_-][0-9a-f]{4}([_-]([0-9a-f]{0,3}|[0-9a-f]{4}[_-][0-9a-f]{0,11}))?$)",
      std::regex::icase | std::regex::optimize);
  return std::regex_search(id.begin(), id.end(), pattern);
}

}  // namespace

void validate_workflow_id(std::string_view workflow_id) {
  if (workflow_id.empty())
    throw error(errc::invalid_argument, "the workflow id is empty");
  if (workflow_id.size() > max_workflow_id_length)
    throw error(errc::invalid_argument,
                fmt::format("workflow id '{}…' is {} characters long; use at most {} (derive one "
                            "from a name with the documented rule, which never truncates)",
                            workflow_id.substr(0, 32), workflow_id.size(), max_workflow_id_length));
  for (const char c : workflow_id)
    if (!allowed_in_workflow_id(c))
      throw error(errc::invalid_argument,
                  fmt::format("workflow id '{}' has the character '{}': AMC allows only letters, "
                              "digits, '.', '-' and '_'",
                              workflow_id, c));
  if (looks_like_truncated_uuid(workflow_id))
    throw error(errc::invalid_argument,
                fmt::format("workflow id '{}' looks like a UUID cut short; use the whole id, or "
                            "derive one from the workflow's name",
                            workflow_id));
}

std::string workflow_id_from_name(std::string_view name) {
  std::string folded;
  bool last_was_separator = false;
  for (const char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      last_was_separator = false;
    } else if (!last_was_separator && !folded.empty()) {
      folded += '_';
      last_was_separator = true;
    }
  }
  while (!folded.empty() && folded.back() == '_') folded.pop_back();
  std::string id = "wf_" + folded;
  const bool changed = folded != name;
  constexpr std::size_t hash_suffix = 9;  // "_" + 8 hex
  const bool shortened = id.size() > max_workflow_id_length - hash_suffix;
  if (shortened) id.resize(max_workflow_id_length - hash_suffix);
  if (changed || shortened || folded.empty()) id += "_" + short_hash(name);
  return id;
}

bool looks_like_entity_id(std::string_view advertiser_id) {
  return advertiser_id.size() > 6 && advertiser_id.substr(0, 6) == "ENTITY";
}

void validate_advertiser_id(std::string_view advertiser_id) {
  if (advertiser_id.empty())
    throw error(errc::invalid_argument,
                "the advertiser id is empty: use the AMC account's entity id (ENTITY…), listed "
                "by GET /amc/accounts ('amcctl accounts')");
  bool all_digits = true;
  for (const char c : advertiser_id) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits)
    throw error(errc::invalid_argument,
                fmt::format("advertiser id '{}' is a numeric Amazon Ads profile id, but AMC wants "
                            "the AMC account's entity id (ENTITY…): list your accounts with GET "
                            "/amc/accounts ('amcctl accounts') and use its accountId",
                            advertiser_id));
  validate_path_id(advertiser_id, "advertiser id");
}

void validate_path_id(std::string_view id, std::string_view what) {
  if (id.empty()) throw error(errc::invalid_argument, fmt::format("the {} is empty", what));
  for (const char c : id)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '?' || c == '#' ||
        c == '%' || static_cast<unsigned char>(c) < 0x20)
      throw error(errc::invalid_argument,
                  fmt::format("the {} '{}' contains a character that cannot be part of it ('{}')",
                              what, id, c == '\n' ? ' ' : c));
}

}  // namespace amc::api
