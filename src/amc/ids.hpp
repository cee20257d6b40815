// The identifiers of AMC and their rules, checked before any request so that
// a wrong id fails fast with a message that says what to use instead.
#pragma once

#include <string>
#include <string_view>

namespace amc::api {

// AMC's workflowId charset: letters, digits, '.', '-', '_'; at most 128
// characters here (AMC publishes no maximum; ids longer than that are most
// likely a mistake). Throws invalid_argument naming the id and the problem.
// Ids that look like a truncated UUID (the seed application's
// "wf_e27c2385_b1ed_4bcf_a") are refused too: they come from code that cut
// an id short, and two of them can collide.
void validate_workflow_id(std::string_view workflow_id);

// A valid workflow id derived from a human name, deterministically: letters
// and digits kept, everything else folded to '_', prefixed "wf_", and — when
// the name had to be changed or shortened — suffixed with 8 hex characters
// of the name's SHA-256, so that two different names never give one id.
std::string workflow_id_from_name(std::string_view name);

// The advertiser id of AMC calls is the AMC account's entity id
// ("ENTITY…"). A numeric Ads profile id is refused with a message that says
// where to find the entity id. Throws invalid_argument.
void validate_advertiser_id(std::string_view advertiser_id);

bool looks_like_entity_id(std::string_view advertiser_id);

// AMC's instance ids ("amc…") and marketplace ids: non-empty, no '/' or
// whitespace (they become part of a URL path or a header).
void validate_path_id(std::string_view id, std::string_view what);

}  // namespace amc::api
