#!/usr/bin/env bash
# The README's first command: installs what is needed, builds libamc, and
# runs the main job end to end on the bundled sandbox: amcctl starts
# amc-sandbox over HTTPS, authenticates through its consent flow, syncs the
# example workflow from adapters/c/examples/daily_campaign_summary.sql, runs
# it with a progress line, downloads every result part and prints the first
# rows.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
mkdir -p build
bash .ci/install-deps.sh
bash .ci/build.sh release -DCMAKE_BUILD_TYPE=Release
sh adapters/c/examples/main-job.sh build/release
