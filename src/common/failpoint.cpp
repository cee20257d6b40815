// Fail points: compiled in only for test builds (CMake option AMC_FAILPOINTS,
// which src/common/CMakeLists.txt turns into AMC_FAILPOINTS_ENABLED).
#include "common/failpoint.hpp"

#if !defined(AMC_FAILPOINTS_ENABLED)
#error "AMC_FAILPOINTS_ENABLED must be 0 or 1 (set by src/common/CMakeLists.txt from the option AMC_FAILPOINTS)"
#endif

#if AMC_FAILPOINTS_ENABLED

#include "common/error.hpp"

#include <cstdlib>
#include <map>
#include <new>
#include <stdexcept>
#include <string>

namespace amc {
namespace {

// Parsed once: fail points are set for a whole process by its environment.
const std::map<std::string, std::string, std::less<>>& configured_failpoints() {
  static const auto points = [] {
    std::map<std::string, std::string, std::less<>> parsed;
    const char* spec = std::getenv("AMC_FAILPOINTS");
    if (spec == nullptr) return parsed;
    std::string_view rest{spec};
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = rest.substr(0, comma);
      const auto equals = item.find('=');
      if (equals != std::string_view::npos)
        parsed.emplace(std::string{item.substr(0, equals)}, std::string{item.substr(equals + 1)});
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    return parsed;
  }();
  return points;
}

}  // namespace

void failpoint(std::string_view name) {
  const auto& points = configured_failpoints();
  if (points.empty()) return;
  const auto found = points.find(name);
  if (found == points.end()) return;
  const std::string& action = found->second;
  if (action == "throw")
    throw error(errc::internal, "fail point '" + std::string{name} + "' triggered");
  if (action == "std_exception")
    throw std::runtime_error("fail point '" + std::string{name} + "' triggered");
  if (action == "bad_alloc") throw std::bad_alloc();
  if (action == "non_std") throw 42;
  if (action == "abort") std::abort();
}

}  // namespace amc

#else  // fail points not compiled: the environment is never read.

namespace amc {

void failpoint(std::string_view) {}

}  // namespace amc

#endif
