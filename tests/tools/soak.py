"""Soak (issue 23, Deliver point 6): one libamc poller watches many
executions of an amc-sandbox while random sandbox faults fire, for a set
time, and reports requests, errors, callbacks and memory over time.

    python3 tests/tools/soak.py [--watches 10000] [--seconds 600] [--report-every 10] [--seed N]

The executions (made at once through the sandbox's executions/bulk) end at
times spread over the first four fifths of the run, a tenth of them
FAILED. Every second one fault rule is added at random (src/sandbox/faults.*:
429 with a Retry-After of 0 to 2 s or of a day, 500 and 503, connection
resets before and after the headers, a body cut short, malformed JSON, a
slow trickle, latency, a list whose nextToken never ends), each for a few
requests of the status reads (GET or list). The client caps any
Retry-After at 2 s (retry.max_retry_after_ms) and the poller gives a list
up after 5 s (list_timeout_ms), so no fault can stall the run.

Every --report-every seconds a line: seconds, sandbox requests, faults
fired, the poller's requests_sent, failed_reads, throttles (429s),
list_fallbacks, reads in flight, callbacks, final events, then RSS (kB), open fds and
threads of this process. At the end, faults off, it waits (at most
--grace seconds) for every watch's final event and checks that each
watch had exactly one (exit 1 otherwise, or when an event came for a
watch twice after its final one). docs/testing.md records a long run.
"""

from __future__ import annotations

import argparse
import pathlib
import random
import sys
import tempfile
import threading
import time
from typing import Any

import libamc_session as session
from libamc_session import libamc

FAULTS: list[dict[str, Any]] = [
    {"kind": "rate_limit", "retry_after": 0},
    {"kind": "rate_limit", "retry_after": 2},
    {"kind": "rate_limit", "retry_after": 86_400},
    {"kind": "rate_limit", "retry_after": None},
    {"kind": "error_status", "status": 500},
    {"kind": "error_status", "status": 503},
    {"kind": "reset_before_headers"},
    {"kind": "reset_after_headers"},
    {"kind": "truncated_body"},
    {"kind": "malformed_json"},
    {"kind": "trickle", "trickle_bytes": 64, "trickle_interval_ms": 20},
    {"kind": "latency", "latency_ms": 1500},
    {"kind": "endless_pages", "operation": "listWorkflowExecutions"},
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watches", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--report-every", type=float, default=10)
    parser.add_argument("--grace", type=float, default=120)
    parser.add_argument("--seed", type=int, default=None)
    arguments = parser.parse_args()
    seed = arguments.seed if arguments.seed is not None else random.randrange(1 << 30)
    chance = random.Random(seed)
    print(f"soak: {arguments.watches} watches, {arguments.seconds:.0f} s, seed {seed}", flush=True)
    time_scale = 600
    finals: dict[int, int] = {}
    late: list[str] = []
    lock = threading.Lock()
    callbacks = [0]

    def on_event(event: dict[str, Any]) -> None:
        with lock:
            callbacks[0] += 1
            watch_id = int(event["watch_id"])
            if watch_id in finals:
                late.append(f"watch {watch_id}: an event after its final one: {event.get('event')}")
            if event.get("terminal"):
                finals[watch_id] = finals.get(watch_id, 0) + 1

    with tempfile.TemporaryDirectory(prefix="amc-soak-") as folder:
        root = pathlib.Path(folder)
        sandbox = session.start_sandbox(root / "sandbox", time_scale=time_scale)
        try:
            store = {"path": str(root / "credentials.json"), "fernet_keys": session.fernet_key()}
            session.put_credential(sandbox, store)
            config = session.client_config(sandbox, store)
            config["retry"] = {"max_retry_after_ms": 2000}
            who: dict[str, Any] = {"credential_id": session.CREDENTIAL, "instance": session.INSTANCE}
            # Ten groups, each ending at its own time within 4/5 of the run.
            ids: list[str] = []
            groups = 10
            for group in range(groups):
                count = arguments.watches // groups + (1 if group < arguments.watches % groups else 0)
                if count == 0:
                    continue
                ends_after = arguments.seconds * 0.8 * (group + 1) / groups
                scenario = {
                    "pending": "1s",
                    "running": f"{max(1, int(ends_after * time_scale))}s",
                    "publishing": "1s",
                    "outcome": "FAILED" if group == groups - 1 else "SUCCEEDED",
                }
                made = sandbox.admin(
                    "POST",
                    "executions/bulk",
                    {"instance_id": session.INSTANCE["instance_id"], "count": count, "scenario": scenario},
                )
                ids += made["ids"]
            with libamc.Client(config) as client:
                client.set_log(None)
                poller_config = {
                    "first_interval_ms": 1000,
                    "max_interval_ms": 5000,
                    "batched_interval_ms": 2000,
                    "error_backoff_max_ms": 5000,
                    "read_timeout_ms": 10_000,
                    "list_timeout_ms": 5000,
                    "list_fallback_ms": 10_000,
                }
                with libamc.Poller(client, poller_config) as poller:
                    started = time.monotonic()
                    watch_ids = [poller.watch({**who, "amc_execution_id": amc_id}, on_event) for amc_id in ids]
                    print(
                        "seconds requests faults_fired poll_requests failed_reads throttles list_fallbacks "
                        "in_flight callbacks finals rss_kb fds threads",
                        flush=True,
                    )

                    def report() -> None:
                        stats = sandbox.admin("GET", "stats")
                        poll = poller.stats()
                        me = session.figures()
                        with lock:
                            seen = callbacks[0]
                            ended = len(finals)
                        print(
                            f"{time.monotonic() - started:.0f} {stats['requests']} {stats.get('faults_total', 0)} "
                            f"{poll['requests_sent']} {poll['failed_reads']} {poll['throttles']} "
                            f"{poll.get('list_fallbacks', 0)} {poll['in_flight']} {seen} {ended} {me['rss_kb']} {me['fds']} "
                            f"{me['threads']}",
                            flush=True,
                        )

                    next_report = started + arguments.report_every
                    while time.monotonic() - started < arguments.seconds:
                        fault = dict(chance.choice(FAULTS))
                        fault.setdefault("path", "/amc/reporting/*/workflowExecutions*")
                        if fault["kind"] == "endless_pages":
                            fault.pop("path")
                        fault["count"] = chance.randint(1, 20)
                        sandbox.admin("POST", "faults", fault)
                        time.sleep(1.0)
                        if time.monotonic() >= next_report:
                            report()
                            next_report += arguments.report_every
                    sandbox.admin("DELETE", "faults")
                    deadline = time.monotonic() + arguments.grace
                    while time.monotonic() < deadline:
                        with lock:
                            if len(finals) >= len(watch_ids):
                                break
                        time.sleep(0.2)
                    report()
        finally:
            sandbox.stop()
    problems = list(late)
    missing = [watch_id for watch_id in watch_ids if finals.get(watch_id, 0) == 0]
    twice = [watch_id for watch_id, count in finals.items() if count > 1]
    if missing:
        problems.append(f"{len(missing)} watch(es) without a final event, e.g. {missing[:5]}")
    if twice:
        problems.append(f"{len(twice)} watch(es) with more than one final event, e.g. {twice[:5]}")
    for problem in problems:
        print(f"SOAK FAILED: {problem}", file=sys.stderr)
    print(f"soak: {len(watch_ids)} watches, {len(finals)} ended once, {callbacks[0]} callbacks, seed {seed}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
