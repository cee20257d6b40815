"""Schedules through the Python binding (libamc.binding.Client.schedule_*)
against the sandbox: create, get, list, update and delete, AMC's answers
flat, the typed errors, and a workflow delete that a schedule still runs
refused with an error naming the schedule (issue 24 point 1)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
from conftest import ADVERTISER, INSTANCES, MARKETPLACE, Sandbox, client_config

from libamc import binding
from libamc.exceptions import AmcConflict, AmcInvalidArgument, AmcNotFound

# The last instance: the other tests' workflows live in the first.
INSTANCE = {"instance_id": INSTANCES[-1], "advertiser_id": ADVERTISER, "marketplace_id": MARKETPLACE}


@pytest.fixture
def amc(sandbox: Sandbox, tmp_path: pathlib.Path) -> Iterator[binding.Client]:
    with binding.Client(client_config(sandbox, tmp_path / "store.json")) as native:
        native.auth_import("c", sandbox.new_grant())
        yield native


def request(**fields: object) -> dict[str, object]:
    return {"credential_id": "c", "instance": INSTANCE, **fields}


def test_create_get_list_update_delete(amc: binding.Client) -> None:
    amc.workflow_create(request(workflow={"workflowId": "wf_py_sched", "sqlQuery": "SELECT 1"}))
    schedule = {
        "scheduleId": "py_weekly",
        "workflowId": "wf_py_sched",
        "aggregationPeriod": "Weekly",
        "aggregationStartDay": "Friday",
        "aggregationHourUtc": 4,
    }
    created = amc.schedule_create(request(schedule=schedule))
    assert {key: created[key] for key in schedule} == schedule
    assert created["scheduleEnabled"] is True  # AMC's default, filled in
    assert amc.schedule_get(request(schedule_id="py_weekly")) == created
    assert [s["scheduleId"] for s in amc.schedule_list(request())["schedules"]] == ["py_weekly"]
    with pytest.raises(AmcConflict, match="py_weekly"):
        amc.schedule_create(request(schedule=schedule))

    updated = amc.schedule_update(
        request(schedule={**created, "scheduleEnabled": False, "aggregationHourUtc": 9})
    )
    assert updated["scheduleEnabled"] is False and updated["aggregationHourUtc"] == 9

    assert amc.schedule_delete(request(schedule_id="py_weekly")) is None
    with pytest.raises(AmcNotFound):
        amc.schedule_get(request(schedule_id="py_weekly"))
    assert amc.schedule_list(request()) == {"schedules": []}
    amc.workflow_delete(request(workflow_id="wf_py_sched"))


def test_bad_fields_are_refused_naming_them(amc: binding.Client) -> None:
    with pytest.raises(AmcInvalidArgument, match="schedule.aggregationHourUtc"):
        amc.schedule_create(
            request(schedule={"scheduleId": "s", "workflowId": "wf", "aggregationHourUtc": 24})
        )
    with pytest.raises(AmcInvalidArgument, match="schedule.workflowId"):
        amc.schedule_create(request(schedule={"scheduleId": "s"}))


def test_a_workflow_a_schedule_runs_is_not_deleted(amc: binding.Client) -> None:
    amc.workflow_create(request(workflow={"workflowId": "wf_py_kept", "sqlQuery": "SELECT 1"}))
    amc.schedule_create(
        request(schedule={"scheduleId": "py_daily", "workflowId": "wf_py_kept", "aggregationPeriod": "Daily"})
    )
    with pytest.raises(AmcConflict, match="py_daily") as refused:
        amc.workflow_delete(request(workflow_id="wf_py_kept"))
    assert "delete" in str(refused.value) and "first" in str(refused.value)
    assert amc.workflow_get(request(workflow_id="wf_py_kept"))["workflowId"] == "wf_py_kept"
    amc.schedule_delete(request(schedule_id="py_daily"))
    amc.workflow_delete(request(workflow_id="wf_py_kept"))
