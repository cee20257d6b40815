"""The provider in real Airflow 3.3: dag.test() runs of the example DAGs
(and one test DAG) against amc-sandbox, each in its own process."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from conftest import INSTANCES, Sandbox

CREATE = "createWorkflowExecution"


def task(summary: dict[str, Any], task_id: str, map_index: int = -1) -> dict[str, Any]:
    for entry in summary["tasks"]:
        if entry["task_id"] == task_id and entry["map_index"] == map_index:
            return entry
    raise AssertionError(f"no task {task_id}[{map_index}] in {summary['tasks']}")


def creates(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [entry for entry in sandbox.requests(CREATE) if entry["status"] < 300]


def no_secrets(output: str, sandbox: Sandbox, env: dict[str, str]) -> None:
    assert (sandbox.directory / "client_secret").read_text() not in output
    refresh_token = json.loads(env["AIRFLOW_CONN_AMC_DEFAULT"])["extra"]["refresh_token"]
    assert refresh_token not in output
    assert "Atza|" not in output and env["AIRFLOW__CORE__FERNET_KEY"] not in output


@pytest.fixture(autouse=True)
def clean_sandbox(sandbox: Sandbox) -> None:
    sandbox.admin("DELETE", "faults")
    sandbox.admin("DELETE", "requests")


def test_success_with_results(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    summary = run_dag(airflow_env, "example_amc", logical_date="2026-03-10T00:00:00+00:00")
    assert summary["state"] == "success", summary["output"][-6000:]
    assert task(summary, "sync_workflow")["xcom"] == {
        "workflow_id": "wf_campaign_summary",
        "action": "created",
    }
    result = task(summary, "run_workflow")["xcom"]
    assert result["status"] == "SUCCEEDED" and result["execution_id"].startswith("airflow_")
    manifest = result["manifest"]
    assert manifest["total_rows"] == 40 and len(manifest["files"]) == 2
    for part in manifest["files"]:
        path = pathlib.Path(part["path"])
        assert path.is_file() and path.read_text().startswith("campaign_id,")
    # download_dir (the DAG's) / the AMC run's own folder.
    assert (
        path.parent.parent
        == pathlib.Path(airflow_env["AIRFLOW_VAR_AMC_RESULTS_DIR"]) / "example_amc" / summary["run_id"]
    )
    assert path.parent.name == result["amc_execution_id"] == manifest["directory"].rsplit("/", 1)[1]
    # The window: the data interval [03-09, 03-10) UTC, 14 hours earlier, sent as
    # New York wall-clock time (after the 2026-03-08 DST change: UTC-4), which
    # AMC echoes in UTC.
    execution = result["execution"]
    assert execution["timeWindowStart"] == "2026-03-08T10:00:00Z", execution
    assert execution["timeWindowEnd"] == "2026-03-09T10:00:00Z", execution
    # The operator's extra link: the execution at the connection's AMC endpoint.
    assert task(summary, "run_workflow")["link"] == (
        f"{sandbox.url}/amc/reporting/{INSTANCES[0]}/workflowExecutions/{result['amc_execution_id']}"
    )
    assert task(summary, "check_execution")["state"] == "success"
    # XCom holds small JSON only: ids, status, the manifest, never rows.
    assert len(json.dumps(result)) < 4096
    assert len(creates(sandbox)) == 1
    no_secrets(summary["output"], sandbox, airflow_env)


def test_deferrable_and_non_deferrable_paths(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    summary = run_dag(airflow_env, "example_amc_adhoc", logical_date="2026-03-11T00:00:00+00:00")
    assert summary["state"] == "success", summary["output"][-6000:]
    deferred, in_worker = task(summary, "run_deferred"), task(summary, "run_in_worker")
    assert deferred["xcom"]["status"] == in_worker["xcom"]["status"] == "SUCCEEDED"
    assert deferred["xcom"]["amc_execution_id"] != in_worker["xcom"]["amc_execution_id"]
    assert "running trigger in line" in summary["output"]  # the deferred one went through the trigger
    # The templated explicit window: 7 days up to ds, London wall-clock time (GMT in March).
    for entry in (deferred, in_worker):
        execution = entry["xcom"]["execution"]
        assert (execution["timeWindowStart"], execution["timeWindowEnd"]) == (
            "2026-03-04T00:00:00Z",
            "2026-03-11T00:00:00Z",
        ), execution
    assert len(creates(sandbox)) == 2


def test_failed_execution_fails_the_task_with_amc_reason(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    sql = '-- sandbox: duration=1m fail "Table dsp_nowhere does not exist"\nSELECT 1'
    summary = run_dag(
        airflow_env, "example_amc_adhoc", conf={"sql": sql}, logical_date="2026-03-12T00:00:00+00:00"
    )
    assert summary["state"] == "failed"
    for task_id in ("run_deferred", "run_in_worker"):
        entry = task(summary, task_id)
        assert entry["state"] == "failed" and entry["try_number"] == 2, entry
    assert "ended FAILED: Table dsp_nowhere does not exist" in summary["output"]
    # A FAILED run is submitted anew on retry: two tasks, two tries each.
    assert len(creates(sandbox)) == 4


def test_throttling_storm_still_succeeds(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    sandbox.admin(
        "POST",
        "faults",
        {
            "faults": [
                {"kind": "rate_limit", "operation": "getWorkflowExecution", "count": 8, "retry_after": 1},
                {"kind": "rate_limit", "operation": CREATE, "count": 2, "retry_after": 1},
            ]
        },
    )
    # In a process of its own, as a task (or triggerer) process is: Airflow
    # configures logging before the hook makes its client, which then
    # forwards libamc's INFO lines. In this pytest process the hook's client
    # can come from an earlier test and miss them (seen with ctest's shards;
    # the cause in the shared process is not pinned down).
    summary = run_dag(
        airflow_env, "example_amc_adhoc", logical_date="2026-03-13T00:00:00+00:00", separate_process=True
    )
    assert summary["state"] == "success", summary["output"][-6000:]
    stats = sandbox.admin("GET", "stats")
    assert stats["faults_total"] >= 10, stats
    assert len(creates(sandbox)) == 2
    # The task logs show each throttle wait, through Python logging (logger
    # "libamc"), naming the operation and the wait AMC asked for.
    output = summary["output"]
    throttled = "answered HTTP 429 (throttled); waiting 1000 ms (as Retry-After asks)"
    for operation in ("create_execution: POST ", "get_execution: GET "):
        lines = [line for line in output.splitlines() if operation in line and throttled in line]
        assert lines, output[-6000:]
    no_secrets(output, sandbox, airflow_env)


def test_revoked_grant_fails_with_a_clear_reauthentication_error(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    refresh_token = json.loads(airflow_env["AIRFLOW_CONN_AMC_DEFAULT"])["extra"]["refresh_token"]
    sandbox.admin("POST", "grants/revoke", {"refresh_token": refresh_token})
    summary = run_dag(airflow_env, "example_amc_adhoc", logical_date="2026-03-14T00:00:00+00:00")
    assert summary["state"] == "failed"
    for task_id in ("run_deferred", "run_in_worker"):
        entry = task(summary, task_id)
        assert entry["state"] == "failed" and entry["try_number"] == 1, entry  # no retry: it cannot help
    assert "AMC_E_AUTH_REQUIRED" in summary["output"]
    assert "Re-authenticate" in summary["output"] and "'amc_default'" in summary["output"]
    assert creates(sandbox) == []
    no_secrets(summary["output"], sandbox, airflow_env)


@pytest.mark.parametrize(("kill", "task_id"), [("before_state", "deferred"), ("after_state", "in_worker")])
def test_task_killed_between_create_and_defer_starts_no_second_run(
    run_dag: Callable[..., dict[str, Any]],
    sandbox: Sandbox,
    airflow_env: dict[str, str],
    kill: str,
    task_id: str,
) -> None:
    date = {"deferred": "2026-03-15T00:00:00+00:00", "in_worker": "2026-03-16T00:00:00+00:00"}[task_id]
    killed = run_dag(
        airflow_env,
        "amc_killed_retry",
        logical_date=date,
        separate_process=True,
        extra_env={"AMC_TEST_KILL": f"{kill}:{task_id}"},
    )
    assert killed["returncode"] == -9, killed["output"][-4000:]
    # The killed task's run exists in AMC (the other task may have run first).
    assert 1 <= len(creates(sandbox)) <= 2
    # The scheduler gives the task whose process died its next try, in the same DAG run.
    summary = run_dag(airflow_env, "amc_killed_retry", mode="retry", logical_date=date)
    assert summary["state"] == "success", summary["output"][-6000:]
    assert task(summary, task_id)["try_number"] == 2
    # One AMC run per task, across both processes.
    assert len(creates(sandbox)) == 2, sandbox.requests(CREATE)
    if kill == "before_state":
        # Only libamc's journal knew the run: the same execution id re-attached to it.
        assert "re-attached to the run an earlier try started" in summary["output"]
    else:
        # task_state_store knew it.
        amc_lines = [line for line in summary["output"].splitlines() if "AMC execution" in line]
        found = [
            line for line in amc_lines if "submitted by an earlier try" in line or "already SUCCEEDED" in line
        ]
        assert found, amc_lines


def test_a_retry_after_a_failure_past_the_create_reattaches(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    # The first try fails right after task_state_store has the execution id;
    # Airflow's own retry (same dag.test run) re-attaches through it.
    summary = run_dag(
        airflow_env,
        "amc_killed_retry",
        logical_date="2026-03-20T00:00:00+00:00",
        extra_env={"AMC_TEST_KILL": "raise_after_state:in_worker"},
    )
    assert summary["state"] == "success", summary["output"][-6000:]
    assert task(summary, "in_worker")["try_number"] == 2
    amc_lines = [line for line in summary["output"].splitlines() if "AMC execution" in line]
    # Running still (re-attach) or done by then (finish): either way through task_state_store.
    assert [
        line for line in amc_lines if "submitted by an earlier try" in line or "already SUCCEEDED" in line
    ], amc_lines
    assert len(creates(sandbox)) == 2


def test_a_cleared_succeeded_task_finishes_without_a_new_run(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    first = run_dag(airflow_env, "example_amc_adhoc", logical_date="2026-03-17T00:00:00+00:00")
    assert first["state"] == "success"
    again = run_dag(
        airflow_env,
        "example_amc_adhoc",
        mode="clear",
        task_id="run_in_worker",
        logical_date="2026-03-17T00:00:00+00:00",
    )
    assert task(again, "run_in_worker")["state"] == "success", again["output"][-6000:]
    assert "already SUCCEEDED; finishing without a new run" in again["output"]
    assert (
        task(again, "run_in_worker")["xcom"]["amc_execution_id"]
        == task(first, "run_in_worker")["xcom"]["amc_execution_id"]
    )
    assert len(creates(sandbox)) == 2


def test_rerun_after_success_flag_starts_a_new_run(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    first = run_dag(airflow_env, "amc_rerun_after_success", logical_date="2026-03-18T00:00:00+00:00")
    assert first["state"] == "success", first["output"][-4000:]
    again = run_dag(
        airflow_env,
        "amc_rerun_after_success",
        mode="clear",
        task_id="rerun",
        logical_date="2026-03-18T00:00:00+00:00",
    )
    assert task(again, "rerun")["state"] == "success", again["output"][-4000:]
    assert (
        task(again, "rerun")["xcom"]["amc_execution_id"] != task(first, "rerun")["xcom"]["amc_execution_id"]
    )
    assert len(creates(sandbox)) == 2


def test_mapped_fan_out_over_three_instances(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    summary = run_dag(airflow_env, "example_amc_fan_out", logical_date="2026-03-19T00:00:00+00:00")
    assert summary["state"] == "success", summary["output"][-6000:]
    mapped = [entry for entry in summary["tasks"] if entry["task_id"] == "run_on_instance"]
    assert sorted(entry["map_index"] for entry in mapped) == [0, 1, 2]
    assert all(entry["state"] == "success" for entry in mapped), mapped
    assert len({entry["xcom"]["execution_id"] for entry in mapped}) == 3
    instances = sorted(entry["path"].split("/")[3] for entry in creates(sandbox))
    assert instances == INSTANCES


def test_preflight_fails_an_unknown_table_before_any_run_unless_turned_off(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    """Issue 24 point 3: AmcRunWorkflowOperator's pre-flight check, on by
    default (tests/dags/amc_preflight.py: SQL naming "dsp_impresions")."""
    summary = run_dag(airflow_env, "amc_preflight", logical_date="2026-05-01T00:00:00+00:00")
    output = summary["output"]
    checked = task(summary, "checked")
    assert checked["state"] == "failed" and checked["try_number"] == 1, checked  # no retry: it cannot help
    assert "table 'dsp_impresions' (line 3)" in output, output[-6000:]
    assert "did you mean 'dsp_impressions'?" in output, output[-6000:]
    assert "AMC could not compile the SQL at line 3" in output, output[-6000:]
    # Only the unchecked task created a run; the checked one sent a dry run.
    assert task(summary, "unchecked")["state"] == "success", output[-6000:]
    assert len(creates(sandbox)) == 1, sandbox.requests()
    assert len(sandbox.requests("createWorkflowExecution (dryRun)")) == 1
