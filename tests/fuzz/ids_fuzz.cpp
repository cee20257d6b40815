// Fuzz target: the ids libamc checks before any request (api/ids.hpp,
// store credential and execution ids) and the text it builds URLs and
// forms from. A refused id is amc::error; an accepted one is within its
// documented length, and a workflow id made from any name is one
// validate_workflow_id accepts.
#include "api/ids.hpp"
#include "common/url_encoding.hpp"
#include "net/url.hpp"
#include "store/credential.hpp"
#include "store/execution_journal.hpp"

#include "fuzz_support.hpp"

namespace {

using namespace amc;

void check(unsigned which, std::string_view text) {
  switch (which) {
    case 0:
      api::validate_workflow_id(text);
      if (text.size() > 128) fuzz::finding("a workflow id longer than 128 bytes was accepted", "");
      break;
    case 1: {
      const auto id = api::workflow_id_from_name(text);
      api::validate_workflow_id(id);  // a refusal here is a finding: see below
      if (api::workflow_id_from_name(text) != id) fuzz::finding("workflow_id_from_name is not deterministic", id);
      break;
    }
    case 2: api::validate_advertiser_id(text); break;
    case 3:
      api::validate_path_id(text, "AMC execution id");
      if (text.size() > api::max_path_id_length) fuzz::finding("a path id past max_path_id_length was accepted", "");
      break;
    case 4: store::validate_credential_id(text); break;
    case 5: store::validate_execution_id(text); break;
    case 6: {
      const std::vector<std::pair<std::string, std::string>> fields{{std::string(text), std::string(text)}};
      if (form_decode(form_encode(fields)) != std::string(text) + "=" + std::string(text))
        fuzz::finding("form_encode does not round-trip", "");
      const auto encoded = percent_encode(text);
      if (encoded.find_first_of("/?#& ") != std::string::npos) fuzz::finding("percent_encode left a delimiter", encoded);
      break;
    }
    default: (void)net::parse_url(text); break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::split(data, size, 8);
  if (input.choice == 1) {
    // A name gives a valid id, always: any refusal is a finding.
    try {
      check(1, input.text);
    } catch (const error& problem) {
      fuzz::finding("workflow_id_from_name made an id validate_workflow_id refuses", problem.message());
    }
    return 0;
  }
  fuzz::refused_or_parsed([&] { check(input.choice, input.text); });
  return 0;
}
