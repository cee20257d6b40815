// Fuzz target: a downloaded result part as summarize_csv reads it
// (api/results.hpp), in any CSV dialect AMC's outputFormat can ask for
// (separator, quote or none, escape or none: the first three bytes). The
// header's columns come out valid UTF-8; a part cut short is refused with
// errc::protocol.
#include "api/results.hpp"

#include "fuzz_support.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  static const auto path = [] {
    const auto directory = std::filesystem::temp_directory_path() / ("amc-fuzz-csv-" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory);
    return directory / "part-1.csv";
  }();
  amc::api::csv_dialect dialect;
  dialect.separator = static_cast<char>(data[0]);
  dialect.quote = data[1] == 0 ? std::nullopt : std::optional<char>(static_cast<char>(data[1]));
  dialect.escape = data[2] == 0 ? std::nullopt : std::optional<char>(static_cast<char>(data[2]));
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data) + 3, static_cast<std::streamsize>(size - 3));
  }
  amc::fuzz::refused_or_parsed([&] {
    const auto summary = amc::api::summarize_csv(path, dialect);
    for (const auto& column : summary.columns)
      if (amc::first_invalid_utf8(column)) amc::fuzz::finding("a result column name that is not UTF-8", "");
  });
  return 0;
}
