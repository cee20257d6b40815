"""What the adapter knows about AMC execution statuses, and the small JSON
summary of an execution that goes to XCom and trigger events (never rows)."""

from __future__ import annotations

from typing import Any

SUCCEEDED = "SUCCEEDED"
# FAILED, CANCELLED and REJECTED end a run without results (amc-api.md).
FAILED_STATUSES = frozenset({"FAILED", "CANCELLED", "REJECTED"})
TERMINAL_STATUSES = FAILED_STATUSES | {SUCCEEDED}


def status_of(execution: dict[str, Any]) -> str:
    return str(execution.get("status") or "UNKNOWN")


def is_active(status: str) -> bool:
    """PENDING, RUNNING, PUBLISHING, and any status AMC may add one day:
    everything that is not terminal is still going."""
    return status not in TERMINAL_STATUSES


def reason_of(execution: dict[str, Any]) -> str:
    return str(execution.get("statusReason") or "AMC gave no reason")


def summary(execution: dict[str, Any]) -> dict[str, Any]:
    """The few fields worth keeping in Airflow's database."""
    keep = (
        "workflowExecutionId",
        "workflowId",
        "status",
        "statusReason",
        "createTime",
        "startTime",
        "endTime",
        "timeWindowStart",
        "timeWindowEnd",
        "timeWindowTimeZone",
    )
    return {name: execution[name] for name in keep if name in execution}
