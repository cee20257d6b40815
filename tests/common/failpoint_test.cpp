// Fail points compiled both ways, whatever this tree's AMC_FAILPOINTS option:
// src/common/failpoint.cpp is built into one test program with
// AMC_FAILPOINTS_ENABLED=1 and into another with 0. The first must do what
// the environment says; the second, what a library built with the option
// off (the default) does, must ignore the same environment completely.
#include "common/error.hpp"
#include "common/failpoint.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <stdexcept>

namespace amc {
namespace {

// Read once per process by failpoint(), so set before the first call.
void set_failpoints() {
  ASSERT_EQ(::setenv("AMC_FAILPOINTS",
                     "test.throw=throw,test.std_exception=std_exception,test.bad_alloc=bad_alloc,"
                     "test.non_std=non_std,test.abort=abort",
                     1),
            0);
}

#if AMC_FAILPOINTS_ENABLED

TEST(Failpoints, ATestBuildDoesWhatTheEnvironmentSays) {
  set_failpoints();
  EXPECT_THROW(failpoint("test.throw"), error);
  EXPECT_THROW(failpoint("test.std_exception"), std::runtime_error);
  EXPECT_THROW(failpoint("test.bad_alloc"), std::bad_alloc);
  EXPECT_THROW(failpoint("test.non_std"), int);
  EXPECT_NO_THROW(failpoint("test.not_named"));
  EXPECT_DEATH(failpoint("test.abort"), "");
}

#else

TEST(Failpoints, ALibraryBuiltWithoutTheOptionIgnoresTheEnvironment) {
  set_failpoints();
  EXPECT_NO_THROW(failpoint("test.throw"));
  EXPECT_NO_THROW(failpoint("test.std_exception"));
  EXPECT_NO_THROW(failpoint("test.bad_alloc"));
  EXPECT_NO_THROW(failpoint("test.non_std"));
  failpoint("test.abort");  // would end this process in a test build
  SUCCEED();
}

#endif

}  // namespace
}  // namespace amc
