"""The pre-flight check on AmcRunWorkflowOperator (issue 24 point 3), in a
dag.test() run against amc-sandbox: on by default, SQL naming a table the
instance does not have fails the task at once, naming the table and the
closest existing one, and no AMC run is created; preflight=False submits it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conftest import Sandbox
from test_dags import clean_sandbox, creates, task

# The same autouse fixture as the example DAGs' tests: no faults, an empty request log.
__all__ = ["clean_sandbox"]


def test_unknown_table_fails_before_any_run_unless_turned_off(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
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
