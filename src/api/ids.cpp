#include "api/ids.hpp"

#include "common/error.hpp"
#include "common/text.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <algorithm>
#include <iterator>

namespace amc::api {
namespace {

bool allowed_in_workflow_id(char c) {
  return is_ascii_alnum(c) || c == '.' || c == '-' || c == '_';
}

constexpr std::size_t max_workflow_id_length = 128;

std::string short_hash(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return fmt::format("{:02x}{:02x}{:02x}{:02x}", digest[0], digest[1], digest[2], digest[3]);
}

bool is_hex(char c) { return is_ascii_hex_digit(c); }

bool is_hex_letter(char c) {
  const char lower = ascii_lower(c);
  return lower >= 'a' && lower <= 'f';
}

// Whether `tail`, all of it, is a UUID cut short (the rule is spelled out at
// looks_like_truncated_uuid).
bool is_cut_uuid(std::string_view tail) {
  static constexpr std::size_t group_lengths[] = {8, 4, 4, 4, 12};
  std::size_t at = 0;
  bool first_group_has_letter = false;
  for (std::size_t group = 0; group < std::size(group_lengths); ++group) {
    if (group > 0) {
      if (tail[at] != '-' && tail[at] != '_') return false;
      ++at;
    }
    std::size_t digits = 0;
    while (at < tail.size() && digits < group_lengths[group] && is_hex(tail[at])) {
      if (group == 0 && is_hex_letter(tail[at])) first_group_has_letter = true;
      ++at;
      ++digits;
    }
    if (at == tail.size()) {
      if (group == 0 || !first_group_has_letter) return false;
      if (group == 1 && digits < 2) return false;  // too little to tell
      if (group == 4 && digits == group_lengths[4]) return false;  // a whole UUID
      return true;
    }
    if (digits < group_lengths[group]) return false;  // not hex, or a group too short
  }
  return false;  // a whole UUID with more after it
}

// The seed application cut UUID-based ids to a length limit
// ("wf_e27c2385_b1ed_4bcf_a"); two such ids can collide, so they are
// refused. The rule: the id ENDS with a strict prefix of a UUID — hex
// groups of 8-4-4-4-12 digits joined by '-' or '_' — that starts at the
// beginning of the id or right after '_', '-' or '.', and
//  - reaches at least two digits into the second group (8 hex digits and
//    one more character say too little: "wf_foo_1a2b3c4d_2" is a version
//    number after a derived id far more often than a cut UUID), cuts
//    inside a group and right after one (with or without its separator)
//    both count; and
//  - has at least one letter a-f (either case) in its first group: eight
//    decimal digits are a date far more often ("sales_20240131_2024_0131"),
//    while a random UUID's first group is all decimal only (10/16)^8 ≈ 2%
//    of the time — that 2% is the accepted miss.
// A whole UUID at the end, or one followed by anything else, is fine.
bool looks_like_truncated_uuid(std::string_view id) {
  for (std::size_t start = 0; start < id.size(); ++start) {
    if (start > 0 && id[start - 1] != '_' && id[start - 1] != '-' && id[start - 1] != '.') continue;
    if (is_cut_uuid(id.substr(start))) return true;
  }
  return false;
}

// Whether `id` ends the way a derived id with a hash does: '_' and exactly
// 8 lower-case hex digits.
bool ends_like_hash_suffix(std::string_view id) {
  if (id.size() < 9 || id[id.size() - 9] != '_') return false;
  for (const char c : id.substr(id.size() - 8))
    if (!(is_ascii_digit(c) || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

void validate_workflow_id(std::string_view workflow_id) {
  if (workflow_id.empty())
    throw error(errc::invalid_argument, "the workflow id is empty");
  if (workflow_id.size() > max_workflow_id_length)
    throw error(errc::invalid_argument,
                fmt::format("workflow id {} is {} bytes long; use at most {} (derive one "
                            "from a name with the documented rule, which never truncates)",
                            quoted_text(cut_text(workflow_id, 32)), workflow_id.size(), max_workflow_id_length));
  for (std::size_t at = 0; at < workflow_id.size(); ++at)
    if (!allowed_in_workflow_id(workflow_id[at]))
      throw error(errc::invalid_argument,
                  fmt::format("workflow id {} has the character {}: AMC allows only letters, "
                              "digits, '.', '-' and '_'",
                              quoted_text(workflow_id), quoted_text(character_at(workflow_id, at))));
  if (looks_like_truncated_uuid(workflow_id))
    throw error(errc::invalid_argument,
                fmt::format("workflow id {} looks like a UUID cut short; use the whole id, or "
                            "derive one from the workflow's name",
                            quoted_text(workflow_id)));
}

// Why no two names give one id: an id either keeps the folded name as it is
// ("wf_" + name, only for names that are already lower-case letters, digits
// and single '_', and never ends in '_' + 8 hex) or ends in '_' + 8 hex of
// the name's SHA-256. Kept ids differ because the names do; a kept id never
// equals a hashed one because of how it ends (so "foo_<hash of Foo>" is
// hashed too, and cannot take "Foo"'s id); hashed ids differ unless two
// names share the first 32 bits of their SHA-256.
std::string workflow_id_from_name(std::string_view name) {
  std::string folded;
  bool last_was_separator = false;
  for (const char c : name) {
    if (is_ascii_alnum(c)) {
      folded += ascii_lower(c);
      last_was_separator = false;
    } else if (!last_was_separator && !folded.empty()) {
      folded += '_';
      last_was_separator = true;
    }
  }
  while (!folded.empty() && folded.back() == '_') folded.pop_back();
  std::string id = "wf_" + folded;
  const bool keep_as_is = folded == name && !folded.empty() && id.size() <= max_workflow_id_length &&
                          !ends_like_hash_suffix(id) && !looks_like_truncated_uuid(id);
  if (keep_as_is) return id;
  // fmt rather than "_" + std::string: GCC 12 at -O3 misreads the latter as
  // an overflowing memcpy (-Wstringop-overflow, PR 105329).
  const std::string suffix = fmt::format("_{}", short_hash(name));
  if (id.size() > max_workflow_id_length - suffix.size()) id.resize(max_workflow_id_length - suffix.size());
  if (!looks_like_truncated_uuid(id + suffix)) return id + suffix;
  // Only a name ending in four whole UUID groups gets here: the hash would
  // read as the start of the fifth. A non-hex "_x" in between stops that.
  const std::string separated = "_x" + suffix;
  if (id.size() > max_workflow_id_length - separated.size())
    id.resize(max_workflow_id_length - separated.size());
  return id + separated;
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
  for (const char c : advertiser_id) all_digits = all_digits && is_ascii_digit(c);
  if (all_digits)
    throw error(errc::invalid_argument,
                fmt::format("advertiser id {} is a numeric Amazon Ads profile id, but AMC wants "
                            "the AMC account's entity id (ENTITY…): list your accounts with GET "
                            "/amc/accounts ('amcctl accounts') and use its accountId",
                            quoted_text(advertiser_id)));
  validate_path_id(advertiser_id, "advertiser id");
}

void validate_path_id(std::string_view id, std::string_view what) {
  if (id.empty()) throw error(errc::invalid_argument, fmt::format("the {} is empty", what));
  // Checked first, and quoted cut short: a 10 MB id was sent as a 10 MB URL
  // and came back in a 10 MB error (issue 23 kind 9).
  if (id.size() > max_path_id_length)
    throw error(errc::invalid_argument,
                fmt::format("the {} {} is {} bytes long; AMC's ids are at most {} bytes here (a UUID is 36): "
                            "give the id itself",
                            what, quoted_text(cut_text(id, 32)), id.size(), max_path_id_length));
  // "." and ".." are path segments of their own: a server or proxy may
  // resolve ".../workflowExecutions/.." to another resource.
  if (std::all_of(id.begin(), id.end(), [](char c) { return c == '.'; }))
    throw error(errc::invalid_argument,
                fmt::format("the {} {} is only dots, which a URL path would read as a step up; give the id itself",
                            what, quoted_text(id)));
  // The usual id (a UUID, an instance or marketplace id) is ASCII letters,
  // digits and '-' / '_' / '.': valid, without the checks below.
  if (std::all_of(id.begin(), id.end(), [](char c) { return is_url_unreserved(c) && c != '~'; }))
    return;
  // Ids go into URL paths and headers: one line of UTF-8 text.
  if (const auto at = first_invalid_utf8(id))
    throw error(errc::invalid_argument,
                fmt::format("the {} {} is not valid UTF-8 at byte {}", what, quoted_text(id), *at));
  for (std::size_t at = 0; at < id.size(); ++at) {
    const char c = id[at];
    if (is_ascii_space(c) || c == '/' || c == '?' || c == '#' ||
        c == '%' || static_cast<unsigned char>(c) < 0x20)
      throw error(errc::invalid_argument,
                  fmt::format("the {} {} contains a character that cannot be part of it ({})",
                              what, quoted_text(id), quoted_text(character_at(id, at))));
  }
}

}  // namespace amc::api
