# capi/ is guard -> decode -> call -> encode: it reaches the AMC operations
# only through the typed requests (src/api/requests.hpp) and the client
# façade (src/client/operations.hpp). This check fails when a file of capi/
# includes any other header of src/api.
#   cmake -DCAPI_DIR=<repo>/capi -P check_capi_includes.cmake
file(GLOB capi_files "${CAPI_DIR}/*.cpp" "${CAPI_DIR}/*.hpp" "${CAPI_DIR}/*.h")
if(NOT capi_files)
  message(FATAL_ERROR "no source files in ${CAPI_DIR}")
endif()
set(offenders "")
foreach(path IN LISTS capi_files)
  file(STRINGS "${path}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<](src/)?api/")
  foreach(line IN LISTS includes)
    if(NOT line MATCHES "[\"<](src/)?api/requests\\.hpp[\">]")
      get_filename_component(name "${path}" NAME)
      list(APPEND offenders "${name}: ${line}")
    endif()
  endforeach()
endforeach()
if(offenders)
  list(JOIN offenders "\n  " text)
  message(FATAL_ERROR "capi/ includes src/api headers other than api/requests.hpp; call the client "
                      "façade (client/operations.hpp) instead:\n  ${text}")
endif()
list(LENGTH capi_files count)
message(STATUS "capi/: ${count} files include no src/api header but api/requests.hpp")
