#!/usr/bin/env bash
# Measures amc-sandbox's execution-status GET over keep-alive HTTP with wrk
# and prints the figure (issue 3 asks for at least 40,000 req/s on a 2-core
# machine). Usage:
#   bench/sandbox_wrk.sh [path/to/amc-sandbox] [wrk duration, default 10s] [connections, default 64]
# The sandbox binary defaults to build/release/src/sandbox/amc-sandbox, or
# $AMC_SANDBOX. Exit status 1 when the floor ($SANDBOX_WRK_FLOOR, default
# 40000) is not met.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
sandbox="${1:-${AMC_SANDBOX:-$root/build/release/src/sandbox/amc-sandbox}}"
duration="${2:-10s}"
connections="${3:-64}"
floor="${SANDBOX_WRK_FLOOR:-40000}"

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
[ -x "$sandbox" ] || { echo "amc-sandbox not found at $sandbox (build it: bash .ci/main-job.sh, or ninja -C build/release amc-sandbox)" >&2; exit 2; }

state="$(mktemp -d)"
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$state"
}
trap cleanup EXIT

# Two I/O threads, the in-memory request log off: the hot path as a
# benchmark peer runs it.
"$sandbox" --state-dir "$state/sandbox" --port-file "$state/port" --threads 2 --request-log-size 0 \
  >"$state/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 100); do [ -s "$state/port" ] && break; sleep 0.05; done
[ -s "$state/port" ] || { echo "amc-sandbox did not start:" >&2; cat "$state/sandbox.log" >&2; exit 2; }
port="$(cat "$state/port")"
url="http://127.0.0.1:$port"

# Token, then one execution to poll; python3 only parses the JSON answers.
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
client_id="$(json_field '["client_id"]' <"$state/sandbox/sandbox.json")"
instance_id="$(json_field '["instance_id"]' <"$state/sandbox/sandbox.json")"
advertiser_id="$(json_field '["advertiser_id"]' <"$state/sandbox/sandbox.json")"
marketplace_id="$(json_field '["marketplace_id"]' <"$state/sandbox/sandbox.json")"
access_token="$(curl -sf "$url/auth/o2/token" \
  --data-urlencode grant_type=refresh_token \
  --data-urlencode "refresh_token@$state/sandbox/refresh_token" \
  --data-urlencode "client_id=$client_id" \
  --data-urlencode "client_secret@$state/sandbox/client_secret" | json_field '["access_token"]')"
headers=(-H "Amazon-Advertising-API-ClientId: $client_id" -H "Authorization: Bearer $access_token"
         -H "Amazon-Advertising-API-AdvertiserId: $advertiser_id" -H "Amazon-Advertising-API-MarketplaceId: $marketplace_id")
execution_id="$(curl -sf "${headers[@]}" -H 'Content-Type: application/json' \
  "$url/amc/reporting/$instance_id/workflowExecutions" \
  -d '{"workflow":{"sqlQuery":"SELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY 1"}}' \
  | json_field '["workflowExecutionId"]')"

export SANDBOX_STATUS_PATH="/amc/reporting/$instance_id/workflowExecutions/$execution_id"
export SANDBOX_CLIENT_ID="$client_id" SANDBOX_ACCESS_TOKEN="$access_token"
export SANDBOX_ADVERTISER_ID="$advertiser_id" SANDBOX_MARKETPLACE_ID="$marketplace_id"

# The sandbox's own CPU time per request does not depend on what else the
# machine is doing, unlike req/s: both are printed.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$sandbox_pid/stat"; }
echo "wrk -t1 -c$connections -d$duration on GET $SANDBOX_STATUS_PATH (keep-alive, 2 sandbox I/O threads)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
ticks_before="$(cpu_ticks)"
wrk -t1 -c"$connections" -d"$duration" --latency -s "$here/sandbox_wrk.lua" "$url" | tee "$state/wrk.txt"
ticks_after="$(cpu_ticks)"

rate="$(awk '/^Requests\/sec:/ {print $2}' "$state/wrk.txt")"
non2xx="$(awk '/^non-2xx responses:/ {print $3}' "$state/wrk.txt")"
requests="$(awk '/requests in/ {print $1}' "$state/wrk.txt")"
cpu_per_request="$(awk -v t="$((ticks_after - ticks_before))" -v hz="$(getconf CLK_TCK)" -v n="$requests" \
  'BEGIN { printf "%.1f", t * 1000000 / hz / n }')"
echo "amc-sandbox server CPU: ${cpu_per_request} us per request; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "amc-sandbox status GET: ${rate} req/s (floor ${floor}; non-2xx ${non2xx:-0})"
if [ "${non2xx:-0}" != "0" ]; then echo "FAIL: non-2xx responses" >&2; exit 1; fi
awk -v rate="$rate" -v floor="$floor" 'BEGIN { exit (rate + 0 >= floor + 0) ? 0 : 1 }' || { echo "FAIL: below the floor" >&2; exit 1; }
echo "PASS"
