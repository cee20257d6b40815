// The acceptance vectors published with the Fernet specification
// (tests/data/fernet, see its SOURCE.md): every case of generate.json, verify.json and
// invalid.json.
#include "crypto/fernet.hpp"

#include "common/time.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace amc::crypto {
namespace {

nlohmann::json load_vectors(const std::string& name) {
  const std::string path = std::string(AMC_FERNET_VECTORS_DIR) + "/" + name;
  std::ifstream in(path);
  if (!in) ADD_FAILURE() << "cannot open " << path << " (the vectors live in tests/data/fernet)";
  nlohmann::json vectors = nlohmann::json::parse(in, nullptr, false);
  if (!vectors.is_array() || vectors.empty()) ADD_FAILURE() << path << " has no vectors";
  return vectors.is_array() ? vectors : nlohmann::json::array();
}

std::int64_t vector_time(const nlohmann::json& vector) {
  const auto parsed = parse_utc(vector.at("now").get<std::string>());
  EXPECT_TRUE(parsed.has_value());
  return parsed.value_or(0);
}

TEST(FernetVectors, TimeOfTheVectorsConvertsAsTheSpecSays) {
  EXPECT_EQ(parse_utc("1985-10-26T01:20:00-07:00"), 499162800);
}

TEST(FernetVectors, Generate) {
  const auto vectors = load_vectors("generate.json");
  for (const auto& vector : vectors) {
    const auto key = fernet_key::from_text(vector.at("secret").get<std::string>());
    std::array<std::uint8_t, 16> iv{};
    for (std::size_t i = 0; i < iv.size(); ++i) iv[i] = vector.at("iv").at(i).get<std::uint8_t>();
    EXPECT_EQ(key.encrypt(vector.at("src").get<std::string>(),
                          static_cast<std::uint64_t>(vector_time(vector)), iv),
              vector.at("token").get<std::string>());
  }
}

TEST(FernetVectors, Verify) {
  const auto vectors = load_vectors("verify.json");
  for (const auto& vector : vectors) {
    const auto key = fernet_key::from_text(vector.at("secret").get<std::string>());
    const auto outcome = key.decrypt(vector.at("token").get<std::string>(),
                                     vector.at("ttl_sec").get<std::int64_t>(), vector_time(vector));
    ASSERT_TRUE(outcome.token.has_value()) << describe(outcome.problem);
    EXPECT_EQ(outcome.token->plaintext, vector.at("src").get<std::string>());
  }
}

TEST(FernetVectors, EveryInvalidTokenIsRefused) {
  const auto vectors = load_vectors("invalid.json");
  EXPECT_EQ(vectors.size(), 8u);
  for (const auto& vector : vectors) {
    const auto key = fernet_key::from_text(vector.at("secret").get<std::string>());
    const auto outcome = key.decrypt(vector.at("token").get<std::string>(),
                                     vector.at("ttl_sec").get<std::int64_t>(), vector_time(vector));
    EXPECT_FALSE(outcome.token.has_value()) << vector.at("desc");
    EXPECT_NE(outcome.problem, token_problem::none) << vector.at("desc");
  }
}

TEST(FernetVectors, InvalidCasesFailForTheirStatedReason) {
  const auto vectors = load_vectors("invalid.json");
  const std::map<std::string, token_problem> expected = {
      {"incorrect mac", token_problem::bad_signature},
      {"too short", token_problem::malformed},
      {"invalid base64", token_problem::malformed},
      {"payload size not multiple of block size", token_problem::malformed},
      {"payload padding error", token_problem::bad_padding},
      {"far-future TS (unacceptable clock skew)", token_problem::from_the_future},
      {"expired TTL", token_problem::expired},
      {"incorrect IV (causes padding error)", token_problem::bad_padding},
  };
  for (const auto& vector : vectors) {
    const auto key = fernet_key::from_text(vector.at("secret").get<std::string>());
    const auto outcome = key.decrypt(vector.at("token").get<std::string>(),
                                     vector.at("ttl_sec").get<std::int64_t>(), vector_time(vector));
    const auto description = vector.at("desc").get<std::string>();
    ASSERT_TRUE(expected.count(description)) << description;
    EXPECT_EQ(outcome.problem, expected.at(description)) << description;
  }
}

}  // namespace
}  // namespace amc::crypto
