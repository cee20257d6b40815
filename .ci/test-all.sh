#!/usr/bin/env bash
# Runs every test of libamc: installs what is missing, then builds and runs
# the whole suite under AddressSanitizer+UndefinedBehaviorSanitizer and as the
# regular optimised build, and the multi-threaded parts under ThreadSanitizer,
# and ends with ctest's own summary. Exit status: 0 only when every run passes.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
mkdir -p build
# stage NAME COMMAND...: runs one stage of this script and records how long
# it took (wall, and CPU as user+sys of it and its children) in
# build/stage-times.txt; prints "=== NAME: ... ===" when it ends, unless
# STAGE_QUIET=1 (the last ctest: the run ends with ctest's own summary).
# Returns the command's status. stage_table prints the stages so far on one line.
stage_file=build/stage-times.txt
: >"$stage_file"
stage() {
  local name=$1 took status wall user sys
  shift
  took=$(mktemp)
  # The `time` keyword's report goes to $took; the command's stderr to ours.
  { TIMEFORMAT='%0R %0U %0S'; time "$@" 2>&3; } 3>&2 2>"$took"
  status=$?
  read -r wall user sys <"$took"
  rm -f "$took"
  echo "$name ${wall}s cpu $((user + sys))s" >>"$stage_file"
  [ "${STAGE_QUIET:-0}" = 1 ] ||
    echo "=== $name took ${wall} s (CPU $((user + sys)) s, exit $status) ==="
  return "$status"
}
stage_table() {
  echo "Stage times: $(sed 's/ cpu \([0-9]*s\)/ (cpu \1)/' "$stage_file" | paste -sd '|' | sed 's/|/ | /g')"
}
stage install bash .ci/install-deps.sh || exit 1

jobs=${AMC_JOBS:-$(nproc)}
failed=0
# Disk: the three trees take about 6 GB together. Under CI (a fresh clone,
# nothing to reuse later) a sanitizer tree is deleted once its tests ran,
# keeping its ctest.log; locally the trees stay for incremental rebuilds.
# AMC_KEEP_TREES=1 keeps them under CI too.
prune_trees=0
[ "${CI:-}" = true ] && [ "${AMC_KEEP_TREES:-0}" != 1 ] && prune_trees=1
# prune_tree TREE: under CI, everything in build/TREE but its ctest.log.
prune_tree() {
  [ "$prune_trees" = 1 ] || return 0
  find "build/$1" -mindepth 1 -depth ! -name ctest.log -delete
  echo "(CI: build/$1 deleted after its tests; disk now: $(df -h --output=avail build | tail -1 | tr -d ' ') free)"
}
echo "Disk: $(df -h --output=avail build | tail -1 | tr -d ' ') free in $repo/build"
# A test that fails is run once more before the stage fails: on a loaded
# 2-core CI machine a timing-dependent test (or a ThreadSanitizer report
# from uninstrumented libstdc++, see .ci/tsan-suppressions.txt) can fail
# once without a fault in libamc. The first failure's output stays in the
# log (--output-on-failure), so a flaky test is still seen and can be fixed;
# a test that fails twice fails the run.
retry=(--repeat until-pass:2)
flaky_list="$repo/build/flaky-tests.txt"
: >"$flaky_list"
# run_ctest TREE [ctest args...]: ctest on build/TREE with the retry; the
# tests that failed before they passed are added to build/flaky-tests.txt
# and, except for the last tree (the run ends with ctest's own summary),
# named after the tree's summary.
run_ctest() {
  local tree=$1
  shift
  ctest --test-dir "build/$tree" --output-on-failure "${retry[@]}" -j "$jobs" "$@" 2>&1 | tee "build/$tree/ctest.log"
  local status=${PIPESTATUS[0]}
  local flaky
  flaky=$(grep -E '^[0-9/ ]*Test +#[0-9]+: .*\*\*\*(Failed|Exception|Timeout)' "build/$tree/ctest.log" |
    sed -E 's/^[0-9/ ]*Test +#[0-9]+: ([^ ]+) .*\*\*\*([A-Za-z]+).*/\1 (\2)/' | sort -u || true)
  if [ -n "$flaky" ] && [ "$status" = 0 ]; then
    echo "$flaky" | sed "s/^/$tree: /" >>"$flaky_list"
    [ "$tree" = release ] && return 0
    echo "NOTE ($tree): these tests failed once and passed when run again; their first output is above:"
    echo "$flaky" | sed 's/^/  /'
  fi
  return "$status"
}
# Sanitizer trees are compiled at -O1 with line tables only: they build much
# faster than -O2 -g and run fast enough.
# The sanitizer trees build with -Werror: no warnings in our code. The -O3
# release tree does not, because GCC 12's late-inlining diagnostics there
# (-Wstringop-overflow inside libstdc++'s std::string, GCC PR 105329) are
# false positives about the library's own code.
# Benchmarks build and run (short) in the release tree only.
sanitizer_flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" "-DCMAKE_C_FLAGS_DEBUG=-O1 -g1" -DAMC_WERROR=ON -DAMC_BUILD_BENCH=OFF)

echo "=== ASan + UBSan build ==="
if stage asan-build bash .ci/build.sh asan "${sanitizer_flags[@]}" -DAMC_SANITIZE=address,undefined; then
  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    stage asan-ctest run_ctest asan || failed=1
else
  echo "ASan build failed"; failed=1
fi
prune_tree asan

# The fuzz targets (tests/fuzz): clang's libFuzzer with ASan + UBSan, in a
# tree that builds only them and the parsers they drive (no HTTP stack),
# each run for 10 s over its seed corpus. tests/fuzz/run.sh --long runs
# them for longer.
echo "=== Fuzz targets (clang, libFuzzer, ASan + UBSan) ==="
fuzz_flags=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${sanitizer_flags[@]}"
  -DAMC_BUILD_TESTS=OFF -DAMC_FAILPOINTS=OFF -DAMC_SANITIZE=address,undefined -DAMC_FUZZ=ON)
if AMC_BUILD_TARGETS=amc_fuzz_targets stage fuzz-build bash .ci/build.sh fuzz "${fuzz_flags[@]}"; then
  stage fuzz-ctest run_ctest fuzz -L fuzz || failed=1
else
  echo "fuzz build failed"; failed=1
fi
prune_tree fuzz

# ThreadSanitizer where threads meet: the HTTP client, tokens (single
# flight across threads and processes), AMC calls, the client through the C
# ABI, and the store's concurrent writers. The other tests (sandbox
# internals, adapters, Python) run under ASan and in the release build.
echo "=== TSan build ==="
tsan_targets="amc_net_unit_tests amc_net_integration_tests amc_auth_unit_tests amc_auth_integration_tests
  amc_operations_tests amc_wait_throttle_tests amc_unknown_status_tests amc_capi_client_tests amc_capi_contract_tests
  amc_store_tests amc_poll_unit_tests amc_poll_tests amc_capi_poll_tests
  amc_store_process_tests amc_test_tool amc"
if AMC_BUILD_TARGETS="$tsan_targets" stage tsan-build bash .ci/build.sh tsan "${sanitizer_flags[@]}" -DAMC_SANITIZE=thread; then
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$repo/.ci/tsan-suppressions.txt" \
    stage tsan-ctest run_ctest tsan -LE "adapters|sandbox|interop|conformance|smoke" -E "NOT_BUILT" || failed=1
else
  echo "TSan build failed"; failed=1
fi
prune_tree tsan

# The release tree: the library as users get it (-O3), the tools, the
# benchmarks, and every test that is not a GoogleTest suite (adapters, C
# hosts, Python, Airflow, the ABI check, installed consumers, the short
# benchmark). The GoogleTest suites already ran above under ASan+UBSan (all)
# and TSan (the threaded ones); building them again at -O3 took about 9 of
# the run's 60 minutes, so this tree leaves them out (AMC_GTESTS=OFF; a
# developer's tree builds them by default).
echo "=== Release build ==="
if stage release-build bash .ci/build.sh release -DCMAKE_BUILD_TYPE=Release -DAMC_GTESTS=OFF; then
  stage_table
  STAGE_QUIET=1 stage release-ctest run_ctest release || failed=1
else
  echo "release build failed"; failed=1
  stage_table
fi
exit $failed
