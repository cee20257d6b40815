#!/usr/bin/env bash
# Builds and runs libamc's fuzz targets (tests/fuzz, libFuzzer with ASan +
# UBSan, clang) in their own tree, build/fuzz.
#
#   tests/fuzz/run.sh                 every target for AMC_FUZZ_SECONDS (10 s), as the test command does
#   tests/fuzz/run.sh --long [S]      every target for S seconds (default 900), one after the other
#   tests/fuzz/run.sh --long S NAME   only the targets named (amc_reply, lwa_reply, fernet, ...)
#
# A long run keeps what it learns in build/fuzz/tests/fuzz/corpus/NAME and
# writes a finding to build/fuzz/tests/fuzz/findings/NAME-crash-* (or
# leak-, timeout-, oom-); the script exits non-zero when there is one.
# docs/testing.md says how to keep a finding: fix it, add a unit test, and
# copy the input into tests/fuzz/NAME/corpus.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
AMC_BUILD_TARGETS=amc_fuzz_targets bash .ci/build.sh fuzz \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" "-DCMAKE_C_FLAGS_DEBUG=-O1 -g1" \
  -DAMC_WERROR=ON -DAMC_BUILD_BENCH=OFF -DAMC_BUILD_TESTS=OFF -DAMC_FAILPOINTS=OFF \
  -DAMC_SANITIZE=address,undefined -DAMC_FUZZ=ON
tree=build/fuzz/tests/fuzz
if [ "${1:-}" != --long ]; then
  exec ctest --test-dir build/fuzz -L fuzz --output-on-failure -j "${AMC_JOBS:-$(nproc)}"
fi
seconds=${2:-900}
shift $(($# < 2 ? $# : 2))
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(amc_reply lwa_reply fernet store_document config capi_requests http_response ids csv_header)
fi
failed=0
for name in "${targets[@]}"; do
  dict=()
  case $name in
    amc_reply | lwa_reply | store_document | config | capi_requests) dict=(-dict=tests/fuzz/json.dict) ;;
    http_response) dict=(-dict=tests/fuzz/http.dict) ;;
  esac
  mkdir -p "$tree/corpus/$name" "$tree/findings"
  echo "=== $name: ${seconds} s ==="
  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$tree/amc_fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1536 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$tree/findings/$name-" "${dict[@]}" \
    "$tree/corpus/$name" "tests/fuzz/$name/corpus" || failed=1
done
exit $failed
