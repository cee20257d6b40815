"""Test DAGs: AMC answers 403 while a deferred task waits in the triggerer.
One DAG per task kind, so each one's deferral is the one the fault hits:
a deferrable AmcRunWorkflowOperator, and a deferrable AmcExecutionSensor on
an execution a plain task submitted. Both have a retry to spare: a 403
must not use it (docs/airflow.md: permission errors fail the task at once)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from libamc_airflow.hooks.amc import AmcHook
from libamc_airflow.operators.amc import AmcRunWorkflowOperator
from libamc_airflow.sensors.amc import AmcExecutionSensor

# 3 h at the tests' time scale 600: 18 s, deferred long enough for the fault.
SQL = "-- sandbox: duration=3h\nSELECT 1"


def dag_with_a_retry(dag_id: str) -> DAG:
    """A DAG run only by the tests, whose tasks have one retry to spare."""
    return DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
        tags=["amc", "test"],
    )


with dag_with_a_retry("amc_forbidden_deferred_run"):
    AmcRunWorkflowOperator(
        task_id="run", sql=SQL, deferrable=True, poll_interval=2.0, wait_timeout=timedelta(minutes=10)
    )

with dag_with_a_retry("amc_forbidden_deferred_sensor"):

    @task(retries=0)
    def submit() -> str:
        """Submits an execution without waiting, for the sensor."""
        hook = AmcHook()
        submitted = hook.get_conn().execution_submit(hook.request(request={"workflow": {"sqlQuery": SQL}}))
        return str(submitted["amc_execution_id"])

    submit() >> AmcExecutionSensor(
        task_id="wait",
        amc_execution_id="{{ ti.xcom_pull(task_ids='submit') }}",
        deferrable=True,
        poke_interval=2.0,
        timeout=600,
    )
