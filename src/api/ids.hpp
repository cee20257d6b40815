// The identifiers of AMC and their rules, checked before any request so that
// a wrong id fails fast with a message that says what to use instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace amc::api {

// AMC's workflowId charset: letters, digits, '.', '-', '_'; at most 128
// characters here (AMC publishes no maximum; ids longer than that are most
// likely a mistake). Throws invalid_argument naming the id and the problem.
// Ids that END with a UUID cut short are refused too (the seed
// application's "wf_e27c2385_b1ed_4bcf_a"): they come from code that cut an
// id short, and two of them can collide. Cut short means: a strict prefix
// of 8-4-4-4-12 hex digits joined by '-' or '_', starting at the id's
// start or after '_', '-' or '.', reaching at least two digits into the
// second group, with a letter a-f in the first group (so dates such as
// "sales_20240131_2024_0131" pass). See looks_like_truncated_uuid in
// ids.cpp for why.
void validate_workflow_id(std::string_view workflow_id);

// A valid workflow id derived from a human name, deterministically: letters
// and digits kept in lower case, every other run folded to '_', prefixed
// "wf_". The name is kept as it is only when folding changed nothing, it
// fits, and the id neither ends in '_' + 8 hex nor looks like a cut UUID;
// otherwise '_' + 8 hex of the name's SHA-256 is appended (after shortening
// the folded part to fit 128; a name ending in four whole UUID groups gets
// "_x" before it). Two different names never give one id, unless their
// SHA-256 share the first 32 bits.
std::string workflow_id_from_name(std::string_view name);

// The advertiser id of AMC calls is the AMC account's entity id
// ("ENTITY…"). A numeric Ads profile id is refused with a message that says
// where to find the entity id. Throws invalid_argument.
void validate_advertiser_id(std::string_view advertiser_id);

bool looks_like_entity_id(std::string_view advertiser_id);

// The longest instance, marketplace, advertiser or AMC execution id libamc
// sends. AMC's spec (tests/data/specs) gives no maximum for any id; the
// ones AMC hands out are short (a UUID is 36 bytes, "amc…" instance ids
// and "ENTITY…" ids about 20), so 128 bytes, as for workflow ids, is far
// above any real one and keeps a runaway value out of URLs and messages.
inline constexpr std::size_t max_path_id_length = 128;

// AMC's instance ids ("amc…") and marketplace ids: non-empty, at most
// max_path_id_length bytes, no '/' or whitespace (they become part of a URL
// path or a header).
void validate_path_id(std::string_view id, std::string_view what);

}  // namespace amc::api
