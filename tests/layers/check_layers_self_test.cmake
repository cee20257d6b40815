# The layer check checked: run on small trees made here, it passes what the
# table allows and fails, naming file, line and row, on each kind of
# crossing; run on a copy of the real tree with a forbidden include added,
# it fails too (so the real table forbids something).
#   cmake -DCHECKER=<check_layers.cmake> -DREPO=<repo> -DWORK_DIR=<scratch> -P check_layers_self_test.cmake
cmake_minimum_required(VERSION 3.25)

set(failures "")

# Runs the checker on `root`; expects success (EXPECT ok) or failure whose
# output matches every regex after MATCHES.
function(expect_check case root)
  cmake_parse_arguments(arg "" "EXPECT" "MATCHES" ${ARGN})
  execute_process(COMMAND ${CMAKE_COMMAND} -DROOT=${root} -P ${CHECKER}
                  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(output "${out}${err}")
  if(arg_EXPECT STREQUAL "ok")
    if(NOT result EQUAL 0)
      set(failures "${failures}\n${case}: expected to pass, failed:\n${output}" PARENT_SCOPE)
    endif()
    return()
  endif()
  if(result EQUAL 0)
    set(failures "${failures}\n${case}: expected to fail, passed:\n${output}" PARENT_SCOPE)
    return()
  endif()
  foreach(pattern IN LISTS arg_MATCHES)
    if(NOT output MATCHES "${pattern}")
      set(failures "${failures}\n${case}: the output lacks /${pattern}/:\n${output}" PARENT_SCOPE)
    endif()
  endforeach()
endfunction()

# A tree with src/low (includes nothing), src/high (may include src/low),
# and `doc_tail` appended to its page.
function(make_tree root doc_tail)
  file(REMOVE_RECURSE "${root}")
  file(WRITE "${root}/docs/architecture.md" "# Architecture

| folder | what it holds | may include |
| --- | --- | --- |
| `src/low` | the bottom | nothing of ours |
| `src/high` | the top | `src/low` |
${doc_tail}")
  file(WRITE "${root}/src/low/low.hpp" "#pragma once\n#include <string>\n")
  file(WRITE "${root}/src/low/low.cpp" "#include \"low/low.hpp\"\n")
  file(WRITE "${root}/src/high/high.hpp" "#pragma once\n#include \"low/low.hpp\"\n")
  file(WRITE "${root}/src/high/high.cpp" "// the top\n#include \"high/high.hpp\"\n#include <low/low.hpp>\n")
endfunction()

set(tree "${WORK_DIR}/tree")

make_tree("${tree}" "")
expect_check("allowed includes" "${tree}" EXPECT ok)

make_tree("${tree}" "")
file(APPEND "${tree}/src/low/low.cpp" "\n#include \"high/high.hpp\"\n")
expect_check("an include up the table" "${tree}" EXPECT fail MATCHES
  "src/low/low.cpp:3: #include \"high/high.hpp\" reaches src/high"
  "`src/low` may include nothing but itself \\(docs/architecture.md:5\\)")

make_tree("${tree}" "")
file(WRITE "${tree}/src/low/angle.hpp" "#pragma once\n#  include <high/high.hpp>\n")
expect_check("an <include> up the table" "${tree}" EXPECT fail MATCHES
  "src/low/angle.hpp:2: #include \"high/high.hpp\" reaches src/high")

make_tree("${tree}" "")
file(WRITE "${tree}/src/low/spelt_from_root.cpp" "#include \"src/high/high.hpp\"\n")
expect_check("an include spelt from the root" "${tree}" EXPECT fail MATCHES
  "src/low/spelt_from_root.cpp:1: #include \"src/high/high.hpp\" reaches src/high")

make_tree("${tree}" "")
file(WRITE "${tree}/src/low/odd.cpp" "#define SPLIT(a) \\\n  a; [ \\\n#include \"high/high.hpp\" // ]; \\\n")
expect_check("lines with \\ ; [ ] in them" "${tree}" EXPECT fail MATCHES
  "src/low/odd.cpp:3: #include \"high/high.hpp\" reaches src/high")

make_tree("${tree}" "")
file(WRITE "${tree}/src/low/build/generated.cpp" "#include \"high/high.hpp\"\n")
file(WRITE "${tree}/src/low/.venv/include/python.h" "#include \"high/high.hpp\"\n")
expect_check("build trees and hidden folders are not ours" "${tree}" EXPECT ok)

make_tree("${tree}" "")
file(WRITE "${tree}/src/middle/middle.cpp" "#include \"low/low.hpp\"\n")
expect_check("a file in no row" "${tree}" EXPECT fail MATCHES
  "src/middle/middle.cpp: in no folder of the layer table")

make_tree("${tree}" "| `src/nowhere` | a lie | `src/low` |\n")
expect_check("a row for no folder" "${tree}" EXPECT fail MATCHES
  "docs/architecture.md:7: row `src/nowhere` names no folder")

make_tree("${tree}" "")
file(READ "${tree}/docs/architecture.md" page)
string(REPLACE "| `src/high` | the top | `src/low` |" "| `src/high` | the top | `src/lower` |" page "${page}")
file(WRITE "${tree}/docs/architecture.md" "${page}")
expect_check("an entry for nothing" "${tree}" EXPECT fail MATCHES
  "`src/high` may include `src/lower`, which names nothing")

set(still_to_remove "
## Still to remove

- `src/low/low.cpp` includes `high/high.hpp`: being moved
")
make_tree("${tree}" "${still_to_remove}")
file(APPEND "${tree}/src/low/low.cpp" "#include \"high/high.hpp\"\n")
expect_check("a crossing that is still to remove" "${tree}" EXPECT ok)

make_tree("${tree}" "${still_to_remove}")
expect_check("a still-to-remove entry that is done" "${tree}" EXPECT fail MATCHES
  "docs/architecture.md:10: still to remove: src/low/low.cpp includes high/high.hpp is gone")

make_tree("${tree}" "${still_to_remove}")
file(WRITE "${tree}/src/low/other.cpp" "#include \"high/high.hpp\"\n")
file(APPEND "${tree}/src/low/low.cpp" "#include \"high/high.hpp\"\n")
expect_check("an entry excuses one file only" "${tree}" EXPECT fail MATCHES
  "src/low/other.cpp:1: #include \"high/high.hpp\" reaches src/high")

make_tree("${tree}" "")
file(WRITE "${tree}/docs/architecture.md" "# Architecture\n\nNo table.\n")
expect_check("a page without the table" "${tree}" EXPECT fail MATCHES "has no layer table")

# The real page on a copy of the real tree: it passes as is, and fails on
# a forbidden include in capi/ and one up from src/common.
set(copy "${WORK_DIR}/repo")
file(REMOVE_RECURSE "${copy}")
file(MAKE_DIRECTORY "${copy}/docs")
file(COPY "${REPO}/docs/architecture.md" DESTINATION "${copy}/docs")
foreach(top capi src include adapters bench tests)
  file(GLOB_RECURSE files RELATIVE "${REPO}" "${REPO}/${top}/*.c" "${REPO}/${top}/*.h" "${REPO}/${top}/*.cc"
       "${REPO}/${top}/*.cpp" "${REPO}/${top}/*.hpp" "${REPO}/${top}/*.ipp")
  list(FILTER files EXCLUDE REGEX "(^|/)(\\.[^/]*|build|build-[^/]*)/")
  foreach(file IN LISTS files)
    get_filename_component(directory "${copy}/${file}" DIRECTORY)
    file(COPY "${REPO}/${file}" DESTINATION "${directory}")
  endforeach()
endforeach()
expect_check("the real tree" "${copy}" EXPECT ok)
file(WRITE "${copy}/capi/capi_layer_probe.cpp"
     "#include \"client/client.hpp\"\n#include \"api/shapes.hpp\"\n#include \"store/credential_store.hpp\"\n")
file(WRITE "${copy}/src/common/layer_probe.cpp" "#include \"common/log.hpp\"\n#include \"net/url.hpp\"\n")
expect_check("the real table, crossed" "${copy}" EXPECT fail MATCHES
  "capi/capi_layer_probe.cpp:2: #include \"api/shapes.hpp\" reaches src/api"
  "capi/capi_layer_probe.cpp:3: #include \"store/credential_store.hpp\" reaches src/store"
  "src/common/layer_probe.cpp:2: #include \"net/url.hpp\" reaches src/net"
  "broken in 3 place")

if(failures)
  message(FATAL_ERROR "the layer check misbehaves:${failures}")
endif()
message(STATUS "the layer check passes what its table allows and fails on every kind of crossing")
