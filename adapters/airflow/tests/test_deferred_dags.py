"""dag.test() runs of deferrable AMC tasks (AmcRunWorkflowOperator and
AmcExecutionSensor) that wait in the triggerer on libamc's native poller,
against amc-sandbox: success, FAILED with AMC's reason, a throttling storm,
and the access token expiring during the deferral."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import Sandbox
from test_dags import clean_sandbox, task

# The same autouse fixture as the example DAGs' tests: no faults, an empty request log.
__all__ = ["clean_sandbox"]

DAG_ID = "amc_deferred_on_poller"
STATUS_READS = ("getWorkflowExecution", "listWorkflowExecutions")


@pytest.fixture(scope="module", autouse=True)
def ad_hoc_room(sandbox: Sandbox) -> Iterator[None]:
    """AMC allows 30 ad-hoc runs a day per instance; the session's other DAG
    tests may have used them up: this module's runs get room of their own."""
    before = sandbox.admin("GET", "settings")["adhoc_executions_per_day"]
    sandbox.admin("PUT", "settings", {"adhoc_executions_per_day": 100000})
    yield
    sandbox.admin("PUT", "settings", {"adhoc_executions_per_day": before})


def deferred_through_the_poller(output: str) -> None:
    assert "running trigger in line" in output or "AmcExecutionTrigger" in output
    assert "on libamc's poller" in output, output[-4000:]


def test_deferred_run_and_sensor_succeed(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    summary = run_dag(airflow_env, DAG_ID, logical_date="2026-04-01T00:00:00+00:00")
    assert summary["state"] == "success", summary["output"][-6000:]
    result = task(summary, "run")["xcom"]
    assert result["status"] == "SUCCEEDED" and result["execution"]["status"] == "SUCCEEDED"
    assert task(summary, "wait")["state"] == "success"
    deferred_through_the_poller(summary["output"])
    output = summary["output"]
    assert json.loads(airflow_env["AIRFLOW_CONN_AMC_DEFAULT"])["extra"]["refresh_token"] not in output
    assert "Atza|" not in output


def test_failed_execution_fails_the_deferred_tasks_with_amc_reason(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    sql = '-- sandbox: duration=5m fail "Table dsp_nowhere does not exist"\nSELECT 1'
    summary = run_dag(airflow_env, DAG_ID, conf={"sql": sql}, logical_date="2026-04-02T00:00:00+00:00")
    assert summary["state"] == "failed"
    assert task(summary, "run")["state"] == "failed"
    assert "ended FAILED: Table dsp_nowhere does not exist" in summary["output"]
    deferred_through_the_poller(summary["output"])


def test_throttling_storm_during_the_deferral_still_succeeds(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    sandbox.admin(
        "POST",
        "faults",
        {
            "faults": [
                {"kind": "rate_limit", "operation": operation, "count": 6, "retry_after": 1}
                for operation in STATUS_READS
            ]
        },
    )
    # In a process of its own, as a task (or triggerer) process is: Airflow
    # configures logging before the hook makes its client, which then
    # forwards libamc's INFO lines. In this pytest process the hook's client
    # can come from an earlier test and miss them (seen with ctest's shards;
    # the cause in the shared process is not pinned down).
    summary = run_dag(airflow_env, DAG_ID, logical_date="2026-04-03T00:00:00+00:00", separate_process=True)
    assert summary["state"] == "success", summary["output"][-6000:]
    stats = sandbox.admin("GET", "stats")
    assert stats["faults_total"] >= 6, stats
    deferred_through_the_poller(summary["output"])
    # The poller's client logs its throttle waits through Python logging:
    # the triggerer's log shows them, naming the status read.
    reads = ("get_execution: GET ", "list_executions: GET ")
    throttled = [
        line
        for line in summary["output"].splitlines()
        if any(read in line for read in reads) and "HTTP 429 (throttled); waiting" in line
    ]
    assert throttled, summary["output"][-6000:]


def test_access_token_expiring_during_the_deferral(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    """While the tasks wait in the triggerer, the sandbox clock jumps past
    the access token's lifetime: the next status read gets a 401, libamc
    refreshes the token once and goes on; the tasks succeed."""
    sql = "-- sandbox: duration=3h\nSELECT 1"  # 18 s at time scale 600: deferred long enough
    moved: dict[str, Any] = {}

    def expire_when_deferred() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            reads = [entry for entry in sandbox.requests() if entry.get("operation") in STATUS_READS]
            if len(reads) >= 2:
                moved["tokens_before"] = len(sandbox.requests("lwaToken"))
                sandbox.admin("POST", "clock/advance", {"seconds": 3700})
                moved["at"] = time.time()
                return
            time.sleep(0.2)

    mover = threading.Thread(target=expire_when_deferred, daemon=True)
    mover.start()
    summary = run_dag(airflow_env, DAG_ID, conf={"sql": sql}, logical_date="2026-04-04T00:00:00+00:00")
    mover.join(timeout=5)
    assert "at" in moved, "the deferral never started reading status"
    assert summary["state"] == "success", summary["output"][-6000:]
    log = sandbox.requests()
    # A read with the expired token was refused, a refresh followed, and the
    # reads went on with the new token.
    assert any(entry.get("operation") in STATUS_READS and entry["status"] == 401 for entry in log), log[-20:]
    assert len(sandbox.requests("lwaToken")) > moved["tokens_before"]
    deferred_through_the_poller(summary["output"])


@pytest.mark.parametrize(
    "case",
    [
        # (DAG, task, status reads before the deferral: the sensor's first poke)
        ("amc_forbidden_deferred_run", "run", 0),
        ("amc_forbidden_deferred_sensor", "wait", 1),
    ],
)
def test_forbidden_during_the_deferral_fails_at_once(
    run_dag: Callable[..., dict[str, Any]],
    sandbox: Sandbox,
    airflow_env: dict[str, str],
    case: tuple[str, str, int],
) -> None:
    """Once the task waits in the triggerer (libamc's poller has read the
    status), AMC answers every status read with 403: the poller gives up
    (AMC_E_FORBIDDEN), and the task fails on its first try although it has
    a retry: another try cannot fix a permission (issue 20: the operator
    used to retry it in deferred mode)."""
    dag_id, task_id, reads_before_the_deferral = case
    injected: dict[str, Any] = {}

    def forbid_when_deferred() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            reads = [entry for entry in sandbox.requests() if entry.get("operation") in STATUS_READS]
            if len(reads) > reads_before_the_deferral:
                sandbox.admin(
                    "POST",
                    "faults",
                    {
                        "faults": [
                            {"kind": "error_status", "operation": operation, "status": 403, "count": -1}
                            for operation in STATUS_READS
                        ]
                    },
                )
                injected["at"] = time.time()
                return
            time.sleep(0.1)

    forbidder = threading.Thread(target=forbid_when_deferred, daemon=True)
    forbidder.start()
    try:
        summary = run_dag(airflow_env, dag_id, logical_date="2026-04-05T00:00:00+00:00")
    finally:
        forbidder.join(timeout=5)
        sandbox.admin("DELETE", "faults")
    assert "at" in injected, "the deferral never started reading status"
    entry = task(summary, task_id)
    assert entry["state"] == "failed" and entry["try_number"] == 1, (entry, summary["output"][-6000:])
    assert "AMC_E_FORBIDDEN" in summary["output"] or "403" in summary["output"], summary["output"][-6000:]
    deferred_through_the_poller(summary["output"])


def test_execution_timeout_bounds_a_deferred_wait(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    """A task deferred against a 10 s execution_timeout on a 120 s run fails
    at its execution_timeout (the trigger's deadline), and the AMC run goes
    on (a retry would re-attach)."""
    started = time.monotonic()
    summary = run_dag(airflow_env, "amc_execution_timeout", logical_date="2026-04-09T00:00:00+00:00")
    elapsed = time.monotonic() - started
    assert summary["state"] == "failed", summary["output"][-6000:]
    assert "had not finished by the trigger's deadline" in summary["output"], summary["output"][-6000:]
    assert elapsed < 90, f"the deferred task took {elapsed:.0f} s: its 120 s run decided, not the 10 s limit"
    assert sandbox.requests("UpdateWorkflowExecution") == []
