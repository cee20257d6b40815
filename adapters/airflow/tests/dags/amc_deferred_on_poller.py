"""Test DAG: deferrable AMC tasks that wait in the triggerer on libamc's
poller (AmcExecutionTrigger): a run of ad-hoc SQL from the run's conf, and
a deferrable sensor on an execution a plain task submitted."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from libamc_airflow.hooks.amc import AmcHook
from libamc_airflow.operators.amc import AmcRunWorkflowOperator
from libamc_airflow.sensors.amc import AmcExecutionSensor

SQL = "{{ dag_run.conf.get('sql', '-- sandbox: duration=10m\\nSELECT 1') }}"

with DAG(
    dag_id="amc_deferred_on_poller",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 0},
    tags=["amc", "test"],
):
    run = AmcRunWorkflowOperator(
        task_id="run",
        sql=SQL,
        deferrable=True,
        poll_interval=2.0,
        wait_timeout=timedelta(minutes=10),
    )

    @task
    def submit(**context: object) -> str:
        """Submits an execution without waiting, for the sensor."""
        hook = AmcHook()
        submitted = hook.get_conn().execution_submit(
            hook.request(request={"workflow": {"sqlQuery": "-- sandbox: duration=10m\nSELECT 2"}})
        )
        return str(submitted["amc_execution_id"])

    submitted = submit()
    wait = AmcExecutionSensor(
        task_id="wait",
        amc_execution_id="{{ ti.xcom_pull(task_ids='submit') }}",
        deferrable=True,
        poke_interval=2.0,
        timeout=600,
    )
    submitted >> wait
