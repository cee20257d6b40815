# One step of the install test (tests/consumers/CMakeLists.txt):
#   STEP=install       cmake --install BUILD_DIR into a fresh PREFIX; check
#                      that it holds the library, its header, the CMake
#                      package and amc.pc, amcctl with its man page and
#                      bash/zsh completion, amc-sandbox (which runs from
#                      there), LICENSE and THIRD_PARTY_NOTICES (the
#                      repository's), and nothing else
#   STEP=find_package  configure, build and run find_package/ against PREFIX
#   STEP=pkg_config    build (make + pkg-config) and run pkg_config/ against PREFIX
cmake_minimum_required(VERSION 3.25)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${result}): ${command}\n${output}")
  endif()
  set(run_output "${output}" PARENT_SCOPE)
endfunction()

function(expect_consumer_ok program)
  run(${program})
  if(NOT run_output MATCHES "consumer ok: libamc ${VERSION}")
    message(FATAL_ERROR "${program} said: ${run_output}")
  endif()
  message(STATUS "${run_output}")
endfunction()

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}")
  file(GLOB_RECURSE installed RELATIVE "${PREFIX}" LIST_DIRECTORIES false "${PREFIX}/*")
  list(SORT installed)
  string(REPLACE ";" "\n  " listing "${installed}")
  message(STATUS "installed:\n  ${listing}")
  # lib or lib64 or lib/<multiarch>, as GNUInstallDirs chose.
  list(FILTER installed INCLUDE REGEX "/libamc\\.so\\.${ABI_MAJOR}$")
  if(NOT installed)
    message(FATAL_ERROR "no libamc.so.${ABI_MAJOR} installed under ${PREFIX}")
  endif()
  get_filename_component(libdir "${PREFIX}/${installed}" DIRECTORY)
  file(RELATIVE_PATH libdir_relative "${PREFIX}" "${libdir}")
  set(expected
    "include/amc/amc.h"
    "${libdir_relative}/libamc.so"
    "${libdir_relative}/libamc.so.${ABI_MAJOR}"
    "${libdir_relative}/libamc.so.${VERSION}"
    "${libdir_relative}/cmake/amc/amcConfig.cmake"
    "${libdir_relative}/cmake/amc/amcConfigVersion.cmake"
    "${libdir_relative}/cmake/amc/amcTargets.cmake"
    "${libdir_relative}/pkgconfig/amc.pc"
    "share/doc/amc/LICENSE"
    "share/doc/amc/THIRD_PARTY_NOTICES")
  if(WITH_SANDBOX)
    list(APPEND expected "bin/amc-sandbox")
  endif()
  file(GLOB_RECURSE all RELATIVE "${PREFIX}" LIST_DIRECTORIES false "${PREFIX}/*")
  foreach(file IN LISTS expected)
    if(NOT EXISTS "${PREFIX}/${file}")
      message(FATAL_ERROR "${file} was not installed")
    endif()
    list(REMOVE_ITEM all "${file}")
  endforeach()
  # amcctl with its man page and shell completion (rendered from the tables
  # of its --help: the installed man page is what the installed amcctl says).
  set(amcctl_files "bin/amcctl" "share/man/man1/amcctl.1" "share/bash-completion/completions/amcctl"
      "share/zsh/site-functions/_amcctl")
  foreach(file IN LISTS amcctl_files)
    if(NOT EXISTS "${PREFIX}/${file}")
      message(FATAL_ERROR "${file} was not installed")
    endif()
    list(REMOVE_ITEM all "${file}")
  endforeach()
  run("${PREFIX}/bin/amcctl" man)
  file(READ "${PREFIX}/share/man/man1/amcctl.1" man_page)
  if(NOT man_page STREQUAL run_output OR NOT man_page MATCHES "^\\.TH AMCCTL 1" OR NOT man_page MATCHES "executions list")
    message(FATAL_ERROR "the installed amcctl.1 is not what the installed amcctl renders")
  endif()
  file(READ "${PREFIX}/share/bash-completion/completions/amcctl" bash_completion)
  if(NOT bash_completion MATCHES "complete -o default -F _amcctl amcctl" OR NOT bash_completion MATCHES "--no-wait")
    message(FATAL_ERROR "the installed bash completion does not complete amcctl")
  endif()
  run(bash -n "${PREFIX}/share/bash-completion/completions/amcctl")
  file(READ "${PREFIX}/share/zsh/site-functions/_amcctl" zsh_completion)
  if(NOT zsh_completion MATCHES "^#compdef amcctl" OR NOT zsh_completion MATCHES "--no-wait")
    message(FATAL_ERROR "the installed zsh completion does not complete amcctl")
  endif()
  # Besides those: the per-configuration targets file.
  list(FILTER all EXCLUDE REGEX "^${libdir_relative}/cmake/amc/amcTargets-[a-z]+\\.cmake$")
  if(all)
    message(FATAL_ERROR "unexpected files installed (tests, benchmarks, internals?): ${all}")
  endif()
  # The licence texts are the repository's own, and the notices name every
  # library the builds carry.
  foreach(file LICENSE THIRD_PARTY_NOTICES)
    file(READ "${REPO_DIR}/${file}" source_text)
    file(READ "${PREFIX}/share/doc/amc/${file}" installed_text)
    if(NOT installed_text STREQUAL source_text)
      message(FATAL_ERROR "share/doc/amc/${file} differs from the repository's ${file}")
    endif()
  endforeach()
  foreach(notice "Apache License" "{fmt}" "Boost Software License" "OpenSSL" "nlohmann/json" "GCC RUNTIME LIBRARY EXCEPTION")
    string(FIND "${installed_text}" "${notice}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "THIRD_PARTY_NOTICES does not mention ${notice}")
    endif()
  endforeach()
  if(WITH_SANDBOX)
    run("${PREFIX}/bin/amc-sandbox" --help)
    if(NOT run_output MATCHES "--state-dir")
      message(FATAL_ERROR "the installed amc-sandbox --help said: ${run_output}")
    endif()
  endif()
  # The development symlink and the SONAME link point at the real file.
  foreach(link "libamc.so" "libamc.so.${ABI_MAJOR}")
    if(NOT IS_SYMLINK "${libdir}/${link}")
      message(FATAL_ERROR "${link} is not a symlink")
    endif()
  endforeach()
  file(REAL_PATH "${libdir}/libamc.so" target)
  if(NOT target STREQUAL "${libdir}/libamc.so.${VERSION}")
    message(FATAL_ERROR "libamc.so resolves to ${target}")
  endif()
  # No build-tree path leaks into the package files.
  foreach(file "${libdir_relative}/cmake/amc/amcTargets.cmake" "${libdir_relative}/pkgconfig/amc.pc")
    file(READ "${PREFIX}/${file}" text)
    string(FIND "${text}" "${BUILD_DIR}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${file} names the build tree ${BUILD_DIR}")
    endif()
  endforeach()
  file(WRITE "${WORK_DIR}/libdir.txt" "${libdir}")

elseif(STEP STREQUAL "find_package")
  set(binary "${WORK_DIR}/find_package")
  file(REMOVE_RECURSE "${binary}")
  # Only the installed tree: no package registry, no system prefixes.
  run(${CMAKE_COMMAND} -G "${GENERATOR}" -S "${SOURCE_DIR}/find_package" -B "${binary}"
      -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_PREFIX_PATH=${PREFIX}
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
      -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF)
  file(STRINGS "${binary}/CMakeCache.txt" amc_dir REGEX "^amc_DIR:")
  string(REGEX REPLACE "^amc_DIR:[A-Z]+=" "" amc_dir "${amc_dir}")
  string(FIND "${amc_dir}" "${PREFIX}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "find_package(amc) found ${amc_dir}, not the package in ${PREFIX}")
  endif()
  run(${CMAKE_COMMAND} --build "${binary}")
  expect_consumer_ok("${binary}/consumer")

elseif(STEP STREQUAL "pkg_config")
  file(READ "${WORK_DIR}/libdir.txt" libdir)
  set(binary "${WORK_DIR}/pkg_config")
  file(REMOVE_RECURSE "${binary}")
  file(MAKE_DIRECTORY "${binary}")
  # Only the installed tree's amc.pc.
  set(ENV{PKG_CONFIG_LIBDIR} "${libdir}/pkgconfig")
  unset(ENV{PKG_CONFIG_PATH})
  run(pkg-config --modversion amc)
  string(STRIP "${run_output}" modversion)
  if(NOT modversion STREQUAL VERSION)
    message(FATAL_ERROR "pkg-config says amc ${modversion}, the build is ${VERSION}")
  endif()
  run(make --no-print-directory -f "${SOURCE_DIR}/pkg_config/Makefile" "OUT=${binary}" "CC=${C_COMPILER}")
  expect_consumer_ok("${binary}/consumer")

else()
  message(FATAL_ERROR "STEP must be install, find_package or pkg_config")
endif()
