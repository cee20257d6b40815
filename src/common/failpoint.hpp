// Fail points: named places in the core where tests make the library fail on
// purpose (throw, or die), to prove that a failure at that exact step loses
// no data and never crosses the C ABI as an exception.
//
// They exist only in test builds: with the CMake option AMC_FAILPOINTS off
// (the default, so the library users build and install), failpoint() is
// compiled empty and the environment variable is never read, so nothing in
// a production environment can make a host process throw or abort here.
//
// In a test build they are inert unless the environment variable
// AMC_FAILPOINTS is set when the library first checks it, e.g.
//   AMC_FAILPOINTS="store.before_rename=throw,capi.store_new=std_exception"
// Actions: "throw" (amc::error, internal), "std_exception"
// (std::runtime_error), "bad_alloc" (std::bad_alloc), "non_std" (an int),
// "abort" (std::abort, to simulate a crash).
#pragma once

#include <string_view>

namespace amc {

// Does what AMC_FAILPOINTS says for `name`; nothing when it names nothing.
void failpoint(std::string_view name);

}  // namespace amc
