"""Test DAG: the hook's schedule methods (issue 24) in a task: create a
schedule for a saved workflow, read it, list, update, try to delete the
workflow it runs (refused naming the schedule), delete the schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from libamc_airflow.hooks.amc import AmcHook

with DAG(
    dag_id="amc_schedules",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 0},
    tags=["amc", "test"],
):

    @task
    def schedule_cycle() -> dict[str, Any]:
        from libamc.exceptions import AmcConflict

        hook = AmcHook()
        hook.get_conn().workflow_sync(
            hook.request(workflow={"workflowId": "wf_hook_sched", "sqlQuery": "SELECT 1"})
        )
        created = hook.create_schedule(
            {"scheduleId": "hook_daily", "workflowId": "wf_hook_sched", "aggregationPeriod": "Daily"}
        )
        got = hook.get_schedule("hook_daily")
        listed = [schedule["scheduleId"] for schedule in hook.list_schedules()]
        updated = hook.update_schedule({**got, "aggregationHourUtc": 5, "scheduleEnabled": False})
        try:
            hook.get_conn().workflow_delete(hook.request(workflow_id="wf_hook_sched"))
            refused = ""
        except AmcConflict as problem:
            refused = str(problem)
        hook.delete_schedule("hook_daily")
        return {
            "created": created,
            "got": got,
            "listed": listed,
            "updated": updated,
            "refused": refused,
            "after_delete": [schedule["scheduleId"] for schedule in hook.list_schedules()],
        }

    schedule_cycle()
