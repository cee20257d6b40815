# Small helpers shared by the component CMakeLists files.

# amc_component(NAME SOURCES...): a static, position-independent library for
# one folder of src/, linked into libamc.so and into the tests.
function(amc_component name)
  add_library(amc_${name} STATIC ${ARGN})
  target_include_directories(amc_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(amc_${name} PRIVATE amc_warnings)
endfunction()

# amc_test(NAME SOURCES... [LABELS l...] [LIBS l...]): one GoogleTest binary,
# its tests discovered into ctest with the given labels.
function(amc_test name)
  cmake_parse_arguments(arg "" "" "LABELS;LIBS" ${ARGN})
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
