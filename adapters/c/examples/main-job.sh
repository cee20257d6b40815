#!/bin/sh
# The README's main job, offline: start the bundled amc-sandbox over HTTPS,
# authenticate through its consent flow, sync the example workflow from
# daily_campaign_summary.sql (its output columns from
# daily_campaign_summary.json), run it with a live progress line, download
# every result part and print the first rows. The last line on stderr says
# how long that took ("main job done in Ns").
#
# Usage: adapters/c/examples/main-job.sh BUILD_DIR [RESULTS_DIR]
#   BUILD_DIR    a configured and built tree (amcctl, libamc.so.1, amc-sandbox)
#   RESULTS_DIR  where the result parts go (default BUILD_DIR/main-job-results)
# The sandbox lives in a fresh private directory and is stopped at the end.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [RESULTS_DIR]" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
results_dir=${2:-$build_dir/main-job-results}
examples_dir=$(cd "$(dirname "$0")" && pwd)
amcctl=$build_dir/adapters/c/amcctl
if [ ! -x "$amcctl" ]; then
  echo "main-job: $amcctl is missing: build the amcctl target first" >&2
  exit 2
fi

sandbox_dir=$(mktemp -d "${TMPDIR:-/tmp}/amcctl-main-job.XXXXXX")
cleanup() {
  "$amcctl" sandbox stop --sandbox-dir "$sandbox_dir" >/dev/null 2>&1 || true
  rm -rf "$sandbox_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() {
  printf '\n$ amcctl %s\n' "$*" >&2
  "$amcctl" --sandbox --sandbox-dir "$sandbox_dir" "$@"
}

rm -rf "$results_dir"
started=$(date +%s)
step sandbox start
step auth login
step workflow sync --file "$examples_dir/daily_campaign_summary.sql" \
  --definition "$examples_dir/daily_campaign_summary.json" --id wf_daily_campaign_summary
step run --workflow-id wf_daily_campaign_summary --window MOST_RECENT_WEEK \
  --out "$results_dir" --progress --head 5
printf '\nmain job done in %ss; results in %s\n' "$(( $(date +%s) - started ))" "$results_dir" >&2
