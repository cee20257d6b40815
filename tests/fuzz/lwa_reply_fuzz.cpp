// Fuzz target: Login with Amazon's token replies (auth/lwa.hpp
// interpret_token_reply) for every HTTP status class, with the secrets the
// request carried: no refusal may quote them (issue 23 kind 7), and a grant
// always has a token and an expiry within the documented bounds.
#include "auth/lwa.hpp"

#include "fuzz_support.hpp"

namespace {

constexpr std::string_view refresh_token = "Atzr|fuzz-refresh-7f3a9c1e5b2d";
constexpr std::string_view client_secret = "fuzz-client-secret-91d2e4c6";
constexpr unsigned statuses[] = {200, 201, 204, 301, 302, 400, 401, 403, 404, 429, 500, 502, 503, 599, 100, 0};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = amc::fuzz::split(data, size, std::size(statuses));
  amc::fuzz::refused_or_parsed(
      [&] {
        const auto grant = amc::auth::interpret_token_reply(statuses[input.choice], input.text, "fuzz-credential",
                                                            "amzn1.application-oa2-client.fuzz",
                                                            {refresh_token, client_secret});
        if (grant.access_token.empty()) amc::fuzz::finding("a grant without an access token", "");
        if (grant.expires_in_seconds < 1 ||
            grant.expires_in_seconds > amc::auth::max_access_token_lifetime_seconds)
          amc::fuzz::finding("a grant whose expiry is out of the documented bounds", "");
      },
      {refresh_token, client_secret});
  return 0;
}
