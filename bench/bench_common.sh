# Sourced by the benchmark scripts (bench/poll_bench.sh, bench/poll_ab.sh):
# a scratch folder $work, removed at exit together with every process whose
# pid the script adds to $pids; an empty $results file (JSON lines) in it;
# and json_field, which prints a field of the JSON on stdin
# (json_field '["url"]' <sandbox.json).
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
results="$work/results.jsonl"
: >"$results"
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
