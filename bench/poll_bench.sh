#!/usr/bin/env bash
# The poller's benchmarks and their peers, against the same amc-sandbox in
# the same run (issue 8), printed as a table and kept as JSON:
#
#   status reads/s and CPU-seconds per 1,000 reads: the poller vs wrk (same
#     connection count), a Python aiohttp poller and Python requests
#     (sequential), over HTTP and HTTPS, with 1k, 10k and 100k distinct
#     execution ids, and the ratios; over HTTP also a bare Asio + Beast
#     loop (bench/bare_loop_peer.cpp), the floor of the poller's own stack;
#   resident memory per watched execution at 100k watched;
#   requests per completed execution and p50/p99 detection latency over
#     1,000 executions (running 15-60 AMC minutes, on a scaled clock) for
#     the adaptive + batched schedule vs fixed 15 s vs fixed 5 min polling;
#   token refreshes: 50 callers in 4 processes sharing one store with no
#     valid access token must make exactly 1 refresh request.
#
# Usage: bench/poll_bench.sh [--short] [BUILD_DIR]
#   BUILD_DIR default build/release (configured first when it does not
#   exist yet); amc-sandbox, amc_poll_bench and amc_token_refresh_bench are
#   brought up to date there before anything runs. Every status-read peer
#   runs 5 times per protocol and id count, the peers taking turns; the
#   tables give medians (about 22 minutes in all; AMC_BENCH_ROUNDS=N runs
#   each N times instead). --short: 1k ids over
#   HTTP, one 1 s run each, 100 executions at a faster clock (about a
#   minute; the test command runs it). Results: $AMC_BENCH_OUT (default
#   BUILD_DIR/bench/poll_bench.json). Python: $AMC_BENCH_PYTHON, else
#   .venv/bin/python (bench/requirements.txt, installed by
#   .ci/install-deps.sh); without aiohttp the Python peers are reported as
#   missing. Exit 1 when a benchmark could not run or the token-refresh
#   count is not 1; speed targets are reported, never enforced.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
short=0
if [ "${1:-}" = "--short" ]; then short=1; shift; fi
targets="amc-sandbox amc_poll_bench amc_token_refresh_bench amc_bare_loop_peer"
if [ -z "${1:-}" ] && [ ! -f "$root/build/release/build.ninja" ]; then
  # From a clean checkout: configure the release tree and build what the
  # benchmarks need (the rest of the tree is left for the test command).
  echo "poll_bench: configuring build/release and building $targets"
  mkdir -p "$root/build"
  AMC_BUILD_TARGETS="$targets" bash "$root/.ci/build.sh" release -DCMAKE_BUILD_TYPE=Release
fi
build="$(cd "${1:-$root/build/release}" && pwd)"
# shellcheck disable=SC2086
cmake --build "$build" --target $targets >/dev/null || { echo "could not build $targets in $build" >&2; exit 2; }
sandbox="$build/src/sandbox/amc-sandbox"
poll_bench="$build/bench/amc_poll_bench"
token_bench="$build/bench/amc_token_refresh_bench"
bare_peer="$build/bench/amc_bare_loop_peer"
out="${AMC_BENCH_OUT:-$build/bench/poll_bench.json}"
python="${AMC_BENCH_PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python=python3
connections=32
# rounds: each peer runs this many times per protocol and id count, the
# peers taking turns, and the tables give the median (this 2-core machine
# is noisy: one run can be off by a fifth).
if [ "$short" = 1 ]; then
  sizes=(1000); protocols=(http); seconds=1; executions=100; scale=600; rounds=1
else
  sizes=(1000 10000 100000); protocols=(http https); seconds=5; executions=1000; scale=60; rounds=5
fi
# AMC_BENCH_ROUNDS overrides the rounds of the status-read peers (3 takes
# about 15 minutes instead of 22; the medians are then of 3 runs).
rounds="${AMC_BENCH_ROUNDS:-$rounds}"
memory_watches=100000

for tool in "$sandbox" "$poll_bench" "$token_bench" "$bare_peer"; do
  [ -x "$tool" ] || { echo "missing $tool ($build configured with -DAMC_BUILD_BENCH=OFF?)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
has_aiohttp=0
"$python" -c "import aiohttp, requests" 2>/dev/null && has_aiohttp=1

# shellcheck source=bench/bench_common.sh
. "$here/bench_common.sh"
record() { echo "$1" >>"$results"; }

# start_sandbox NAME ARGS...: a sandbox process with its state in $work/NAME.
start_sandbox() {
  local name=$1
  shift
  "$sandbox" --state-dir "$work/$name" --port-file "$work/$name.port" --request-log-size 0 "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do [ -s "$work/$name.port" ] && [ -s "$work/$name/sandbox.json" ] && break; sleep 0.05; done
  [ -s "$work/$name.port" ] || { echo "amc-sandbox $name did not start:" >&2; cat "$work/$name.log" >&2; exit 1; }
}

# curl options for a sandbox (its CA for HTTPS).
curl_for() {
  local state="$work/$1"
  if [ -f "$state/ca.pem" ]; then echo "--cacert $state/ca.pem"; fi
}

access_token() {
  local state="$work/$1" url
  url="$(json_field '["url"]' <"$state/sandbox.json")"
  # shellcheck disable=SC2046
  curl -sf $(curl_for "$1") "$url/auth/o2/token" --data-urlencode grant_type=refresh_token \
    --data-urlencode "refresh_token@$state/refresh_token" \
    --data-urlencode "client_id=$(json_field '["client_id"]' <"$state/sandbox.json")" \
    --data-urlencode "client_secret@$state/client_secret" | json_field '["access_token"]'
}

lwa_token_requests() {
  local state="$work/$1"
  # shellcheck disable=SC2046
  curl -sf $(curl_for "$1") "$(json_field '["url"]' <"$state/sandbox.json")/_sandbox/stats" |
    json_field '["by_operation"].get("lwaToken", 0)'
}

echo "poll_bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $( [ "$short" = 1 ] && echo short || echo full ) run"
ids="$work/ids.txt"
most=$memory_watches
for size in "${sizes[@]}"; do [ "$size" -gt "$most" ] && most=$size; done

# --- Status reads: the poller vs wrk vs Python, per protocol and id count.
for protocol in "${protocols[@]}"; do
  name="reads_$protocol"
  tls_flag=()
  [ "$protocol" = https ] && tls_flag=(--tls)
  # One I/O thread, as in issue 8's table: the clients get the other core.
  start_sandbox "$name" --threads 1 "${tls_flag[@]}"
  state="$work/$name"
  url="$(json_field '["url"]' <"$state/sandbox.json")"
  instance="$(json_field '["instance_id"]' <"$state/sandbox.json")"
  # shellcheck disable=SC2046
  curl -sf $(curl_for "$name") -H 'Content-Type: application/json' "$url/_sandbox/executions/bulk" \
    -d "{\"count\": $most, \"request\": {\"workflow\": {\"sqlQuery\": \"SELECT 1 -- sandbox: pending=1m duration=20h\"}}}" |
    python3 -c "import json,sys; print('\n'.join(json.load(sys.stdin)['ids']))" \
      >"$ids"
  export SANDBOX_CLIENT_ID SANDBOX_ACCESS_TOKEN SANDBOX_ADVERTISER_ID SANDBOX_MARKETPLACE_ID
  SANDBOX_CLIENT_ID="$(json_field '["client_id"]' <"$state/sandbox.json")"
  SANDBOX_ACCESS_TOKEN="$(access_token "$name")"
  SANDBOX_ADVERTISER_ID="$(json_field '["advertiser_id"]' <"$state/sandbox.json")"
  SANDBOX_MARKETPLACE_ID="$(json_field '["marketplace_id"]' <"$state/sandbox.json")"
  ca=""
  [ "$protocol" = https ] && ca="$state/ca.pem"
  for size in "${sizes[@]}"; do
   # The sandbox renders an execution's status answer at its first read
   # (then once per phase): one untimed wrk run first, so that no peer's
   # run pays for that (with 100,000 ids it would be the first one's).
   SANDBOX_STATUS_PREFIX="/amc/reporting/$instance/workflowExecutions/" SANDBOX_IDS_FILE="$ids" SANDBOX_COUNT="$size" \
     wrk -t1 -c"$connections" -d"$((1 + size / 25000))s" -s "$here/poll_wrk.lua" "$url" >/dev/null
   for round in $(seq 1 "$rounds"); do
    echo "== $protocol, $size ids, $connections connections, ${seconds}s each (round $round of $rounds)"
    # wrk, one thread, its CPU time from the kernel's accounting.
    SANDBOX_STATUS_PREFIX="/amc/reporting/$instance/workflowExecutions/" SANDBOX_IDS_FILE="$ids" SANDBOX_COUNT="$size" \
      python3 -c 'import resource,subprocess,sys
subprocess.run(sys.argv[2:], check=True, stdout=open(sys.argv[1], "w"))
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(u.ru_utime + u.ru_stime)' "$work/wrk.txt" \
      wrk -t1 -c"$connections" -d"${seconds}s" -s "$here/poll_wrk.lua" "$url" >"$work/wrk.cpu"
    wrk_rate="$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")"
    wrk_requests="$(awk '/requests in/ {print $1}' "$work/wrk.txt")"
    wrk_bad="$(awk '/^non-2xx responses:/ {print $3}' "$work/wrk.txt")"
    record "{\"kind\": \"reads\", \"protocol\": \"$protocol\", \"ids\": $size, \"peer\": \"wrk\", \"reads_per_second\": $wrk_rate, \"cpu_s_per_1000_reads\": $(python3 -c "print($(cat "$work/wrk.cpu") * 1000 / $wrk_requests)"), \"failed\": ${wrk_bad:-0}}"
    # The poller.
    AMC_BENCH_SANDBOX="$state" AMC_BENCH_IDS="$ids" AMC_BENCH_SECONDS="$seconds" AMC_BENCH_CONNECTIONS="$connections" \
      "$poll_bench" --benchmark_filter="PollerStatusReads/$size/" --benchmark_format=json >"$work/poller.json" 2>"$work/poller.err" ||
      { cat "$work/poller.err" >&2; exit 1; }
    python3 - "$work/poller.json" "$protocol" "$size" >>"$results" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))["benchmarks"][0]
if run.get("error_occurred"):
    sys.exit("poller benchmark: " + run.get("error_message", "failed"))
print(json.dumps({"kind": "reads", "protocol": sys.argv[2], "ids": int(sys.argv[3]), "peer": "libamc poller",
                  "reads_per_second": run["reads_per_second"], "cpu_s_per_1000_reads": run["cpu_s_per_1000_reads"],
                  "failed": run["failed_reads"]}))
EOF
    # The floor of the poller's own stack: Asio + Beast and nothing else
    # (bench/bare_loop_peer.cpp), over plain HTTP.
    if [ "$protocol" = http ]; then
      "$bare_peer" --url "$url" --instance "$instance" --ids "$ids" --count "$size" --seconds "$seconds" \
        --connections "$connections" >"$work/peer.json"
      python3 - "$work/peer.json" "$protocol" "$size" >>"$results" <<'EOF2'
import json, sys
run = json.load(open(sys.argv[1]))
print(json.dumps({"kind": "reads", "protocol": sys.argv[2], "ids": int(sys.argv[3]), "peer": run["peer"],
                  "reads_per_second": run["reads"] / run["seconds"],
                  "cpu_s_per_1000_reads": run["cpu_seconds"] * 1000 / max(1, run["reads"]), "failed": run["failed"]}))
EOF2
    fi
    # The Python peers.
    if [ "$has_aiohttp" = 1 ]; then
      for peer in aiohttp requests; do
        "$python" "$here/status_peer.py" "$peer" --url "$url" --instance "$instance" --ids "$ids" --count "$size" \
          --seconds "$seconds" --connections "$connections" --ca-file "$ca" >"$work/peer.json"
        python3 - "$work/peer.json" "$protocol" "$size" >>"$results" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
name = {"aiohttp": "Python aiohttp", "requests": "Python requests (sequential)"}[run["peer"]]
print(json.dumps({"kind": "reads", "protocol": sys.argv[2], "ids": int(sys.argv[3]), "peer": name,
                  "reads_per_second": run["reads"] / run["seconds"],
                  "cpu_s_per_1000_reads": run["cpu_seconds"] * 1000 / max(1, run["reads"]), "failed": run["failed"]}))
EOF
      done
    fi
   done
  done
  if [ "$protocol" = http ]; then
    # --- Memory per watched execution, on this sandbox's ids.
    echo "== memory per watched execution at $memory_watches"
    AMC_BENCH_SANDBOX="$state" AMC_BENCH_IDS="$ids" \
      "$poll_bench" --benchmark_filter='PollerMemoryPerWatch' --benchmark_format=json >"$work/memory.json" 2>"$work/memory.err" ||
      { cat "$work/memory.err" >&2; exit 1; }
    python3 - "$work/memory.json" >>"$results" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))["benchmarks"][0]
if run.get("error_occurred"):
    sys.exit("memory benchmark: " + run.get("error_message", "failed"))
print(json.dumps({"kind": "memory", "watched": run["watched"], "bytes_per_watch": run["bytes_per_watch"]}))
EOF
    # --- Token refreshes across processes.
    echo "== token refreshes: 50 callers in 4 processes, one store"
    before="$(lwa_token_requests "$name")"
    "$token_bench" "$state" 50 4 >"$work/token.json"
    after="$(lwa_token_requests "$name")"
    record "{\"kind\": \"tokens\", \"callers\": 50, \"processes\": 4, \"refresh_requests\": $((after - before)), \"failed\": $(json_field '["failed"]' <"$work/token.json")}"
  fi
done

# --- The schedules, on a scaled clock.
echo "== schedules: $executions executions, running 15-60 AMC minutes, time scale $scale"
start_sandbox schedule --threads 1 --time-scale "$scale" --max-active 1000000 --adhoc-per-day 1000000
for strategy in 0 1 2; do
  AMC_BENCH_SCHEDULE_SANDBOX="$work/schedule" AMC_BENCH_TIME_SCALE="$scale" AMC_BENCH_EXECUTIONS="$executions" \
    "$poll_bench" --benchmark_filter="PollerSchedule/$strategy/" --benchmark_format=json >"$work/schedule.json" \
    2>"$work/schedule.err" || { cat "$work/schedule.err" >&2; exit 1; }
  python3 - "$work/schedule.json" "$strategy" >>"$results" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))["benchmarks"][0]
if run.get("error_occurred"):
    sys.exit("schedule benchmark: " + run.get("error_message", "failed"))
name = ["adaptive + batched (libamc)", "fixed 15 s (amazon-helper)", "fixed 5 min (AWS workflow manager)"][int(sys.argv[2])]
print(json.dumps({"kind": "schedule", "schedule": name, "executions": run["executions"], "completed": run["completed"],
                  "requests_per_execution": run["requests_per_execution"], "p50_detection_s": run["p50_detection_s"],
                  "p99_detection_s": run["p99_detection_s"]}))
EOF
done

mkdir -p "$(dirname "$out")"
python3 - "$results" "$out" "$has_aiohttp" "$short" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
problems = []
print()
# Every run of a peer is kept (JSON "runs"); the table and the ratios use
# each peer's median reads/s and median CPU per read over its runs.
runs = [r for r in rows if r["kind"] == "reads"]
reads = []
for key in dict.fromkeys((r["protocol"], r["ids"], r["peer"]) for r in runs):
    mine = [r for r in runs if (r["protocol"], r["ids"], r["peer"]) == key]
    reads.append({"protocol": key[0], "ids": key[1], "peer": key[2], "runs": len(mine),
                  "reads_per_second": statistics.median(r["reads_per_second"] for r in mine),
                  "reads_per_second_min": min(r["reads_per_second"] for r in mine),
                  "reads_per_second_max": max(r["reads_per_second"] for r in mine),
                  "cpu_s_per_1000_reads": statistics.median(r["cpu_s_per_1000_reads"] for r in mine),
                  "failed": sum(r["failed"] for r in mine)})
most_runs = max((r['runs'] for r in reads), default=0)
print(f"Status reads (one execution-status GET = one read; median of {most_runs} run{'s' if most_runs != 1 else ''} "
      "per client, the clients taking turns)")
print(f"| {'protocol':8} | {'ids':>7} | {'client':32} | {'reads/s':>9} | {'runs: lowest-highest':>21} | {'CPU s / 1000 reads':>18} | {'failed':>6} |")
print(f"|{'-'*10}|{'-'*9}|{'-'*34}|{'-'*11}|{'-'*23}|{'-'*20}|{'-'*8}|")
for r in reads:
    spread = f"{r['reads_per_second_min']:,.0f}-{r['reads_per_second_max']:,.0f}"
    print(f"| {r['protocol']:8} | {r['ids']:>7} | {r['peer']:32} | {r['reads_per_second']:>9,.0f} | {spread:>21} | {r['cpu_s_per_1000_reads']:>18.3f} | {r['failed']:>6} |")
    if r["failed"]:
        problems.append(f"{r['peer']} had {r['failed']} failed reads ({r['protocol']}, {r['ids']} ids)")
print()
print("Ratios of the poller's reads/s (target 0.9x wrk over HTTP and 10x aiohttp; floor 0.7x and 8x)")
ratios = []
for key in sorted({(r["protocol"], r["ids"]) for r in reads}):
    by_peer = {r["peer"]: r for r in reads if (r["protocol"], r["ids"]) == key}
    poller = by_peer.get("libamc poller")
    if not poller:
        continue
    line = {"protocol": key[0], "ids": key[1]}
    for peer, label, floor in (("wrk", "vs wrk", 0.7 if key[0] == "http" else None),
                               ("Python aiohttp", "vs aiohttp", 8.0),
                               ("Python requests (sequential)", "vs requests", None),
                               ("bare Asio+Beast loop", "vs the bare Asio+Beast loop", None)):
        if peer in by_peer and by_peer[peer]["reads_per_second"] > 0:
            ratio = poller["reads_per_second"] / by_peer[peer]["reads_per_second"]
            line[label] = ratio
            verdict = "" if floor is None else ("  (at or above the floor)" if ratio >= floor else "  (BELOW the floor)")
            print(f"  {key[0]:5} {key[1]:>7} ids: {ratio:6.2f}x {label}{verdict}")
        elif peer.startswith("Python") and sys.argv[3] != "1":
            print(f"  {key[0]:5} {key[1]:>7} ids: {label}: not measured (aiohttp not installed; see bench/requirements.txt)")
    # For reference only (the targets count reads/s): how many times the
    # CPU the poller spends on a read aiohttp spends, which leaves out the
    # shared sandbox and the other core.
    aiohttp = by_peer.get("Python aiohttp")
    if aiohttp and poller["cpu_s_per_1000_reads"] > 0:
        line["aiohttp CPU per read / poller CPU per read"] = aiohttp["cpu_s_per_1000_reads"] / poller["cpu_s_per_1000_reads"]
        print(f"  {key[0]:5} {key[1]:>7} ids: aiohttp spends {line['aiohttp CPU per read / poller CPU per read']:.2f}x "
              "the poller's CPU per read (for reference; the targets count reads/s)")
    ratios.append(line)
memory = [r for r in rows if r["kind"] == "memory"]
print()
for r in memory:
    print(f"Memory: {r['bytes_per_watch']:.0f} bytes resident per watched execution at {r['watched']:,.0f} watched (target <= 512)")
    if r["watched"] <= 0:
        problems.append("memory benchmark watched nothing")
schedules = [r for r in rows if r["kind"] == "schedule"]
print()
print("Schedules (detection latency in AMC time: from the status change to the callback)")
print(f"| {'schedule':36} | {'completed':>9} | {'requests / execution':>20} | {'p50 latency s':>13} | {'p99 latency s':>13} |")
print(f"|{'-'*38}|{'-'*11}|{'-'*22}|{'-'*15}|{'-'*15}|")
for r in schedules:
    print(f"| {r['schedule']:36} | {r['completed']:>9.0f} | {r['requests_per_execution']:>20.2f} | {r['p50_detection_s']:>13.1f} | {r['p99_detection_s']:>13.1f} |")
    if r["completed"] != r["executions"]:
        problems.append(f"{r['schedule']}: {r['completed']:.0f} of {r['executions']:.0f} executions completed")
if len(schedules) == 3 and schedules[1]["requests_per_execution"] > 0:
    share = schedules[0]["requests_per_execution"] / schedules[1]["requests_per_execution"]
    better = schedules[0]["p99_detection_s"] <= schedules[1]["p99_detection_s"]
    print(f"  adaptive + batched sends {share:.3f}x the requests of fixed 15 s (target <= 0.333) at "
          f"{'an equal or better' if better else 'a worse'} p99")
tokens = [r for r in rows if r["kind"] == "tokens"]
print()
for r in tokens:
    print(f"Token refreshes: {r['refresh_requests']} LwA request(s) for {r['callers']} callers in {r['processes']} processes "
          f"sharing one store ({r['failed']} failed calls; must be exactly 1 and 0)")
    if r["refresh_requests"] != 1 or r["failed"]:
        problems.append(f"token refreshes: {r['refresh_requests']} requests, {r['failed']} failed calls")
json.dump({"reads": reads, "runs": runs, "ratios": ratios, "memory": memory, "schedules": schedules, "tokens": tokens,
           "short": sys.argv[4] == "1"}, open(sys.argv[2], "w"), indent=2)
print()
print(f"JSON: {sys.argv[2]}")
if problems:
    print("PROBLEMS:\n  " + "\n  ".join(problems))
    sys.exit(1)
EOF
