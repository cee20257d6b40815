// The one reader and writer of a store document's text, for every backend
// that keeps text (the file, the host's callbacks): the same limits and the
// same errors wherever the document lives, so that nothing a file store
// would refuse reaches the credential store from a host's store (issue 23
// kind 3: a host document nested 100,000 deep crashed the next write).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace amc::store {

// The largest stored document read or written: credentials and the
// execution journal take kilobytes; 64 MiB leaves room for years of
// journal and keeps a runaway host value from being parsed at all.
inline constexpr std::size_t max_document_bytes = 64u << 20;

// `text` as a store document: empty text is an empty object; JSON within
// max_json_depth, valid UTF-8, an object, at most max_document_bytes.
// Anything else throws errc::store naming `where` ("the store file '/x'",
// "the host store's document") and `advice` (what to do), never quoting
// the text; `detail` goes into the error's JSON detail.
nlohmann::json parse_document_text(std::string_view text, std::string_view where, std::string_view advice,
                                   const nlohmann::json& detail = nlohmann::json::object());

// The text to store for `document`, checked to read back, with
// parse_document_text, as the same document: errc::internal (nothing
// stored) otherwise. `indent` as nlohmann's dump() takes it.
std::string document_text(const nlohmann::json& document, std::string_view where, int indent = -1,
                          const nlohmann::json& detail = nlohmann::json::object());

}  // namespace amc::store
