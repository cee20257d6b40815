# capi/ is guard -> decode -> call -> encode over one door: it includes only
# the public header (amc/amc.h), its own headers (capi_*.hpp), the client
# façade and its decoders (src/client), common helpers (src/common) and the
# credential store's headers (the standalone amc_store_* ABI, which builds
# without the client, and the credential's JSON). This check fails when a
# file of capi/ includes any other header of the core (src/api, src/auth,
# src/net, src/poll, src/crypto, ...).
#   cmake -DCAPI_DIR=<repo>/capi -P check_capi_includes.cmake
file(GLOB capi_files "${CAPI_DIR}/*.cpp" "${CAPI_DIR}/*.hpp" "${CAPI_DIR}/*.h")
if(NOT capi_files)
  message(FATAL_ERROR "no source files in ${CAPI_DIR}")
endif()
set(offenders "")
foreach(path IN LISTS capi_files)
  file(STRINGS "${path}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS includes)
    if(NOT line MATCHES "\"(src/)?(client|common|store)/[^\"]+\"" AND NOT line MATCHES "\"amc/amc\\.h\""
       AND NOT line MATCHES "\"capi_[a-z_]+\\.hpp\"")
      get_filename_component(name "${path}" NAME)
      list(APPEND offenders "${name}: ${line}")
    endif()
  endforeach()
endforeach()
if(offenders)
  list(JOIN offenders "\n  " text)
  message(FATAL_ERROR "capi/ includes core headers other than client/, common/ and store/; call the client "
                      "façade (client/operations.hpp, client/auth.hpp, client/watch.hpp) instead:\n  ${text}")
endif()
list(LENGTH capi_files count)
message(STATUS "capi/: ${count} files include only client/, common/ and store/ headers of the core")
