# Checks tests/abi/symbols.txt (which libamc version introduced each
# exported function) against the library, today's header and 1.0's header:
#  - libamc.so exports exactly the listed functions, each bound to the one
#    version node LIBAMC_<ABI major> of capi/libamc.map, and defines no
#    other version node;
#  - include/amc/amc.h declares exactly the listed functions;
#  - the functions listed as 1.0 are exactly those of tests/abi/amc_1_0.h;
#  - no function is newer than the library's version (a function added
#    without raising AMC_VERSION_MINOR fails here).
# cmake -DLIBRARY=libamc.so.1 -DOBJDUMP=objdump -DSYMBOLS=symbols.txt
#       -DHEADER=include/amc/amc.h -DHEADER_1_0=tests/abi/amc_1_0.h
#       -DVERSION=1.1.0 -P check_symbols.cmake
cmake_minimum_required(VERSION 3.25)
foreach(variable LIBRARY OBJDUMP SYMBOLS HEADER HEADER_1_0 VERSION)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "check_symbols.cmake needs -D${variable}=...")
  endif()
endforeach()
string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" version_major_minor "${VERSION}")
set(major ${CMAKE_MATCH_1})
set(node "LIBAMC_${major}")
set(problems "")

# symbols.txt: "name major.minor" per line; # starts a comment.
file(STRINGS "${SYMBOLS}" lines)
set(listed "")
set(listed_1_0 "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "#.*$" "" line "${line}")
  string(STRIP "${line}" line)
  if(line STREQUAL "")
    continue()
  endif()
  if(NOT line MATCHES "^(amc_[a-z0-9_]+) +([0-9]+)\\.([0-9]+)$")
    list(APPEND problems "symbols.txt: '${line}' is not 'amc_name major.minor'")
    continue()
  endif()
  set(name ${CMAKE_MATCH_1})
  set(since "${CMAKE_MATCH_2}.${CMAKE_MATCH_3}")
  if(name IN_LIST listed)
    list(APPEND problems "symbols.txt lists ${name} twice")
  endif()
  list(APPEND listed ${name})
  if(NOT CMAKE_MATCH_2 EQUAL major)
    list(APPEND problems "symbols.txt: ${name} ${since} is not of ABI major ${major}")
  elseif(since VERSION_GREATER version_major_minor)
    list(APPEND problems "symbols.txt: ${name} came in ${since}, but the library is ${VERSION}: raise AMC_VERSION_MINOR in amc.h")
  endif()
  if(since STREQUAL "${major}.0")
    list(APPEND listed_1_0 ${name})
  endif()
endforeach()

# The functions a header declares: "AMC_API <return type> amc_name(".
function(declared_functions header out)
  file(READ "${header}" text)
  string(REGEX MATCHALL "AMC_API[^;(]*[ *](amc_[a-z0-9_]+)\\(" declarations "${text}")
  set(names "")
  foreach(declaration IN LISTS declarations)
    string(REGEX REPLACE ".*[ *](amc_[a-z0-9_]+)\\($" "\\1" name "${declaration}")
    list(APPEND names ${name})
  endforeach()
  list(REMOVE_DUPLICATES names)
  set(${out} ${names} PARENT_SCOPE)
endfunction()

# set_difference(A B out): the names in A that B lacks.
function(set_difference a b out)
  set(result "")
  foreach(name IN LISTS ${a})
    if(NOT name IN_LIST ${b})
      list(APPEND result ${name})
    endif()
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

function(compare what_a a what_b b)
  set_difference(${a} ${b} only_a)
  set_difference(${b} ${a} only_b)
  if(only_a)
    list(JOIN only_a ", " only_a)
    list(APPEND problems "${what_a} but not ${what_b}: ${only_a}")
  endif()
  if(only_b)
    list(JOIN only_b ", " only_b)
    list(APPEND problems "${what_b} but not ${what_a}: ${only_b}")
  endif()
  set(problems "${problems}" PARENT_SCOPE)
endfunction()

# The dynamic symbol table, with each symbol's version (objdump -T):
#   <address> g    DF .text  <size>  LIBAMC_1    amc_free
# A version script makes the linker add one absolute symbol per version
# node it defines (here LIBAMC_1, "DO *ABS*"): that is the node itself, not
# something libamc exports, and it must be exactly the node of
# capi/libamc.map.
execute_process(COMMAND ${OBJDUMP} -T "${LIBRARY}" OUTPUT_VARIABLE table RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} -T ${LIBRARY} failed")
endif()
string(REPLACE "\n" ";" table "${table}")
set(exported "")
set(nodes "")
foreach(row IN LISTS table)
  if(NOT row MATCHES "^[0-9a-f]+ ")
    continue()
  endif()
  if(row MATCHES "\\*UND\\*")
    continue()
  endif()
  if(NOT row MATCHES "^[0-9a-f]+ (.......) ([^ \t]+)[ \t]+[0-9a-f]+[ \t]+(\\(?[A-Za-z0-9_.]*\\)?)[ \t]+([^ ]+)$")
    list(APPEND problems "unexpected objdump -T line: ${row}")
    continue()
  endif()
  set(flags "${CMAKE_MATCH_1}")
  set(section "${CMAKE_MATCH_2}")
  set(version "${CMAKE_MATCH_3}")
  set(name "${CMAKE_MATCH_4}")
  if(section STREQUAL "*ABS*" AND name STREQUAL version)
    list(APPEND nodes ${name})
  elseif(name MATCHES "^amc_")
    list(APPEND exported ${name})
    if(NOT version STREQUAL node)
      list(APPEND problems "${name} is bound to version '${version}', not ${node} (capi/libamc.map)")
    endif()
  elseif(NOT name MATCHES "^(_init|_fini|_edata|_end|__bss_start)$")
    list(APPEND problems "${name} is exported but is not amc_*")
  endif()
endforeach()
if(NOT nodes STREQUAL node)
  list(APPEND problems "the library defines the version nodes '${nodes}', expected only ${node}")
endif()

compare("exported by libamc.so" exported "listed in symbols.txt" listed)
declared_functions("${HEADER}" declared)
compare("declared in amc.h" declared "listed in symbols.txt" listed)
declared_functions("${HEADER_1_0}" declared_1_0)
compare("declared in 1.0's amc.h" declared_1_0 "listed in symbols.txt as ${major}.0" listed_1_0)

if(problems)
  list(JOIN problems "\n  " problems)
  message(FATAL_ERROR "tests/abi/symbols.txt does not hold:\n  ${problems}\n"
                      "See docs/c-abi.md#abi-policy for how a function is added.")
endif()
list(LENGTH listed count)
list(LENGTH listed_1_0 count_1_0)
message(STATUS "${count} functions exported, declared and listed (${count_1_0} since ${major}.0), "
               "all bound to ${node}, the library's one version node")
