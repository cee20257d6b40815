#!/usr/bin/env bash
# Configures and builds one build tree: .ci/build.sh NAME [cmake args...]
# Trees live in build/NAME and share the same setup (Ninja, precompiled
# headers, Asio/Beast compiled once); sanitizer trees differ only by flags.
# AMC_BUILD_TARGETS (space-separated) limits the build to those targets.
# These are test trees: fail points are compiled in (-DAMC_FAILPOINTS=ON; a
# later -DAMC_FAILPOINTS=OFF among the arguments wins). A library you ship is
# built without them, CMake's default.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=$1
shift
tree="$repo/build/$name"
cmake -G Ninja -S "$repo" -B "$tree" -DAMC_BUILD_BENCH=ON -DAMC_FAILPOINTS=ON "$@" >"$repo/build/$name.configure.log" 2>&1 ||
  { cat "$repo/build/$name.configure.log"; exit 1; }
# shellcheck disable=SC2086
cmake --build "$tree" -j "${AMC_JOBS:-$(nproc)}" ${AMC_BUILD_TARGETS:+--target $AMC_BUILD_TARGETS}
