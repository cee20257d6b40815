"""AmcHook's schedule methods (issue 24) in a real Airflow task against the
sandbox: create, get, list, update, delete, and the workflow delete that a
schedule still runs refused with an error naming the schedule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_the_hook_creates_reads_updates_and_deletes_a_schedule(
    airflow_env: dict[str, str], run_dag: Callable[..., dict[str, Any]]
) -> None:
    result = run_dag(airflow_env, "amc_schedules")
    assert result["state"] == "success", result["output"][-6000:]
    (task,) = result["tasks"]
    cycle = task["xcom"]
    assert cycle["created"]["scheduleId"] == "hook_daily"
    assert cycle["created"]["workflowId"] == "wf_hook_sched"
    assert cycle["got"] == cycle["created"]
    assert cycle["listed"] == ["hook_daily"]
    assert cycle["updated"]["aggregationHourUtc"] == 5 and cycle["updated"]["scheduleEnabled"] is False
    assert "hook_daily" in cycle["refused"] and "first" in cycle["refused"]
    assert cycle["after_delete"] == []
