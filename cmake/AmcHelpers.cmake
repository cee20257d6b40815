# Small helpers shared by the component CMakeLists files.

# amc_component(NAME SOURCES...): a static, position-independent library for
# one folder of src/, linked into libamc.so and into the tests.
function(amc_component name)
  add_library(amc_${name} STATIC ${ARGN})
  target_include_directories(amc_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(amc_${name} PRIVATE amc_warnings)
endfunction()

# amc_test(NAME SOURCES... [LABELS l...] [LIBS l...]): one GoogleTest binary,
# its tests discovered into ctest with the given labels. With AMC_GTESTS OFF
# the target still exists (later target_* calls on it work) but is left out
# of the default build and of ctest.
function(amc_test name)
  cmake_parse_arguments(arg "" "" "LABELS;LIBS" ${ARGN})
  if(NOT AMC_GTESTS)
    add_executable(${name} EXCLUDE_FROM_ALL ${arg_UNPARSED_ARGUMENTS})
    target_link_libraries(${name} PRIVATE ${arg_LIBS} amc_test_support GTest::gtest GTest::gtest_main amc_warnings)
    return()
  endif()
  add_executable(${name} ${arg_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${arg_LIBS} amc_test_support GTest::gtest GTest::gtest_main amc_warnings)
  if(NOT arg_LABELS)
    set(arg_LABELS unit)
  endif()
  # PROPERTIES takes name/value pairs: a list value must keep its semicolons
  # escaped, or every label but the first is lost.
  string(REPLACE ";" "\\;" escaped_labels "${arg_LABELS}")
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${escaped_labels}"
    DISCOVERY_TIMEOUT 60)
endfunction()

# With sanitizers at -O1, GCC 12 reports -Wmaybe-uninitialized inside
# libstdc++'s <regex> (the std::function in its NFA states) wherever a
# std::regex is built; the finding is in the header, not in our code, so it
# is silenced for exactly the sources that build one.
function(amc_sources_using_std_regex)
  if(AMC_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS -Wno-maybe-uninitialized)
  endif()
endfunction()

# amc_use_net_pch(TARGET...): the targets parse the Asio/Beast/JSON/fmt
# headers from a shared precompiled header instead of one of their own. One
# PCH is about 300 MB (Asio and Beast with SSL), so a PCH per target cost
# about 3 GB per build tree and filled the CI machine's disk. GCC accepts a
# PCH only where -fPIC/-fPIE match, so there are two: libraries reuse
# amc_net's, executables amc-sandbox's. CMake compiles
# every PCH user with -Winvalid-pch, an error under AMC_WERROR, so a target
# where the shared PCH would be ignored fails the sanitizer builds.
function(amc_use_net_pch)
  foreach(target IN LISTS ARGN)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE" AND NOT TARGET amc-sandbox)
      # Built without the sandbox (-DAMC_BUILD_SANDBOX=OFF): its own PCH.
      target_precompile_headers(${target} PRIVATE ${AMC_NET_PRECOMPILED_HEADERS})
    elseif(type STREQUAL "EXECUTABLE")
      target_precompile_headers(${target} REUSE_FROM amc-sandbox)
    else()
      target_precompile_headers(${target} REUSE_FROM amc_net)
    endif()
  endforeach()
endfunction()
