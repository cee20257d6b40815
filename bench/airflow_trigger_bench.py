"""What the distributed harness's trigger comparison (issue 26 point 6)
runs in Airflow, next to the peer in bench/airflow_peer_trigger.py:

- ``TimedAmcExecutionTrigger``: libamc's AmcExecutionTrigger unchanged but
  for ``detected_at`` (Unix seconds) stamped on its event when it fires;
- ``TriggerBenchOperator``: AmcRunWorkflowOperator (the same submit, the
  same resume) that defers to one of the two triggers (``trigger_kind``
  "libamc" or "peer") and returns, with its usual result, when it submitted
  (``submit_window``: Unix seconds before and after the create call) and
  when its trigger saw the end (``detected_at``);
- ``LoopLagProbeTrigger`` and ``LoopLagProbeOperator``: a trigger that
  sleeps ``interval`` seconds in a loop on the triggerer's event loop and
  records how late each wake-up is (the loop's lag, as Airflow's own
  block watchdog measures it, but every sample kept), counting only the
  samples taken while a measured trigger runs in the same loop.

The harness copies this file and the peer onto each node's PYTHONPATH.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, NoReturn

import airflow_peer_trigger
from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent
from airflow_peer_trigger import PeerAmcExecutionTrigger
from libamc_airflow.operators.amc import AmcRunWorkflowOperator
from libamc_airflow.triggers.execution import AmcExecutionTrigger

if TYPE_CHECKING:
    from datetime import timedelta

    from airflow.sdk import Context


class TimedAmcExecutionTrigger(AmcExecutionTrigger):
    """AmcExecutionTrigger, plus ``detected_at`` on its event."""

    # How many run() of this class are active in this process (for the probe).
    running = 0

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return "airflow_trigger_bench.TimedAmcExecutionTrigger", super().serialize()[1]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        TimedAmcExecutionTrigger.running += 1
        try:
            async for event in super().run():
                event.payload["detected_at"] = time.time()
                yield event
        finally:
            TimedAmcExecutionTrigger.running -= 1


class TriggerBenchOperator(AmcRunWorkflowOperator):
    """AmcRunWorkflowOperator deferring to ``trigger_kind``'s trigger."""

    def __init__(self, *, trigger_kind: str = "libamc", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if trigger_kind not in ("libamc", "peer"):
            raise ValueError(f'trigger_kind is {trigger_kind!r}: use "libamc" or "peer"')
        self.trigger_kind = trigger_kind
        self._submit_started = 0.0

    def execution_request(self, context: Context) -> dict[str, Any]:
        # Built right before the create call: its start.
        self._submit_started = time.time()
        return super().execution_request(context)

    def _remember(self, context: Context, record: dict[str, Any]) -> None:
        # The first write follows the create call at once: its end.
        if not record.get("finished") and "submit_window" not in record:
            record = {**record, "submit_window": [self._submit_started, time.time()]}
        super()._remember(context, record)

    def defer(
        self,
        *,
        trigger: BaseTrigger,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | float | None = None,
    ) -> NoReturn:
        fields = trigger.serialize()[1]
        chosen: BaseTrigger = (
            TimedAmcExecutionTrigger(**fields)
            if self.trigger_kind == "libamc"
            else PeerAmcExecutionTrigger(**fields)
        )
        super().defer(trigger=chosen, method_name=method_name, kwargs=kwargs, timeout=timeout)

    def execution_succeeded(self, context: Context, event: dict[str, Any]) -> Any:
        result = super().execution_succeeded(context, event)
        record = self._recall(context) or {}
        result["bench"] = {
            "kind": self.trigger_kind,
            "submit_window": record.get("submit_window"),
            "detected_at": event.get("detected_at"),
        }
        return result


def _measured_triggers_running() -> int:
    """How many measured triggers run in this process now (each counts
    itself while its run() is active)."""
    return TimedAmcExecutionTrigger.running + airflow_peer_trigger.RUNNING[0]


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


class LoopLagProbeTrigger(BaseTrigger):
    """Measures the event loop it runs on: sleeps ``interval`` seconds over
    and over and records each wake-up's delay, while a measured trigger
    runs beside it. Ends ``settle`` seconds after the last measured trigger
    left (once one was seen) or after ``limit`` seconds; its event holds
    the node (``AMC_NODE``), the pid and every sample in milliseconds."""

    def __init__(self, *, interval: float = 0.1, settle: float = 10.0, limit: float = 3600.0) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.interval = float(interval)
        self.settle = float(settle)
        self.limit = float(limit)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_trigger_bench.LoopLagProbeTrigger",
            {"interval": self.interval, "settle": self.settle, "limit": self.limit},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        samples: list[float] = []
        most = 0
        idle_since: float | None = None
        while loop.time() - started < self.limit:
            before = loop.time()
            await asyncio.sleep(self.interval)
            now = loop.time()
            running = _measured_triggers_running()
            most = max(most, running)
            if running:
                samples.append(round((now - before - self.interval) * 1000.0, 2))
                idle_since = None
            elif samples:
                idle_since = idle_since if idle_since is not None else now
                if now - idle_since > self.settle:
                    break
        yield TriggerEvent(
            {
                "node": os.environ.get("AMC_NODE", ""),
                "pid": os.getpid(),
                "interval_ms": self.interval * 1000.0,
                "most_triggers": most,
                "lag_ms": samples,
            }
        )


class LoopLagProbeOperator(BaseOperator):
    """Defers to LoopLagProbeTrigger at once; returns its event (XCom)."""

    def __init__(self, *, interval: float = 0.1, settle: float = 10.0, limit: float = 3600.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.interval = interval
        self.settle = settle
        self.limit = limit

    def execute(self, context: Context) -> None:
        self.defer(
            trigger=LoopLagProbeTrigger(interval=self.interval, settle=self.settle, limit=self.limit),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        samples = sorted(float(value) for value in event.get("lag_ms") or [])
        return {
            **{key: value for key, value in event.items() if key != "lag_ms"},
            "samples": len(samples),
            "p50_ms": _percentile(samples, 0.50),
            "p99_ms": _percentile(samples, 0.99),
            "max_ms": samples[-1] if samples else 0.0,
            "lag_ms": samples,
        }
