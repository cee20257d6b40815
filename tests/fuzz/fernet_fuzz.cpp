// Fuzz target: Fernet keys (one, and Airflow's comma-separated list) and
// tokens (decrypt with and without a TTL, at rest, rotate), and the round
// trip of any plaintext. A key or token is refused with amc::error or a
// token_problem; whatever decrypts must be what was encrypted.
#include "crypto/fernet.hpp"

#include "fuzz_support.hpp"

namespace {

using amc::crypto::fernet_key;
using amc::crypto::multi_fernet;

// Two fixed test keys (not secrets of anything): tokens the fuzzer builds
// from the corpus can be signed with them.
const multi_fernet& keys() {
  static const multi_fernet both = multi_fernet::from_key_list(
      "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=,AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=");
  return both;
}

void drive(unsigned choice, std::string_view text) {
  switch (choice) {
    case 0: {  // one key, as Python's cryptography reads it
      const auto key = fernet_key::from_text(text);
      const auto token = key.encrypt("round trip");
      const auto back = key.decrypt(token);
      if (!back.token || back.token->plaintext != "round trip") amc::fuzz::finding("a key that cannot decrypt its own token", "");
      break;
    }
    case 1: (void)multi_fernet::from_key_list(text); break;
    case 2: {  // a token read back from a store or from Python
      const auto& both = keys();
      (void)both.decrypt(text);
      (void)both.decrypt(text, 60, 1'700'000'000);
      const auto at_rest = both.decrypt_at_rest(text);
      amc::crypto::token_problem problem{};
      const auto rotated = both.rotate(text, &problem);
      if (rotated.has_value() != at_rest.token.has_value())
        amc::fuzz::finding("rotate and decrypt_at_rest disagree about a token", "");
      if (rotated) {
        const auto again = both.decrypt_at_rest(*rotated);
        if (!again.token || again.token->plaintext != at_rest.token->plaintext ||
            again.token->timestamp != at_rest.token->timestamp)
          amc::fuzz::finding("a rotated token does not hold the same plaintext and timestamp", "");
      }
      break;
    }
    default: {  // any plaintext round-trips
      const auto token = keys().encrypt(text);
      const auto back = keys().decrypt_at_rest(token);
      if (!back.token || back.token->plaintext != text) amc::fuzz::finding("a plaintext that does not round-trip", "");
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = amc::fuzz::split(data, size, 4);
  // A key's text is a secret: no refusal may quote it. What looks like key
  // material is a run of 16 or more base64 characters (shorter runs, and
  // prose, may well be words of a message).
  std::string_view key_material;
  if (input.choice < 2) {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= input.text.size(); ++i) {
      const bool base64 = i < input.text.size() && (amc::is_ascii_alnum(input.text[i]) || input.text[i] == '-' ||
                                                     input.text[i] == '_' || input.text[i] == '+' ||
                                                     input.text[i] == '/' || input.text[i] == '=');
      if (base64) continue;
      if (i - start > key_material.size()) key_material = input.text.substr(start, i - start);
      start = i + 1;
    }
    if (key_material.size() < 16) key_material = {};
  }
  amc::fuzz::refused_or_parsed([&] { drive(input.choice, input.text); }, {key_material});
  return 0;
}
