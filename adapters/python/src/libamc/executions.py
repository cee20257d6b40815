"""Reading AMC executions as libamc hands them out, and the small JSON
summary of an execution that goes to XCom and trigger events (never rows).

Which statuses end a run is libamc's to say, once: every execution it
returns carries ``"terminal": true|false`` (amc.h). The adapter keeps no
list of statuses; it only tells SUCCEEDED from the other ends."""

from __future__ import annotations

from typing import Any

SUCCEEDED = "SUCCEEDED"


def status_of(execution: dict[str, Any]) -> str:
    return str(execution.get("status") or "UNKNOWN")


def is_terminal(execution: dict[str, Any]) -> bool:
    """libamc's word on whether the run is over (SUCCEEDED, FAILED,
    CANCELLED, REJECTED); PENDING, RUNNING, PUBLISHING and any status AMC
    may add one day are not."""
    return execution.get("terminal") is True


def reason_of(execution: dict[str, Any]) -> str:
    return str(execution.get("statusReason") or "AMC gave no reason")


def summary(execution: dict[str, Any]) -> dict[str, Any]:
    """The few fields worth keeping in Airflow's database."""
    keep = (
        "workflowExecutionId",
        "workflowId",
        "status",
        "statusReason",
        "terminal",
        "phase",
        "createTime",
        "startTime",
        "endTime",
        "timeWindowStart",
        "timeWindowEnd",
        "timeWindowTimeZone",
    )
    return {name: execution[name] for name in keep if name in execution}
