#!/usr/bin/env bash
# Runs the Google Benchmark programs of bench/crypto_store_bench.cpp and their
# Python peer (bench/fernet_peer.py, Python's cryptography) in the same run,
# and prints the median of each and how many times faster libamc is.
# Usage:
#   bench/fernet_vs_python.sh [path/to/amc_crypto_store_bench] [repetitions, default 9]
# The binary defaults to build/release/bench/amc_crypto_store_bench; the
# Python peer runs in the repo's .venv (made by .ci/install-deps.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bench="${1:-$root/build/release/bench/amc_crypto_store_bench}"
repetitions="${2:-9}"
python="$root/.venv/bin/python"

[ -x "$bench" ] || { echo "benchmark not found at $bench (build it: ninja -C build/release amc_crypto_store_bench)" >&2; exit 2; }
[ -x "$python" ] || { echo "$python not found: run .ci/install-deps.sh first" >&2; exit 2; }

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

# The two sides run one after the other with the same number of
# repetitions; on a noisy machine compare their medians, not single runs.
"$bench" --benchmark_repetitions="$repetitions" --benchmark_min_time=0.2 \
  --benchmark_out="$results/libamc.json" --benchmark_out_format=json >&2
"$python" "$here/fernet_peer.py" "$repetitions" >"$results/python.json"

"$python" - "$results/libamc.json" "$results/python.json" <<'PY'
import json
import statistics
import sys

libamc = {}
for run in json.load(open(sys.argv[1]))["benchmarks"]:
    if run.get("run_type") != "iteration":
        continue
    factor = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[run["time_unit"]]
    libamc.setdefault(run["run_name"], []).append(run["real_time"] * factor)
python = json.load(open(sys.argv[2]))

print()
print(f"{'operation':<40} {'libamc median':>14} {'Python median':>14} {'ratio':>8}")
for name, figures in libamc.items():
    mine = statistics.median(figures)
    peer = python.get(name)
    if peer:
        theirs = statistics.median(peer)
        print(f"{name:<40} {mine / 1000:>11.2f} µs {theirs / 1000:>11.2f} µs {theirs / mine:>7.1f}x")
    else:
        print(f"{name:<40} {mine / 1000:>11.2f} µs {'—':>14} {'':>8}")
print(f"\nmedians of {len(next(iter(libamc.values())))} repetitions each; ratio = Python time / libamc time")
PY
