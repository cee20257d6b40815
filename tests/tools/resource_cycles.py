"""Resource hygiene (issue 23, Deliver point 5): file descriptors, threads
and memory stay flat across many submit/wait/free cycles and many
watch/unwatch cycles of one libamc client, against an amc-sandbox.

    python3 tests/tools/resource_cycles.py [--cycles 10000] [--report-every 1000]

Two phases, each `--cycles` long:
  submit  amc_execution_submit of an ad-hoc run (a new execution_id each
          time), amc_execution_wait until it SUCCEEDED, every returned
          string freed (amc_free, through the binding)
  watch   amc_watch of a running execution on one poller, amc_unwatch at
          once (its user destructor runs), every cycle a new watch
Every `--report-every` cycles it prints cycles, open fds, threads and RSS
(kB). Flat means bounded growth after warm-up (the first tenth of the
cycles, at least 100): after it, fds and threads never exceed their
warm-up value by more than --fd-slack (default 8: the client's pool keeps
up to 8 connections to the host, max_connections_per_host, opened as
reads overlap) and --thread-slack (0), and RSS never
exceeds it by more than --rss-slack-kb (default 16384 kB) plus
--journal-factor (10) times what the store document grew: each
execution_id is kept in the execution journal for journal_retention_days
(by design, about 300 bytes each), and reading the whole document takes
heap in proportion (a 10,000-cycle run measured about 7.5 times its
size). Exit 1 when a bound is passed, naming it. The report line has the
store document's size (kB) too. docs/testing.md records the figures of a
10,000-cycle run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import pathlib
import time
from collections.abc import Callable
from typing import Any

import libamc_session as session
from libamc_session import libamc


def run_phase(
    name: str,
    cycles: int,
    report_every: int,
    cycle: Callable[[int], None],
    slack: dict[str, int],
    store: pathlib.Path,
    journal_factor: float,
) -> list[str]:
    warmup = max(100, cycles // 10)
    baseline: dict[str, int] | None = None
    baseline_store_kb = 0
    problems: list[str] = []
    started = time.monotonic()
    print(f"{name}: cycles fds threads rss_kb store_kb seconds", flush=True)
    for index in range(cycles):
        cycle(index)
        done = index + 1
        if done == min(warmup, cycles):
            baseline = session.figures()
            baseline_store_kb = store.stat().st_size // 1024
        if done % report_every == 0 or done == cycles or done == warmup:
            now = session.figures()
            store_kb = store.stat().st_size // 1024
            print(
                f"{name}: {done} {now['fds']} {now['threads']} {now['rss_kb']} {store_kb} "
                f"{time.monotonic() - started:.1f}",
                flush=True,
            )
            if baseline is not None and done > warmup:
                allowed = {
                    "fds": slack["fds"],
                    "threads": slack["threads"],
                    "rss_kb": slack["rss_kb"] + int(journal_factor * max(0, store_kb - baseline_store_kb)),
                }
                for key, extra in allowed.items():
                    if now[key] > baseline[key] + extra:
                        problems.append(
                            f"{name}: {key} grew from {baseline[key]} after {warmup} cycles to {now[key]} after "
                            f"{done} (allowed: +{extra})"
                        )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--report-every", type=int, default=1000)
    parser.add_argument("--fd-slack", type=int, default=8)
    parser.add_argument("--thread-slack", type=int, default=0)
    parser.add_argument("--rss-slack-kb", type=int, default=16_384)
    parser.add_argument("--journal-factor", type=float, default=10.0)
    parser.add_argument("--phases", default="submit,watch")
    arguments = parser.parse_args()
    slack = {"fds": arguments.fd_slack, "threads": arguments.thread_slack, "rss_kb": arguments.rss_slack_kb}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="amc-cycles-") as folder:
        root = pathlib.Path(folder)
        sandbox = session.start_sandbox(root / "sandbox")
        try:
            store = {"path": str(root / "credentials.json"), "fernet_keys": session.fernet_key()}
            session.put_credential(sandbox, store)
            who: dict[str, Any] = {"credential_id": session.CREDENTIAL, "instance": session.INSTANCE}
            with libamc.Client(session.client_config(sandbox, store)) as client:
                client.set_log(None)
                phases = arguments.phases.split(",")
                if "submit" in phases:

                    def submit_wait_free(index: int) -> None:
                        submitted = client.execution_submit(
                            {
                                **who,
                                "execution_id": f"exec_cycle{index:06d}",
                                "request": {"workflow": {"sqlQuery": "SELECT 1 -- sandbox: pending=1s duration=2s"}},
                            }
                        )
                        client.execution_wait(
                            {
                                **who,
                                "amc_execution_id": submitted["amc_execution_id"],
                                "first_poll_ms": 2,
                                "max_poll_ms": 20,
                                "timeout_ms": 60_000,
                            }
                        )

                    problems += run_phase(
                        "submit",
                        arguments.cycles,
                        arguments.report_every,
                        submit_wait_free,
                        slack,
                        pathlib.Path(store["path"]),
                        arguments.journal_factor,
                    )
                if "watch" in phases:
                    running = client.execution_submit(
                        {**who, "request": {"workflow": {"sqlQuery": "SELECT 1 -- sandbox: duration=80000h"}}}
                    )
                    seen: list[int] = [0]

                    def on_event(_event: dict[str, Any]) -> None:
                        seen[0] += 1

                    with libamc.Poller(client, {"first_interval_ms": 60_000, "max_interval_ms": 60_000}) as poller:

                        def watch_unwatch(_index: int) -> None:
                            watch_id = poller.watch(
                                {**who, "amc_execution_id": running["amc_execution_id"]}, on_event
                            )
                            poller.unwatch(watch_id)

                        problems += run_phase(
                            "watch",
                            arguments.cycles,
                            arguments.report_every,
                            watch_unwatch,
                            slack,
                            pathlib.Path(store["path"]),
                            arguments.journal_factor,
                        )
                        remaining = poller.stats()["watched"]
                        if remaining != 0:
                            problems.append(f"watch: {remaining} watches left after every unwatch")
        finally:
            sandbox.stop()
    for problem in problems:
        print(f"NOT FLAT: {problem}", file=sys.stderr)
    print("resource cycles:", "flat" if not problems else f"{len(problems)} bound(s) passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
