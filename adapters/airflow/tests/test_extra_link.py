"""The operator's extra link as a person sees it in Airflow 3.3's UI (issue
25, point 6): read the way the API server reads it for the UI (the
serialized DAG's link by name, its URL from XCom), after a plain run, a
retry that re-attaches (waiting in the worker, and deferred), a clear that
finishes with the run, and a task that failed before it submitted, which
has no link and logs no error for it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conftest import INSTANCES, Sandbox

LINK = "AMC execution (API resource)"


@pytest.fixture(autouse=True)
def clean_sandbox(sandbox: Sandbox) -> None:
    sandbox.admin("DELETE", "faults")
    sandbox.admin("DELETE", "requests")


def ui_links(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, str | None]:
    """What GET .../taskInstances/{task_id}/links answers (the route's own steps)."""
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter_by(dag_id=dag_id, run_id=run_id).one()
        ti = (
            session.query(TaskInstance)
            .filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index)
            .one()
        )
        dag = DBDagBag().get_dag_for_run(run, session=session)
        assert dag is not None
        task = dag.get_task(task_id)
        return {name: task.get_extra_links(ti, name) or None for name in task.extra_links}


def url(sandbox: Sandbox, amc_execution_id: str) -> str:
    return f"{sandbox.url}/amc/reporting/{INSTANCES[0]}/workflowExecutions/{amc_execution_id}"


def entry(summary: dict[str, Any], task_id: str) -> dict[str, Any]:
    return next(item for item in summary["tasks"] if item["task_id"] == task_id)


@pytest.mark.parametrize("task_id", ["in_worker", "deferred"])
def test_a_retry_that_reattaches_sets_the_link(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str], task_id: str
) -> None:
    # The first try fails right after task_state_store has the run; the
    # retry (Airflow cleared the first try's XCom) re-attaches to it.
    date = {"in_worker": "2026-04-01T00:00:00+00:00", "deferred": "2026-04-02T00:00:00+00:00"}[task_id]
    summary = run_dag(
        airflow_env,
        "amc_killed_retry",
        logical_date=date,
        extra_env={"AMC_TEST_KILL": f"raise_after_state:{task_id}"},
    )
    assert summary["state"] == "success", summary["output"][-6000:]
    retried = entry(summary, task_id)
    assert retried["try_number"] == 2, retried
    assert "submitted by an earlier try" in summary["output"] or "already SUCCEEDED" in summary["output"]
    expected = url(sandbox, retried["xcom"]["amc_execution_id"])
    assert retried["link"] == expected
    assert ui_links("amc_killed_retry", summary["run_id"], task_id) == {LINK: expected}
    assert len(sandbox.requests("createWorkflowExecution")) == 2


def test_a_clear_that_finishes_with_the_run_sets_the_link(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    date = "2026-04-03T00:00:00+00:00"
    first = run_dag(airflow_env, "example_amc_adhoc", logical_date=date)
    assert first["state"] == "success", first["output"][-6000:]
    again = run_dag(
        airflow_env, "example_amc_adhoc", mode="clear", task_id="run_in_worker", logical_date=date
    )
    cleared = entry(again, "run_in_worker")
    assert cleared["state"] == "success", again["output"][-6000:]
    assert "already SUCCEEDED; finishing without a new run" in again["output"]
    expected = url(sandbox, cleared["xcom"]["amc_execution_id"])
    assert cleared["link"] == expected
    assert ui_links("example_amc_adhoc", again["run_id"], "run_in_worker") == {LINK: expected}


def test_a_task_that_fails_before_submitting_has_no_link_and_logs_no_error(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    # A revoked grant: the token refresh fails before any AMC call.
    refresh_token = json.loads(airflow_env["AIRFLOW_CONN_AMC_DEFAULT"])["extra"]["refresh_token"]
    sandbox.admin("POST", "grants/revoke", {"refresh_token": refresh_token})
    summary = run_dag(airflow_env, "example_amc_adhoc", logical_date="2026-04-04T00:00:00+00:00")
    assert summary["state"] == "failed"
    assert sandbox.requests("createWorkflowExecution") == []
    assert "XCom not found" not in summary["output"], summary["output"][-6000:]
    assert "Failed to push an xcom for task operator extra link" not in summary["output"]
    for task_id in ("run_deferred", "run_in_worker"):
        failed = entry(summary, task_id)
        assert failed["state"] == "failed" and not failed["link"], failed
        assert ui_links("example_amc_adhoc", summary["run_id"], task_id) == {LINK: None}
