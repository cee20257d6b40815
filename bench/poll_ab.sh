#!/usr/bin/env bash
# A/B of the poller's status reads: the PollerStatusReads benchmark of
# bench/poll_bench.cpp (amc_poll_bench) from two build trees, against the
# same amc-sandbox (NEW's), the two taking turns, so that a change's effect
# on the hot path is measured on one machine in one sitting.
#
# Usage: bench/poll_ab.sh BASE_BUILD_DIR [NEW_BUILD_DIR]
#   NEW_BUILD_DIR default build/release; its amc-sandbox and amc_poll_bench
#   are brought up to date first. BASE_BUILD_DIR is used as it is (e.g. a
#   tree built at the commit before the change): only its
#   bench/amc_poll_bench runs.
# Environment:
#   AMC_AB_ROUNDS     runs per build, protocol and id count (default 5)
#   AMC_AB_SECONDS    measuring time of each run (default 5)
#   AMC_AB_SIZES      distinct execution ids read round-robin (default "1000 10000")
#   AMC_AB_PROTOCOLS  default "http https"
#   AMC_AB_CONNECTIONS reads at once (default 32, as bench/poll_bench.sh)
# Prints, per protocol and id count and per build, the median reads/s and
# the median CPU-seconds per 1,000 reads, and NEW/BASE of CPU per read
# (below 1: the new build spends less CPU per status read). Exit 1 when a
# run fails. The default (5 rounds of 5 s, 4 cases, 2 builds) takes about
# 4 minutes: run it on a quiet machine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
if [ -z "${1:-}" ]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
base="$(cd "$1" && pwd)"
new="$(cd "${2:-$root/build/release}" && pwd)"
cmake --build "$new" --target amc-sandbox amc_poll_bench >/dev/null ||
  { echo "could not build amc-sandbox and amc_poll_bench in $new" >&2; exit 2; }
sandbox="$new/src/sandbox/amc-sandbox"
declare -A bench=([base]="$base/bench/amc_poll_bench" [new]="$new/bench/amc_poll_bench")
for tool in "$sandbox" "${bench[base]}" "${bench[new]}"; do
  [ -x "$tool" ] || { echo "missing $tool" >&2; exit 2; }
done
rounds="${AMC_AB_ROUNDS:-5}"
seconds="${AMC_AB_SECONDS:-5}"
read -r -a sizes <<<"${AMC_AB_SIZES:-1000 10000}"
read -r -a protocols <<<"${AMC_AB_PROTOCOLS:-http https}"
connections="${AMC_AB_CONNECTIONS:-32}"

# shellcheck source=bench/bench_common.sh
. "$here/bench_common.sh"

most=0
for size in "${sizes[@]}"; do [ "$size" -gt "$most" ] && most=$size; done
echo "poll_ab: base $base, new $new; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg);" \
  "$rounds round(s) of ${seconds}s"

for protocol in "${protocols[@]}"; do
  state="$work/$protocol"
  tls_flag=()
  [ "$protocol" = https ] && tls_flag=(--tls)
  # One I/O thread, as bench/poll_bench.sh: the client gets the other core.
  "$sandbox" --state-dir "$state" --port-file "$work/$protocol.port" --request-log-size 0 --threads 1 \
    "${tls_flag[@]}" >"$work/$protocol.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do [ -s "$work/$protocol.port" ] && [ -s "$state/sandbox.json" ] && break; sleep 0.05; done
  [ -s "$state/sandbox.json" ] || { echo "amc-sandbox did not start:" >&2; cat "$work/$protocol.log" >&2; exit 1; }
  url="$(json_field '["url"]' <"$state/sandbox.json")"
  curl_ca=()
  [ -f "$state/ca.pem" ] && curl_ca=(--cacert "$state/ca.pem")
  ids="$work/$protocol.ids"
  curl -sf "${curl_ca[@]}" -H 'Content-Type: application/json' "$url/_sandbox/executions/bulk" \
    -d "{\"count\": $most, \"request\": {\"workflow\": {\"sqlQuery\": \"SELECT 1 -- sandbox: pending=1m duration=20h\"}}}" |
    python3 -c "import json,sys; print('\n'.join(json.load(sys.stdin)['ids']))" >"$ids"
  for size in "${sizes[@]}"; do
    for round in $(seq 1 "$rounds"); do
      # Alternately: which build goes first changes every round.
      order=(base new)
      [ $((round % 2)) = 0 ] && order=(new base)
      for build in "${order[@]}"; do
        echo "== $protocol, $size ids, round $round of $rounds: $build"
        AMC_BENCH_SANDBOX="$state" AMC_BENCH_IDS="$ids" AMC_BENCH_SECONDS="$seconds" \
          AMC_BENCH_CONNECTIONS="$connections" "${bench[$build]}" --benchmark_filter="PollerStatusReads/$size/" \
          --benchmark_format=json >"$work/run.json" 2>"$work/run.err" || { cat "$work/run.err" >&2; exit 1; }
        python3 - "$work/run.json" "$protocol" "$size" "$build" >>"$results" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))["benchmarks"][0]
if run.get("error_occurred"):
    sys.exit("amc_poll_bench: " + run.get("error_message", "failed"))
print(json.dumps({"protocol": sys.argv[2], "ids": int(sys.argv[3]), "build": sys.argv[4],
                  "reads_per_second": run["reads_per_second"], "cpu_s_per_1000_reads": run["cpu_s_per_1000_reads"],
                  "failed": run["failed_reads"]}))
EOF
      done
    done
  done
done

python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
cases = sorted({(r["protocol"], r["ids"]) for r in rows}, key=lambda c: (c[0], c[1]))
print()
print(f"{'case':<16} {'build':<5} {'runs':>4} {'reads/s':>10} {'CPU s/1k reads':>15} {'failed':>7}")
for protocol, ids in cases:
    medians = {}
    for build in ("base", "new"):
        runs = [r for r in rows if (r["protocol"], r["ids"], r["build"]) == (protocol, ids, build)]
        rate = statistics.median(r["reads_per_second"] for r in runs)
        cpu = statistics.median(r["cpu_s_per_1000_reads"] for r in runs)
        medians[build] = cpu
        print(f"{protocol + ' ' + str(ids) + ' ids':<16} {build:<5} {len(runs):>4} {rate:>10.0f} {cpu:>15.4f}"
              f" {sum(r['failed'] for r in runs):>7.0f}")
    ratio = medians["new"] / medians["base"] if medians["base"] > 0 else float("nan")
    print(f"{'':<16} NEW/BASE CPU per read: {ratio:.3f}")
EOF
