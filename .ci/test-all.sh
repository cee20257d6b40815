#!/usr/bin/env bash
# Runs every test of libamc: installs what is missing, then builds and runs
# the whole suite three times — under AddressSanitizer+UndefinedBehaviorSanitizer,
# under ThreadSanitizer, and as the regular optimised build — and ends with
# ctest's own summary. Exit status: 0 only when every run passes.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
mkdir -p build
bash .ci/install-deps.sh || exit 1

jobs=${AMC_JOBS:-$(nproc)}
failed=0

echo "=== ASan + UBSan build ==="
if bash .ci/build.sh asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAMC_SANITIZE=address,undefined; then
  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/asan --output-on-failure -j "$jobs" || failed=1
else
  echo "ASan build failed"; failed=1
fi

echo "=== TSan build ==="
if bash .ci/build.sh tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAMC_SANITIZE=thread; then
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$repo/.ci/tsan-suppressions.txt" \
    ctest --test-dir build/tsan --output-on-failure -j "$jobs" || failed=1
else
  echo "TSan build failed"; failed=1
fi

echo "=== Release build ==="
if bash .ci/build.sh release -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  ctest --test-dir build/release --output-on-failure -j "$jobs" || failed=1
else
  echo "release build failed"; failed=1
fi
exit $failed
