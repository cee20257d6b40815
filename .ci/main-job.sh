#!/usr/bin/env bash
# The README's first command: installs what is needed, builds libamc, and
# runs the main job end to end.
#
# Until amcctl and the workflow operations land (issue 5), the main job is the
# smoke check: a C host loads libamc.so.1 with dlopen and round-trips a
# credential through the encrypted store, and the exported-symbol check runs.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
mkdir -p build
bash .ci/install-deps.sh
bash .ci/build.sh release -DCMAKE_BUILD_TYPE=RelWithDebInfo
ctest --test-dir build/release -L smoke --output-on-failure
